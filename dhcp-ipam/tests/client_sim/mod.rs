//! A seeded simulation for client tests: a small RFC 2131 server with its own lease database
//! and a lossy network that drops, duplicates, delays (and so reorders) packets. Every packet is
//! emitted and parsed through the codec on the way.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::time::Duration;

use dhcp_codec::Time;
use dhcp_codec::{ClientId, HwAddr, Message, MessageType, Op};
use dhcp_ipam::client::Destination;
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
    /// Address -> position in the pool (for large pools: O(1) membership).
    pub pool_index: HashMap<Ipv4Addr, usize>,
    /// Address -> holder, kept in step with `bindings`.
    pub holders: HashMap<Ipv4Addr, ClientId>,
    next_free: usize,
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
            pool_index: HashMap::new(),
            holders: HashMap::new(),
            next_free: 0,
        }
    }

    /// A server with a pool of `n` addresses 10.1.0.1, 10.1.0.2, ... (for many clients).
    pub fn with_pool(id: Ipv4Addr, lease_secs: u32, n: u32) -> Self {
        let mut s = SimServer::new(id, lease_secs);
        s.pool = (1..=n).map(|i| Ipv4Addr::from(0x0a01_0000 + i)).collect();
        s.pool_index = s.pool.iter().enumerate().map(|(i, a)| (*a, i)).collect();
        s
    }

    fn owner_of(&self, addr: Ipv4Addr, now: Time) -> Option<&ClientId> {
        self.bindings
            .iter()
            .find(|(_, b)| b.addr == addr && (b.expires > now || !b.offered_only))
            .map(|(k, _)| k)
    }

    fn in_pool(&self, addr: Ipv4Addr) -> bool {
        if self.pool_index.is_empty() {
            self.pool.contains(&addr)
        } else {
            self.pool_index.contains_key(&addr)
        }
    }

    fn free(&self, addr: Ipv4Addr, now: Time, me: &ClientId) -> bool {
        if self.abandoned.contains(&addr) || !self.in_pool(addr) {
            return false;
        }
        match self.holders.get(&addr) {
            None => true,
            Some(k) => {
                k == me
                    || self
                        .bindings
                        .get(k)
                        .is_none_or(|b| b.addr != addr || b.expires <= now)
            }
        }
    }

    fn bind(&mut self, key: ClientId, b: Binding) {
        if let Some(old) = self.bindings.get(&key)
            && old.addr != b.addr
            && self.holders.get(&old.addr) == Some(&key)
        {
            self.holders.remove(&old.addr);
        }
        self.holders.insert(b.addr, key.clone());
        self.bindings.insert(key, b);
    }

    fn unbind(&mut self, key: &ClientId) {
        if let Some(old) = self.bindings.remove(key)
            && self.holders.get(&old.addr) == Some(key)
        {
            self.holders.remove(&old.addr);
        }
    }

    fn first_free(&mut self, now: Time, me: &ClientId) -> Option<Ipv4Addr> {
        let n = self.pool.len();
        for i in 0..n {
            let a = self.pool[(self.next_free + i) % n];
            if self.free(a, now, me) {
                self.next_free = (self.next_free + i + 1) % n;
                return Some(a);
            }
        }
        None
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
                        let addr = match wanted {
                            Some(a) => a,
                            None => self.first_free(now, &key)?,
                        };
                        self.bind(
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
                            self.unbind(&key);
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
                    self.bind(
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
                    self.unbind(&key);
                }
                None
            }
            MessageType::Decline => {
                self.declines.push((now, req.clone()));
                if let Some(a) = req.options.requested_ip {
                    self.abandoned.push(a);
                    self.unbind(&key);
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
