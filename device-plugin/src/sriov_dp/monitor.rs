//! The host monitor: re-reads the configuration file, the VF ledger and the host's sysfs
//! (only through the [`Sysfs`] trait) every poll, and turns them into a [`NodeSnapshot`]:
//! each resource's devices with their health. Polling, because sysfs attributes such as
//! `operstate` cannot be watched with inotify.
//!
//! A poll is kept cheap so that a 200 ms interval (every change on ListAndWatch within 1 s)
//! costs little even with 1,016 devices:
//! - the full discovery (rdma-dev's inventory and resource selection) runs again only when the
//!   host's shape changed: the lists of PCI functions, netdevs and RDMA devices, or a PF's
//!   `sriov_numvfs` (and every [`FULL_SCAN_EVERY`] polls regardless);
//! - each device's health inputs are probed (its function, driver link and RDMA devices, its
//!   PF's link, whether a pod holds it: two reads per device, one per PF), and rdma-dev's
//!   [`device_health`] judges again only the devices whose inputs changed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rdma_dev::resource::{Allocation, Inventory, device_health};
use sriov_core::sysfs::paths;
use sriov_core::{PciAddress, Sysfs};
use tokio::sync::watch;

use super::config::{DaemonConfig, ServedResource};
use super::error::DpError;
use super::health::{DeviceHealth, Fault, HealthTracker, faults_of};
use super::ledger::HeldVfs;
use crate::plugin::Device;
use crate::stop::StopSignal;

/// One resource as of the last poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSnapshot {
    /// The resource, its present devices and socket.
    pub served: ServedResource,
    /// Every known device's state (present or vanished).
    pub tracker: HealthTracker,
    /// The list ListAndWatch sends.
    pub devices: Vec<Device>,
}

/// The node as of the last poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSnapshot {
    /// The resources, by name.
    pub resources: BTreeMap<String, Arc<ResourceSnapshot>>,
    /// What the ledger says pods hold.
    pub held: HeldVfs,
}

/// Where the monitor reads.
#[derive(Debug, Clone)]
pub struct MonitorPaths {
    /// The host root (for messages; reads go through the [`Sysfs`]).
    pub root: PathBuf,
    /// The configuration file.
    pub config: PathBuf,
    /// The VF ledger.
    pub ledger: PathBuf,
}

/// A full discovery runs at least this often (in polls), whatever the host's shape says.
pub const FULL_SCAN_EVERY: u64 = 150;

/// What a full discovery depends on: when none of it changed, its result still holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    pci_functions: Vec<String>,
    netdevs: Vec<String>,
    rdma_devices: Vec<String>,
    num_vfs: Vec<Option<String>>,
}

/// What rdma-dev's health of one device depends on (for the faults this daemon counts).
#[derive(Debug, Clone, PartialEq, Eq)]
struct HealthInputs {
    driver: Option<PathBuf>,
    function_present: bool,
    rdma: Option<Vec<String>>,
    pf_link: Option<(String, Option<String>)>,
    held: bool,
}

/// The last full discovery.
struct Discovery {
    shape: Shape,
    pfs: Vec<PciAddress>,
    served: Vec<ServedResource>,
    at_poll: u64,
}

/// The monitor's state between polls.
pub struct Monitor {
    fs: Arc<dyn Sysfs>,
    paths: MonitorPaths,
    prefix: Option<String>,
    config_text: String,
    config: DaemonConfig,
    trackers: BTreeMap<String, HealthTracker>,
    discovery: Option<Discovery>,
    judged: HashMap<(String, String), (HealthInputs, Vec<Fault>)>,
    polls: u64,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

/// Reads and parses the configuration file.
pub fn load_config(path: &Path, prefix: Option<&str>) -> Result<(String, DaemonConfig), DpError> {
    let text = std::fs::read_to_string(path).map_err(|source| DpError::ReadConfig {
        path: path.to_path_buf(),
        source,
    })?;
    let config = DaemonConfig::parse(&text, prefix)?;
    Ok((text, config))
}

impl Monitor {
    /// A monitor starting from an already loaded configuration.
    pub fn new(
        fs: Arc<dyn Sysfs>,
        paths: MonitorPaths,
        prefix: Option<String>,
        config_text: String,
        config: DaemonConfig,
    ) -> Self {
        Monitor {
            fs,
            paths,
            prefix,
            config_text,
            config,
            trackers: BTreeMap::new(),
            discovery: None,
            judged: HashMap::new(),
            polls: 0,
        }
    }

    /// Picks up a changed configuration file; a file that does not parse keeps the old one.
    fn reload_config(&mut self) {
        let text = match std::fs::read_to_string(&self.paths.config) {
            Ok(text) => text,
            Err(e) => {
                tracing::warn!(
                    "read config {}: {e}; keeping the loaded one",
                    self.paths.config.display()
                );
                return;
            }
        };
        if text == self.config_text {
            return;
        }
        match DaemonConfig::parse(&text, self.prefix.as_deref()) {
            Ok(config) => {
                tracing::info!("loaded config: {}", text.trim());
                self.config = config;
                self.trackers.clear();
                self.discovery = None;
                self.judged.clear();
            }
            Err(e) => tracing::error!("{e}; keeping the loaded config"),
        }
        self.config_text = text;
    }

    fn shape(&self, pfs: &[PciAddress]) -> Shape {
        let fs: &dyn Sysfs = self.fs.as_ref();
        let list = |path: &str| {
            let mut names = fs.read_dir(Path::new(path)).unwrap_or_default();
            names.sort();
            names
        };
        Shape {
            pci_functions: list(paths::PCI_DEVICES),
            netdevs: list(paths::CLASS_NET),
            rdma_devices: list(rdma_dev::CLASS_INFINIBAND),
            num_vfs: pfs
                .iter()
                .map(|pf| fs.read(&paths::pci_attr(pf, "sriov_numvfs")).ok())
                .collect(),
        }
    }

    /// The served resources, from the last discovery when the host's shape is unchanged.
    fn discover(&mut self) -> Result<(), DpError> {
        let stale = match &self.discovery {
            None => true,
            Some(d) => self.polls - d.at_poll >= FULL_SCAN_EVERY || self.shape(&d.pfs) != d.shape,
        };
        if !stale {
            return Ok(());
        }
        let fs: &dyn Sysfs = self.fs.as_ref();
        let inventory = Inventory::discover(fs).map_err(|source| DpError::Discover {
            root: self.paths.root.clone(),
            source,
        })?;
        let mut pfs: Vec<PciAddress> = inventory
            .candidates
            .iter()
            .filter(|c| matches!(c.role, rdma_dev::resource::Role::Pf { .. }))
            .map(|c| c.pci)
            .collect();
        pfs.sort();
        // the shape is read after the inventory: a change in between shows at the next poll
        let shape = self.shape(&pfs);
        self.discovery = Some(Discovery {
            shape,
            pfs,
            served: self.config.select(&inventory),
            at_poll: self.polls,
        });
        Ok(())
    }

    fn pf_link(&self, pf: PciAddress) -> Option<(String, Option<String>)> {
        let fs: &dyn Sysfs = self.fs.as_ref();
        let netdev = sriov_core::discovery::function_netdev(fs, &paths::pci_device(&pf)).ok()??;
        let operstate = fs
            .read(&paths::class_net(&netdev).join("operstate"))
            .ok()
            .map(|t| t.trim().to_string());
        Some((netdev, operstate))
    }

    fn inputs(
        &self,
        pci: PciAddress,
        pf_link: Option<(String, Option<String>)>,
        held: bool,
    ) -> HealthInputs {
        let fs: &dyn Sysfs = self.fs.as_ref();
        let dir = paths::pci_device(&pci);
        let driver = fs.read_link(&dir.join("driver")).ok();
        let function_present = driver.is_some() || fs.entry_kind(&dir).is_ok();
        let rdma = fs.read_dir(&dir.join("infiniband")).ok().map(|mut names| {
            names.sort();
            names
        });
        HealthInputs {
            driver,
            function_present,
            rdma,
            pf_link,
            held,
        }
    }

    /// One look at the host.
    pub fn poll(&mut self) -> Result<NodeSnapshot, DpError> {
        self.polls += 1;
        self.reload_config();
        let held = HeldVfs::read(&self.paths.ledger);
        if let HeldVfs::Unreadable(why) = &held {
            tracing::warn!("{why}: counting every VF as held by a pod");
        }
        self.discover()?;
        let Some(discovery) = &self.discovery else {
            return Ok(NodeSnapshot {
                resources: BTreeMap::new(),
                held,
            });
        };
        let served_all = discovery.served.clone();
        let mut links: HashMap<PciAddress, Option<(String, Option<String>)>> = HashMap::new();
        let mut resources = BTreeMap::new();
        let mut trackers = std::mem::take(&mut self.trackers);
        let mut judged = std::mem::take(&mut self.judged);
        let fs: &dyn Sysfs = self.fs.as_ref();
        for served in served_all {
            let resource = &served.resource;
            let mut present = Vec::with_capacity(resource.devices.len());
            for device in &resource.devices {
                let link = links
                    .entry(device.root)
                    .or_insert_with(|| self.pf_link(device.root))
                    .clone();
                let is_held = held.holds(device.pci);
                let inputs = self.inputs(device.pci, link, is_held);
                let key = (resource.name.clone(), device.id.clone());
                let faults = match judged.get(&key) {
                    Some((seen, faults)) if *seen == inputs => faults.clone(),
                    _ => {
                        let allocation = if is_held {
                            Allocation::HeldByContainer
                        } else {
                            Allocation::Free
                        };
                        let health =
                            device_health(fs, resource, device, allocation).map_err(|source| {
                                DpError::Discover {
                                    root: self.paths.root.clone(),
                                    source,
                                }
                            })?;
                        let faults = faults_of(&health);
                        judged.insert(key, (inputs, faults.clone()));
                        faults
                    }
                };
                present.push((device.clone(), faults));
            }
            let tracker = trackers.entry(resource.name.clone()).or_default();
            for change in tracker.observe(present) {
                if let Some(from) = &change.from {
                    log_transition(&resource.name, &change.id, from, &change.to);
                }
            }
            let devices = tracker.device_list();
            resources.insert(
                resource.name.clone(),
                Arc::new(ResourceSnapshot {
                    tracker: tracker.clone(),
                    devices,
                    served,
                }),
            );
        }
        trackers.retain(|name, _| resources.contains_key(name));
        judged.retain(|(name, _), _| resources.contains_key(name));
        self.trackers = trackers;
        self.judged = judged;
        Ok(NodeSnapshot { resources, held })
    }
}

fn log_transition(resource: &str, id: &str, from: &DeviceHealth, to: &DeviceHealth) {
    match to {
        DeviceHealth::Healthy => tracing::info!("device {id} of {resource}: {from} -> {to}"),
        DeviceHealth::Unhealthy(_) => tracing::warn!("device {id} of {resource}: {from} -> {to}"),
    }
}

/// Polls every `interval` on a thread of its own until `stop` fires, publishing each snapshot
/// that differs from the last. A poll that fails (a tree being replaced under it) is logged
/// and publishes nothing.
pub fn spawn(
    mut monitor: Monitor,
    interval: Duration,
    tx: watch::Sender<Arc<NodeSnapshot>>,
    stop: StopSignal,
) -> Result<std::thread::JoinHandle<()>, DpError> {
    std::thread::Builder::new()
        .name("host-monitor".into())
        .spawn(move || {
            while !stop.is_stopped() {
                std::thread::sleep(interval);
                match monitor.poll() {
                    Ok(snapshot) => {
                        tx.send_if_modified(|current| {
                            if **current == snapshot {
                                false
                            } else {
                                *current = Arc::new(snapshot);
                                true
                            }
                        });
                    }
                    Err(e) => tracing::warn!("{e}; keeping the last state"),
                }
            }
        })
        .map_err(|source| DpError::Start {
            what: "the host monitor thread",
            source,
        })
}
