//! The sans-I/O DHCPv4 client: the RFC 2131 state machine, with time passed in and a seeded RNG.
//!
//! The [`Client`] never touches a socket or a clock. Its owner feeds it received messages
//! ([`Client::handle_message`]) and the time ([`Client::handle_timeout`] once
//! [`Client::poll_timeout`] has passed), and drains [`Output`]s: messages to send, with the
//! [`Destination`] that says how (broadcast from 0.0.0.0 before the client has an address,
//! unicast UDP from the leased address when renewing and releasing), and [`Event`]s that say
//! when to configure and when to drop the address.
//!
//! States (RFC 2131 figure 5): INIT, SELECTING, REQUESTING, BOUND, RENEWING, REBINDING,
//! INIT-REBOOT, REBOOTING, plus STOPPED after a RELEASE or [`Client::stop`].
//!
//! ```
//! use dhcp_ipam::client::{Client, ClientConfig, Destination, Output, State};
//! use dhcp_codec::{ClientId, HwAddr, MessageType};
//! use dhcp_codec::Time;
//!
//! let mac = [2, 0, 0, 0, 0, 1];
//! let cfg = ClientConfig::new(HwAddr::mac(mac), ClientId::from_mac(mac));
//! let mut client = Client::new(cfg, 42, Time::from_secs(1000));
//! assert_eq!(client.state(), State::Init);
//!
//! // Nothing happens before the random initial delay has passed.
//! let deadline = client.poll_timeout().unwrap();
//! client.handle_timeout(deadline);
//! match client.poll_output() {
//!     Some(Output::Transmit(t)) => {
//!         assert_eq!(t.message.message_type, MessageType::Discover);
//!         assert_eq!(t.destination, Destination::Broadcast);
//!     }
//!     other => panic!("expected a DISCOVER, got {other:?}"),
//! }
//! assert_eq!(client.state(), State::Selecting);
//! ```

mod config;
mod lease;

use std::collections::VecDeque;
use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use config::{Backoff, ClientConfig};
pub use lease::Lease;

use crate::error::Error;
use dhcp_codec::Time;
use dhcp_codec::{Message, MessageType, Op};
use lease::Fuzz;

/// The client's state (RFC 2131 figure 5, plus [`State::Stopped`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting the random initial delay before DISCOVER.
    Init,
    /// DISCOVER sent, waiting for an OFFER.
    Selecting,
    /// REQUEST for an OFFER sent, waiting for ACK or NAK.
    Requesting,
    /// Holding a lease, waiting for T1.
    Bound,
    /// Past T1: unicast REQUESTs to the server that granted the lease.
    Renewing,
    /// Past T2: broadcast REQUESTs to any server.
    Rebinding,
    /// About to verify a previously held address after a restart.
    InitReboot,
    /// REQUEST for the previous address broadcast, waiting for ACK or NAK.
    Rebooting,
    /// Released or stopped: no timers, no messages.
    Stopped,
}

impl State {
    /// The RFC's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Selecting => "SELECTING",
            State::Requesting => "REQUESTING",
            State::Bound => "BOUND",
            State::Renewing => "RENEWING",
            State::Rebinding => "REBINDING",
            State::InitReboot => "INIT-REBOOT",
            State::Rebooting => "REBOOTING",
            State::Stopped => "STOPPED",
        }
    }

    /// True in the states where the client holds a lease and may use its address.
    pub fn holds_lease(self) -> bool {
        matches!(self, State::Bound | State::Renewing | State::Rebinding)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a message must be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Destination {
    /// To 255.255.255.255:67 from 0.0.0.0:68, through the link layer (a packet socket): the
    /// client has no usable address (INIT, SELECTING, REQUESTING, INIT-REBOOT, REBOOTING,
    /// DECLINE).
    Broadcast,
    /// To 255.255.255.255:67 from `from`:68 over UDP (REBINDING: the client still holds `from`).
    BroadcastFrom {
        /// The leased address.
        from: Ipv4Addr,
    },
    /// To `to`:67 from `from`:68 over UDP (RENEWING, RELEASE).
    Unicast {
        /// The leased address.
        from: Ipv4Addr,
        /// The server.
        to: Ipv4Addr,
    },
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The message.
    pub message: Message,
    /// How to send it.
    pub destination: Destination,
}

/// Why the address must be dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The lease expired.
    Expired,
    /// A server refused to extend it (DHCPNAK).
    Nak,
    /// The client declined it (address conflict).
    Declined,
    /// The client released it.
    Released,
    /// A server acknowledged a different address.
    Replaced,
}

/// Something the owner of the client must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new lease: configure its address (and routes). Emitted on leaving REQUESTING or
    /// REBOOTING with an ACK, and when a renewal yields a different address.
    Bound(Lease),
    /// The lease was extended (same address): update its lifetime, persist it.
    Renewed(Lease),
    /// Stop using `address` now.
    Drop {
        /// The address.
        address: Ipv4Addr,
        /// Why.
        reason: DropReason,
    },
    /// A server sent DHCPNAK (reported for logs; the state machine has already reacted).
    Nak {
        /// The server (option 54), if it said.
        server: Option<Ipv4Addr>,
        /// Its message (option 56), if any.
        message: Option<String>,
    },
}

/// What the client asks its owner to do.
// Outputs are short-lived queue entries; boxing the message would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send a message.
    Transmit(Transmit),
    /// Act on an event.
    Event(Event),
}

#[derive(Debug, Clone)]
struct Offer {
    yiaddr: Ipv4Addr,
    server_id: Ipv4Addr,
    lease_secs: Option<u32>,
}

/// The sans-I/O RFC 2131 client. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    rng: ChaCha8Rng,
    state: State,
    /// Transaction id of the current exchange.
    xid: u32,
    /// When the current acquisition or renewal began (for `secs`).
    started_at: Time,
    /// When the REQUEST of the current exchange was first sent.
    request_sent_at: Option<Time>,
    /// Next timer.
    timer: Option<Time>,
    /// Transmissions so far in the current state.
    attempts: u32,
    /// The lease held (BOUND, RENEWING, REBINDING), or the one to verify (INIT-REBOOT,
    /// REBOOTING).
    lease: Option<Lease>,
    /// The OFFER being requested (REQUESTING).
    offer: Option<Offer>,
    /// An address to ask for in DISCOVER (a previous lease).
    hint: Option<Ipv4Addr>,
    out: VecDeque<Output>,
}

impl Client {
    /// A client in INIT that will DISCOVER after the configured random initial delay. `seed`
    /// drives every random choice (xids, delays, jitter, fuzz).
    pub fn new(config: ClientConfig, seed: u64, now: Time) -> Self {
        let mut c = Client::blank(config, seed, now);
        c.enter_init(now, None);
        c
    }

    /// A client resuming from a stored lease after a restart of its owner. While the lease is
    /// valid it goes on where it left off: BOUND before T1, RENEWING before T2, REBINDING before
    /// expiry (the address is assumed to be still configured). Once the lease has lapsed it
    /// enters INIT-REBOOT and asks for the same address again.
    pub fn resume(config: ClientConfig, lease: Lease, seed: u64, now: Time) -> Self {
        let mut c = Client::blank(config, seed, now);
        if lease.is_expired(now) {
            c.enter_init_reboot(now, lease);
            return c;
        }
        c.state = if now < lease.renew_at {
            State::Bound
        } else if now < lease.rebind_at {
            State::Renewing
        } else {
            State::Rebinding
        };
        c.timer = Some(if c.state == State::Bound {
            lease.renew_at
        } else {
            now
        });
        // In RENEWING/REBINDING the first REQUEST goes out at once.
        c.attempts = 0;
        c.started_at = now;
        c.xid = c.rng.random();
        c.request_sent_at = None;
        c.lease = Some(lease);
        c
    }

    /// A client that verifies `lease`'s address with INIT-REBOOT whatever its age (after a
    /// reboot of the node or a move of the interface, when the address may no longer be valid
    /// on this link).
    pub fn init_reboot(config: ClientConfig, lease: Lease, seed: u64, now: Time) -> Self {
        let mut c = Client::blank(config, seed, now);
        c.enter_init_reboot(now, lease);
        c
    }

    fn blank(config: ClientConfig, seed: u64, now: Time) -> Self {
        Client {
            config,
            rng: ChaCha8Rng::seed_from_u64(seed),
            state: State::Init,
            xid: 0,
            started_at: now,
            request_sent_at: None,
            timer: None,
            attempts: 0,
            lease: None,
            offer: None,
            hint: None,
            out: VecDeque::new(),
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The lease held (in BOUND, RENEWING, REBINDING) or being verified (INIT-REBOOT,
    /// REBOOTING).
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// The transaction id of the current exchange.
    pub fn xid(&self) -> u32 {
        self.xid
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Time> {
        self.timer
    }

    /// The next thing to do, if any. Drain this after every call that feeds the client.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Advances the timers to `now`: retransmits, moves BOUND to RENEWING at T1, RENEWING to
    /// REBINDING at T2, drops an expired lease. Calling it early does nothing.
    pub fn handle_timeout(&mut self, now: Time) {
        // A lease may lapse in any lease-holding state, even if timers were missed.
        if self.state.holds_lease()
            && let Some(lease) = &self.lease
            && lease.is_expired(now)
        {
            let address = lease.ip();
            self.emit_event(Event::Drop {
                address,
                reason: DropReason::Expired,
            });
            self.lease = None;
            self.enter_init(now, Some(address));
            return;
        }
        let Some(deadline) = self.timer else { return };
        if now < deadline {
            return;
        }
        match self.state {
            State::Init => self.send_discover(now, true),
            State::Selecting => self.send_discover(now, false),
            State::Requesting => {
                if self.attempts >= self.config.request_attempts.max(1) {
                    let hint = self.offer.take().map(|o| o.yiaddr);
                    self.enter_init(now, hint);
                } else {
                    self.send_selecting_request(now);
                }
            }
            State::Bound => {
                // The lease counts from the first REQUEST: after a slow exchange T2 may
                // already have passed when T1 fires.
                let past_t2 = self.lease.as_ref().is_some_and(|l| now >= l.rebind_at);
                self.state = if past_t2 {
                    State::Rebinding
                } else {
                    State::Renewing
                };
                self.begin_renewal(now);
                self.send_renewal(now);
            }
            State::Renewing => {
                let past_t2 = self.lease.as_ref().is_some_and(|l| now >= l.rebind_at);
                if past_t2 {
                    self.state = State::Rebinding;
                    self.begin_renewal(now);
                }
                self.send_renewal(now);
            }
            State::Rebinding => self.send_renewal(now),
            State::InitReboot => self.send_reboot_request(now, true),
            State::Rebooting => {
                if self.attempts >= self.config.reboot_attempts.max(1) {
                    let hint = self.lease.take().map(|l| l.ip());
                    self.enter_init(now, hint);
                    // INIT after a failed reboot: no extra wait, go straight to DISCOVER.
                    self.timer = Some(now);
                    self.send_discover(now, true);
                } else {
                    self.send_reboot_request(now, false);
                }
            }
            State::Stopped => self.timer = None,
        }
    }

    /// Feeds a received message. Messages that are not for this client or not expected in the
    /// current state (wrong xid, chaddr or client id, a duplicate, a stale answer) are ignored.
    pub fn handle_message(&mut self, now: Time, msg: &Message) {
        if msg.op != Op::Reply || msg.xid != self.xid || msg.chaddr != self.config.chaddr {
            return;
        }
        // Only Kea echoes option 61; when echoed it must be ours.
        if let Some(id) = &msg.options.client_id
            && *id != self.config.client_id
        {
            return;
        }
        // Lapse check first: an answer that arrives after expiry cannot revive the address.
        self.handle_timeout_lapse_only(now);
        match (self.state, msg.message_type) {
            (State::Selecting, MessageType::Offer) => self.on_offer(now, msg),
            (State::Requesting, MessageType::Ack) => self.on_requesting_ack(now, msg),
            (State::Requesting, MessageType::Nak) => {
                let chosen = self.offer.as_ref().map(|o| o.server_id);
                if msg.options.server_id.is_none() || msg.options.server_id == chosen {
                    self.on_nak(now, msg, None);
                }
            }
            (State::Renewing | State::Rebinding, MessageType::Ack) => self.on_renewal_ack(now, msg),
            (State::Renewing | State::Rebinding, MessageType::Nak) => {
                let address = self.lease.as_ref().map(|l| l.ip());
                self.on_nak(now, msg, address);
            }
            (State::Rebooting, MessageType::Ack) => self.on_reboot_ack(now, msg),
            (State::Rebooting, MessageType::Nak) => self.on_nak(now, msg, None),
            _ => {}
        }
    }

    /// Declines the address just acquired (the owner found it in use, by ARP): broadcasts
    /// DHCPDECLINE with options 50 and 54, drops the address and starts over in INIT after
    /// [`ClientConfig::decline_wait`].
    pub fn decline(&mut self, now: Time) -> Result<(), Error> {
        let Some(lease) = self.lease.take().filter(|_| self.state.holds_lease()) else {
            return Err(Error::InvalidState {
                op: "decline",
                state: self.state.name(),
            });
        };
        let xid = self.rng.random();
        let mut m = Message::new_request(MessageType::Decline, xid, self.config.chaddr);
        m.options.client_id = Some(lease.client_id.clone());
        m.options.requested_ip = Some(lease.ip());
        m.options.server_id = Some(lease.server_id);
        m.options.message = Some("address in use".into());
        self.emit_transmit(m, Destination::Broadcast);
        self.emit_event(Event::Drop {
            address: lease.ip(),
            reason: DropReason::Declined,
        });
        self.enter_init(now, None);
        self.timer = Some(now + self.config.decline_wait);
        Ok(())
    }

    /// Releases the lease: unicasts DHCPRELEASE from the leased address to the server that
    /// granted it (ciaddr set, option 54, the lease's client id; no 50, 51 or 55), drops the
    /// address and stops. Only possible while holding a lease.
    pub fn release(&mut self, _now: Time) -> Result<(), Error> {
        let Some(lease) = self.lease.take().filter(|_| self.state.holds_lease()) else {
            return Err(Error::InvalidState {
                op: "release",
                state: self.state.name(),
            });
        };
        let xid = self.rng.random();
        let mut m = Message::new_request(MessageType::Release, xid, self.config.chaddr);
        m.ciaddr = lease.ip();
        m.options.server_id = Some(lease.server_id);
        m.options.client_id = Some(lease.client_id.clone());
        self.emit_transmit(
            m,
            Destination::Unicast {
                from: lease.ip(),
                to: lease.server_id,
            },
        );
        self.emit_event(Event::Drop {
            address: lease.ip(),
            reason: DropReason::Released,
        });
        self.stop();
        Ok(())
    }

    /// Stops without releasing (the owner shuts down and keeps the lease stored): no more
    /// timers or messages.
    pub fn stop(&mut self) {
        self.state = State::Stopped;
        self.timer = None;
        self.offer = None;
    }

    // ---- transitions ----

    fn enter_init(&mut self, now: Time, hint: Option<Ipv4Addr>) {
        self.state = State::Init;
        self.lease = None;
        self.offer = None;
        self.hint = hint;
        self.attempts = 0;
        self.request_sent_at = None;
        let (lo, hi) = self.config.init_delay;
        self.timer = Some(now + self.random_between(lo, hi));
    }

    fn enter_init_reboot(&mut self, now: Time, lease: Lease) {
        self.state = State::InitReboot;
        self.hint = Some(lease.ip());
        self.lease = Some(lease);
        self.offer = None;
        self.attempts = 0;
        self.started_at = now;
        self.request_sent_at = None;
        self.timer = Some(now);
    }

    fn handle_timeout_lapse_only(&mut self, now: Time) {
        if self.state.holds_lease() && self.lease.as_ref().is_some_and(|l| l.is_expired(now)) {
            self.handle_timeout(now);
        }
    }

    fn on_offer(&mut self, now: Time, msg: &Message) {
        let Some(server_id) = msg.options.server_id else {
            return;
        };
        let y = msg.yiaddr;
        if y.is_unspecified() || y.is_broadcast() || y.is_multicast() || y.is_loopback() {
            return;
        }
        self.offer = Some(Offer {
            yiaddr: y,
            server_id,
            lease_secs: msg.options.lease_time,
        });
        self.state = State::Requesting;
        self.attempts = 0;
        self.request_sent_at = None;
        self.send_selecting_request(now);
    }

    fn on_requesting_ack(&mut self, now: Time, msg: &Message) {
        let Some(offer) = self.offer.clone() else {
            return;
        };
        if msg.yiaddr != offer.yiaddr || msg.options.server_id.is_some_and(|s| s != offer.server_id)
        {
            return;
        }
        let requested_at = self.request_sent_at.unwrap_or(now);
        let fuzz = self.fuzz();
        let Some(lease) = Lease::from_ack(
            msg,
            requested_at,
            offer.lease_secs,
            Some(offer.server_id),
            &self.config.client_id,
            self.config.chaddr,
            fuzz,
        ) else {
            return;
        };
        self.offer = None;
        self.enter_bound(now, lease.clone());
        self.emit_event(Event::Bound(lease));
    }

    fn on_reboot_ack(&mut self, now: Time, msg: &Message) {
        let Some(old) = self.lease.clone() else {
            return;
        };
        if msg.yiaddr != old.ip() {
            return;
        }
        let requested_at = self.request_sent_at.unwrap_or(now);
        let fuzz = self.fuzz();
        let Some(lease) = Lease::from_ack(
            msg,
            requested_at,
            None,
            None,
            &self.config.client_id,
            self.config.chaddr,
            fuzz,
        ) else {
            return;
        };
        self.enter_bound(now, lease.clone());
        self.emit_event(Event::Bound(lease));
    }

    fn on_renewal_ack(&mut self, now: Time, msg: &Message) {
        let Some(old) = self.lease.clone() else {
            return;
        };
        let requested_at = self.request_sent_at.unwrap_or(now);
        let fuzz = self.fuzz();
        // A renewal ACK without 54 comes from the server we unicast to.
        let fallback_server = (self.state == State::Renewing).then_some(old.server_id);
        let Some(lease) = Lease::from_ack(
            msg,
            requested_at,
            None,
            fallback_server,
            &self.config.client_id,
            self.config.chaddr,
            fuzz,
        ) else {
            return;
        };
        self.enter_bound(now, lease.clone());
        if lease.ip() == old.ip() {
            self.emit_event(Event::Renewed(lease));
        } else {
            self.emit_event(Event::Drop {
                address: old.ip(),
                reason: DropReason::Replaced,
            });
            self.emit_event(Event::Bound(lease));
        }
    }

    fn on_nak(&mut self, now: Time, msg: &Message, held: Option<Ipv4Addr>) {
        if let Some(address) = held {
            self.emit_event(Event::Drop {
                address,
                reason: DropReason::Nak,
            });
        }
        self.emit_event(Event::Nak {
            server: msg.options.server_id,
            message: msg.options.message.clone(),
        });
        self.enter_init(now, None);
    }

    fn enter_bound(&mut self, _now: Time, lease: Lease) {
        self.state = State::Bound;
        self.timer = (!lease.is_infinite()).then_some(lease.renew_at);
        self.lease = Some(lease);
        self.attempts = 0;
        self.request_sent_at = None;
        self.hint = None;
    }

    /// A new exchange in RENEWING or REBINDING: new xid, `secs` from now.
    fn begin_renewal(&mut self, now: Time) {
        self.xid = self.rng.random();
        self.started_at = now;
        self.request_sent_at = None;
        self.attempts = 0;
    }

    // ---- senders ----

    fn send_discover(&mut self, now: Time, fresh: bool) {
        if fresh {
            self.xid = self.rng.random();
            self.started_at = now;
            self.attempts = 0;
            self.state = State::Selecting;
        }
        let mut m = self.base_message(MessageType::Discover, self.xid, now);
        m.options.requested_ip = self.hint;
        m.broadcast = self.config.broadcast_flag;
        self.emit_transmit(m, Destination::Broadcast);
        let wait = self.backoff(self.attempts);
        self.attempts = self.attempts.saturating_add(1);
        self.timer = Some(now + wait);
    }

    fn send_selecting_request(&mut self, now: Time) {
        let Some(offer) = self.offer.clone() else {
            return;
        };
        let mut m = self.base_message(MessageType::Request, self.xid, now);
        m.broadcast = self.config.broadcast_flag;
        m.options.requested_ip = Some(offer.yiaddr);
        m.options.server_id = Some(offer.server_id);
        self.request_sent_at.get_or_insert(now);
        self.emit_transmit(m, Destination::Broadcast);
        let wait = self.backoff(self.attempts);
        self.attempts = self.attempts.saturating_add(1);
        self.timer = Some(now + wait);
    }

    fn send_reboot_request(&mut self, now: Time, fresh: bool) {
        let Some(lease) = self.lease.clone() else {
            self.enter_init(now, None);
            return;
        };
        if fresh {
            self.xid = self.rng.random();
            self.started_at = now;
            self.attempts = 0;
            self.state = State::Rebooting;
            self.request_sent_at = None;
        }
        let mut m = self.base_message(MessageType::Request, self.xid, now);
        m.broadcast = self.config.broadcast_flag;
        m.options.requested_ip = Some(lease.ip());
        self.request_sent_at.get_or_insert(now);
        self.emit_transmit(m, Destination::Broadcast);
        let wait = self.backoff(self.attempts);
        self.attempts = self.attempts.saturating_add(1);
        self.timer = Some(now + wait);
    }

    /// A REQUEST in RENEWING (unicast to the server) or REBINDING (broadcast), ciaddr set, no
    /// options 50 and 54. The next try comes after half the time left to T2 (RENEWING) or
    /// expiry (REBINDING), at least `renew_retransmit_min`, and never later than that boundary.
    fn send_renewal(&mut self, now: Time) {
        let Some(lease) = self.lease.clone() else {
            return;
        };
        let mut m = self.base_message(MessageType::Request, self.xid, now);
        m.ciaddr = lease.ip();
        self.request_sent_at.get_or_insert(now);
        let (destination, boundary) = if self.state == State::Renewing {
            (
                Destination::Unicast {
                    from: lease.ip(),
                    to: lease.server_id,
                },
                lease.rebind_at,
            )
        } else {
            (
                Destination::BroadcastFrom { from: lease.ip() },
                lease.expires_at().unwrap_or(Time::from_millis(u64::MAX)),
            )
        };
        self.emit_transmit(m, destination);
        self.attempts = self.attempts.saturating_add(1);
        let half = (boundary - now) / 2;
        let wait = half.max(self.config.renew_retransmit_min);
        self.timer = Some(
            (now + wait)
                .min(boundary)
                .max(now + Duration::from_millis(1)),
        );
    }

    /// The fields every client message shares: chaddr, xid, secs, client id, and (except for
    /// RELEASE and DECLINE, which clear them) the parameter request list, host name and
    /// requested lease time.
    fn base_message(&mut self, t: MessageType, xid: u32, now: Time) -> Message {
        let mut m = Message::new_request(t, xid, self.config.chaddr);
        m.secs = u16::try_from((now - self.started_at).as_secs()).unwrap_or(u16::MAX);
        m.options.client_id = Some(self.config.client_id.clone());
        m.options.parameter_request_list = self.config.parameter_request_list.clone();
        m.options.hostname = self.config.hostname.clone();
        m.options.lease_time = self.config.requested_lease_secs;
        m
    }

    fn emit_transmit(&mut self, message: Message, destination: Destination) {
        self.out.push_back(Output::Transmit(Transmit {
            message,
            destination,
        }));
    }

    fn emit_event(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }

    // ---- randomness ----

    fn random_between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let (lo, hi) = (lo.as_millis() as u64, hi.as_millis() as u64);
        if hi <= lo {
            return Duration::from_millis(lo);
        }
        Duration::from_millis(self.rng.random_range(lo..=hi))
    }

    fn backoff(&mut self, attempt: u32) -> Duration {
        let base = self.config.backoff.base(attempt).as_millis() as i64;
        let j = self.config.backoff.jitter.as_millis() as i64;
        let delta = if j > 0 {
            self.rng.random_range(-j..=j)
        } else {
            0
        };
        Duration::from_millis((base + delta).max(100) as u64)
    }

    fn fuzz(&mut self) -> Fuzz {
        let f = self.config.timer_fuzz.clamp(0.0, 0.5);
        if f <= 0.0 {
            return Fuzz { t1: 0.0, t2: 0.0 };
        }
        Fuzz {
            t1: self.rng.random_range(0.0..=f),
            t2: self.rng.random_range(0.0..=f),
        }
    }
}

#[cfg(test)]
mod tests;
