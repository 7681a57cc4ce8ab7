//! Addresses: adding and deleting them with the kernel's checks, and addrconf's automatic
//! addresses (loopback's, and the EUI-64 link-local address of every ready link).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sriov_core::{IpPrefix, Netns};

use super::Errno;
use crate::model::{Model, NetdevKind};

/// Below this MTU a link has no IPv4 (`inetdev_valid_mtu`).
pub(super) const IPV4_MIN_MTU: u32 = 68;
/// Below this MTU a link has no IPv6 (`IPV6_MIN_MTU`).
pub(super) const IPV6_MIN_MTU: u32 = 1280;

/// Loopback's IPv4 address, added when it comes up.
pub(super) const LOOPBACK_V4: IpPrefix = IpPrefix {
    addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
    prefix_len: 8,
};
/// Loopback's IPv6 address, added when it comes up.
pub(super) const LOOPBACK_V6: IpPrefix = IpPrefix {
    addr: IpAddr::V6(Ipv6Addr::LOCALHOST),
    prefix_len: 128,
};

/// Whether `a` is an IPv6 link-local address (`fe80::/10`).
pub(super) fn is_link_local(a: IpAddr) -> bool {
    matches!(a, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}

impl Model {
    /// IPv6 autoconfiguration as addrconf does it: a link that is ready (admin up with carrier)
    /// and not loopback has an EUI-64 link-local address (`addr_gen_mode` eui64, the default).
    /// The kernel adds it when the link becomes ready, keeps it on carrier loss, and flushes it
    /// when the link goes down (see [`Model::set_link_admin`]). The model applies it lazily:
    /// after each netlink change and before each read of addresses or routes. Returns whether
    /// an address was added.
    pub fn addrconf(&mut self) -> bool {
        let ready: Vec<u32> = self
            .netdevs
            .values()
            .filter(|d| d.kind != NetdevKind::Loopback && d.mtu >= IPV6_MIN_MTU && self.oper_up(d))
            .filter(|d| !d.addresses.iter().any(|a| is_link_local(a.addr)))
            .map(|d| d.ifindex)
            .collect();
        for ifindex in &ready {
            if let Some(d) = self.netdevs.get_mut(ifindex) {
                let o = d.mac.octets();
                let ll = Ipv6Addr::from([
                    0xfe,
                    0x80,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    o[0] ^ 2,
                    o[1],
                    o[2],
                    0xff,
                    0xfe,
                    o[3],
                    o[4],
                    o[5],
                ]);
                d.addresses.push(IpPrefix {
                    addr: IpAddr::V6(ll),
                    prefix_len: 64,
                });
            }
        }
        !ready.is_empty()
    }

    /// `ip addr show <name>`: ENOENT for a missing namespace, ENODEV for a missing link.
    /// Applies addrconf first.
    pub fn addresses(&mut self, ns: &Netns, name: &str) -> Result<Vec<IpPrefix>, Errno> {
        let id = self.ns_id(ns)?;
        self.addrconf();
        self.netdev_by_name(id, name)
            .map(|d| d.addresses.clone())
            .ok_or(libc::ENODEV)
    }

    /// `ip addr add <addr> dev <name>`: EINVAL for a prefix longer than the family's, IPv6 on
    /// a link with an MTU below 1280 (EINVAL) or IPv4 below 68 (ENOBUFS), EEXIST for an address
    /// the link has (IPv4 compares address and prefix length, 10.0.0.1/24 and /16 being two
    /// addresses; IPv6 the address alone, as `ipv6_get_ifaddr`).
    pub fn add_address(&mut self, ns: &Netns, name: &str, addr: IpPrefix) -> Result<(), Errno> {
        self.rtnl(|m| {
            let (_, ifindex) = m.link_id(ns, name)?;
            let max = if addr.addr.is_ipv4() { 32 } else { 128 };
            if addr.prefix_len > max {
                return Err(libc::EINVAL);
            }
            let dev = m.netdevs.get_mut(&ifindex).ok_or(libc::ENODEV)?;
            if addr.addr.is_ipv6() && dev.mtu < IPV6_MIN_MTU {
                return Err(libc::EINVAL);
            }
            if addr.addr.is_ipv4() && dev.mtu < IPV4_MIN_MTU {
                return Err(libc::ENOBUFS);
            }
            let taken = dev.addresses.iter().any(|a| {
                a.addr == addr.addr && (addr.addr.is_ipv6() || a.prefix_len == addr.prefix_len)
            });
            if taken {
                return Err(libc::EEXIST);
            }
            dev.addresses.push(addr);
            Ok(())
        })
    }

    /// `ip addr del <addr> dev <name>`: EADDRNOTAVAIL when the link does not have it.
    pub fn del_address(&mut self, ns: &Netns, name: &str, addr: IpPrefix) -> Result<(), Errno> {
        self.rtnl(|m| {
            let (_, ifindex) = m.link_id(ns, name)?;
            let dev = m.netdevs.get_mut(&ifindex).ok_or(libc::ENODEV)?;
            let before = dev.addresses.len();
            dev.addresses.retain(|a| *a != addr);
            if dev.addresses.len() == before {
                return Err(libc::EADDRNOTAVAIL);
            }
            Ok(())
        })
    }
}
