//! The server's protocol logic, sans I/O: a decoded client message in, the reply and where it
//! goes out (RFC 2131 4.1 and 4.3). Time is passed in.
//!
//! - The subnet is chosen by `giaddr` when a relay forwarded the message, else by the address
//!   of the interface the server listens on.
//! - Replies go to the relay (`giaddr`, port 67), else to `ciaddr` (port 68), else broadcast
//!   when the client set the broadcast flag (and for every NAK), else unicast to `yiaddr` at
//!   `chaddr` ([`Destination::Client`]: the I/O layer adds the neighbour entry first).
//! - Option 61 is echoed (RFC 6842); 1, 3, 6, 15, 28, 51, 54, 58 and 59 are sent.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use dhcp_codec::{HwAddr, Message, MessageType};
//! use dhcp_server::{Destination, Engine, ServerConfig, Timers};
//!
//! let conf = ServerConfig::parse(
//!     "subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; option routers 10.0.0.1; }",
//!     "doc.conf",
//! )
//! .unwrap();
//! let mut server = Engine::new(&conf, Ipv4Addr::new(10, 0, 0, 1), Timers::default()).unwrap();
//! let discover = Message::new_request(MessageType::Discover, 1, HwAddr::mac([2, 0, 0, 0, 0, 1]));
//! let reply = server.handle(&discover, dhcp_codec::Time::from_secs(1_000)).unwrap();
//! assert_eq!(reply.message.message_type, MessageType::Offer);
//! assert_eq!(reply.message.yiaddr, Ipv4Addr::new(10, 0, 0, 10));
//! assert_eq!(reply.message.options.routers, vec![Ipv4Addr::new(10, 0, 0, 1)]);
//! assert!(matches!(reply.destination, Destination::Client { mac: [2, 0, 0, 0, 0, 1], .. }));
//! ```

use std::net::{Ipv4Addr, SocketAddrV4};

use crate::alloc::{Allocator, ClientInfo, Grant, RequestKind, RequestOutcome, Timers};
use crate::config::ServerConfig;
use crate::error::Error;
use crate::key::ClientKey;
use dhcp_codec::Time;
use dhcp_codec::{CLIENT_PORT, Message, MessageType, Op, SERVER_PORT};

/// Where a reply is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// To a relay agent (`giaddr`, port 67) or a client's `ciaddr` (port 68).
    Unicast(SocketAddrV4),
    /// To 255.255.255.255, port 68, on the server's interface.
    Broadcast,
    /// To a client that has no address yet: `yiaddr`, port 68, at its hardware address `mac`
    /// (RFC 2131 4.1). The client answers no ARP in that state, so the sender must put the
    /// neighbour entry in place first, or broadcast.
    Client {
        /// `yiaddr`, port 68.
        addr: SocketAddrV4,
        /// `chaddr`.
        mac: [u8; 6],
    },
}

/// A reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The message.
    pub message: Message,
    /// Where it goes.
    pub destination: Destination,
}

/// Counters of what the engine did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// DHCPOFFERs produced.
    pub offers: u64,
    /// DHCPACKs produced.
    pub acks: u64,
    /// DHCPNAKs produced.
    pub naks: u64,
    /// DHCPRELEASEs that freed a lease.
    pub releases: u64,
    /// DHCPDECLINEs that took an address out of use.
    pub declines: u64,
    /// Messages that changed nothing and got no answer (not for us, malformed for their type,
    /// pool exhausted, a RELEASE or DECLINE of an address the client does not hold).
    pub dropped: u64,
}

/// The server's protocol logic over an [`Allocator`]. See the [module docs](self).
#[derive(Debug)]
pub struct Engine {
    alloc: Allocator,
    server_id: Ipv4Addr,
    stats: Stats,
}

impl Engine {
    /// A server answering as `server_id` (the address of its interface, which must be on a
    /// configured subnet).
    pub fn new(config: &ServerConfig, server_id: Ipv4Addr, timers: Timers) -> Result<Self, Error> {
        let alloc = Allocator::new(config, timers);
        if alloc.subnet_for_link(server_id).is_none() {
            return Err(Error::NoSubnet { addr: server_id });
        }
        Ok(Engine {
            alloc,
            server_id,
            stats: Stats::default(),
        })
    }

    /// The server identifier (option 54) this engine answers with.
    pub fn server_id(&self) -> Ipv4Addr {
        self.server_id
    }

    /// The allocator.
    pub fn allocator(&self) -> &Allocator {
        &self.alloc
    }

    /// The allocator, mutably (to restore leases, take changes, expire).
    pub fn allocator_mut(&mut self) -> &mut Allocator {
        &mut self.alloc
    }

    /// What the engine did so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Answers one message received at `now`. `None`: nothing to send.
    pub fn handle(&mut self, msg: &Message, now: Time) -> Option<Reply> {
        let before = self.stats;
        let reply = self.handle_inner(msg, now);
        let counted =
            self.stats.releases != before.releases || self.stats.declines != before.declines;
        if reply.is_none() && !counted {
            self.stats.dropped += 1;
        }
        reply
    }

    fn handle_inner(&mut self, msg: &Message, now: Time) -> Option<Reply> {
        if msg.op != Op::Request {
            return None;
        }
        let client_id = msg.options.client_id.as_ref().map(|c| c.as_bytes());
        let key = ClientKey::from_message(client_id, msg.htype, msg.chaddr.as_bytes())?;
        let mac = if msg.htype == 1 {
            msg.chaddr.as_mac()
        } else {
            None
        };
        let client = ClientInfo::new(key, mac);
        let link = if msg.giaddr.is_unspecified() {
            self.server_id
        } else {
            msg.giaddr
        };
        let for_us = msg.options.server_id.is_none_or(|s| s == self.server_id);
        match msg.message_type {
            MessageType::Discover => {
                match self.alloc.offer(
                    &client,
                    link,
                    msg.options.requested_ip,
                    msg.options.lease_time,
                    now,
                ) {
                    Ok(grant) => {
                        self.stats.offers += 1;
                        Some(self.grant_reply(msg, MessageType::Offer, &grant))
                    }
                    Err(e) => {
                        tracing::warn!(client = %client.key, %link, "no offer: {e}");
                        None
                    }
                }
            }
            MessageType::Request => {
                let kind = if let Some(sid) = msg.options.server_id {
                    RequestKind::Selecting {
                        addr: msg.options.requested_ip?,
                        server_is_us: sid == self.server_id,
                    }
                } else if !msg.ciaddr.is_unspecified() {
                    RequestKind::Renewing { ciaddr: msg.ciaddr }
                } else {
                    RequestKind::InitReboot {
                        addr: msg.options.requested_ip?,
                    }
                };
                match self
                    .alloc
                    .request(&client, link, kind, msg.options.lease_time, now)
                {
                    RequestOutcome::Ack(grant) => {
                        self.stats.acks += 1;
                        Some(self.grant_reply(msg, MessageType::Ack, &grant))
                    }
                    RequestOutcome::Nak(text) => {
                        self.stats.naks += 1;
                        Some(self.nak(msg, text))
                    }
                    RequestOutcome::Ignore => None,
                }
            }
            MessageType::Decline if for_us => {
                let addr = msg.options.requested_ip?;
                if self.alloc.decline(&client, addr, now) {
                    self.stats.declines += 1;
                    tracing::info!(client = %client.key, %addr, "address declined");
                }
                None
            }
            MessageType::Release if for_us => {
                if self.alloc.release(&client, msg.ciaddr, now) {
                    self.stats.releases += 1;
                }
                None
            }
            MessageType::Inform if !msg.ciaddr.is_unspecified() => {
                let subnet = self.alloc.subnet_for_link(link)?;
                let grant = Grant {
                    addr: msg.ciaddr,
                    lease_secs: 0,
                    ends: now,
                    subnet,
                    host: None,
                };
                let mut reply = self.grant_reply(msg, MessageType::Ack, &grant);
                reply.message.yiaddr = Ipv4Addr::UNSPECIFIED;
                reply.message.options.lease_time = None;
                reply.message.options.renewal_time = None;
                reply.message.options.rebinding_time = None;
                Some(reply)
            }
            _ => None,
        }
    }

    fn destination(&self, msg: &Message, nak: bool, yiaddr: Ipv4Addr) -> Destination {
        if !msg.giaddr.is_unspecified() {
            Destination::Unicast(SocketAddrV4::new(msg.giaddr, SERVER_PORT))
        } else if nak {
            Destination::Broadcast
        } else if !msg.ciaddr.is_unspecified() {
            Destination::Unicast(SocketAddrV4::new(msg.ciaddr, CLIENT_PORT))
        } else if let (false, 1, Some(mac)) = (msg.broadcast, msg.htype, msg.chaddr.as_mac()) {
            Destination::Client {
                addr: SocketAddrV4::new(yiaddr, CLIENT_PORT),
                mac,
            }
        } else {
            Destination::Broadcast
        }
    }

    fn grant_reply(&self, msg: &Message, kind: MessageType, grant: &Grant) -> Reply {
        let mut reply = Message::new_reply(msg, kind);
        reply.yiaddr = grant.addr;
        reply.ciaddr = msg.ciaddr;
        let o = &mut reply.options;
        o.server_id = Some(self.server_id);
        o.client_id = msg.options.client_id.clone();
        if grant.lease_secs > 0 {
            o.lease_time = Some(grant.lease_secs);
            o.renewal_time = Some(grant.lease_secs / 2);
            o.rebinding_time = Some((u64::from(grant.lease_secs) * 7 / 8) as u32);
        }
        let served = self.alloc.options_for(grant);
        o.subnet_mask = served.subnet_mask;
        o.routers = served.routers.unwrap_or_default();
        o.dns_servers = served.domain_name_servers.unwrap_or_default();
        o.domain_name = served.domain_name;
        o.broadcast_addr = served.broadcast_address;
        Reply {
            destination: self.destination(msg, false, grant.addr),
            message: reply,
        }
    }

    fn nak(&self, msg: &Message, text: String) -> Reply {
        let mut reply = Message::new_reply(msg, MessageType::Nak);
        reply.options.server_id = Some(self.server_id);
        reply.options.client_id = msg.options.client_id.clone();
        reply.options.message = Some(text);
        if !msg.giaddr.is_unspecified() {
            reply.broadcast = true;
        }
        Reply {
            destination: self.destination(msg, true, Ipv4Addr::UNSPECIFIED),
            message: reply,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `s` seconds after the epoch of these tests.
    fn t(s: u64) -> Time {
        Time::from_secs(s)
    }

    use dhcp_codec::{ClientId, HwAddr};

    const SID: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    fn engine() -> Engine {
        let conf = ServerConfig::parse(
            "authoritative;\n\
             option domain-name-servers 10.0.0.53;\n\
             subnet 10.0.0.0 netmask 255.255.255.0 {\n\
               range 10.0.0.10 10.0.0.20; option routers 10.0.0.1; default-lease-time 600;\n\
             }\n\
             subnet 10.9.0.0 netmask 255.255.0.0 { range 10.9.1.1 10.9.1.5; option routers 10.9.0.1; }\n",
            "t.conf",
        )
        .unwrap();
        Engine::new(&conf, SID, Timers::default()).unwrap()
    }

    fn msg(kind: MessageType, mac: u8) -> Message {
        let mut m = Message::new_request(kind, 0x42, HwAddr::mac([2, 0, 0, 0, 0, mac]));
        m.options.client_id = Some(ClientId::from_mac([2, 0, 0, 0, 0, mac]));
        m
    }

    #[test]
    fn full_dora_renew_release() {
        let mut e = engine();
        let offer = e
            .handle(&msg(MessageType::Discover, 1), t(0))
            .unwrap()
            .message;
        assert_eq!(offer.options.server_id, Some(SID));
        assert_eq!(offer.options.lease_time, Some(600));
        assert_eq!(offer.options.renewal_time, Some(300));
        assert_eq!(offer.options.rebinding_time, Some(525));
        assert_eq!(offer.options.dns_servers, vec![Ipv4Addr::new(10, 0, 0, 53)]);
        assert_eq!(
            offer.options.subnet_mask,
            Some(Ipv4Addr::new(255, 255, 255, 0))
        );
        assert_eq!(
            offer.options.client_id,
            Some(ClientId::from_mac([2, 0, 0, 0, 0, 1]))
        );
        let mut req = msg(MessageType::Request, 1);
        req.options.server_id = Some(SID);
        req.options.requested_ip = Some(offer.yiaddr);
        let ack = e.handle(&req, t(1)).unwrap();
        assert_eq!(ack.message.message_type, MessageType::Ack);
        assert_eq!(ack.message.yiaddr, offer.yiaddr);
        // renew, unicast from the leased address
        let mut renew = msg(MessageType::Request, 1);
        renew.ciaddr = offer.yiaddr;
        let ack = e.handle(&renew, t(100)).unwrap();
        assert_eq!(ack.message.message_type, MessageType::Ack);
        assert_eq!(
            ack.destination,
            Destination::Unicast(SocketAddrV4::new(offer.yiaddr, 68))
        );
        let mut rel = msg(MessageType::Release, 1);
        rel.ciaddr = offer.yiaddr;
        rel.options.server_id = Some(SID);
        assert!(e.handle(&rel, t(101)).is_none());
        assert_eq!(e.stats().releases, 1);
        assert_eq!(e.stats().dropped, 0);
        // a second RELEASE of the same address changes nothing
        assert!(e.handle(&rel, t(102)).is_none());
        assert_eq!((e.stats().releases, e.stats().dropped), (1, 1));
        assert_eq!(e.allocator().holder_of(offer.yiaddr), None);
    }

    #[test]
    fn relayed_discover_uses_giaddr_subnet_and_answers_relay() {
        let mut e = engine();
        let mut d = msg(MessageType::Discover, 2);
        d.giaddr = Ipv4Addr::new(10, 9, 0, 1);
        d.hops = 1;
        let r = e.handle(&d, t(0)).unwrap();
        assert_eq!(r.message.yiaddr, Ipv4Addr::new(10, 9, 1, 1));
        assert_eq!(r.message.giaddr, d.giaddr);
        assert_eq!(r.message.options.routers, vec![Ipv4Addr::new(10, 9, 0, 1)]);
        assert_eq!(
            r.destination,
            Destination::Unicast(SocketAddrV4::new(d.giaddr, 67))
        );
        // a relay on an unknown network gets nothing
        d.giaddr = Ipv4Addr::new(172, 16, 0, 1);
        assert!(e.handle(&d, t(0)).is_none());
    }

    #[test]
    fn offer_destination_follows_the_broadcast_flag() {
        let mut e = engine();
        let mut d = msg(MessageType::Discover, 7);
        let r = e.handle(&d, t(0)).unwrap();
        assert_eq!(
            r.destination,
            Destination::Client {
                addr: SocketAddrV4::new(r.message.yiaddr, 68),
                mac: [2, 0, 0, 0, 0, 7]
            }
        );
        d.broadcast = true;
        let r = e.handle(&d, t(0)).unwrap();
        assert_eq!(r.destination, Destination::Broadcast);
        assert!(r.message.broadcast);
    }

    #[test]
    fn nak_for_wrong_address_is_broadcast() {
        let mut e = engine();
        let mut r = msg(MessageType::Request, 3);
        r.options.requested_ip = Some(Ipv4Addr::new(192, 168, 1, 5));
        let reply = e.handle(&r, t(0)).unwrap();
        assert_eq!(reply.message.message_type, MessageType::Nak);
        assert_eq!(reply.destination, Destination::Broadcast);
        assert_eq!(reply.message.yiaddr, Ipv4Addr::UNSPECIFIED);
        assert!(reply.message.options.message.is_some());
    }

    #[test]
    fn request_for_other_server_releases_our_offer() {
        let mut e = engine();
        let offer = e
            .handle(&msg(MessageType::Discover, 4), t(0))
            .unwrap()
            .message;
        let mut req = msg(MessageType::Request, 4);
        req.options.server_id = Some(Ipv4Addr::new(10, 0, 0, 2));
        req.options.requested_ip = Some(Ipv4Addr::new(10, 0, 0, 200));
        assert!(e.handle(&req, t(1)).is_none());
        assert_eq!(e.allocator().holder_of(offer.yiaddr), None);
    }

    #[test]
    fn decline_then_new_address() {
        let mut e = engine();
        let offer = e
            .handle(&msg(MessageType::Discover, 5), t(0))
            .unwrap()
            .message;
        let mut req = msg(MessageType::Request, 5);
        req.options.server_id = Some(SID);
        req.options.requested_ip = Some(offer.yiaddr);
        e.handle(&req, t(0)).unwrap();
        let mut dec = msg(MessageType::Decline, 5);
        dec.options.server_id = Some(SID);
        dec.options.requested_ip = Some(offer.yiaddr);
        assert!(e.handle(&dec, t(1)).is_none());
        assert_eq!(e.stats().declines, 1);
        let again = e
            .handle(&msg(MessageType::Discover, 5), t(2))
            .unwrap()
            .message;
        assert_ne!(again.yiaddr, offer.yiaddr);
    }

    #[test]
    fn replies_are_ignored_and_inform_is_answered() {
        let mut e = engine();
        let mut m = msg(MessageType::Offer, 6);
        m.op = Op::Reply;
        assert!(e.handle(&m, t(0)).is_none());
        let mut inf = msg(MessageType::Inform, 6);
        inf.ciaddr = Ipv4Addr::new(10, 0, 0, 99);
        let r = e.handle(&inf, t(0)).unwrap();
        assert_eq!(r.message.message_type, MessageType::Ack);
        assert_eq!(r.message.options.lease_time, None);
        assert_eq!(r.message.options.routers, vec![SID]);
    }
}
