//! The renewal manager at scale, in virtual time: thousands of leases kept renewed by one
//! manager on one thread, a crash in the middle with the leases restored from the lease store
//! (renewals resume, INIT-REBOOT where a lease lapsed while the process was down), and the
//! timer heap staying bounded.

mod client_sim;

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::time::Duration;

use client_sim::{Faults, Net, SimServer, mac};
use dhcp_codec::Time;
use dhcp_codec::{ClientId, Message};
use dhcp_ipam::client::{Client, ClientConfig, Destination, Event, Lease, Output, State};
use dhcp_ipam::renewal::RenewalScheduler;
use dhcp_ipam::store::{LeaseRecord, LeaseStore};

struct World {
    mgr: RenewalScheduler,
    server: SimServer,
    net: Net,
    by_mac: HashMap<[u8; 6], String>,
    held: HashMap<String, Lease>,
    /// (expiry, key) of every held lease: the first one is checked at every step.
    expiries: BTreeSet<(Time, String)>,
    bounds: u32,
    renewals: u32,
    drops: u32,
    now: Time,
    store: Option<LeaseStore>,
}

fn config(i: u32) -> ClientConfig {
    ClientConfig::new(
        mac(i),
        ClientId::for_pod_interface(&format!("pod{i}"), "net1"),
    )
    .quick_start()
}

impl World {
    fn new(n: u32, lease_secs: u32, loss: f64, t0: Time) -> World {
        let mut mgr = RenewalScheduler::new();
        let mut by_mac = HashMap::new();
        for i in 0..n {
            let key = format!("pod{i}/net1");
            by_mac.insert(mac(i).as_mac().unwrap(), key.clone());
            mgr.insert(key, Client::new(config(i), u64::from(i), t0));
        }
        World {
            mgr,
            server: SimServer::with_pool(Ipv4Addr::new(10, 1, 255, 254), lease_secs, n + 100),
            net: Net::new(
                7,
                Faults {
                    loss,
                    dup: 0.0,
                    max_delay: Duration::from_millis(20),
                },
            ),
            by_mac,
            held: HashMap::new(),
            expiries: BTreeSet::new(),
            bounds: 0,
            renewals: 0,
            drops: 0,
            now: t0,
            store: None,
        }
    }

    fn hold(&mut self, key: &str, l: Option<Lease>) -> Option<Lease> {
        let old = match l {
            Some(l) => {
                self.expiries
                    .insert((l.expires_at().expect("finite"), key.to_string()));
                self.held.insert(key.to_string(), l)
            }
            None => self.held.remove(key),
        };
        if let Some(o) = &old {
            self.expiries
                .remove(&(o.expires_at().expect("finite"), key.to_string()));
        }
        old
    }

    fn apply(&mut self, out: Vec<(String, Output)>) {
        for (key, o) in out {
            match o {
                Output::Transmit(t) => {
                    self.net
                        .send(self.now, &t.message, true, Some(t.destination))
                }
                Output::Event(Event::Bound(l)) => {
                    assert!(self.hold(&key, Some(l)).is_none(), "{key} bound twice");
                    self.bounds += 1;
                    self.persist(&key);
                }
                Output::Event(Event::Renewed(l)) => {
                    let ip = l.ip();
                    assert_eq!(self.hold(&key, Some(l)).map(|h| h.ip()), Some(ip));
                    self.renewals += 1;
                    self.persist(&key);
                }
                Output::Event(Event::Drop { .. }) => {
                    assert!(self.hold(&key, None).is_some());
                    self.drops += 1;
                    self.persist(&key);
                }
                Output::Event(Event::Nak { .. }) => {}
            }
        }
    }

    fn persist(&self, key: &str) {
        let Some(store) = &self.store else { return };
        let c = self.mgr.get(key).expect("client");
        let rec = LeaseRecord {
            key: key.to_string(),
            netns: None,
            ifname: "net1".into(),
            client_id: c.config().client_id.clone(),
            chaddr: c.config().chaddr,
            hostname: None,
            lease: self.held.get(key).cloned(),
            // this test never re-bases: its records keep the simulation's own clock
            saved_at: None,
        };
        store.save(&rec).expect("save");
    }

    /// Runs until `until`, checking that no address outlives its lease.
    fn run(&mut self, until: Time) {
        loop {
            let next = [self.mgr.next_timeout(), self.net.next_delivery()]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(until)
                .max(self.now);
            if next >= until {
                self.now = until;
                return;
            }
            self.now = next;
            let mut out = Vec::new();
            while let Some(p) = self.net.pop_due(self.now) {
                let msg = Message::parse(&p.bytes).expect("parse");
                if p.to_server {
                    if let Some(Destination::Unicast { to, .. }) = p.destination {
                        assert_eq!(to, self.server.id);
                    }
                    let mut rng = self.net.rng.clone();
                    if let Some(a) = self.server.handle(self.now, &msg, &mut rng) {
                        self.net.send(self.now, &a, false, None);
                    }
                    self.net.rng = rng;
                } else if let Some(key) = msg.chaddr.as_mac().and_then(|m| self.by_mac.get(&m)) {
                    let key = key.clone();
                    self.mgr.handle_message(self.now, &key, &msg, &mut out);
                }
            }
            self.mgr.handle_timeouts(self.now, &mut out);
            self.apply(out);
            if let Some((exp, key)) = self.expiries.first() {
                assert!(self.now < *exp, "{key} uses its address after expiry {exp}");
            }
            assert!(
                self.mgr.heap_len() <= 3 * self.mgr.len() + 64,
                "timer heap leaks"
            );
        }
    }
}

#[test]
fn five_thousand_leases_renewed_for_a_day_by_one_manager() {
    let t0 = Time::from_secs(1_700_000_000);
    let n = 5_000;
    let mut w = World::new(n, 3600, 0.0, t0);
    w.run(t0 + Duration::from_secs(24 * 3600));
    assert_eq!(w.bounds, n, "every client bound once");
    assert_eq!(w.drops, 0, "no lease ever lapsed");
    assert_eq!(w.held.len(), n as usize);
    // T1 = 1800 s (less up to 3 % fuzz): about 47 renewals per lease in 24 h
    let per_lease = f64::from(w.renewals) / f64::from(n);
    assert!(
        (46.0..=49.5).contains(&per_lease),
        "{per_lease} renewals per lease"
    );
    // all addresses distinct
    let mut addrs: Vec<_> = w.held.values().map(Lease::ip).collect();
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), n as usize);
}

#[test]
fn leases_survive_a_crash_of_the_manager() {
    let t0 = Time::from_secs(1_700_000_000);
    let n = 300;
    // tmpfs when there is one: this checks what is restored, not how fast a disk syncs
    let dir = tempfile::tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let mut w = World::new(n, 600, 0.05, t0);
    w.store = Some(LeaseStore::open(dir.path()).unwrap());
    w.run(t0 + Duration::from_secs(3600));
    let before: HashMap<String, Ipv4Addr> =
        w.held.iter().map(|(k, l)| (k.clone(), l.ip())).collect();
    assert!(
        before.len() as u32 > n * 9 / 10,
        "most bound before the crash: {}",
        before.len()
    );

    // The process dies; it comes back 7 minutes later: leases of 600 s are past T1 or T2, some
    // have lapsed. Packets in flight are lost with it.
    let down_until = w.now + Duration::from_secs(420);
    let store = LeaseStore::open(dir.path()).unwrap();
    let (records, errors) = store.load_all().unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), n as usize);
    let mut mgr = RenewalScheduler::new();
    let mut held = HashMap::new();
    let (mut resumed, mut rebooting) = (0, 0);
    for r in records {
        let i: u32 = r
            .key
            .trim_start_matches("pod")
            .trim_end_matches("/net1")
            .parse()
            .unwrap();
        let c = match r.lease {
            Some(l) if !l.is_expired(down_until) => {
                resumed += 1;
                held.insert(r.key.clone(), l.clone());
                Client::resume(config(i), l, u64::from(i) + 99, down_until)
            }
            Some(l) => {
                rebooting += 1;
                let c = Client::resume(config(i), l, u64::from(i) + 99, down_until);
                assert_eq!(c.state(), State::InitReboot);
                c
            }
            None => Client::new(config(i), u64::from(i) + 99, down_until),
        };
        mgr.insert(r.key, c);
    }
    assert!(
        resumed > 0 && rebooting > 0,
        "resumed {resumed}, rebooting {rebooting}"
    );
    w.mgr = mgr;
    w.held = HashMap::new();
    w.expiries.clear();
    for (k, l) in held {
        w.hold(&k, Some(l));
    }
    w.net.flight.clear();
    w.now = down_until;
    w.run(down_until + Duration::from_secs(3600));
    // everyone holds a lease again, and every address is the one it had before the crash
    // (the server still knew the bindings, so INIT-REBOOT got them back)
    assert_eq!(w.held.len(), n as usize, "all bound after the restart");
    let kept = before
        .iter()
        .filter(|(k, a)| w.held.get(*k).map(Lease::ip) == Some(**a))
        .count();
    assert!(
        kept * 100 >= before.len() * 95,
        "{kept} of {} kept their address",
        before.len()
    );
}
