//! What the client's interop tests share beyond `testbed::dhcp`'s leaf/pod bed: the needs of a
//! test against a server, and running the `rdma-dhcp` plugin binary as a runtime would.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dhcp_ipam::cni::{DaemonRequest, call};
use nix::sys::signal::Signal;
use std::process::{Child, Command, Output, Stdio};

use testbed::{ChildGuard, Need};

/// The needs of a test against `server`.
pub fn needs(server: &'static str) -> Vec<Need> {
    vec![Need::Root, Need::Netns, Need::Program(server)]
}

pub fn path_of(p: &Path) -> String {
    p.display().to_string()
}

/// Starts the `rdma-dhcp` plugin binary as a runtime would: a clean environment with the CNI
/// variables, the configuration on stdin.
pub fn spawn_plugin(
    command: &str,
    container_id: &str,
    netns: &Path,
    ifname: &str,
    stdin: &str,
) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdma-dhcp"))
        .env_clear()
        .env("CNI_COMMAND", command)
        .env("CNI_CONTAINERID", container_id)
        .env("CNI_NETNS", netns)
        .env("CNI_IFNAME", ifname)
        .env("CNI_PATH", "/usr/lib/cni")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rdma-dhcp");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child
}

/// [`spawn_plugin`] and wait for its output.
pub fn run_plugin(
    command: &str,
    container_id: &str,
    netns: &Path,
    ifname: &str,
    stdin: &str,
) -> Output {
    spawn_plugin(command, container_id, netns, ifname, stdin)
        .wait_with_output()
        .expect("wait for rdma-dhcp")
}

/// The `rdma-dhcp` daemon binary of this build, stopped (SIGTERM by PID) when dropped.
pub struct Daemon {
    /// Its socket.
    pub socket: PathBuf,
    /// Its state directory.
    pub state: PathBuf,
    log: PathBuf,
    child: Option<ChildGuard>,
}

impl Daemon {
    /// Starts run `n` of the daemon with its socket, state and log in `dir`, and waits until it
    /// answers.
    pub fn start(dir: &Path, n: u32) -> Daemon {
        Self::start_with(dir, n, "022", &[])
    }

    /// [`Daemon::start`] under `umask`, with `extra` arguments.
    pub fn start_with(dir: &Path, n: u32, umask: &str, extra: &[&str]) -> Daemon {
        let socket = dir.join("rdma-dhcp.sock");
        let state = dir.join("state");
        Self::start_at(
            &socket,
            &state,
            &dir.join(format!("daemon-{n}.log")),
            umask,
            extra,
        )
    }

    /// The daemon at `socket` with state in `state`, logging to `log`, under `umask` (through
    /// `sh`, so the umask is the daemon's own), with `extra` arguments.
    pub fn start_at(
        socket: &Path,
        state: &Path,
        log: &Path,
        umask: &str,
        extra: &[&str],
    ) -> Daemon {
        let (socket, state, log) = (socket.to_path_buf(), state.to_path_buf(), log.to_path_buf());
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_rdma-dhcp"))
            .args(["daemon", "--socket"])
            .arg(&socket)
            .arg("--state-dir")
            .arg(&state)
            .args(extra)
            .env("RDMA_DHCP_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let guard = ChildGuard::new(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while call(&socket, &DaemonRequest::Status, Duration::from_secs(1)).is_err() {
            assert!(
                Instant::now() < deadline,
                "daemon did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Daemon {
            socket,
            state,
            log,
            child: Some(guard),
        }
    }

    /// Stops it with SIGTERM; it must exit cleanly.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let status = c.stop_with(Signal::SIGTERM).unwrap();
            assert!(status.success(), "daemon exit: {status:?}");
        }
    }

    /// What it logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
