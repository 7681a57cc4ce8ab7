//! What a container gets for a set of device IDs: exactly those devices' character devices
//! (`uverbsN`, `umadN`, `issmN`, plus the host's `rdma_cm`), never the whole
//! `/dev/infiniband` the seed plugin handed out, and the environment sriov-network-device-plugin
//! sets: `PCIDEVICE_<RESOURCE>` (the IDs, comma-separated) and `PCIDEVICE_<RESOURCE>_INFO`
//! (per ID, its generic and RDMA details as JSON).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::select::Resource;
use crate::chardev::CharDeviceKind;
use crate::error::{Error, Result};

/// A device node handed to a container (`DeviceSpec` of the device-plugin API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceSpec {
    /// Path inside the container.
    pub container_path: PathBuf,
    /// Path on the host.
    pub host_path: PathBuf,
    /// cgroup permissions (`rw`).
    pub permissions: String,
}

/// A container's share of an allocation (`ContainerAllocateResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ContainerAllocation {
    /// Environment variables.
    pub envs: BTreeMap<String, String>,
    /// Device nodes.
    pub devices: Vec<DeviceSpec>,
}

/// `PCIDEVICE_` and the resource name in upper case with `.` and `/` as `_`
/// (`rdma/vhca` -> `PCIDEVICE_RDMA_VHCA`).
///
/// ```
/// assert_eq!(rdma_dev::resource::env_name("nvidia.com/mlnx_rdma"), "PCIDEVICE_NVIDIA_COM_MLNX_RDMA");
/// ```
pub fn env_name(resource: &str) -> String {
    format!(
        "PCIDEVICE_{}",
        resource.to_ascii_uppercase().replace(['.', '/'], "_")
    )
}

impl Resource {
    /// The allocation for device IDs `ids` (unknown or repeated IDs are errors).
    ///
    /// ```
    /// use rdma_dev::resource::{Inventory, ResourceConfig, select_resources};
    /// let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    /// let cfg = ResourceConfig::parse(r#"{"mode":"sriov","pfNetdevices":["ens2f0"]}"#).unwrap();
    /// let res = &select_resources(&cfg, &Inventory::discover(&host.sysfs()).unwrap())[0];
    /// let a = res.allocate(&["0000:3b:00.5"]).unwrap();
    /// assert_eq!(a.envs["PCIDEVICE_RDMA_VHCA"], "0000:3b:00.5");
    /// let paths: Vec<_> = a.devices.iter().map(|d| d.host_path.display().to_string()).collect();
    /// assert_eq!(paths, ["/dev/infiniband/uverbs5", "/dev/infiniband/umad5",
    ///                    "/dev/infiniband/issm5", "/dev/infiniband/rdma_cm"]);
    /// ```
    pub fn allocate(&self, ids: &[&str]) -> Result<ContainerAllocation> {
        let mut seen = BTreeSet::new();
        let mut devices = Vec::new();
        let mut info = Map::new();
        let mut any_rdma = false;
        let cm_path = self.rdma_cm.as_ref().map(|c| c.path());
        for id in ids {
            if !seen.insert(*id) {
                return Err(Error::DuplicateDeviceId {
                    resource: self.name.clone(),
                    id: id.to_string(),
                });
            }
            let dev = self.device(id).ok_or_else(|| Error::UnknownDeviceId {
                resource: self.name.clone(),
                id: id.to_string(),
            })?;
            let mut entry = Map::new();
            entry.insert("generic".into(), json!({ "deviceID": dev.id }));
            if let Some(rdma_dev) = &dev.rdma_device {
                any_rdma = true;
                let mut rdma = Map::new();
                for c in &dev.char_devices {
                    devices.push(DeviceSpec {
                        container_path: c.path(),
                        host_path: c.path(),
                        permissions: "rw".into(),
                    });
                    let key = match c.kind {
                        CharDeviceKind::Uverbs => "uverbs",
                        CharDeviceKind::Umad => "umad",
                        _ => continue,
                    };
                    rdma.entry(key)
                        .or_insert_with(|| Value::String(c.path().display().to_string()));
                }
                if let Some(cm) = &cm_path {
                    rdma.insert("rdma_cm".into(), Value::String(cm.display().to_string()));
                }
                rdma.insert("rdma_dev".into(), Value::String(rdma_dev.clone()));
                entry.insert("rdma".into(), Value::Object(rdma));
            }
            info.insert(dev.id.clone(), Value::Object(entry));
        }
        if let (true, Some(cm)) = (any_rdma, cm_path) {
            devices.push(DeviceSpec {
                container_path: cm.clone(),
                host_path: cm,
                permissions: "rw".into(),
            });
        }
        let name = env_name(&self.name);
        let mut envs = BTreeMap::new();
        envs.insert(format!("{name}_INFO"), Value::Object(info).to_string());
        envs.insert(name, ids.join(","));
        Ok(ContainerAllocation { envs, devices })
    }
}
