//! The functions a resource may hold: every VF of every SR-IOV PF, every PF, and every other PCI
//! function with an RDMA device, each with what selectors look at (IDs, driver, PF and VF
//! index, link type, RDMA device and its character devices).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use sriov_core::{PciAddress, Sysfs, discover};

use crate::attrs::{LinkLayer, attr_value};
use crate::chardev::{CharDevice, rdma_cm};
use crate::device::{RdmaDevice, discover_rdma};
use crate::error::Result;
use crate::read::{link_name, text_opt};

/// A function's place in SR-IOV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Role {
    /// A physical function (or a function without SR-IOV).
    Pf {
        /// It has VFs enabled.
        has_vfs: bool,
    },
    /// A virtual function.
    Vf {
        /// Its PF.
        pf: PciAddress,
        /// Its index.
        index: u32,
    },
}

/// The RDMA side of a function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RdmaInfo {
    /// The RDMA device (`mlx5_5`).
    pub device: String,
    /// Its `uverbs`, `umad`, `issm` devices.
    pub char_devices: Vec<CharDevice>,
}

/// A PCI function a resource may hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// Address (a VF's is its device ID).
    pub pci: PciAddress,
    /// PF or VF.
    pub role: Role,
    /// PCI vendor ID.
    pub vendor: Option<u16>,
    /// PCI device ID.
    pub device: Option<u16>,
    /// Bound driver.
    pub driver: Option<String>,
    /// NUMA node.
    pub numa_node: Option<u32>,
    /// Its netdev in this view.
    pub netdev: Option<String>,
    /// The PF's netdev (its own for a PF).
    pub pf_netdev: Option<String>,
    /// `ether` or `infiniband` (from its RDMA port, its netdev, or its PF's).
    pub link_type: Option<String>,
    /// Its RDMA device.
    pub rdma: Option<RdmaInfo>,
}

impl Candidate {
    /// The PF's address: its own for a PF.
    pub fn root(&self) -> PciAddress {
        match self.role {
            Role::Vf { pf, .. } => pf,
            Role::Pf { .. } => self.pci,
        }
    }
}

/// Every candidate of a host, sorted by PCI address, and the host's `rdma_cm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inventory {
    /// The candidates, by address.
    pub candidates: Vec<Candidate>,
    /// `/dev/infiniband/rdma_cm`, when the host has it.
    pub rdma_cm: Option<CharDevice>,
}

fn link_type_of_layer(layer: &LinkLayer) -> Option<String> {
    match layer {
        LinkLayer::Ethernet => Some("ether".into()),
        LinkLayer::InfiniBand => Some("infiniband".into()),
        LinkLayer::Other(_) => None,
    }
}

fn netdev_link_type(fs: &dyn Sysfs, netdev: &str) -> Option<String> {
    let path = Path::new("/sys/class/net").join(netdev).join("type");
    match fs.read(&path).ok().as_deref().map(attr_value) {
        Some("1") => Some("ether".into()),
        Some("32") => Some("infiniband".into()),
        _ => None,
    }
}

fn hex_attr(fs: &dyn Sysfs, pci: PciAddress, name: &str) -> Result<Option<u16>> {
    let path = sriov_core::sysfs::paths::pci_attr(&pci, name);
    Ok(text_opt(fs, &path)?.and_then(|t| {
        t.strip_prefix("0x")
            .and_then(|d| u16::from_str_radix(d, 16).ok())
    }))
}

impl Inventory {
    /// Builds the inventory from this view of sysfs.
    ///
    /// ```
    /// let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    /// let inv = rdma_dev::resource::Inventory::discover(&host.sysfs()).unwrap();
    /// assert_eq!(inv.candidates.len(), 10); // 2 PFs, 8 VFs
    /// assert!(inv.candidates.iter().all(|c| c.rdma.is_some()));
    /// ```
    pub fn discover(fs: &dyn Sysfs) -> Result<Inventory> {
        let pfs = discover(fs)?;
        let rdma: Vec<RdmaDevice> = discover_rdma(fs)?;
        let mut by_pci: BTreeMap<PciAddress, &RdmaDevice> = BTreeMap::new();
        for dev in &rdma {
            if let Some(pci) = dev.pci {
                by_pci.entry(pci).or_insert(dev);
            }
        }
        let info = |pci: PciAddress| -> Option<RdmaInfo> {
            by_pci.get(&pci).map(|d| RdmaInfo {
                device: d.name.clone(),
                char_devices: d.char_devices.clone(),
            })
        };
        let own_layer = |pci: PciAddress| -> Option<String> {
            by_pci
                .get(&pci)
                .and_then(|d| d.first_port())
                .and_then(|p| p.link_layer.as_ref())
                .and_then(link_type_of_layer)
        };
        let mut out: BTreeMap<PciAddress, Candidate> = BTreeMap::new();
        for pf in &pfs {
            let pf_type = own_layer(pf.pci)
                .or_else(|| pf.netdev.as_deref().and_then(|n| netdev_link_type(fs, n)));
            out.insert(
                pf.pci,
                Candidate {
                    pci: pf.pci,
                    role: Role::Pf {
                        has_vfs: !pf.vfs.is_empty(),
                    },
                    vendor: Some(pf.vendor),
                    device: Some(pf.device),
                    driver: pf.driver.clone(),
                    numa_node: pf.numa_node,
                    netdev: pf.netdev.clone(),
                    pf_netdev: pf.netdev.clone(),
                    link_type: pf_type.clone(),
                    rdma: info(pf.pci),
                },
            );
            for vf in &pf.vfs {
                out.insert(
                    vf.pci,
                    Candidate {
                        pci: vf.pci,
                        role: Role::Vf {
                            pf: pf.pci,
                            index: vf.index,
                        },
                        vendor: Some(pf.vendor),
                        device: pf.vf_device,
                        driver: vf.driver.clone(),
                        numa_node: pf.numa_node,
                        netdev: vf.netdev.clone(),
                        pf_netdev: pf.netdev.clone(),
                        link_type: own_layer(vf.pci).or_else(|| pf_type.clone()),
                        rdma: info(vf.pci),
                    },
                );
            }
        }
        // functions with an RDMA device but no SR-IOV capability (a ConnectX-3, an HCA with
        // SR-IOV off in firmware)
        for (pci, dev) in &by_pci {
            if out.contains_key(pci) {
                continue;
            }
            let dir = sriov_core::sysfs::paths::pci_device(pci);
            let netdev = sriov_core::discovery::function_netdev(fs, &dir).unwrap_or(None);
            let numa = text_opt(fs, &dir.join("numa_node"))?.and_then(|t| t.parse::<u32>().ok());
            out.insert(
                *pci,
                Candidate {
                    pci: *pci,
                    role: Role::Pf { has_vfs: false },
                    vendor: hex_attr(fs, *pci, "vendor")?,
                    device: hex_attr(fs, *pci, "device")?,
                    driver: link_name(fs, &dir.join("driver"))?,
                    numa_node: numa,
                    pf_netdev: netdev.clone(),
                    link_type: own_layer(*pci)
                        .or_else(|| netdev.as_deref().and_then(|n| netdev_link_type(fs, n))),
                    netdev,
                    rdma: Some(RdmaInfo {
                        device: dev.name.clone(),
                        char_devices: dev.char_devices.clone(),
                    }),
                },
            );
        }
        Ok(Inventory {
            candidates: out.into_values().collect(),
            rdma_cm: rdma_cm(fs)?,
        })
    }
}
