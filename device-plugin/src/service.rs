//! The gRPC side of a [`DevicePlugin`]: request checks, and ListAndWatch streams that end as
//! soon as their reader is gone or the server stops, so a dead stream is neither blocked on
//! nor leaked.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::api::v1beta1 as pb;
use crate::api::v1beta1::device_plugin_server::DevicePlugin as DevicePluginRpc;
use crate::plugin::{
    Device, DevicePlugin, Health, PreStart, PreferredAllocation, PreferredRequest,
};
use crate::stop::StopSignal;

/// The number of ListAndWatch streams open, observable (the runner re-registers when the last
/// one ends: the kubelet never retries a broken stream).
#[derive(Debug, Clone)]
pub struct StreamCount {
    open: Arc<watch::Sender<usize>>,
}

impl Default for StreamCount {
    fn default() -> Self {
        StreamCount {
            open: Arc::new(watch::channel(0).0),
        }
    }
}

impl StreamCount {
    /// Counts one stream until the guard is dropped.
    fn open(&self) -> StreamGuard {
        self.open.send_modify(|n| *n += 1);
        StreamGuard {
            open: self.open.clone(),
        }
    }

    /// Streams open now.
    pub fn get(&self) -> usize {
        *self.open.borrow()
    }

    /// A receiver that sees every change of the count.
    pub fn subscribe(&self) -> watch::Receiver<usize> {
        self.open.subscribe()
    }
}

struct StreamGuard {
    open: Arc<watch::Sender<usize>>,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.open.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// A [`DevicePlugin`] as a tonic `DevicePlugin` service.
pub struct DevicePluginService<P> {
    plugin: Arc<P>,
    resource: Arc<str>,
    stop: StopSignal,
    streams: StreamCount,
}

impl<P> DevicePluginService<P> {
    /// Serves `plugin` of `resource`; streams end when `stop` fires.
    pub fn new(plugin: Arc<P>, resource: &str, stop: StopSignal, streams: StreamCount) -> Self {
        DevicePluginService {
            plugin,
            resource: resource.into(),
            stop,
            streams,
        }
    }
}

/// Which devices a check accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accept {
    /// Known devices only.
    Known,
    /// Known and healthy devices only.
    KnownHealthy,
}

fn check_ids(
    resource: &str,
    op: &str,
    devices: &[Device],
    ids: &[String],
    accept: Accept,
) -> Result<(), Status> {
    let mut seen = HashSet::with_capacity(ids.len());
    for id in ids {
        if !seen.insert(id.as_str()) {
            return Err(Status::invalid_argument(format!(
                "{op} {resource}: device {id:?} requested twice"
            )));
        }
        match devices.iter().find(|d| d.id == *id) {
            None => {
                return Err(Status::invalid_argument(format!(
                    "{op} {resource}: unknown device {id:?}"
                )));
            }
            Some(d) if accept == Accept::KnownHealthy && d.health != Health::Healthy => {
                return Err(Status::invalid_argument(format!(
                    "{op} {resource}: device {id:?} is unhealthy"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

type DeviceStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::ListAndWatchResponse, Status>> + Send>>;

#[tonic::async_trait]
impl<P: DevicePlugin> DevicePluginRpc for DevicePluginService<P> {
    async fn get_device_plugin_options(
        &self,
        _request: Request<pb::Empty>,
    ) -> Result<Response<pb::DevicePluginOptions>, Status> {
        Ok(Response::new(self.plugin.options().into()))
    }

    type ListAndWatchStream = DeviceStream;

    async fn list_and_watch(
        &self,
        _request: Request<pb::Empty>,
    ) -> Result<Response<Self::ListAndWatchStream>, Status> {
        let mut devices = self.plugin.devices();
        let stop = self.stop.clone();
        let guard = self.streams.open();
        let resource = self.resource.clone();
        // Two slots: the reader is at most one list behind; newer changes coalesce in the watch.
        let (tx, rx) = mpsc::channel(2);
        tokio::spawn(async move {
            let _guard = guard;
            loop {
                let list: Vec<pb::Device> =
                    devices.borrow_and_update().iter().map(Into::into).collect();
                tracing::debug!(%resource, devices = list.len(), "ListAndWatch sends the device list");
                tokio::select! {
                    sent = tx.send(Ok(pb::ListAndWatchResponse { devices: list })) => {
                        if sent.is_err() { break; } // the reader is gone
                    }
                    () = stop.stopped() => break,
                }
                tokio::select! {
                    changed = devices.changed() => {
                        if changed.is_err() { break; } // the plugin dropped its sender
                    }
                    () = tx.closed() => break, // the reader went away while nothing changed
                    () = stop.stopped() => break,
                }
            }
            tracing::debug!(%resource, "ListAndWatch stream ended");
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get_preferred_allocation(
        &self,
        request: Request<pb::PreferredAllocationRequest>,
    ) -> Result<Response<pb::PreferredAllocationResponse>, Status> {
        let options = self.plugin.options();
        if options.preferred_allocation != PreferredAllocation::Available {
            return Err(Status::unimplemented(format!(
                "GetPreferredAllocation {}: not offered by this plugin",
                self.resource
            )));
        }
        let request = request.into_inner();
        let devices = self.plugin.devices().borrow().clone();
        let mut responses = Vec::with_capacity(request.container_requests.len());
        for container in request.container_requests {
            let op = "GetPreferredAllocation";
            check_ids(
                &self.resource,
                op,
                &devices,
                &container.available_device_i_ds,
                Accept::Known,
            )?;
            let available: HashSet<&str> = container
                .available_device_i_ds
                .iter()
                .map(String::as_str)
                .collect();
            let mut must = HashSet::new();
            for id in &container.must_include_device_i_ds {
                if !available.contains(id.as_str()) || !must.insert(id.as_str()) {
                    return Err(Status::invalid_argument(format!(
                        "{op} {}: must-include device {id:?} is not available or repeated",
                        self.resource
                    )));
                }
            }
            let size = usize::try_from(container.allocation_size).map_err(|_| {
                Status::invalid_argument(format!(
                    "{op} {}: negative allocation size {}",
                    self.resource, container.allocation_size
                ))
            })?;
            let ids = self
                .plugin
                .preferred_allocation(PreferredRequest {
                    available: container.available_device_i_ds,
                    must_include: container.must_include_device_i_ds,
                    size,
                })
                .await?;
            responses.push(pb::ContainerPreferredAllocationResponse { device_i_ds: ids });
        }
        Ok(Response::new(pb::PreferredAllocationResponse {
            container_responses: responses,
        }))
    }

    async fn allocate(
        &self,
        request: Request<pb::AllocateRequest>,
    ) -> Result<Response<pb::AllocateResponse>, Status> {
        let request = request.into_inner();
        {
            let devices = self.plugin.devices().borrow().clone();
            for container in &request.container_requests {
                check_ids(
                    &self.resource,
                    "Allocate",
                    &devices,
                    &container.devices_ids,
                    Accept::KnownHealthy,
                )?;
            }
        }
        let containers = request.container_requests.len();
        let response = self.plugin.allocate(request).await?;
        if response.container_responses.len() != containers {
            return Err(Status::internal(format!(
                "Allocate {}: the plugin answered {} of {containers} container requests",
                self.resource,
                response.container_responses.len()
            )));
        }
        Ok(Response::new(response))
    }

    async fn pre_start_container(
        &self,
        request: Request<pb::PreStartContainerRequest>,
    ) -> Result<Response<pb::PreStartContainerResponse>, Status> {
        let request = request.into_inner();
        {
            let devices = self.plugin.devices().borrow().clone();
            check_ids(
                &self.resource,
                "PreStartContainer",
                &devices,
                &request.devices_ids,
                Accept::Known,
            )?;
        }
        if self.plugin.options().pre_start == PreStart::Required {
            self.plugin.pre_start_container(request.devices_ids).await?;
        }
        Ok(Response::new(pb::PreStartContainerResponse {}))
    }
}
