//! The renewal manager: many [`Client`]s driven by one timer queue, sans I/O.
//!
//! One manager keeps thousands of leases renewed from a single thread: a min-heap of the
//! clients' next deadlines says which client to wake, so the cost of a tick is logarithmic in
//! the number of leases and no lease has a thread or a sleeping task of its own. Like the
//! client, it never reads a clock or touches a socket: its owner passes the time in, routes
//! received messages to the right key, and carries out the [`Output`]s it collects.
//!
//! ```
//! use dhcp_ipam::client::{Client, ClientConfig, Output};
//! use dhcp_codec::{ClientId, HwAddr};
//! use dhcp_ipam::renewal::RenewalScheduler;
//! use dhcp_codec::Time;
//!
//! let mut m = RenewalScheduler::new();
//! for i in 0..3u8 {
//!     let mac = [2, 0, 0, 0, 0, i];
//!     let cfg = ClientConfig::new(HwAddr::mac(mac), ClientId::from_mac(mac));
//!     m.insert(format!("pod{i}/net1"), Client::new(cfg, i.into(), Time::ZERO));
//! }
//! // Initial delays are 1-10 s: at 10 s every client has sent its DISCOVER, once.
//! let mut out = Vec::new();
//! m.handle_timeouts(Time::from_secs(10), &mut out);
//! assert_eq!(out.iter().filter(|(_, o)| matches!(o, Output::Transmit(_))).count(), 3);
//! assert!(m.next_timeout().unwrap() > Time::from_secs(12)); // the first retransmission
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::client::{Client, Output};
use crate::error::Error;
use dhcp_codec::Message;
use dhcp_codec::Time;

/// Clients by key, woken from one timer heap.
#[derive(Debug, Default)]
pub struct RenewalScheduler {
    clients: HashMap<String, Entry>,
    /// (deadline, generation, key); stale entries are skipped when popped.
    heap: BinaryHeap<Reverse<(Time, u64, String)>>,
    next_gen: u64,
}

#[derive(Debug)]
struct Entry {
    client: Client,
    /// The heap entry that is current for this client.
    scheduled: Option<(Time, u64)>,
}

impl RenewalScheduler {
    /// An empty manager.
    pub fn new() -> Self {
        RenewalScheduler::default()
    }

    /// Number of clients.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// True without clients.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Entries in the timer heap (current and stale); stays within a small multiple of
    /// [`len`](Self::len).
    pub fn heap_len(&self) -> usize {
        self.heap.len()
    }

    /// Adds (or replaces) the client for `key`. Its pending outputs are collected at its next
    /// timeout or message; call [`drain`](Self::drain) to take them at once.
    pub fn insert(&mut self, key: String, client: Client) {
        self.clients.insert(
            key.clone(),
            Entry {
                client,
                scheduled: None,
            },
        );
        self.reschedule(&key);
    }

    /// Removes and returns the client for `key`.
    pub fn remove(&mut self, key: &str) -> Option<Client> {
        let e = self.clients.remove(key)?;
        self.maybe_compact();
        Some(e.client)
    }

    /// The client for `key`.
    pub fn get(&self, key: &str) -> Option<&Client> {
        self.clients.get(key).map(|e| &e.client)
    }

    /// Every key with its client.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Client)> {
        self.clients.iter().map(|(k, e)| (k, &e.client))
    }

    /// The earliest deadline of any client.
    pub fn next_timeout(&mut self) -> Option<Time> {
        while let Some(Reverse((t, gen_, key))) = self.heap.peek() {
            let current = self
                .clients
                .get(key)
                .and_then(|e| e.scheduled)
                .is_some_and(|(st, sg)| st == *t && sg == *gen_);
            if current {
                return Some(*t);
            }
            self.heap.pop();
        }
        None
    }

    /// Wakes every client whose deadline is at or before `now` and appends their outputs,
    /// tagged with their key, to `out`.
    pub fn handle_timeouts(&mut self, now: Time, out: &mut Vec<(String, Output)>) {
        while let Some(t) = self.next_timeout() {
            if t > now {
                break;
            }
            let Some(Reverse((_, _, key))) = self.heap.pop() else {
                break;
            };
            if let Some(e) = self.clients.get_mut(&key) {
                e.scheduled = None;
                e.client.handle_timeout(now);
            }
            self.collect(&key, out);
            self.reschedule(&key);
        }
    }

    /// Feeds `msg` to the client for `key` and appends its outputs to `out`. Unknown keys are
    /// ignored.
    pub fn handle_message(
        &mut self,
        now: Time,
        key: &str,
        msg: &Message,
        out: &mut Vec<(String, Output)>,
    ) {
        let Some(e) = self.clients.get_mut(key) else {
            return;
        };
        e.client.handle_message(now, msg);
        self.collect(key, out);
        self.reschedule(key);
    }

    /// Releases `key`'s lease (see [`Client::release`]) and appends the RELEASE and the drop
    /// event to `out`. The client stays, stopped, until removed.
    pub fn release(
        &mut self,
        now: Time,
        key: &str,
        out: &mut Vec<(String, Output)>,
    ) -> Result<(), Error> {
        let e = self.clients.get_mut(key).ok_or(Error::InvalidState {
            op: "release",
            state: "unknown lease",
        })?;
        e.client.release(now)?;
        self.collect(key, out);
        self.reschedule(key);
        Ok(())
    }

    /// Declines `key`'s freshly acquired address (see [`Client::decline`]).
    pub fn decline(
        &mut self,
        now: Time,
        key: &str,
        out: &mut Vec<(String, Output)>,
    ) -> Result<(), Error> {
        let e = self.clients.get_mut(key).ok_or(Error::InvalidState {
            op: "decline",
            state: "unknown lease",
        })?;
        e.client.decline(now)?;
        self.collect(key, out);
        self.reschedule(key);
        Ok(())
    }

    /// Takes every pending output of every client (after [`insert`](Self::insert)).
    pub fn drain(&mut self, out: &mut Vec<(String, Output)>) {
        let keys: Vec<String> = self.clients.keys().cloned().collect();
        for k in keys {
            self.collect(&k, out);
        }
    }

    fn collect(&mut self, key: &str, out: &mut Vec<(String, Output)>) {
        if let Some(e) = self.clients.get_mut(key) {
            while let Some(o) = e.client.poll_output() {
                out.push((key.to_string(), o));
            }
        }
    }

    fn reschedule(&mut self, key: &str) {
        let Some(e) = self.clients.get_mut(key) else {
            return;
        };
        let want = e.client.poll_timeout();
        if want.is_some() && e.scheduled.map(|(t, _)| t) == want {
            return;
        }
        e.scheduled = None;
        if let Some(t) = want {
            let g = self.next_gen;
            self.next_gen += 1;
            e.scheduled = Some((t, g));
            self.heap.push(Reverse((t, g, key.to_string())));
        }
        self.maybe_compact();
    }

    /// Drops stale heap entries when they outnumber the clients.
    fn maybe_compact(&mut self) {
        if self.heap.len() > 64 && self.heap.len() > 3 * self.clients.len() {
            let clients = &self.clients;
            self.heap.retain(|Reverse((t, g, k))| {
                clients
                    .get(k)
                    .and_then(|e| e.scheduled)
                    .is_some_and(|(st, sg)| st == *t && sg == *g)
            });
        }
    }
}
