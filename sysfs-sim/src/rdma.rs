//! The RDMA subsystem's state in the kernel model: the mlx5 RDMA devices registered (when the
//! driver probes a function; unregistered when it goes), their names (`mlx5_N`, lowest free number, so registration order
//! and not PCI order; or rdma-core's udev names), their character-device numbers, GUIDs and
//! firmware, and the RDMA netns mode (see `kernel/rdma.rs` for the kernel's rules,
//! `rdma_ops.rs` for the operations and `rdma_project.rs` for the sysfs files).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sriov_core::{MacAddress, PciAddress, RdmaNetnsMode};

use crate::model::NsId;

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

/// The lowest number not in `used` (names and minors are handed out this way).
pub(crate) fn lowest_free(used: &BTreeSet<u32>) -> u32 {
    let mut free = 0;
    for &n in used {
        // ascending: the first gap is the answer
        if n != free {
            break;
        }
        free += 1;
    }
    free
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
