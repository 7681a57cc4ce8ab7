//! The typed PF/VF model that discovery produces.

use serde::{Deserialize, Serialize};

use crate::PciAddress;

/// An SR-IOV capable physical function and its enabled VFs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhysicalFunction {
    /// PCI address.
    pub pci: PciAddress,
    /// PCI vendor ID (`vendor`, e.g. 0x15b3 Mellanox).
    pub vendor: u16,
    /// PCI device ID (`device`, e.g. 0x1017 ConnectX-5).
    pub device: u16,
    /// Bound driver (`driver` link), if any.
    pub driver: Option<String>,
    /// NUMA node, if the platform says (`numa_node` -1 is `None`).
    pub numa_node: Option<u32>,
    /// The PF's netdev in this namespace, if any.
    pub netdev: Option<String>,
    /// `sriov_totalvfs`.
    pub total_vfs: u32,
    /// `sriov_numvfs`.
    pub num_vfs: u32,
    /// `sriov_offset` (routing-ID distance to VF 0), where the tree has it.
    pub offset: Option<u16>,
    /// `sriov_stride` (routing-ID distance between VFs), where the tree has it.
    pub stride: Option<u16>,
    /// `sriov_vf_device`, the VFs' device ID, where the kernel has it.
    pub vf_device: Option<u16>,
    /// `sriov_drivers_autoprobe`, where the kernel has it.
    pub drivers_autoprobe: Option<bool>,
    /// The enabled VFs, by index.
    pub vfs: Vec<VirtualFunction>,
}

impl PhysicalFunction {
    /// The address VF `index` has (or would have) from offset and stride; `None` past
    /// `sriov_totalvfs` or when the tree lacks offset or stride.
    pub fn vf_address(&self, index: u32) -> Option<PciAddress> {
        if index >= self.total_vfs.max(self.num_vfs) {
            return None;
        }
        self.pci
            .vf_address(self.offset?, self.stride?, u16::try_from(index).ok()?)
    }
}

/// An enabled VF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualFunction {
    /// VF index under its PF.
    pub index: u32,
    /// PCI address.
    pub pci: PciAddress,
    /// Bound driver, if any (none with `sriov_drivers_autoprobe=0`).
    pub driver: Option<String>,
    /// Its netdev in this namespace; `None` when it has been moved to another namespace (a pod)
    /// or when no driver is bound.
    pub netdev: Option<String>,
}
