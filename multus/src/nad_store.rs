//! NetworkAttachmentDefinitions without an API server: files as `kubectl apply` would take
//! them (YAML or JSON), one per object, at `<nadDir>/<namespace>/<name>.yaml` (or `.yml`,
//! `.json`); and network configuration files in `confDir`, for `clusterNetwork` and for a
//! NetworkAttachmentDefinition whose `spec.config` is empty (Multus then reads the file of
//! that network name).
//!
//! ```
//! use multus::nad_store::NadStore;
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::create_dir_all(dir.path().join("default")).unwrap();
//! std::fs::write(dir.path().join("default/rdma-net.yaml"), r#"
//! apiVersion: k8s.cni.cncf.io/v1
//! kind: NetworkAttachmentDefinition
//! metadata:
//!   name: rdma-net
//!   annotations:
//!     k8s.v1.cni.cncf.io/resourceName: rdma/vhca
//! spec:
//!   config: '{"cniVersion":"0.3.1","name":"rdma-net","plugins":[{"type":"sriov"},{"type":"rdma"}]}'
//! "#).unwrap();
//! let store = NadStore::new(dir.path(), "/nonexistent");
//! let nad = store.get("default", "rdma-net")?;
//! assert_eq!(nad.resource_name(), Some("rdma/vhca"));
//! assert_eq!(store.config_list(&nad)?.plugins[1].plugin_type, "rdma");
//! # Ok::<(), multus::Error>(())
//! ```

use std::path::{Path, PathBuf};

use cni_types::NetConfList;
use cni_types::multus::NetworkAttachmentDefinition;

use crate::Error;

/// The file extensions a NetworkAttachmentDefinition file may have, in lookup order.
pub const NAD_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// The NetworkAttachmentDefinition directory and the configuration directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NadStore {
    nad_dir: PathBuf,
    conf_dir: PathBuf,
}

/// Parses one NetworkAttachmentDefinition document, YAML or JSON (JSON is YAML).
///
/// ```
/// let nad = multus::nad_store::parse_nad("metadata: {name: a}\nspec: {config: '{}'}\n")?;
/// assert_eq!(nad.metadata.name, "a");
/// assert!(multus::nad_store::parse_nad("- not\n- an object\n").is_err());
/// # Ok::<(), String>(())
/// ```
pub fn parse_nad(text: &str) -> Result<NetworkAttachmentDefinition, String> {
    let nad: NetworkAttachmentDefinition =
        serde_norway::from_str(text).map_err(|e| e.to_string())?;
    if !nad.kind.is_empty() && nad.kind != "NetworkAttachmentDefinition" {
        return Err(format!(
            "kind is {:?}, not NetworkAttachmentDefinition",
            nad.kind
        ));
    }
    Ok(nad)
}

impl NadStore {
    /// A store over `nad_dir` and `conf_dir`.
    pub fn new(nad_dir: impl Into<PathBuf>, conf_dir: impl Into<PathBuf>) -> Self {
        NadStore {
            nad_dir: nad_dir.into(),
            conf_dir: conf_dir.into(),
        }
    }

    /// The file of `namespace/name`, if one exists.
    pub fn find(&self, namespace: &str, name: &str) -> Option<PathBuf> {
        if !is_plain_name(namespace) || !is_plain_name(name) {
            return None;
        }
        NAD_EXTENSIONS
            .iter()
            .map(|ext| self.nad_dir.join(namespace).join(format!("{name}.{ext}")))
            .find(|p| p.is_file())
    }

    /// The NetworkAttachmentDefinition `namespace/name`. Its `metadata.name` (and
    /// `metadata.namespace`, when written) must be the file's.
    pub fn get(&self, namespace: &str, name: &str) -> Result<NetworkAttachmentDefinition, Error> {
        let path = self
            .find(namespace, name)
            .ok_or_else(|| Error::NadNotFound {
                namespace: namespace.to_string(),
                name: name.to_string(),
                dir: self.nad_dir.clone(),
            })?;
        let text = std::fs::read_to_string(&path).map_err(|source| Error::NadRead {
            path: path.clone(),
            source,
        })?;
        let parse_err = |reason: String| Error::NadParse {
            path: path.clone(),
            reason,
        };
        let mut nad = parse_nad(&text).map_err(parse_err)?;
        if nad.metadata.name.is_empty() {
            nad.metadata.name = name.to_string();
        }
        if nad.metadata.name != name {
            return Err(parse_err(format!(
                "metadata.name is {:?}, the file names {name:?}",
                nad.metadata.name
            )));
        }
        if nad.metadata.namespace.is_empty() {
            nad.metadata.namespace = namespace.to_string();
        } else if nad.metadata.namespace != namespace {
            return Err(parse_err(format!(
                "metadata.namespace is {:?}, the file is in {namespace:?}",
                nad.metadata.namespace
            )));
        }
        Ok(nad)
    }

    /// The network configuration of `nad`: its `spec.config`, or when that is empty the file
    /// in `confDir` whose network is named as the NetworkAttachmentDefinition.
    pub fn config_list(&self, nad: &NetworkAttachmentDefinition) -> Result<NetConfList, Error> {
        if nad.spec.config.trim().is_empty() {
            return self
                .conf_file_named(&nad.metadata.name)?
                .ok_or_else(|| Error::NadParse {
                    path: self.nad_dir.join(&nad.metadata.namespace),
                    reason: format!(
                        "{}: spec.config is empty and no file in {} has that network name",
                        nad.metadata.name,
                        self.conf_dir.display()
                    ),
                });
        }
        nad.config_list().map_err(|source| Error::Input {
            what: format!(
                "spec.config of NetworkAttachmentDefinition {}/{}",
                nad.metadata.namespace, nad.metadata.name
            ),
            source: Box::new(source),
        })
    }

    /// The configuration file in `confDir` (`*.conf`, `*.conflist`, `*.json`, sorted by file
    /// name) whose network name, or file stem, is `name`.
    pub fn conf_file_named(&self, name: &str) -> Result<Option<NetConfList>, Error> {
        let Ok(entries) = std::fs::read_dir(&self.conf_dir) else {
            return Ok(None);
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "conf" || e == "conflist" || e == "json")
            })
            .collect();
        paths.sort();
        for path in paths {
            let list = load_conf_file(&path)?;
            let stem = path.file_stem().and_then(|s| s.to_str());
            if list.name == name || stem == Some(name) {
                return Ok(Some(list));
            }
        }
        Ok(None)
    }
}

/// Reads a network configuration file: a list or a single plugin configuration.
pub fn load_conf_file(path: &Path) -> Result<NetConfList, Error> {
    let file_err = |source: cni_types::Error| Error::NetworkFile {
        path: path.to_path_buf(),
        source: Box::new(source),
    };
    let bytes = std::fs::read(path).map_err(|source| {
        file_err(cni_types::Error::Io {
            op: "read",
            path: path.to_path_buf(),
            source,
        })
    })?;
    let raw: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes)
        .map_err(|e| file_err(cni_types::Error::Conf(e.to_string())))?;
    NetConfList::from_conf_or_list(raw).map_err(file_err)
}

/// A namespace or object name that is one path component (no `/`, not `.` or `..`).
fn is_plain_name(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\0'])
}
