//! Link messages (`RTM_GETLINK`, `RTM_SETLINK`) built and read, with no I/O.
//!
//! ```
//! use rtnl_ns::link::{self, AdminState, LinkSet};
//! use rtnl_ns::netlink_packet_route::RouteNetlinkMessage;
//!
//! let change = LinkSet { mtu: Some(9000), state: Some(AdminState::Up), ..LinkSet::default() };
//! let request = link::set(4, &change).unwrap();
//! let RouteNetlinkMessage::SetLink(msg) = &request.message else { unreachable!() };
//! let back = link::parse(msg);
//! assert_eq!((back.index, back.mtu, back.admin_up), (4, 9000, true));
//! ```

use std::os::fd::RawFd;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkFlags, LinkMessage};
use nix::errno::Errno;

use crate::Error;
use crate::wire::Request;

/// Longest interface name (`IFNAMSIZ - 1`).
pub const IFNAME_MAX: usize = 15;

/// A link as `ip link show` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Hardware address when it is a 6-byte (Ethernet) one; loopback reports
    /// `00:00:00:00:00:00`, as the kernel does. `None` for links with another kind (an
    /// InfiniBand 20-byte address) or none.
    pub mac: Option<[u8; 6]>,
    /// MTU.
    pub mtu: u32,
    /// Administratively up (`IFF_UP`).
    pub admin_up: bool,
    /// Operationally up: `IFF_UP` and `IFF_RUNNING` (carrier, or operstate unknown with
    /// carrier, as for `lo`).
    pub oper_up: bool,
}

/// How much a link lookup asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkDetail {
    /// The link's attributes, statistics left out.
    Plain,
    /// With its SR-IOV VF table (`IFLA_VFINFO_LIST`), as `ip link show` asks for it.
    WithVfTable,
}

/// `up` / `down`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminState {
    /// `IFF_UP` set.
    Up,
    /// `IFF_UP` cleared.
    Down,
}

/// The changes one `RTM_SETLINK` makes, as `ip link set <dev> ...` makes them. Fields left
/// `None` (or empty) are not touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkSet {
    /// `name <new>` (`IFLA_IFNAME`).
    pub name: Option<String>,
    /// `address <mac>` (`IFLA_ADDRESS`).
    pub mac: Option<[u8; 6]>,
    /// `mtu <n>` (`IFLA_MTU`).
    pub mtu: Option<u32>,
    /// `up` / `down`: only `IFF_UP` is changed.
    pub state: Option<AdminState>,
    /// `netns <fd>` (`IFLA_NET_NS_FD`): move the link into the namespace this open file
    /// refers to. The file must stay open until the request is answered.
    pub netns_fd: Option<RawFd>,
    /// Further attributes the caller builds itself (a PF's `IFLA_VFINFO_LIST`, ...), sent as
    /// they are.
    pub extra: Vec<LinkAttribute>,
}

/// True for a name some link could have (what `RTM_GETLINK` by name can find).
pub fn could_be_ifname(name: &str) -> bool {
    !name.is_empty() && name.len() <= IFNAME_MAX && !name.contains('\0')
}

/// `RTM_GETLINK` for the link called `name`, answered by the link and an acknowledgement.
/// With [`LinkDetail::WithVfTable`], asks for its VF table too (`IFLA_EXT_MASK` =
/// `RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS`, as `ip link show` does). A name no link can
/// have (empty, over 15 bytes, with a NUL) is refused with `ENODEV`, the kernel's answer for a
/// name it does not know.
pub fn get_by_name(name: &str, detail: LinkDetail) -> Result<Request, Error> {
    const REQUEST: &str = "RTM_GETLINK";
    if !could_be_ifname(name) {
        return Err(Error::Refused {
            request: REQUEST,
            reason: "no link can have that name",
            errno: Errno::ENODEV,
        });
    }
    let mut msg = LinkMessage::default();
    if detail == LinkDetail::WithVfTable {
        msg.attributes.push(LinkAttribute::ExtMask(vec![
            LinkExtentMask::Vf,
            LinkExtentMask::SkipStats,
        ]));
    }
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    Ok(Request::acked(
        RouteNetlinkMessage::GetLink(msg),
        0,
        REQUEST,
    ))
}

/// `RTM_GETLINK` dump of every link in the namespace, statistics left out.
pub fn dump() -> Request {
    let mut msg = LinkMessage::default();
    msg.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    Request::dump(RouteNetlinkMessage::GetLink(msg), "RTM_GETLINK dump")
}

/// `RTM_SETLINK` applying `change` to the link with index `index`. The attributes follow
/// iproute2's order (namespace, address, MTU, the caller's own, then the new name), so the
/// request is byte for byte what `ip link set` sends. A new name that is empty or holds a NUL
/// byte is refused with `EINVAL` (the kernel reads an empty `IFLA_IFNAME` as "no rename").
pub fn set(index: u32, change: &LinkSet) -> Result<Request, Error> {
    const REQUEST: &str = "RTM_SETLINK";
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    if let Some(state) = change.state {
        msg.header.flags = match state {
            AdminState::Up => LinkFlags::Up,
            AdminState::Down => LinkFlags::empty(),
        };
        msg.header.change_mask = LinkFlags::Up;
    }
    if let Some(fd) = change.netns_fd {
        msg.attributes.push(LinkAttribute::NetNsFd(fd));
    }
    if let Some(mac) = change.mac {
        msg.attributes.push(LinkAttribute::Address(mac.to_vec()));
    }
    if let Some(mtu) = change.mtu {
        msg.attributes.push(LinkAttribute::Mtu(mtu));
    }
    msg.attributes.extend(change.extra.iter().cloned());
    if let Some(name) = &change.name {
        if name.is_empty() || name.contains('\0') {
            return Err(Error::Refused {
                request: REQUEST,
                reason: "a new link name must be non-empty and hold no NUL byte",
                errno: Errno::EINVAL,
            });
        }
        msg.attributes.push(LinkAttribute::IfName(name.clone()));
    }
    Ok(Request::acked(
        RouteNetlinkMessage::SetLink(msg),
        0,
        REQUEST,
    ))
}

/// What `ip link show` reports of a link message (see [`Link`]).
pub fn parse(msg: &LinkMessage) -> Link {
    let flags = msg.header.flags;
    let mut link = Link {
        index: msg.header.index,
        name: String::new(),
        mac: None,
        mtu: 0,
        admin_up: flags.contains(LinkFlags::Up),
        oper_up: flags.contains(LinkFlags::Up) && flags.contains(LinkFlags::Running),
    };
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(name) => link.name.clone_from(name),
            LinkAttribute::Mtu(mtu) => link.mtu = *mtu,
            LinkAttribute::Address(bytes) => link.mac = <[u8; 6]>::try_from(bytes.as_slice()).ok(),
            _ => {}
        }
    }
    link
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire;
    use netlink_packet_core::Emitable;
    use netlink_packet_route::link::LinkLayerType;
    use proptest::prelude::*;

    fn body(request: &Request) -> Vec<u8> {
        let (RouteNetlinkMessage::SetLink(m) | RouteNetlinkMessage::GetLink(m)) = &request.message
        else {
            panic!("not a link message")
        };
        let mut buf = vec![0; m.buffer_len()];
        m.emit(&mut buf);
        buf
    }

    fn state(s: AdminState) -> LinkSet {
        LinkSet {
            state: Some(s),
            ..LinkSet::default()
        }
    }

    #[test]
    fn up_and_down_touch_only_iff_up() {
        let up = body(&set(7, &state(AdminState::Up)).unwrap());
        // ifinfomsg: family, pad, type, index 7, flags IFF_UP, change IFF_UP
        assert_eq!(up, [0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
        let down = body(&set(7, &state(AdminState::Down)).unwrap());
        assert_eq!(down, [0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    }

    /// The request `ip link show dev vc` (iproute2 6.1) sends for a VF table, captured with
    /// `strace -e write=3`: `IFLA_EXT_MASK` (29) = VF | SKIP_STATS, then `IFLA_IFNAME` "vc".
    #[test]
    fn vf_table_query_matches_iproute2() {
        let ours = body(&get_by_name("vc", LinkDetail::WithVfTable).unwrap());
        let iproute2: [u8; 32] = [
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, // ifinfomsg
            0x08, 0x00, 0x1d, 0x00, 0x09, 0x00, 0x00, 0x00, // IFLA_EXT_MASK
            0x07, 0x00, 0x03, 0x00, 0x76, 0x63, 0x00, 0x00, // IFLA_IFNAME "vc\0" + pad
        ];
        assert_eq!(ours, iproute2);
    }

    #[test]
    fn names_netlink_cannot_say_are_refused() {
        for name in ["", "sixteen-bytes-xx", "a\0b"] {
            let err = get_by_name(name, LinkDetail::Plain).unwrap_err();
            assert_eq!(err.errno(), Some(libc::ENODEV), "{name:?}: {err}");
        }
        for name in ["", "a\0b"] {
            let change = LinkSet {
                name: Some(name.into()),
                ..LinkSet::default()
            };
            let err = set(3, &change).unwrap_err();
            assert_eq!(err.errno(), Some(libc::EINVAL), "{name:?}: {err}");
        }
        assert!(could_be_ifname("fifteen-bytes-x") && !could_be_ifname("sixteen-bytes-xx"));
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
        let link = parse(back);
        assert_eq!(link.index, 3);
        assert_eq!(link.name, "net1");
        assert_eq!(link.mtu, 9000);
        assert_eq!(link.mac, Some([0xf6, 0x0c, 0xd4, 0xe3, 0xe2, 0x53]));
        assert!(link.admin_up && link.oper_up);
        // up without carrier: not running
        let mut msg = back.clone();
        msg.header.flags = LinkFlags::Up;
        assert!(!parse(&msg).oper_up);
        // an InfiniBand-style 20-byte address is not a MAC
        msg.attributes = vec![LinkAttribute::Address(vec![0; 20])];
        assert_eq!(parse(&msg).mac, None);
    }

    proptest! {
        /// What `set` builds, framed and decoded, reads back as the link it describes.
        #[test]
        fn set_round_trips_through_bytes(
            index in 1u32..,
            name in "[a-z][a-z0-9]{0,14}",
            mac: [u8; 6],
            mtu in 68u32..65536,
            up: bool,
            seq: u32,
        ) {
            let change = LinkSet {
                name: Some(name.clone()),
                mac: Some(mac),
                mtu: Some(mtu),
                state: Some(if up { AdminState::Up } else { AdminState::Down }),
                ..LinkSet::default()
            };
            let request = set(index, &change).unwrap();
            let replies = wire::decode(&request.encode(seq), seq, "test").unwrap();
            let [wire::Reply::Message(RouteNetlinkMessage::SetLink(back))] = &replies[..] else {
                panic!("one SetLink expected: {replies:?}")
            };
            let want = Link { index, name, mac: Some(mac), mtu, admin_up: up, oper_up: false };
            prop_assert_eq!(parse(back), want);
            prop_assert_eq!(back.header.change_mask, LinkFlags::Up);
        }
    }
}
