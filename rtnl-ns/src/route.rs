//! Route messages (`RTM_GETROUTE`, `RTM_NEWROUTE`, `RTM_DELROUTE`) for the main table, built
//! and read, with no I/O. Links are named by index here.
//!
//! ```
//! use rtnl_ns::{route, Route};
//! use rtnl_ns::netlink_packet_route::RouteNetlinkMessage;
//! use rtnl_ns::netlink_packet_route::route::RouteProtocol;
//!
//! let r = Route { dst: None, gateway: Some([10, 56, 217, 1].into()), oif: 3 };
//! let request = route::add(&r, RouteProtocol::Boot).unwrap();
//! let RouteNetlinkMessage::NewRoute(msg) = &request.message else { unreachable!() };
//! assert_eq!(route::parse(msg), Some(r));
//! ```

use std::fmt;
use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::errno::Errno;

use crate::wire::Request;
use crate::{Error, Prefix};

/// A main-table unicast route with its output link by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    /// Destination; `None` for a default route.
    pub dst: Option<Prefix>,
    /// Next hop; `None` for an on-link route.
    pub gateway: Option<IpAddr>,
    /// Output link index.
    pub oif: u32,
}

impl fmt::Display for Route {
    /// As `ip route` prints it, the link by index: `default via 10.1.2.1 oif 3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.dst {
            Some(d) => write!(f, "{d}")?,
            None => f.write_str("default")?,
        }
        if let Some(g) = self.gateway {
            write!(f, " via {g}")?;
        }
        write!(f, " oif {}", self.oif)
    }
}

/// How the message is meant: installing sets scope and type as `ip route add` does, deleting
/// matches any scope and type as `ip route del` does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Install,
    Delete,
}

/// The message for `route`, or a refusal when its destination and gateway families differ (the
/// kernel would read a 16-byte IPv6 gateway as an IPv4 one). A default route without a gateway
/// is IPv4.
fn message(
    route: &Route,
    protocol: RouteProtocol,
    purpose: Purpose,
    request: &'static str,
) -> Result<RouteNetlinkMessage, Error> {
    let v6 = match (route.dst, route.gateway) {
        (Some(d), Some(g)) if d.address.is_ipv6() != g.is_ipv6() => {
            return Err(Error::Refused {
                request,
                reason: "the destination and gateway families differ",
                errno: Errno::EINVAL,
            });
        }
        (Some(d), _) => d.address.is_ipv6(),
        (None, Some(g)) => g.is_ipv6(),
        (None, None) => false,
    };
    let mut msg = RouteMessage::default();
    msg.header.address_family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    msg.header.destination_prefix_length = route.dst.map_or(0, |d| d.len);
    msg.header.table = RouteHeader::RT_TABLE_MAIN;
    msg.header.protocol = protocol;
    (msg.header.scope, msg.header.kind) = match purpose {
        Purpose::Install if route.gateway.is_some() => (RouteScope::Universe, RouteType::Unicast),
        Purpose::Install => (RouteScope::Link, RouteType::Unicast),
        Purpose::Delete => (RouteScope::NoWhere, RouteType::Unspec),
    };
    if let Some(d) = route.dst {
        msg.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(d.address)));
    }
    if let Some(g) = route.gateway {
        msg.attributes
            .push(RouteAttribute::Gateway(RouteAddress::from(g)));
    }
    msg.attributes.push(RouteAttribute::Oif(route.oif));
    Ok(match purpose {
        Purpose::Install => RouteNetlinkMessage::NewRoute(msg),
        Purpose::Delete => RouteNetlinkMessage::DelRoute(msg),
    })
}

/// `RTM_GETROUTE` dump of every table, both families (keep what [`parse`] reads).
pub fn dump() -> Request {
    Request::dump(
        RouteNetlinkMessage::GetRoute(RouteMessage::default()),
        "RTM_GETROUTE dump",
    )
}

/// `RTM_NEWROUTE` adding `route` to the main table as installed by `protocol` (`ip route add
/// ... proto <p>`: scope `link` without a gateway, `universe` with one; `EEXIST` when present).
pub fn add(route: &Route, protocol: RouteProtocol) -> Result<Request, Error> {
    const REQUEST: &str = "RTM_NEWROUTE";
    let msg = message(route, protocol, Purpose::Install, REQUEST)?;
    Ok(Request::acked(msg, NLM_F_CREATE | NLM_F_EXCL, REQUEST))
}

/// `RTM_NEWROUTE` adding `route`, or replacing the main-table route to the same destination
/// (`ip route replace`).
pub fn replace(route: &Route, protocol: RouteProtocol) -> Result<Request, Error> {
    const REQUEST: &str = "RTM_NEWROUTE replace";
    let msg = message(route, protocol, Purpose::Install, REQUEST)?;
    Ok(Request::acked(msg, NLM_F_CREATE | NLM_F_REPLACE, REQUEST))
}

/// `RTM_DELROUTE` deleting `route` from the main table (`ip route del`: any scope and type);
/// with a `protocol` other than `Unspec`, only a route that protocol installed (`ESRCH` when
/// there is none).
pub fn del(route: &Route, protocol: RouteProtocol) -> Result<Request, Error> {
    const REQUEST: &str = "RTM_DELROUTE";
    let msg = message(route, protocol, Purpose::Delete, REQUEST)?;
    Ok(Request::acked(msg, 0, REQUEST))
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
pub fn parse(msg: &RouteMessage) -> Option<Route> {
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
    let len = msg.header.destination_prefix_length;
    let dst = match dst {
        Some(address) => Some(Prefix { address, len }),
        None if len == 0 => None,
        None => return None,
    };
    Some(Route {
        dst,
        gateway,
        oif: oif?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire;
    use netlink_packet_core::Emitable;
    use proptest::prelude::*;

    fn body(request: &Request) -> Vec<u8> {
        let (RouteNetlinkMessage::NewRoute(m) | RouteNetlinkMessage::DelRoute(m)) =
            &request.message
        else {
            panic!("not a route message")
        };
        let mut buf = vec![0; m.buffer_len()];
        m.emit(&mut buf);
        buf
    }

    fn prefix(s: &str) -> Prefix {
        let (a, l) = s.split_once('/').unwrap();
        Prefix::new(a.parse::<IpAddr>().unwrap(), l.parse().unwrap())
    }

    /// Requests captured from iproute2 6.1 (`strace -e write=3`), dev `vc` being ifindex 2.
    #[test]
    fn requests_match_iproute2() {
        // ip route add 10.9.0.0/16 via 10.1.2.1 dev vc
        let via = Route {
            dst: Some(prefix("10.9.0.0/16")),
            gateway: Some("10.1.2.1".parse().unwrap()),
            oif: 2,
        };
        assert_eq!(
            body(&add(&via, RouteProtocol::Boot).unwrap()),
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
            oif: 2,
        };
        assert_eq!(
            body(&add(&onlink, RouteProtocol::Boot).unwrap()),
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
            oif: 1,
        };
        for err in [
            add(&r, RouteProtocol::Boot).unwrap_err(),
            replace(&r, RouteProtocol::Boot).unwrap_err(),
            del(&r, RouteProtocol::Unspec).unwrap_err(),
        ] {
            assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        }
    }

    #[test]
    fn parse_keeps_only_main_table_unicast() {
        let r = Route {
            dst: Some(prefix("fd00::/64")),
            gateway: None,
            oif: 9,
        };
        let RouteNetlinkMessage::NewRoute(mut m) = add(&r, RouteProtocol::Boot).unwrap().message
        else {
            unreachable!()
        };
        assert_eq!(parse(&m), Some(r));
        m.header.kind = RouteType::Local;
        assert_eq!(parse(&m), None);
        m.header.kind = RouteType::Unicast;
        m.header.table = 255;
        assert_eq!(parse(&m), None);
        // a table id above 255 travels in RTA_TABLE
        m.attributes.push(RouteAttribute::Table(254));
        assert!(parse(&m).is_some());
    }

    #[test]
    fn routes_print_as_ip_route_does() {
        let r = Route {
            dst: None,
            gateway: Some("10.1.2.1".parse().unwrap()),
            oif: 3,
        };
        assert_eq!(r.to_string(), "default via 10.1.2.1 oif 3");
        let r = Route {
            dst: Some(prefix("10.9.0.0/16")),
            gateway: None,
            oif: 2,
        };
        assert_eq!(r.to_string(), "10.9.0.0/16 oif 2");
    }

    fn route_strategy() -> impl Strategy<Value = Route> {
        (
            any::<bool>(),
            any::<[u8; 16]>(),
            0u8..=32,
            proptest::option::of(any::<[u8; 16]>()),
            any::<bool>(),
            1u32..,
        )
            .prop_map(|(six, bytes, len, gw, default, oif)| {
                let at = |b: [u8; 16]| -> IpAddr {
                    if six {
                        IpAddr::from(b)
                    } else {
                        IpAddr::from([b[0], b[1], b[2], b[3]])
                    }
                };
                Route {
                    dst: (!default).then(|| Prefix::new(at(bytes), len)),
                    gateway: gw.map(at),
                    oif,
                }
            })
    }

    proptest! {
        /// What `add` and `replace` build, framed and decoded, reads back as the route; what
        /// `del` builds decodes to itself.
        #[test]
        fn routes_round_trip_through_bytes(r in route_strategy(), seq: u32) {
            for request in [
                add(&r, RouteProtocol::Dhcp).unwrap(),
                replace(&r, RouteProtocol::Static).unwrap(),
            ] {
                let replies = wire::decode(&request.encode(seq), seq, "test").unwrap();
                let [wire::Reply::Message(RouteNetlinkMessage::NewRoute(back))] = &replies[..] else {
                    panic!("one NewRoute expected: {replies:?}")
                };
                prop_assert_eq!(parse(back), Some(r));
            }
            let request = del(&r, RouteProtocol::Unspec).unwrap();
            let replies = wire::decode(&request.encode(seq), seq, "test").unwrap();
            prop_assert_eq!(replies, vec![wire::Reply::Message(request.message)]);
        }
    }
}
