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
