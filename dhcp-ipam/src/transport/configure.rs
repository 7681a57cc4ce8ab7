//! Applying a lease to an interface over rtnetlink (`rtnl-ns`): the address with the lease's
//! remaining lifetime (so the kernel drops it when the lease runs out, whatever happens to this
//! process), and the routes: option 121's when present, else a default route through the first
//! router. Routes are installed with protocol `dhcp`, and only those are removed.

use rtnl_ns::addr::{Lifetimes, NewAddress};
use rtnl_ns::netlink_packet_route::route::RouteProtocol;
use rtnl_ns::{Handle, Prefix, Route};

use crate::client::Lease;
use crate::error::Error;
use crate::transport::{Interface, in_netns, netlink_err};
use dhcp_codec::Time;

/// The routes a lease asks for on link `oif`: every option 121 route when present (RFC 3442:
/// option 3 is then ignored), else a default route through the first router. A destination of
/// length 0 is the default route; host bits of a destination are cleared.
pub fn lease_routes(lease: &Lease, oif: u32) -> Vec<Route> {
    if !lease.routes.is_empty() {
        return lease
            .routes
            .iter()
            .map(|r| Route {
                dst: (r.dest.prefix_len() > 0)
                    .then(|| Prefix::new(r.dest.network(), r.dest.prefix_len())),
                gateway: (!r.gateway.is_unspecified()).then_some(r.gateway.into()),
                oif,
            })
            .collect();
    }
    lease
        .router()
        .map(|gw| Route {
            dst: None,
            gateway: Some(gw.into()),
            oif,
        })
        .into_iter()
        .collect()
}

/// The lease's address on link `index`, with the broadcast address of its subnet (below /31)
/// and, for a finite lease, the lifetime left at `now` as both valid and preferred lifetime
/// (at least one second: the kernel refuses a valid lifetime of 0).
fn lease_address(lease: &Lease, index: u32, now: Time) -> NewAddress {
    let net = lease.address;
    NewAddress {
        index,
        prefix: Prefix::new(net.addr(), net.prefix_len()),
        broadcast: (net.prefix_len() < 31).then(|| net.broadcast()),
        lifetimes: if lease.is_infinite() {
            Lifetimes::FOREVER
        } else {
            Lifetimes::both(lease.remaining_secs(now).max(1))
        },
    }
}

fn open(iface: &Interface) -> Result<Handle, Error> {
    Handle::open().map_err(|e| netlink_err("open rtnetlink", &iface.name, e))
}

/// Puts `lease`'s address on the interface with the lifetime left at `now` (updating it when
/// the address is already there), and its routes.
pub fn apply_lease(iface: &Interface, lease: &Lease, now: Time) -> Result<(), Error> {
    let address = lease_address(lease, iface.index, now);
    in_netns(iface.netns.as_deref(), || {
        let mut rtnl = open(iface)?;
        rtnl.replace_address(&address)
            .map_err(|e| netlink_err(format!("add address {}", lease.address), &iface.name, e))?;
        for r in lease_routes(lease, iface.index) {
            rtnl.replace_route(&r, RouteProtocol::Dhcp)
                .map_err(|e| netlink_err(format!("add route {r}"), &iface.name, e))?;
        }
        Ok(())
    })
}

/// Updates the lifetime of `lease`'s address if it is on the interface (after a renewal); does
/// nothing when it is not (someone else manages the interface and removed it).
pub fn refresh_lifetime(iface: &Interface, lease: &Lease, now: Time) -> Result<bool, Error> {
    let address = lease_address(lease, iface.index, now);
    in_netns(iface.netns.as_deref(), || {
        let mut rtnl = open(iface)?;
        let present = rtnl
            .addresses()
            .map_err(|e| netlink_err("list addresses", &iface.name, e))?
            .iter()
            .any(|a| a.index == iface.index && a.prefix.address == lease.ip());
        if present {
            rtnl.replace_address(&address).map_err(|e| {
                netlink_err(format!("update address {}", lease.address), &iface.name, e)
            })?;
        }
        Ok(present)
    })
}

/// Removes `lease`'s address (and the routes it added) from the interface. Missing ones are
/// not an error.
pub fn remove_lease(iface: &Interface, lease: &Lease) -> Result<(), Error> {
    let prefix = Prefix::new(lease.address.addr(), lease.address.prefix_len());
    in_netns(iface.netns.as_deref(), || {
        let mut rtnl = open(iface)?;
        for r in lease_routes(lease, iface.index) {
            match rtnl.del_route(&r, RouteProtocol::Dhcp) {
                Err(e) if !matches!(e.errno(), Some(libc::ESRCH | libc::ENOENT | libc::ENODEV)) => {
                    return Err(netlink_err(format!("delete route {r}"), &iface.name, e));
                }
                _ => {}
            }
        }
        match rtnl.del_address(iface.index, prefix) {
            Err(e)
                if !matches!(
                    e.errno(),
                    Some(libc::EADDRNOTAVAIL | libc::ENOENT | libc::ENODEV)
                ) =>
            {
                Err(netlink_err(
                    format!("delete address {}", lease.address),
                    &iface.name,
                    e,
                ))
            }
            _ => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

    use rtnl_ns::Lifetime;

    use super::*;

    /// A lease of `address` for `secs` from time zero, router 10.0.0.1, `extra` JSON fields.
    fn lease(address: &str, secs: u32, extra: &str) -> Lease {
        serde_json::from_str(&format!(
            r#"{{"address":"{address}","routers":["10.0.0.1"],"server_id":"10.0.0.1",
            "lease_secs":{secs},"t1_secs":300,"t2_secs":525,"acquired_at":0,"renew_at":300000,
            "rebind_at":525000,"client_id":"0001","chaddr":"02:00:00:00:00:01"{extra}}}"#
        ))
        .unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_option_121_the_route_is_a_default_through_the_router() {
        let routes = lease_routes(&lease("10.0.0.5/24", 600, ""), 7);
        let want = Route {
            dst: None,
            gateway: Some(ip("10.0.0.1")),
            oif: 7,
        };
        assert_eq!(routes, vec![want]);
    }

    #[test]
    fn option_121_routes_replace_the_router_and_keep_on_link_ones() {
        let l = lease(
            "10.0.0.5/24",
            600,
            r#","routes":[{"dest":"0.0.0.0/0","gateway":"10.0.0.254"},
            {"dest":"10.9.0.0/16","gateway":"0.0.0.0"}]"#,
        );
        let routes = lease_routes(&l, 7);
        assert_eq!(
            routes,
            vec![
                Route {
                    dst: None,
                    gateway: Some(ip("10.0.0.254")),
                    oif: 7
                },
                Route {
                    dst: Some(Prefix::new(ip("10.9.0.0"), 16)),
                    gateway: None,
                    oif: 7
                },
            ]
        );
    }

    #[test]
    fn the_address_carries_broadcast_and_the_time_left() {
        let l = lease("10.0.0.5/24", 600, "");
        let at_start = lease_address(&l, 3, Time::ZERO);
        assert_eq!(at_start.index, 3);
        assert_eq!(at_start.prefix, Prefix::new(ip("10.0.0.5"), 24));
        assert_eq!(at_start.broadcast, Some("10.0.0.255".parse().unwrap()));
        assert_eq!(at_start.lifetimes, Lifetimes::both(600));
        // 100 s later: 500 s left; past the end: one second, never the refused 0
        let later = lease_address(&l, 3, Time::ZERO + Duration::from_secs(100));
        assert_eq!(later.lifetimes.valid, Lifetime::Seconds(500));
        let past = lease_address(&l, 3, Time::ZERO + Duration::from_secs(700));
        assert_eq!(past.lifetimes, Lifetimes::both(1));
        // an infinite lease is permanent; a /31 has no broadcast address
        let forever = lease("10.0.0.4/31", dhcp_codec::INFINITE_LEASE, "");
        let a = lease_address(&forever, 3, Time::ZERO);
        assert_eq!((a.broadcast, a.lifetimes), (None, Lifetimes::FOREVER));
    }
}
