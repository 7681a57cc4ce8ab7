//! RDMA: `mlx5_ib` registering a function's RDMA device at probe and unregistering it at
//! remove, the RDMA netns mode (`rdma system set netns`), moving devices between namespaces
//! (`rdma dev set <dev> netns <ns>`) and opening a device's `uverbs` node, with the kernel's
//! rules and errno.

use std::collections::BTreeSet;

use sriov_core::{MacAddress, Netns, PciAddress, RdmaNetnsMode};

use super::Errno;
use crate::model::{FunctionKind, HOST_NS, Model, NsId};
use crate::rdma::{
    RdmaDevice, RdmaNaming, fw_version, lowest_free, pf_node_guid, rdma_core_pci_name, vf_node_guid,
};

impl Model {
    /// Whether `pci` is an mlx5 function (a PF of an mlx5 model or one of its VFs).
    pub fn is_mlx5(&self, pci: PciAddress) -> bool {
        match self.functions.get(&pci).map(|f| &f.kind) {
            Some(FunctionKind::Nic(nic)) => nic.model.mlx5,
            Some(FunctionKind::Vf { pf, .. }) => self.nic(*pf).is_some_and(|n| n.model.mlx5),
            _ => false,
        }
    }

    /// The name a device registering for `pci` gets.
    fn rdma_name_for(&self, pci: PciAddress) -> String {
        if self.rdma.naming == RdmaNaming::RdmaCorePci {
            let vf_of = match self.functions.get(&pci).map(|f| &f.kind) {
                Some(FunctionKind::Vf { pf, index }) => Some((*pf, *index)),
                _ => None,
            };
            let name = rdma_core_pci_name(pci, vf_of);
            if self.rdma.by_name(&name).is_none() {
                return name;
            }
        }
        let used: BTreeSet<u32> = self
            .rdma
            .devices
            .values()
            .filter_map(|d| d.name.strip_prefix("mlx5_")?.parse().ok())
            .collect();
        format!("mlx5_{}", lowest_free(&used))
    }

    /// `mlx5_ib`'s part of a probe: registers the RDMA device of `pci` (an mlx5 function whose
    /// driver is bound), with the lowest free name number and char-device minors. A no-op for
    /// other functions or when it is already registered.
    pub fn rdma_register(&mut self, pci: PciAddress) {
        if !self.is_mlx5(pci)
            || self.rdma.devices.contains_key(&pci)
            || self.functions.get(&pci).is_none_or(|f| f.driver.is_none())
        {
            return;
        }
        let (pf, admin_mac) = match self.functions.get(&pci).map(|f| &f.kind) {
            Some(FunctionKind::Vf { pf, index }) => {
                let mac = self
                    .nic(*pf)
                    .and_then(|n| n.sriov.as_ref())
                    .and_then(|s| s.vf_table.get(*index as usize))
                    .map_or(MacAddress::ZERO, |s| s.mac);
                (*pf, Some(mac))
            }
            _ => (pci, None),
        };
        let Some(pf_nic) = self.nic(pf) else { return };
        let node_guid = match admin_mac {
            Some(mac) => vf_node_guid(mac),
            None => pf_node_guid(pf_nic.mac),
        };
        // the card's image GUID: its first port's node GUID
        let first_port = PciAddress::from_routing_id(
            pf.domain(),
            pf.routing_id().saturating_sub(u16::from(pf_nic.port)),
        );
        let sys_image_guid = pf_node_guid(self.nic(first_port).map_or(pf_nic.mac, |n| n.mac));
        let fw_ver = fw_version(pf_nic.model.device);
        let name = self.rdma_name_for(pci);
        let uverbs_used: BTreeSet<u32> = self.rdma.devices.values().map(|d| d.uverbs).collect();
        let umad_used: BTreeSet<u32> = self.rdma.devices.values().map(|d| d.umad).collect();
        let seq = self.rdma.next_seq;
        self.rdma.next_seq += 1;
        self.rdma.devices.insert(
            pci,
            RdmaDevice {
                name,
                pci,
                ns: HOST_NS,
                uverbs: lowest_free(&uverbs_used),
                umad: lowest_free(&umad_used),
                node_guid,
                sys_image_guid,
                fw_ver,
                seq,
            },
        );
    }

    /// Unregisters the RDMA device of `pci` (driver unbound, VF disabled), freeing its name
    /// number and minors.
    pub fn rdma_unregister(&mut self, pci: PciAddress) {
        self.rdma.devices.remove(&pci);
    }

    /// A namespace is going away: in exclusive mode its RDMA devices return to the initial
    /// namespace.
    pub fn rdma_netns_deleted(&mut self, ns: NsId) {
        for dev in self.rdma.devices.values_mut() {
            if dev.ns == ns {
                dev.ns = HOST_NS;
            }
        }
    }

    /// `rdma system set netns <mode>`: EBUSY while any non-initial namespace exists, unless the
    /// mode does not change. Switching to shared brings every device back to the initial
    /// namespace's ownership.
    pub fn rdma_set_netns_mode(&mut self, mode: RdmaNetnsMode) -> Result<(), Errno> {
        if self.rdma.netns_mode == mode {
            return Ok(());
        }
        if self.namespaces.keys().any(|id| *id != HOST_NS) {
            return Err(libc::EBUSY);
        }
        self.rdma.netns_mode = mode;
        for dev in self.rdma.devices.values_mut() {
            dev.ns = HOST_NS;
        }
        Ok(())
    }

    /// `ip netns exec <from> rdma dev set <name> netns <to>`: ENOENT for a missing namespace,
    /// ENODEV when `from` does not see the device, EOPNOTSUPP in shared mode. Moving to the
    /// namespace it is in succeeds.
    pub fn rdma_move(&mut self, from: &Netns, name: &str, to: &Netns) -> Result<(), Errno> {
        let from = self.ns_id(from)?;
        let to = self.ns_id(to)?;
        if !self.namespaces.contains_key(&to) || !self.namespaces.contains_key(&from) {
            return Err(libc::ENOENT);
        }
        let state = &self.rdma;
        let pci = state
            .devices
            .values()
            .find(|d| d.name == name && state.visible_in(d, from))
            .map(|d| d.pci)
            .ok_or(libc::ENODEV)?;
        if state.netns_mode == RdmaNetnsMode::Shared {
            return Err(libc::EOPNOTSUPP);
        }
        if let Some(dev) = self.rdma.devices.get_mut(&pci) {
            dev.ns = to;
        }
        Ok(())
    }

    /// The names of the RDMA devices namespace `ns` sees, sorted.
    pub fn rdma_devices_in(&self, ns: NsId) -> Vec<String> {
        let mut names: Vec<String> = self
            .rdma
            .devices
            .values()
            .filter(|d| self.rdma.visible_in(d, ns))
            .map(|d| d.name.clone())
            .collect();
        names.sort();
        names
    }

    /// The names of the RDMA devices `ns` sees (`ip netns exec <ns> rdma dev`), sorted; ENOENT
    /// for a missing namespace.
    pub fn rdma_devices(&self, ns: &Netns) -> Result<Vec<String>, Errno> {
        Ok(self.rdma_devices_in(self.ns_id(ns)?))
    }

    /// Opening `/dev/infiniband/<uverbs>` (`uverbsN`) from a process in `ns`: ENOENT for a
    /// missing namespace, ENODEV when there is no such device, EPERM in exclusive mode when its
    /// RDMA device belongs to another namespace.
    pub fn rdma_open_uverbs(&self, ns: &Netns, uverbs: &str) -> Result<(), Errno> {
        let id = self.ns_id(ns)?;
        let dev = self
            .rdma
            .devices
            .values()
            .find(|d| format!("uverbs{}", d.uverbs) == uverbs)
            .ok_or(libc::ENODEV)?;
        if self.rdma.visible_in(dev, id) {
            Ok(())
        } else {
            Err(libc::EPERM)
        }
    }
}
