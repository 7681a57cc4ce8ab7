//! The kubelet model of one node: the device manager (devices as the plugin's ListAndWatch
//! reports them, allocations with the checkpoint `kubelet_internal_checkpoint` written after
//! every change, the pod-resources `List` answer), pod admission against the advertised
//! capacity, and a restart that keeps only what the checkpoint kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use device_plugin::checkpoint::{Checkpoint, PodDeviceEntry};
use device_plugin::sriov_dp::preferred::{Choosable, Freedom, preferred};
use device_plugin::{Device, Health};
use sriov_core::PciAddress;

use crate::error::{Error, Result};

/// Each device's PF and NUMA node, by device ID (what GetPreferredAllocation weighs).
pub type Topology = BTreeMap<String, (PciAddress, Option<u32>)>;

/// One pod in the pod-resources `List` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodResources {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its devices: (resource, device IDs).
    pub devices: Vec<(String, Vec<String>)>,
}

/// A pod the kubelet admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmittedPod {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The device IDs allocated to it.
    pub devices: Vec<String>,
}

/// The device manager and admission of one node's kubelet.
#[derive(Debug)]
pub struct Kubelet {
    resource: String,
    checkpoint: PathBuf,
    /// The plugin's devices as last reported; `None` while no plugin is registered.
    devices: Option<Vec<Device>>,
    /// Each device's PF and NUMA node (for the preferred allocation).
    topology: Topology,
    /// Admitted pods, by UID.
    pods: BTreeMap<String, AdmittedPod>,
    /// False between a restart and the plugin's re-registration (pod-resources down).
    serving: bool,
}

/// Why a pod was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Fewer healthy free devices than requested (`UnexpectedAdmissionError`).
    InsufficientDevices {
        /// Free healthy devices.
        free: usize,
    },
}

impl Kubelet {
    /// The kubelet of a node whose plugin directory is `plugin_dir`, for `resource`.
    pub fn new(resource: &str, plugin_dir: &Path) -> Kubelet {
        Kubelet {
            resource: resource.to_string(),
            checkpoint: plugin_dir.join("kubelet_internal_checkpoint"),
            devices: None,
            topology: BTreeMap::new(),
            pods: BTreeMap::new(),
            serving: true,
        }
    }

    /// The checkpoint's path.
    pub fn checkpoint_path(&self) -> &Path {
        &self.checkpoint
    }

    /// The plugin registered (again) and sent its device list.
    pub fn register(&mut self, devices: Vec<Device>, topology: Topology) {
        self.devices = Some(devices);
        self.topology = topology;
        self.serving = true;
    }

    /// A ListAndWatch update.
    pub fn update_devices(&mut self, devices: Vec<Device>, topology: Topology) {
        if self.devices.is_some() {
            self.devices = Some(devices);
            self.topology = topology;
        }
    }

    /// The plugin's endpoint went away: its devices are no longer allocatable.
    pub fn plugin_gone(&mut self) {
        self.devices = None;
    }

    /// Whether a plugin is registered.
    pub fn registered(&self) -> bool {
        self.devices.is_some()
    }

    /// The advertised capacity (allocatable): the healthy devices.
    pub fn capacity(&self) -> usize {
        self.devices.as_ref().map_or(0, |d| {
            d.iter().filter(|d| d.health == Health::Healthy).count()
        })
    }

    /// Devices allocated to admitted pods.
    pub fn allocated(&self) -> usize {
        self.pods.values().map(|p| p.devices.len()).sum()
    }

    /// Healthy devices not allocated.
    pub fn free(&self) -> usize {
        self.free_ids().len()
    }

    fn free_ids(&self) -> Vec<String> {
        let used: std::collections::BTreeSet<&str> = self
            .pods
            .values()
            .flat_map(|p| p.devices.iter().map(String::as_str))
            .collect();
        self.devices
            .iter()
            .flatten()
            .filter(|d| d.health == Health::Healthy && !used.contains(d.id.as_str()))
            .map(|d| d.id.clone())
            .collect()
    }

    /// Admits pod `uid` asking for `count` devices: the device manager asks the plugin's
    /// GetPreferredAllocation, records the allocation and writes the checkpoint.
    pub fn admit(
        &mut self,
        uid: &str,
        namespace: &str,
        name: &str,
        count: usize,
        defect: Option<crate::Defect>,
    ) -> Result<std::result::Result<Vec<String>, Rejection>> {
        let free = if Self::ignores_allocations(defect) {
            self.healthy_ids()
        } else {
            self.free_ids()
        };
        if free.len() < count {
            return Ok(Err(Rejection::InsufficientDevices { free: free.len() }));
        }
        let choosable: Vec<Choosable> = free
            .iter()
            .map(|id| {
                let (pf, numa_node) = self
                    .topology
                    .get(id)
                    .copied()
                    .unwrap_or((PciAddress::from_routing_id(0, 0), None));
                Choosable {
                    id: id.clone(),
                    pf,
                    numa_node,
                    free: Freedom::Free,
                }
            })
            .collect();
        let mut chosen = preferred(&choosable, &free, &[], count);
        if chosen.len() < count {
            return Ok(Err(Rejection::InsufficientDevices { free: chosen.len() }));
        }
        chosen.sort();
        self.pods.insert(
            uid.to_string(),
            AdmittedPod {
                namespace: namespace.to_string(),
                name: name.to_string(),
                devices: chosen.clone(),
            },
        );
        self.write_checkpoint()?;
        Ok(Ok(chosen))
    }

    /// With [`crate::Defect::DoubleAllocate`], the broken device manager forgets what it
    /// allocated when it chooses: every healthy device counts as free.
    #[cfg(feature = "defect-injection")]
    fn ignores_allocations(defect: Option<crate::Defect>) -> bool {
        defect == Some(crate::Defect::DoubleAllocate)
    }

    #[cfg(not(feature = "defect-injection"))]
    fn ignores_allocations(_defect: Option<crate::Defect>) -> bool {
        false
    }

    fn healthy_ids(&self) -> Vec<String> {
        self.devices
            .iter()
            .flatten()
            .filter(|d| d.health == Health::Healthy)
            .map(|d| d.id.clone())
            .collect()
    }

    /// The pod is gone: its devices are free again.
    pub fn forget(&mut self, uid: &str) -> Result<()> {
        if self.pods.remove(uid).is_some() {
            self.write_checkpoint()?;
        }
        Ok(())
    }

    /// The devices of pod `uid`.
    pub fn devices_of(&self, uid: &str) -> Option<&[String]> {
        self.pods.get(uid).map(|p| p.devices.as_slice())
    }

    /// Every admitted pod, by UID.
    pub fn pods(&self) -> &BTreeMap<String, AdmittedPod> {
        &self.pods
    }

    /// The pod-resources `List` answer; `None` while the kubelet is not serving.
    pub fn pod_resources(&self) -> Option<Vec<PodResources>> {
        self.serving.then(|| {
            self.pods
                .values()
                .map(|p| PodResources {
                    namespace: p.namespace.clone(),
                    name: p.name.clone(),
                    devices: vec![(self.resource.clone(), p.devices.clone())],
                })
                .collect()
        })
    }

    fn write_checkpoint(&self) -> Result<()> {
        let checkpoint = Checkpoint {
            entries: self
                .pods
                .iter()
                .map(|(uid, p)| PodDeviceEntry {
                    pod_uid: uid.clone(),
                    container_name: "mofed-test".into(),
                    resource_name: self.resource.clone(),
                    device_ids: [(-1, p.devices.clone())].into(),
                    alloc_resp: Vec::new(),
                })
                .collect(),
            registered_devices: [(
                self.resource.clone(),
                self.devices
                    .iter()
                    .flatten()
                    .map(|d| d.id.clone())
                    .collect(),
            )]
            .into(),
        };
        let write_err = |source| Error::StateDir {
            op: "write kubelet checkpoint",
            path: self.checkpoint.clone(),
            source,
        };
        if let Some(dir) = self.checkpoint.parent() {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        std::fs::write(&self.checkpoint, checkpoint.to_json()).map_err(write_err)
    }

    /// A kubelet restart: everything in memory is lost; the allocations come back from the
    /// checkpoint (pod names from the runtime's sandboxes, `names`); the plugin must register
    /// again before its devices are allocatable or pod-resources answers.
    pub fn restart(&mut self, names: &BTreeMap<String, (String, String)>) -> Result<()> {
        self.devices = None;
        self.pods.clear();
        self.serving = false;
        let text = match std::fs::read_to_string(&self.checkpoint) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(Error::StateDir {
                    op: "read kubelet checkpoint",
                    path: self.checkpoint.clone(),
                    source,
                });
            }
        };
        let parsed = Checkpoint::parse(&text).map_err(|e| Error::StateDir {
            op: "parse kubelet checkpoint",
            path: self.checkpoint.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        for entry in parsed.entries {
            let (namespace, name) = names.get(&entry.pod_uid).cloned().unwrap_or_default();
            self.pods.insert(
                entry.pod_uid.clone(),
                AdmittedPod {
                    namespace,
                    name,
                    devices: entry.all_device_ids(),
                },
            );
        }
        Ok(())
    }
}
