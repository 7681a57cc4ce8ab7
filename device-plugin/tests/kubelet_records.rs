//! What the Rust kubelet stand-in records: the checkpoint file in the kubelet's layout (read
//! back with the fixtures' reader) and the pod-resources API, read with this crate's client.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use device_plugin::api::v1beta1 as pb;
use device_plugin::checkpoint::Checkpoint;
use device_plugin::kubelet_sim::{KubeletPaths, KubeletSim, KubeletStandIn, PodRef};
use device_plugin::pod_resources::{PodResourcesClient, device_ids};
use device_plugin::{Device, DevicePlugin, Health, RegistrationMode, ServeConfig};
use prost::Message;
use tokio::sync::watch;
use tonic::Status;

const WAIT: Duration = Duration::from_secs(20);

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kubelet")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn reads_both_checkpoint_layouts_of_the_fixtures() {
    let v1 = Checkpoint::parse(&fixture("checkpoint-v1.json")).unwrap();
    assert_eq!(
        v1.pod_device_ids("6b0f3c2e-9d41-4c3a-8e55-2f1a7c0d9e11", "rdma/vhca"),
        ["0000:3b:00.5"]
    );
    assert_eq!(v1.entries[0].device_ids.keys().collect::<Vec<_>>(), [&-1]);
    let v2 = Checkpoint::parse(&fixture("checkpoint-v2.json")).unwrap();
    // listed out of order, read sorted
    assert_eq!(
        v2.pod_device_ids("0c5d8a77-1e2b-4f60-9a3c-5b7e2d4f6a80", "rdma/vhca"),
        ["0000:3b:00.2", "0000:3b:00.3"]
    );
    assert_eq!(v2.registered_devices["rdma/vhca"].len(), 8);
    assert!(v2.entries.iter().all(|e| e.alloc_resp.is_empty()));
    assert!(Checkpoint::parse("{\"Data\":{\"PodDeviceEntries\":[{\"PodUID\":\"u\",\"ContainerName\":\"c\",\"ResourceName\":\"r\",\"DeviceIDs\":[],\"AllocResp\":\"!!\"}]}}").is_err());
    assert!(Checkpoint::parse("[]").is_err());
}

struct Vfs {
    devices: watch::Receiver<Vec<Device>>,
}

impl DevicePlugin for Vfs {
    fn devices(&self) -> watch::Receiver<Vec<Device>> {
        self.devices.clone()
    }

    async fn allocate(&self, request: pb::AllocateRequest) -> Result<pb::AllocateResponse, Status> {
        Ok(pb::AllocateResponse {
            container_responses: request
                .container_requests
                .iter()
                .map(|c| pb::ContainerAllocateResponse {
                    envs: [("PCIDEVICE_RDMA_VHCA".to_string(), c.devices_ids.join(","))].into(),
                    ..Default::default()
                })
                .collect(),
        })
    }
}

#[tokio::test]
async fn allocations_reach_the_checkpoint_and_pod_resources() {
    let dir = testbed::scratch_dir().unwrap();
    let paths = KubeletPaths::under(dir.path());
    let sim = KubeletSim::start(paths.clone()).await.unwrap();
    let devices: Vec<Device> = ["0000:3b:00.2", "0000:3b:00.3", "0000:3b:00.5"]
        .iter()
        .map(|id| Device::new(*id, Health::Healthy, Some(0)))
        .collect();
    let (_tx, rx) = watch::channel(devices);
    let config = ServeConfig::new("rdma/vhca", "rdma-sriov-dp.sock")
        .plugin_dir(&paths.plugin_dir)
        .registration(RegistrationMode::Kubelet);
    let (stop, signal) = device_plugin::stop::channel();
    let task = tokio::spawn(device_plugin::serve(
        Arc::new(Vfs { devices: rx }),
        config,
        signal,
    ));
    sim.wait_until("devices", WAIT, |o| o.healthy("rdma/vhca") == 3)
        .await
        .unwrap();

    let pod = |uid: &str, name: &str| PodRef {
        uid: uid.into(),
        namespace: "default".into(),
        name: name.into(),
        container: "mofed-test-ctr".into(),
    };
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    sim.allocate_for_pod(
        &pod("uid-a", "mofed-test-pod"),
        "rdma/vhca",
        &ids(&["0000:3b:00.5"]),
    )
    .await
    .unwrap();
    sim.allocate_for_pod(
        &pod("uid-b", "mofed-test-pod-2"),
        "rdma/vhca",
        &ids(&["0000:3b:00.3", "0000:3b:00.2"]),
    )
    .await
    .unwrap();

    // the checkpoint, as a kubelet >= 1.20 writes it
    let text =
        std::fs::read_to_string(paths.plugin_dir.join("kubelet_internal_checkpoint")).unwrap();
    let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        raw["Data"]["PodDeviceEntries"][1]["DeviceIDs"],
        serde_json::json!({"0": ["0000:3b:00.3", "0000:3b:00.2"]})
    );
    assert!(raw["Checksum"].is_u64());
    let c = Checkpoint::parse(&text).unwrap();
    assert_eq!(
        c.pod_device_ids("uid-b", "rdma/vhca"),
        ["0000:3b:00.2", "0000:3b:00.3"]
    );
    let resp = pb::ContainerAllocateResponse::decode(c.entries[0].alloc_resp.as_slice()).unwrap();
    assert_eq!(resp.envs["PCIDEVICE_RDMA_VHCA"], "0000:3b:00.5");
    assert_eq!(c.registered_devices["rdma/vhca"].len(), 3);

    // the pod-resources API
    let mut client = PodResourcesClient::connect(&paths.pod_resources_socket)
        .await
        .unwrap();
    let pods = client.list().await.unwrap();
    assert_eq!(pods.len(), 2);
    let b = client.get("default", "mofed-test-pod-2").await.unwrap();
    assert_eq!(
        device_ids(&b, "rdma/vhca"),
        ["0000:3b:00.2", "0000:3b:00.3"]
    );
    assert_eq!(
        b.containers[0].devices[0].topology.as_ref().unwrap().nodes[0].id,
        0
    );
    assert!(client.get("default", "nope").await.is_err());
    let allocatable = client.allocatable().await.unwrap();
    assert_eq!(allocatable.devices[0].device_ids.len(), 3);

    // a restart keeps the checkpoint and wipes the sockets
    sim.restart().await.unwrap();
    assert!(
        paths
            .plugin_dir
            .join("kubelet_internal_checkpoint")
            .exists()
    );
    sim.wait_until("re-registered", WAIT, |o| o.registrations.len() == 2)
        .await
        .unwrap();
    stop.stop();
    task.await.unwrap().unwrap();
}
