//! The delegates of one pod: which networks it gets (the cluster network, extra static
//! delegates, `defaultNetworks`, the networks annotation), under which interface names, and
//! with which deviceID from the kubelet, injected where the delegates read it.
//!
//! ```
//! use cni_types::NetConfList;
//! use multus::delegate::inject_device_id;
//!
//! let mut list = NetConfList::parse(br#"{"cniVersion":"0.4.0","name":"rdma-net","plugins":[
//!     {"type":"sriov","capabilities":{"deviceID":true}},{"type":"rdma"}]}"#).unwrap();
//! let mut capability_args = serde_json::Map::new();
//! inject_device_id(&mut list, &mut capability_args, "0000:3b:00.2");
//! assert!(list.plugins.iter().all(|p| p.extra["deviceID"] == "0000:3b:00.2" && p.extra["pciBusID"] == "0000:3b:00.2"));
//! assert_eq!(capability_args["deviceID"], "0000:3b:00.2"); // the runner gives it to `sriov` only
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use cni_types::NetConfList;
use cni_types::multus::{self as nad, NETWORKS_ANNOTATION, NetworkSelectionElement};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;
use crate::config::{ConfigFormat, MultusConf, POD_ANNOTATIONS_CAPABILITY};
use crate::kubelet::{KubeletDevices, PodIdentity};
use crate::nad_store::{NadStore, load_conf_file};

/// What a delegate is to the pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// The cluster network (the master): the runtime's interface, its result returned.
    ClusterNetwork,
    /// An additional network.
    Attachment,
}

/// One delegate: a network list run as one interface of the pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delegate {
    /// The network: `namespace/name` of its NetworkAttachmentDefinition, else the list's name.
    pub network: String,
    /// The interface in the pod.
    pub ifname: String,
    /// Cluster network or attachment.
    pub role: Role,
    /// The list to run, deviceID injected.
    #[serde(with = "list_json")]
    pub list: NetConfList,
    /// Capability arguments offered to its plugins (the runner filters by capability).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub capability_args: Map<String, Value>,
    /// `CNI_ARGS` pairs.
    #[serde(default)]
    pub cni_args: Vec<(String, String)>,
    /// The resource of its NetworkAttachmentDefinition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// The device the kubelet gave the pod for it.
    #[serde(default, rename = "deviceID", skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

mod list_json {
    use cni_types::NetConfList;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::{Map, Value};

    pub fn serialize<S: Serializer>(list: &NetConfList, s: S) -> Result<S::Ok, S::Error> {
        list.to_map().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NetConfList, D::Error> {
        let map = Map::<String, Value>::deserialize(d)?;
        NetConfList::from_map(map).map_err(serde::de::Error::custom)
    }
}

/// Writes `device_id` into every plugin of `list` as top-level `deviceID` and `pciBusID`, and
/// offers it as the `deviceID` capability (given to the plugins that declare it).
pub fn inject_device_id(
    list: &mut NetConfList,
    capability_args: &mut Map<String, Value>,
    device_id: &str,
) {
    for plugin in &mut list.plugins {
        plugin
            .extra
            .insert("deviceID".into(), Value::String(device_id.into()));
        plugin
            .extra
            .insert("pciBusID".into(), Value::String(device_id.into()));
    }
    capability_args.insert("deviceID".into(), Value::String(device_id.into()));
}

/// One selected network before interface naming and device assignment.
struct Selected {
    network: String,
    list: NetConfList,
    resource: Option<String>,
    selection: Option<NetworkSelectionElement>,
}

/// Whether the kubelet is asked for device IDs (ADD) or not (DEL rebuilding a lost cache: the
/// devices may be gone, and the delegates' own state says which one they used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceLookup {
    /// Ask the kubelet; more attachments than devices, or none, is an error.
    Kubelet,
    /// Leave deviceIDs out.
    Skip,
}

/// The pod's delegates, the cluster network first. Everything is resolved and every device
/// assigned before anything runs: an error here means nothing was attached.
pub fn plan(
    conf: &MultusConf,
    store: &NadStore,
    pod: &PodIdentity,
    master_ifname: &str,
    incoming_args: &[(String, String)],
    kubelet: &mut KubeletDevices,
    lookup: DeviceLookup,
) -> Result<Vec<Delegate>, Error> {
    let mut selected = Vec::new();
    selected.push(Selected {
        network: String::new(),
        list: cluster_network(conf, store)?,
        resource: None,
        selection: None,
    });
    for list in conf.delegates.iter().skip(1) {
        selected.push(Selected {
            network: list.name.clone(),
            list: list.clone(),
            resource: None,
            selection: None,
        });
    }
    let pod_namespace = pod.namespace.as_deref().unwrap_or("default");
    let mut elements = Vec::new();
    if !conf.system_namespaces.iter().any(|n| n == pod_namespace) {
        for entry in &conf.default_networks {
            let parsed = nad::parse_networks_annotation(entry, &conf.multus_namespace).map_err(
                |source| Error::Input {
                    what: format!("defaultNetworks entry {entry:?}"),
                    source: Box::new(source),
                },
            )?;
            elements.extend(parsed);
        }
    }
    if let Some(value) = conf
        .pod_annotations()
        .and_then(|a| a.get(NETWORKS_ANNOTATION))
    {
        let Value::String(text) = value else {
            return Err(Error::ConfigKey {
                key: format!("runtimeConfig.{POD_ANNOTATIONS_CAPABILITY}.{NETWORKS_ANNOTATION}"),
                reason: "expected a string".into(),
            });
        };
        if !text.trim().is_empty() {
            let parsed = nad::parse_networks_annotation(text, pod_namespace).map_err(|source| {
                Error::Input {
                    what: format!("annotation {NETWORKS_ANNOTATION} of pod {}", pod.describe()),
                    source: Box::new(source),
                }
            })?;
            elements.extend(parsed);
        }
    }
    for element in elements {
        let namespace = element.namespace.clone().unwrap_or_default();
        let nad = store.get(&namespace, &element.name)?;
        let list = store.config_list(&nad)?;
        selected.push(Selected {
            network: format!("{namespace}/{}", element.name),
            list,
            resource: nad.resource_name().map(str::to_string),
            selection: Some(element),
        });
    }

    // Devices: the k-th attachment of a resource gets the k-th of the pod's sorted IDs.
    let mut needed: BTreeMap<String, usize> = BTreeMap::new();
    for s in &selected {
        if let Some(r) = &s.resource {
            *needed.entry(r.clone()).or_default() += 1;
        }
    }
    let mut devices: BTreeMap<String, std::vec::IntoIter<String>> = BTreeMap::new();
    if lookup == DeviceLookup::Kubelet {
        for (resource, count) in &needed {
            let ids = kubelet.device_ids(pod, resource)?;
            if ids.len() < *count {
                return Err(Error::NotEnoughDevices {
                    resource: resource.clone(),
                    pod: pod.describe(),
                    needed: *count,
                    available: ids.len(),
                    ids,
                });
            }
            devices.insert(resource.clone(), ids.into_iter());
        }
    }

    let cni_args = delegate_cni_args(incoming_args);
    let mut out = Vec::with_capacity(selected.len());
    let mut counter = 0usize;
    for (index, s) in selected.into_iter().enumerate() {
        let requested = s.selection.as_ref().and_then(|e| e.interface.as_deref());
        let ifname = if index == 0 {
            master_ifname.to_string()
        } else {
            match (conf.format, requested) {
                (_, Some(r)) if !r.is_empty() => r.to_string(),
                (ConfigFormat::Static2018, _) => {
                    let name = format!("net{counter}");
                    counter += 1;
                    name
                }
                (ConfigFormat::Thin, _) => nad::interface_name(index, master_ifname, None),
            }
        };
        let mut list = s.list;
        let mut capability_args = if index == 0 {
            let mut rc = conf.runtime_config.clone();
            rc.remove(POD_ANNOTATIONS_CAPABILITY);
            rc
        } else {
            Map::new()
        };
        if let Some(e) = &s.selection {
            selection_capabilities(e, &mut list, &mut capability_args);
        }
        let device_id = s
            .resource
            .as_ref()
            .and_then(|r| devices.get_mut(r))
            .and_then(Iterator::next);
        if let Some(id) = &device_id {
            inject_device_id(&mut list, &mut capability_args, id);
        }
        out.push(Delegate {
            network: if index == 0 {
                list.name.clone()
            } else {
                s.network
            },
            ifname,
            role: if index == 0 {
                Role::ClusterNetwork
            } else {
                Role::Attachment
            },
            list,
            capability_args,
            cni_args: cni_args.clone(),
            resource_name: s.resource,
            device_id,
        });
    }
    Ok(out)
}

/// The cluster network: `clusterNetwork` (a file path, a NetworkAttachmentDefinition in
/// `multusNamespace`, or a network in `confDir`) or `delegates[0]`.
fn cluster_network(conf: &MultusConf, store: &NadStore) -> Result<NetConfList, Error> {
    let Some(name) = conf.cluster_network.as_deref() else {
        return conf
            .delegates
            .first()
            .cloned()
            .ok_or_else(|| Error::ConfigKey {
                key: "delegates".into(),
                reason: "no cluster network".into(),
            });
    };
    if name.starts_with('/') {
        return load_conf_file(name.as_ref());
    }
    if store.find(&conf.multus_namespace, name).is_some() {
        let nad = store.get(&conf.multus_namespace, name)?;
        return store.config_list(&nad);
    }
    store
        .conf_file_named(name)?
        .ok_or_else(|| Error::ClusterNetworkNotFound {
            name: name.to_string(),
            conf_dir: conf.conf_dir.clone(),
            namespace: conf.multus_namespace.clone(),
        })
}

/// The networks the configuration names for every pod, without pod data: the cluster network
/// and the extra static delegates (what STATUS and GC are sent to).
pub fn configured_networks(conf: &MultusConf, store: &NadStore) -> Result<Vec<NetConfList>, Error> {
    let mut lists = vec![cluster_network(conf, store)?];
    lists.extend(conf.delegates.iter().skip(1).cloned());
    Ok(lists)
}

/// What an annotation entry asks of its delegate: `mac`, `ips`, `deviceID` (used when no
/// resource gives one), `infiniband-guid`, `portMappings`, `bandwidth` as capability
/// arguments; `cni-args` merged into each plugin's `args.cni`.
fn selection_capabilities(
    e: &NetworkSelectionElement,
    list: &mut NetConfList,
    capability_args: &mut Map<String, Value>,
) {
    if let Some(mac) = e.mac.as_deref().filter(|m| !m.is_empty()) {
        capability_args.insert("mac".into(), Value::String(mac.into()));
    }
    if !e.ips.is_empty() {
        capability_args.insert("ips".into(), serde_json::json!(e.ips));
    }
    if let Some(id) = e.device_id.as_deref().filter(|d| !d.is_empty()) {
        capability_args.insert("deviceID".into(), Value::String(id.into()));
    }
    for (from, to) in [
        ("infiniband-guid", "infinibandGUID"),
        ("portMappings", "portMappings"),
        ("bandwidth", "bandwidth"),
    ] {
        if let Some(v) = e.extra.get(from) {
            capability_args.insert(to.into(), v.clone());
        }
    }
    if let Some(cni_args) = &e.cni_args {
        for plugin in &mut list.plugins {
            let args = plugin.args.get_or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(args) = args {
                let cni = args
                    .entry("cni")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(cni) = cni {
                    for (k, v) in cni_args {
                        cni.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
}

/// The delegates' `CNI_ARGS`: `IgnoreUnknown=1` (delegates do not know the Kubernetes keys),
/// then the runtime's pairs (`K8S_POD_NAMESPACE`, `K8S_POD_NAME`,
/// `K8S_POD_INFRA_CONTAINER_ID`, `K8S_POD_UID` and whatever else it sent).
pub fn delegate_cni_args(incoming: &[(String, String)]) -> Vec<(String, String)> {
    std::iter::once(("IgnoreUnknown".to_string(), "1".to_string()))
        .chain(
            incoming
                .iter()
                .filter(|(k, _)| k != "IgnoreUnknown")
                .cloned(),
        )
        .collect()
}

/// The device-info file the meta plugin copies for a delegate:
/// `<devinfo>/cni/<network with / as ->-<containerID>_<ifname>`.
pub fn device_info_cni_path(
    devinfo_dir: &std::path::Path,
    network: &str,
    container_id: &str,
    ifname: &str,
) -> PathBuf {
    devinfo_dir.join("cni").join(format!(
        "{}-{container_id}_{ifname}",
        network.replace('/', "-")
    ))
}

/// The device-info file a device plugin wrote for a device:
/// `<devinfo>/dp/<resource with / as ->-<deviceID>-device.json`.
pub fn device_info_dp_path(
    devinfo_dir: &std::path::Path,
    resource: &str,
    device_id: &str,
) -> PathBuf {
    devinfo_dir.join("dp").join(format!(
        "{}-{device_id}-device.json",
        resource.replace('/', "-")
    ))
}
