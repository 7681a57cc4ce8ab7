//! `rdmactl rdma netns-mode [--root DIR] [shared|exclusive]`: on a simulated host (`rdmactl sim
//! start`, root and FUSE; SKIP otherwise, a failure under `RDMA_SRIOV_REQUIRE_PRIVILEGED=1`) the
//! mode is the simulator's and changes only while no other network namespace exists, the error
//! naming those that do; on `/` it is the kernel's, which here has no RDMA netlink.

mod common;

use std::path::Path;
use std::process::Output;

use common::rdmactl;
use sriov_core::host_proxy::ProxyClient;
use sriov_core::node::HostRoot;
use sriov_core::{NetOps, Netns};
use testbed::Need;

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failure(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A simulated host at a fresh directory, stopped when dropped.
struct Sim {
    dir: tempfile::TempDir,
}

impl Sim {
    fn start() -> Sim {
        let dir = tempfile::Builder::new().prefix("sim-").tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        stdout(&rdmactl(&[
            "sim",
            "start",
            "--preset",
            "reference",
            "--root",
            root,
        ]));
        Sim { dir }
    }

    fn root(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    fn netns_mode(&self, mode: Option<&str>) -> Output {
        let mut args = vec!["rdma", "netns-mode", "--root", self.root()];
        args.extend(mode);
        rdmactl(&args)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = rdmactl(&["sim", "stop", "--root", self.root()]);
    }
}

#[test]
fn a_simulated_host_changes_mode_only_while_no_other_namespace_exists() {
    if !testbed::require!(Need::Root, Need::Netns, Need::File("/dev/fuse")) {
        return;
    }
    let sim = Sim::start();
    assert_eq!(stdout(&sim.netns_mode(None)), "netns shared\n");
    assert_eq!(
        stdout(&sim.netns_mode(Some("exclusive"))),
        "netns exclusive\n"
    );
    assert_eq!(stdout(&sim.netns_mode(None)), "netns exclusive\n");
    // setting the mode it has is no change, allowed at any time
    assert_eq!(
        stdout(&sim.netns_mode(Some("exclusive"))),
        "netns exclusive\n"
    );

    // two pods: namespaces the simulated host learns of as a plugin would name them
    let pods = [
        testbed::Netns::new("rdmamode").unwrap(),
        testbed::Netns::new("rdmamode").unwrap(),
    ];
    let client = ProxyClient::new(HostRoot::new(Path::new(sim.root())).proxy_socket());
    for pod in &pods {
        client.links(&Netns::Path(pod.path())).unwrap();
    }
    let err = failure(&sim.netns_mode(Some("shared")));
    let mut paths: Vec<String> = pods
        .iter()
        .map(|p| p.path().display().to_string())
        .collect();
    paths.sort();
    assert_eq!(
        err.trim_end(),
        format!(
            "rdmactl: set the RDMA netns mode to shared: it can change only while no network \
             namespace other than the initial one exists, and these exist: {}",
            paths.join(", ")
        )
    );
    assert_eq!(stdout(&sim.netns_mode(None)), "netns exclusive\n");

    // the pods go: the mode can change again
    drop(pods);
    assert_eq!(stdout(&sim.netns_mode(Some("shared"))), "netns shared\n");
    assert_eq!(stdout(&sim.netns_mode(None)), "netns shared\n");
}

#[test]
fn the_kernel_without_rdma_netlink_says_so() {
    if Path::new("/sys/module/ib_core").exists() {
        // a kernel with RDMA: reading is harmless, setting would change the machine
        stdout(&rdmactl(&["rdma", "netns-mode"]));
        return;
    }
    let err = failure(&rdmactl(&["rdma", "netns-mode"]));
    assert!(
        err.starts_with(
            "rdmactl: read the RDMA netns mode of the RDMA subsystem: RDMA_NLDEV_CMD_SYS_GET: \
             this kernel has no RDMA netlink"
        ),
        "{err}"
    );
    let err = failure(&rdmactl(&[
        "rdma",
        "netns-mode",
        "--root",
        "/",
        "exclusive",
    ]));
    assert!(
        err.starts_with(
            "rdmactl: set the RDMA netns mode of the RDMA subsystem to exclusive: \
             RDMA_NLDEV_CMD_SYS_SET netns: this kernel has no RDMA netlink"
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_mode_that_is_neither_is_refused_before_anything_is_asked() {
    let out = rdmactl(&["rdma", "netns-mode", "--root", "/", "both"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid RDMA netns mode \"both\" (expected shared or exclusive)"),
        "{err}"
    );
}
