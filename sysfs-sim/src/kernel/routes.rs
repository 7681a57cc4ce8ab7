//! Routes: the main table of a namespace (the kernel's prefix routes and added ones) and the
//! checks of a route add.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sriov_core::{IpPrefix, Netns, Route};

use super::Errno;
use super::addrs::is_link_local;
use crate::model::{Model, NetdevKind, NsId};

/// `addr` with the bits past `len` cleared.
fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let m = u32::MAX
                .checked_shl(32 - u32::from(len.min(32)))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & m))
        }
        IpAddr::V6(v6) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(len.min(128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & m))
        }
    }
}

/// A route's family (`Some(true)` for IPv6); `None` when its destination and gateway disagree.
/// A default route without a gateway is IPv4.
fn route_is_v6(r: &Route) -> Option<bool> {
    match (
        r.dst.map(|d| d.addr.is_ipv6()),
        r.gateway.map(|g| g.is_ipv6()),
    ) {
        (Some(d), Some(g)) if d != g => None,
        (Some(v6), _) | (None, Some(v6)) => Some(v6),
        (None, None) => Some(false),
    }
}

impl Model {
    /// The kernel's prefix routes in `ns`'s main table: one per address on an up, non-loopback
    /// link (IPv4 below /32 and not in 0.0.0.0/x; IPv6 at any length, link-local giving
    /// `fe80::/64`). Loopback's routes live in the local table.
    fn prefix_routes(&self, ns: NsId) -> Vec<Route> {
        let mut out: Vec<Route> = Vec::new();
        let up = self
            .netdevs
            .values()
            .filter(|d| d.ns == ns && d.admin_up && d.kind != NetdevKind::Loopback);
        for d in up {
            for a in &d.addresses {
                let network = mask(a.addr, a.prefix_len);
                if a.addr.is_ipv4() && (a.prefix_len >= 32 || network.is_unspecified()) {
                    continue;
                }
                let r = Route {
                    dst: Some(IpPrefix {
                        addr: network,
                        prefix_len: a.prefix_len,
                    }),
                    gateway: None,
                    dev: d.name.clone(),
                };
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// Whether `gw` is on-link through `dev` in `ns`: inside a prefix route or an added on-link
    /// route of `dev`, or an address of `dev` itself. The kernel's next-hop lookup is bound to
    /// the output link, so a gateway on another link's prefix is unreachable.
    fn on_link(&self, ns: NsId, gw: IpAddr, dev: &str) -> bool {
        let local = self
            .netdev_by_name(ns, dev)
            .is_some_and(|d| d.admin_up && d.addresses.iter().any(|a| a.addr == gw));
        let added = self
            .namespaces
            .get(&ns)
            .map(|n| n.routes.clone())
            .unwrap_or_default();
        local
            || self
                .prefix_routes(ns)
                .into_iter()
                .chain(added.into_iter().filter(|r| r.gateway.is_none()))
                .filter(|r| r.dev == dev)
                .filter_map(|r| r.dst)
                .any(|dst| {
                    dst.addr.is_ipv6() == gw.is_ipv6() && mask(gw, dst.prefix_len) == dst.addr
                })
    }

    /// `ip route show` of `ns`'s main table: the prefix routes, then the added ones (ENOENT for
    /// a missing namespace). Applies addrconf first.
    pub fn routes(&mut self, ns: &Netns) -> Result<Vec<Route>, Errno> {
        let id = self.ns_id(ns)?;
        self.addrconf();
        let mut out = self.prefix_routes(id);
        out.extend(
            self.namespaces
                .get(&id)
                .map(|n| n.routes.clone())
                .unwrap_or_default(),
        );
        Ok(out)
    }

    /// `ip route add`, checked in the kernel's order: ENOENT for a missing namespace, ENODEV for
    /// a missing link, EINVAL when destination and gateway families differ or an IPv4
    /// destination has host bits (IPv6 masks them off), ENETUNREACH (IPv4) or EHOSTUNREACH
    /// (IPv6) for a gateway not on-link through the route's link (IPv6 link-local gateways
    /// always are), ENETDOWN for a down link, EEXIST for a second route to one destination at
    /// one metric (IPv4 routes added here share metric 0 with prefix routes; IPv6 ones, at
    /// 1024, do not clash with prefix routes at 256).
    pub fn add_route(&mut self, ns: &Netns, route: &Route) -> Result<(), Errno> {
        self.rtnl(|m| {
            let id = m.ns_id(ns)?;
            let dev_up = m
                .netdev_by_name(id, &route.dev)
                .ok_or(libc::ENODEV)?
                .admin_up;
            let v6 = route_is_v6(route).ok_or(libc::EINVAL)?;
            let mut route = route.clone();
            if let Some(dst) = route.dst.as_mut() {
                let network = mask(dst.addr, dst.prefix_len);
                if !v6 && network != dst.addr {
                    return Err(libc::EINVAL);
                }
                dst.addr = network;
            }
            match route.gateway {
                Some(gw) if is_link_local(gw) => {}
                Some(gw) if !m.on_link(id, gw, &route.dev) => {
                    return Err(if v6 {
                        libc::EHOSTUNREACH
                    } else {
                        libc::ENETUNREACH
                    });
                }
                Some(_) | None => {}
            }
            if !dev_up {
                return Err(libc::ENETDOWN);
            }
            let mut existing = m.prefix_routes(id);
            existing.retain(|r| !v6 && route_is_v6(r) == Some(false));
            let table = &mut m.namespaces.get_mut(&id).ok_or(libc::ENOENT)?.routes;
            if table
                .iter()
                .chain(&existing)
                .any(|r| r.dst == route.dst && route_is_v6(r) == Some(v6))
            {
                return Err(libc::EEXIST);
            }
            table.push(route);
            Ok(())
        })
    }
}
