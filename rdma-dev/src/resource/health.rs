//! Device health from the host's real state, read fresh from sysfs each time (the anchors
//! report "Healthy" forever):
//! - the function is present and its driver bound;
//! - it has an RDMA device, when the resource needs one;
//! - its physical link is up: the PF's netdev (its own for a PF) is operationally up;
//! - a netdev of the function that is in use here (administratively up) is up, and so is the
//!   RDMA port that follows it.
//!
//! A device allocated to a pod may have its netdev and (in exclusive mode) its RDMA device in
//! the pod's namespace: their absence from the host's view is then expected, not a fault.

use std::path::Path;

use serde::Serialize;
use sriov_core::{Sysfs, discovery::function_netdev, sysfs::paths};

use super::select::{Resource, ResourceDevice};
use crate::attrs::PortState;
use crate::device::devices_of_function;
use crate::error::Result;
use crate::read::{link_name, parse_opt, text_lenient};

/// Something wrong with a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// The PCI function is gone (VFs disabled, device removed).
    FunctionMissing,
    /// No driver is bound.
    NoDriver,
    /// No RDMA device, and the resource needs one.
    NoRdmaDevice,
    /// The physical link (the PF's netdev) is not up.
    LinkDown {
        /// The PF's netdev, if it has one here.
        pf_netdev: Option<String>,
    },
    /// The function's netdev is administratively up but not operationally up.
    NetdevDown {
        /// The netdev.
        netdev: String,
    },
    /// The RDMA port is not ACTIVE while its netdev is in use.
    PortNotActive {
        /// The RDMA device.
        device: String,
        /// Its port 1 state, as printed.
        state: Option<String>,
    },
}

/// A device's health: healthy when there are no problems.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Health {
    /// What is wrong.
    pub problems: Vec<Problem>,
}

impl Health {
    /// No problems.
    pub fn is_healthy(&self) -> bool {
        self.problems.is_empty()
    }

    /// The kubelet's word for it: `Healthy` or `Unhealthy`.
    pub fn kubelet_str(&self) -> &'static str {
        if self.is_healthy() {
            "Healthy"
        } else {
            "Unhealthy"
        }
    }
}

fn admin_up(fs: &dyn Sysfs, netdev: &str) -> bool {
    text_lenient(fs, &Path::new("/sys/class/net").join(netdev).join("flags"))
        .and_then(|f| u32::from_str_radix(f.trim_start_matches("0x"), 16).ok())
        .is_some_and(|flags| flags & 1 == 1)
}

fn oper_up(fs: &dyn Sysfs, netdev: &str) -> bool {
    text_lenient(
        fs,
        &Path::new("/sys/class/net").join(netdev).join("operstate"),
    )
    .as_deref()
        == Some("up")
}

/// Whether a container holds a device (its netdev and RDMA device may then be in the
/// container's namespace, out of the host's view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Allocation {
    /// No container holds it: everything must be visible here.
    Free,
    /// A container holds it.
    HeldByContainer,
}

/// The health of `device` of `resource` in this view of sysfs, given whether a container holds
/// it.
///
/// ```
/// use rdma_dev::resource::{Inventory, ResourceConfig, Problem, device_health, select_resources};
/// let host = sysfs_sim::Preset::Reference.build(1).unwrap();
/// let fs = host.sysfs();
/// let cfg = ResourceConfig::parse(r#"{"mode":"sriov","pfNetdevices":["ens2f0"]}"#).unwrap();
/// let res = &select_resources(&cfg, &Inventory::discover(&fs).unwrap())[0];
/// // the PF's netdev is administratively down on a fresh host: no link
/// let h = device_health(&fs, res, &res.devices[0], rdma_dev::resource::Allocation::Free).unwrap();
/// assert!(matches!(h.problems[..], [Problem::LinkDown { .. }]));
/// ```
pub fn device_health(
    fs: &dyn Sysfs,
    resource: &Resource,
    device: &ResourceDevice,
    allocation: Allocation,
) -> Result<Health> {
    let mut problems = Vec::new();
    let dir = paths::pci_device(&device.pci);
    match fs.entry_kind(&dir) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Health {
                problems: vec![Problem::FunctionMissing],
            });
        }
        Err(source) => return Err(sriov_core::Error::ReadLink { path: dir, source }.into()),
    }
    if link_name(fs, &dir.join("driver"))?.is_none() {
        problems.push(Problem::NoDriver);
    }
    let pf_netdev = function_netdev(fs, &paths::pci_device(&device.root))?;
    if !pf_netdev.as_deref().is_some_and(|n| oper_up(fs, n)) {
        problems.push(Problem::LinkDown {
            pf_netdev: pf_netdev.clone(),
        });
    }
    let own_netdev = if device.root == device.pci {
        pf_netdev
    } else {
        function_netdev(fs, &dir)?
    };
    let in_use = own_netdev.as_deref().is_some_and(|n| admin_up(fs, n));
    if let Some(n) = own_netdev.as_deref()
        && in_use
        && !oper_up(fs, n)
        && device.root != device.pci
    {
        problems.push(Problem::NetdevDown {
            netdev: n.to_string(),
        });
    }
    let rdma = devices_of_function(fs, device.pci)?;
    match rdma.first() {
        None if resource.requires_rdma && allocation == Allocation::Free => {
            problems.push(Problem::NoRdmaDevice)
        }
        Some(name) if in_use => {
            let state: Option<PortState> =
                parse_opt(fs, &dir.join("infiniband").join(name).join("ports/1/state"))?;
            if state != Some(PortState::Active) {
                problems.push(Problem::PortNotActive {
                    device: name.clone(),
                    state: state.map(|s| s.name().to_string()),
                });
            }
        }
        _ => {}
    }
    Ok(Health { problems })
}
