//! One resource of the daemon as a [`DevicePlugin`]: its devices from the monitor, Allocate
//! handing out exactly the allocated VFs' RDMA character devices with the environment and
//! device-info files of sriov-network-device-plugin, and GetPreferredAllocation.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;
use tonic::Status;

use super::devinfo;
use super::health::DeviceHealth;
use super::monitor::{NodeSnapshot, ResourceSnapshot};
use super::preferred::{Choosable, Freedom, preferred};
use crate::api::v1beta1 as pb;
use crate::plugin::{Device, DevicePlugin, PluginOptions, PreferredAllocation, PreferredRequest};

/// One resource served by `rdma-sriov-dp`.
#[derive(Debug, Clone)]
pub struct ResourcePlugin {
    name: String,
    devices: watch::Receiver<Vec<Device>>,
    node: watch::Receiver<Arc<NodeSnapshot>>,
    devinfo_dir: PathBuf,
}

impl ResourcePlugin {
    /// Resource `name`, its ListAndWatch list from `devices`, its state from `node`; device-info
    /// files go to `devinfo_dir`.
    pub fn new(
        name: &str,
        devices: watch::Receiver<Vec<Device>>,
        node: watch::Receiver<Arc<NodeSnapshot>>,
        devinfo_dir: PathBuf,
    ) -> Self {
        ResourcePlugin {
            name: name.to_string(),
            devices,
            node,
            devinfo_dir,
        }
    }

    fn snapshot(&self) -> Result<(Arc<NodeSnapshot>, Arc<ResourceSnapshot>), Status> {
        let node = self.node.borrow().clone();
        let resource =
            node.resources.get(&self.name).cloned().ok_or_else(|| {
                Status::unavailable(format!("{} is no longer configured", self.name))
            })?;
        Ok((node, resource))
    }
}

fn allocate_container(
    resource: &ResourceSnapshot,
    ids: &[String],
) -> Result<pb::ContainerAllocateResponse, Status> {
    let name = &resource.served.resource.name;
    for id in ids {
        match resource.tracker.get(id).map(|t| &t.health) {
            None => {
                return Err(Status::invalid_argument(format!(
                    "Allocate {name}: unknown device {id:?}"
                )));
            }
            Some(health @ DeviceHealth::Unhealthy(_)) => {
                return Err(Status::invalid_argument(format!(
                    "Allocate {name}: device {id:?} is {health}"
                )));
            }
            Some(DeviceHealth::Healthy) => {}
        }
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let allocation = resource
        .served
        .resource
        .allocate(&refs)
        .map_err(|e| Status::invalid_argument(format!("Allocate {name}: {e}")))?;
    Ok(pb::ContainerAllocateResponse {
        envs: allocation.envs.into_iter().collect(),
        mounts: Vec::new(),
        devices: allocation
            .devices
            .into_iter()
            .map(|d| pb::DeviceSpec {
                container_path: d.container_path.display().to_string(),
                host_path: d.host_path.display().to_string(),
                permissions: d.permissions,
            })
            .collect(),
        annotations: Default::default(),
        cdi_devices: Vec::new(),
    })
}

impl DevicePlugin for ResourcePlugin {
    fn devices(&self) -> watch::Receiver<Vec<Device>> {
        self.devices.clone()
    }

    fn options(&self) -> PluginOptions {
        PluginOptions {
            preferred_allocation: PreferredAllocation::Available,
            ..PluginOptions::default()
        }
    }

    async fn allocate(&self, request: pb::AllocateRequest) -> Result<pb::AllocateResponse, Status> {
        let (_, resource) = self.snapshot()?;
        // every container is checked before anything is written
        let mut responses = Vec::with_capacity(request.container_requests.len());
        for container in &request.container_requests {
            responses.push(allocate_container(&resource, &container.devices_ids)?);
        }
        let mut written = Vec::new();
        for id in request
            .container_requests
            .iter()
            .flat_map(|c| &c.devices_ids)
        {
            let Some(device) = resource.served.resource.device(id) else {
                continue;
            };
            match devinfo::write(&self.devinfo_dir, &self.name, device) {
                Ok(path) => written.push(path),
                Err(e) => {
                    for path in written {
                        let _ = std::fs::remove_file(path);
                    }
                    return Err(Status::internal(format!("Allocate {}: {e}", self.name)));
                }
            }
        }
        Ok(pb::AllocateResponse {
            container_responses: responses,
        })
    }

    async fn preferred_allocation(&self, request: PreferredRequest) -> Result<Vec<String>, Status> {
        let (node, resource) = self.snapshot()?;
        let devices: Vec<Choosable> = resource
            .tracker
            .devices()
            .map(|t| Choosable {
                id: t.device.id.clone(),
                pf: t.device.root,
                numa_node: t.device.numa_node,
                free: match (&t.health, node.held.holds(t.device.pci)) {
                    (_, true) => Freedom::Held,
                    (DeviceHealth::Healthy, false) => Freedom::Free,
                    (DeviceHealth::Unhealthy(_), false) => Freedom::Unhealthy,
                },
            })
            .collect();
        Ok(preferred(
            &devices,
            &request.available,
            &request.must_include,
            request.size,
        ))
    }
}
