//! The host monitor: re-reads the configuration file, the VF ledger and the host's sysfs
//! (only through the [`Sysfs`] trait) every poll, and turns them into a [`NodeSnapshot`]:
//! each resource's devices with their health. Polling, because sysfs attributes such as
//! `operstate` cannot be watched with inotify; a poll of the reference host is well under a
//! millisecond of work, so a 200 ms interval puts every change on ListAndWatch within 1 s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rdma_dev::resource::{Allocation, Inventory, device_health};
use sriov_core::Sysfs;
use tokio::sync::watch;

use super::config::{DaemonConfig, ServedResource};
use super::error::DpError;
use super::health::{DeviceHealth, HealthTracker, faults_of};
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

/// The monitor's state between polls.
pub struct Monitor {
    fs: Arc<dyn Sysfs>,
    paths: MonitorPaths,
    prefix: Option<String>,
    config_text: String,
    config: DaemonConfig,
    trackers: BTreeMap<String, HealthTracker>,
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
            }
            Err(e) => tracing::error!("{e}; keeping the loaded config"),
        }
        self.config_text = text;
    }

    /// One look at the host.
    pub fn poll(&mut self) -> Result<NodeSnapshot, DpError> {
        self.reload_config();
        let held = HeldVfs::read(&self.paths.ledger);
        if let HeldVfs::Unreadable(why) = &held {
            tracing::warn!("{why}: counting every VF as held by a pod");
        }
        let discover_err = |source| DpError::Discover {
            root: self.paths.root.clone(),
            source,
        };
        let fs: &dyn Sysfs = self.fs.as_ref();
        let inventory = Inventory::discover(fs).map_err(discover_err)?;
        let mut resources = BTreeMap::new();
        let mut trackers = std::mem::take(&mut self.trackers);
        for served in self.config.select(&inventory) {
            let resource = &served.resource;
            let mut present = Vec::with_capacity(resource.devices.len());
            for device in &resource.devices {
                let allocation = if held.holds(device.pci) {
                    Allocation::HeldByContainer
                } else {
                    Allocation::Free
                };
                let health =
                    device_health(fs, resource, device, allocation).map_err(discover_err)?;
                present.push((device.clone(), faults_of(&health)));
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
        self.trackers = trackers;
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
