//! Named hosts.

use sriov_core::PciAddress;

use crate::builder::{BuildError, HostBuilder, NicSpec};
use crate::host::SimHost;
use crate::ids::NicModel;

/// The preset names [`preset`] knows.
pub const PRESETS: &[&str] = &["reference", "large", "mixed"];

fn pci(text: &str) -> PciAddress {
    // the preset addresses below are literals known to parse
    text.parse()
        .unwrap_or_else(|_| PciAddress::from_routing_id(0, 0))
}

/// The reference deployment's worker node: one dual-port ConnectX-5, PF0 `0000:3b:00.0`
/// (`ens2f0`) and PF1 `0000:3b:00.1` (`ens2f1`), 8 total VFs each, NUMA node 0, with the 8 VFs
/// of PF0 enabled as the seed's device plugin does.
pub fn reference(seed: u64) -> HostBuilder {
    HostBuilder::new(seed).nic(
        NicSpec::new(NicModel::connectx5(), pci("0000:3b:00.0"))
            .ports(2)
            .names(["ens2f0", "ens2f1"])
            .total_vfs(8)
            .numa_node(Some(0))
            .enable_vfs([8]),
    )
}

/// A large host: four dual-port ConnectX-6 Dx cards on two NUMA nodes, 8 PFs with all 127 VFs
/// enabled on each (1,016 VFs).
pub fn large(seed: u64) -> HostBuilder {
    let mut b = HostBuilder::new(seed);
    for (i, bus) in [
        "0000:18:00.0",
        "0000:3b:00.0",
        "0000:86:00.0",
        "0000:af:00.0",
    ]
    .into_iter()
    .enumerate()
    {
        b = b.nic(
            NicSpec::new(NicModel::connectx6_dx(), pci(bus))
                .ports(2)
                .names([format!("ens{}f0np0", i + 1), format!("ens{}f1np1", i + 1)])
                .total_vfs(127)
                .numa_node(Some(u32::from(i >= 2)))
                .enable_vfs([127, 127]),
        );
    }
    b
}

/// A mixed host: a ConnectX-5 with VFs, an E810 with VFs, an I350 (offset 128, stride 4) with
/// VFs, a ConnectX-4 Lx with autoprobe off (VFs without drivers) and a ConnectX-6 whose driver
/// is not bound.
pub fn mixed(seed: u64) -> HostBuilder {
    HostBuilder::new(seed)
        .nic(
            NicSpec::new(NicModel::connectx5(), pci("0000:3b:00.0"))
                .ports(2)
                .names(["ens2f0", "ens2f1"])
                .enable_vfs([4, 2]),
        )
        .nic(
            NicSpec::new(NicModel::e810(), pci("0000:a2:00.0"))
                .names(["enp162s0f0np0"])
                .total_vfs(16)
                .numa_node(Some(1))
                .enable_vfs([3]),
        )
        .nic(
            NicSpec::new(NicModel::i350(), pci("0000:45:00.0"))
                .ports(2)
                .names(["ens10f0", "ens10f1"])
                .numa_node(None)
                .enable_vfs([3]),
        )
        .nic(
            NicSpec::new(NicModel::connectx4_lx(), pci("0000:5e:00.0"))
                .names(["ens5f0"])
                .autoprobe(false)
                .enable_vfs([2]),
        )
        .nic(
            NicSpec::new(NicModel::connectx6(), pci("0000:d8:00.0"))
                .names(["ens7f0"])
                .driver_bound(false),
        )
}

/// Builds the preset `name`.
///
/// ```
/// let host = sysfs_sim::preset("reference", 1).unwrap();
/// let pfs = sriov_core::discover(&host.sysfs()).unwrap();
/// assert_eq!(pfs[0].netdev.as_deref(), Some("ens2f0"));
/// assert_eq!(pfs[0].vfs.len(), 8);
/// assert!(sysfs_sim::preset("nope", 1).is_err());
/// ```
pub fn preset(name: &str, seed: u64) -> Result<SimHost, BuildError> {
    match name {
        "reference" => reference(seed).build(),
        "large" => large(seed).build(),
        "mixed" => mixed(seed).build(),
        other => Err(BuildError::UnknownPreset(other.to_string())),
    }
}
