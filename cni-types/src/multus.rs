//! Multus inputs: the `NetworkAttachmentDefinition` custom resource, the pod annotation that
//! selects networks, and the interface naming rule.
//!
//! ```
//! use cni_types::multus::{self, NetworkAttachmentDefinition};
//!
//! let nad = NetworkAttachmentDefinition::parse(br#"{
//!   "apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
//!   "metadata": {"name": "sriov-net", "namespace": "default",
//!     "annotations": {"k8s.v1.cni.cncf.io/resourceName": "mellanox.com/cx5_sriov"}},
//!   "spec": {"config": "{\"cniVersion\":\"1.0.0\",\"name\":\"sriov-net\",\"type\":\"sriov\"}"}
//! }"#)?;
//! assert_eq!(nad.resource_name(), Some("mellanox.com/cx5_sriov"));
//! assert_eq!(nad.config_list()?.plugins[0].plugin_type, "sriov");
//!
//! let nets = multus::parse_networks_annotation("sriov-net, other/sriov-b@ib1", "default")?;
//! assert_eq!(nets[1].namespace.as_deref(), Some("other"));
//! assert_eq!(multus::interface_names("eth0", &nets), ["eth0", "net1", "ib1"]);
//! # Ok::<(), cni_types::Error>(())
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;
use crate::config::NetConfList;

/// The pod annotation selecting additional networks.
pub const NETWORKS_ANNOTATION: &str = "k8s.v1.cni.cncf.io/networks";
/// The NetworkAttachmentDefinition annotation tying it to a device-plugin resource.
pub const RESOURCE_NAME_ANNOTATION: &str = "k8s.v1.cni.cncf.io/resourceName";

/// Object metadata (the part Multus reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Namespace.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Other metadata, preserved.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The spec of a NetworkAttachmentDefinition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NadSpec {
    /// The CNI configuration (a single plugin or a list) as a JSON string.
    #[serde(default)]
    pub config: String,
}

/// A `k8s.cni.cncf.io/v1` NetworkAttachmentDefinition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkAttachmentDefinition {
    /// `apiVersion`.
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// Metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Spec.
    #[serde(default)]
    pub spec: NadSpec,
}

impl NetworkAttachmentDefinition {
    /// Parses the resource's JSON.
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(json).map_err(|e| Error::Multus {
            what: "NetworkAttachmentDefinition",
            reason: e.to_string(),
        })
    }

    /// The device-plugin resource (`k8s.v1.cni.cncf.io/resourceName`), if any.
    pub fn resource_name(&self) -> Option<&str> {
        self.metadata
            .annotations
            .get(RESOURCE_NAME_ANNOTATION)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// `spec.config` as a configuration list. A single plugin configuration (no `plugins` key,
    /// a `type`) becomes a one-plugin list, as Multus does. An empty config is an error (Multus
    /// then reads files from its configuration directory, which is not this crate's job).
    pub fn config_list(&self) -> Result<NetConfList, Error> {
        let raw: Map<String, Value> =
            serde_json::from_str(&self.spec.config).map_err(|e| Error::Multus {
                what: "NetworkAttachmentDefinition spec.config",
                reason: e.to_string(),
            })?;
        NetConfList::from_conf_or_list(raw)
    }
}

/// One entry of the `k8s.v1.cni.cncf.io/networks` annotation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkSelectionElement {
    /// The NetworkAttachmentDefinition's name.
    pub name: String,
    /// Its namespace (the pod's when absent; filled in by [`parse_networks_annotation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Requested interface name in the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// Requested MAC address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// Requested IP addresses (`10.1.1.5` or `10.1.1.5/24`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<String>,
    /// Device ID (a VF's PCI address).
    #[serde(rename = "deviceID", default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Extra plugin arguments (`cni-args`).
    #[serde(rename = "cni-args", default, skip_serializing_if = "Option::is_none")]
    pub cni_args: Option<Map<String, Value>>,
    /// Gateways to install as default routes through this network (`default-route`).
    #[serde(
        rename = "default-route",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub default_route: Vec<IpAddr>,
    /// Other keys (`infiniband-guid`, `portMappings`, `bandwidth`, ...), preserved.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn multus_err(reason: String) -> Error {
    Error::Multus {
        what: "parsePodNetworkAnnotation",
        reason,
    }
}

fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && b.first().is_some_and(ok)
        && b.last().is_some_and(ok)
        && b.iter().all(|c| ok(c) || *c == b'-')
}

fn parse_object_name(item: &str) -> Result<NetworkSelectionElement, Error> {
    let slash: Vec<&str> = item.split('/').collect();
    let (namespace, rest) = match slash.as_slice() {
        [name] => ("", *name),
        [ns, name] => (ns.trim(), *name),
        _ => return Err(multus_err("Invalid network object (failed at '/')".into())),
    };
    let at: Vec<&str> = rest.split('@').collect();
    let (name, ifname) = match at.as_slice() {
        [name] => (name.trim(), ""),
        [name, ifname] => (name.trim(), ifname.trim()),
        _ => return Err(multus_err("Invalid network object (failed at '@')".into())),
    };
    for part in [namespace, name, ifname] {
        if !part.is_empty() && !is_dns1123_label(part) {
            return Err(multus_err(format!(
                "Failed to parse: one or more items did not match comma-delimited format \
                 (must consist of lower case alphanumeric characters). Must start and end with \
                 an alphanumeric character), mismatch @ '{part}'"
            )));
        }
    }
    Ok(NetworkSelectionElement {
        name: name.to_string(),
        namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
        interface: (!ifname.is_empty()).then(|| ifname.to_string()),
        ..Default::default()
    })
}

fn valid_mac(s: &str) -> bool {
    // 6, 8 or 20 octets separated by ':' or '-' (the forms Go's net.ParseMAC accepts with
    // separators).
    let sep = if s.contains('-') { '-' } else { ':' };
    let parts: Vec<&str> = s.split(sep).collect();
    matches!(parts.len(), 6 | 8 | 20)
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Parses the `k8s.v1.cni.cncf.io/networks` annotation: either a comma list of
/// `[namespace/]name[@interface]` or a JSON list of [`NetworkSelectionElement`]. Missing
/// namespaces become `default_namespace`; MACs and IPs are checked; the deprecated
/// `interfaceRequest` key is honoured when `interface` is absent.
pub fn parse_networks_annotation(
    value: &str,
    default_namespace: &str,
) -> Result<Vec<NetworkSelectionElement>, Error> {
    if value.is_empty() {
        return Err(multus_err(
            "pod annotation does not have \"network\" as key".into(),
        ));
    }
    let mut nets: Vec<NetworkSelectionElement> = if value.contains(['[', '{', '"']) {
        serde_json::from_str(value).map_err(|e| {
            multus_err(format!(
                "failed to parse pod Network Attachment Selection Annotation JSON format: {e}"
            ))
        })?
    } else {
        value
            .split(',')
            .map(|item| parse_object_name(item.trim()))
            .collect::<Result<_, _>>()?
    };
    for n in &mut nets {
        if n.namespace.as_deref().is_none_or(str::is_empty) {
            n.namespace = Some(default_namespace.to_string());
        }
        if let Some(mac) = &n.mac
            && !mac.is_empty()
            && !valid_mac(mac)
        {
            return Err(multus_err(format!(
                "failed to mac: invalid MAC address {mac}"
            )));
        }
        for ip in &n.ips {
            let ok = match ip.split_once('/') {
                Some(_) => ip.parse::<ipnet::IpNet>().is_ok(),
                None => ip.parse::<IpAddr>().is_ok(),
            };
            if !ok {
                return Err(multus_err(format!("failed to parse IP address {ip:?}")));
            }
        }
        if n.interface.as_deref().is_none_or(str::is_empty)
            && let Some(Value::String(req)) = n.extra.get("interfaceRequest")
            && !req.is_empty()
        {
            n.interface = Some(req.clone());
        }
    }
    Ok(nets)
}

/// The interface name of attachment `index`: the cluster network (index 0) gets
/// `cluster_ifname` (the runtime's, normally `eth0`), attachment `i` gets `net<i>`; an
/// explicit request wins.
pub fn interface_name(index: usize, cluster_ifname: &str, requested: Option<&str>) -> String {
    match requested {
        Some(r) if !r.is_empty() => r.to_string(),
        _ if index == 0 => cluster_ifname.to_string(),
        _ => format!("net{index}"),
    }
}

/// The interface names of a pod: the cluster network's first, then one per selected network.
pub fn interface_names(cluster_ifname: &str, nets: &[NetworkSelectionElement]) -> Vec<String> {
    std::iter::once(cluster_ifname.to_string())
        .chain(
            nets.iter()
                .enumerate()
                .map(|(i, n)| interface_name(i + 1, cluster_ifname, n.interface.as_deref())),
        )
        .collect()
}
