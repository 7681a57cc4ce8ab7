//! Links: listing them, renaming (`dev_change_name` as in Linux 6.1), MAC, MTU, up and down,
//! moving to another namespace, veth pairs, and the physical link (cable) of a PF's port.

use sriov_core::{LinkInfo, MacAddress, Netns, PciAddress};

use super::addrs::{IPV4_MIN_MTU, IPV6_MIN_MTU, LOOPBACK_V4, LOOPBACK_V6};
use super::{Errno, valid_ether_addr, valid_ifname};
use crate::model::{FunctionKind, Model, Netdev, NetdevKind, NsId};

/// A link's administrative state (`ip link set <dev> up|down`, `IFF_UP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminState {
    /// Up.
    Up,
    /// Down.
    Down,
}

impl AdminState {
    /// The state `NetOps::set_link_up`'s flag asks for.
    pub(crate) fn from_up(up: bool) -> Self {
        if up { AdminState::Up } else { AdminState::Down }
    }
}

/// The physical link of a PF's port: the cable and its peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhysicalLink {
    /// Plugged in, peer up: the PF has carrier.
    Up,
    /// Unplugged or peer down: no carrier.
    Down,
}

impl Model {
    /// The namespace and ifindex of link `name` in `ns`: ENOENT for a missing namespace, ENODEV
    /// for a missing link.
    pub fn link_id(&self, ns: &Netns, name: &str) -> Result<(NsId, u32), Errno> {
        let id = self.ns_id(ns)?;
        let ifindex = self.ifindex_by_name(id, name).ok_or(libc::ENODEV)?;
        Ok((id, ifindex))
    }

    fn netdev_mut(&mut self, ifindex: u32) -> Result<&mut Netdev, Errno> {
        self.netdevs.get_mut(&ifindex).ok_or(libc::ENODEV)
    }

    /// What `ip link show` reports of a netdev.
    pub fn link_info(&self, dev: &Netdev) -> LinkInfo {
        LinkInfo {
            index: dev.ifindex,
            name: dev.name.clone(),
            // loopback too: the kernel reports `00:00:00:00:00:00` (addr_len 6)
            mac: Some(dev.mac),
            mtu: dev.mtu,
            admin_up: dev.admin_up,
            oper_up: self.oper_up(dev),
        }
    }

    /// Every link in `ns` (ENOENT for a missing namespace).
    pub fn links(&self, ns: &Netns) -> Result<Vec<LinkInfo>, Errno> {
        let id = self.ns_id(ns)?;
        Ok(self
            .netdevs
            .values()
            .filter(|d| d.ns == id)
            .map(|d| self.link_info(d))
            .collect())
    }

    /// The PCI function behind link `name` in `ns`, if it is a PF's or VF's netdev.
    pub fn pci_of_link(&self, ns: &Netns, name: &str) -> Option<PciAddress> {
        let id = self.ns_id(ns).ok()?;
        match self.netdev_by_name(id, name)?.kind {
            NetdevKind::Pci(pci) => Some(pci),
            _ => None,
        }
    }

    /// True when `pci` is a VF.
    pub fn is_vf(&self, pci: PciAddress) -> bool {
        matches!(
            self.functions.get(&pci).map(|f| &f.kind),
            Some(FunctionKind::Vf { .. })
        )
    }

    /// `dev_alloc_name()`: a name with one `%d` becomes the first free number in `ns` (the
    /// link's own name counts as taken); any other `%` is EINVAL, ENFILE when all are taken.
    pub(super) fn alloc_name(&self, ns: NsId, pattern: &str) -> Result<String, Errno> {
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
            .find(|name| self.netdev_by_name(ns, name).is_none())
            .ok_or(libc::ENFILE)
    }

    /// `ip link set <name> name <new_name>`, checked in the kernel's order: the netlink policy
    /// on IFLA_IFNAME (ERANGE over 15 bytes), then `dev_change_name()` as in Linux 6.1 (EBUSY
    /// for an up link, before the name is looked at; 6.2 dropped that check), the same name (a
    /// no-op), `dev_valid_name` (EINVAL), a `%d` pattern (the first free number) or a taken
    /// name (EEXIST).
    pub fn rename_link(&mut self, ns: &Netns, name: &str, new_name: &str) -> Result<(), Errno> {
        self.rtnl(|m| {
            let (id, ifindex) = m.link_id(ns, name)?;
            if new_name.len() > 15 {
                return Err(libc::ERANGE);
            }
            if m.netdev_mut(ifindex)?.admin_up {
                return Err(libc::EBUSY);
            }
            if new_name == name {
                return Ok(());
            }
            if !valid_ifname(new_name) {
                return Err(libc::EINVAL);
            }
            let new_name = if new_name.contains('%') {
                m.alloc_name(id, new_name)?
            } else if m.netdev_by_name(id, new_name).is_some() {
                return Err(libc::EEXIST);
            } else {
                new_name.to_string()
            };
            m.netdev_mut(ifindex)?.name = new_name;
            Ok(())
        })
    }

    /// `ip link set <name> address <mac>`: EADDRNOTAVAIL for a multicast or zero MAC.
    pub fn set_link_mac(&mut self, ns: &Netns, name: &str, mac: MacAddress) -> Result<(), Errno> {
        self.rtnl(|m| {
            let (_, ifindex) = m.link_id(ns, name)?;
            if !valid_ether_addr(mac) {
                return Err(libc::EADDRNOTAVAIL);
            }
            m.netdev_mut(ifindex)?.mac = mac;
            Ok(())
        })
    }

    /// `ip link set <name> mtu <mtu>`: EINVAL outside the device's `min_mtu`..`max_mtu`
    /// (loopback 0 to `INT_MAX`, veth 68-65535, mlx5 68-9978). Below 68 the link loses IPv4,
    /// below 1280 IPv6, with their addresses (NETDEV_CHANGEMTU; routes follow the addresses).
    pub fn set_link_mtu(&mut self, ns: &Netns, name: &str, mtu: u32) -> Result<(), Errno> {
        self.rtnl(|m| {
            let (_, ifindex) = m.link_id(ns, name)?;
            let dev = m.netdev_mut(ifindex)?;
            let (min, max) = match dev.kind {
                NetdevKind::Loopback => (0, i32::MAX as u32),
                NetdevKind::Veth { .. } => (68, 65535),
                NetdevKind::Pci(_) => (68, 9978),
            };
            if mtu < min || mtu > max {
                return Err(libc::EINVAL);
            }
            dev.mtu = mtu;
            if mtu < IPV4_MIN_MTU {
                dev.addresses.retain(|a| a.addr.is_ipv6());
            }
            if mtu < IPV6_MIN_MTU {
                dev.addresses.retain(|a| a.addr.is_ipv4());
            }
            Ok(())
        })
    }

    /// `ip link set <name> up|down`. Loopback coming up gets 127.0.0.1/8 and ::1/128
    /// (NETDEV_UP); a link going down loses its IPv6 addresses (`keep_addr_on_down` off; IPv4
    /// ones stay) and every route through it (NETDEV_DOWN).
    pub fn set_link_admin(
        &mut self,
        ns: &Netns,
        name: &str,
        state: AdminState,
    ) -> Result<(), Errno> {
        self.rtnl(|m| {
            let (id, ifindex) = m.link_id(ns, name)?;
            let dev = m.netdev_mut(ifindex)?;
            let was_up = dev.admin_up;
            let up = state == AdminState::Up;
            dev.admin_up = up;
            if !was_up && up && dev.kind == NetdevKind::Loopback {
                for a in [LOOPBACK_V4, LOOPBACK_V6] {
                    if !dev.addresses.contains(&a) {
                        dev.addresses.push(a);
                    }
                }
            }
            if was_up && !up {
                dev.addresses.retain(|a| a.addr.is_ipv4());
                let name = dev.name.clone();
                if let Some(n) = m.namespaces.get_mut(&id) {
                    n.routes.retain(|r| r.dev != name);
                }
            }
            Ok(())
        })
    }

    /// `ip link set <name> netns <target>`: ENOENT for a missing namespace, ENODEV for a
    /// missing link, a no-op into its own namespace, EINVAL for loopback (NETIF_F_NETNS_LOCAL),
    /// EEXIST when the name is taken there. The kernel closes a device it moves: it arrives
    /// down, without addresses, and its routes stay behind (deleted).
    pub fn move_link(&mut self, ns: &Netns, name: &str, target: &Netns) -> Result<(), Errno> {
        self.rtnl(|m| {
            let from = m.ns_id(ns)?;
            let to = m.ns_id(target)?;
            let ifindex = m.ifindex_by_name(from, name).ok_or(libc::ENODEV)?;
            if from == to {
                return Ok(());
            }
            if m.netdev_mut(ifindex)?.kind == NetdevKind::Loopback {
                return Err(libc::EINVAL);
            }
            if m.netdev_by_name(to, name).is_some() {
                return Err(libc::EEXIST);
            }
            let dev = m.netdev_mut(ifindex)?;
            dev.ns = to;
            dev.admin_up = false;
            dev.addresses.clear();
            if let Some(n) = m.namespaces.get_mut(&from) {
                n.routes.retain(|r| r.dev != name);
            }
            Ok(())
        })
    }

    /// Creates a veth pair, `a` in `ns_a` and `b` in `ns_b` (`ip link add a type veth peer name
    /// b netns ...`), both down with random MACs: ENOENT for a missing namespace, EINVAL for an
    /// invalid name, EEXIST for a taken one.
    pub fn add_veth(&mut self, ns_a: &Netns, a: &str, ns_b: &Netns, b: &str) -> Result<(), Errno> {
        self.rtnl(|m| {
            let (na, nb) = (m.ns_id(ns_a)?, m.ns_id(ns_b)?);
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
                    Netdev {
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

    /// Plugs or unplugs the cable of the PF at `pf` (ENODEV when it is not a NIC function). Its
    /// netdev's carrier follows, and so do its VFs' with link state `auto`.
    pub fn set_physical_link(&mut self, pf: PciAddress, link: PhysicalLink) -> Result<(), Errno> {
        let nic = self.nic_mut(pf).ok_or(libc::ENODEV)?;
        nic.link_up = link == PhysicalLink::Up;
        Ok(())
    }
}
