//! What a plugin author implements: [`DevicePlugin`], and the device list it publishes.

use std::future::Future;

use tokio::sync::watch;
use tonic::Status;

use crate::api::v1beta1 as pb;
use crate::api::{HEALTHY, UNHEALTHY};

/// Whether a device can be handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Health {
    /// Usable.
    Healthy,
    /// Not usable: the kubelet stops counting it as allocatable.
    Unhealthy,
}

impl Health {
    /// The kubelet's word for it (`Healthy`, `Unhealthy`).
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => HEALTHY,
            Health::Unhealthy => UNHEALTHY,
        }
    }
}

/// One device as the kubelet sees it: an ID unique within the resource, its health and the
/// NUMA nodes it is attached to (empty: no topology).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Device {
    /// The device ID (for an SR-IOV VF, its PCI address).
    pub id: String,
    /// Its health.
    pub health: Health,
    /// Its NUMA nodes.
    pub numa_nodes: Vec<i64>,
}

impl Device {
    /// A device with an ID, health and at most one NUMA node.
    ///
    /// ```
    /// use device_plugin::{Device, Health};
    /// let d = Device::new("0000:3b:00.2", Health::Healthy, Some(0));
    /// assert_eq!(d.numa_nodes, [0]);
    /// ```
    pub fn new(id: impl Into<String>, health: Health, numa_node: Option<i64>) -> Self {
        Device {
            id: id.into(),
            health,
            numa_nodes: numa_node.into_iter().collect(),
        }
    }
}

impl From<&Device> for pb::Device {
    fn from(d: &Device) -> Self {
        pb::Device {
            id: d.id.clone(),
            health: d.health.as_str().to_string(),
            topology: (!d.numa_nodes.is_empty()).then(|| pb::TopologyInfo {
                nodes: d.numa_nodes.iter().map(|&id| pb::NumaNode { id }).collect(),
            }),
        }
    }
}

/// Whether the kubelet must call PreStartContainer before each container start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreStart {
    /// It need not (the default).
    #[default]
    NotRequired,
    /// It must; [`DevicePlugin::pre_start_container`] is called.
    Required,
}

/// Whether the plugin answers GetPreferredAllocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreferredAllocation {
    /// It does not: the RPC answers UNIMPLEMENTED (the default).
    #[default]
    Unavailable,
    /// It does; [`DevicePlugin::preferred_allocation`] is called.
    Available,
}

/// What a plugin supports beyond Allocate and ListAndWatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PluginOptions {
    /// PreStartContainer.
    pub pre_start: PreStart,
    /// GetPreferredAllocation.
    pub preferred_allocation: PreferredAllocation,
}

impl From<PluginOptions> for pb::DevicePluginOptions {
    fn from(o: PluginOptions) -> Self {
        pb::DevicePluginOptions {
            pre_start_required: o.pre_start == PreStart::Required,
            get_preferred_allocation_available: o.preferred_allocation
                == PreferredAllocation::Available,
        }
    }
}

/// One container's GetPreferredAllocation question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferredRequest {
    /// The device IDs the kubelet may allocate from.
    pub available: Vec<String>,
    /// IDs the answer must contain.
    pub must_include: Vec<String>,
    /// How many devices the container gets.
    pub size: usize,
}

/// A device plugin, as its author writes it. The framework ([`crate::serve`]) serves it on a
/// unix socket, registers it with the kubelet and keeps it registered.
///
/// The device list is a [`watch`] channel: the author sends the whole list whenever something
/// changes; every ListAndWatch stream sends the latest list, coalescing changes a slow reader
/// missed, and never holds up the sender.
///
/// Before any method is called, the framework checks the request against the current device
/// list: an unknown, repeated or (for Allocate) unhealthy ID is refused with INVALID_ARGUMENT
/// naming it, and the method is not called.
pub trait DevicePlugin: Send + Sync + 'static {
    /// The devices, now and after every change.
    fn devices(&self) -> watch::Receiver<Vec<Device>>;

    /// What the plugin supports.
    fn options(&self) -> PluginOptions {
        PluginOptions::default()
    }

    /// What each container gets for its devices (one response per container request, in
    /// order).
    fn allocate(
        &self,
        request: pb::AllocateRequest,
    ) -> impl Future<Output = Result<pb::AllocateResponse, Status>> + Send;

    /// Which devices this container should get, when [`PluginOptions::preferred_allocation`]
    /// is [`PreferredAllocation::Available`].
    fn preferred_allocation(
        &self,
        request: PreferredRequest,
    ) -> impl Future<Output = Result<Vec<String>, Status>> + Send {
        let _ = request;
        async { Err(Status::unimplemented("GetPreferredAllocation")) }
    }

    /// Called before a container with these devices starts, when [`PluginOptions::pre_start`]
    /// is [`PreStart::Required`].
    fn pre_start_container(
        &self,
        device_ids: Vec<String>,
    ) -> impl Future<Output = Result<(), Status>> + Send {
        let _ = device_ids;
        async { Ok(()) }
    }
}
