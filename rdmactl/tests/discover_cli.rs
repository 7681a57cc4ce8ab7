//! `rdmactl discover` and `rdmactl sim render` as a user runs them: JSON shape, one-line errors
//! naming the path, non-zero exits, never a panic.

mod common;

use std::process::Output;

use common::{rdmactl, render};

fn stderr_line(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(text.trim_end().lines().count(), 1, "one line: {text:?}");
    assert!(
        !text.contains("panicked") && !text.contains("backtrace"),
        "{text}"
    );
    text
}

#[test]
fn rendered_reference_host_reads_back_as_json() {
    let dir = render("reference");
    let out = rdmactl(&["discover", "--root", dir.path().to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pfs = v["pfs"].as_array().unwrap();
    assert_eq!(pfs.len(), 2);
    let pf0 = &pfs[0];
    assert_eq!(pf0["pci"], "0000:3b:00.0");
    assert_eq!(pf0["netdev"], "ens2f0");
    assert_eq!(pf0["vendor"], "0x15b3");
    assert_eq!(pf0["device"], "0x1017");
    assert_eq!(pf0["driver"], "mlx5_core");
    assert_eq!(pf0["numa_node"], 0);
    assert_eq!(
        (pf0["total_vfs"].as_u64(), pf0["num_vfs"].as_u64()),
        (Some(8), Some(8))
    );
    let vfs = pf0["vfs"].as_array().unwrap();
    assert_eq!(vfs.len(), 8);
    assert_eq!(vfs[7]["index"], 7);
    assert_eq!(vfs[7]["pci"], "0000:3b:01.1");
    assert_eq!(vfs[7]["netdev"], "ens2f0v7");
    assert_eq!(vfs[7]["driver"], "mlx5_core");
    assert_eq!(pfs[1]["vfs"].as_array().unwrap().len(), 0);
}

#[test]
fn absent_values_are_null() {
    let dir = render("mixed");
    let out = rdmactl(&["discover", "--root", dir.path().to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pfs = v["pfs"].as_array().unwrap();
    let unbound = pfs.iter().find(|p| p["pci"] == "0000:d8:00.0").unwrap();
    assert!(unbound["driver"].is_null() && unbound["netdev"].is_null());
    let i350 = pfs.iter().find(|p| p["pci"] == "0000:45:00.0").unwrap();
    assert!(i350["numa_node"].is_null());
    let no_probe = pfs.iter().find(|p| p["pci"] == "0000:5e:00.0").unwrap();
    assert!(no_probe["vfs"][0]["driver"].is_null() && no_probe["vfs"][0]["netdev"].is_null());
}

#[test]
fn table_output_and_an_empty_tree() {
    let dir = render("reference");
    let out = rdmactl(&["discover", "--root", dir.path().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("0000:3b:00.0") && text.contains("ens2f0v3") && text.contains("8/8"),
        "{text}"
    );
    let empty = testbed::scratch_dir().unwrap();
    std::fs::create_dir_all(empty.path().join("sys/bus/pci/devices")).unwrap();
    let out = rdmactl(&["discover", "--root", empty.path().to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("no SR-IOV capable PFs"));
}

#[test]
fn errors_are_one_line_naming_the_path() {
    let out = rdmactl(&["discover", "--root", "/no/such/root"]);
    assert!(!out.status.success());
    assert!(stderr_line(&out).contains("/no/such/root"));

    // a tree without sys/ at all
    let bare = testbed::scratch_dir().unwrap();
    let out = rdmactl(&["discover", "--root", bare.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr_line(&out).contains("/sys/bus/pci/devices"));

    // a malformed attribute
    let dir = render("reference");
    let attr = dir
        .path()
        .join("sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.1/sriov_totalvfs");
    std::fs::set_permissions(&attr, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::write(&attr, "eight\n").unwrap();
    let out = rdmactl(&["discover", "--root", dir.path().to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    let line = stderr_line(&out);
    assert!(
        line.contains("0000:3b:00.1/sriov_totalvfs") && line.contains("eight"),
        "{line}"
    );

    // an unreadable attribute (a directory where a file should be)
    std::fs::remove_file(&attr).unwrap();
    std::fs::create_dir(&attr).unwrap();
    let out = rdmactl(&["discover", "--root", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr_line(&out).contains("sriov_totalvfs"));
}

#[test]
fn render_refuses_a_non_empty_directory_and_unknown_presets() {
    let dir = render("reference");
    let out = rdmactl(&[
        "sim",
        "render",
        "--preset",
        "reference",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr_line(&out).contains("not empty"));
    let fresh = testbed::scratch_dir().unwrap();
    let out = rdmactl(&[
        "sim",
        "render",
        "--preset",
        "nope",
        "--out",
        fresh.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr_line(&out).contains("reference"));
}

#[test]
fn simulate_returns_every_vf() {
    let out = rdmactl(&["simulate", "--pods", "3", "--seed", "7"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("all held; every VF back in its host, restored; every lease released"),
        "{text}"
    );
    assert_eq!(text.matches("1/1     Running").count(), 3, "{text}");
}

#[test]
fn simulate_json_and_a_violation_exit() {
    let out = rdmactl(&["simulate", "--json", "--seed", "7", "--faults", "pf-flap"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["seed"], 7);
    assert_eq!(v["pods"].as_array().unwrap().len(), 2);
    assert_eq!(v["faults"][0]["kind"], "pf-flap");
    let bad = rdmactl(&["simulate", "--faults", "no-such-fault"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown fault"));
}

#[test]
fn render_can_write_dev_stubs() {
    let dir = testbed::scratch_dir().unwrap();
    let out = rdmactl(&[
        "sim",
        "render",
        "--preset",
        "reference",
        "--out",
        dir.path().to_str().unwrap(),
        "--dev-stubs",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("dev/infiniband"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // ten mlx5 devices (2 PFs, 8 VFs): uverbs, umad and issm each, plus rdma_cm
    assert_eq!(names.len(), 31, "{names:?}");
    assert!(names.contains(&"uverbs9".to_string()) && names.contains(&"rdma_cm".to_string()));
}
