//! Netlink framing, with no I/O: a [`Request`] becomes bytes, a datagram from the kernel becomes
//! the [`Reply`]s it holds. The socket layer only moves these bytes.
//!
//! ```
//! use rtnl_ns::{link, wire};
//!
//! let request = link::get_by_name("eth0", link::LinkDetail::Plain).unwrap();
//! let bytes = request.encode(7);
//! assert_eq!(u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize, bytes.len());
//! // a datagram holding the kernel's NLMSG_ERROR answer "ENODEV" to request 7
//! let mut reply = vec![36, 0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0];
//! reply.extend_from_slice(&(-libc::ENODEV).to_le_bytes());
//! reply.extend_from_slice(&bytes[..16]); // the request's header, echoed
//! let replies = wire::decode(&reply, 7, request.name).unwrap();
//! assert_eq!(replies, vec![wire::Reply::Failed(libc::ENODEV)]);
//! ```

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;

use crate::Error;

/// Length of `struct nlmsghdr`.
pub const HEADER_LEN: usize = 16;

/// One rtnetlink request: the message, its `NLM_F_*` flags and its name for errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The message.
    pub message: RouteNetlinkMessage,
    /// `NLM_F_*` flags, `NLM_F_REQUEST` included.
    pub flags: u16,
    /// What errors call it (`RTM_NEWADDR`, `RTM_GETLINK dump`).
    pub name: &'static str,
}

impl Request {
    /// A request the kernel acknowledges: `NLM_F_REQUEST | NLM_F_ACK | extra` (`extra` adds
    /// `NLM_F_CREATE`, `NLM_F_EXCL`, `NLM_F_REPLACE`...).
    pub fn acked(message: RouteNetlinkMessage, extra: u16, name: &'static str) -> Request {
        Request {
            message,
            flags: NLM_F_REQUEST | NLM_F_ACK | extra,
            name,
        }
    }

    /// A dump of every object of a kind: `NLM_F_REQUEST | NLM_F_DUMP`.
    pub fn dump(message: RouteNetlinkMessage, name: &'static str) -> Request {
        Request {
            message,
            flags: NLM_F_REQUEST | NLM_F_DUMP,
            name,
        }
    }

    /// True for a dump, whose answer ends with `NLMSG_DONE` rather than an acknowledgement.
    pub fn is_dump(&self) -> bool {
        self.flags & NLM_F_DUMP == NLM_F_DUMP
    }

    /// True when the kernel acknowledges the request (`NLM_F_ACK`).
    pub fn is_acked(&self) -> bool {
        self.flags & NLM_F_ACK == NLM_F_ACK
    }

    /// The request's bytes with sequence number `seq` (port id 0: the kernel's).
    pub fn encode(&self, seq: u32) -> Vec<u8> {
        encode(self.message.clone(), self.flags, seq)
    }
}

/// One message of a reply to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// A message the kernel sent (one per object in a dump).
    Message(RouteNetlinkMessage),
    /// The end of a dump.
    Done,
    /// The request succeeded (`NLMSG_ERROR` with code 0).
    Ack,
    /// The request failed with this (positive) errno.
    Failed(i32),
}

/// Frames `msg` as one netlink message with `flags` (`NLM_F_*`) and sequence number `seq`.
pub fn encode(msg: RouteNetlinkMessage, flags: u16, seq: u32) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
    packet.finalize();
    let mut buf = vec![0u8; packet.buffer_len()];
    packet.serialize(&mut buf);
    buf
}

/// Splits one datagram into the replies to request `seq`; messages with another sequence
/// number (stale answers to an earlier request) are skipped. `request` names the request in
/// errors. Never panics, whatever the bytes.
pub fn decode(datagram: &[u8], seq: u32, request: &'static str) -> Result<Vec<Reply>, Error> {
    let mut out = Vec::new();
    let mut offset = 0;
    while datagram.len().saturating_sub(offset) >= HEADER_LEN {
        let rest = &datagram[offset..];
        let length = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if length < HEADER_LEN || length > rest.len() {
            return Err(Error::BadLength {
                request,
                offset,
                length,
            });
        }
        let msg_seq = u32::from_le_bytes([rest[8], rest[9], rest[10], rest[11]]);
        let chunk = &rest[..length];
        offset += (length + 3) & !3;
        if msg_seq != seq {
            continue;
        }
        let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(chunk)
            .map_err(|source| Error::Decode { request, source })?;
        out.push(match msg.payload {
            NetlinkPayload::InnerMessage(m) => Reply::Message(m),
            NetlinkPayload::Done(d) if d.code < 0 => Reply::Failed(d.code.saturating_neg()),
            NetlinkPayload::Done(_) => Reply::Done,
            NetlinkPayload::Error(e) => match e.raw_code() {
                0 => Reply::Ack,
                code => Reply::Failed(code.saturating_abs()),
            },
            // NOOP and OVERRUN carry nothing for us
            _ => continue,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link;
    use netlink_packet_core::{NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTIPART, NLM_F_REQUEST};
    use netlink_packet_route::link::{LinkAttribute, LinkMessage};
    use proptest::prelude::*;

    fn frame(msg: RouteNetlinkMessage, flags: u16, seq: u32) -> Vec<u8> {
        encode(msg, flags, seq)
    }

    #[test]
    fn a_dump_reply_splits_into_messages_and_done() {
        let mut a = LinkMessage::default();
        a.header.index = 1;
        a.attributes.push(LinkAttribute::IfName("lo".into()));
        let mut b = LinkMessage::default();
        b.header.index = 2;
        b.attributes.push(LinkAttribute::IfName("eth0".into()));
        let mut datagram = frame(RouteNetlinkMessage::NewLink(a.clone()), NLM_F_MULTIPART, 9);
        datagram.extend(frame(
            RouteNetlinkMessage::NewLink(b.clone()),
            NLM_F_MULTIPART,
            9,
        ));
        // NLMSG_DONE with code 0, as the kernel ends a dump
        datagram.extend([20, 0, 0, 0, 3, 0, 2, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let replies = decode(&datagram, 9, "test").unwrap();
        assert_eq!(
            replies,
            vec![
                Reply::Message(RouteNetlinkMessage::NewLink(a)),
                Reply::Message(RouteNetlinkMessage::NewLink(b)),
                Reply::Done
            ]
        );
    }

    #[test]
    fn other_sequence_numbers_are_skipped_and_errors_keep_their_errno() {
        let mut datagram = frame(RouteNetlinkMessage::NewLink(LinkMessage::default()), 0, 3);
        // NLMSG_ERROR -EEXIST for seq 4, then an ACK for seq 4
        for code in [-libc::EEXIST, 0] {
            datagram.extend([36, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0]);
            datagram.extend(code.to_le_bytes());
            datagram.extend([0u8; 16]);
        }
        assert_eq!(
            decode(&datagram, 4, "test").unwrap(),
            vec![Reply::Failed(libc::EEXIST), Reply::Ack]
        );
        // a dump that fails ends with a negative NLMSG_DONE
        let done = [
            20, 0, 0, 0, 3, 0, 2, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0xea, 0xff, 0xff, 0xff,
        ];
        assert_eq!(decode(&done, 5, "test").unwrap(), vec![Reply::Failed(22)]);
    }

    #[test]
    fn impossible_lengths_are_errors() {
        let request = link::get_by_name("eth0", link::LinkDetail::Plain).unwrap();
        let mut bytes = frame(request.message, NLM_F_REQUEST, 1);
        bytes[0] = 200;
        assert!(matches!(
            decode(&bytes, 1, "test"),
            Err(Error::BadLength { length: 200, .. })
        ));
        bytes[0] = 4;
        assert!(matches!(
            decode(&bytes, 1, "test"),
            Err(Error::BadLength { length: 4, .. })
        ));
        // trailing bytes shorter than a header are ignored
        assert_eq!(decode(&[1, 2, 3], 1, "test").unwrap(), vec![]);
    }

    #[test]
    fn requests_round_trip() {
        let req = link::dump().message;
        let bytes = frame(req.clone(), NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK, 11);
        assert_eq!(
            decode(&bytes, 11, "test").unwrap(),
            vec![Reply::Message(req)]
        );
    }

    #[test]
    fn request_kinds_carry_their_flags() {
        let dump = link::dump();
        assert!(dump.is_dump() && !dump.is_acked());
        assert_eq!(dump.flags, NLM_F_REQUEST | NLM_F_DUMP);
        let get = link::get_by_name("lo", link::LinkDetail::Plain).unwrap();
        assert!(!get.is_dump() && get.is_acked());
        // the flags travel in bytes 6..8 of the header
        assert_eq!(
            u16::from_le_bytes([get.encode(1)[6], get.encode(1)[7]]),
            NLM_F_REQUEST | NLM_F_ACK
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512), seq: u32) {
            let _ = decode(&bytes, seq, "fuzz");
        }

        #[test]
        fn decode_never_panics_on_framed_garbage(body in proptest::collection::vec(any::<u8>(), 0..256), kind in 0u16..120) {
            let len = (HEADER_LEN + body.len()) as u32;
            let mut bytes = len.to_le_bytes().to_vec();
            bytes.extend(kind.to_le_bytes());
            bytes.extend([0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
            bytes.extend(&body);
            let _ = decode(&bytes, 1, "fuzz");
        }
    }
}

/// Replies captured from a real kernel, decoded by the whole pure layer.
///
/// The `testdata/kernel-6.18-*.bin` files are datagrams Linux 6.18 sent to iproute2 6.1, captured
/// with `strace -e trace=recvmsg -e read=3` of `ip link show`, `ip addr show` and
/// `ip route show table all`, run inside a fresh namespace holding `lo` (up) and a veth end `va`
/// (up, carrier from its peer, 10.1.0.1/24, MAC aa:af:60:51:5a:72 and its EUI-64 link-local
/// address), one datagram per dump (the `NLMSG_DONE` came in a datagram of its own).
#[cfg(test)]
mod captured {
    use netlink_packet_route::RouteNetlinkMessage;

    use super::{Reply, decode};
    use crate::addr::{self, Lifetime};
    use crate::{Prefix, Route, link, route};

    fn messages(bytes: &[u8]) -> Vec<RouteNetlinkMessage> {
        let seq = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        decode(bytes, seq, "captured")
            .unwrap()
            .into_iter()
            .map(|r| match r {
                Reply::Message(m) => m,
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    fn prefix(s: &str) -> Prefix {
        let (a, l) = s.split_once('/').unwrap();
        Prefix::new(a.parse::<std::net::IpAddr>().unwrap(), l.parse().unwrap())
    }

    #[test]
    fn link_dump() {
        let msgs = messages(include_bytes!("testdata/kernel-6.18-link-dump.bin"));
        let links: Vec<_> = msgs
            .iter()
            .map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => link::parse(l),
                other => panic!("not a link: {other:?}"),
            })
            .collect();
        assert_eq!(links.len(), 2);
        let (lo, va) = (&links[0], &links[1]);
        assert_eq!((lo.index, lo.name.as_str(), lo.mtu), (1, "lo", 65536));
        assert_eq!(lo.mac, Some([0; 6]));
        assert!(lo.admin_up && lo.oper_up);
        assert_eq!((va.index, va.name.as_str(), va.mtu), (2, "va", 1500));
        assert_eq!(va.mac, Some([0xaa, 0xaf, 0x60, 0x51, 0x5a, 0x72]));
        assert!(va.admin_up && va.oper_up);
    }

    #[test]
    fn address_dump() {
        let msgs = messages(include_bytes!("testdata/kernel-6.18-addr-dump.bin"));
        let got: Vec<addr::Address> = msgs
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => addr::parse(a),
                _ => None,
            })
            .collect();
        let mut pairs: Vec<(u32, Prefix)> = got.iter().map(|a| (a.index, a.prefix)).collect();
        pairs.sort();
        let mut want = vec![
            (1, prefix("127.0.0.1/8")),
            (1, prefix("::1/128")),
            (2, prefix("10.1.0.1/24")),
            (2, prefix("fe80::a8af:60ff:fe51:5a72/64")),
        ];
        want.sort();
        assert_eq!(pairs, want);
        // every address of the capture was added without a lifetime
        assert!(got.iter().all(|a| a.valid == Lifetime::Forever), "{got:?}");
    }

    #[test]
    fn route_dump() {
        let msgs = messages(include_bytes!("testdata/kernel-6.18-route-dump.bin"));
        let main: Vec<Route> = msgs
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r) => route::parse(r),
                _ => None,
            })
            .collect();
        // the local-table and multicast entries of the dump are not main-table unicast routes
        assert!(msgs.len() > main.len(), "{msgs:?}");
        assert!(main.contains(&Route {
            dst: Some(prefix("10.1.0.0/24")),
            gateway: None,
            oif: 2
        }));
        assert!(main.iter().all(|r| r.oif == 2), "{main:?}");
    }
}
