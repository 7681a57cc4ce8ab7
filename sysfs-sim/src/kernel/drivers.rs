//! PCI drivers: which driver matches a function, the probe (netdev and RDMA device), `bind`
//! and `unbind` writes, and the names a probed netdev gets.

use sriov_core::PciAddress;

use super::Errno;
use crate::model::{FunctionKind, HOST_NS, Model, NamingScheme, Netdev, NetdevKind, NsId};

/// The function a `bind`/`unbind` write names (`0000:3b:00.2`, trailing newlines ignored):
/// ENODEV when it is not an address, as `bus_find_device_by_name` finds nothing.
fn parse_bdf(text: &str) -> Result<PciAddress, Errno> {
    text.trim_end_matches('\n')
        .parse()
        .map_err(|_| libc::ENODEV)
}

impl Model {
    /// The driver that matches a function (PF: the model's driver, VF: its VF driver).
    pub fn matching_driver(&self, pci: PciAddress) -> Option<String> {
        match &self.functions.get(&pci)?.kind {
            FunctionKind::Nic(nic) => Some(nic.model.driver.clone()),
            FunctionKind::Vf { pf, .. } => Some(self.nic(*pf)?.model.vf_driver.clone()),
            FunctionKind::Bridge => None,
        }
    }

    /// Binds `driver` to `pci` and creates its netdev (the driver's probe): a PF gets its
    /// udev name, a VF `<pf>v<index>` (systemd naming) or the lowest free `eth<N>` (kernel
    /// naming, or when the wanted name is taken), and its admin MAC or a random one; an mlx5
    /// function also registers its RDMA device. ENODEV for a missing function, ENFILE when no
    /// `eth<N>` is free.
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
                    _ => self.kernel_name(HOST_NS)?,
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
            self.kernel_name(HOST_NS)?
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

    /// The lowest free `eth<N>` in `ns` (`dev_alloc_name("eth%d")`; ENFILE when none is).
    pub fn kernel_name(&self, ns: NsId) -> Result<String, Errno> {
        self.alloc_name(ns, "eth%d")
    }

    /// The driver's remove: the function's RDMA device and netdev go.
    pub(super) fn remove_netdev_of(&mut self, pci: PciAddress) {
        self.rdma_unregister(pci);
        self.netdevs.retain(|_, d| d.kind != NetdevKind::Pci(pci));
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

    /// A write to `/sys/bus/pci/drivers/<driver>/bind`: ENODEV for text that is not a present
    /// function's address or a function the driver does not match, EBUSY when it has a driver.
    pub fn write_bind(&mut self, driver: &str, text: &str) -> Result<(), Errno> {
        let pci = parse_bdf(text)?;
        let func = self.functions.get(&pci).ok_or(libc::ENODEV)?;
        if func.driver.is_some() {
            return Err(libc::EBUSY);
        }
        if self.matching_driver(pci).as_deref() != Some(driver) {
            return Err(libc::ENODEV);
        }
        self.probe(pci, driver)
    }

    /// A write to `/sys/bus/pci/drivers/<driver>/unbind`: ENODEV unless the text names a
    /// function bound to `driver`.
    pub fn write_unbind(&mut self, driver: &str, text: &str) -> Result<(), Errno> {
        let pci = parse_bdf(text)?;
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
}
