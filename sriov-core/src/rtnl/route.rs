//! Route messages (`RTM_GETROUTE`, `RTM_NEWROUTE`) for the main table, built and read, with no
//! I/O. Links are named by index here; the backend maps indexes to names.
//!
//! ```
//! use sriov_core::rtnl::route;
//! use sriov_core::{IpPrefix, Route};
//! use netlink_packet_route::RouteNetlinkMessage;
//!
//! let r = Route { dst: None, gateway: Some("10.56.217.1".parse().unwrap()), dev: "net1".into() };
//! let RouteNetlinkMessage::NewRoute(msg) = route::add(&r, 3).unwrap() else { unreachable!() };
//! let back = route::parse(&msg).unwrap();
//! assert_eq!((back.dst, back.gateway, back.oif), (None, r.gateway, 3));
//! ```

use std::net::IpAddr;

use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::{IpPrefix, Route};

/// A main-table unicast route with its output link by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedRoute {
    /// Destination; `None` for a default route.
    pub dst: Option<IpPrefix>,
    /// Next hop.
    pub gateway: Option<IpAddr>,
    /// Output link index.
    pub oif: u32,
}

/// `RTM_GETROUTE` dump of every table, both families (filter with [`parse`]).
pub fn dump() -> RouteNetlinkMessage {
    RouteNetlinkMessage::GetRoute(RouteMessage::default())
}

/// `RTM_NEWROUTE` adding `route` in the main table through link `oif`, as `ip route add` does
/// (protocol `boot`, scope `link` without a gateway, `universe` with one). A default route
/// without a gateway is IPv4. Returns `None` when the destination and gateway families differ
/// (the kernel would read a 16-byte IPv6 gateway as an IPv4 one).
pub fn add(route: &Route, oif: u32) -> Option<RouteNetlinkMessage> {
    let v6 = match (route.dst, route.gateway) {
        (Some(d), Some(g)) if d.addr.is_ipv6() != g.is_ipv6() => return None,
        (Some(d), _) => d.addr.is_ipv6(),
        (None, Some(g)) => g.is_ipv6(),
        (None, None) => false,
    };
    let mut msg = RouteMessage::default();
    msg.header.address_family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    msg.header.destination_prefix_length = route.dst.map_or(0, |d| d.prefix_len);
    msg.header.table = RouteHeader::RT_TABLE_MAIN;
    msg.header.protocol = RouteProtocol::Boot;
    msg.header.scope = if route.gateway.is_some() {
        RouteScope::Universe
    } else {
        RouteScope::Link
    };
    msg.header.kind = RouteType::Unicast;
    if let Some(d) = route.dst {
        msg.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(d.addr)));
    }
    if let Some(g) = route.gateway {
        msg.attributes
            .push(RouteAttribute::Gateway(RouteAddress::from(g)));
    }
    msg.attributes.push(RouteAttribute::Oif(oif));
    Some(RouteNetlinkMessage::NewRoute(msg))
}

fn ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

/// A main-table unicast route with one output link; `None` for every other route (other
/// tables, local/broadcast/blackhole types, multipath routes without `RTA_OIF`).
pub fn parse(msg: &RouteMessage) -> Option<IndexedRoute> {
    let mut table = u32::from(msg.header.table);
    let mut dst = None;
    let mut gateway = None;
    let mut oif = None;
    for attr in &msg.attributes {
        match attr {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Destination(a) => dst = ip(a),
            RouteAttribute::Gateway(a) => gateway = ip(a),
            RouteAttribute::Oif(i) => oif = Some(*i),
            _ => {}
        }
    }
    if table != u32::from(RouteHeader::RT_TABLE_MAIN) || msg.header.kind != RouteType::Unicast {
        return None;
    }
    let prefix_len = msg.header.destination_prefix_length;
    let dst = match dst {
        Some(addr) => Some(IpPrefix { addr, prefix_len }),
        None if prefix_len == 0 => None,
        None => return None,
    };
    Some(IndexedRoute {
        dst,
        gateway,
        oif: oif?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Emitable;

    fn bytes(route: &Route, oif: u32) -> Vec<u8> {
        let Some(RouteNetlinkMessage::NewRoute(m)) = add(route, oif) else {
            panic!("no message")
        };
        let mut buf = vec![0; m.buffer_len()];
        m.emit(&mut buf);
        buf
    }

    fn prefix(s: &str) -> IpPrefix {
        let (a, l) = s.split_once('/').unwrap();
        IpPrefix {
            addr: a.parse().unwrap(),
            prefix_len: l.parse().unwrap(),
        }
    }

    /// Requests captured from iproute2 6.1 (`strace -e write=3`), dev `vc` being ifindex 2.
    #[test]
    fn requests_match_iproute2() {
        // ip route add 10.9.0.0/16 via 10.1.2.1 dev vc
        let via = Route {
            dst: Some(prefix("10.9.0.0/16")),
            gateway: Some("10.1.2.1".parse().unwrap()),
            dev: "vc".into(),
        };
        assert_eq!(
            bytes(&via, 2),
            [
                0x02, 0x10, 0x00, 0x00, 0xfe, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00,
                0x01, 0x00, 0x0a, 0x09, 0x00, 0x00, 0x08, 0x00, 0x05, 0x00, 0x0a, 0x01, 0x02, 0x01,
                0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00
            ]
        );
        // ip route add 10.8.0.0/16 dev vc
        let onlink = Route {
            dst: Some(prefix("10.8.0.0/16")),
            gateway: None,
            dev: "vc".into(),
        };
        assert_eq!(
            bytes(&onlink, 2),
            [
                0x02, 0x10, 0x00, 0x00, 0xfe, 0x03, 0xfd, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00,
                0x01, 0x00, 0x0a, 0x08, 0x00, 0x00, 0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00
            ]
        );
    }

    #[test]
    fn mixed_families_are_refused() {
        let r = Route {
            dst: Some(prefix("10.0.0.0/8")),
            gateway: Some("fe80::1".parse().unwrap()),
            dev: "x".into(),
        };
        assert!(add(&r, 1).is_none());
    }

    #[test]
    fn parse_keeps_only_main_table_unicast() {
        let r = Route {
            dst: Some(prefix("fd00::/64")),
            gateway: None,
            dev: "x".into(),
        };
        let Some(RouteNetlinkMessage::NewRoute(mut m)) = add(&r, 9) else {
            unreachable!()
        };
        assert_eq!(
            parse(&m),
            Some(IndexedRoute {
                dst: r.dst,
                gateway: None,
                oif: 9
            })
        );
        m.header.kind = RouteType::Local;
        assert_eq!(parse(&m), None);
        m.header.kind = RouteType::Unicast;
        m.header.table = 255;
        assert_eq!(parse(&m), None);
        // a table id above 255 travels in RTA_TABLE
        m.attributes.push(RouteAttribute::Table(254));
        assert!(parse(&m).is_some());
    }
}
