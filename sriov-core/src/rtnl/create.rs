//! Link creation and deletion messages (`RTM_NEWLINK`, `RTM_DELLINK`), built with no I/O: veth
//! pairs and bridges, as test rigs and the simulated host's fabric make them. These are not
//! part of [`crate::NetOps`] (a CNI plugin moves and configures links, it never makes them).
//!
//! ```
//! use sriov_core::rtnl::create;
//! use netlink_packet_route::RouteNetlinkMessage;
//! let RouteNetlinkMessage::NewLink(msg) = create::bridge("br111") else { unreachable!() };
//! assert_eq!(msg.attributes.len(), 2);
//! ```

use std::os::fd::RawFd;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkInfo as NlLinkInfo, LinkMessage,
};

use crate::MacAddress;

/// `ip link add <name> [address <mac>] type veth peer name <peer> netns <fd>`: the first end
/// in the namespace the request is sent in, the peer in the namespace `peer_netns` refers to.
pub fn veth(
    name: &str,
    mac: Option<MacAddress>,
    peer: &str,
    peer_netns: RawFd,
) -> RouteNetlinkMessage {
    let mut peer_msg = LinkMessage::default();
    peer_msg
        .attributes
        .push(LinkAttribute::IfName(peer.to_string()));
    peer_msg.attributes.push(LinkAttribute::NetNsFd(peer_netns));
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    if let Some(mac) = mac {
        msg.attributes
            .push(LinkAttribute::Address(mac.octets().to_vec()));
    }
    msg.attributes.push(LinkAttribute::LinkInfo(vec![
        NlLinkInfo::Kind(InfoKind::Veth),
        NlLinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_msg))),
    ]));
    RouteNetlinkMessage::NewLink(msg)
}

/// `ip link add <name> type bridge`.
pub fn bridge(name: &str) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    msg.attributes
        .push(LinkAttribute::LinkInfo(vec![NlLinkInfo::Kind(
            InfoKind::Bridge,
        )]));
    RouteNetlinkMessage::NewLink(msg)
}

/// `ip link set <index> master <controller>` (`nomaster` with 0).
pub fn set_controller(index: u32, controller: u32) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.attributes.push(LinkAttribute::Controller(controller));
    RouteNetlinkMessage::SetLink(msg)
}

/// `ip link del <index>`.
pub fn delete(index: u32) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    RouteNetlinkMessage::DelLink(msg)
}
