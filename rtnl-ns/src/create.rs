//! Link creation and deletion requests (`RTM_NEWLINK`, `RTM_DELLINK`) and bridge membership,
//! built with no I/O: veth pairs and bridges, as test rigs and a simulated host's fabric make
//! them.
//!
//! ```
//! use netlink_packet_route::RouteNetlinkMessage;
//! let request = rtnl_ns::create::bridge("br111");
//! let RouteNetlinkMessage::NewLink(msg) = &request.message else { unreachable!() };
//! assert_eq!(msg.attributes.len(), 2);
//! ```

use std::os::fd::RawFd;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkInfo as NlLinkInfo, LinkMessage,
};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};

use crate::wire::Request;

/// `ip link add <name> [address <mac>] type veth peer name <peer> netns <fd>`: the first end
/// in the namespace the request is sent in, the peer in the namespace `peer_netns` refers to.
pub fn veth(name: &str, mac: Option<[u8; 6]>, peer: &str, peer_netns: RawFd) -> Request {
    let mut peer_msg = LinkMessage::default();
    peer_msg
        .attributes
        .push(LinkAttribute::IfName(peer.to_string()));
    peer_msg.attributes.push(LinkAttribute::NetNsFd(peer_netns));
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    if let Some(mac) = mac {
        msg.attributes.push(LinkAttribute::Address(mac.to_vec()));
    }
    msg.attributes.push(LinkAttribute::LinkInfo(vec![
        NlLinkInfo::Kind(InfoKind::Veth),
        NlLinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_msg))),
    ]));
    Request::acked(
        RouteNetlinkMessage::NewLink(msg),
        NLM_F_CREATE | NLM_F_EXCL,
        "RTM_NEWLINK veth",
    )
}

/// `ip link add <name> type bridge`.
pub fn bridge(name: &str) -> Request {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    msg.attributes
        .push(LinkAttribute::LinkInfo(vec![NlLinkInfo::Kind(
            InfoKind::Bridge,
        )]));
    Request::acked(
        RouteNetlinkMessage::NewLink(msg),
        NLM_F_CREATE | NLM_F_EXCL,
        "RTM_NEWLINK bridge",
    )
}

/// `ip link set <index> master <controller>` (`nomaster` with 0).
pub fn set_controller(index: u32, controller: u32) -> Request {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.attributes.push(LinkAttribute::Controller(controller));
    Request::acked(RouteNetlinkMessage::SetLink(msg), 0, "RTM_SETLINK master")
}

/// `ip link del <index>`.
pub fn delete(index: u32) -> Request {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    Request::acked(RouteNetlinkMessage::DelLink(msg), 0, "RTM_DELLINK")
}
