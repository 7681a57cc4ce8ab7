//! The VF-table decoder on arbitrary bytes: a datagram from the kernel split into replies by
//! `rtnl_ns::wire::decode` and each link's VF table read (`rtnl::vf::parse_table`), and raw
//! link-message bodies read the same way. Each must return a table or a typed error, never
//! panic; a table that decodes re-encodes and decodes to itself. (The rest of the reply parser,
//! links, addresses and routes, is fuzzed by `rtnl-ns/fuzz`.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtnl_ns::netlink_packet_core::Parseable;
use rtnl_ns::netlink_packet_route::RouteNetlinkMessage;
use rtnl_ns::netlink_packet_route::link::{LinkAttribute, LinkMessage};
use rtnl_ns::wire;
use sriov_core::rtnl::vf;

fn read(attrs: &[LinkAttribute]) {
    if let Ok(table) = vf::parse_table(attrs) {
        let again = vf::table_attribute(&table);
        assert_eq!(
            vf::parse_table(std::slice::from_ref(&again)).ok(),
            Some(table)
        );
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
                if let wire::Reply::Message(RouteNetlinkMessage::NewLink(l)) = r {
                    read(&l.attributes);
                }
            }
        }
    } else if let Ok(l) = LinkMessage::parse(bytes) {
        // an ifinfomsg and its attributes, as in RTM_NEWLINK
        read(&l.attributes);
    }
});
