//! deviceIDs from the kubelet stand-in's pod-resources API: preferred over the checkpoint when
//! its socket exists under the host root, asked by pod name and namespace.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Call, Node};
use device_plugin::api::v1beta1 as pb;
use device_plugin::kubelet_sim::{KubeletPaths, KubeletSim, KubeletStandIn, PodRef};
use device_plugin::{Device, DevicePlugin, Health, RegistrationMode, ServeConfig};
use serde_json::json;
use tokio::sync::watch;

const WAIT: Duration = Duration::from_secs(20);

struct Vfs {
    devices: watch::Receiver<Vec<Device>>,
}

impl DevicePlugin for Vfs {
    fn devices(&self) -> watch::Receiver<Vec<Device>> {
        self.devices.clone()
    }

    async fn allocate(
        &self,
        request: pb::AllocateRequest,
    ) -> Result<pb::AllocateResponse, tonic::Status> {
        Ok(pb::AllocateResponse {
            container_responses: request
                .container_requests
                .iter()
                .map(|_| pb::ContainerAllocateResponse::default())
                .collect(),
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pod_resources_answer_wins_over_the_checkpoint() {
    let node = Node::new();
    let paths = KubeletPaths::under(node.root());
    let kubelet = KubeletSim::start(paths.clone()).await.unwrap();
    let devices: Vec<Device> = ["0000:3b:00.2", "0000:3b:00.3", "0000:3b:00.4"]
        .iter()
        .map(|id| Device::new(*id, Health::Healthy, Some(0)))
        .collect();
    let (_tx, rx) = watch::channel(devices);
    let (stop, signal) = device_plugin::stop::channel();
    let task = tokio::spawn(device_plugin::serve(
        Arc::new(Vfs { devices: rx }),
        ServeConfig::new("rdma/vhca", "rdma-vhca.sock")
            .plugin_dir(&paths.plugin_dir)
            .registration(RegistrationMode::Kubelet),
        signal,
    ));
    kubelet
        .wait_until("devices", WAIT, |o| o.healthy("rdma/vhca") == 3)
        .await
        .unwrap();
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let pod = |name: &str| PodRef {
        uid: "6b0f3c2e-9d41-4c3a-8e55-2f1a7c0d9e11".into(),
        namespace: "default".into(),
        name: name.into(),
        container: "mofed-test-ctr".into(),
    };
    // another pod first, then ours with two devices in reverse order
    kubelet
        .allocate_for_pod(&pod("other"), "rdma/vhca", &ids(&["0000:3b:00.2"]))
        .await
        .unwrap();
    kubelet
        .allocate_for_pod(
            &pod("mofed-test-pod"),
            "rdma/vhca",
            &ids(&["0000:3b:00.4", "0000:3b:00.3"]),
        )
        .await
        .unwrap();
    // a checkpoint that says otherwise for this UID: the socket must be the one asked
    common::install_checkpoint(node.root(), "checkpoint-v1.json");

    let mut first = node.noop(json!({"tag": "sriov"}));
    first["capabilities"] = json!({"deviceID": true});
    node.nad_yaml(
        "default",
        "rdma-net",
        Some("rdma/vhca"),
        &node.list("rdma-net", vec![first]),
    );
    let conf = node.thin(
        node.list("cbr0", vec![node.noop(json!({}))]),
        json!({"runtimeConfig": {"io.kubernetes.cri.pod-annotations":
            {"k8s.v1.cni.cncf.io/networks": "rdma-net@net1,rdma-net@net2"}}}),
    );
    let out = tokio::task::spawn_blocking({
        let conf = conf.clone();
        move || Call::new("ADD").run(&conf)
    })
    .await
    .unwrap();
    assert!(out.succeeded(), "{}", out.stdout_text());
    for (ifname, id) in [("net1", "0000:3b:00.3"), ("net2", "0000:3b:00.4")] {
        let stdin = node.stdin_of("ADD", "rdma-net", &format!("{ifname}-sriov"));
        assert_eq!(stdin["deviceID"], id, "{ifname}");
        assert_eq!(stdin["runtimeConfig"]["deviceID"], id, "{ifname}");
    }

    // a pod the kubelet does not know: an error naming the resource, nothing attached
    node.clear_calls();
    let out = tokio::task::spawn_blocking(move || {
        Call::new("ADD")
            .args("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=nobody;K8S_POD_UID=u9")
            .run(&conf)
    })
    .await
    .unwrap();
    let err = out.error().unwrap();
    assert_eq!(err.code.code(), 11, "{err}");
    assert!(
        err.msg.contains("rdma/vhca") && err.msg.contains("pod-resources"),
        "{err}"
    );
    assert!(node.calls().is_empty());
    stop.stop();
    task.await.unwrap().unwrap();
}
