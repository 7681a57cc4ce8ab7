//! Property tests of the server's allocator and lease file: random sequences of DISCOVER,
//! REQUEST (selecting, init-reboot, renewing), RELEASE, DECLINE, time passing and crashes
//! (the allocator dropped and rebuilt from the lease file, sometimes with a torn last write),
//! checked against a model of what clients were told.
//!
//! - No address is ACKed to a client while another client's ACKed lease on it is still valid.
//! - The reserved client always gets its fixed address, and nobody else ever does.
//! - Nothing is lost across a crash: every lease ACKed (and so synced) and not yet ended or
//!   released is held by the same client, with the same end, after the restart.

use std::collections::HashMap;
use std::io::Write;
use std::net::Ipv4Addr;

use dhcp_codec::Time;
use dhcp_server::{
    Allocator, ClientInfo, ClientKey, LeaseFile, RequestKind, RequestOutcome, ServerConfig, Timers,
};
use proptest::prelude::*;

/// `s` seconds after the epoch of these tests.
fn t(s: u64) -> Time {
    Time::from_secs(s)
}

const CONF: &str = "authoritative;\n\
    subnet 10.0.0.0 netmask 255.255.255.0 {\n\
      range 10.0.0.10 10.0.0.14;\n\
      default-lease-time 100; max-lease-time 300;\n\
    }\n\
    subnet 10.1.0.0 netmask 255.255.255.0 { range 10.1.0.10 10.1.0.11; default-lease-time 50; }\n\
    host pinned { hardware ethernet 02:00:00:00:00:07; fixed-address 10.0.0.12; }\n";

const LINKS: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 1, 0, 1)];
const FIXED: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 12);
const PINNED: usize = 7;
const CLIENTS: usize = 8;

fn client(n: usize) -> ClientInfo {
    let mac = [2, 0, 0, 0, 0, n as u8];
    // even clients send a client identifier, odd ones are keyed on chaddr
    let key = if n.is_multiple_of(2) {
        ClientKey::ClientId(vec![0, b'p', b'o', b'd', n as u8].into())
    } else {
        ClientKey::mac(mac)
    };
    ClientInfo::new(key, Some(mac))
}

#[derive(Debug, Clone)]
enum Op {
    Discover {
        c: usize,
        link: usize,
        want: Option<u8>,
    },
    Select {
        c: usize,
        link: usize,
        ours: bool,
    },
    InitReboot {
        c: usize,
        link: usize,
        addr: u8,
    },
    Renew {
        c: usize,
    },
    Release {
        c: usize,
    },
    Decline {
        c: usize,
    },
    Advance {
        secs: u64,
    },
    Crash {
        torn: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let c = 0..CLIENTS;
    let link = 0..2usize;
    prop_oneof![
        4 => (c.clone(), link.clone(), proptest::option::of(8u8..16)).prop_map(|(c, link, want)| Op::Discover { c, link, want }),
        4 => (c.clone(), link.clone(), proptest::bool::weighted(0.9)).prop_map(|(c, link, ours)| Op::Select { c, link, ours }),
        2 => (c.clone(), link, 8u8..16).prop_map(|(c, link, addr)| Op::InitReboot { c, link, addr }),
        2 => c.clone().prop_map(|c| Op::Renew { c }),
        1 => c.clone().prop_map(|c| Op::Release { c }),
        1 => c.prop_map(|c| Op::Decline { c }),
        2 => (1u64..200).prop_map(|secs| Op::Advance { secs }),
        1 => any::<bool>().prop_map(|torn| Op::Crash { torn }),
    ]
}

/// What the clients were told.
#[derive(Default)]
struct Model {
    /// Client -> (address, lease end) of its last ACK, until released, declined or ended.
    acked: HashMap<usize, (Ipv4Addr, u64)>,
    /// Client -> the address and link of its last offer.
    offered: HashMap<usize, (Ipv4Addr, usize)>,
}

struct World {
    alloc: Allocator,
    file: Option<LeaseFile>,
    dir: tempfile::TempDir,
    conf: ServerConfig,
    now: u64,
}

impl World {
    fn new() -> World {
        let conf = ServerConfig::parse(CONF, "props.conf").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (file, recs) = LeaseFile::open(dir.path().join("leases")).unwrap();
        assert!(recs.is_empty());
        World {
            alloc: Allocator::new(&conf, timers()),
            file: Some(file),
            dir,
            conf,
            now: 1_000,
        }
    }

    /// What the server does after every batch: persist and sync the changes.
    fn sync(&mut self) {
        let changes = self.alloc.take_changes();
        let f = self.file.as_mut().unwrap();
        f.append(&changes).unwrap();
        f.sync().unwrap();
    }

    fn crash(&mut self, torn: bool) {
        drop(self.file.take()); // the process dies: the lock goes with it
        let path = self.dir.path().join("leases");
        if torn {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            f.write_all(br#"{"ip":"10.0.0.11","state":"bou"#).unwrap();
        }
        let (file, recs) = LeaseFile::open(&path).unwrap();
        self.alloc = Allocator::new(&self.conf, timers());
        for r in &recs {
            self.alloc.restore(r, t(self.now));
        }
        self.file = Some(file);
    }
}

fn timers() -> Timers {
    Timers {
        offer_secs: 30,
        decline_secs: 500,
    }
}

fn on_link(addr: Ipv4Addr, link: usize) -> bool {
    addr.octets()[1] as usize == link
}

fn check_ack(model: &mut Model, c: usize, addr: Ipv4Addr, ends: u64, now: u64) {
    for (&other, &(a, e)) in &model.acked {
        assert!(
            other == c || a != addr || e <= now,
            "{addr} ACKed to client {c} while client {other} holds it until {e} (now {now})"
        );
    }
    if addr == FIXED {
        assert_eq!(c, PINNED, "the fixed address went to client {c}");
    }
    model.acked.insert(c, (addr, ends));
}

fn run(ops: Vec<Op>) {
    let mut w = World::new();
    let mut m = Model::default();
    for op in ops {
        let now = w.now;
        match op {
            Op::Discover { c, link, want } => {
                let want = want.map(|o| Ipv4Addr::new(10, link as u8, 0, o));
                if let Ok(g) = w.alloc.offer(&client(c), LINKS[link], want, None, t(now)) {
                    assert!(on_link(g.addr, link), "{g:?} offered on link {link}");
                    if c == PINNED && link == 0 {
                        assert_eq!(g.addr, FIXED);
                    } else {
                        assert_ne!(g.addr, FIXED, "fixed address offered to {c}");
                    }
                    // a client holding a valid lease on this link is offered that address
                    if let Some(&(a, e)) = m.acked.get(&c)
                        && e > now
                        && on_link(a, link)
                    {
                        assert_eq!(g.addr, a, "client {c} holds {a} but was offered another");
                    }
                    m.offered.insert(c, (g.addr, link));
                } else if c == PINNED && link == 0 {
                    panic!("the reserved client got no offer");
                }
            }
            Op::Select { c, link, ours } => {
                let Some(&(addr, olink)) = m.offered.get(&c) else {
                    continue;
                };
                let link = if ours { olink } else { link };
                let kind = RequestKind::Selecting {
                    addr,
                    server_is_us: ours,
                };
                match w.alloc.request(&client(c), LINKS[link], kind, None, t(now)) {
                    RequestOutcome::Ack(g) => {
                        assert!(ours);
                        w.sync();
                        check_ack(&mut m, c, g.addr, g.ends.as_secs(), now);
                    }
                    RequestOutcome::Nak(_) | RequestOutcome::Ignore => {}
                }
            }
            Op::InitReboot { c, link, addr } => {
                let addr = Ipv4Addr::new(10, link as u8, 0, addr);
                let kind = RequestKind::InitReboot { addr };
                if let RequestOutcome::Ack(g) =
                    w.alloc.request(&client(c), LINKS[link], kind, None, t(now))
                {
                    assert_eq!(g.addr, addr);
                    w.sync();
                    check_ack(&mut m, c, g.addr, g.ends.as_secs(), now);
                }
            }
            Op::Renew { c } => {
                let Some(&(addr, ends)) = m.acked.get(&c) else {
                    continue;
                };
                let link = usize::from(addr.octets()[1]);
                let kind = RequestKind::Renewing { ciaddr: addr };
                match w
                    .alloc
                    .request(&client(c), LINKS[link], kind, Some(1000), t(now))
                {
                    RequestOutcome::Ack(g) => {
                        w.sync();
                        check_ack(&mut m, c, g.addr, g.ends.as_secs(), now);
                    }
                    other => {
                        // a lease still valid is always renewed
                        assert!(
                            ends <= now,
                            "valid lease of {c} on {addr} refused: {other:?}"
                        );
                        m.acked.remove(&c);
                    }
                }
            }
            Op::Release { c } => {
                if let Some((addr, ends)) = m.acked.remove(&c) {
                    let released = w.alloc.release(&client(c), addr, t(now));
                    w.sync();
                    if addr != FIXED {
                        assert_eq!(released, ends > now);
                    }
                }
            }
            Op::Decline { c } => {
                if let Some((addr, _)) = m.acked.remove(&c) {
                    w.alloc.decline(&client(c), addr, t(now));
                    w.sync();
                }
            }
            Op::Advance { secs } => w.now += secs,
            Op::Crash { torn } => {
                w.crash(torn);
                for (&c, &(addr, ends)) in &m.acked {
                    if ends <= w.now || addr == FIXED {
                        continue;
                    }
                    let lease = w.alloc.lease_at(addr);
                    let got = lease.map(|l| (l.client, l.ends));
                    assert_eq!(
                        got,
                        Some((Some(client(c).key), t(ends))),
                        "lease of client {c} on {addr} lost in a crash"
                    );
                }
                m.offered.clear();
            }
        }
        m.acked.retain(|_, (_, e)| *e > w.now);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn allocator_keeps_its_promises(ops in proptest::collection::vec(op(), 1..80)) {
        run(ops);
    }
}

#[test]
fn a_full_pool_recovers_after_expiry() {
    let conf = ServerConfig::parse(CONF, "props.conf").unwrap();
    let mut a = Allocator::new(&conf, timers());
    let mut granted = Vec::new();
    for c in 0..6 {
        if let Ok(g) = a.offer(&client(c), LINKS[0], None, None, t(0)) {
            granted.push(g.addr);
        }
    }
    // 5 addresses, one reserved: 4 dynamic offers, then the pool is exhausted
    assert_eq!(granted.len(), 4, "{granted:?}");
    assert!(a.offer(&client(6), LINKS[0], None, None, t(0)).is_err());
    // offers lapse after 30 s
    assert!(a.offer(&client(6), LINKS[0], None, None, t(31)).is_ok());
}
