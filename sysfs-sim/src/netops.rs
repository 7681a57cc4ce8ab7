//! The simulator's [`NetOps`]: the link, address and VF-table operations of rtnetlink, with the
//! kernel's checks and errno.
//!
//! What it models was checked against the real kernel by `sriov-core/tests/netops_conformance.rs`
//! (the same test bodies run here and on veth pairs through rtnetlink): the IFLA_IFNAME policy
//! (ERANGE over 15 bytes), `dev_change_name()` as in Linux 6.1 (EBUSY for an up link, checked
//! first; `%d` patterns), MTU limits and IPv4/IPv6 turned off below 68/1280, loopback's
//! 127.0.0.1/8 and ::1/128, EUI-64 link-local addresses on ready links, IPv6 flushed on down,
//! the kernel's prefix routes, route checks (ENETDOWN, ENETUNREACH, EHOSTUNREACH, host bits) and
//! one route per destination and metric. Not modelled: IPv6 DAD, route metrics other than the
//! defaults, secondary-address promotion.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sriov_core::{
    IpPrefix, LinkInfo, LinkState, MacAddress, NetOps, Netns, Route, TxRate, VfInfo, VfState,
    VlanConfig,
};

use crate::faults::FaultOp;
use crate::host::{Inner, SimHost};
use crate::kernel::valid_ifname;
use crate::model::{FunctionKind, HOST_NS, Model, NetdevKind, NsId};

fn errno(e: i32) -> io::Error {
    io::Error::from_raw_os_error(e)
}

/// Netlink on a simulated host.
#[derive(Clone, Debug)]
pub struct SimNetOps {
    host: SimHost,
}

impl SimNetOps {
    pub(crate) fn new(host: SimHost) -> Self {
        SimNetOps { host }
    }

    /// Creates a veth pair: `a` in `ns_a`, `b` in `ns_b` (as `ip link add a type veth peer
    /// name b netns ...`).
    pub fn add_veth(&self, ns_a: &Netns, a: &str, ns_b: &Netns, b: &str) -> io::Result<()> {
        self.mutate("add_veth", a, b, FaultOp::AddLink, |inner| {
            let (na, nb) = (
                inner.ns_of(ns_a).map_err(os)?,
                inner.ns_of(ns_b).map_err(os)?,
            );
            let m = &mut inner.model;
            if !valid_ifname(a) || !valid_ifname(b) {
                return Err(libc::EINVAL);
            }
            if m.netdev_by_name(na, a).is_some()
                || m.netdev_by_name(nb, b).is_some()
                || (na == nb && a == b)
            {
                return Err(libc::EEXIST);
            }
            let (ia, ib) = (m.take_ifindex(), m.take_ifindex());
            let (mac_a, mac_b) = (m.next_random_mac(), m.next_random_mac());
            for (ifindex, name, ns, mac, peer) in [(ia, a, na, mac_a, ib), (ib, b, nb, mac_b, ia)] {
                m.netdevs.insert(
                    ifindex,
                    crate::model::Netdev {
                        ifindex,
                        name: name.to_string(),
                        ns,
                        mac,
                        mtu: 1500,
                        admin_up: false,
                        kind: NetdevKind::Veth { peer },
                        addresses: Vec::new(),
                        dev_port: 0,
                        phys_port_name: None,
                    },
                );
            }
            Ok(())
        })
    }

    /// Runs a mutation under the lock: checks faults, records it, marks the tree stale.
    fn mutate(
        &self,
        op: &str,
        target: &str,
        arg: &str,
        fault_op: FaultOp,
        change: impl FnOnce(&mut Inner) -> Result<(), i32>,
    ) -> io::Result<()> {
        let mut inner = self.host.lock();
        let result = match inner.faults.check(fault_op, target) {
            Some(e) => Err(e),
            None => change(&mut inner),
        };
        if result.is_ok() {
            autoconf(&mut inner.model);
        }
        inner.record(op, target, arg, &result);
        inner.changed();
        result.map_err(errno)
    }

    fn link_op(
        &self,
        op: &str,
        ns: &Netns,
        name: &str,
        arg: &str,
        fault_op: FaultOp,
        change: impl FnOnce(&mut Model, NsId, u32) -> Result<(), i32>,
    ) -> io::Result<()> {
        self.mutate(op, name, arg, fault_op, |inner| {
            let id = inner.ns_of(ns).map_err(os)?;
            let ifindex = inner.model.ifindex_by_name(id, name).ok_or(libc::ENODEV)?;
            change(&mut inner.model, id, ifindex)
        })
    }

    fn vf_op(
        &self,
        op: &str,
        pf: &str,
        vf: u32,
        arg: String,
        change: impl FnOnce(&mut VfState) -> Result<(), i32>,
    ) -> io::Result<()> {
        let target = format!("{pf}/vf{vf}");
        self.mutate(op, &target, &arg, FaultOp::SetVf, |inner| {
            let table = vf_table_mut(&mut inner.model, pf)?;
            let state = table.get_mut(vf as usize).ok_or(libc::EINVAL)?;
            change(state)
        })
    }
}

fn os(e: io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

fn vf_table_mut<'a>(m: &'a mut Model, pf: &str) -> Result<&'a mut Vec<VfState>, i32> {
    let dev = m.netdev_by_name(HOST_NS, pf).ok_or(libc::ENODEV)?;
    let NetdevKind::Pci(pci) = dev.kind else {
        return Err(libc::EOPNOTSUPP);
    };
    let nic = m.nic_mut(pci).ok_or(libc::EOPNOTSUPP)?;
    nic.sriov
        .as_mut()
        .map(|s| &mut s.vf_table)
        .ok_or(libc::EOPNOTSUPP)
}

fn info(m: &Model, dev: &crate::model::Netdev) -> LinkInfo {
    LinkInfo {
        index: dev.ifindex,
        name: dev.name.clone(),
        // loopback too: the kernel reports `00:00:00:00:00:00` (addr_len 6)
        mac: Some(dev.mac),
        mtu: dev.mtu,
        admin_up: dev.admin_up,
        oper_up: m.oper_up(dev),
    }
}

impl NetOps for SimNetOps {
    fn links(&self, ns: &Netns) -> io::Result<Vec<LinkInfo>> {
        let inner = self.host.lock();
        let id = inner.ns_of(ns)?;
        let m = &inner.model;
        Ok(m.netdevs
            .values()
            .filter(|d| d.ns == id)
            .map(|d| info(m, d))
            .collect())
    }

    fn rename_link(&self, ns: &Netns, name: &str, new_name: &str) -> io::Result<()> {
        self.link_op(
            "rename_link",
            ns,
            name,
            new_name,
            FaultOp::RenameLink,
            |m, id, ifindex| {
                // the netlink policy on IFLA_IFNAME (at most IFNAMSIZ - 1 bytes) answers first
                if new_name.len() > 15 {
                    return Err(libc::ERANGE);
                }
                // then dev_change_name() as in Linux 6.1, where an up link cannot be renamed
                // at all (6.2 dropped this check)
                if m.netdevs.get(&ifindex).ok_or(libc::ENODEV)?.admin_up {
                    return Err(libc::EBUSY);
                }
                if new_name == name {
                    return Ok(());
                }
                if !valid_ifname(new_name) {
                    return Err(libc::EINVAL);
                }
                let new_name = if new_name.contains('%') {
                    alloc_name(m, id, new_name)?
                } else if m.netdev_by_name(id, new_name).is_some() {
                    return Err(libc::EEXIST);
                } else {
                    new_name.to_string()
                };
                let dev = m.netdevs.get_mut(&ifindex).ok_or(libc::ENODEV)?;
                dev.name = new_name;
                Ok(())
            },
        )
    }

    fn set_link_mac(&self, ns: &Netns, name: &str, mac: MacAddress) -> io::Result<()> {
        self.link_op(
            "set_link_mac",
            ns,
            name,
            &mac.to_string(),
            FaultOp::SetLinkMac,
            |m, _, ifindex| {
                if !Model::valid_ether_addr(mac) {
                    return Err(libc::EADDRNOTAVAIL);
                }
                let dev = m.netdevs.get_mut(&ifindex).ok_or(libc::ENODEV)?;
                dev.mac = mac;
                Ok(())
            },
        )
    }

    fn set_link_mtu(&self, ns: &Netns, name: &str, mtu: u32) -> io::Result<()> {
        self.link_op(
            "set_link_mtu",
            ns,
            name,
            &mtu.to_string(),
            FaultOp::SetLinkMtu,
            |m, _, ifindex| {
                let dev = m.netdevs.get_mut(&ifindex).ok_or(libc::ENODEV)?;
                // (min_mtu, max_mtu); the MTU is an int in the kernel
                let (min, max) = match dev.kind {
                    NetdevKind::Loopback => (0, i32::MAX as u32),
                    NetdevKind::Veth { .. } => (68, 65535),
                    NetdevKind::Pci(_) => (68, 9978),
                };
                if mtu < min || mtu > max {
                    return Err(libc::EINVAL);
                }
                dev.mtu = mtu;
                // NETDEV_CHANGEMTU: below 68 IPv4 is torn down, below 1280 IPv6, with their
                // addresses (routes follow the addresses)
                if mtu < IPV4_MIN_MTU {
                    dev.addresses.retain(|a| a.addr.is_ipv6());
                }
                if mtu < IPV6_MIN_MTU {
                    dev.addresses.retain(|a| a.addr.is_ipv4());
                }
                Ok(())
            },
        )
    }

    fn set_link_up(&self, ns: &Netns, name: &str, up: bool) -> io::Result<()> {
        self.link_op(
            "set_link_up",
            ns,
            name,
            if up { "up" } else { "down" },
            FaultOp::SetLinkUp,
            |m, id, ifindex| {
                let dev = m.netdevs.get_mut(&ifindex).ok_or(libc::ENODEV)?;
                let was_up = dev.admin_up;
                dev.admin_up = up;
                if !was_up && up && dev.kind == NetdevKind::Loopback {
                    // NETDEV_UP on loopback: inetdev adds 127.0.0.1/8, addrconf ::1/128
                    for a in [LOOPBACK_V4, LOOPBACK_V6] {
                        if !dev.addresses.contains(&a) {
                            dev.addresses.push(a);
                        }
                    }
                }
                if was_up && !up {
                    // NETDEV_DOWN: IPv6 addresses are flushed (keep_addr_on_down is off), IPv4
                    // ones stay; every route through the link goes
                    dev.addresses.retain(|a| a.addr.is_ipv4());
                    let name = dev.name.clone();
                    if let Some(n) = m.namespaces.get_mut(&id) {
                        n.routes.retain(|r| r.dev != name);
                    }
                }
                Ok(())
            },
        )
    }

    fn move_link(&self, ns: &Netns, name: &str, target: &Netns) -> io::Result<()> {
        self.mutate(
            "move_link",
            name,
            &target.to_string(),
            FaultOp::MoveLink,
            |inner| {
                let from = inner.ns_of(ns).map_err(os)?;
                let to = inner.ns_of(target).map_err(os)?;
                let m = &mut inner.model;
                let ifindex = m.ifindex_by_name(from, name).ok_or(libc::ENODEV)?;
                if from == to {
                    return Ok(());
                }
                let dev = m.netdevs.get(&ifindex).ok_or(libc::ENODEV)?;
                if dev.kind == NetdevKind::Loopback {
                    return Err(libc::EINVAL); // NETIF_F_NETNS_LOCAL
                }
                if m.netdev_by_name(to, name).is_some() {
                    return Err(libc::EEXIST);
                }
                let dev = m.netdevs.get_mut(&ifindex).ok_or(libc::ENODEV)?;
                dev.ns = to;
                dev.admin_up = false; // the kernel closes a device it moves
                dev.addresses.clear();
                let routes = &mut m
                    .namespaces
                    .entry(from)
                    .or_insert_with(|| crate::model::Namespace {
                        path: None,
                        routes: Vec::new(),
                    })
                    .routes;
                routes.retain(|r| r.dev != name);
                Ok(())
            },
        )
    }

    fn addresses(&self, ns: &Netns, name: &str) -> io::Result<Vec<IpPrefix>> {
        let mut inner = self.host.lock();
        let id = inner.ns_of(ns)?;
        if autoconf(&mut inner.model) {
            inner.changed();
        }
        inner
            .model
            .netdev_by_name(id, name)
            .map(|d| d.addresses.clone())
            .ok_or_else(|| errno(libc::ENODEV))
    }

    fn add_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()> {
        self.link_op(
            "add_address",
            ns,
            name,
            &addr.to_string(),
            FaultOp::Address,
            |m, _, ifindex| {
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
                // IPv4 matches address and prefix length (10.0.0.1/24 and /16 are two
                // addresses); IPv6 matches the address alone (ipv6_get_ifaddr)
                let taken = dev.addresses.iter().any(|a| {
                    a.addr == addr.addr && (addr.addr.is_ipv6() || a.prefix_len == addr.prefix_len)
                });
                if taken {
                    return Err(libc::EEXIST);
                }
                dev.addresses.push(addr);
                Ok(())
            },
        )
    }

    fn del_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()> {
        self.link_op(
            "del_address",
            ns,
            name,
            &addr.to_string(),
            FaultOp::Address,
            |m, _, ifindex| {
                let dev = m.netdevs.get_mut(&ifindex).ok_or(libc::ENODEV)?;
                let before = dev.addresses.len();
                dev.addresses.retain(|a| *a != addr);
                if dev.addresses.len() == before {
                    return Err(libc::EADDRNOTAVAIL);
                }
                Ok(())
            },
        )
    }

    fn routes(&self, ns: &Netns) -> io::Result<Vec<Route>> {
        let mut inner = self.host.lock();
        let id = inner.ns_of(ns)?;
        if autoconf(&mut inner.model) {
            inner.changed();
        }
        let m = &inner.model;
        let mut out = prefix_routes(m, id);
        out.extend(
            m.namespaces
                .get(&id)
                .map(|n| n.routes.clone())
                .unwrap_or_default(),
        );
        Ok(out)
    }

    fn add_route(&self, ns: &Netns, route: &Route) -> io::Result<()> {
        self.mutate(
            "add_route",
            &route.dev,
            &format!("{route:?}"),
            FaultOp::Route,
            |inner| {
                let id = inner.ns_of(ns).map_err(os)?;
                let m = &mut inner.model;
                let dev_up = m
                    .netdev_by_name(id, &route.dev)
                    .ok_or(libc::ENODEV)?
                    .admin_up;
                let v6 = route_is_v6(route).ok_or(libc::EINVAL)?;
                let mut route = route.clone();
                if let Some(dst) = route.dst.as_mut() {
                    let network = mask(dst.addr, dst.prefix_len);
                    // IPv4 refuses host bits in the destination; IPv6 masks them off
                    if !v6 && network != dst.addr {
                        return Err(libc::EINVAL);
                    }
                    dst.addr = network;
                }
                // the next hop: a gateway must be on a prefix of the output link
                match route.gateway {
                    Some(IpAddr::V6(gw)) if gw.segments()[0] & 0xffc0 == 0xfe80 => {}
                    Some(gw) if !on_link(m, id, gw, &route.dev) => {
                        return Err(if v6 {
                            libc::EHOSTUNREACH
                        } else {
                            libc::ENETUNREACH
                        });
                    }
                    Some(_) => {}
                    None => {}
                }
                if !dev_up {
                    return Err(libc::ENETDOWN);
                }
                // one route per destination and metric: IPv4 routes added here share metric 0
                // with prefix routes; IPv6 ones (1024) do not clash with prefix routes (256)
                let mut existing = prefix_routes(m, id);
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
            },
        )
    }

    fn vfs(&self, pf: &str) -> io::Result<Vec<VfInfo>> {
        let mut inner = self.host.lock();
        let table = match vf_table_mut(&mut inner.model, pf) {
            Ok(table) => table,
            Err(libc::ENODEV) => return Err(errno(libc::ENODEV)),
            // no IFLA_VFINFO_LIST (a veth, a NIC without SR-IOV): no VFs, as `ip link` shows
            Err(_) => return Ok(Vec::new()),
        };
        Ok(table
            .iter()
            .enumerate()
            .map(|(i, s)| VfInfo {
                index: i as u32,
                state: *s,
            })
            .collect())
    }

    fn set_vf_mac(&self, pf: &str, vf: u32, mac: MacAddress) -> io::Result<()> {
        self.vf_op("set_vf_mac", pf, vf, mac.to_string(), |s| {
            if !mac.is_unicast() {
                return Err(libc::EINVAL);
            }
            s.mac = mac;
            Ok(())
        })
    }

    fn set_vf_vlan(&self, pf: &str, vf: u32, vlan: VlanConfig) -> io::Result<()> {
        self.vf_op("set_vf_vlan", pf, vf, format!("{vlan:?}"), |s| {
            s.vlan = vlan;
            Ok(())
        })
    }

    fn set_vf_spoofchk(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
        self.vf_op("set_vf_spoofchk", pf, vf, on.to_string(), |s| {
            s.spoofchk = on;
            Ok(())
        })
    }

    fn set_vf_trust(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
        self.vf_op("set_vf_trust", pf, vf, on.to_string(), |s| {
            s.trust = on;
            Ok(())
        })
    }

    fn set_vf_link_state(&self, pf: &str, vf: u32, state: LinkState) -> io::Result<()> {
        self.vf_op("set_vf_link_state", pf, vf, state.to_string(), |s| {
            s.link_state = state;
            Ok(())
        })
    }

    fn set_vf_rate(&self, pf: &str, vf: u32, rate: TxRate) -> io::Result<()> {
        self.vf_op("set_vf_rate", pf, vf, format!("{rate:?}"), |s| {
            s.rate = rate;
            Ok(())
        })
    }
}

/// `dev_alloc_name()`: a name with one `%d` becomes the first free number in `ns` (the link's
/// own name counts as taken); any other `%` is EINVAL.
fn alloc_name(m: &Model, ns: NsId, pattern: &str) -> Result<String, i32> {
    let (head, tail) = pattern.split_once('%').ok_or(libc::EINVAL)?;
    let tail = tail.strip_prefix('d').ok_or(libc::EINVAL)?;
    if tail.contains('%') {
        return Err(libc::EINVAL);
    }
    (0..32768)
        .map(|i| {
            let mut name = format!("{head}{i}{tail}");
            name.truncate(15);
            name
        })
        .find(|name| m.netdev_by_name(ns, name).is_none())
        .ok_or(libc::ENFILE)
}

/// Below this MTU a link has no IPv4 (`inetdev_valid_mtu`).
const IPV4_MIN_MTU: u32 = 68;
/// Below this MTU a link has no IPv6 (`IPV6_MIN_MTU`).
const IPV6_MIN_MTU: u32 = 1280;

const LOOPBACK_V4: IpPrefix = IpPrefix {
    addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
    prefix_len: 8,
};
const LOOPBACK_V6: IpPrefix = IpPrefix {
    addr: IpAddr::V6(Ipv6Addr::LOCALHOST),
    prefix_len: 128,
};

/// IPv6 autoconfiguration as addrconf does it: a link that is ready (admin up with carrier)
/// and not loopback has an EUI-64 link-local address (`addr_gen_mode` eui64, the default). The
/// kernel adds it when the link becomes ready, keeps it on carrier loss, and flushes it when the
/// link goes down (see `set_link_up`). Returns whether an address was added.
fn autoconf(m: &mut Model) -> bool {
    let ready: Vec<u32> = m
        .netdevs
        .values()
        .filter(|d| d.kind != NetdevKind::Loopback && d.mtu >= IPV6_MIN_MTU && m.oper_up(d))
        .filter(|d| !d.addresses.iter().any(|a| is_link_local(a.addr)))
        .map(|d| d.ifindex)
        .collect();
    for ifindex in &ready {
        if let Some(d) = m.netdevs.get_mut(ifindex) {
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

fn is_link_local(a: IpAddr) -> bool {
    matches!(a, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}

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

/// The kernel's prefix routes in `ns`'s main table: one per address on an up, non-loopback link
/// (IPv4 below /32 and not in 0.0.0.0/x; IPv6 at any length, link-local giving `fe80::/64`).
/// Loopback's routes live in the local table.
fn prefix_routes(m: &Model, ns: NsId) -> Vec<Route> {
    let mut out: Vec<Route> = Vec::new();
    let up = m
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
/// route of `dev`, or an address of `dev` itself. The kernel's next-hop lookup is bound to the
/// output link, so a gateway on another link's prefix is unreachable.
fn on_link(m: &Model, ns: NsId, gw: IpAddr, dev: &str) -> bool {
    let local = m
        .netdev_by_name(ns, dev)
        .is_some_and(|d| d.admin_up && d.addresses.iter().any(|a| a.addr == gw));
    let added = m
        .namespaces
        .get(&ns)
        .map(|n| n.routes.clone())
        .unwrap_or_default();
    local
        || prefix_routes(m, ns)
            .into_iter()
            .chain(added.into_iter().filter(|r| r.gateway.is_none()))
            .filter(|r| r.dev == dev)
            .filter_map(|r| r.dst)
            .any(|dst| dst.addr.is_ipv6() == gw.is_ipv6() && mask(gw, dst.prefix_len) == dst.addr)
}

/// The PCI function behind a link (for tests and the CNI plugin's bookkeeping).
pub fn pci_of_link(host: &SimHost, ns: &Netns, name: &str) -> Option<sriov_core::PciAddress> {
    let inner = host.lock();
    let id = inner.ns_of(ns).ok()?;
    match inner.model.netdev_by_name(id, name)?.kind {
        NetdevKind::Pci(pci) => Some(pci),
        _ => None,
    }
}

/// True when `pci` is a VF.
pub fn is_vf(model: &Model, pci: sriov_core::PciAddress) -> bool {
    matches!(
        model.functions.get(&pci).map(|f| &f.kind),
        Some(FunctionKind::Vf { .. })
    )
}
