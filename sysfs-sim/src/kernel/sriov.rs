//! SR-IOV: `sriov_numvfs` and `sriov_drivers_autoprobe` writes, enabling and disabling VFs, and
//! the PF's VF table as rtnetlink reads and sets it (`IFLA_VFINFO_LIST`, `IFLA_VF_*`).

use sriov_core::{LinkState, MacAddress, PciAddress, TxRate, VfInfo, VfState, VlanConfig};

use super::{Errno, kstrtobool, kstrtou};
use crate::model::{FunctionKind, HOST_NS, Model, NetdevKind, PciFunction, SriovCap};

/// One setting of a VF in its PF's VF table, as `ip link set <pf> vf <N> ...` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VfSetting {
    /// `mac`: the admin MAC (a multicast MAC is EINVAL; zero clears it).
    Mac(MacAddress),
    /// `vlan`, `qos`, `proto`.
    Vlan(VlanConfig),
    /// `spoofchk on|off`.
    Spoofchk(bool),
    /// `trust on|off`.
    Trust(bool),
    /// `state auto|enable|disable`.
    LinkState(LinkState),
    /// `min_tx_rate`, `max_tx_rate`.
    Rate(TxRate),
}

impl Model {
    /// A write to a PF's `sriov_numvfs`, checked as `sriov_numvfs_store` does: the number
    /// (EINVAL), above `sriov_totalvfs` (ERANGE), the same count (a no-op), no driver (ENOENT),
    /// 0 (disables), a different non-zero count while VFs exist (EBUSY).
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

    /// A write to a PF's `sriov_drivers_autoprobe` (`kstrtobool`, EINVAL otherwise).
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

    /// Removes every VF of `pf` with its netdev (wherever it is) and RDMA device, and clears
    /// the VF table.
    pub(super) fn disable_vfs(&mut self, pf: PciAddress) {
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

    /// The PF behind the PF netdev `pf` (host namespace) and its SR-IOV capability: ENODEV
    /// without such a link, EOPNOTSUPP when it is not an SR-IOV PF.
    fn sriov_pf_of(&self, pf: &str) -> Result<(PciAddress, &SriovCap), Errno> {
        let dev = self.netdev_by_name(HOST_NS, pf).ok_or(libc::ENODEV)?;
        let NetdevKind::Pci(pci) = dev.kind else {
            return Err(libc::EOPNOTSUPP);
        };
        let sriov = self
            .nic(pci)
            .and_then(|nic| nic.sriov.as_ref())
            .ok_or(libc::EOPNOTSUPP)?;
        Ok((pci, sriov))
    }

    /// The VF table as `ip link show <pf>` reads it: ENODEV without the link; no VFs for a link
    /// that has no `IFLA_VFINFO_LIST` (a veth, a NIC without SR-IOV).
    pub fn vf_infos(&self, pf: &str) -> Result<Vec<VfInfo>, Errno> {
        let sriov = match self.sriov_pf_of(pf) {
            Ok((_, sriov)) => sriov,
            Err(libc::ENODEV) => return Err(libc::ENODEV),
            Err(_) => return Ok(Vec::new()),
        };
        Ok(sriov
            .vf_table
            .iter()
            .enumerate()
            .map(|(i, s)| VfInfo {
                index: i as u32,
                state: *s,
            })
            .collect())
    }

    /// `ip link set <pf> vf <vf> ...`: ENODEV without the PF link, EOPNOTSUPP when it is not
    /// an SR-IOV PF, EINVAL for a VF index past the table or a multicast admin MAC.
    pub fn set_vf(&mut self, pf: &str, vf: u32, setting: VfSetting) -> Result<(), Errno> {
        self.rtnl(|m| {
            let (pci, _) = m.sriov_pf_of(pf)?;
            let state = m
                .nic_mut(pci)
                .and_then(|n| n.sriov.as_mut())
                .and_then(|s| s.vf_table.get_mut(vf as usize))
                .ok_or(libc::EINVAL)?;
            match setting {
                VfSetting::Mac(mac) if !mac.is_unicast() => return Err(libc::EINVAL),
                VfSetting::Mac(mac) => state.mac = mac,
                VfSetting::Vlan(vlan) => state.vlan = vlan,
                VfSetting::Spoofchk(on) => state.spoofchk = on,
                VfSetting::Trust(on) => state.trust = on,
                VfSetting::LinkState(link_state) => state.link_state = link_state,
                VfSetting::Rate(rate) => state.rate = rate,
            }
            Ok(())
        })
    }
}
