//! Applying a lease to an interface: the address with the lease's remaining lifetime (so the
//! kernel drops it when the lease runs out, whatever happens to this process), and the routes:
//! option 121's when present, else a default route through the first router.

use crate::client::Lease;
use crate::error::Error;
use crate::time::Time;
use crate::transport::netlink::{RouteSpec, Rtnl};
use crate::transport::{Interface, in_netns};

/// The routes a lease asks for on link `oif`: every option 121 route when present (RFC 3442:
/// option 3 is then ignored), else a default route through the first router.
pub fn lease_routes(lease: &Lease, oif: u32) -> Vec<RouteSpec> {
    if !lease.routes.is_empty() {
        return lease
            .routes
            .iter()
            .map(|r| RouteSpec {
                dest: r.dest,
                gateway: (!r.gateway.is_unspecified()).then_some(r.gateway),
                oif,
            })
            .collect();
    }
    lease
        .router()
        .map(|gw| RouteSpec {
            dest: ipnet::Ipv4Net::default(),
            gateway: Some(gw),
            oif,
        })
        .into_iter()
        .collect()
}

/// Puts `lease`'s address on the interface with the lifetime left at `now` (updating it when
/// the address is already there), and, with `routes`, its routes.
pub fn apply_lease(iface: &Interface, lease: &Lease, now: Time, routes: bool) -> Result<(), Error> {
    let valid = (!lease.is_infinite()).then(|| lease.remaining_secs(now));
    let index = iface.index;
    in_netns(iface.netns.as_deref(), || {
        let mut rtnl = Rtnl::open().map_err(|e| nl_err(iface, "open rtnetlink", e))?;
        rtnl.replace_address(index, lease.address, valid)
            .map_err(|e| nl_err(iface, format!("add address {}", lease.address), e))?;
        if routes {
            for r in lease_routes(lease, index) {
                rtnl.replace_route(&r).map_err(|e| {
                    nl_err(
                        iface,
                        format!("add route {} via {:?}", r.dest, r.gateway),
                        e,
                    )
                })?;
            }
        }
        Ok(())
    })
}

/// Updates the lifetime of `lease`'s address if it is on the interface (after a renewal); does
/// nothing when it is not (someone else manages the interface and removed it).
pub fn refresh_lifetime(iface: &Interface, lease: &Lease, now: Time) -> Result<bool, Error> {
    let valid = (!lease.is_infinite()).then(|| lease.remaining_secs(now));
    let index = iface.index;
    in_netns(iface.netns.as_deref(), || {
        let mut rtnl = Rtnl::open().map_err(|e| nl_err(iface, "open rtnetlink", e))?;
        let present = rtnl
            .addresses(index)
            .map_err(|e| nl_err(iface, "list addresses", e))?
            .iter()
            .any(|a| a.net.addr() == lease.ip());
        if present {
            rtnl.replace_address(index, lease.address, valid)
                .map_err(|e| nl_err(iface, format!("update address {}", lease.address), e))?;
        }
        Ok(present)
    })
}

/// Removes `lease`'s address (and the routes it added) from the interface. Missing ones are
/// not an error.
pub fn remove_lease(iface: &Interface, lease: &Lease) -> Result<(), Error> {
    let index = iface.index;
    in_netns(iface.netns.as_deref(), || {
        let mut rtnl = Rtnl::open().map_err(|e| nl_err(iface, "open rtnetlink", e))?;
        for r in lease_routes(lease, index) {
            rtnl.del_route(&r)
                .map_err(|e| nl_err(iface, format!("delete route {}", r.dest), e))?;
        }
        rtnl.del_address(index, lease.address)
            .map_err(|e| nl_err(iface, format!("delete address {}", lease.address), e))
    })
}

fn nl_err(iface: &Interface, op: impl Into<String>, source: std::io::Error) -> Error {
    Error::Netlink {
        op: op.into(),
        ifname: iface.name.clone(),
        source,
    }
}
