//! The reply parser on arbitrary bytes: a datagram from the kernel split into replies
//! (`wire::decode`) and every message in it read as a link, an address or a route; and raw
//! link, address and route message bodies read the same way. Each must return a value or a
//! typed error, never panic; what parses as a route re-encodes to the same route.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtnl_ns::netlink_packet_core::Parseable;
use rtnl_ns::netlink_packet_route::RouteNetlinkMessage;
use rtnl_ns::netlink_packet_route::address::AddressMessage;
use rtnl_ns::netlink_packet_route::link::LinkMessage;
use rtnl_ns::netlink_packet_route::route::{RouteMessage, RouteProtocol};
use rtnl_ns::{addr, link, route, wire};

fn read(msg: &RouteNetlinkMessage) {
    match msg {
        RouteNetlinkMessage::NewLink(l) => {
            let _ = link::parse(l);
        }
        RouteNetlinkMessage::NewAddress(a) => {
            let _ = addr::parse(a);
        }
        RouteNetlinkMessage::NewRoute(r) => {
            if let Some(parsed) = route::parse(r) {
                // a route read from the kernel can be sent back (unless its families differ)
                if let Ok(request) = route::replace(&parsed, RouteProtocol::Boot) {
                    let RouteNetlinkMessage::NewRoute(again) = &request.message else {
                        unreachable!("replace builds RTM_NEWROUTE")
                    };
                    assert_eq!(route::parse(again), Some(parsed));
                }
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            // a whole datagram; the sequence number of its first message is the one we wait for
            let seq = bytes
                .get(8..12)
                .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
            if let Ok(replies) = wire::decode(bytes, seq, "fuzz") {
                for r in &replies {
                    if let wire::Reply::Message(m) = r {
                        read(m);
                    }
                }
            }
        }
        // an ifinfomsg, ifaddrmsg or rtmsg and its attributes, as in RTM_NEW*
        1 => {
            if let Ok(l) = LinkMessage::parse(bytes) {
                read(&RouteNetlinkMessage::NewLink(l));
            }
        }
        2 => {
            if let Ok(a) = AddressMessage::parse(bytes) {
                read(&RouteNetlinkMessage::NewAddress(a));
            }
        }
        _ => {
            if let Ok(r) = RouteMessage::parse(bytes) {
                read(&RouteNetlinkMessage::NewRoute(r));
            }
        }
    }
});
