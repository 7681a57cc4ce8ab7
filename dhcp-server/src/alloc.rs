//! The lease allocator: which address each client holds, sans I/O, time passed in.
//!
//! Every address of every configured range has a slot. A slot is free, offered (for
//! [`Timers::offer_secs`], then it lapses), bound (until its lease ends), declined (kept out of
//! use for [`Timers::decline_secs`]) or reserved (a `fixed-address` inside a range, never
//! handed out dynamically). Leases are keyed on [`ClientKey`]. A slot that becomes free remembers
//! its last client, so a client coming back gets its old address if nobody took it meanwhile;
//! free addresses are reused least recently freed first.
//!
//! Allocation and release are O(1) (a free queue, a hash map from client to slot); expiry uses
//! a heap holding at most about two entries per slot. Every change that must survive a restart
//! is queued as a [`LeaseRecord`] (see [`Allocator::take_changes`]); the server writes them to
//! the lease file and syncs it before it answers.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use std::time::Duration;
//! use dhcp_codec::Time;
//! use dhcp_server::{Allocator, ClientKey, ClientInfo, RequestKind, RequestOutcome, ServerConfig, Timers};
//!
//! let conf = ServerConfig::parse(
//!     "subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; default-lease-time 600; }",
//!     "doc.conf",
//! )
//! .unwrap();
//! let mut alloc = Allocator::new(&conf, Timers::default());
//! let client = ClientInfo::new(ClientKey::mac([2, 0, 0, 0, 0, 1]), Some([2, 0, 0, 0, 0, 1]));
//! let link = Ipv4Addr::new(10, 0, 0, 1); // the interface address, or giaddr when relayed
//! let now = Time::from_secs(1_000);
//! let offer = alloc.offer(&client, link, None, None, now).unwrap();
//! assert_eq!(offer.addr, Ipv4Addr::new(10, 0, 0, 10));
//! let kind = RequestKind::Selecting { addr: offer.addr, server_is_us: true };
//! let RequestOutcome::Ack(lease) = alloc.request(&client, link, kind, None, now) else { panic!() };
//! assert_eq!(lease.ends, now + Duration::from_secs(600));
//! assert_eq!(alloc.take_changes().len(), 1); // the binding, to persist before the ACK
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::config::{HostConfig, OptionSet, ServerConfig, SubnetConfig};
use crate::error::Error;
use crate::key::ClientKey;
use dhcp_codec::Time;

/// `n` seconds.
fn secs(n: u32) -> std::time::Duration {
    std::time::Duration::from_secs(u64::from(n))
}

/// How long offers and declines hold an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// An offered address is held this long for the client's REQUEST.
    pub offer_secs: u32,
    /// A declined address stays out of use this long.
    pub decline_secs: u32,
}

impl Default for Timers {
    /// Offers held 60 s; declined addresses kept out of use for 1 hour.
    fn default() -> Self {
        Timers {
            offer_secs: 60,
            decline_secs: 3600,
        }
    }
}

/// The client a message came from: its lease key and, for Ethernet, its MAC address (used to
/// match `hardware ethernet` reservations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// What the lease is keyed on.
    pub key: ClientKey,
    /// The MAC address from `chaddr` when `htype` is Ethernet.
    pub mac: Option<[u8; 6]>,
}

impl ClientInfo {
    /// A client from its key and MAC address.
    pub fn new(key: ClientKey, mac: Option<[u8; 6]>) -> Self {
        ClientInfo { key, mac }
    }
}

/// What kind of DHCPREQUEST this is (RFC 2131 4.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// After an OFFER: option 54 and 50 set. `server_is_us` is false when the client chose
    /// another server.
    Selecting {
        /// Option 50.
        addr: Ipv4Addr,
        /// Whether option 54 names this server.
        server_is_us: bool,
    },
    /// INIT-REBOOT: option 50, no 54, `ciaddr` zero.
    InitReboot {
        /// Option 50.
        addr: Ipv4Addr,
    },
    /// RENEWING or REBINDING: `ciaddr` set.
    Renewing {
        /// `ciaddr`.
        ciaddr: Ipv4Addr,
    },
}

/// An address granted (offered or acknowledged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The address.
    pub addr: Ipv4Addr,
    /// Lease length in seconds.
    pub lease_secs: u32,
    /// When the lease (or the offer) ends.
    pub ends: Time,
    /// Index of the subnet in the configuration.
    pub subnet: usize,
    /// Index of the matching host declaration, if the client has one.
    pub host: Option<usize>,
}

/// The answer to a DHCPREQUEST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Send a DHCPACK.
    Ack(Grant),
    /// Send a DHCPNAK, with this message.
    Nak(String),
    /// Stay silent.
    Ignore,
}

/// The state of a lease record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordState {
    /// Bound to `client` until `ends`.
    Bound,
    /// Released by `client` (or expired): free, remembered for that client.
    Free,
    /// Declined: out of use until `ends`.
    Declined,
}

/// One durable change of a lease: what the lease file stores, one per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// The address.
    pub ip: Ipv4Addr,
    /// The new state.
    pub state: RecordState,
    /// The client (none for a declined address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientKey>,
    /// When the lease started.
    pub starts: Time,
    /// When it ends (bound, declined) or ended (free).
    pub ends: Time,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Free,
    Offered,
    Bound,
    Declined,
    Reserved,
}

#[derive(Debug, Clone)]
struct Slot {
    state: SlotState,
    in_free: bool,
    /// The pool (subnet) the slot belongs to.
    pool: u16,
    /// The slot's address (kept here: one cache line per slot on the hot path).
    addr: Ipv4Addr,
    owner: Option<ClientKey>,
    starts: Time,
    expires: Time,
    /// Expiry time of this slot's live entry in the heap (0: none).
    queued: Time,
}

#[derive(Debug)]
struct Pool {
    config: SubnetConfig,
    /// (low, high, index of low's slot), sorted.
    ranges: Vec<(u32, u32, u32)>,
    free: VecDeque<u32>,
}

impl Pool {
    fn slot_of(&self, addr: Ipv4Addr) -> Option<u32> {
        let a = u32::from(addr);
        self.ranges
            .iter()
            .find(|(lo, hi, _)| *lo <= a && a <= *hi)
            .map(|(lo, _, base)| base + (a - lo))
    }
}

/// The lease allocator. See the [module documentation](self).
#[derive(Debug)]
pub struct Allocator {
    pools: Vec<Pool>,
    hosts: Vec<HostConfig>,
    global_options: OptionSet,
    slots: Vec<Slot>,
    /// (pool, client) -> the slot it holds or remembers in that pool.
    clients: HashMap<(u16, ClientKey), u32, foldhash::fast::RandomState>,
    heap: BinaryHeap<Reverse<(Time, u32)>>,
    /// Map entries whose slot went to another client since the last sweep (they are ignored:
    /// every lookup checks the slot's owner).
    stale: usize,
    timers: Timers,
    changes: Vec<LeaseRecord>,
}

impl Allocator {
    /// An allocator for every subnet and range of `config`, all addresses free (except
    /// `fixed-address`es inside ranges, which are reserved).
    pub fn new(config: &ServerConfig, timers: Timers) -> Allocator {
        let mut pools = Vec::new();
        let mut slots = Vec::new();
        let fixed: std::collections::HashSet<Ipv4Addr> = config
            .hosts
            .iter()
            .flat_map(|h| h.fixed_addresses.iter().copied())
            .collect();
        for (pi, sub) in config.subnets.iter().enumerate() {
            let mut ranges = Vec::new();
            let mut free = VecDeque::new();
            for r in &sub.ranges {
                let (lo, hi) = (u32::from(r.low), u32::from(r.high));
                ranges.push((lo, hi, slots.len() as u32));
                for a in lo..=hi {
                    let idx = slots.len() as u32;
                    let addr = Ipv4Addr::from(a);
                    let reserved = fixed.contains(&addr);
                    // Never hand out the network or broadcast address of the subnet.
                    let unusable =
                        sub.prefix_len() < 31 && (addr == sub.network || addr == sub.broadcast());
                    let state = if reserved || unusable {
                        SlotState::Reserved
                    } else {
                        free.push_back(idx);
                        SlotState::Free
                    };
                    slots.push(Slot {
                        state,
                        in_free: state == SlotState::Free,
                        pool: pi as u16,
                        addr,
                        owner: None,
                        starts: Time::ZERO,
                        expires: Time::ZERO,
                        queued: Time::ZERO,
                    });
                }
            }
            pools.push(Pool {
                config: sub.clone(),
                ranges,
                free,
            });
        }
        Allocator {
            pools,
            hosts: config.hosts.clone(),
            global_options: config.options.clone(),
            slots,
            clients: HashMap::default(),
            heap: BinaryHeap::new(),
            stale: 0,
            timers,
            changes: Vec::new(),
        }
    }

    /// The subnet configuration at `index` (as in [`Grant::subnet`]).
    pub fn subnet(&self, index: usize) -> Option<&SubnetConfig> {
        self.pools.get(index).map(|p| &p.config)
    }

    /// The host declaration at `index` (as in [`Grant::host`]).
    pub fn host(&self, index: usize) -> Option<&HostConfig> {
        self.hosts.get(index)
    }

    /// The options to serve with `grant`: host, then subnet, then global scope.
    pub fn options_for(&self, grant: &Grant) -> OptionSet {
        let sub = self
            .subnet(grant.subnet)
            .map(|s| s.options.clone())
            .unwrap_or_else(|| self.global_options.clone());
        match grant.host.and_then(|h| self.hosts.get(h)) {
            Some(h) => h.options.or(&sub),
            None => sub,
        }
    }

    /// Index of the subnet that `link` (the receiving interface's address, or `giaddr`) is on.
    pub fn subnet_for_link(&self, link: Ipv4Addr) -> Option<usize> {
        self.pools.iter().position(|p| p.config.contains(link))
    }

    /// Number of addresses in all ranges.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Takes the durable changes made since the last call, oldest first.
    pub fn take_changes(&mut self) -> Vec<LeaseRecord> {
        std::mem::take(&mut self.changes)
    }

    /// Drops the queued durable changes (for callers that persist nothing).
    pub fn clear_changes(&mut self) {
        self.changes.clear();
    }

    fn host_for(&self, client: &ClientInfo, pool: usize) -> Option<(usize, Option<Ipv4Addr>)> {
        let sub = &self.pools[pool].config;
        let by_id = match &client.key {
            ClientKey::ClientId(id) => self
                .hosts
                .iter()
                .position(|h| h.client_identifier.as_deref() == Some(&id[..])),
            ClientKey::Hardware { .. } => None,
        };
        let idx = by_id.or_else(|| {
            let mac = client.mac?;
            self.hosts
                .iter()
                .position(|h| h.hardware_ethernet == Some(mac))
        })?;
        let fixed = self.hosts[idx]
            .fixed_addresses
            .iter()
            .copied()
            .find(|a| sub.contains(*a));
        Some((idx, fixed))
    }

    fn lease_secs(&self, pool: usize, host: Option<usize>, requested: Option<u32>) -> u32 {
        let sub = &self.pools[pool].config;
        let h = host.and_then(|h| self.hosts.get(h));
        let default = h
            .and_then(|h| h.default_lease_time)
            .unwrap_or(sub.default_lease_time);
        let max = h
            .and_then(|h| h.max_lease_time)
            .unwrap_or(sub.max_lease_time);
        requested.unwrap_or(default).min(max).max(1)
    }

    fn schedule(&mut self, slot: u32, at: Time) {
        let s = &mut self.slots[slot as usize];
        if s.queued == Time::ZERO || s.queued > at {
            s.queued = at;
            self.heap.push(Reverse((at, slot)));
        }
    }

    fn push_free(&mut self, pool: usize, slot: u32) {
        let s = &mut self.slots[slot as usize];
        if !s.in_free {
            s.in_free = true;
            self.pools[pool].free.push_back(slot);
        }
    }

    /// Makes `slot` free, remembering its owner.
    fn set_free(&mut self, slot: u32) {
        let pool = usize::from(self.slots[slot as usize].pool);
        self.slots[slot as usize].state = SlotState::Free;
        self.push_free(pool, slot);
    }

    /// Ends every offer, lease and decline whose time is up at `now`. Every other operation
    /// calls this first.
    pub fn expire(&mut self, now: Time) {
        while let Some(&Reverse((at, slot))) = self.heap.peek() {
            if at > now {
                break;
            }
            self.heap.pop();
            let s = &mut self.slots[slot as usize];
            if s.queued != at {
                continue; // superseded entry
            }
            s.queued = Time::ZERO;
            match s.state {
                SlotState::Offered | SlotState::Bound | SlotState::Declined => {
                    if s.expires <= now {
                        if s.state == SlotState::Declined {
                            s.owner = None;
                        }
                        self.set_free(slot);
                    } else {
                        let e = s.expires;
                        self.schedule(slot, e);
                    }
                }
                SlotState::Free | SlotState::Reserved => {}
            }
        }
    }

    /// Detaches `slot`'s remembered owner (its address goes to someone else). The owner's map
    /// entry is left to the next sweep: lookups check the slot's owner, so it is never used.
    fn forget_owner(&mut self, slot: u32) {
        if self.slots[slot as usize].owner.take().is_some() {
            self.stale += 1;
            self.sweep();
        }
    }

    /// Drops map entries whose slot belongs to someone else, once they are four times as many
    /// as the slots (amortized O(1) per allocation).
    fn sweep(&mut self) {
        if self.stale <= (4 * self.slots.len()).max(1024) {
            return;
        }
        let slots = &self.slots;
        self.clients
            .retain(|(_, key), slot| slots[*slot as usize].owner.as_ref() == Some(key));
        self.stale = 0;
    }

    /// The slot `key` has a map entry for in `pool`, if that slot is still its own.
    fn entry_of(&self, pool: u16, key: &ClientKey) -> Option<u32> {
        let &slot = self.clients.get(&(pool, key.clone()))?;
        (self.slots[slot as usize].owner.as_ref() == Some(key)).then_some(slot)
    }

    /// Takes free `slot` for `key` as an offer.
    fn take_for_offer(&mut self, slot: u32, key: &ClientKey, now: Time) {
        if self.slots[slot as usize].owner.as_ref() != Some(key) {
            self.forget_owner(slot);
        }
        let pool = self.slots[slot as usize].pool;
        if let Some(old) = self.clients.insert((pool, key.clone()), slot)
            && old != slot
        {
            self.release_offer(old, key);
        }
        let ends = now + secs(self.timers.offer_secs);
        let s = &mut self.slots[slot as usize];
        s.state = SlotState::Offered;
        s.owner = Some(key.clone());
        s.expires = ends;
        self.schedule(slot, ends);
    }

    /// A client that moved on from an offered (not bound) slot frees it.
    fn release_offer(&mut self, slot: u32, key: &ClientKey) {
        let s = &self.slots[slot as usize];
        if s.state == SlotState::Offered && s.owner.as_ref() == Some(key) {
            self.set_free(slot);
        }
    }

    /// The slot `key` holds or remembers in `pool`, if it is still usable for it.
    fn own_slot(&self, key: &ClientKey, pool: usize) -> Option<u32> {
        let slot = self.entry_of(pool as u16, key)?;
        let s = &self.slots[slot as usize];
        let usable = matches!(
            s.state,
            SlotState::Offered | SlotState::Bound | SlotState::Free
        );
        usable.then_some(slot)
    }

    /// Chooses an address for a DHCPDISCOVER arriving on `link`: the client's reservation, else
    /// the address it holds or held, else `requested` (option 50) if free, else the least
    /// recently used free address. `requested_secs` is option 51.
    pub fn offer(
        &mut self,
        client: &ClientInfo,
        link: Ipv4Addr,
        requested: Option<Ipv4Addr>,
        requested_secs: Option<u32>,
        now: Time,
    ) -> Result<Grant, Error> {
        self.expire(now);
        let pool = self
            .subnet_for_link(link)
            .ok_or(Error::NoSubnet { addr: link })?;
        let host = self.host_for(client, pool);
        let host_idx = host.map(|(h, _)| h);
        let lease_secs = self.lease_secs(pool, host_idx, requested_secs);
        if let Some((_, Some(fixed))) = host {
            return Ok(Grant {
                addr: fixed,
                lease_secs,
                ends: now + secs(lease_secs),
                subnet: pool,
                host: host_idx,
            });
        }
        let key = &client.key;
        let slot = if let Some(slot) = self.own_slot(key, pool) {
            slot
        } else if let Some(slot) =
            requested
                .and_then(|a| self.pools[pool].slot_of(a))
                .filter(|&s| {
                    let s = &self.slots[s as usize];
                    s.state == SlotState::Free
                        && (s.owner.is_none() || s.owner.as_ref() == Some(key))
                })
        {
            slot
        } else {
            self.pop_free(pool).ok_or(Error::PoolExhausted {
                subnet: self.pools[pool].config.network,
            })?
        };
        let ends = match self.slots[slot as usize].state {
            SlotState::Bound => self.slots[slot as usize].expires,
            _ => {
                self.take_for_offer(slot, key, now);
                self.slots[slot as usize].expires
            }
        };
        Ok(Grant {
            addr: self.slots[slot as usize].addr,
            lease_secs,
            ends,
            subnet: pool,
            host: host_idx,
        })
    }

    fn pop_free(&mut self, pool: usize) -> Option<u32> {
        while let Some(slot) = self.pools[pool].free.pop_front() {
            let s = &mut self.slots[slot as usize];
            s.in_free = false;
            if s.state == SlotState::Free {
                return Some(slot);
            }
        }
        None
    }

    /// Answers a DHCPREQUEST arriving on `link`. `requested_secs` is option 51.
    pub fn request(
        &mut self,
        client: &ClientInfo,
        link: Ipv4Addr,
        kind: RequestKind,
        requested_secs: Option<u32>,
        now: Time,
    ) -> RequestOutcome {
        self.expire(now);
        let Some(pool) = self.subnet_for_link(link) else {
            return RequestOutcome::Ignore;
        };
        let authoritative = self.pools[pool].config.authoritative;
        let nak = |msg: String| {
            if authoritative || matches!(kind, RequestKind::Selecting { .. }) {
                RequestOutcome::Nak(msg)
            } else {
                RequestOutcome::Ignore
            }
        };
        let addr = match kind {
            RequestKind::Selecting {
                server_is_us: false,
                ..
            } => {
                // The client took another server's offer: ours lapses now.
                if let Some(slot) = self.own_slot(&client.key, pool) {
                    self.release_offer(slot, &client.key);
                }
                return RequestOutcome::Ignore;
            }
            RequestKind::Selecting { addr, .. } => addr,
            RequestKind::InitReboot { addr } => addr,
            RequestKind::Renewing { ciaddr } => ciaddr,
        };
        if !self.pools[pool].config.contains(addr) {
            return nak(format!("{addr} is not on this network"));
        }
        let host = self.host_for(client, pool);
        let host_idx = host.map(|(h, _)| h);
        let lease_secs = self.lease_secs(pool, host_idx, requested_secs);
        let ends = now + secs(lease_secs);
        if let Some((_, Some(fixed))) = host {
            return if fixed == addr {
                RequestOutcome::Ack(Grant {
                    addr,
                    lease_secs,
                    ends,
                    subnet: pool,
                    host: host_idx,
                })
            } else {
                nak(format!("{addr} is not reserved for this client"))
            };
        }
        let Some(slot) = self.pools[pool].slot_of(addr) else {
            return nak(format!("{addr} is not in a range of this server"));
        };
        let s = &self.slots[slot as usize];
        let mine = s.owner.as_ref() == Some(&client.key);
        let ok = match s.state {
            SlotState::Offered | SlotState::Bound => mine,
            SlotState::Free => true,
            SlotState::Declined | SlotState::Reserved => false,
        };
        if !ok {
            return nak(format!("{addr} is not available"));
        }
        let was_offered = s.state == SlotState::Offered;
        if !mine {
            self.forget_owner(slot);
        }
        // An address offered to this client is already its map entry (every offer inserts it,
        // and a later one for the same client frees this one).
        let mapped = mine && was_offered;
        if !mapped {
            let k = (pool as u16, client.key.clone());
            if self.clients.get(&k) != Some(&slot)
                && let Some(old) = self.clients.insert(k, slot)
                && old != slot
            {
                self.release_offer(old, &client.key);
            }
        }
        let s = &mut self.slots[slot as usize];
        if s.state != SlotState::Bound {
            s.starts = now;
        }
        s.state = SlotState::Bound;
        s.owner = Some(client.key.clone());
        s.expires = ends;
        let starts = s.starts;
        self.schedule(slot, ends);
        self.changes.push(LeaseRecord {
            ip: addr,
            state: RecordState::Bound,
            client: Some(client.key.clone()),
            starts,
            ends,
        });
        RequestOutcome::Ack(Grant {
            addr,
            lease_secs,
            ends,
            subnet: pool,
            host: host_idx,
        })
    }

    /// A DHCPRELEASE: frees `addr` if `client` holds it. Returns whether it did.
    pub fn release(&mut self, client: &ClientInfo, addr: Ipv4Addr, now: Time) -> bool {
        self.expire(now);
        let Some(slot) = self.slot_of_addr(addr) else {
            return false;
        };
        let s = &self.slots[slot as usize];
        if s.owner.as_ref() != Some(&client.key)
            || !matches!(s.state, SlotState::Bound | SlotState::Offered)
        {
            return false;
        }
        let was_bound = s.state == SlotState::Bound;
        let starts = s.starts;
        self.slots[slot as usize].expires = now;
        self.set_free(slot);
        if was_bound {
            self.changes.push(LeaseRecord {
                ip: addr,
                state: RecordState::Free,
                client: Some(client.key.clone()),
                starts,
                ends: now,
            });
        }
        true
    }

    /// A DHCPDECLINE: `client` found `addr` in use. The address stays out of use for
    /// [`Timers::decline_secs`]; the client's next DISCOVER gets another one. Returns whether
    /// the address was the client's.
    pub fn decline(&mut self, client: &ClientInfo, addr: Ipv4Addr, now: Time) -> bool {
        self.expire(now);
        let Some(slot) = self.slot_of_addr(addr) else {
            return false;
        };
        let s = &self.slots[slot as usize];
        if s.owner.as_ref() != Some(&client.key)
            || !matches!(s.state, SlotState::Bound | SlotState::Offered)
        {
            return false;
        }
        self.forget_owner(slot);
        let ends = now + secs(self.timers.decline_secs);
        let s = &mut self.slots[slot as usize];
        s.state = SlotState::Declined;
        s.starts = now;
        s.expires = ends;
        self.schedule(slot, ends);
        self.changes.push(LeaseRecord {
            ip: addr,
            state: RecordState::Declined,
            client: None,
            starts: now,
            ends,
        });
        true
    }

    fn slot_of_addr(&self, addr: Ipv4Addr) -> Option<u32> {
        let pool = self.subnet_for_link(addr)?;
        self.pools[pool].slot_of(addr)
    }

    /// Applies a record read back from the lease file. Records for addresses no longer in any
    /// range are skipped (returns false). Bound and declined records that ended before `now`
    /// leave the address free (a bound one remembers its client).
    pub fn restore(&mut self, record: &LeaseRecord, now: Time) -> bool {
        let Some(slot) = self.slot_of_addr(record.ip) else {
            return false;
        };
        if self.slots[slot as usize].state == SlotState::Reserved {
            return false;
        }
        self.forget_owner(slot);
        let live = record.ends > now;
        let state = match record.state {
            RecordState::Bound if live => SlotState::Bound,
            RecordState::Declined if live => SlotState::Declined,
            _ => SlotState::Free,
        };
        let owner = match state {
            SlotState::Declined => None,
            _ => record.client.clone(),
        };
        let mut owner = owner;
        if let Some(key) = owner.clone() {
            let pool = self.slots[slot as usize].pool;
            let held_elsewhere = self.entry_of(pool, &key).is_some_and(|old| {
                old != slot && self.slots[old as usize].state == SlotState::Bound
            });
            let k = (pool, key);
            if state == SlotState::Free && held_elsewhere {
                // An old, ended lease never hides the client's live one.
                owner = None;
            } else if let Some(old) = self.clients.insert(k.clone(), slot)
                && old != slot
            {
                let o = &mut self.slots[old as usize];
                if o.state == SlotState::Free && o.owner.as_ref() == Some(&k.1) {
                    o.owner = None;
                }
            }
        }
        let s = &mut self.slots[slot as usize];
        s.state = state;
        s.owner = owner;
        s.starts = record.starts;
        s.expires = record.ends;
        match state {
            SlotState::Free => self.set_free(slot),
            _ => self.schedule(slot, record.ends),
        }
        true
    }

    /// The bound lease of `key` (on any subnet; the latest-ending one if several).
    pub fn lease_of(&self, key: &ClientKey) -> Option<LeaseRecord> {
        (0..self.pools.len() as u16)
            .filter_map(|pool| {
                let slot = self.entry_of(pool, key)?;
                let s = &self.slots[slot as usize];
                (s.state == SlotState::Bound).then(|| LeaseRecord {
                    ip: self.slots[slot as usize].addr,
                    state: RecordState::Bound,
                    client: s.owner.clone(),
                    starts: s.starts,
                    ends: s.expires,
                })
            })
            .max_by_key(|r| r.ends)
    }

    /// Takes `addr` out of dynamic use for good (an address the server host has itself, for
    /// example). Returns whether it was in a range. Whoever held it loses it.
    pub fn exclude(&mut self, addr: Ipv4Addr) -> bool {
        let Some(slot) = self.slot_of_addr(addr) else {
            return false;
        };
        self.forget_owner(slot);
        self.slots[slot as usize].state = SlotState::Reserved;
        true
    }

    /// The bound lease on `addr`, if there is one.
    pub fn lease_at(&self, addr: Ipv4Addr) -> Option<LeaseRecord> {
        let slot = self.slot_of_addr(addr)?;
        let s = &self.slots[slot as usize];
        (s.state == SlotState::Bound).then(|| LeaseRecord {
            ip: addr,
            state: RecordState::Bound,
            client: s.owner.clone(),
            starts: s.starts,
            ends: s.expires,
        })
    }

    /// Every record worth keeping: bound and declined addresses, and free ones that remember
    /// their client. This is what a compacted lease file holds.
    pub fn records(&self) -> Vec<LeaseRecord> {
        let mut out = Vec::new();
        for s in &self.slots {
            let state = match s.state {
                SlotState::Bound => RecordState::Bound,
                SlotState::Declined => RecordState::Declined,
                SlotState::Free if s.owner.is_some() => RecordState::Free,
                _ => continue,
            };
            out.push(LeaseRecord {
                ip: s.addr,
                state,
                client: s.owner.clone(),
                starts: s.starts,
                ends: s.expires,
            });
        }
        out
    }

    /// Number of bound leases.
    pub fn bound_count(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.state == SlotState::Bound)
            .count()
    }

    /// Who holds `addr` right now (offered or bound), if anyone.
    pub fn holder_of(&self, addr: Ipv4Addr) -> Option<&ClientKey> {
        let slot = self.slot_of_addr(addr)?;
        let s = &self.slots[slot as usize];
        matches!(s.state, SlotState::Offered | SlotState::Bound)
            .then_some(s.owner.as_ref())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `s` seconds after the epoch of these tests.
    fn t(s: u64) -> Time {
        Time::from_secs(s)
    }

    fn conf(text: &str) -> ServerConfig {
        ServerConfig::parse(text, "t.conf").unwrap()
    }

    const LINK: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    fn small() -> Allocator {
        Allocator::new(
            &conf(
                "authoritative; subnet 10.0.0.0 netmask 255.255.255.0 {\n\
                 range 10.0.0.10 10.0.0.12; default-lease-time 100; max-lease-time 200; }\n\
                 host r { hardware ethernet 02:00:00:00:00:99; fixed-address 10.0.0.11; }",
            ),
            Timers {
                offer_secs: 10,
                decline_secs: 50,
            },
        )
    }

    fn c(n: u8) -> ClientInfo {
        let mac = [2, 0, 0, 0, 0, n];
        ClientInfo::new(ClientKey::mac(mac), Some(mac))
    }

    fn dora(a: &mut Allocator, cl: &ClientInfo, now: Time) -> Grant {
        let g = a.offer(cl, LINK, None, None, now).unwrap();
        match a.request(
            cl,
            LINK,
            RequestKind::Selecting {
                addr: g.addr,
                server_is_us: true,
            },
            None,
            now,
        ) {
            RequestOutcome::Ack(g) => g,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reserved_address_skipped_and_given_to_its_host() {
        let mut a = small();
        assert_eq!(dora(&mut a, &c(1), t(0)).addr, Ipv4Addr::new(10, 0, 0, 10));
        assert_eq!(dora(&mut a, &c(2), t(0)).addr, Ipv4Addr::new(10, 0, 0, 12));
        assert!(matches!(
            a.offer(&c(3), LINK, None, None, t(0)),
            Err(Error::PoolExhausted { .. })
        ));
        let g = dora(&mut a, &c(0x99), t(0));
        assert_eq!((g.addr, g.host), (Ipv4Addr::new(10, 0, 0, 11), Some(0)));
    }

    #[test]
    fn offers_lapse_and_leases_expire() {
        let mut a = small();
        let g = a.offer(&c(1), LINK, None, None, t(0)).unwrap();
        assert_eq!(a.holder_of(g.addr), Some(&c(1).key));
        // another client after the offer lapsed gets ... the next free address first (LRU),
        // and the lapsed one only when nothing else is left
        let g2 = a.offer(&c(2), LINK, None, None, t(11)).unwrap();
        assert_ne!(g2.addr, g.addr);
        assert_eq!(a.holder_of(g.addr), None);
        let g3 = a.offer(&c(3), LINK, None, None, t(11)).unwrap();
        assert_eq!(g3.addr, g.addr);
        // REQUEST for the lapsed offer from c(1): someone else holds it now
        let out = a.request(
            &c(1),
            LINK,
            RequestKind::Selecting {
                addr: g.addr,
                server_is_us: true,
            },
            None,
            t(11),
        );
        assert!(matches!(out, RequestOutcome::Nak(_)), "{out:?}");
        // bound lease expires
        let l = dora(&mut a, &c(2), t(12));
        assert_eq!(l.ends, t(112));
        assert_eq!(a.holder_of(l.addr), Some(&c(2).key));
        a.expire(t(112));
        assert_eq!(a.holder_of(l.addr), None);
    }

    #[test]
    fn returning_client_gets_its_old_address() {
        let mut a = small();
        let first = dora(&mut a, &c(1), t(0));
        assert!(a.release(&c(1), first.addr, t(5)));
        let again = dora(&mut a, &c(1), t(6));
        assert_eq!(first.addr, again.addr);
    }

    #[test]
    fn renew_extends_and_lease_time_is_clamped() {
        let mut a = small();
        let l = dora(&mut a, &c(1), t(0));
        let out = a.request(
            &c(1),
            LINK,
            RequestKind::Renewing { ciaddr: l.addr },
            Some(10_000),
            t(50),
        );
        let RequestOutcome::Ack(g) = out else {
            panic!("{out:?}")
        };
        assert_eq!((g.lease_secs, g.ends), (200, t(250)));
        // someone else renewing that address is refused
        let out = a.request(
            &c(2),
            LINK,
            RequestKind::Renewing { ciaddr: l.addr },
            None,
            t(60),
        );
        assert!(matches!(out, RequestOutcome::Nak(_)));
        // wrong network
        let out = a.request(
            &c(1),
            LINK,
            RequestKind::InitReboot {
                addr: Ipv4Addr::new(10, 9, 9, 9),
            },
            None,
            t(60),
        );
        assert!(matches!(out, RequestOutcome::Nak(_)));
    }

    #[test]
    fn decline_keeps_address_out_of_use() {
        let mut a = small();
        let l = dora(&mut a, &c(1), t(0));
        assert!(a.decline(&c(1), l.addr, t(1)));
        let g = dora(&mut a, &c(1), t(2));
        assert_ne!(g.addr, l.addr);
        assert!(a.release(&c(1), g.addr, t(3)));
        // c(2) can take g.addr? it is remembered for c(1) but free; declined one is not offered
        let g2 = a.offer(&c(2), LINK, None, None, t(3)).unwrap();
        assert_ne!(g2.addr, l.addr);
        a.expire(t(51));
        assert_eq!(a.holder_of(l.addr), None);
        let rec = a.take_changes();
        assert!(rec.iter().any(|r| r.state == RecordState::Declined));
    }

    #[test]
    fn init_reboot_of_unknown_free_address_is_acked() {
        let mut a = small();
        let addr = Ipv4Addr::new(10, 0, 0, 12);
        let out = a.request(&c(5), LINK, RequestKind::InitReboot { addr }, None, t(0));
        assert!(matches!(out, RequestOutcome::Ack(ref g) if g.addr == addr));
        let out = a.request(&c(6), LINK, RequestKind::InitReboot { addr }, None, t(0));
        assert!(matches!(out, RequestOutcome::Nak(_)));
    }

    #[test]
    fn restore_round_trip() {
        let mut a = small();
        let l1 = dora(&mut a, &c(1), t(0));
        let l2 = dora(&mut a, &c(2), t(0));
        a.release(&c(2), l2.addr, t(1));
        let recs = a.records();
        let mut b = small();
        for r in &recs {
            assert!(b.restore(r, t(2)));
        }
        assert_eq!(b.holder_of(l1.addr), Some(&c(1).key));
        assert_eq!(b.holder_of(l2.addr), None);
        assert_eq!(dora(&mut b, &c(2), t(3)).addr, l2.addr);
        assert_eq!(b.records().len(), 2);
    }

    #[test]
    fn churn_keeps_the_client_map_bounded() {
        let mut a = small();
        let mut last = None;
        for n in 0..5000u32 {
            let b = n.to_be_bytes();
            let mac = [2, 1, b[0], b[1], b[2], b[3]];
            let cl = ClientInfo::new(ClientKey::mac(mac), Some(mac));
            let g = dora(&mut a, &cl, t(u64::from(n)));
            assert!(a.release(&cl, g.addr, t(u64::from(n))));
            last = Some((cl, g.addr));
        }
        assert!(a.clients.len() <= 4 * 3 + 1024 + 1, "{}", a.clients.len());
        // the last client still finds its remembered address
        let (cl, addr) = last.unwrap();
        assert_eq!(dora(&mut a, &cl, t(6000)).addr, addr);
    }

    #[test]
    fn excluded_address_is_never_offered() {
        let mut a = small();
        assert!(a.exclude(Ipv4Addr::new(10, 0, 0, 10)));
        assert!(!a.exclude(Ipv4Addr::new(10, 0, 0, 99)));
        assert_eq!(dora(&mut a, &c(1), t(0)).addr, Ipv4Addr::new(10, 0, 0, 12));
        assert!(a.offer(&c(2), LINK, None, None, t(0)).is_err());
        let out = a.request(
            &c(2),
            LINK,
            RequestKind::InitReboot {
                addr: Ipv4Addr::new(10, 0, 0, 10),
            },
            None,
            t(0),
        );
        assert!(matches!(out, RequestOutcome::Nak(_)));
    }

    #[test]
    fn relayed_link_selects_the_subnet() {
        let mut a = Allocator::new(
            &conf(
                "subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.12; }\n\
                 subnet 10.1.0.0 netmask 255.255.255.0 { range 10.1.0.10 10.1.0.12; }",
            ),
            Timers::default(),
        );
        let g = a
            .offer(&c(1), Ipv4Addr::new(10, 1, 0, 1), None, None, t(0))
            .unwrap();
        assert_eq!(g.subnet, 1);
        assert_eq!(g.addr, Ipv4Addr::new(10, 1, 0, 10));
        assert!(matches!(
            a.offer(&c(1), Ipv4Addr::new(10, 2, 0, 1), None, None, t(0)),
            Err(Error::NoSubnet { .. })
        ));
    }
}
