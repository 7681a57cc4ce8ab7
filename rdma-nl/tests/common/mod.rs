//! What the golden tests share: the LD_PRELOAD shim that stands in for the kernel's
//! `NETLINK_RDMA` socket (`tests/capture/nl_rdma_shim.c`), built with gcc, and `rdma` run under it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Builds the shim into `dir`.
pub fn build_shim(dir: &Path) -> PathBuf {
    let so = dir.join("nl_rdma_shim.so");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/capture/nl_rdma_shim.c");
    let status = Command::new("gcc")
        .args(["-shared", "-fPIC", "-Wall", "-o"])
        .arg(&so)
        .arg(&src)
        .arg("-ldl")
        .status()
        .unwrap();
    assert!(status.success(), "gcc {}", src.display());
    so
}

/// Runs `rdma <args>` under the shim, which logs the requests to `log` and, with `replies`,
/// answers from that file (see the shim's comment). Fails the test when `rdma` fails.
pub fn rdma(shim: &Path, log: &Path, replies: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new("rdma");
    cmd.args(args)
        .env("LD_PRELOAD", shim)
        .env("RDMA_SHIM_LOG", log);
    if let Some(replies) = replies {
        cmd.env("RDMA_SHIM_REPLIES", replies);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "rdma {args:?}: {out:?}");
    out
}

/// Hex text to bytes.
#[allow(dead_code)] // not every test file uses it
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Bytes to hex text.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}
