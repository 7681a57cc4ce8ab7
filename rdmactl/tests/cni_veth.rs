//! The `sriov` and `rdma` CNI binaries (crate `sriov-cni`) run as a runtime runs them, on the
//! veth-backed reference host (`rdmactl sim start --veth`), as root in real namespaces: ADD
//! moves VF 3 (VLAN 111, a set MAC) into a real pod namespace as `net1` and its RDMA device
//! after it (`ibdev2netdev` in the pod's view shows net1); a second pod asking for the held VF
//! fails cleanly and changes nothing; DEL with an empty CNI_NETNS, DEL twice, and DEL after the
//! pod's namespace was deleted all put the VF back with its name, MAC and PF-side config.
//! The binaries are taken from beside `rdmactl` (`cargo test --workspace` builds them).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sriov_core::host_proxy::ProxyClient;
use sriov_core::node::HostRoot;
use sriov_core::{NetOps, Netns, RdmaNetnsMode, RdmaOps};
use testbed::Need;

fn rdmactl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdmactl"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Cni {
    bins: PathBuf,
    root: PathBuf,
}

impl Cni {
    /// Runs plugin `bin` with `command` for container `cid` in `netns` (empty: none).
    fn call(&self, bin: &str, command: &str, cid: &str, netns: &str, conf: &Value) -> (i32, Value) {
        let mut child = Command::new(self.bins.join(bin))
            .env_clear()
            .env("CNI_COMMAND", command)
            .env("CNI_CONTAINERID", cid)
            .env("CNI_NETNS", netns)
            .env("CNI_IFNAME", "net1")
            .env("CNI_PATH", &self.bins)
            .env("RDMA_SRIOV_HOST_ROOT", &self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(conf.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code().unwrap_or(-1), json)
    }
}

fn sriov_conf() -> Value {
    serde_json::json!({
        "cniVersion": "1.0.0", "name": "sriov-rdma", "type": "sriov",
        "deviceID": "0000:3b:00.5", "vlan": 111, "mac": "02:00:00:00:11:05", "spoofchk": "on"
    })
}

fn rdma_conf(prev: &Value) -> Value {
    serde_json::json!({
        "cniVersion": "1.0.0", "name": "sriov-rdma", "type": "rdma", "prevResult": prev
    })
}

#[test]
fn sriov_and_rdma_binaries_attach_and_restore_on_the_veth_host() {
    if !testbed::require!(Need::Root, Need::Netns, Need::File("/dev/fuse")) {
        return;
    }
    let bins = Path::new(env!("CARGO_BIN_EXE_rdmactl"))
        .parent()
        .unwrap()
        .to_path_buf();
    if !bins.join("sriov").exists() || !bins.join("rdma").exists() {
        assert!(
            !testbed::peers_required(),
            "the sriov and rdma binaries are not beside rdmactl: build sriov-cni"
        );
        eprintln!("skipped: the sriov and rdma binaries are not built (cargo build -p sriov-cni)");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("node");
    std::fs::create_dir(&root).unwrap();
    let root_s = root.to_str().unwrap();
    let pid = common::start_veth_host(&root).pid;
    let result = std::panic::catch_unwind(|| {
        scenario(&Cni {
            bins: bins.clone(),
            root: root.clone(),
        })
    });
    ok(rdmactl(&["sim", "stop", "--root", root_s]));
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "daemon left");
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn scenario(cni: &Cni) {
    let client = ProxyClient::new(HostRoot::new(&cni.root).proxy_socket());
    // RDMA devices can follow their VFs only in exclusive mode, set before any pod exists
    client.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap();
    let original = client.link(&Netns::Host, "ens2f0v3").unwrap();
    let original_vf = client.vfs("ens2f0").unwrap()[3];

    let pod = testbed::Netns::new("pd").unwrap();
    let pod_path = pod.path().to_str().unwrap().to_string();
    let (code, result) = cni.call("sriov", "ADD", "c1", &pod_path, &sriov_conf());
    assert_eq!(code, 0, "{result}");
    let iface = &result["interfaces"][0];
    assert_eq!(iface["name"], "net1");
    assert_eq!(iface["mac"], "02:00:00:00:11:05");
    assert_eq!(iface["pciID"], "0000:3b:00.5");
    assert_eq!(iface["sandbox"], pod_path.as_str());
    let shown = pod.ip(&["link", "show", "net1"]).unwrap();
    assert!(
        shown.contains("02:00:00:00:11:05") && shown.contains("UP"),
        "{shown}"
    );
    assert_eq!(client.vfs("ens2f0").unwrap()[3].state.vlan.id().get(), 111);

    // rdma, chained: finds the VF by the prevResult's MAC among ens2f0's admin MACs
    let (code, out) = cni.call("rdma", "ADD", "c1", &pod_path, &rdma_conf(&result));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        client.devices(&Netns::Path(pod.path())).unwrap(),
        ["mlx5_5"]
    );
    let view = ok(rdmactl(&[
        "ibdev2netdev",
        "--root",
        cni.root.to_str().unwrap(),
        "--netns",
        &pod_path,
    ]));
    assert!(view.contains("mlx5_5 port 1 ==> net1 (Up)"), "{view}");

    // another pod asking for the held VF: refused, nothing changes
    let pod2 = testbed::Netns::new("pd").unwrap();
    let pod2_path = pod2.path().to_str().unwrap().to_string();
    let (code, err) = cni.call("sriov", "ADD", "c2", &pod2_path, &sriov_conf());
    assert_eq!((code, err["code"].as_u64()), (1, Some(100)), "{err}");
    assert!(pod.ip(&["link", "show", "net1"]).unwrap().contains("UP"));

    // DEL with an empty CNI_NETNS (the runtime closed it), twice
    for _ in 0..2 {
        let (code, out) = cni.call("rdma", "DEL", "c1", "", &rdma_conf(&result));
        assert_eq!(code, 0, "{out}");
        let (code, out) = cni.call("sriov", "DEL", "c1", "", &sriov_conf());
        assert_eq!(code, 0, "{out}");
    }
    let back = client.link(&Netns::Host, "ens2f0v3").unwrap();
    assert_eq!((back.mac, back.mtu), (original.mac, original.mtu));
    assert_eq!(client.vfs("ens2f0").unwrap()[3], original_vf);
    assert!(
        client
            .devices(&Netns::Host)
            .unwrap()
            .contains(&"mlx5_5".to_string())
    );

    // the second pod gets it now; then its namespace is deleted before DEL
    let (code, out) = cni.call("sriov", "ADD", "c2", &pod2_path, &sriov_conf());
    assert_eq!(code, 0, "{out}");
    drop(pod2);
    let (code, out) = cni.call("sriov", "DEL", "c2", &pod2_path, &sriov_conf());
    assert_eq!(code, 0, "{out}");
    let back = client.link(&Netns::Host, "ens2f0v3").unwrap();
    assert_eq!((back.mac, back.mtu), (original.mac, original.mtu));
    assert_eq!(client.vfs("ens2f0").unwrap()[3], original_vf);
    // nothing left for reconcile
    let out = ok(rdmactl(&[
        "reconcile",
        "--root",
        cni.root.to_str().unwrap(),
    ]));
    assert!(out.is_empty(), "{out}");
}
