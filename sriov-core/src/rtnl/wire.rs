//! Netlink framing, with no I/O: a request becomes bytes, a datagram from the kernel becomes
//! the [`Reply`]s it holds. The socket layer only moves these bytes.
//!
//! ```
//! use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST};
//! use sriov_core::rtnl::{link, wire};
//!
//! let bytes = wire::encode(link::get_by_name("eth0", false), NLM_F_REQUEST | NLM_F_ACK, 7);
//! assert_eq!(u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize, bytes.len());
//! // a datagram holding the kernel's NLMSG_ERROR answer "ENODEV" to request 7
//! let mut reply = vec![36, 0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0];
//! reply.extend_from_slice(&(-libc::ENODEV).to_le_bytes());
//! reply.extend_from_slice(&bytes[..16]); // the request's header, echoed
//! let replies = wire::decode(&reply, 7, "RTM_GETLINK").unwrap();
//! assert_eq!(replies, vec![wire::Reply::Failed(libc::ENODEV)]);
//! ```

use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;

use super::RtnlError;

/// Length of `struct nlmsghdr`.
pub const HEADER_LEN: usize = 16;

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

/// Frames `msg` as one netlink request with `flags` (`NLM_F_*`) and sequence number `seq`.
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
pub fn decode(datagram: &[u8], seq: u32, request: &'static str) -> Result<Vec<Reply>, RtnlError> {
    let mut out = Vec::new();
    let mut offset = 0;
    while datagram.len().saturating_sub(offset) >= HEADER_LEN {
        let rest = &datagram[offset..];
        let length = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if length < HEADER_LEN || length > rest.len() {
            return Err(RtnlError::BadLength {
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
            .map_err(|source| RtnlError::Decode { request, source })?;
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
    use crate::rtnl::link;
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
        let mut bytes = frame(link::get_by_name("eth0", false), NLM_F_REQUEST, 1);
        bytes[0] = 200;
        assert!(matches!(
            decode(&bytes, 1, "test"),
            Err(RtnlError::BadLength { length: 200, .. })
        ));
        bytes[0] = 4;
        assert!(matches!(
            decode(&bytes, 1, "test"),
            Err(RtnlError::BadLength { length: 4, .. })
        ));
        // trailing bytes shorter than a header are ignored
        assert_eq!(decode(&[1, 2, 3], 1, "test").unwrap(), vec![]);
    }

    #[test]
    fn requests_round_trip() {
        let req = link::dump();
        let bytes = frame(req.clone(), NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK, 11);
        assert_eq!(
            decode(&bytes, 11, "test").unwrap(),
            vec![Reply::Message(req)]
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
    use std::net::IpAddr;

    use netlink_packet_route::RouteNetlinkMessage;

    use super::{Reply, decode};
    use crate::IpPrefix;
    use crate::rtnl::{addr, link, route, vf};

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

    fn prefix(s: &str) -> IpPrefix {
        let (a, l) = s.split_once('/').unwrap();
        IpPrefix {
            addr: a.parse::<IpAddr>().unwrap(),
            prefix_len: l.parse().unwrap(),
        }
    }

    #[test]
    fn link_dump() {
        let msgs = messages(include_bytes!("testdata/kernel-6.18-link-dump.bin"));
        let links: Vec<_> = msgs
            .iter()
            .map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => {
                    assert_eq!(vf::parse_table(&l.attributes).unwrap(), vec![]);
                    link::parse(l)
                }
                other => panic!("not a link: {other:?}"),
            })
            .collect();
        assert_eq!(links.len(), 2);
        let (lo, va) = (&links[0], &links[1]);
        assert_eq!((lo.index, lo.name.as_str(), lo.mtu), (1, "lo", 65536));
        assert_eq!(lo.mac, Some(crate::MacAddress::ZERO));
        assert!(lo.admin_up && lo.oper_up);
        assert_eq!((va.index, va.name.as_str(), va.mtu), (2, "va", 1500));
        assert_eq!(va.mac.unwrap().to_string(), "aa:af:60:51:5a:72");
        assert!(va.admin_up && va.oper_up);
    }

    #[test]
    fn address_dump() {
        let msgs = messages(include_bytes!("testdata/kernel-6.18-addr-dump.bin"));
        let mut got: Vec<(u32, IpPrefix)> = msgs
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => addr::parse(a),
                _ => None,
            })
            .collect();
        got.sort();
        let mut want = vec![
            (1, prefix("127.0.0.1/8")),
            (1, prefix("::1/128")),
            (2, prefix("10.1.0.1/24")),
            (2, prefix("fe80::a8af:60ff:fe51:5a72/64")),
        ];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn route_dump() {
        let msgs = messages(include_bytes!("testdata/kernel-6.18-route-dump.bin"));
        let main: Vec<route::IndexedRoute> = msgs
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r) => route::parse(r),
                _ => None,
            })
            .collect();
        // the local-table and multicast entries of the dump are not main-table unicast routes
        assert!(msgs.len() > main.len(), "{msgs:?}");
        assert!(main.contains(&route::IndexedRoute {
            dst: Some(prefix("10.1.0.0/24")),
            gateway: None,
            oif: 2
        }));
        assert!(main.iter().all(|r| r.oif == 2), "{main:?}");
    }
}
