//! `rdmactl ibdev2netdev`, the `rdma` key of `rdmactl discover --json` and the RDMA part of
//! `rdmactl simulate`, as a user runs them: on rendered simulated hosts and on the real
//! captured InfiniBand tree.

mod common;

use std::process::Output;

use common::{rdmactl, render};

fn stdout_lines(out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn lines_for_a_rendered_reference_host() {
    let dir = render("reference");
    let root = dir.path().to_str().unwrap();
    let lines = stdout_lines(&rdmactl(&["ibdev2netdev", "--root", root]));
    let mut want = vec![
        "mlx5_0 port 1 ==> ens2f0 (Down)".to_string(),
        "mlx5_1 port 1 ==> ens2f1 (Down)".to_string(),
    ];
    want.extend((0..8).map(|i| format!("mlx5_{} port 1 ==> ens2f0v{i} (Down)", i + 2)));
    assert_eq!(lines, want);
    let verbose = stdout_lines(&rdmactl(&["ibdev2netdev", "--root", root, "-v"]));
    assert_eq!(
        verbose[0],
        "0000:3b:00.0 mlx5_0 (MT4119 - MT_0000000008) ConnectX-5 fw 16.35.2000 port 1 (DOWN) ==> ens2f0 (Down)"
    );
    assert_eq!(
        verbose[9],
        "0000:3b:01.1 mlx5_9 (MT4120 - MT_0000000008) ConnectX-5 Virtual Function fw 16.35.2000 port 1 (DOWN) ==> ens2f0v7 (Down)"
    );
}

#[test]
fn lines_for_the_real_infiniband_capture() {
    let dir = testbed::fixtures::materialize("hwloc-2013-mlx4-ib-qdr").unwrap();
    let root = dir.path().to_str().unwrap();
    assert_eq!(
        stdout_lines(&rdmactl(&["ibdev2netdev", "--root", root])),
        ["mlx4_0 port 1 ==> ib0 (Up)"]
    );
    assert_eq!(
        stdout_lines(&rdmactl(&["ibdev2netdev", "--verbose", "--root", root])),
        [
            "0000:82:00.0 mlx4_0 (MT4099 - DEL0A30000019) ConnectX-3 fw 2.11.500 port 1 (ACTIVE) ==> ib0 (Up)"
        ]
    );
}

#[test]
fn errors_and_empty_trees() {
    let out = rdmactl(&["ibdev2netdev", "--root", "/no/such/root"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("/no/such/root") && !err.contains("panicked"),
        "{err}"
    );
    // no RDMA: nothing on stdout, a note on stderr, success
    let empty = testbed::scratch_dir().unwrap();
    let out = rdmactl(&["ibdev2netdev", "--root", empty.path().to_str().unwrap()]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no RDMA devices"));
    // a malformed attribute names its path (the verbose form reads the port state)
    let dir = render("reference");
    let state = dir
        .path()
        .join("sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/infiniband/mlx5_0/ports/1/state");
    std::fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::write(&state, "ACTIVE\n").unwrap();
    let root = dir.path().to_str().unwrap();
    assert!(rdmactl(&["ibdev2netdev", "--root", root]).status.success());
    let out = rdmactl(&["ibdev2netdev", "-v", "--root", root]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("mlx5_0/ports/1/state") && err.contains("ACTIVE"),
        "{err}"
    );
}

#[test]
fn discover_json_has_an_rdma_object_or_null() {
    let dir = render("mixed");
    let out = rdmactl(&["discover", "--root", dir.path().to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pfs = v["pfs"].as_array().unwrap();
    let by_pci = |pci: &str| pfs.iter().find(|p| p["pci"] == pci).unwrap().clone();
    let cx5 = by_pci("0000:3b:00.0");
    let rdma = &cx5["rdma"];
    assert_eq!(rdma["device"], "mlx5_0");
    assert_eq!(rdma["link_layer"], "Ethernet");
    assert_eq!(rdma["port_state"], "DOWN");
    assert_eq!(rdma["node_guid"].as_str().unwrap().len(), 19);
    assert_eq!(
        rdma["char_devices"],
        serde_json::json!([
            "/dev/infiniband/uverbs0",
            "/dev/infiniband/umad0",
            "/dev/infiniband/issm0"
        ])
    );
    let vf0 = &cx5["vfs"][0];
    assert_eq!(vf0["rdma"]["device"], "mlx5_3");
    assert_eq!(vf0["rdma"]["node_guid"], "0000:0000:0000:0000");
    // no RDMA device: null, for PFs (Intel, an unbound ConnectX) and VFs (no driver)
    for pci in ["0000:a2:00.0", "0000:45:00.0", "0000:d8:00.0"] {
        let pf = by_pci(pci);
        assert!(pf["rdma"].is_null(), "{pci}");
        for vf in pf["vfs"].as_array().unwrap() {
            assert!(vf["rdma"].is_null(), "{pci} {vf}");
        }
    }
    let lx = by_pci("0000:5e:00.0");
    assert_eq!(lx["rdma"]["device"], "mlx5_2");
    assert!(
        lx["vfs"][0]["rdma"].is_null(),
        "autoprobe off: no driver, no RDMA"
    );
}

#[test]
fn simulate_moves_each_pods_rdma_device_in_and_back() {
    let out = rdmactl(&["simulate", "--pods", "3", "--seed", "5"]);
    let lines = stdout_lines(&out);
    let text = lines.join("\n");
    // each pod sees exactly its VF's RDMA device, as net1
    let execs = lines
        .iter()
        .filter(|l| l.ends_with("-- ibdev2netdev"))
        .count();
    assert_eq!(execs, 3, "{text}");
    let ib: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("mlx5_") && l.ends_with(" port 1 ==> net1 (Up)"))
        .collect();
    assert_eq!(ib.len(), 3, "{text}");
    // the run ends only when every RDMA device and VF is back in its host
    assert!(
        text.contains("every VF back in its host, restored"),
        "{text}"
    );
}
