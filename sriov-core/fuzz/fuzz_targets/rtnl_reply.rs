//! The rtnetlink backend's parsers on arbitrary bytes: a datagram from the kernel split into
//! replies (`rtnl::wire::decode`) and every message in it read as a link (with its VF table),
//! an address or a route; and raw link-message bodies read the same way. Each must return a
//! value or a typed error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netlink_packet_core::Parseable;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::LinkMessage;
use sriov_core::rtnl::{addr, link, route, vf, wire};

fn read(msg: &RouteNetlinkMessage) {
    match msg {
        RouteNetlinkMessage::NewLink(l) => {
            let _ = link::parse(l);
            let _ = vf::parse_table(&l.attributes);
        }
        RouteNetlinkMessage::NewAddress(a) => {
            let _ = addr::parse(a);
        }
        RouteNetlinkMessage::NewRoute(r) => {
            let _ = route::parse(r);
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
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
    } else if let Ok(l) = LinkMessage::parse(bytes) {
        // an ifinfomsg and its attributes, as in RTM_NEWLINK
        let _ = link::parse(&l);
        if let Ok(table) = vf::parse_table(&l.attributes) {
            // what decodes re-encodes and decodes to the same table
            let again = vf::table_attribute(&table);
            assert_eq!(
                vf::parse_table(std::slice::from_ref(&again)).ok(),
                Some(table)
            );
        }
    }
});
