//! `rdma-sriov-dp` run as a separate process on a rendered host, for tests and measurements.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::SimError;

/// The daemon's process: stopped (SIGTERM, then SIGKILL after 5 s) and reaped when dropped.
/// Signals go only to a child not reaped yet, so its PID cannot have been reused.
#[derive(Debug)]
pub struct DaemonProcess {
    child: Child,
    log: PathBuf,
}

impl DaemonProcess {
    /// Starts `program` (the `rdma-sriov-dp` binary) with `--root root --config config`,
    /// registration on `kubelet.sock`, and `extra` arguments; its stderr goes to `log`.
    pub fn spawn(
        program: &Path,
        root: &Path,
        config: &Path,
        log: &Path,
        extra: &[&str],
    ) -> Result<Self, SimError> {
        let stderr = File::create(log).map_err(|source| SimError::Io {
            op: "create",
            path: log.to_path_buf(),
            source,
        })?;
        let child = Command::new(program)
            .arg("--root")
            .arg(root)
            .arg("--config")
            .arg(config)
            .args(["--registration", "kubelet"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|source| SimError::Io {
                op: "start",
                path: program.to_path_buf(),
                source,
            })?;
        Ok(DaemonProcess {
            child,
            log: log.to_path_buf(),
        })
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal` unless the child has exited.
    pub fn signal(&mut self, signal: Signal) {
        if matches!(self.child.try_wait(), Ok(None))
            && let Ok(pid) = i32::try_from(self.child.id())
        {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), signal);
        }
    }

    /// Its exit status, if it has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends SIGTERM and waits (asynchronously: whatever it talks to keeps running) until it
    /// exits, at most `timeout`.
    pub async fn terminate(&mut self, timeout: Duration) -> Result<ExitStatus, SimError> {
        self.signal(Signal::SIGTERM);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return Ok(status);
            }
            if Instant::now() > deadline {
                return Err(SimError::Timeout {
                    what: "the daemon to exit after SIGTERM".into(),
                    after: timeout,
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Its resident memory (`VmRSS` of `/proc/<pid>/status`), in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// CPU time used so far (user + system), from `/proc/<pid>/stat`.
    pub fn cpu_time(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // the fields after the command name, which is in parentheses
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .and_then(|hz| u64::try_from(hz).ok())
            .filter(|hz| *hz > 0)?;
        Some(Duration::from_millis(ticks * 1000 / hz))
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        self.signal(Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
