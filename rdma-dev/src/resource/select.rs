//! Which candidates each configured resource holds. Candidates are taken in PCI order and each
//! goes to the first resource (in configuration order) whose selectors it matches, so the
//! result does not depend on the order discovery listed things in, and no device is in two
//! resources.

use serde::Serialize;
use sriov_core::PciAddress;

use super::config::{ResourceConfig, SeedMode, Selectors};
use super::inventory::{Candidate, Inventory, Role};
use crate::chardev::CharDevice;

/// A device of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceDevice {
    /// The ID the kubelet sees: the function's PCI address (a MAC is not stable).
    pub id: String,
    /// The function.
    pub pci: PciAddress,
    /// Its PF (its own address for a PF).
    pub root: PciAddress,
    /// NUMA node, for topology hints.
    pub numa_node: Option<u32>,
    /// Its RDMA device, if any.
    pub rdma_device: Option<String>,
    /// That RDMA device's `uverbs`, `umad`, `issm` devices.
    pub char_devices: Vec<CharDevice>,
}

/// A resource and its devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// `prefix/name` (`rdma/vhca`).
    pub name: String,
    /// A shared resource (`rdma/hca`): one device may serve many containers.
    pub shared: bool,
    /// Devices without an RDMA device are unhealthy.
    pub requires_rdma: bool,
    /// The devices, by PCI address.
    pub devices: Vec<ResourceDevice>,
    /// The host's `rdma_cm`, handed to containers with RDMA devices.
    pub rdma_cm: Option<CharDevice>,
}

impl Resource {
    /// The device with this ID.
    pub fn device(&self, id: &str) -> Option<&ResourceDevice> {
        self.devices.iter().find(|d| d.id == id)
    }
}

fn device_of(c: &Candidate) -> ResourceDevice {
    ResourceDevice {
        id: c.pci.to_string(),
        pci: c.pci,
        root: c.root(),
        numa_node: c.numa_node,
        rdma_device: c.rdma.as_ref().map(|r| r.device.clone()),
        char_devices: c
            .rdma
            .as_ref()
            .map(|r| r.char_devices.clone())
            .unwrap_or_default(),
    }
}

/// Whether candidate `c` matches every constraint of `s`.
pub fn matches(s: &Selectors, c: &Candidate) -> bool {
    let in_list =
        |list: &[u16], v: Option<u16>| list.is_empty() || v.is_some_and(|v| list.contains(&v));
    if !in_list(&s.vendors, c.vendor) || !in_list(&s.devices, c.device) {
        return false;
    }
    if !s.drivers.is_empty() && !c.driver.as_ref().is_some_and(|d| s.drivers.contains(d)) {
        return false;
    }
    if !s.pf_names.is_empty() {
        let ok = s.pf_names.iter().any(|p| {
            c.pf_netdev.as_deref() == Some(p.pf.as_str())
                && match c.role {
                    Role::Vf { index, .. } => p.includes(index),
                    Role::Pf { .. } => p.vfs.is_none(),
                }
        });
        if !ok {
            return false;
        }
    }
    if !s.root_devices.is_empty() && !s.root_devices.contains(&c.root()) {
        return false;
    }
    if !s.pci_addresses.is_empty() && !s.pci_addresses.contains(&c.pci) {
        return false;
    }
    if !s.link_types.is_empty()
        && !c
            .link_type
            .as_ref()
            .is_some_and(|t| s.link_types.contains(t))
    {
        return false;
    }
    if let Some(want) = s.is_rdma
        && c.rdma.is_some() != want
    {
        return false;
    }
    true
}

/// Whether a candidate may be offered at all by a `resourceList` resource: a VF, or a PF
/// without VFs (a PF whose VFs are enabled is their parent, not a device).
fn offerable(c: &Candidate) -> bool {
    matches!(c.role, Role::Vf { .. } | Role::Pf { has_vfs: false })
}

/// The resources of `config` over `inventory`.
///
/// ```
/// use rdma_dev::resource::{Inventory, ResourceConfig, select_resources};
/// let host = sysfs_sim::Preset::Reference.build(1).unwrap();
/// let inv = Inventory::discover(&host.sysfs()).unwrap();
/// let cfg = ResourceConfig::parse(r#"{"mode":"sriov","pfNetdevices":["ens2f0"]}"#).unwrap();
/// let res = select_resources(&cfg, &inv);
/// assert_eq!(res[0].name, "rdma/vhca");
/// assert_eq!(res[0].devices.len(), 8);
/// assert_eq!(res[0].devices[0].id, "0000:3b:00.2");
/// ```
pub fn select_resources(config: &ResourceConfig, inventory: &Inventory) -> Vec<Resource> {
    let rdma_cm = inventory.rdma_cm.clone();
    match config {
        ResourceConfig::Seed(seed) => {
            let wanted = |c: &Candidate| {
                c.pf_netdev
                    .as_ref()
                    .is_some_and(|n| seed.pf_netdevices.contains(n))
            };
            let (name, shared, devices) = match seed.mode {
                SeedMode::Sriov => (
                    "rdma/vhca",
                    false,
                    inventory
                        .candidates
                        .iter()
                        .filter(|c| matches!(c.role, Role::Vf { .. }) && wanted(c))
                        .map(device_of)
                        .collect(),
                ),
                SeedMode::Hca => (
                    "rdma/hca",
                    true,
                    inventory
                        .candidates
                        .iter()
                        .filter(|c| {
                            matches!(c.role, Role::Pf { .. })
                                && c.rdma.is_some()
                                && (seed.pf_netdevices.is_empty() || wanted(c))
                        })
                        .map(device_of)
                        .collect(),
                ),
            };
            vec![Resource {
                name: name.to_string(),
                shared,
                requires_rdma: true,
                devices,
                rdma_cm,
            }]
        }
        ResourceConfig::List(specs) => {
            let mut out: Vec<Resource> = specs
                .iter()
                .map(|s| Resource {
                    name: s.full_name(),
                    shared: false,
                    requires_rdma: !s.selectors.is_empty()
                        && s.selectors.iter().all(|sel| sel.is_rdma == Some(true)),
                    devices: Vec::new(),
                    rdma_cm: rdma_cm.clone(),
                })
                .collect();
            let mut candidates: Vec<&Candidate> = inventory
                .candidates
                .iter()
                .filter(|c| offerable(c))
                .collect();
            candidates.sort_by_key(|c| c.pci);
            for c in candidates {
                if let Some(i) = specs
                    .iter()
                    .position(|s| s.selectors.iter().any(|sel| matches(sel, c)))
                {
                    out[i].devices.push(device_of(c));
                }
            }
            out
        }
    }
}
