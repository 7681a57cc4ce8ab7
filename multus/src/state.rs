//! What the meta plugin keeps per container in `cniDir` (under the host root), written crash-safe
//! with `state-files`: the delegate cache `<cniDir>/<containerID>`, saved before any delegate
//! runs so that DEL can undo whatever ADD got to; and the network status
//! `<cniDir>/<containerID>.network-status.json`, the `k8s.v1.cni.cncf.io/network-status`
//! annotation's content, since there is no API server to annotate the pod with.
//!
//! ```
//! use multus::state::{DelegateCache, StateDir};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let state = StateDir::new(dir.path().join("var/lib/cni/multus"));
//! let cache = DelegateCache::new("ctr1", "/var/run/netns/pod1", vec![]);
//! state.save_cache(&cache)?;
//! assert_eq!(state.load_cache("ctr1")?, Some(cache));
//! state.remove("ctr1")?;
//! assert_eq!(state.load_cache("ctr1")?, None);
//! # Ok::<(), multus::Error>(())
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;
use crate::delegate::Delegate;

/// The `kind` of a delegate cache file.
pub const CACHE_KIND: &str = "multusDelegatesV1";

/// The delegate cache of one container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DelegateCache {
    /// Always [`CACHE_KIND`].
    pub kind: String,
    /// `CNI_CONTAINERID`.
    #[serde(rename = "containerID")]
    pub container_id: String,
    /// `CNI_NETNS` at ADD.
    pub netns: String,
    /// The delegates, in ADD order.
    pub delegates: Vec<Delegate>,
}

impl DelegateCache {
    /// A cache of `delegates`.
    pub fn new(container_id: &str, netns: &str, delegates: Vec<Delegate>) -> Self {
        DelegateCache {
            kind: CACHE_KIND.into(),
            container_id: container_id.into(),
            netns: netns.into(),
            delegates,
        }
    }
}

/// One entry of the network status: one interface of the pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkStatus {
    /// The network (`namespace/name`, or the cluster network's name).
    pub name: String,
    /// The interface in the pod.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub interface: String,
    /// Its addresses, without prefix length.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<String>,
    /// Its MAC address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
    /// True for the cluster network.
    #[serde(default)]
    pub default: bool,
    /// DNS from the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Value>,
    /// The device-info file's content.
    #[serde(
        rename = "device-info",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub device_info: Option<Value>,
}

/// The `cniDir` of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// The directory (already under the host root).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StateDir { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<cniDir>/<containerID>`.
    pub fn cache_path(&self, container_id: &str) -> PathBuf {
        self.dir.join(container_id)
    }

    /// `<cniDir>/<containerID>.network-status.json`.
    pub fn network_status_path(&self, container_id: &str) -> PathBuf {
        self.dir.join(format!("{container_id}.network-status.json"))
    }

    fn write(&self, op: &'static str, path: PathBuf, bytes: &[u8]) -> Result<(), Error> {
        state_files::create_private_dir(&self.dir).map_err(|source| Error::State {
            op: "create the multus state directory",
            path: self.dir.clone(),
            source,
        })?;
        state_files::write_atomic(&path, bytes).map_err(|source| Error::State { op, path, source })
    }

    /// Saves the delegate cache (atomically: the old one or the new one survives a crash).
    pub fn save_cache(&self, cache: &DelegateCache) -> Result<(), Error> {
        let bytes = serde_json::to_vec(cache).map_err(|e| Error::CacheDecode {
            path: self.cache_path(&cache.container_id),
            reason: e.to_string(),
        })?;
        self.write(
            "save the delegate cache",
            self.cache_path(&cache.container_id),
            &bytes,
        )
    }

    /// The delegate cache, `None` when there is none.
    pub fn load_cache(&self, container_id: &str) -> Result<Option<DelegateCache>, Error> {
        let path = self.cache_path(container_id);
        let Some(bytes) = state_files::read(&path).map_err(|source| Error::State {
            op: "read the delegate cache",
            path: path.clone(),
            source,
        })?
        else {
            return Ok(None);
        };
        let cache: DelegateCache =
            serde_json::from_slice(&bytes).map_err(|e| Error::CacheDecode {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if cache.kind != CACHE_KIND {
            return Err(Error::CacheDecode {
                path,
                reason: format!("kind {:?}, not {CACHE_KIND}", cache.kind),
            });
        }
        Ok(Some(cache))
    }

    /// Saves the network status.
    pub fn save_network_status(
        &self,
        container_id: &str,
        status: &[NetworkStatus],
    ) -> Result<(), Error> {
        let path = self.network_status_path(container_id);
        let bytes = serde_json::to_vec_pretty(status).map_err(|e| Error::CacheDecode {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        self.write("save the network status", path, &bytes)
    }

    /// The network status, `None` when there is none.
    pub fn load_network_status(
        &self,
        container_id: &str,
    ) -> Result<Option<Vec<NetworkStatus>>, Error> {
        let path = self.network_status_path(container_id);
        let Some(bytes) = state_files::read(&path).map_err(|source| Error::State {
            op: "read the network status",
            path: path.clone(),
            source,
        })?
        else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::CacheDecode {
                path,
                reason: e.to_string(),
            })
    }

    /// The container IDs that have a delegate cache here.
    pub fn cached_containers(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.ends_with(".network-status.json") && !n.starts_with('.'))
            .collect();
        ids.sort();
        ids
    }

    /// Removes the cache and the network status of a container (absent ones are fine).
    pub fn remove(&self, container_id: &str) -> Result<(), Error> {
        for (op, path) in [
            ("remove the delegate cache", self.cache_path(container_id)),
            (
                "remove the network status",
                self.network_status_path(container_id),
            ),
        ] {
            state_files::remove(&path).map_err(|source| Error::State { op, path, source })?;
        }
        Ok(())
    }
}
