//! Registering with the kubelet: `Register` on its `kubelet.sock` (the classic way), or
//! answering the plugin watcher's `GetInfo` / `NotifyRegistrationStatus` from a socket in
//! `plugins_registry`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::api::plugin_registration as reg;
use crate::api::v1beta1 as pb;
use crate::api::{PLUGIN_TYPE_DEVICE_PLUGIN, VERSION};
use crate::error::{Error, Result};
use crate::plugin::PluginOptions;
use crate::uds;

/// How long a Register call may take before it counts as unanswered.
pub const REGISTER_TIMEOUT: Duration = Duration::from_secs(5);

/// The method name in errors.
const REGISTER: &str = "/v1beta1.Registration/Register";

/// The RegisterRequest a plugin sends: version v1beta1, the bare socket file name as endpoint
/// (the kubelet joins it to its plugin directory; a full path there is a known mistake).
pub fn register_request(
    resource: &str,
    socket_name: &str,
    options: PluginOptions,
) -> pb::RegisterRequest {
    pb::RegisterRequest {
        version: VERSION.to_string(),
        endpoint: socket_name.to_string(),
        resource_name: resource.to_string(),
        options: Some(options.into()),
    }
}

/// Why a registration did not go through.
#[derive(Debug)]
pub enum RegisterFailure {
    /// Nobody answered (no socket, refused, connection lost, timed out): try again soon.
    Unreachable(Error),
    /// The kubelet answered with an error: it will not accept this request as it is.
    Rejected(Error),
}

impl RegisterFailure {
    /// The error.
    pub fn error(&self) -> &Error {
        match self {
            RegisterFailure::Unreachable(e) | RegisterFailure::Rejected(e) => e,
        }
    }
}

/// Calls `Register` on the kubelet socket `kubelet_socket`.
pub async fn register(
    kubelet_socket: &Path,
    request: pb::RegisterRequest,
) -> Result<(), RegisterFailure> {
    let attempt = async {
        let channel = uds::connect(kubelet_socket)
            .await
            .map_err(RegisterFailure::Unreachable)?;
        let mut client = pb::registration_client::RegistrationClient::new(channel);
        client.register(request).await.map_err(|status| {
            let unreachable = matches!(
                status.code(),
                tonic::Code::Unavailable | tonic::Code::Cancelled | tonic::Code::DeadlineExceeded
            );
            let error = Error::Call {
                method: REGISTER,
                socket: kubelet_socket.to_path_buf(),
                source: Box::new(status),
            };
            if unreachable {
                RegisterFailure::Unreachable(error)
            } else {
                RegisterFailure::Rejected(error)
            }
        })?;
        Ok(())
    };
    match tokio::time::timeout(REGISTER_TIMEOUT, attempt).await {
        Ok(result) => result,
        Err(_) => Err(RegisterFailure::Unreachable(Error::Call {
            method: REGISTER,
            socket: kubelet_socket.to_path_buf(),
            source: Box::new(Status::deadline_exceeded("no answer within 5 s")),
        })),
    }
}

/// What the plugin watcher last told the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatcherStatus {
    /// Nothing yet.
    Unknown,
    /// Registered.
    Registered,
    /// Refused, with the kubelet's reason.
    Refused(String),
}

/// The plugin-watcher `Registration` service of one device plugin.
#[derive(Debug)]
pub struct WatcherRegistration {
    resource: String,
    endpoint: PathBuf,
    status: watch::Sender<WatcherStatus>,
}

impl WatcherRegistration {
    /// Answers for `resource`, served on `endpoint` (the full socket path).
    pub fn new(resource: &str, endpoint: &Path) -> Self {
        WatcherRegistration {
            resource: resource.to_string(),
            endpoint: endpoint.to_path_buf(),
            status: watch::channel(WatcherStatus::Unknown).0,
        }
    }

    /// The status the kubelet reported, as it changes.
    pub fn status(&self) -> watch::Receiver<WatcherStatus> {
        self.status.subscribe()
    }
}

#[tonic::async_trait]
impl reg::registration_server::Registration for WatcherRegistration {
    async fn get_info(
        &self,
        _request: Request<reg::InfoRequest>,
    ) -> Result<Response<reg::PluginInfo>, Status> {
        Ok(Response::new(reg::PluginInfo {
            r#type: PLUGIN_TYPE_DEVICE_PLUGIN.to_string(),
            name: self.resource.clone(),
            endpoint: self.endpoint.display().to_string(),
            supported_versions: vec![VERSION.to_string()],
        }))
    }

    async fn notify_registration_status(
        &self,
        request: Request<reg::RegistrationStatus>,
    ) -> Result<Response<reg::RegistrationStatusResponse>, Status> {
        let status = request.into_inner();
        let new = if status.plugin_registered {
            tracing::info!(resource = %self.resource, "Registered device plugin with Kubelet (plugin watcher)");
            WatcherStatus::Registered
        } else {
            tracing::error!(resource = %self.resource, error = %status.error, "the kubelet refused the plugin");
            WatcherStatus::Refused(status.error)
        };
        self.status.send_replace(new);
        Ok(Response::new(reg::RegistrationStatusResponse {}))
    }
}
