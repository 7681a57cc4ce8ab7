//! Test support for the rdma-sriov workspace (not published).
//!
//! - [`require`]: skip a test with a printed reason when something it needs (root, network
//!   namespaces, a peer program) is missing, or fail instead when `RDMA_SRIOV_REQUIRE_PEERS=1`
//!   (or `RDMA_SRIOV_REQUIRE_PRIVILEGED=1`) is set, as CI does.
//! - [`Netns`]: a network namespace created for one test and deleted when dropped.
//! - [`ChildGuard`]: a child process killed by PID and reaped when dropped.
//! - [`fixtures`]: the real sysfs fixtures, materialized with their symlinks restored.
//!
//! Everything here cleans up by handle (namespace name it created, PID it started), never by
//! searching for names of things it did not create.

pub mod dhcp;
pub mod fixtures;
mod netns;
pub mod private_dev;
mod process;

pub use netns::{Netns, veth_pair};
pub use process::ChildGuard;

use std::io::Write;
use std::path::PathBuf;

/// Something a test needs from the machine.
#[derive(Debug, Clone)]
pub enum Need {
    /// Effective UID 0.
    Root,
    /// `ip netns add` works (root, iproute2, a kernel with network namespaces).
    Netns,
    /// A program found in `PATH` or in one of the usual sbin directories.
    Program(&'static str),
    /// A file that must exist (for example a reference CNI plugin under `/usr/lib/cni`).
    File(&'static str),
}

/// True when missing needs must fail the test instead of skipping it.
pub fn peers_required() -> bool {
    ["RDMA_SRIOV_REQUIRE_PEERS", "RDMA_SRIOV_REQUIRE_PRIVILEGED"]
        .iter()
        .any(|k| std::env::var(k).map(|v| v == "1").unwrap_or(false))
}

/// The path of the function this macro is written in (`crate::module::test_name`), known at
/// compile time, so a message names the test it comes from even after a rename.
#[macro_export]
macro_rules! function_path {
    () => {{
        fn marker() {}
        fn name_of<T>(_: T) -> &'static str {
            ::std::any::type_name::<T>()
        }
        let name = name_of(marker);
        name.strip_suffix("::marker").unwrap_or(name)
    }};
}

/// [`require`] with the calling test's own name: `if !testbed::require!(Need::Root) { return; }`,
/// or `testbed::require!(needs = some_vec_of_needs)`.
///
/// ```
/// fn doc_example() {
///     if !testbed::require!(testbed::Need::Program("sh")) {
///         return;
///     }
///     // ... the test body
/// }
/// doc_example();
/// ```
#[macro_export]
macro_rules! require {
    (needs = $needs:expr) => {
        $crate::require($crate::function_path!(), &$needs[..])
    };
    ($($need:expr),+ $(,)?) => {
        $crate::require($crate::function_path!(), &[$($need),+])
    };
}

/// Checks every need. Returns true when all are met. Otherwise prints
/// `SKIP <test>: <reason>` straight to the process's stderr (visible even when the test harness
/// captures output) and returns false, or panics with the reason when [`peers_required`].
///
/// ```
/// if !testbed::require("doc example", &[testbed::Need::Program("sh")]) {
///     return;
/// }
/// ```
pub fn require(test: &str, needs: &[Need]) -> bool {
    let missing: Vec<String> = needs.iter().filter_map(missing_reason).collect();
    if missing.is_empty() {
        return true;
    }
    let reason = missing.join("; ");
    if peers_required() {
        panic!("{test}: required but unavailable: {reason}");
    }
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {reason}");
    false
}

fn missing_reason(need: &Need) -> Option<String> {
    match need {
        Need::Root => {
            (!nix::unistd::geteuid().is_root()).then(|| "not running as root".to_string())
        }
        Need::Netns => {
            if !nix::unistd::geteuid().is_root() {
                return Some("network namespaces need root".into());
            }
            if find_program("ip").is_none() {
                return Some("iproute2 `ip` not found".into());
            }
            None
        }
        Need::Program(name) => find_program(name)
            .is_none()
            .then(|| format!("program `{name}` not found")),
        Need::File(path) => {
            (!std::path::Path::new(path).exists()).then(|| format!("{path} missing"))
        }
    }
}

/// Finds a program in `PATH`, then in `/usr/sbin`, `/sbin`, `/usr/bin`, `/bin`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A temporary directory for scratch trees (rendered sysfs, caches), on tmpfs (`/dev/shm`)
/// when the machine has a writable one, else in the default temporary directory. Creating
/// files on a virtual disk can cost close to a millisecond each; tests that render thousands
/// of files would spend their time there.
pub fn scratch_dir() -> std::io::Result<tempfile::TempDir> {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new()
            .prefix("rdma-sriov-")
            .tempdir_in(shm)
    {
        return Ok(dir);
    }
    tempfile::Builder::new().prefix("rdma-sriov-").tempdir()
}

/// A name unique to this process and call: `<prefix>-<pid>-<n>`, at most 15 bytes when the
/// prefix is short (interface names are limited to 15).
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}-{n}", std::process::id() % 100_000)
}
