//! The kubelet's device-manager checkpoint (`kubelet_internal_checkpoint` in the plugin
//! directory): which pod's container got which devices of which resource, and the devices each
//! resource registered. Read in both layouts (kubelets up to 1.19 wrote a flat `DeviceIDs`
//! list, newer ones a map from NUMA node to IDs) and written in the newer one.
//!
//! The kubelet's `Checksum` hashes a dump of Go structs and cannot be computed from the JSON;
//! readers (Multus too) do not verify it, and neither does [`Checkpoint::parse`]. What
//! [`Checkpoint::to_json`] writes there is FNV-1a-32 of the `Data` JSON: a stand-in value.

use std::collections::BTreeMap;

use base64::Engine;
use serde::Deserialize;

/// Why a checkpoint could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Not the checkpoint's JSON.
    #[error("parse kubelet checkpoint: {source}")]
    Json {
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
    /// An entry's `AllocResp` is not base64.
    #[error("parse kubelet checkpoint: AllocResp of pod {pod_uid} container {container}: {source}")]
    AllocResp {
        /// The pod.
        pod_uid: String,
        /// The container.
        container: String,
        /// base64's error.
        #[source]
        source: base64::DecodeError,
    },
}

/// The device IDs of one entry, by NUMA node (`-1`: no NUMA node, also every ID of the old flat
/// layout).
pub type DeviceIdsByNuma = BTreeMap<i64, Vec<String>>;

/// One container's devices of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodDeviceEntry {
    /// The pod's UID.
    pub pod_uid: String,
    /// The container's name.
    pub container_name: String,
    /// The resource.
    pub resource_name: String,
    /// The devices, by NUMA node.
    pub device_ids: DeviceIdsByNuma,
    /// The plugin's `ContainerAllocateResponse`, protobuf-encoded.
    pub alloc_resp: Vec<u8>,
}

impl PodDeviceEntry {
    /// Every device ID of the entry, sorted.
    pub fn all_device_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.device_ids.values().flatten().cloned().collect();
        ids.sort();
        ids
    }
}

/// The checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// The allocations.
    pub entries: Vec<PodDeviceEntry>,
    /// Each resource's registered devices.
    pub registered_devices: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(rename = "Data")]
    data: RawData,
}

#[derive(Deserialize)]
struct RawData {
    #[serde(rename = "PodDeviceEntries", default)]
    entries: Option<Vec<RawEntry>>,
    #[serde(rename = "RegisteredDevices", default)]
    registered: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "PodUID")]
    pod_uid: String,
    #[serde(rename = "ContainerName")]
    container_name: String,
    #[serde(rename = "ResourceName")]
    resource_name: String,
    #[serde(rename = "DeviceIDs")]
    device_ids: RawDeviceIds,
    #[serde(rename = "AllocResp", default)]
    alloc_resp: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawDeviceIds {
    ByNuma(BTreeMap<String, Vec<String>>),
    Flat(Vec<String>),
}

impl Checkpoint {
    /// Parses a checkpoint of either layout; NUMA keys that are not numbers count as `-1`.
    ///
    /// ```
    /// let v1 = r#"{"Data":{"PodDeviceEntries":[{"PodUID":"u","ContainerName":"c","ResourceName":"rdma/vhca",
    ///   "DeviceIDs":["0000:3b:00.5"],"AllocResp":""}],"RegisteredDevices":{"rdma/vhca":["0000:3b:00.5"]}},"Checksum":1}"#;
    /// let c = device_plugin::checkpoint::Checkpoint::parse(v1).unwrap();
    /// assert_eq!(c.entries[0].all_device_ids(), ["0000:3b:00.5"]);
    /// assert_eq!(c.entries[0].device_ids[&-1], ["0000:3b:00.5"]);
    /// ```
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let raw: RawFile =
            serde_json::from_str(text).map_err(|source| CheckpointError::Json { source })?;
        let mut entries = Vec::new();
        for e in raw.data.entries.unwrap_or_default() {
            let device_ids = match e.device_ids {
                RawDeviceIds::Flat(ids) => BTreeMap::from([(-1, ids)]),
                RawDeviceIds::ByNuma(map) => {
                    let mut out: DeviceIdsByNuma = BTreeMap::new();
                    for (node, ids) in map {
                        out.entry(node.parse().unwrap_or(-1))
                            .or_default()
                            .extend(ids);
                    }
                    out
                }
            };
            let alloc_resp = base64::engine::general_purpose::STANDARD
                .decode(e.alloc_resp.as_bytes())
                .map_err(|source| CheckpointError::AllocResp {
                    pod_uid: e.pod_uid.clone(),
                    container: e.container_name.clone(),
                    source,
                })?;
            entries.push(PodDeviceEntry {
                pod_uid: e.pod_uid,
                container_name: e.container_name,
                resource_name: e.resource_name,
                device_ids,
                alloc_resp,
            });
        }
        Ok(Checkpoint {
            entries,
            registered_devices: raw.data.registered.unwrap_or_default(),
        })
    }

    /// The entries of pod `pod_uid` for `resource`, their device IDs sorted (what Multus reads).
    pub fn pod_device_ids(&self, pod_uid: &str, resource: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.pod_uid == pod_uid && e.resource_name == resource)
            .flat_map(|e| e.device_ids.values().flatten().cloned())
            .collect();
        ids.sort();
        ids
    }

    /// The checkpoint as a kubelet >= 1.20 writes it.
    ///
    /// ```
    /// use device_plugin::checkpoint::{Checkpoint, PodDeviceEntry};
    /// let c = Checkpoint {
    ///     entries: vec![PodDeviceEntry {
    ///         pod_uid: "u".into(),
    ///         container_name: "c".into(),
    ///         resource_name: "rdma/vhca".into(),
    ///         device_ids: [(0, vec!["0000:3b:00.2".to_string()])].into(),
    ///         alloc_resp: vec![],
    ///     }],
    ///     registered_devices: [("rdma/vhca".to_string(), vec!["0000:3b:00.2".to_string()])].into(),
    /// };
    /// assert!(c.to_json().contains(r#""DeviceIDs":{"0":["0000:3b:00.2"]}"#));
    /// assert_eq!(Checkpoint::parse(&c.to_json()).unwrap(), c);
    /// ```
    pub fn to_json(&self) -> String {
        use serde_json::{Map, Value, json};
        let entries: Vec<Value> = self
            .entries
            .iter()
            .map(|e| {
                let by_numa: Map<String, Value> = e
                    .device_ids
                    .iter()
                    .map(|(n, ids)| (n.to_string(), json!(ids)))
                    .collect();
                json!({
                    "PodUID": e.pod_uid,
                    "ContainerName": e.container_name,
                    "ResourceName": e.resource_name,
                    "DeviceIDs": by_numa,
                    "AllocResp": base64::engine::general_purpose::STANDARD.encode(&e.alloc_resp),
                })
            })
            .collect();
        let data = json!({
            "PodDeviceEntries": entries,
            "RegisteredDevices": self.registered_devices,
        });
        let checksum = fnv1a32(data.to_string().as_bytes());
        json!({ "Data": data, "Checksum": checksum }).to_string()
    }
}

fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in bytes {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}
