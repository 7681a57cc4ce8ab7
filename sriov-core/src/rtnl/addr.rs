//! Address messages (`RTM_GETADDR`, `RTM_NEWADDR`, `RTM_DELADDR`) built and read, with no I/O.
//!
//! ```
//! use sriov_core::rtnl::addr;
//! use sriov_core::IpPrefix;
//! use netlink_packet_route::RouteNetlinkMessage;
//!
//! let p = IpPrefix { addr: "192.168.111.10".parse().unwrap(), prefix_len: 24 };
//! let RouteNetlinkMessage::NewAddress(msg) = addr::add(5, p) else { unreachable!() };
//! assert_eq!(addr::parse(&msg), Some((5, p)));
//! ```

use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::IpPrefix;

fn family(addr: IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// The message for `p` on link `index`, with both `IFA_LOCAL` and `IFA_ADDRESS` set (as
/// `ip addr` sends them): the kernel matches a deletion on both, so a `/16` never deletes a `/24`.
fn message(index: u32, p: IpPrefix) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = family(p.addr);
    msg.header.prefix_len = p.prefix_len;
    msg.header.index = index;
    msg.header.scope = AddressScope::Universe;
    msg.attributes.push(AddressAttribute::Local(p.addr));
    msg.attributes.push(AddressAttribute::Address(p.addr));
    msg
}

/// `RTM_GETADDR` dump of every address in the namespace, both families.
pub fn dump() -> RouteNetlinkMessage {
    RouteNetlinkMessage::GetAddress(AddressMessage::default())
}

/// `RTM_NEWADDR` adding `p` to link `index` (send with `NLM_F_CREATE | NLM_F_EXCL`).
pub fn add(index: u32, p: IpPrefix) -> RouteNetlinkMessage {
    RouteNetlinkMessage::NewAddress(message(index, p))
}

/// `RTM_DELADDR` removing `p` from link `index`.
pub fn del(index: u32, p: IpPrefix) -> RouteNetlinkMessage {
    RouteNetlinkMessage::DelAddress(message(index, p))
}

/// The link index and address of one `RTM_NEWADDR`: `IFA_LOCAL` when present (the local end of
/// an IPv4 point-to-point address), else `IFA_ADDRESS` (IPv6 sends only that).
pub fn parse(msg: &AddressMessage) -> Option<(u32, IpPrefix)> {
    let mut local = None;
    let mut address = None;
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Local(a) => local = Some(*a),
            AddressAttribute::Address(a) => address = Some(*a),
            _ => {}
        }
    }
    let addr = local.or(address)?;
    Some((
        msg.header.index,
        IpPrefix {
            addr,
            prefix_len: msg.header.prefix_len,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Emitable;

    #[test]
    fn add_carries_local_and_address_like_iproute2() {
        let p = IpPrefix {
            addr: "10.1.2.3".parse().unwrap(),
            prefix_len: 24,
        };
        let RouteNetlinkMessage::NewAddress(m) = add(2, p) else {
            unreachable!()
        };
        let mut buf = vec![0; m.buffer_len()];
        m.emit(&mut buf);
        // `ip addr add 10.1.2.3/24 dev vc` (ifindex 2), iproute2 6.1, captured with
        // `strace -e write=3`: ifaddrmsg{AF_INET, 24, 0, RT_SCOPE_UNIVERSE, 2}, IFA_LOCAL, IFA_ADDRESS
        assert_eq!(
            buf,
            [
                2, 24, 0, 0, 2, 0, 0, 0, 8, 0, 2, 0, 10, 1, 2, 3, 8, 0, 1, 0, 10, 1, 2, 3
            ]
        );
    }

    #[test]
    fn parse_prefers_local() {
        let mut m = AddressMessage::default();
        m.header.index = 2;
        m.header.prefix_len = 32;
        m.attributes = vec![
            AddressAttribute::Address("10.0.0.2".parse().unwrap()),
            AddressAttribute::Local("10.0.0.1".parse().unwrap()),
        ];
        assert_eq!(
            parse(&m).unwrap().1.addr,
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
        m.attributes.clear();
        assert_eq!(parse(&m), None);
    }
}
