//! A seeded simulation for client tests: a small RFC 2131 server with its own lease database
//! and a lossy network that drops, duplicates, delays (and so reorders) packets. Every packet is
//! emitted and parsed through the codec on the way.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::time::Duration;

use dhcp_ipam::Time;
use dhcp_ipam::client::Destination;
use dhcp_ipam::codec::{ClientId, HwAddr, Message, MessageType, Op};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One binding in a server's database.
#[derive(Debug, Clone)]
pub struct Binding {
    pub addr: Ipv4Addr,
    pub expires: Time,
    pub offered_only: bool,
}

/// A simulated server.
#[derive(Debug)]
pub struct SimServer {
    pub id: Ipv4Addr,
    pub lease_secs: u32,
    pub t1_t2: Option<(u32, u32)>,
    pub authoritative: bool,
    pub pool: Vec<Ipv4Addr>,
    pub bindings: HashMap<ClientId, Binding>,
    pub abandoned: Vec<Ipv4Addr>,
    pub releases: Vec<(Time, Message)>,
    pub declines: Vec<(Time, Message)>,
    /// Probability of answering any REQUEST with a NAK.
    pub nak_rate: f64,
}

impl SimServer {
    pub fn new(id: Ipv4Addr, lease_secs: u32) -> Self {
        let o = id.octets();
        let pool = (10..=60)
            .map(|h| Ipv4Addr::new(o[0], o[1], o[2], h))
            .collect();
        SimServer {
            id,
            lease_secs,
            t1_t2: None,
            authoritative: true,
            pool,
            bindings: HashMap::new(),
            abandoned: Vec::new(),
            releases: Vec::new(),
            declines: Vec::new(),
            nak_rate: 0.0,
        }
    }

    fn owner_of(&self, addr: Ipv4Addr, now: Time) -> Option<&ClientId> {
        self.bindings
            .iter()
            .find(|(_, b)| b.addr == addr && (b.expires > now || !b.offered_only))
            .map(|(k, _)| k)
    }

    fn free(&self, addr: Ipv4Addr, now: Time, me: &ClientId) -> bool {
        if self.abandoned.contains(&addr) || !self.pool.contains(&addr) {
            return false;
        }
        match self.bindings.iter().find(|(_, b)| b.addr == addr) {
            None => true,
            Some((k, b)) => k == me || b.expires <= now,
        }
    }

    fn reply(&self, req: &Message, t: MessageType, yiaddr: Ipv4Addr) -> Message {
        let mut r = Message::new_reply(req, t);
        r.yiaddr = yiaddr;
        r.options.server_id = Some(self.id);
        if t != MessageType::Nak {
            r.options.lease_time = Some(self.lease_secs);
            r.options.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
            r.options.routers = vec![self.id];
            if let Some((t1, t2)) = self.t1_t2 {
                r.options.renewal_time = Some(t1);
                r.options.rebinding_time = Some(t2);
            }
        }
        r
    }

    /// Handles one request received at `now`; returns the answer, if any.
    pub fn handle(&mut self, now: Time, req: &Message, rng: &mut ChaCha8Rng) -> Option<Message> {
        if req.op != Op::Request {
            return None;
        }
        let key = req.options.client_id.clone()?;
        let lease = Duration::from_secs(u64::from(self.lease_secs));
        match req.message_type {
            MessageType::Discover => {
                let addr = match self.bindings.get(&key) {
                    Some(b) if !self.abandoned.contains(&b.addr) => b.addr,
                    _ => {
                        let wanted = req
                            .options
                            .requested_ip
                            .filter(|a| self.free(*a, now, &key));
                        let addr = wanted.or_else(|| {
                            self.pool.iter().copied().find(|a| self.free(*a, now, &key))
                        })?;
                        self.bindings.insert(
                            key.clone(),
                            Binding {
                                addr,
                                expires: now + Duration::from_secs(30),
                                offered_only: true,
                            },
                        );
                        addr
                    }
                };
                Some(self.reply(req, MessageType::Offer, addr))
            }
            MessageType::Request => {
                if self.nak_rate > 0.0 && rng.random_bool(self.nak_rate) {
                    return Some(self.reply(req, MessageType::Nak, Ipv4Addr::UNSPECIFIED));
                }
                let (addr, selecting) = if let Some(sid) = req.options.server_id {
                    if sid != self.id {
                        // the client chose another server: forget our offer
                        if self.bindings.get(&key).is_some_and(|b| b.offered_only) {
                            self.bindings.remove(&key);
                        }
                        return None;
                    }
                    (req.options.requested_ip?, true)
                } else if !req.ciaddr.is_unspecified() {
                    (req.ciaddr, false)
                } else {
                    (req.options.requested_ip?, false)
                };
                let ours = self.bindings.get(&key).is_some_and(|b| b.addr == addr);
                let ok = if selecting {
                    self.free(addr, now, &key)
                } else {
                    ours
                };
                if ok {
                    self.bindings.insert(
                        key,
                        Binding {
                            addr,
                            expires: now + lease,
                            offered_only: false,
                        },
                    );
                    Some(self.reply(req, MessageType::Ack, addr))
                } else if self.authoritative {
                    Some(self.reply(req, MessageType::Nak, Ipv4Addr::UNSPECIFIED))
                } else {
                    None
                }
            }
            MessageType::Release => {
                self.releases.push((now, req.clone()));
                if self
                    .bindings
                    .get(&key)
                    .is_some_and(|b| b.addr == req.ciaddr)
                {
                    self.bindings.remove(&key);
                }
                None
            }
            MessageType::Decline => {
                self.declines.push((now, req.clone()));
                if let Some(a) = req.options.requested_ip {
                    self.abandoned.push(a);
                    self.bindings.remove(&key);
                }
                None
            }
            _ => None,
        }
    }

    /// The server's expiry for `key` holding `addr`, if it has such a binding.
    pub fn expiry_of(&self, key: &ClientId, addr: Ipv4Addr) -> Option<Time> {
        self.bindings
            .get(key)
            .filter(|b| b.addr == addr && !b.offered_only)
            .map(|b| b.expires)
    }
}

/// A packet in flight.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub at: Time,
    pub seq: u64,
    pub to_server: bool,
    pub bytes: Vec<u8>,
    pub destination: Option<Destination>,
}

/// Loss, duplication and delay of the simulated segment.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    pub loss: f64,
    pub dup: f64,
    pub max_delay: Duration,
}

/// The network: packets in flight, ordered by delivery time.
#[derive(Debug)]
pub struct Net {
    pub rng: ChaCha8Rng,
    pub faults: Faults,
    pub flight: BTreeMap<(Time, u64), InFlight>,
    seq: u64,
}

impl Net {
    pub fn new(seed: u64, faults: Faults) -> Self {
        Net {
            rng: ChaCha8Rng::seed_from_u64(seed),
            faults,
            flight: BTreeMap::new(),
            seq: 0,
        }
    }

    /// Sends `msg`: encoded now, possibly lost, duplicated, delayed.
    pub fn send(
        &mut self,
        now: Time,
        msg: &Message,
        to_server: bool,
        destination: Option<Destination>,
    ) {
        let bytes = msg.emit().expect("simulated messages encode");
        let copies = if self.rng.random_bool(self.faults.dup) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            if self.rng.random_bool(self.faults.loss) {
                continue;
            }
            let max = self.faults.max_delay.as_millis() as u64;
            let delay = if max == 0 {
                0
            } else {
                self.rng.random_range(0..=max)
            };
            let at = now + Duration::from_millis(delay);
            self.seq += 1;
            self.flight.insert(
                (at, self.seq),
                InFlight {
                    at,
                    seq: self.seq,
                    to_server,
                    bytes: bytes.clone(),
                    destination,
                },
            );
        }
    }

    pub fn next_delivery(&self) -> Option<Time> {
        self.flight.keys().next().map(|(t, _)| *t)
    }

    pub fn pop_due(&mut self, now: Time) -> Option<InFlight> {
        let key = *self.flight.keys().next()?;
        if key.0 > now {
            return None;
        }
        self.flight.remove(&key)
    }
}

pub fn mac(n: u32) -> HwAddr {
    let b = n.to_be_bytes();
    HwAddr::mac([2, 0, b[0], b[1], b[2], b[3]])
}
