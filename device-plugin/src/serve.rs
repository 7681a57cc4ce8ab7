//! Serving a [`DevicePlugin`] for as long as it runs: bind its socket, register, and when the
//! kubelet restarts (it deletes the plugin's socket and creates a new `kubelet.sock`, both seen
//! through inotify at once) or its ListAndWatch stream broke, serve and register again; on
//! stop, end the streams, stop the server and remove the socket.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use crate::api::plugin_registration::registration_server::RegistrationServer;
use crate::api::v1beta1::device_plugin_server::DevicePluginServer;
use crate::api::{DEFAULT_PLUGIN_DIR, DEFAULT_PLUGINS_REGISTRY, KUBELET_SOCKET};
use crate::dir_watch::{DirEvent, DirWatcher};
use crate::error::{Error, Result};
use crate::plugin::DevicePlugin;
use crate::registration::{RegisterFailure, WatcherRegistration, register, register_request};
use crate::service::{DevicePluginService, StreamCount};
use crate::stop::{self, StopSignal};
use crate::uds;

/// How a plugin makes itself known to the kubelet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationMode {
    /// Serve in the plugin directory and call `Register` on its `kubelet.sock`.
    Kubelet,
    /// Serve in this plugin-watcher directory and answer the kubelet's `GetInfo`.
    PluginWatcher {
        /// The directory (`/var/lib/kubelet/plugins_registry`).
        registry_dir: PathBuf,
    },
    /// [`Self::PluginWatcher`] when this directory exists at start, else [`Self::Kubelet`]
    /// (what sriov-network-device-plugin does).
    Auto {
        /// The plugin-watcher directory.
        registry_dir: PathBuf,
    },
}

impl Default for RegistrationMode {
    fn default() -> Self {
        RegistrationMode::Auto {
            registry_dir: PathBuf::from(DEFAULT_PLUGINS_REGISTRY),
        }
    }
}

/// Where and as what a plugin is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// The extended resource name (`rdma/vhca`).
    pub resource_name: String,
    /// The socket's file name (`rdma-sriov-dp.sock`).
    pub socket_name: String,
    /// The kubelet's plugin directory, holding `kubelet.sock`.
    pub plugin_dir: PathBuf,
    /// How to register.
    pub registration: RegistrationMode,
}

impl ServeConfig {
    /// Resource `resource_name` on socket `socket_name` in the kubelet's default plugin
    /// directory, registration mode [`RegistrationMode::Auto`] with the default registry.
    ///
    /// ```
    /// use device_plugin::{RegistrationMode, ServeConfig};
    /// let c = ServeConfig::new("rdma/vhca", "rdma-sriov-dp.sock")
    ///     .plugin_dir("/tmp/plugins")
    ///     .registration(RegistrationMode::Kubelet);
    /// assert_eq!(c.socket_path(), std::path::Path::new("/tmp/plugins/rdma-sriov-dp.sock"));
    /// assert_eq!(c.kubelet_socket(), std::path::Path::new("/tmp/plugins/kubelet.sock"));
    /// ```
    pub fn new(resource_name: impl Into<String>, socket_name: impl Into<String>) -> Self {
        ServeConfig {
            resource_name: resource_name.into(),
            socket_name: socket_name.into(),
            plugin_dir: PathBuf::from(DEFAULT_PLUGIN_DIR),
            registration: RegistrationMode::default(),
        }
    }

    /// With this plugin directory.
    pub fn plugin_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.plugin_dir = dir.into();
        self
    }

    /// With this registration mode.
    pub fn registration(mut self, mode: RegistrationMode) -> Self {
        self.registration = mode;
        self
    }

    /// `<plugin dir>/kubelet.sock`.
    pub fn kubelet_socket(&self) -> PathBuf {
        self.plugin_dir.join(KUBELET_SOCKET)
    }

    /// Where the plugin's socket is in [`RegistrationMode::Kubelet`] mode.
    pub fn socket_path(&self) -> PathBuf {
        self.plugin_dir.join(&self.socket_name)
    }

    fn check(&self) -> Result<()> {
        let bad = |detail: &str| Error::Config {
            resource: self.resource_name.clone(),
            detail: detail.to_string(),
        };
        let name = Path::new(&self.socket_name);
        if self.socket_name.is_empty()
            || name.file_name() != Some(OsStr::new(&self.socket_name))
            || self.socket_name == KUBELET_SOCKET
        {
            return Err(bad(
                "the socket name must be a bare file name other than kubelet.sock",
            ));
        }
        match self.resource_name.split_once('/') {
            Some((domain, name))
                if !domain.is_empty() && !name.is_empty() && !name.contains('/') =>
            {
                Ok(())
            }
            _ => Err(bad("the resource name must be <domain>/<name>")),
        }
    }
}

/// Serves `plugin` until `stop` fires, then removes its socket. Returns an error only for
/// what cannot be retried (binding the socket, watching the directory); a kubelet that is
/// down or restarting is waited for.
pub async fn serve<P: DevicePlugin>(
    plugin: Arc<P>,
    config: ServeConfig,
    stop: StopSignal,
) -> Result<()> {
    config.check()?;
    match &config.registration {
        RegistrationMode::Kubelet => serve_kubelet_mode(plugin, &config, stop).await,
        RegistrationMode::PluginWatcher { registry_dir } => {
            serve_watcher_mode(plugin, &config, registry_dir, stop).await
        }
        RegistrationMode::Auto { registry_dir } if registry_dir.is_dir() => {
            serve_watcher_mode(plugin, &config, registry_dir, stop).await
        }
        RegistrationMode::Auto { .. } => serve_kubelet_mode(plugin, &config, stop).await,
    }
}

/// One bound socket with its gRPC server, stopped by its own trigger.
struct Incarnation {
    path: PathBuf,
    trigger: stop::StopTrigger,
    streams: StreamCount,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

/// How long a stopping server may take to finish its requests.
const STOP_GRACE: Duration = Duration::from_secs(5);

impl Incarnation {
    fn start<P: DevicePlugin>(
        plugin: &Arc<P>,
        resource: &str,
        path: &Path,
        watcher: Option<WatcherRegistration>,
    ) -> Result<Self> {
        let incoming = uds::bind(path)?;
        let (trigger, signal) = stop::channel();
        let streams = StreamCount::default();
        let service =
            DevicePluginService::new(plugin.clone(), resource, signal.clone(), streams.clone());
        let router = tonic::transport::Server::builder()
            .add_service(DevicePluginServer::new(service))
            .add_optional_service(watcher.map(RegistrationServer::new));
        let task = tokio::spawn(async move {
            router
                .serve_with_incoming_shutdown(incoming, async move { signal.stopped().await })
                .await
        });
        tracing::info!("Starting to serve on {}", path.display());
        Ok(Incarnation {
            path: path.to_path_buf(),
            trigger,
            streams,
            task,
        })
    }

    /// Stops the server and removes the socket; a server that had failed is reported.
    async fn stop(self) -> Result<()> {
        self.trigger.stop();
        let abort = self.task.abort_handle();
        let served = tokio::time::timeout(STOP_GRACE, self.task).await;
        if served.is_err() {
            abort.abort();
        }
        uds::remove_socket(&self.path)?;
        match served {
            Ok(Ok(Err(source))) => Err(Error::Serve {
                path: self.path,
                source,
            }),
            _ => Ok(()),
        }
    }
}

/// Waits until `dir` exists again (polling: there is nothing to watch meanwhile).
async fn wait_for_dir(dir: &Path, stop: &StopSignal) -> bool {
    loop {
        if dir.is_dir() {
            return true;
        }
        tokio::select! {
            () = stop.stopped() => return false,
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
        dir: dir.to_path_buf(),
        source,
    })
}

/// After the last ListAndWatch stream ended, how long to wait for the kubelet to open another
/// (it does when it re-registers the plugin itself) before registering again.
const STREAM_GONE_GRACE: Duration = Duration::from_millis(300);
/// The first retry of a Register nobody answered; doubled up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(20);
/// The longest wait between Register retries.
const RETRY_MAX: Duration = Duration::from_secs(1);

enum Next {
    /// Serve again (the socket was removed, or the directory re-created).
    Reserve,
    /// Stop.
    Stop,
}

async fn serve_kubelet_mode<P: DevicePlugin>(
    plugin: Arc<P>,
    config: &ServeConfig,
    stop: StopSignal,
) -> Result<()> {
    let dir = &config.plugin_dir;
    create_dir(dir)?;
    let socket = config.socket_path();
    let kubelet = config.kubelet_socket();
    let request = register_request(&config.resource_name, &config.socket_name, plugin.options());
    loop {
        // A stale socket goes before the watch starts (its removal is no news), and the watch
        // starts before the bind, so that nothing that happens after the bind is missed.
        uds::remove_socket(&socket)?;
        let mut watcher = DirWatcher::new(dir)?;
        let incarnation = Incarnation::start(&plugin, &config.resource_name, &socket, None)?;
        let next = run_kubelet_incarnation(
            &incarnation,
            &mut watcher,
            config,
            &kubelet,
            &request,
            &stop,
        )
        .await;
        incarnation.stop().await?;
        match next? {
            Next::Stop => return Ok(()),
            Next::Reserve => {
                if !wait_for_dir(dir, &stop).await {
                    return Ok(());
                }
            }
        }
    }
}

async fn run_kubelet_incarnation(
    incarnation: &Incarnation,
    watcher: &mut DirWatcher,
    config: &ServeConfig,
    kubelet: &Path,
    request: &crate::api::v1beta1::RegisterRequest,
    stop: &StopSignal,
) -> Result<Next> {
    let resource = &config.resource_name;
    let own = OsStr::new(&config.socket_name);
    let mut registered = false;
    let mut retry = RETRY_FIRST;
    let mut attempt_at = Some(Instant::now());
    let mut streams = incarnation.streams.subscribe();
    let mut stream_gone_at: Option<Instant> = None;
    loop {
        tokio::select! {
            () = stop.stopped() => return Ok(Next::Stop),
            event = watcher.next() => match event? {
                DirEvent::Removed(name) if name == own => {
                    tracing::warn!(%resource, "socket {} was removed (kubelet restart?): serving again", incarnation.path.display());
                    return Ok(Next::Reserve);
                }
                DirEvent::Created(name) if name == KUBELET_SOCKET => {
                    tracing::info!(%resource, "kubelet.sock was created: registering again");
                    registered = false;
                    retry = RETRY_FIRST;
                    attempt_at = Some(Instant::now());
                }
                DirEvent::DirGone => {
                    tracing::warn!(%resource, "plugin directory {} is gone: waiting for it", config.plugin_dir.display());
                    return Ok(Next::Reserve);
                }
                DirEvent::Overflow => {
                    if !incarnation.path.exists() {
                        return Ok(Next::Reserve);
                    }
                    attempt_at = Some(Instant::now());
                }
                DirEvent::Created(_) | DirEvent::Removed(_) => {}
            },
            () = sleep_until(attempt_at.unwrap_or_else(Instant::now)), if attempt_at.is_some() => {
                attempt_at = None;
                match register(kubelet, request.clone()).await {
                    Ok(()) => {
                        registered = true;
                        retry = RETRY_FIRST;
                        tracing::info!(%resource, "Registered device plugin with Kubelet");
                    }
                    Err(RegisterFailure::Unreachable(e)) => {
                        tracing::debug!(%resource, "kubelet not reachable, retrying in {retry:?}: {e}");
                        attempt_at = Some(Instant::now() + retry);
                        retry = (retry * 2).min(RETRY_MAX);
                    }
                    Err(RegisterFailure::Rejected(e)) => {
                        // waits for the next kubelet.sock
                        tracing::error!(%resource, "the kubelet refused the registration: {e}");
                    }
                }
            }
            changed = streams.changed() => {
                if changed.is_ok() && *streams.borrow_and_update() == 0 && registered {
                    stream_gone_at = Some(Instant::now() + STREAM_GONE_GRACE);
                }
            }
            () = sleep_until(stream_gone_at.unwrap_or_else(Instant::now)), if stream_gone_at.is_some() => {
                stream_gone_at = None;
                if incarnation.streams.get() == 0 && registered && attempt_at.is_none() {
                    tracing::warn!(%resource, "the kubelet's ListAndWatch stream ended: registering again");
                    registered = false;
                    attempt_at = Some(Instant::now());
                }
            }
        }
    }
}

async fn serve_watcher_mode<P: DevicePlugin>(
    plugin: Arc<P>,
    config: &ServeConfig,
    registry_dir: &Path,
    stop: StopSignal,
) -> Result<()> {
    create_dir(registry_dir)?;
    let socket = registry_dir.join(&config.socket_name);
    let own = OsStr::new(&config.socket_name);
    let resource = &config.resource_name;
    loop {
        uds::remove_socket(&socket)?;
        let mut watcher = DirWatcher::new(registry_dir)?;
        let registration = WatcherRegistration::new(resource, &socket);
        let incarnation = Incarnation::start(&plugin, resource, &socket, Some(registration))?;
        tracing::info!(%resource, "waiting for the kubelet's plugin watcher on {}", registry_dir.display());
        let next = loop {
            tokio::select! {
                () = stop.stopped() => break Ok(Next::Stop),
                event = watcher.next() => match event {
                    Err(e) => break Err(e),
                    Ok(DirEvent::Removed(name)) if name == own => {
                        tracing::warn!(%resource, "socket {} was removed: serving again", socket.display());
                        break Ok(Next::Reserve);
                    }
                    Ok(DirEvent::DirGone) => break Ok(Next::Reserve),
                    Ok(DirEvent::Overflow) if !socket.exists() => break Ok(Next::Reserve),
                    Ok(_) => {}
                },
            }
        };
        incarnation.stop().await?;
        match next? {
            Next::Stop => return Ok(()),
            Next::Reserve => {
                if !wait_for_dir(registry_dir, &stop).await {
                    return Ok(());
                }
            }
        }
    }
}
