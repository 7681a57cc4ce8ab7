//! Kernel behaviour: what writes to sysfs knobs do to the model, with the kernel's checks in
//! the kernel's order and its errno.

use sriov_core::{MacAddress, PciAddress, VfState};

use crate::model::{
    FunctionKind, HOST_NS, Model, NamingScheme, Netdev, NetdevKind, NsId, PciFunction,
};

/// An errno value.
pub type Errno = i32;

/// `kstrtou16(buf, 0, ..)` and friends: an unsigned integer in base 0 (decimal, `0x` hex, `0`
/// octal), an optional leading `+`, at most one trailing newline. EINVAL for anything else,
/// ERANGE above `max`.
pub fn kstrtou(text: &str, max: u64) -> Result<u64, Errno> {
    let s = text.strip_suffix('\n').unwrap_or(text);
    let s = s.strip_prefix('+').unwrap_or(s);
    let bytes = s.as_bytes();
    let (radix, digits) = match bytes {
        [b'0', b'x' | b'X', c, ..] if c.is_ascii_hexdigit() => (16, &s[2..]),
        [b'0', _, ..] => (8, &s[1..]),
        _ => (10, s),
    };
    if digits.is_empty() {
        return Err(libc::EINVAL);
    }
    let mut value: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix).ok_or(libc::EINVAL)?;
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or(libc::ERANGE)?;
    }
    if value > max {
        return Err(libc::ERANGE);
    }
    Ok(value)
}

/// `kstrtobool` (Linux 6.x): by the first character, `y`/`t`/`e`/`1` true and `n`/`f`/`d`/`0`
/// false (either case); `on`/`off` by the first two; EINVAL otherwise.
pub fn kstrtobool(text: &str) -> Result<bool, Errno> {
    let b = text.as_bytes();
    match b {
        [b'y' | b'Y' | b't' | b'T' | b'e' | b'E' | b'1', ..] => Ok(true),
        [b'n' | b'N' | b'f' | b'F' | b'd' | b'D' | b'0', ..] => Ok(false),
        [b'o' | b'O', b'n' | b'N', ..] => Ok(true),
        [b'o' | b'O', b'f' | b'F', ..] => Ok(false),
        _ => Err(libc::EINVAL),
    }
}

/// Checks a netdev name as the kernel's `dev_valid_name()` does (the one rule of the
/// workspace, [`cni_types::validate::is_valid_interface_name`]).
pub fn valid_ifname(name: &str) -> bool {
    cni_types::validate::is_valid_interface_name(name)
}

impl Model {
    /// A write to a PF's `sriov_numvfs`.
    pub fn write_sriov_numvfs(&mut self, pf: PciAddress, text: &str) -> Result<(), Errno> {
        let requested = kstrtou(text, u64::from(u16::MAX))? as u32;
        let func = self.functions.get(&pf).ok_or(libc::ENODEV)?;
        let has_driver = func.driver.is_some();
        let sriov = self
            .nic(pf)
            .and_then(|n| n.sriov.as_ref())
            .ok_or(libc::ENOENT)?;
        if requested > sriov.total_vfs {
            return Err(libc::ERANGE);
        }
        if requested == sriov.num_vfs {
            return Ok(());
        }
        if !has_driver {
            return Err(libc::ENOENT);
        }
        if requested == 0 {
            self.disable_vfs(pf);
            return Ok(());
        }
        if sriov.num_vfs != 0 {
            return Err(libc::EBUSY);
        }
        let count = sriov
            .driver_vf_limit
            .map_or(requested, |limit| requested.min(limit));
        self.enable_vfs(pf, count)
    }

    /// A write to a PF's `sriov_drivers_autoprobe`.
    pub fn write_autoprobe(&mut self, pf: PciAddress, text: &str) -> Result<(), Errno> {
        let value = kstrtobool(text)?;
        let sriov = self
            .nic_mut(pf)
            .and_then(|n| n.sriov.as_mut())
            .ok_or(libc::ENOENT)?;
        sriov.autoprobe = value;
        Ok(())
    }

    fn enable_vfs(&mut self, pf: PciAddress, count: u32) -> Result<(), Errno> {
        let func = self.functions.get(&pf).ok_or(libc::ENODEV)?.clone();
        let FunctionKind::Nic(nic) = &func.kind else {
            return Err(libc::ENOENT);
        };
        let sriov = nic.sriov.as_ref().ok_or(libc::ENOENT)?;
        let mut addrs = Vec::with_capacity(count as usize);
        for i in 0..count {
            let index = u16::try_from(i).map_err(|_| libc::ERANGE)?;
            let vf = pf
                .vf_address(sriov.offset, sriov.stride, index)
                .ok_or(libc::ERANGE)?;
            if self.functions.contains_key(&vf) {
                return Err(libc::EBUSY);
            }
            addrs.push(vf);
        }
        let default_state = VfState {
            spoofchk: nic.model.vendor != 0x15b3,
            ..VfState::default()
        };
        let autoprobe = sriov.autoprobe;
        for (i, vf) in addrs.into_iter().enumerate() {
            self.functions.insert(
                vf,
                PciFunction {
                    pci: vf,
                    vendor: func.vendor,
                    device: sriov.vf_device,
                    subsystem_vendor: func.subsystem_vendor,
                    subsystem_device: func.subsystem_device,
                    class: func.class,
                    numa_node: func.numa_node,
                    parent: func.parent.clone(),
                    driver: None,
                    kind: FunctionKind::Vf {
                        pf,
                        index: i as u32,
                    },
                },
            );
            if autoprobe {
                self.probe(vf, &nic.model.vf_driver.clone())?;
            }
        }
        if let Some(s) = self.nic_mut(pf).and_then(|n| n.sriov.as_mut()) {
            s.num_vfs = count;
            s.vf_table = vec![default_state; count as usize];
        }
        Ok(())
    }

    fn disable_vfs(&mut self, pf: PciAddress) {
        let vfs: Vec<PciAddress> = self
            .functions
            .values()
            .filter(|f| matches!(f.kind, FunctionKind::Vf { pf: p, .. } if p == pf))
            .map(|f| f.pci)
            .collect();
        for vf in vfs {
            self.remove_netdev_of(vf);
            self.functions.remove(&vf);
        }
        if let Some(s) = self.nic_mut(pf).and_then(|n| n.sriov.as_mut()) {
            s.num_vfs = 0;
            s.vf_table.clear();
        }
    }

    fn remove_netdev_of(&mut self, pci: PciAddress) {
        // the driver's remove: its RDMA device goes with its netdev
        self.rdma_unregister(pci);
        self.netdevs.retain(|_, d| d.kind != NetdevKind::Pci(pci));
    }

    /// The driver that matches a function (PF: the model's driver, VF: its VF driver).
    pub fn matching_driver(&self, pci: PciAddress) -> Option<String> {
        match &self.functions.get(&pci)?.kind {
            FunctionKind::Nic(nic) => Some(nic.model.driver.clone()),
            FunctionKind::Vf { pf, .. } => Some(self.nic(*pf)?.model.vf_driver.clone()),
            FunctionKind::Bridge => None,
        }
    }

    /// Binds `driver` to `pci` and creates its netdev (the driver's probe).
    pub fn probe(&mut self, pci: PciAddress, driver: &str) -> Result<(), Errno> {
        let func = self.functions.get_mut(&pci).ok_or(libc::ENODEV)?;
        func.driver = Some(driver.to_string());
        let (name, mac, dev_port, port_name) = match func.kind.clone() {
            FunctionKind::Bridge => return Ok(()),
            FunctionKind::Nic(nic) => (
                nic.ifname.clone(),
                nic.mac,
                0,
                Some(format!("p{}", nic.port)),
            ),
            FunctionKind::Vf { pf, index } => {
                let wanted = match (self.naming, self.nic(pf)) {
                    (NamingScheme::Systemd, Some(nic)) => Some(format!("{}v{index}", nic.ifname)),
                    _ => None,
                };
                let name = match wanted {
                    Some(n) if self.netdev_by_name(HOST_NS, &n).is_none() => n,
                    _ => self.kernel_name(HOST_NS),
                };
                let admin_mac = self
                    .nic(pf)
                    .and_then(|n| n.sriov.as_ref())
                    .and_then(|s| s.vf_table.get(index as usize))
                    .map(|s| s.mac)
                    .filter(|m| !m.is_zero());
                let mac = match admin_mac {
                    Some(m) => m,
                    None => self.next_random_mac(),
                };
                (name, mac, 0, None)
            }
        };
        let name = if self.netdev_by_name(HOST_NS, &name).is_some() {
            self.kernel_name(HOST_NS)
        } else {
            name
        };
        let ifindex = self.take_ifindex();
        self.netdevs.insert(
            ifindex,
            Netdev {
                ifindex,
                name,
                ns: HOST_NS,
                mac,
                mtu: 1500,
                admin_up: false,
                kind: NetdevKind::Pci(pci),
                addresses: Vec::new(),
                dev_port,
                phys_port_name: port_name,
            },
        );
        // mlx5_ib registers the function's RDMA device in the same probe
        self.rdma_register(pci);
        Ok(())
    }

    /// The lowest free `eth<N>` in `ns`.
    pub fn kernel_name(&self, ns: NsId) -> String {
        (0..)
            .map(|n| format!("eth{n}"))
            .find(|n| self.netdev_by_name(ns, n).is_none())
            .unwrap_or_else(|| "eth".into())
    }

    /// Removes a function's driver (and its netdev; a PF's driver takes its VFs with it).
    pub fn release_driver(&mut self, pci: PciAddress) {
        if self
            .nic(pci)
            .and_then(|n| n.sriov.as_ref())
            .is_some_and(|s| s.num_vfs > 0)
        {
            self.disable_vfs(pci);
        }
        self.remove_netdev_of(pci);
        if let Some(f) = self.functions.get_mut(&pci) {
            f.driver = None;
        }
    }

    /// A write to `/sys/bus/pci/drivers/<driver>/bind`.
    pub fn write_bind(&mut self, driver: &str, text: &str) -> Result<(), Errno> {
        let pci: PciAddress = text
            .trim_end_matches('\n')
            .parse()
            .map_err(|_| libc::ENODEV)?;
        let func = self.functions.get(&pci).ok_or(libc::ENODEV)?;
        if func.driver.is_some() {
            return Err(libc::EBUSY);
        }
        if self.matching_driver(pci).as_deref() != Some(driver) {
            return Err(libc::ENODEV);
        }
        self.probe(pci, driver)
    }

    /// A write to `/sys/bus/pci/drivers/<driver>/unbind`.
    pub fn write_unbind(&mut self, driver: &str, text: &str) -> Result<(), Errno> {
        let pci: PciAddress = text
            .trim_end_matches('\n')
            .parse()
            .map_err(|_| libc::ENODEV)?;
        let func = self.functions.get(&pci).ok_or(libc::ENODEV)?;
        if func.driver.as_deref() != Some(driver) {
            return Err(libc::ENODEV);
        }
        self.release_driver(pci);
        Ok(())
    }

    /// Every driver name of the functions present (each gets `/sys/bus/pci/drivers/<name>`).
    pub fn driver_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .functions
            .values()
            .filter_map(|f| match &f.kind {
                FunctionKind::Nic(nic) => {
                    Some([nic.model.driver.clone(), nic.model.vf_driver.clone()])
                }
                _ => None,
            })
            .flatten()
            .chain(self.functions.values().filter_map(|f| f.driver.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// A MAC check as `is_valid_ether_addr`: unicast and not zero.
    pub fn valid_ether_addr(mac: MacAddress) -> bool {
        mac.is_unicast() && !mac.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kstrtou_matches_the_kernel() {
        assert_eq!(kstrtou("8\n", 65535), Ok(8));
        assert_eq!(kstrtou("+8", 65535), Ok(8));
        assert_eq!(kstrtou("0x10", 65535), Ok(16));
        assert_eq!(kstrtou("010", 65535), Ok(8));
        assert_eq!(kstrtou("0", 65535), Ok(0));
        assert_eq!(kstrtou("", 65535), Err(libc::EINVAL));
        assert_eq!(kstrtou("\n", 65535), Err(libc::EINVAL));
        assert_eq!(kstrtou("8\n\n", 65535), Err(libc::EINVAL));
        assert_eq!(kstrtou(" 8", 65535), Err(libc::EINVAL));
        assert_eq!(kstrtou("-1", 65535), Err(libc::EINVAL));
        assert_eq!(kstrtou("09", 65535), Err(libc::EINVAL));
        assert_eq!(kstrtou("65536", 65535), Err(libc::ERANGE));
        assert_eq!(kstrtou("99999999999999999999999", 65535), Err(libc::ERANGE));
    }

    #[test]
    fn kstrtobool_matches_the_kernel() {
        for t in ["1", "y", "Yes", "on", "ON\n", "true", "enable"] {
            assert_eq!(kstrtobool(t), Ok(true), "{t}");
        }
        for t in ["0", "n", "No", "off", "OF", "false", "disable"] {
            assert_eq!(kstrtobool(t), Ok(false), "{t}");
        }
        for t in ["", "2", "o", "x", "\n"] {
            assert_eq!(kstrtobool(t), Err(libc::EINVAL), "{t}");
        }
    }

    #[test]
    fn ifname_rules() {
        assert!(valid_ifname("net1"));
        assert!(valid_ifname("a23456789012345"));
        assert!(valid_ifname("a#b"), "the kernel accepts '#'");
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a:b",
            "a b",
            "a234567890123456",
            "\u{e0}",
        ] {
            assert!(!valid_ifname(bad), "{bad:?}");
        }
    }
}
