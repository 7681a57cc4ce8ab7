//! The pod's device IDs of a resource, from the kubelet: its pod-resources API (`Get`, then
//! `List`, by pod name and namespace) when the socket exists, else its device-manager
//! checkpoint (by pod UID; both `DeviceIDs` layouts; the checksum is not verified). Sorted,
//! as Multus hands them to attachments in order.
//!
//! ```no_run
//! use multus::kubelet::{KubeletDevices, PodIdentity};
//! use sriov_core::node::HostRoot;
//!
//! let pod = PodIdentity { namespace: Some("default".into()), name: Some("mofed-test-pod".into()), uid: None };
//! let mut kubelet = KubeletDevices::new(&HostRoot::system());
//! let ids = kubelet.device_ids(&pod, "rdma/vhca")?;
//! println!("{ids:?}");
//! # Ok::<(), multus::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use device_plugin::checkpoint::Checkpoint;
use device_plugin::pod_resources::{self, PodResourcesClient};
use sriov_core::node::HostRoot;

use crate::Error;

/// Who the pod is, from `CNI_ARGS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodIdentity {
    /// `K8S_POD_NAMESPACE`.
    pub namespace: Option<String>,
    /// `K8S_POD_NAME`.
    pub name: Option<String>,
    /// `K8S_POD_UID`.
    pub uid: Option<String>,
}

impl PodIdentity {
    /// From parsed `CNI_ARGS` (empty values count as absent).
    pub fn from_args(args: &cni_types::args::CniArgs) -> Self {
        let k = args.k8s();
        let some = |v: Option<String>| v.filter(|s| !s.is_empty());
        PodIdentity {
            namespace: some(k.pod_namespace),
            name: some(k.pod_name),
            uid: some(k.pod_uid),
        }
    }

    /// `namespace/name`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{}/{} (uid {})",
            self.namespace.as_deref().unwrap_or("?"),
            self.name.as_deref().unwrap_or("?"),
            self.uid.as_deref().unwrap_or("?")
        )
    }
}

/// Where the kubelet's answer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeletSource {
    /// The pod-resources socket.
    PodResources(PathBuf),
    /// The checkpoint file.
    Checkpoint(PathBuf),
}

impl KubeletSource {
    fn describe(&self) -> String {
        match self {
            KubeletSource::PodResources(p) => format!("the pod-resources API at {}", p.display()),
            KubeletSource::Checkpoint(p) => format!("the kubelet checkpoint {}", p.display()),
        }
    }
}

/// Looks up device IDs, once per resource.
#[derive(Debug)]
pub struct KubeletDevices {
    socket: PathBuf,
    checkpoint: PathBuf,
    answers: BTreeMap<String, Vec<String>>,
}

impl KubeletDevices {
    /// The kubelet of the node under `root`.
    pub fn new(root: &HostRoot) -> Self {
        KubeletDevices {
            socket: root.pod_resources_socket(),
            checkpoint: root.kubelet_checkpoint(),
            answers: BTreeMap::new(),
        }
    }

    /// Which source a lookup uses now: the socket when it exists, else the checkpoint.
    pub fn source(&self) -> KubeletSource {
        if self.socket.exists() {
            KubeletSource::PodResources(self.socket.clone())
        } else {
            KubeletSource::Checkpoint(self.checkpoint.clone())
        }
    }

    /// The pod's device IDs of `resource`, sorted; an error when the kubelet lists none.
    pub fn device_ids(&mut self, pod: &PodIdentity, resource: &str) -> Result<Vec<String>, Error> {
        if let Some(ids) = self.answers.get(resource) {
            return Ok(ids.clone());
        }
        let source = self.source();
        let ids = match &source {
            KubeletSource::PodResources(socket) => from_pod_resources(socket, pod, resource)?,
            KubeletSource::Checkpoint(path) => from_checkpoint(path, pod, resource)?,
        };
        if ids.is_empty() {
            return Err(Error::NoKubeletData {
                resource: resource.to_string(),
                pod: pod.describe(),
                source_desc: source.describe(),
            });
        }
        self.answers.insert(resource.to_string(), ids.clone());
        Ok(ids)
    }
}

fn from_pod_resources(
    socket: &std::path::Path,
    pod: &PodIdentity,
    resource: &str,
) -> Result<Vec<String>, Error> {
    let (Some(namespace), Some(name)) = (pod.namespace.as_deref(), pod.name.as_deref()) else {
        return Err(Error::PodIdentity {
            resource: resource.to_string(),
            key: if pod.namespace.is_none() {
                "K8S_POD_NAMESPACE"
            } else {
                "K8S_POD_NAME"
            },
        });
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let pr_err = |source| Error::PodResources {
        socket: socket.to_path_buf(),
        pod: pod.describe(),
        source: Box::new(source),
    };
    runtime.block_on(async {
        let mut client = PodResourcesClient::connect(socket).await.map_err(pr_err)?;
        // Get (kubelet >= 1.27); a kubelet without it, or one that does not know the pod by
        // that call, is asked with List.
        if let Ok(found) = client.get(namespace, name).await
            && found.name == name
        {
            return Ok(pod_resources::device_ids(&found, resource));
        }
        let pods = client.list().await.map_err(pr_err)?;
        Ok(pods
            .iter()
            .find(|p| p.namespace == namespace && p.name == name)
            .map(|p| pod_resources::device_ids(p, resource))
            .unwrap_or_default())
    })
}

fn from_checkpoint(
    path: &std::path::Path,
    pod: &PodIdentity,
    resource: &str,
) -> Result<Vec<String>, Error> {
    let Some(uid) = pod.uid.as_deref() else {
        return Err(Error::PodIdentity {
            resource: resource.to_string(),
            key: "K8S_POD_UID",
        });
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::CheckpointRead {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let checkpoint = Checkpoint::parse(&text).map_err(|source| Error::CheckpointParse {
        path: path.to_path_buf(),
        source: Box::new(source),
    })?;
    let mut ids = checkpoint.pod_device_ids(uid, resource);
    ids.dedup();
    Ok(ids)
}
