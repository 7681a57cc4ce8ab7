//! A client of the kubelet's pod-resources API v1 (`v1.PodResourcesLister` on
//! `/var/lib/kubelet/pod-resources/kubelet.sock`): which devices each pod's containers got.

use std::path::{Path, PathBuf};

use crate::api::pod_resources as pr;
use crate::error::{Error, Result};
use crate::uds;

/// A connected pod-resources client.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> device_plugin::Result<()> {
/// use device_plugin::pod_resources::PodResourcesClient;
/// let mut client = PodResourcesClient::connect(device_plugin::api::DEFAULT_POD_RESOURCES_SOCKET.as_ref()).await?;
/// for pod in client.list().await? {
///     for c in &pod.containers {
///         for d in &c.devices {
///             println!("{}/{} {} {}: {:?}", pod.namespace, pod.name, c.name, d.resource_name, d.device_ids);
///         }
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PodResourcesClient {
    socket: PathBuf,
    client: pr::pod_resources_lister_client::PodResourcesListerClient<tonic::transport::Channel>,
}

impl PodResourcesClient {
    /// Connects to the kubelet's pod-resources socket.
    pub async fn connect(socket: &Path) -> Result<Self> {
        let channel = uds::connect(socket).await?;
        Ok(PodResourcesClient {
            socket: socket.to_path_buf(),
            client: pr::pod_resources_lister_client::PodResourcesListerClient::new(channel),
        })
    }

    fn call_error(&self, method: &'static str, status: tonic::Status) -> Error {
        Error::Call {
            method,
            socket: self.socket.clone(),
            source: Box::new(status),
        }
    }

    /// Every pod's resources.
    pub async fn list(&mut self) -> Result<Vec<pr::PodResources>> {
        match self.client.list(pr::ListPodResourcesRequest {}).await {
            Ok(r) => Ok(r.into_inner().pod_resources),
            Err(status) => Err(self.call_error("/v1.PodResourcesLister/List", status)),
        }
    }

    /// One pod's resources, by name and namespace.
    pub async fn get(&mut self, namespace: &str, name: &str) -> Result<pr::PodResources> {
        let request = pr::GetPodResourcesRequest {
            pod_name: name.to_string(),
            pod_namespace: namespace.to_string(),
        };
        match self.client.get(request).await {
            Ok(r) => Ok(r.into_inner().pod_resources.unwrap_or_default()),
            Err(status) => Err(self.call_error("/v1.PodResourcesLister/Get", status)),
        }
    }

    /// What the node can hand out.
    pub async fn allocatable(&mut self) -> Result<pr::AllocatableResourcesResponse> {
        match self
            .client
            .get_allocatable_resources(pr::AllocatableResourcesRequest {})
            .await
        {
            Ok(r) => Ok(r.into_inner()),
            Err(status) => {
                Err(self.call_error("/v1.PodResourcesLister/GetAllocatableResources", status))
            }
        }
    }
}

/// The device IDs of `resource` that a pod's containers hold, sorted (how Multus hands them to
/// attachments in order).
///
/// ```
/// use device_plugin::api::pod_resources::{ContainerDevices, ContainerResources, PodResources};
/// let pod = PodResources {
///     name: "mofed-test-pod".into(),
///     namespace: "default".into(),
///     containers: vec![ContainerResources {
///         name: "c".into(),
///         devices: vec![ContainerDevices {
///             resource_name: "rdma/vhca".into(),
///             device_ids: vec!["0000:3b:00.3".into(), "0000:3b:00.2".into()],
///             topology: None,
///         }],
///         cpu_ids: vec![],
///     }],
/// };
/// assert_eq!(device_plugin::pod_resources::device_ids(&pod, "rdma/vhca"), ["0000:3b:00.2", "0000:3b:00.3"]);
/// ```
pub fn device_ids(pod: &pr::PodResources, resource: &str) -> Vec<String> {
    let mut ids: Vec<String> = pod
        .containers
        .iter()
        .flat_map(|c| &c.devices)
        .filter(|d| d.resource_name == resource)
        .flat_map(|d| d.device_ids.iter().cloned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}
