//! RDMA in the kernel model: mlx5 RDMA devices registered when the driver probes a function and
//! unregistered when it goes, their names (`mlx5_N`, lowest free number, so registration order
//! and not PCI order; or rdma-core's udev names), their character-device numbers, GUIDs and
//! firmware, and the RDMA netns mode with the kernel's rules (see `rdma_ops.rs` for the
//! operations and `rdma_project.rs` for the sysfs files).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sriov_core::{MacAddress, PciAddress, RdmaNetnsMode};

use crate::model::{FunctionKind, HOST_NS, Model, NsId};

/// `MAJOR` of the fixed character devices of `ib_uverbs` and `ib_umad`.
pub const IB_MAJOR: u32 = 231;
/// The first `ib_uverbs` minor: `uverbsN` is `231:(192 + N)` for N below
/// [`UVERBS_FIXED_MINORS`].
pub const UVERBS_BASE_MINOR: u32 = 192;
/// `uverbs` devices with a fixed minor; later ones get a dynamic major.
pub const UVERBS_FIXED_MINORS: u32 = 32;
/// `umadN` is `231:N` and `issmN` is `231:(64 + N)` for N below this; later ones use a dynamic
/// major.
pub const UMAD_FIXED_MINORS: u32 = 64;
/// The dynamic major the simulator gives `uverbs` devices past the fixed minors (the kernel
/// allocates one at module load; any free major).
pub const UVERBS_DYNAMIC_MAJOR: u32 = 241;
/// The dynamic major the simulator gives `umad`/`issm` devices past the fixed minors.
pub const UMAD_DYNAMIC_MAJOR: u32 = 240;
/// `rdma_cm`'s misc device number (major 10, a dynamic minor).
pub const RDMA_CM_DEV: (u32, u32) = (10, 58);
/// The GID table length the simulator exposes per port (real mlx5 RoCE ports have 256 entries;
/// a shorter table keeps large hosts cheap and shows the same quirks for unused entries).
pub const DEFAULT_GID_TABLE_LEN: u32 = 8;

/// How RDMA devices are named when they register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RdmaNaming {
    /// The kernel's (and MOFED's) names: `mlx5_<lowest free N>`.
    #[default]
    Kernel,
    /// rdma-core's udev rule (`rdma_rename NAME_FALLBACK`, PCI scheme): `roce` plus the PCI
    /// path, `rocep59s0f0` for `0000:3b:00.0`, `P<domain>` first for a non-zero domain, and
    /// `v<index>` for a VF (`rocep59s0f0v3`).
    RdmaCorePci,
}

/// One registered RDMA device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdmaDevice {
    /// Its name (`mlx5_5`).
    pub name: String,
    /// The PCI function it belongs to.
    pub pci: PciAddress,
    /// The namespace it belongs to (only meaningful in exclusive mode).
    pub ns: NsId,
    /// `uverbsN` index.
    pub uverbs: u32,
    /// `umadN`/`issmN` index of its port 1.
    pub umad: u32,
    /// `node_guid`, cached at registration as mlx5 does.
    pub node_guid: u64,
    /// `sys_image_guid`.
    pub sys_image_guid: u64,
    /// `fw_ver`.
    pub fw_ver: String,
    /// Registration sequence number.
    pub seq: u64,
}

/// The RDMA subsystem's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdmaState {
    /// Shared or exclusive.
    pub netns_mode: RdmaNetnsMode,
    /// Device naming.
    pub naming: RdmaNaming,
    /// GID table entries per port.
    pub gid_table_len: u32,
    /// Registered devices by PCI function.
    pub devices: BTreeMap<PciAddress, RdmaDevice>,
    /// Next registration sequence number.
    pub next_seq: u64,
}

impl Default for RdmaState {
    fn default() -> Self {
        RdmaState {
            netns_mode: RdmaNetnsMode::Shared,
            naming: RdmaNaming::Kernel,
            gid_table_len: DEFAULT_GID_TABLE_LEN,
            devices: BTreeMap::new(),
            next_seq: 0,
        }
    }
}

impl RdmaState {
    /// The device named `name`.
    pub fn by_name(&self, name: &str) -> Option<&RdmaDevice> {
        self.devices.values().find(|d| d.name == name)
    }

    /// Whether namespace `ns` sees device `dev`: in shared mode every namespace sees every
    /// device; in exclusive mode only its own.
    pub fn visible_in(&self, dev: &RdmaDevice, ns: NsId) -> bool {
        self.netns_mode == RdmaNetnsMode::Shared || dev.ns == ns
    }
}

/// A GUID from a MAC as Mellanox firmware makes a PF's node GUID: the OUI, `03:00`, then the
/// NIC-specific half (`b8:59:9f:d4:e6:ea` -> `b859:9f03:00d4:e6ea`).
pub fn pf_node_guid(mac: MacAddress) -> u64 {
    let m = mac.0;
    u64::from_be_bytes([m[0], m[1], m[2], 0x03, 0x00, m[3], m[4], m[5]])
}

/// A VF's node GUID as the mlx5 e-switch derives it from the VF's admin MAC
/// (`node_guid_gen_from_mac`: the OUI, `ff:fe`, the rest); zero without an admin MAC.
pub fn vf_node_guid(admin_mac: MacAddress) -> u64 {
    if admin_mac.is_zero() {
        return 0;
    }
    let m = admin_mac.0;
    u64::from_be_bytes([m[0], m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]])
}

/// The firmware version a ConnectX family reports (the major number names the family).
pub fn fw_version(pf_device: u16) -> String {
    match pf_device {
        0x1011 => "10.16.1200",
        0x1013 => "12.28.2006",
        0x1015 => "14.32.1010",
        0x1017 | 0x1019 => "16.35.2000",
        0x101b => "20.38.1002",
        0x101d => "22.38.1002",
        0x101f => "26.38.1002",
        0x1021 => "28.39.1002",
        0xa2d2 => "18.33.1048",
        0xa2d6 => "24.38.1002",
        _ => "16.35.2000",
    }
    .to_string()
}

/// rdma-core's PCI-path name of a function: `rocep<bus>s<slot>f<fn>` (decimal), with
/// `P<domain>` before `p` when the domain is not 0 and `v<index>` after for a VF of `pf`.
pub fn rdma_core_pci_name(pci: PciAddress, vf_of: Option<(PciAddress, u32)>) -> String {
    let base = |a: PciAddress| {
        let domain = if a.domain() != 0 {
            format!("P{}", a.domain())
        } else {
            String::new()
        };
        format!("roce{domain}p{}s{}f{}", a.bus(), a.device(), a.function())
    };
    match vf_of {
        Some((pf, index)) => format!("{}v{index}", base(pf)),
        None => base(pci),
    }
}

fn lowest_free(used: &BTreeSet<u32>) -> u32 {
    (0..).find(|n| !used.contains(n)).unwrap_or(0)
}

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
    pub fn rdma_set_netns_mode(&mut self, mode: RdmaNetnsMode) -> Result<(), i32> {
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

    /// `rdma dev set <name> netns <to>` issued from namespace `from`: EOPNOTSUPP in shared mode,
    /// ENODEV when `from` does not see the device, ENOENT for a missing target namespace.
    pub fn rdma_move(&mut self, from: NsId, name: &str, to: NsId) -> Result<(), i32> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_follow_the_firmware_and_eswitch_rules() {
        let mac = MacAddress([0xb8, 0x59, 0x9f, 0xd4, 0xe6, 0xea]);
        assert_eq!(pf_node_guid(mac), 0xb859_9f03_00d4_e6ea);
        assert_eq!(vf_node_guid(mac), 0xb859_9fff_fed4_e6ea);
        assert_eq!(vf_node_guid(MacAddress::ZERO), 0);
    }

    #[test]
    fn rdma_core_names() {
        let pf: PciAddress = "0000:3b:00.0".parse().unwrap();
        let vf: PciAddress = "0000:3b:00.5".parse().unwrap();
        assert_eq!(rdma_core_pci_name(pf, None), "rocep59s0f0");
        assert_eq!(rdma_core_pci_name(vf, Some((pf, 3))), "rocep59s0f0v3");
        let far: PciAddress = "0001:af:01.1".parse().unwrap();
        assert_eq!(rdma_core_pci_name(far, None), "roceP1p175s1f1");
    }

    #[test]
    fn lowest_free_fills_holes() {
        assert_eq!(lowest_free(&BTreeSet::new()), 0);
        assert_eq!(lowest_free(&[0, 1, 3].into_iter().collect()), 2);
    }
}
