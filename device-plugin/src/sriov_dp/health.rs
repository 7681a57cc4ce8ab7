//! Device health as a state machine over observations of the host.
//!
//! A device is Unhealthy exactly while one of these is true, and Healthy again when none is:
//! - [`Fault::PfLinkDown`]: its PF's physical link (the PF netdev's operational state) is down;
//! - [`Fault::VfVanished`]: its PCI function is gone (`sriov_numvfs` lowered, device removed);
//! - [`Fault::DriverUnbound`]: no driver is bound to it;
//! - [`Fault::RdmaDeviceGone`]: it has no RDMA device, and no pod holds it (a held VF's RDMA
//!   device may be in the pod's namespace).
//!
//! A VF's own netdev being down is not a fault: an idle VF's netdev is down, and for RoCE its
//! RDMA port state follows that netdev. A device that vanished stays listed (Unhealthy) until
//! it comes back or the configuration changes, so the kubelet's capacity drops instead of the
//! device silently disappearing.

use std::collections::BTreeMap;
use std::fmt;

use rdma_dev::resource::{Health as RdmaHealth, Problem, ResourceDevice};

use crate::plugin::{Device, Health};

/// Why a device is unhealthy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// The PF's link is down.
    PfLinkDown {
        /// The PF's netdev, when it has one.
        pf_netdev: Option<String>,
    },
    /// The function is gone.
    VfVanished,
    /// No driver is bound.
    DriverUnbound,
    /// The RDMA device is gone.
    RdmaDeviceGone,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::PfLinkDown { pf_netdev: Some(n) } => write!(f, "PF link {n} down"),
            Fault::PfLinkDown { pf_netdev: None } => f.write_str("PF link down (no PF netdev)"),
            Fault::VfVanished => f.write_str("function vanished"),
            Fault::DriverUnbound => f.write_str("driver unbound"),
            Fault::RdmaDeviceGone => f.write_str("RDMA device gone"),
        }
    }
}

/// The faults among rdma-dev's problems (its netdev and port checks are not faults here).
pub fn faults_of(health: &RdmaHealth) -> Vec<Fault> {
    let mut faults: Vec<Fault> = health
        .problems
        .iter()
        .filter_map(|p| match p {
            Problem::FunctionMissing => Some(Fault::VfVanished),
            Problem::NoDriver => Some(Fault::DriverUnbound),
            Problem::NoRdmaDevice => Some(Fault::RdmaDeviceGone),
            Problem::LinkDown { pf_netdev } => Some(Fault::PfLinkDown {
                pf_netdev: pf_netdev.clone(),
            }),
            Problem::NetdevDown { .. } | Problem::PortNotActive { .. } => None,
        })
        .collect();
    faults.sort();
    faults.dedup();
    faults
}

/// A device's health state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeviceHealth {
    /// No fault.
    Healthy,
    /// These faults (sorted, at least one).
    Unhealthy(Vec<Fault>),
}

impl DeviceHealth {
    /// The state for these faults.
    pub fn from_faults(mut faults: Vec<Fault>) -> Self {
        faults.sort();
        faults.dedup();
        if faults.is_empty() {
            DeviceHealth::Healthy
        } else {
            DeviceHealth::Unhealthy(faults)
        }
    }

    /// The kubelet's view.
    pub fn health(&self) -> Health {
        match self {
            DeviceHealth::Healthy => Health::Healthy,
            DeviceHealth::Unhealthy(_) => Health::Unhealthy,
        }
    }
}

impl fmt::Display for DeviceHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceHealth::Healthy => f.write_str("Healthy"),
            DeviceHealth::Unhealthy(faults) => {
                f.write_str("Unhealthy (")?;
                for (i, fault) in faults.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{fault}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// A device the tracker knows: as last seen, and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedDevice {
    /// The device as last discovered.
    pub device: ResourceDevice,
    /// Its state.
    pub health: DeviceHealth,
}

/// A change of one device's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The device.
    pub id: String,
    /// Its state before (`None`: newly seen).
    pub from: Option<DeviceHealth>,
    /// Its state now.
    pub to: DeviceHealth,
}

/// The health state machine of one resource's devices.
///
/// ```
/// use device_plugin::sriov_dp::health::{DeviceHealth, Fault, HealthTracker};
/// # let host = device_plugin::kubelet_sim::hosts::reference(1).unwrap();
/// # let inv = rdma_dev::resource::Inventory::discover(&host.sysfs()).unwrap();
/// # let cfg = rdma_dev::resource::ResourceConfig::parse(r#"{"mode":"sriov","pfNetdevices":["ens2f0"]}"#).unwrap();
/// # let dev = rdma_dev::resource::select_resources(&cfg, &inv)[0].devices[0].clone();
/// let mut t = HealthTracker::default();
/// t.observe(vec![(dev.clone(), vec![])]);
/// // the VF is not there any more: listed, unhealthy
/// let changes = t.observe(vec![]);
/// assert_eq!(changes[0].to, DeviceHealth::Unhealthy(vec![Fault::VfVanished]));
/// assert_eq!(t.devices().count(), 1);
/// // back
/// t.observe(vec![(dev, vec![])]);
/// assert!(t.devices().all(|d| d.health == DeviceHealth::Healthy));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthTracker {
    devices: BTreeMap<String, TrackedDevice>,
}

impl HealthTracker {
    /// Takes one observation: the devices present now, each with its faults. Known devices not
    /// present are [`Fault::VfVanished`]. Returns the devices whose state changed.
    pub fn observe(&mut self, present: Vec<(ResourceDevice, Vec<Fault>)>) -> Vec<Transition> {
        let mut changes = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (device, faults) in present {
            let id = device.id.clone();
            if !seen.insert(id.clone()) {
                continue; // the first observation of an ID wins
            }
            let health = DeviceHealth::from_faults(faults);
            match self.devices.get_mut(&id) {
                Some(tracked) => {
                    tracked.device = device;
                    if tracked.health != health {
                        changes.push(Transition {
                            id,
                            from: Some(tracked.health.clone()),
                            to: health.clone(),
                        });
                        tracked.health = health;
                    }
                }
                None => {
                    changes.push(Transition {
                        id: id.clone(),
                        from: None,
                        to: health.clone(),
                    });
                    self.devices.insert(id, TrackedDevice { device, health });
                }
            }
        }
        let vanished = DeviceHealth::Unhealthy(vec![Fault::VfVanished]);
        for (id, tracked) in &mut self.devices {
            if !seen.contains(id) && tracked.health != vanished {
                changes.push(Transition {
                    id: id.clone(),
                    from: Some(tracked.health.clone()),
                    to: vanished.clone(),
                });
                tracked.health = vanished.clone();
            }
        }
        changes
    }

    /// Every known device, by ID.
    pub fn devices(&self) -> impl Iterator<Item = &TrackedDevice> {
        self.devices.values()
    }

    /// One device.
    pub fn get(&self, id: &str) -> Option<&TrackedDevice> {
        self.devices.get(id)
    }

    /// The list for ListAndWatch: every known device, by ID, with its NUMA node.
    pub fn device_list(&self) -> Vec<Device> {
        self.devices
            .values()
            .map(|t| {
                Device::new(
                    t.device.id.clone(),
                    t.health.health(),
                    t.device.numa_node.map(i64::from),
                )
            })
            .collect()
    }
}
