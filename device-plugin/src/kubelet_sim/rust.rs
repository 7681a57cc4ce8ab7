//! The Rust (tonic) kubelet stand-in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use prost::Message;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use super::observed::{Observed, Registration, devices_of, wait_until};
use super::validate::{valid_endpoint, valid_extended_resource_name};
use super::{CallError, KubeletStandIn, SimError};
use crate::api::plugin_registration as reg;
use crate::api::pod_resources as pr;
use crate::api::v1beta1 as pb;
use crate::api::{CHECKPOINT_FILE, KUBELET_SOCKET, PLUGIN_TYPE_DEVICE_PLUGIN, VERSION};
use crate::checkpoint::{Checkpoint, PodDeviceEntry};
use crate::dir_watch::{DirEvent, DirWatcher};
use crate::plugin::Device;
use crate::stop::{self, StopTrigger};
use crate::uds;

type PluginClient = pb::device_plugin_client::DevicePluginClient<Channel>;

/// Where the stand-in serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeletPaths {
    /// The plugin directory (`kubelet.sock`, plugin sockets, the checkpoint).
    pub plugin_dir: PathBuf,
    /// The pod-resources socket.
    pub pod_resources_socket: PathBuf,
}

impl KubeletPaths {
    /// The kubelet's paths under a host root: `<root>/var/lib/kubelet/device-plugins` and
    /// `<root>/var/lib/kubelet/pod-resources/kubelet.sock`.
    pub fn under(root: &Path) -> Self {
        KubeletPaths {
            plugin_dir: root.join("var/lib/kubelet/device-plugins"),
            pod_resources_socket: root.join("var/lib/kubelet/pod-resources/kubelet.sock"),
        }
    }
}

/// A pod's container, for allocations recorded in the checkpoint and the pod-resources API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRef {
    /// The pod's UID.
    pub uid: String,
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub name: String,
    /// The container's name.
    pub container: String,
}

/// One registered plugin.
struct Endpoint {
    /// The endpoint as registered.
    endpoint: String,
    client: PluginClient,
    stream: JoinHandle<()>,
    /// False once its ListAndWatch stream ended.
    alive: watch::Receiver<bool>,
}

/// One pod container's allocation.
#[derive(Debug, Clone)]
struct PodAllocation {
    pod: PodRef,
    resource: String,
    ids: Vec<String>,
    numa: BTreeMap<i64, Vec<String>>,
    response: pb::ContainerAllocateResponse,
}

struct Servers {
    registration: Option<(StopTrigger, JoinHandle<()>)>,
    pod_resources: Option<(StopTrigger, JoinHandle<()>)>,
    registry_watch: Option<(StopTrigger, JoinHandle<()>)>,
}

struct Shared {
    paths: KubeletPaths,
    observed: watch::Sender<Observed>,
    endpoints: Mutex<BTreeMap<String, Endpoint>>,
    pods: Mutex<Vec<PodAllocation>>,
    servers: Mutex<Servers>,
    registry: Mutex<Option<PathBuf>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The Rust kubelet stand-in. Dropping it stops its servers.
#[derive(Clone)]
pub struct KubeletSim {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for KubeletSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeletSim")
            .field("paths", &self.shared.paths)
            .finish_non_exhaustive()
    }
}

fn call_error(method: &'static str, status: &Status) -> CallError {
    CallError {
        method,
        code: status.code(),
        message: status.message().to_string(),
    }
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> SimError + 'a {
    move |source| SimError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

impl KubeletSim {
    /// Starts serving `kubelet.sock` and the pod-resources socket (directories are created).
    /// Needs a tokio runtime.
    pub async fn start(paths: KubeletPaths) -> Result<KubeletSim, SimError> {
        std::fs::create_dir_all(&paths.plugin_dir).map_err(io_err("create", &paths.plugin_dir))?;
        if let Some(dir) = paths.pod_resources_socket.parent() {
            std::fs::create_dir_all(dir).map_err(io_err("create", dir))?;
        }
        let sim = KubeletSim {
            shared: Arc::new(Shared {
                paths,
                observed: watch::channel(Observed::default()).0,
                endpoints: Mutex::new(BTreeMap::new()),
                pods: Mutex::new(Vec::new()),
                servers: Mutex::new(Servers {
                    registration: None,
                    pod_resources: None,
                    registry_watch: None,
                }),
                registry: Mutex::new(None),
            }),
        };
        sim.start_servers()?;
        Ok(sim)
    }

    /// Its paths.
    pub fn paths(&self) -> &KubeletPaths {
        &self.shared.paths
    }

    fn start_servers(&self) -> Result<(), SimError> {
        let kubelet_sock = self.shared.paths.plugin_dir.join(KUBELET_SOCKET);
        let incoming = uds::bind(&kubelet_sock)?;
        let (trigger, signal) = stop::channel();
        let service = RegistrationService {
            shared: Arc::downgrade(&self.shared),
        };
        let task = tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(pb::registration_server::RegistrationServer::new(service))
                .serve_with_incoming_shutdown(incoming, async move { signal.stopped().await })
                .await;
        });
        let pr_sock = self.shared.paths.pod_resources_socket.clone();
        let pr_incoming = uds::bind(&pr_sock)?;
        let (pr_trigger, pr_signal) = stop::channel();
        let pr_service = PodResourcesService {
            shared: Arc::downgrade(&self.shared),
        };
        let pr_task = tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(
                    pr::pod_resources_lister_server::PodResourcesListerServer::new(pr_service),
                )
                .serve_with_incoming_shutdown(pr_incoming, async move { pr_signal.stopped().await })
                .await;
        });
        let mut servers = lock(&self.shared.servers);
        servers.registration = Some((trigger, task));
        servers.pod_resources = Some((pr_trigger, pr_task));
        Ok(())
    }

    async fn stop_servers(&self) {
        let (a, b, c) = {
            let mut servers = lock(&self.shared.servers);
            (
                servers.registration.take(),
                servers.pod_resources.take(),
                servers.registry_watch.take(),
            )
        };
        for (trigger, task) in [a, b, c].into_iter().flatten() {
            trigger.stop();
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    /// Watches a plugin-watcher directory as the kubelet's plugin manager does: every socket
    /// that appears is asked `GetInfo`, validated, connected to and told the outcome with
    /// `NotifyRegistrationStatus`.
    pub fn watch_plugins_registry(&self, dir: &Path) -> Result<(), SimError> {
        std::fs::create_dir_all(dir).map_err(io_err("create", dir))?;
        *lock(&self.shared.registry) = Some(dir.to_path_buf());
        self.start_registry_watch(dir)
    }

    fn start_registry_watch(&self, dir: &Path) -> Result<(), SimError> {
        let mut watcher = DirWatcher::new(dir)?;
        let (trigger, signal) = stop::channel();
        let shared = Arc::downgrade(&self.shared);
        let dir = dir.to_path_buf();
        let task = tokio::spawn(async move {
            let existing: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            for path in existing {
                tokio::spawn(watcher_register(shared.clone(), path));
            }
            loop {
                tokio::select! {
                    () = signal.stopped() => break,
                    event = watcher.next() => match event {
                        Ok(DirEvent::Created(name)) => {
                            tokio::spawn(watcher_register(shared.clone(), dir.join(name)));
                        }
                        Ok(DirEvent::DirGone) | Err(_) => break,
                        Ok(_) => {}
                    },
                }
            }
        });
        lock(&self.shared.servers).registry_watch = Some((trigger, task));
        Ok(())
    }

    /// Allocate for one container of `pod`, recorded as the kubelet records it: in the
    /// checkpoint file and in the pod-resources API.
    pub async fn allocate_for_pod(
        &self,
        pod: &PodRef,
        resource: &str,
        ids: &[String],
    ) -> Result<pb::ContainerAllocateResponse, SimError> {
        let response = self.allocate(resource, ids).await?;
        let known = self
            .observed()
            .devices
            .get(resource)
            .cloned()
            .unwrap_or_default();
        let mut numa: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for id in ids {
            let node = known
                .iter()
                .find(|d| d.id == *id)
                .and_then(|d| d.numa_nodes.first().copied())
                .unwrap_or(-1);
            numa.entry(node).or_default().push(id.clone());
        }
        lock(&self.shared.pods).push(PodAllocation {
            pod: pod.clone(),
            resource: resource.to_string(),
            ids: ids.to_vec(),
            numa,
            response: response.clone(),
        });
        self.write_checkpoint()?;
        Ok(response)
    }

    /// The checkpoint as the stand-in would write it now.
    pub fn checkpoint(&self) -> Checkpoint {
        let pods = lock(&self.shared.pods);
        let observed = self.observed();
        Checkpoint {
            entries: pods
                .iter()
                .map(|p| PodDeviceEntry {
                    pod_uid: p.pod.uid.clone(),
                    container_name: p.pod.container.clone(),
                    resource_name: p.resource.clone(),
                    device_ids: p.numa.clone(),
                    alloc_resp: p.response.encode_to_vec(),
                })
                .collect(),
            registered_devices: observed
                .devices
                .iter()
                .map(|(r, list)| (r.clone(), list.iter().map(|d| d.id.clone()).collect()))
                .collect(),
        }
    }

    fn write_checkpoint(&self) -> Result<(), SimError> {
        let path = self.shared.paths.plugin_dir.join(CHECKPOINT_FILE);
        let tmp = self.shared.paths.plugin_dir.join(".checkpoint.tmp");
        std::fs::write(&tmp, self.checkpoint().to_json()).map_err(io_err("write", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(io_err("rename to", &path))
    }

    fn client(&self, resource: &str) -> Result<PluginClient, SimError> {
        lock(&self.shared.endpoints)
            .get(resource)
            .map(|e| e.client.clone())
            .ok_or_else(|| SimError::NoPlugin {
                resource: resource.to_string(),
            })
    }

    /// Whether the ListAndWatch stream of `resource` is open.
    pub fn stream_alive(&self, resource: &str) -> bool {
        lock(&self.shared.endpoints)
            .get(resource)
            .is_some_and(|e| *e.alive.borrow())
    }

    /// The endpoint `resource` registered with.
    pub fn endpoint(&self, resource: &str) -> Option<String> {
        lock(&self.shared.endpoints)
            .get(resource)
            .map(|e| e.endpoint.clone())
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let servers = self.servers.get_mut().unwrap_or_else(|p| p.into_inner());
        for (trigger, task) in [
            servers.registration.take(),
            servers.pod_resources.take(),
            servers.registry_watch.take(),
        ]
        .into_iter()
        .flatten()
        {
            trigger.stop();
            task.abort();
        }
        for (_, e) in std::mem::take(self.endpoints.get_mut().unwrap_or_else(|p| p.into_inner())) {
            e.stream.abort();
        }
    }
}

/// Connects to a plugin, asks its options, opens its ListAndWatch stream and consumes it into
/// `observed`; replaces the resource's earlier endpoint.
async fn attach(
    shared: &Arc<Shared>,
    resource: &str,
    endpoint: &str,
    socket: &Path,
) -> Result<pb::DevicePluginOptions, Status> {
    let channel = uds::connect(socket)
        .await
        .map_err(|e| Status::unavailable(format!("cannot dial plugin {resource}: {e}")))?;
    let mut client = PluginClient::new(channel);
    let options = client
        .get_device_plugin_options(pb::Empty {})
        .await
        .map_err(|s| {
            Status::unavailable(format!(
                "GetDevicePluginOptions of {resource}: {}",
                s.message()
            ))
        })?
        .into_inner();
    let mut stream = client
        .list_and_watch(pb::Empty {})
        .await
        .map_err(|s| Status::unavailable(format!("ListAndWatch of {resource}: {}", s.message())))?
        .into_inner();
    let (alive_tx, alive_rx) = watch::channel(true);
    let weak = Arc::downgrade(shared);
    let name = resource.to_string();
    let task = tokio::spawn(async move {
        while let Ok(Some(update)) = stream.message().await {
            let Some(shared) = weak.upgrade() else { break };
            let devices = devices_of(&update.devices);
            shared.observed.send_modify(|o| {
                o.devices.insert(name.clone(), devices);
                *o.updates.entry(name.clone()).or_default() += 1;
                o.updated_at.insert(name.clone(), Instant::now());
            });
        }
        let _ = alive_tx.send(false);
    });
    let old = lock(&shared.endpoints).insert(
        resource.to_string(),
        Endpoint {
            endpoint: endpoint.to_string(),
            client,
            stream: task,
            alive: alive_rx,
        },
    );
    if let Some(old) = old {
        old.stream.abort();
    }
    Ok(options)
}

struct RegistrationService {
    shared: std::sync::Weak<Shared>,
}

fn refuse(shared: &Shared, status: Status) -> Status {
    shared
        .observed
        .send_modify(|o| o.refused.push(status.message().to_string()));
    status
}

#[tonic::async_trait]
impl pb::registration_server::Registration for RegistrationService {
    async fn register(
        &self,
        request: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::Empty>, Status> {
        let Some(shared) = self.shared.upgrade() else {
            return Err(Status::unavailable("kubelet stopping"));
        };
        let r = request.into_inner();
        if r.version != VERSION {
            return Err(refuse(
                &shared,
                Status::invalid_argument(format!(
                    "Unsupported version {:?} of device plugin API; supported: [{VERSION}]",
                    r.version
                )),
            ));
        }
        if !valid_extended_resource_name(&r.resource_name) {
            return Err(refuse(
                &shared,
                Status::invalid_argument(format!(
                    "invalid name of device plugin socket: {:?} is not an extended resource name",
                    r.resource_name
                )),
            ));
        }
        if !valid_endpoint(&r.endpoint) {
            return Err(refuse(
                &shared,
                Status::invalid_argument(format!(
                    "endpoint {:?} must be a socket file name in the plugin directory",
                    r.endpoint
                )),
            ));
        }
        let conflict = lock(&shared.endpoints)
            .get(&r.resource_name)
            .is_some_and(|e| e.endpoint != r.endpoint && *e.alive.borrow());
        if conflict {
            return Err(refuse(
                &shared,
                Status::already_exists(format!(
                    "another plugin serves {} and is alive",
                    r.resource_name
                )),
            ));
        }
        let socket = shared.paths.plugin_dir.join(&r.endpoint);
        attach(&shared, &r.resource_name, &r.endpoint, &socket).await?;
        shared.observed.send_modify(|o| {
            o.registrations.push(Registration {
                resource: r.resource_name.clone(),
                endpoint: r.endpoint.clone(),
                version: r.version.clone(),
                options: r.options.unwrap_or_default(),
                at: Instant::now(),
            })
        });
        Ok(Response::new(pb::Empty {}))
    }
}

/// The plugin watcher's handling of one socket in the registry directory.
async fn watcher_register(shared: std::sync::Weak<Shared>, socket: PathBuf) {
    // the socket file appears at bind(), a moment before the plugin listens
    let mut channel = None;
    for _ in 0..50 {
        if let Ok(c) = uds::connect(&socket).await {
            channel = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Some(channel) = channel else { return };
    let mut client = reg::registration_client::RegistrationClient::new(channel);
    let Ok(info) = client
        .get_info(reg::InfoRequest {})
        .await
        .map(Response::into_inner)
    else {
        return;
    };
    let Some(shared) = shared.upgrade() else {
        return;
    };
    let verdict = if info.r#type != PLUGIN_TYPE_DEVICE_PLUGIN {
        Err(format!(
            "plugin type {:?} is not {PLUGIN_TYPE_DEVICE_PLUGIN}",
            info.r#type
        ))
    } else if !info.supported_versions.iter().any(|v| v == VERSION) {
        Err(format!(
            "none of the versions {:?} is {VERSION}",
            info.supported_versions
        ))
    } else if !valid_extended_resource_name(&info.name) {
        Err(format!("{:?} is not an extended resource name", info.name))
    } else {
        attach(
            &shared,
            &info.name,
            &info.endpoint,
            Path::new(&info.endpoint),
        )
        .await
        .map_err(|s| s.message().to_string())
    };
    let status = match &verdict {
        Ok(options) => {
            shared.observed.send_modify(|o| {
                o.registrations.push(Registration {
                    resource: info.name.clone(),
                    endpoint: info.endpoint.clone(),
                    version: VERSION.to_string(),
                    options: *options,
                    at: Instant::now(),
                })
            });
            reg::RegistrationStatus {
                plugin_registered: true,
                error: String::new(),
            }
        }
        Err(why) => {
            shared.observed.send_modify(|o| o.refused.push(why.clone()));
            reg::RegistrationStatus {
                plugin_registered: false,
                error: why.clone(),
            }
        }
    };
    let _ = client.notify_registration_status(status).await;
}

struct PodResourcesService {
    shared: std::sync::Weak<Shared>,
}

fn pod_resources_of(
    pods: &[PodAllocation],
    filter: impl Fn(&PodRef) -> bool,
) -> Vec<pr::PodResources> {
    let mut by_pod: BTreeMap<(String, String), BTreeMap<String, Vec<pr::ContainerDevices>>> =
        BTreeMap::new();
    for p in pods.iter().filter(|p| filter(&p.pod)) {
        let nodes: Vec<pr::NumaNode> = p
            .numa
            .keys()
            .filter(|n| **n >= 0)
            .map(|&id| pr::NumaNode { id })
            .collect();
        by_pod
            .entry((p.pod.namespace.clone(), p.pod.name.clone()))
            .or_default()
            .entry(p.pod.container.clone())
            .or_default()
            .push(pr::ContainerDevices {
                resource_name: p.resource.clone(),
                device_ids: p.ids.clone(),
                topology: (!nodes.is_empty()).then_some(pr::TopologyInfo { nodes }),
            });
    }
    by_pod
        .into_iter()
        .map(|((namespace, name), containers)| pr::PodResources {
            name,
            namespace,
            containers: containers
                .into_iter()
                .map(|(name, devices)| pr::ContainerResources {
                    name,
                    devices,
                    cpu_ids: Vec::new(),
                })
                .collect(),
        })
        .collect()
}

#[tonic::async_trait]
impl pr::pod_resources_lister_server::PodResourcesLister for PodResourcesService {
    async fn list(
        &self,
        _r: Request<pr::ListPodResourcesRequest>,
    ) -> Result<Response<pr::ListPodResourcesResponse>, Status> {
        let shared = self
            .shared
            .upgrade()
            .ok_or_else(|| Status::unavailable("kubelet stopping"))?;
        let pods = lock(&shared.pods);
        Ok(Response::new(pr::ListPodResourcesResponse {
            pod_resources: pod_resources_of(&pods, |_| true),
        }))
    }

    async fn get_allocatable_resources(
        &self,
        _r: Request<pr::AllocatableResourcesRequest>,
    ) -> Result<Response<pr::AllocatableResourcesResponse>, Status> {
        let shared = self
            .shared
            .upgrade()
            .ok_or_else(|| Status::unavailable("kubelet stopping"))?;
        let observed = shared.observed.borrow().clone();
        let devices = observed
            .devices
            .iter()
            .map(|(resource, list)| pr::ContainerDevices {
                resource_name: resource.clone(),
                device_ids: list
                    .iter()
                    .filter(|d| d.health == crate::plugin::Health::Healthy)
                    .map(|d| d.id.clone())
                    .collect(),
                topology: None,
            })
            .collect();
        Ok(Response::new(pr::AllocatableResourcesResponse {
            devices,
            cpu_ids: Vec::new(),
        }))
    }

    async fn get(
        &self,
        r: Request<pr::GetPodResourcesRequest>,
    ) -> Result<Response<pr::GetPodResourcesResponse>, Status> {
        let shared = self
            .shared
            .upgrade()
            .ok_or_else(|| Status::unavailable("kubelet stopping"))?;
        let r = r.into_inner();
        let pods = lock(&shared.pods);
        let found = pod_resources_of(&pods, |p| {
            p.name == r.pod_name && p.namespace == r.pod_namespace
        });
        match found.into_iter().next() {
            Some(pod) => Ok(Response::new(pr::GetPodResourcesResponse {
                pod_resources: Some(pod),
            })),
            None => Err(Status::not_found(format!(
                "pod {}/{} has no resources",
                r.pod_namespace, r.pod_name
            ))),
        }
    }
}

impl KubeletStandIn for KubeletSim {
    fn stack(&self) -> &'static str {
        "tonic"
    }

    fn plugin_dir(&self) -> &Path {
        &self.shared.paths.plugin_dir
    }

    fn observed(&self) -> Observed {
        self.shared.observed.borrow().clone()
    }

    async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Observed) -> bool + Send + Sync,
    ) -> Result<Observed, SimError> {
        wait_until(&self.shared.observed, what, timeout, done).await
    }

    async fn allocate(
        &self,
        resource: &str,
        ids: &[String],
    ) -> Result<pb::ContainerAllocateResponse, SimError> {
        let mut client = self.client(resource)?;
        let request = pb::AllocateRequest {
            container_requests: vec![pb::ContainerAllocateRequest {
                devices_ids: ids.to_vec(),
            }],
        };
        let response = client
            .allocate(request)
            .await
            .map_err(|s| call_error("/v1beta1.DevicePlugin/Allocate", &s))?
            .into_inner();
        response
            .container_responses
            .into_iter()
            .next()
            .ok_or_else(|| {
                SimError::Call(CallError {
                    method: "/v1beta1.DevicePlugin/Allocate",
                    code: tonic::Code::Internal,
                    message: "no container response".into(),
                })
            })
    }

    async fn allocate_many(
        &self,
        resource: &str,
        requests: Vec<Vec<String>>,
    ) -> Result<Vec<Result<pb::ContainerAllocateResponse, CallError>>, SimError> {
        let client = self.client(resource)?;
        let mut tasks = Vec::with_capacity(requests.len());
        for ids in requests {
            let mut client = client.clone();
            tasks.push(tokio::spawn(async move {
                let request = pb::AllocateRequest {
                    container_requests: vec![pb::ContainerAllocateRequest { devices_ids: ids }],
                };
                match client.allocate(request).await {
                    Ok(r) => {
                        r.into_inner()
                            .container_responses
                            .into_iter()
                            .next()
                            .ok_or(CallError {
                                method: "/v1beta1.DevicePlugin/Allocate",
                                code: tonic::Code::Internal,
                                message: "no container response".into(),
                            })
                    }
                    Err(s) => Err(call_error("/v1beta1.DevicePlugin/Allocate", &s)),
                }
            }));
        }
        let mut out = Vec::with_capacity(tasks.len());
        for task in tasks {
            out.push(task.await.map_err(|e| SimError::Task {
                what: "Allocate",
                detail: e.to_string(),
            })?);
        }
        Ok(out)
    }

    async fn preferred(
        &self,
        resource: &str,
        available: &[String],
        must_include: &[String],
        size: i32,
    ) -> Result<Vec<String>, SimError> {
        let mut client = self.client(resource)?;
        let request = pb::PreferredAllocationRequest {
            container_requests: vec![pb::ContainerPreferredAllocationRequest {
                available_device_i_ds: available.to_vec(),
                must_include_device_i_ds: must_include.to_vec(),
                allocation_size: size,
            }],
        };
        let response = client
            .get_preferred_allocation(request)
            .await
            .map_err(|s| call_error("/v1beta1.DevicePlugin/GetPreferredAllocation", &s))?
            .into_inner();
        Ok(response
            .container_responses
            .into_iter()
            .next()
            .map(|c| c.device_i_ds)
            .unwrap_or_default())
    }

    async fn restart(&self) -> Result<Instant, SimError> {
        self.stop_servers().await;
        for (_, e) in std::mem::take(&mut *lock(&self.shared.endpoints)) {
            e.stream.abort();
        }
        let dir = &self.shared.paths.plugin_dir;
        for entry in std::fs::read_dir(dir).map_err(io_err("list", dir))? {
            let entry = entry.map_err(io_err("list", dir))?;
            if entry.file_name() != CHECKPOINT_FILE {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(io_err("remove", &path))?;
            }
        }
        self.start_servers()?;
        let registry = lock(&self.shared.registry).clone();
        if let Some(registry) = registry {
            self.start_registry_watch(&registry)?;
        }
        Ok(Instant::now())
    }
}

impl KubeletSim {
    /// The devices of `resource` as [`Device`]s (a shortcut of [`KubeletStandIn::devices`]).
    pub fn device_list(&self, resource: &str) -> Vec<Device> {
        self.observed()
            .devices
            .get(resource)
            .cloned()
            .unwrap_or_default()
    }
}

impl KubeletSim {
    /// Ends the ListAndWatch stream of `resource` from the kubelet's side, as a kubelet whose
    /// stream failed does (it never retries one). Returns false when there is none.
    pub fn break_stream(&self, resource: &str) -> bool {
        match lock(&self.shared.endpoints).get(resource) {
            Some(e) => {
                e.stream.abort();
                true
            }
            None => false,
        }
    }
}
