//! The test bed of the daemon tests: a simulated reference host rendered under a scratch root,
//! a kubelet stand-in (Rust or Python grpcio) serving that root's plugin directory, and
//! `rdma-sriov-dp` run as a separate process with `--root` on it.

#![allow(dead_code)] // each test file uses its own part of the bed

use std::path::{Path, PathBuf};
use std::time::Duration;

use device_plugin::kubelet_sim::hosts::{RenderedHost, bring_pfs_up};
use device_plugin::kubelet_sim::{
    DaemonProcess, KubeletPaths, KubeletSim, KubeletStandIn, PythonKubelet, unavailable_reason,
};
use sysfs_sim::SimHost;

/// Generous bound for anything to happen, so a broken test ends (not a timing assertion).
pub const WAIT: Duration = Duration::from_secs(30);
/// The seed's resource.
pub const VHCA: &str = "rdma/vhca";
/// The seed's configuration.
pub const SEED_CONFIG: &str = r#"{"mode":"sriov","pfNetdevices":["ens2f0"]}"#;
/// The reference host's 8 VFs of ens2f0.
pub const VFS: [&str; 8] = [
    "0000:3b:00.2",
    "0000:3b:00.3",
    "0000:3b:00.4",
    "0000:3b:00.5",
    "0000:3b:00.6",
    "0000:3b:00.7",
    "0000:3b:01.0",
    "0000:3b:01.1",
];

/// The reference host, its PF links up (as a configured node has them).
pub fn reference_host() -> SimHost {
    let host = device_plugin::kubelet_sim::hosts::reference(7).unwrap();
    bring_pfs_up(&host).unwrap();
    host
}

/// A stand-in of a given kind.
pub trait Kind: KubeletStandIn + Sized {
    /// Starts one on `root`'s plugin directory; `None` when its stack is missing here (the
    /// test is skipped, or fails under `RDMA_SRIOV_REQUIRE_PEERS=1`).
    fn start(root: &Path) -> impl std::future::Future<Output = Option<Self>>;
}

impl Kind for KubeletSim {
    async fn start(root: &Path) -> Option<Self> {
        Some(KubeletSim::start(KubeletPaths::under(root)).await.unwrap())
    }
}

impl Kind for PythonKubelet {
    async fn start(root: &Path) -> Option<Self> {
        if let Some(why) = unavailable_reason() {
            if testbed::peers_required() {
                panic!("the grpcio kubelet stand-in is required: {why}");
            }
            eprintln!("SKIP (grpcio stand-in): {why}");
            return None;
        }
        Some(
            PythonKubelet::start(&KubeletPaths::under(root).plugin_dir)
                .await
                .unwrap(),
        )
    }
}

/// Everything of one daemon test.
pub struct Bed<K> {
    /// The kubelet stand-in.
    pub kubelet: K,
    /// The rendered host.
    pub host: RenderedHost,
    /// The daemon process.
    pub daemon: DaemonProcess,
    /// The configuration file.
    pub config: PathBuf,
    /// The daemon's stderr.
    pub log: PathBuf,
    root: tempfile::TempDir,
}

impl<K: Kind> Bed<K> {
    /// The reference host with the seed's configuration.
    pub async fn seed() -> Option<Self> {
        Self::start(reference_host(), SEED_CONFIG, |_| {}).await
    }

    /// `host` rendered, `before_daemon` run on the root (a ledger to write), the stand-in and
    /// then the daemon started.
    pub async fn start(
        host: SimHost,
        config: &str,
        before_daemon: impl FnOnce(&Path),
    ) -> Option<Self> {
        let root = testbed::scratch_dir().unwrap();
        let host = RenderedHost::new(host, root.path()).unwrap();
        let kubelet = K::start(root.path()).await?;
        let config_path = root.path().join("config.json");
        std::fs::write(&config_path, config).unwrap();
        before_daemon(root.path());
        let log = root.path().join("daemon.log");
        let daemon = spawn_daemon(root.path(), &config_path, &log, &[]);
        Some(Bed {
            kubelet,
            host,
            daemon,
            config: config_path,
            log,
            root,
        })
    }
}

impl<K> Bed<K> {
    /// The root.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        KubeletPaths::under(self.root())
            .plugin_dir
            .join("rdma-sriov-dp.sock")
    }

    /// The device-info directory.
    pub fn devinfo_dir(&self) -> PathBuf {
        self.root()
            .join(device_plugin::sriov_dp::devinfo::DEVINFO_DIR)
    }

    /// Waits until the daemon's log has `line` (it writes it a moment after the kubelet saw
    /// what the line tells).
    pub async fn wait_log(&self, line: &str) {
        let deadline = std::time::Instant::now() + WAIT;
        while !self.daemon_log().contains(line) {
            assert!(
                std::time::Instant::now() < deadline,
                "{line:?} not in the log:\n{}",
                self.daemon_log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends SIGTERM to the daemon and waits for it to exit (without blocking the runtime:
    /// the stand-in must keep answering while the daemon shuts down its connections).
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        match self.daemon.terminate(WAIT).await {
            Ok(status) => status,
            Err(e) => panic!("{e}; log:\n{}", self.daemon_log()),
        }
    }

    /// The daemon's log so far.
    pub fn daemon_log(&self) -> String {
        self.daemon.log()
    }
}

/// Starts `rdma-sriov-dp` on `root` (registration on kubelet.sock, a 100 ms poll), its stderr
/// into `log`.
pub fn spawn_daemon(root: &Path, config: &Path, log: &Path, extra: &[&str]) -> DaemonProcess {
    let mut args = vec!["--poll-interval-ms", "100", "--log-level", "debug"];
    args.extend_from_slice(extra);
    DaemonProcess::spawn(
        Path::new(env!("CARGO_BIN_EXE_rdma-sriov-dp")),
        root,
        config,
        log,
        &args,
    )
    .unwrap()
}

/// Strings from string slices.
pub fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// p50 and p99 of `samples` (sorted in place).
pub fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

/// Re-created VFs come up with their netdevs down; the PF's link is untouched, but the sim's
/// reset may leave it as it was: make sure the PFs are up, as before.
pub fn bring_pfs_up_after_reset(host: &SimHost) {
    bring_pfs_up(host).unwrap();
}
