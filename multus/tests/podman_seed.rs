//! The seed's shape through a real libcni runtime: podman 4.3 (CNI backend, Go libcni) runs a
//! container on one network whose only plugin is `multus`; multus gives it `eth0` from the
//! reference `bridge` and `net1` from the attachment of a NetworkAttachmentDefinition with
//! `resourceName: rdma/vhca`, whose deviceID comes from the kubelet stand-in's pod-resources
//! answer; `net1`'s lease comes from ISC dhcpd through the reference `dhcp` IPAM; removing the
//! container gives the host its netdev back.
//!
//! Until the `sriov` and `rdma` plugins land, net1's list is [`net1_conflist`]: the reference
//! `host-device` moving a veth this test creates (its peer is dhcpd's `sw0` in a leaf
//! namespace), then the no-op delegate recording the configuration it was given, which is where
//! the deviceID is asserted. host-device reads `pciBusID` (multus writes it with `deviceID`):
//! it checks the device's driver in `/sys/bus/pci/devices/<id>/driver` (DPDK mode) before it
//! takes `device`, so the stand-in's device IDs are PCI addresses of this machine with a kernel
//! driver. Nothing is done to those devices.
//!
//! Run as root with podman, runc, busybox, ISC dhcpd and containernetworking-plugins.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use device_plugin::api::v1beta1 as pb;
use device_plugin::kubelet_sim::{KubeletPaths, KubeletSim, KubeletStandIn, PodRef};
use device_plugin::{Device, DevicePlugin, Health, RegistrationMode, ServeConfig};
use serde_json::{Value, json};
use testbed::Need;
use testbed::dhcp::LeafPod;
use tokio::sync::watch;

const WAIT: Duration = Duration::from_secs(30);
const RESOURCE: &str = "rdma/vhca";
const POD_UID: &str = "6b0f3c2e-9d41-4c3a-8e55-2f1a7c0d9e11";

/// The attachment's network configuration list (the NetworkAttachmentDefinition's
/// `spec.config`). The one place to change when the `sriov` and `rdma` plugins land:
///
/// ```text
/// {"cniVersion":"1.0.0","name":"rdma-net","plugins":[
///   {"type":"sriov","vlan":111,"ipam":{"type":"dhcp","daemonSocketPath":<dhcp_socket>}},
///   {"type":"rdma"},
///   <the recorder, unchanged>]}
/// ```
///
/// (`host_netdev` then goes: the VF comes from the deviceID.)
fn net1_conflist(host_netdev: &str, dhcp_socket: &Path, record_dir: &Path) -> Value {
    json!({"cniVersion": "1.0.0", "name": "rdma-net", "plugins": [
        {"type": "host-device", "device": host_netdev,
         "ipam": {"type": "dhcp", "daemonSocketPath": dhcp_socket}},
        {"type": "multus-noop-delegate", "noop": {"recordDir": record_dir, "tag": "recorder"}},
    ]})
}

/// PCI addresses of this machine with a kernel driver that is not a userspace one (what
/// host-device accepts as `pciBusID` without entering DPDK mode), sorted.
fn pci_devices_with_kernel_driver() -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/sys/bus/pci/devices") else {
        return out;
    };
    for e in entries.flatten() {
        let Ok(driver) = std::fs::read_link(e.path().join("driver")) else {
            continue;
        };
        let name = driver.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !["vfio-pci", "uio_pci_generic", "igb_uio"].contains(&name) {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

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

/// podman with this bed's containers.conf and storage.
struct Podman {
    work: PathBuf,
}

impl Podman {
    /// The bed of `shared/peers/podman-cni.sh init`: a busybox root filesystem and a
    /// containers.conf selecting the CNI backend with `net.d` and `plugin_dirs`.
    fn init(work: &Path, plugin_dirs: &[&Path]) -> Podman {
        let rootfs = work.join("rootfs");
        for d in ["bin", "proc", "sys", "dev", "etc", "tmp"] {
            std::fs::create_dir_all(rootfs.join(d)).unwrap();
        }
        std::fs::create_dir_all(work.join("net.d")).unwrap();
        let busybox = testbed::find_program("busybox").unwrap();
        std::fs::copy(busybox, rootfs.join("bin/busybox")).unwrap();
        for c in ["sh", "ip", "cat", "ls", "sleep"] {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(c)).unwrap();
        }
        let dirs: Vec<String> = plugin_dirs
            .iter()
            .map(|d| format!("{:?}", d.display().to_string()))
            .collect();
        std::fs::write(
            work.join("containers.conf"),
            format!(
                "[network]\nnetwork_backend = \"cni\"\nnetwork_config_dir = {:?}\ncni_plugin_dirs = [{}]\n\n[containers]\ndefault_ulimits = []\n",
                work.join("net.d").display().to_string(),
                dirs.join(", ")
            ),
        )
        .unwrap();
        Podman {
            work: work.to_path_buf(),
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", self.work.join("containers.conf"))
            .arg("--root")
            .arg(self.work.join("storage"))
            .arg("--runroot")
            .arg(self.work.join("run"))
            .args([
                "--storage-driver",
                "vfs",
                "--cgroup-manager",
                "cgroupfs",
                "--runtime",
                "runc",
            ]);
        c
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command()
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.command().args(["rm", "-af"]).output();
    }
}

/// A link of the host namespace this test made, deleted with the guard.
struct HostLink(String);

impl Drop for HostLink {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.0]).output();
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout {}\nstderr {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn host_has_link(name: &str) -> bool {
    Command::new("ip")
        .args(["link", "show", "dev", name])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn podman_runs_the_seed_shape_through_multus() {
    if !testbed::require!(
        Need::Root,
        Need::Netns,
        Need::Program("podman"),
        Need::Program("runc"),
        Need::Program("busybox"),
        Need::Program("dhcpd"),
        Need::File("/usr/lib/cni/bridge"),
        Need::File("/usr/lib/cni/host-device"),
        Need::File("/usr/lib/cni/dhcp"),
    ) {
        return;
    }
    let ids = pci_devices_with_kernel_driver();
    assert!(
        ids.len() >= 2,
        "need two PCI devices with a kernel driver: {ids:?}"
    );
    let root_dir = tempfile::tempdir().unwrap();
    let root = root_dir.path();

    // The kubelet stand-in: a device plugin of rdma/vhca registers, the pod is allocated the
    // second device; multus finds the pod-resources socket under the host root.
    let paths = KubeletPaths::under(root);
    let kubelet = KubeletSim::start(paths.clone()).await.unwrap();
    let devices: Vec<Device> = ids[..2]
        .iter()
        .map(|id| Device::new(id.clone(), Health::Healthy, None))
        .collect();
    let (_devices_tx, devices_rx) = watch::channel(devices);
    let (stop, signal) = device_plugin::stop::channel();
    let plugin_task = tokio::spawn(device_plugin::serve(
        Arc::new(Vfs {
            devices: devices_rx,
        }),
        ServeConfig::new(RESOURCE, "rdma-vhca.sock")
            .plugin_dir(&paths.plugin_dir)
            .registration(RegistrationMode::Kubelet),
        signal,
    ));
    kubelet
        .wait_until("devices", WAIT, |o| o.healthy(RESOURCE) == 2)
        .await
        .unwrap();
    let pod_name = testbed::unique_name("mofed");
    let allocated = ids[1].clone();
    kubelet
        .allocate_for_pod(
            &PodRef {
                uid: POD_UID.into(),
                namespace: "default".into(),
                name: pod_name.clone(),
                container: "mofed-test-ctr".into(),
            },
            RESOURCE,
            std::slice::from_ref(&allocated),
        )
        .await
        .unwrap();

    // The leaf: ISC dhcpd on sw0; the other end of its veth is the host netdev net1 takes.
    let leaf = LeafPod::new();
    let host_netdev = testbed::unique_name("mvf");
    let ok = leaf
        .pod
        .ip(&["link", "set", testbed::dhcp::POD_IF, "netns", "1"])
        .is_ok()
        && Command::new("ip")
            .args(["link", "set", testbed::dhcp::POD_IF, "name", &host_netdev])
            .status()
            .is_ok_and(|s| s.success());
    let _host_link = HostLink(host_netdev.clone());
    assert!(ok, "veth end into the host as {host_netdev}");
    let _dhcpd = leaf.dhcpd(600, "");

    // The reference dhcp IPAM's daemon, in the host namespace.
    let dhcp_socket = root.join("run/cni/dhcp.sock");
    std::fs::create_dir_all(dhcp_socket.parent().unwrap()).unwrap();
    let dhcp_daemon = testbed::ChildGuard::new(
        Command::new("/usr/lib/cni/dhcp")
            .args(["daemon", "-socketpath"])
            .arg(&dhcp_socket)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(root.join("dhcp-daemon.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    for _ in 0..100 {
        if dhcp_socket.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The NetworkAttachmentDefinition and multus's network.
    let record = root.join("record");
    let nad_dir = root.join("etc/cni/multus/nad");
    std::fs::create_dir_all(nad_dir.join("default")).unwrap();
    let nad = json!({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": "rdma-net", "annotations": {"k8s.v1.cni.cncf.io/resourceName": RESOURCE}},
        "spec": {"config": net1_conflist(&host_netdev, &dhcp_socket, &record).to_string()}});
    std::fs::write(nad_dir.join("default/rdma-net.json"), nad.to_string()).unwrap();
    let bridge = testbed::unique_name("mcbr");
    let _bridge_link = HostLink(bridge.clone());
    let cluster = json!({"cniVersion": "1.0.0", "name": "cbr0", "plugins": [
        {"type": "bridge", "bridge": bridge, "isGateway": true,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.233.9.0/24"}]],
                  "dataDir": root.join("host-local")}}]});
    let work = root.join("podman");
    let bin_dir = Path::new(common::MULTUS).parent().unwrap();
    let podman = Podman::init(&work, &[bin_dir, Path::new("/usr/lib/cni")]);
    let network = json!({"cniVersion": "1.0.0", "name": "multus-net", "plugins": [
        {"type": "multus", "hostRoot": root, "nadDir": nad_dir,
         "delegates": [cluster], "defaultNetworks": ["default/rdma-net"]}]});
    std::fs::write(work.join("net.d/multus-net.conflist"), network.to_string()).unwrap();
    let ls = podman.run(&["network", "ls", "--format", "{{.Name}}"], &[]);
    assert!(
        String::from_utf8_lossy(&ls.stdout).contains("multus-net"),
        "podman skipped the network (a plugin failed VERSION?): {}",
        text(&ls)
    );

    // The pod: podman sends K8S_POD_NAME=<container name>; namespace and UID come through its
    // CNI_ARGS environment variable.
    let cni_args = format!("K8S_POD_NAMESPACE=default;K8S_POD_UID={POD_UID}");
    let rootfs = work.join("rootfs");
    let run = podman.run(
        &[
            "run",
            "-d",
            "--name",
            &pod_name,
            "--ulimit",
            "host",
            "--network",
            "multus-net",
            "--rootfs",
            rootfs.to_str().unwrap(),
            "/bin/sleep",
            "300",
        ],
        &[("CNI_ARGS", &cni_args)],
    );
    assert!(run.status.success(), "{}", text(&run));
    let exec = podman.run(
        &[
            "exec",
            &pod_name,
            "/bin/sh",
            "-c",
            "ip -4 -o addr show dev eth0; ip -4 -o addr show dev net1",
        ],
        &[],
    );
    let out = String::from_utf8_lossy(&exec.stdout).into_owned();
    assert!(exec.status.success(), "{}", text(&exec));
    assert!(
        out.contains("eth0") && out.contains("inet 10.233.9."),
        "{out}"
    );
    assert!(
        out.contains("net1") && out.contains("inet 192.168.111."),
        "{out}"
    );
    assert!(
        !host_has_link(&host_netdev),
        "{host_netdev} is the pod's net1 now"
    );

    // The deviceID reached every plugin of the attachment, from the pod-resources answer.
    let recorded: Value = serde_json::from_slice(
        &std::fs::read(record.join("ADD-rdma-net-net1-recorder.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(recorded["deviceID"], allocated.as_str());
    assert_eq!(recorded["pciBusID"], allocated.as_str());
    assert!(
        recorded["prevResult"]["ips"][0]["address"]
            .as_str()
            .is_some_and(|a| a.starts_with("192.168.111.")),
        "{recorded}"
    );
    // the network status beside the cache
    let status_files: Vec<PathBuf> = std::fs::read_dir(root.join("var/lib/cni/multus"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".network-status.json"))
        .collect();
    assert_eq!(status_files.len(), 1);
    let status: Value = serde_json::from_slice(&std::fs::read(&status_files[0]).unwrap()).unwrap();
    assert_eq!(status[0]["interface"], "eth0");
    assert_eq!(status[1]["name"], "default/rdma-net");
    assert!(
        status[1]["ips"][0]
            .as_str()
            .is_some_and(|a| a.starts_with("192.168.111."))
    );

    // podman rm: the netdev is back in the host, multus's state is gone.
    let rm = podman.run(&["rm", "-f", &pod_name], &[]);
    assert!(rm.status.success(), "{}", text(&rm));
    assert!(
        host_has_link(&host_netdev),
        "{host_netdev} back in the host"
    );
    assert!(
        std::fs::read_dir(root.join("var/lib/cni/multus"))
            .unwrap()
            .next()
            .is_none(),
        "cache and network status removed"
    );
    drop(dhcp_daemon);
    stop.stop();
    let _ = plugin_task.await;
}
