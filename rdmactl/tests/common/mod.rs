//! What the `rdmactl` tests share: running the binary as a user does, and rendering a
//! simulated host with it.
#![allow(dead_code)]

use std::process::{Command, Output};

/// The `rdmactl` binary of this build, as a command to add arguments to.
pub fn command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rdmactl"))
}

/// Runs `rdmactl ARGS` and returns what it printed and its status.
pub fn rdmactl(args: &[&str]) -> Output {
    command().args(args).output().expect("run rdmactl")
}

/// [`rdmactl`], failing the test with its stderr unless it succeeds.
pub fn rdmactl_ok(args: &[&str]) -> Output {
    let out = rdmactl(args);
    assert!(
        out.status.success(),
        "rdmactl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `rdmactl sim render --preset PRESET` into a fresh scratch directory.
pub fn render(preset: &str) -> tempfile::TempDir {
    let dir = testbed::scratch_dir().expect("scratch dir");
    rdmactl_ok(&[
        "sim",
        "render",
        "--preset",
        preset,
        "--out",
        dir.path().to_str().expect("utf-8 path"),
    ]);
    dir
}

/// A veth-backed reference host started by `rdmactl sim start --veth` at a root: the names of
/// the fabric and host namespaces it made, and the pid of its daemon (gone after `sim stop`).
pub struct VethHost {
    /// The fabric namespace (`--fabric`), holding the `br<VLAN>` bridges.
    pub fabric: String,
    /// The namespace the host's PF and VF netdevs live in (`--host-netns`).
    pub host_ns: String,
    /// The simulated host's daemon, as `sim start` reported it.
    pub pid: u32,
}

/// `rdmactl sim start --root ROOT --veth --vlans 0,111` with fresh namespace names; the caller
/// runs `rdmactl sim stop --root ROOT` when done.
pub fn start_veth_host(root: &std::path::Path) -> VethHost {
    let fabric = testbed::unique_name("sf");
    let host_ns = testbed::unique_name("sh");
    let out = rdmactl_ok(&[
        "sim",
        "start",
        "--root",
        root.to_str().expect("utf-8 path"),
        "--veth",
        "--fabric",
        &fabric,
        "--host-netns",
        &host_ns,
        "--vlans",
        "0,111",
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    let pid = said
        .split("(pid ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no daemon pid in {said:?}"));
    VethHost {
        fabric,
        host_ns,
        pid,
    }
}
