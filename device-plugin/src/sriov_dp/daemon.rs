//! The `rdma-sriov-dp` daemon: start as the seed's plugin (config, VFs enabled, devices
//! exposed), then serve one device plugin per configured resource, started and stopped as the
//! configuration file changes, until SIGTERM or SIGINT.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sriov_core::{FsSysfs, Sysfs};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::enable::enable_vfs;
use super::error::DpError;
use super::ledger::HeldVfs;
use super::monitor::{self, Monitor, MonitorPaths, NodeSnapshot, load_config};
use super::plugin::ResourcePlugin;
use crate::plugin::Device;
use crate::serve::{RegistrationMode, ServeConfig, serve};
use crate::stop::{self, StopSignal, StopTrigger};

/// Everything the daemon is told on its command line, with paths resolved.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// The host root whose `sys/` is read (`/`, or a rendered simulated host).
    pub root: PathBuf,
    /// The configuration file.
    pub config: PathBuf,
    /// The kubelet's plugin directory.
    pub plugin_dir: PathBuf,
    /// How to register.
    pub registration: RegistrationMode,
    /// The node's VF ledger.
    pub ledger: PathBuf,
    /// Where device-info files go.
    pub devinfo_dir: PathBuf,
    /// `--resource-prefix`.
    pub prefix: Option<String>,
    /// How often the host is looked at.
    pub poll_interval: Duration,
}

impl DaemonOptions {
    /// The defaults under host root `root`: `<root>/var/lib/kubelet/device-plugins`, the
    /// plugin watcher's `<root>/var/lib/kubelet/plugins_registry` when it exists, the ledger
    /// `<root>/var/lib/cni/sriov/vf-ledger.json`, device-info files in
    /// `<root>/var/run/k8s.cni.cncf.io/devinfo/dp`, the seed's config path, a 200 ms poll.
    pub fn under_root(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        DaemonOptions {
            config: PathBuf::from("/k8s-rdma-sriov-dev-plugin/config.json"),
            plugin_dir: root.join("var/lib/kubelet/device-plugins"),
            registration: RegistrationMode::Auto {
                registry_dir: root.join("var/lib/kubelet/plugins_registry"),
            },
            ledger: root.join("var/lib/cni/sriov/vf-ledger.json"),
            devinfo_dir: root.join(super::devinfo::DEVINFO_DIR),
            prefix: None,
            poll_interval: Duration::from_millis(200),
            root,
        }
    }
}

/// Runs the daemon on a runtime of its own (one thread: a device plugin waits, it does not
/// compute) until SIGTERM or SIGINT.
pub fn run(options: DaemonOptions) -> Result<(), DpError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| DpError::Start {
            what: "the async runtime",
            source,
        })?;
    runtime.block_on(async {
        let stop = crate::stop::on_terminate().map_err(|source| DpError::Signals { source })?;
        run_until(options, stop).await
    })
}

/// A running resource: its device list sender and its server task.
struct Running {
    devices: watch::Sender<Vec<Device>>,
    trigger: StopTrigger,
    task: JoinHandle<crate::Result<()>>,
}

fn describe(devices: &[Device]) -> String {
    let items: Vec<String> = devices
        .iter()
        .map(|d| {
            let numa = d
                .numa_nodes
                .first()
                .map_or_else(|| "-".to_string(), i64::to_string);
            format!(
                "&Device{{ID:{},Health:{},NUMA:{numa},}}",
                d.id,
                d.health.as_str()
            )
        })
        .collect();
    format!("[{}]", items.join(" "))
}

/// Runs the daemon until `stop` fires.
pub async fn run_until(options: DaemonOptions, stop: StopSignal) -> Result<(), DpError> {
    tracing::info!(
        "Starting K8s RDMA SRIOV Device Plugin version= {}",
        env!("CARGO_PKG_VERSION")
    );
    tracing::info!("Reading {}", options.config.display());
    let (text, config) = load_config(&options.config, options.prefix.as_deref())?;
    tracing::info!("loaded config: {}", text.trim());
    let fs: Arc<dyn Sysfs> = Arc::new(FsSysfs::new(&options.root));
    let to_enable = config.pfs_to_enable().to_vec();
    if !to_enable.is_empty() {
        tracing::info!("sriov device mode");
        let held = HeldVfs::read(&options.ledger);
        if let Err(e) = enable_vfs(fs.as_ref(), &to_enable, &held) {
            tracing::error!("{e}; serving the VFs that exist");
        }
    }
    let mut monitor = Monitor::new(
        fs,
        MonitorPaths {
            root: options.root.clone(),
            config: options.config.clone(),
            ledger: options.ledger.clone(),
        },
        options.prefix.clone(),
        text,
        config,
    );
    let first = monitor.poll()?;
    let (node_tx, mut node_rx) = watch::channel(Arc::new(first));
    let (monitor_trigger, monitor_stop) = stop::channel();
    let monitor_thread = monitor::spawn(monitor, options.poll_interval, node_tx, monitor_stop)?;

    let mut running: BTreeMap<String, Running> = BTreeMap::new();
    let result = loop {
        let node = node_rx.borrow_and_update().clone();
        reconcile(&options, &node, &node_rx, &mut running).await;
        tokio::select! {
            () = stop.stopped() => break Ok(()),
            changed = node_rx.changed() => {
                if changed.is_err() {
                    break Ok(());
                }
            }
        }
    };
    for (_, r) in std::mem::take(&mut running) {
        stop_resource(r).await;
    }
    monitor_trigger.stop();
    let _ = tokio::task::spawn_blocking(move || monitor_thread.join()).await;
    tracing::info!("stopped");
    result
}

async fn stop_resource(r: Running) {
    r.trigger.stop();
    match r.task.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!("{e}"),
        Err(e) => tracing::error!("a plugin server task failed: {e}"),
    }
}

/// Starts the resources the snapshot has and that are not running, stops those it no longer
/// has, and sends every running one its device list.
async fn reconcile(
    options: &DaemonOptions,
    node: &NodeSnapshot,
    node_rx: &watch::Receiver<Arc<NodeSnapshot>>,
    running: &mut BTreeMap<String, Running>,
) {
    let gone: Vec<String> = running
        .keys()
        .filter(|k| !node.resources.contains_key(*k))
        .cloned()
        .collect();
    for name in gone {
        if let Some(r) = running.remove(&name) {
            tracing::info!("{name} is no longer configured: stopping its plugin");
            stop_resource(r).await;
        }
    }
    for (name, resource) in &node.resources {
        if let Some(r) = running.get(name) {
            if r.task.is_finished() {
                // a server that failed (its socket could not be bound) is started again below
                if let Some(r) = running.remove(name) {
                    stop_resource(r).await;
                }
            } else {
                r.devices.send_if_modified(|current| {
                    if *current == resource.devices {
                        false
                    } else {
                        *current = resource.devices.clone();
                        true
                    }
                });
                continue;
            }
        }
        tracing::info!("exposing devices: {}", describe(&resource.devices));
        let (devices_tx, devices_rx) = watch::channel(resource.devices.clone());
        let plugin = Arc::new(ResourcePlugin::new(
            name,
            devices_rx,
            node_rx.clone(),
            options.devinfo_dir.clone(),
        ));
        let config = ServeConfig::new(name.clone(), resource.served.socket_name.clone())
            .plugin_dir(&options.plugin_dir)
            .registration(options.registration.clone());
        let (trigger, signal) = stop::channel();
        let task = tokio::spawn(serve(plugin, config, signal));
        running.insert(
            name.clone(),
            Running {
                devices: devices_tx,
                trigger,
                task,
            },
        );
    }
}
