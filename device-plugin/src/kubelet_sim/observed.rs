//! What a stand-in has seen: registrations and the device lists the plugins streamed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::SimError;
use crate::api::v1beta1 as pb;
use crate::plugin::{Device, Health};

/// One accepted registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The resource.
    pub resource: String,
    /// The endpoint as sent (a socket file name; a full path in plugin-watcher mode).
    pub endpoint: String,
    /// The API version sent.
    pub version: String,
    /// The options sent with it (or asked for).
    pub options: pb::DevicePluginOptions,
    /// When the stand-in accepted it.
    pub at: Instant,
}

/// Everything seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Accepted registrations, in order.
    pub registrations: Vec<Registration>,
    /// Registrations refused, with the reason given.
    pub refused: Vec<String>,
    /// Each resource's latest device list.
    pub devices: BTreeMap<String, Vec<Device>>,
    /// How many device lists each resource's streams delivered.
    pub updates: BTreeMap<String, u64>,
    /// When each resource's latest list arrived.
    pub updated_at: BTreeMap<String, Instant>,
}

impl Observed {
    /// The devices of `resource` that are healthy.
    pub fn healthy(&self, resource: &str) -> usize {
        self.devices.get(resource).map_or(0, |list| {
            list.iter().filter(|d| d.health == Health::Healthy).count()
        })
    }
}

/// The proto device list as [`Device`]s.
pub(crate) fn devices_of(list: &[pb::Device]) -> Vec<Device> {
    list.iter()
        .map(|d| Device {
            id: d.id.clone(),
            health: if d.health == crate::api::HEALTHY {
                Health::Healthy
            } else {
                Health::Unhealthy
            },
            numa_nodes: d
                .topology
                .as_ref()
                .map(|t| t.nodes.iter().map(|n| n.id).collect())
                .unwrap_or_default(),
        })
        .collect()
}

/// Waits until `done` holds of what `rx` shows.
pub(crate) async fn wait_until(
    rx: &watch::Sender<Observed>,
    what: &str,
    timeout: Duration,
    done: impl Fn(&Observed) -> bool + Sync,
) -> Result<Observed, SimError> {
    let mut rx = rx.subscribe();
    match tokio::time::timeout(timeout, rx.wait_for(|o| done(o))).await {
        Ok(Ok(o)) => Ok(o.clone()),
        Ok(Err(_)) | Err(_) => Err(SimError::Timeout {
            what: what.to_string(),
            after: timeout,
        }),
    }
}
