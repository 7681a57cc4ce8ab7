//! Link messages (`RTM_GETLINK`, `RTM_SETLINK`) built and read, with no I/O.
//!
//! ```
//! use sriov_core::rtnl::link::{self, LinkChange};
//! use netlink_packet_route::RouteNetlinkMessage;
//!
//! let RouteNetlinkMessage::SetLink(msg) = link::set(4, &LinkChange::Mtu(9000)) else {
//!     unreachable!()
//! };
//! assert_eq!(msg.header.index, 4);
//! ```

use std::os::fd::RawFd;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkFlags, LinkMessage};

use crate::{LinkInfo, MacAddress};

/// One change to a link, as `ip link set <dev> ...` makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkChange {
    /// `name <new>`.
    Rename(String),
    /// `address <mac>`.
    Mac(MacAddress),
    /// `mtu <n>`.
    Mtu(u32),
    /// `up` / `down`.
    Up(bool),
    /// `netns <fd>`: move the link into the namespace this open file refers to.
    NetnsFd(RawFd),
    /// `vf <n> ...`: the `IFLA_VFINFO_LIST` attribute built by [`super::vf::change`].
    Vf(LinkAttribute),
}

/// `RTM_GETLINK` for the link called `name`; with `vf_table`, asks for its VF table too
/// (`IFLA_EXT_MASK` = `RTEXT_FILTER_VF`, statistics skipped, as `ip link show` does).
pub fn get_by_name(name: &str, vf_table: bool) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    if vf_table {
        msg.attributes.push(LinkAttribute::ExtMask(vec![
            LinkExtentMask::Vf,
            LinkExtentMask::SkipStats,
        ]));
    }
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    RouteNetlinkMessage::GetLink(msg)
}

/// `RTM_GETLINK` dump of every link in the namespace.
pub fn dump() -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    RouteNetlinkMessage::GetLink(msg)
}

/// `RTM_SETLINK` applying `change` to the link with index `index`.
pub fn set(index: u32, change: &LinkChange) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    match change {
        LinkChange::Rename(name) => msg.attributes.push(LinkAttribute::IfName(name.clone())),
        LinkChange::Mac(mac) => msg
            .attributes
            .push(LinkAttribute::Address(mac.octets().to_vec())),
        LinkChange::Mtu(mtu) => msg.attributes.push(LinkAttribute::Mtu(*mtu)),
        LinkChange::Up(up) => {
            msg.header.flags = if *up {
                LinkFlags::Up
            } else {
                LinkFlags::empty()
            };
            msg.header.change_mask = LinkFlags::Up;
        }
        LinkChange::NetnsFd(fd) => msg.attributes.push(LinkAttribute::NetNsFd(*fd)),
        LinkChange::Vf(attr) => msg.attributes.push(attr.clone()),
    }
    RouteNetlinkMessage::SetLink(msg)
}

/// What `ip link show` reports of a link: index, name, Ethernet address (when the link has a
/// 6-byte hardware address; loopback reports `00:00:00:00:00:00` like the kernel), MTU, `IFF_UP`,
/// and operational state as `IFF_RUNNING` (operstate up, or unknown with carrier, such as `lo`).
pub fn parse(msg: &LinkMessage) -> LinkInfo {
    let mut info = LinkInfo {
        index: msg.header.index,
        name: String::new(),
        mac: None,
        mtu: 0,
        admin_up: msg.header.flags.contains(LinkFlags::Up),
        oper_up: msg.header.flags.contains(LinkFlags::Up)
            && msg.header.flags.contains(LinkFlags::Running),
    };
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(name) => info.name.clone_from(name),
            LinkAttribute::Mtu(mtu) => info.mtu = *mtu,
            LinkAttribute::Address(bytes) => {
                info.mac = <[u8; 6]>::try_from(bytes.as_slice()).ok().map(MacAddress)
            }
            _ => {}
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtnl::wire;
    use netlink_packet_core::Emitable;
    use netlink_packet_route::link::LinkLayerType;

    fn emit(msg: &RouteNetlinkMessage) -> Vec<u8> {
        let (RouteNetlinkMessage::SetLink(m) | RouteNetlinkMessage::GetLink(m)) = msg else {
            panic!("not a link message")
        };
        let mut buf = vec![0; m.buffer_len()];
        m.emit(&mut buf);
        buf
    }

    #[test]
    fn up_and_down_touch_only_iff_up() {
        let up = emit(&set(7, &LinkChange::Up(true)));
        // ifinfomsg: family, pad, type, index 7, flags IFF_UP, change IFF_UP
        assert_eq!(up, [0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
        let down = emit(&set(7, &LinkChange::Up(false)));
        assert_eq!(down, [0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    }

    /// The request `ip link show dev vc` (iproute2 6.1) sends for a VF table, captured with
    /// `strace -e write=3`: `IFLA_EXT_MASK` (29) = VF | SKIP_STATS, then `IFLA_IFNAME` "vc".
    #[test]
    fn vf_table_query_matches_iproute2() {
        let ours = emit(&get_by_name("vc", true));
        let iproute2: [u8; 32] = [
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, // ifinfomsg
            0x08, 0x00, 0x1d, 0x00, 0x09, 0x00, 0x00, 0x00, // IFLA_EXT_MASK
            0x07, 0x00, 0x03, 0x00, 0x76, 0x63, 0x00, 0x00, // IFLA_IFNAME "vc\0" + pad
        ];
        assert_eq!(ours, iproute2);
    }

    #[test]
    fn parse_reads_flags_name_mac_and_mtu() {
        let mut msg = LinkMessage::default();
        msg.header.index = 3;
        msg.header.link_layer_type = LinkLayerType::Ether;
        msg.header.flags = LinkFlags::Up | LinkFlags::Running | LinkFlags::LowerUp;
        msg.attributes = vec![
            LinkAttribute::IfName("net1".into()),
            LinkAttribute::Mtu(9000),
            LinkAttribute::Address(vec![0xf6, 0x0c, 0xd4, 0xe3, 0xe2, 0x53]),
        ];
        let bytes = wire::encode(RouteNetlinkMessage::NewLink(msg), 0, 1);
        let replies = wire::decode(&bytes, 1, "test").unwrap();
        let [wire::Reply::Message(RouteNetlinkMessage::NewLink(back))] = &replies[..] else {
            panic!("one NewLink expected")
        };
        let info = parse(back);
        assert_eq!(info.index, 3);
        assert_eq!(info.name, "net1");
        assert_eq!(info.mtu, 9000);
        assert_eq!(info.mac.unwrap().to_string(), "f6:0c:d4:e3:e2:53");
        assert!(info.admin_up && info.oper_up);
        // up without carrier: not running
        let mut msg = back.clone();
        msg.header.flags = LinkFlags::Up;
        assert!(!parse(&msg).oper_up);
        // an InfiniBand-style 20-byte address is not a MAC
        msg.attributes = vec![LinkAttribute::Address(vec![0; 20])];
        assert_eq!(parse(&msg).mac, None);
    }
}
