//! The framework with a toy plugin against the Rust kubelet stand-in, in one process:
//! registration fields, ListAndWatch updates, request checks, re-registration after kubelet
//! restarts and after a broken stream, refusal, plugin-watcher mode, stop removing the socket.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use device_plugin::api::v1beta1 as pb;
use device_plugin::kubelet_sim::{KubeletPaths, KubeletSim, KubeletStandIn, Observed, SimError};
use device_plugin::{
    Device, DevicePlugin, Health, PluginOptions, PreferredAllocation, PreferredRequest,
    RegistrationMode, ServeConfig,
};
use tokio::sync::watch;
use tonic::Status;

/// Generous bound so a test ends if something never happens (not a timing assertion).
const WAIT: Duration = Duration::from_secs(20);
const RESOURCE: &str = "example.com/toy";

struct Toy {
    devices: watch::Receiver<Vec<Device>>,
}

impl DevicePlugin for Toy {
    fn devices(&self) -> watch::Receiver<Vec<Device>> {
        self.devices.clone()
    }

    fn options(&self) -> PluginOptions {
        PluginOptions {
            preferred_allocation: PreferredAllocation::Available,
            ..PluginOptions::default()
        }
    }

    async fn allocate(&self, request: pb::AllocateRequest) -> Result<pb::AllocateResponse, Status> {
        Ok(pb::AllocateResponse {
            container_responses: request
                .container_requests
                .iter()
                .map(|c| pb::ContainerAllocateResponse {
                    envs: [("TOY".to_string(), c.devices_ids.join(","))].into(),
                    ..Default::default()
                })
                .collect(),
        })
    }

    async fn preferred_allocation(&self, request: PreferredRequest) -> Result<Vec<String>, Status> {
        let mut ids = request.must_include.clone();
        ids.extend(
            request
                .available
                .iter()
                .rev()
                .filter(|id| !request.must_include.contains(id))
                .cloned(),
        );
        ids.truncate(request.size);
        Ok(ids)
    }
}

fn toy_devices() -> Vec<Device> {
    (0..3)
        .map(|i| Device::new(format!("toy{i}"), Health::Healthy, Some(i)))
        .collect()
}

struct Bed {
    _dir: tempfile::TempDir,
    sim: KubeletSim,
    devices: watch::Sender<Vec<Device>>,
    stop: device_plugin::stop::StopTrigger,
    task: tokio::task::JoinHandle<device_plugin::Result<()>>,
    socket: std::path::PathBuf,
}

async fn bed(resource: &str, mode: impl FnOnce(&Path) -> RegistrationMode) -> Bed {
    let dir = testbed::scratch_dir().unwrap();
    let sim = KubeletSim::start(KubeletPaths::under(dir.path()))
        .await
        .unwrap();
    let mode = mode(dir.path());
    if let RegistrationMode::PluginWatcher { registry_dir } = &mode {
        sim.watch_plugins_registry(registry_dir).unwrap();
    }
    let (tx, rx) = watch::channel(toy_devices());
    let config = ServeConfig::new(resource, "toy.sock")
        .plugin_dir(&sim.paths().plugin_dir)
        .registration(mode.clone());
    let socket = match &mode {
        RegistrationMode::PluginWatcher { registry_dir } => registry_dir.join("toy.sock"),
        _ => config.socket_path(),
    };
    let (stop, signal) = device_plugin::stop::channel();
    let task = tokio::spawn(device_plugin::serve(
        Arc::new(Toy { devices: rx }),
        config,
        signal,
    ));
    Bed {
        _dir: dir,
        sim,
        devices: tx,
        stop,
        task,
        socket,
    }
}

async fn registrations(sim: &KubeletSim, n: usize) -> Observed {
    sim.wait_until(&format!("{n} registrations"), WAIT, move |o| {
        o.registrations.len() >= n
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn registers_streams_checks_and_stops() {
    let b = bed(RESOURCE, |_| RegistrationMode::Kubelet).await;
    let o = registrations(&b.sim, 1).await;
    let r = &o.registrations[0];
    assert_eq!(
        (r.resource.as_str(), r.endpoint.as_str(), r.version.as_str()),
        (RESOURCE, "toy.sock", "v1beta1")
    );
    assert!(r.options.get_preferred_allocation_available && !r.options.pre_start_required);
    let o = b
        .sim
        .wait_until("3 devices", WAIT, |o| o.healthy(RESOURCE) == 3)
        .await
        .unwrap();
    assert_eq!(o.devices[RESOURCE], toy_devices());

    // a change reaches the stream
    b.devices.send_modify(|d| d[1].health = Health::Unhealthy);
    b.sim
        .wait_until("toy1 unhealthy", WAIT, |o| o.healthy(RESOURCE) == 2)
        .await
        .unwrap();

    // the framework's checks: unknown, repeated, unhealthy
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for (bad, says) in [
        (ids(&["nope"]), "unknown device \"nope\""),
        (ids(&["toy0", "toy0"]), "requested twice"),
        (ids(&["toy1"]), "unhealthy"),
    ] {
        match b.sim.allocate(RESOURCE, &bad).await {
            Err(SimError::Call(e)) => {
                assert_eq!(e.code, tonic::Code::InvalidArgument);
                assert!(e.message.contains(says), "{}", e.message);
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    let ok = b
        .sim
        .allocate(RESOURCE, &ids(&["toy0", "toy2"]))
        .await
        .unwrap();
    assert_eq!(ok.envs["TOY"], "toy0,toy2");
    let all = ids(&["toy0", "toy1", "toy2"]);
    assert_eq!(
        b.sim
            .preferred(RESOURCE, &all, &ids(&["toy0"]), 2)
            .await
            .unwrap(),
        ["toy0", "toy2"]
    );
    match b.sim.preferred(RESOURCE, &all, &ids(&["toy9"]), 1).await {
        Err(SimError::Call(e)) => assert_eq!(e.code, tonic::Code::InvalidArgument),
        other => panic!("must-include outside available: {other:?}"),
    }

    assert!(b.socket.exists());
    b.stop.stop();
    b.task.await.unwrap().unwrap();
    assert!(!b.socket.exists(), "the socket is removed on stop");
}

#[tokio::test]
async fn re_registers_after_each_kubelet_restart() {
    let b = bed(RESOURCE, |_| RegistrationMode::Kubelet).await;
    registrations(&b.sim, 1).await;
    for n in 2..=6 {
        let restarted = b.sim.restart().await.unwrap();
        let o = registrations(&b.sim, n).await;
        assert!(o.registrations[n - 1].at >= restarted);
        b.sim
            .wait_until("devices again", WAIT, |o| o.healthy(RESOURCE) == 3)
            .await
            .unwrap();
    }
    // exactly one registration per restart: no duplicate from the broken streams
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(b.sim.observed().registrations.len(), 6);
    assert!(b.socket.exists());
}

#[tokio::test]
async fn re_registers_when_the_stream_breaks() {
    let b = bed(RESOURCE, |_| RegistrationMode::Kubelet).await;
    registrations(&b.sim, 1).await;
    b.sim
        .wait_until("stream", WAIT, |o| o.updates.contains_key(RESOURCE))
        .await
        .unwrap();
    assert!(b.sim.break_stream(RESOURCE));
    registrations(&b.sim, 2).await;
    // the new registration's stream delivers the list again, and stays open
    b.sim
        .wait_until("a list on the new stream", WAIT, |o| {
            o.updates[RESOURCE] >= 2
        })
        .await
        .unwrap();
    assert!(b.sim.stream_alive(RESOURCE));
}

#[tokio::test]
async fn a_refused_registration_is_not_retried_until_the_kubelet_restarts() {
    let b = bed("kubernetes.io/toy", |_| RegistrationMode::Kubelet).await;
    let o = b
        .sim
        .wait_until("a refusal", WAIT, |o| !o.refused.is_empty())
        .await
        .unwrap();
    assert!(
        o.refused[0].contains("extended resource name"),
        "{:?}",
        o.refused
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(b.sim.observed().refused.len(), 1, "no retry storm");
    assert!(b.sim.observed().registrations.is_empty());
    b.sim.restart().await.unwrap();
    b.sim
        .wait_until("a second refusal", WAIT, |o| o.refused.len() == 2)
        .await
        .unwrap();
}

#[tokio::test]
async fn plugin_watcher_mode() {
    let b = bed(RESOURCE, |root| RegistrationMode::PluginWatcher {
        registry_dir: root.join("var/lib/kubelet/plugins_registry"),
    })
    .await;
    let o = registrations(&b.sim, 1).await;
    assert_eq!(o.registrations[0].endpoint, b.socket.display().to_string());
    b.sim
        .wait_until("3 devices", WAIT, |o| o.healthy(RESOURCE) == 3)
        .await
        .unwrap();
    // the kubelet's restart does not touch plugins_registry; its watcher finds the socket again
    b.sim.restart().await.unwrap();
    registrations(&b.sim, 2).await;
    b.stop.stop();
    b.task.await.unwrap().unwrap();
    assert!(!b.socket.exists());
}

#[tokio::test]
async fn a_plugin_started_before_the_kubelet_registers_once_it_appears() {
    let dir = testbed::scratch_dir().unwrap();
    let paths = KubeletPaths::under(dir.path());
    std::fs::create_dir_all(&paths.plugin_dir).unwrap();
    let (_tx, rx) = watch::channel(toy_devices());
    let config = ServeConfig::new(RESOURCE, "toy.sock")
        .plugin_dir(&paths.plugin_dir)
        .registration(RegistrationMode::Kubelet);
    let (stop, signal) = device_plugin::stop::channel();
    let task = tokio::spawn(device_plugin::serve(
        Arc::new(Toy { devices: rx }),
        config,
        signal,
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sim = KubeletSim::start(paths).await.unwrap();
    registrations(&sim, 1).await;
    stop.stop();
    task.await.unwrap().unwrap();
}
