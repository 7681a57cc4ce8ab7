//! The process that owns a shared simulated host at a root directory `DIR`, how it is started
//! and stopped (`rdmactl sim start|stop`):
//! - [`run`] is the daemon: it builds the preset host, optionally its veth fabric, mounts the
//!   host namespace's sysfs at `DIR/sys` (FUSE), serves the host-ops proxy at
//!   `DIR/run/sysfs-sim/host.sock`, writes the RDMA character-device stand-ins under
//!   `DIR/dev/infiniband`, records all of it in `DIR/run/sysfs-sim/state.json`
//!   ([`DaemonRecord`]), says it is ready, and runs until SIGTERM or SIGINT, reaping deleted
//!   namespaces; then it removes everything it made.
//! - [`start`] spawns a daemon (the command a program gives, which must end up calling
//!   [`run`]) in a session of its own and returns once it is ready, or with its last words.
//! - [`stop`] ends it by its recorded pid (checked against the process's start time, so a
//!   reused pid is never signalled) and then removes whatever it left behind, each thing by
//!   its recorded handle: the mount, the namespaces it created (by inode), the socket, the
//!   device stand-ins, the state file.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use sriov_core::host_proxy::ProxyServer;
use sriov_core::node::HostRoot;

use super::fabric::{CreatedNetns, FabricConfig, Port};
use super::fuse::SysfsMount;
use super::{SharedError, SharedHost};
use crate::Preset;

/// What a daemon is asked to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonConfig {
    /// The root directory.
    pub root: PathBuf,
    /// The preset's name ([`Preset`]).
    pub preset: String,
    /// The seed of the host's identifiers.
    pub seed: u64,
    /// Real netdevs, laid out so; `None`: everything simulated.
    pub fabric: Option<FabricConfig>,
}

impl DaemonConfig {
    /// The config as one command-line argument (JSON), for the daemon command; a root that
    /// is not UTF-8 cannot be said so.
    pub fn to_arg(&self) -> Result<String, SharedError> {
        serde_json::to_string(self).map_err(|e| SharedError::Io {
            op: "name in the daemon's arguments",
            path: self.root.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        })
    }

    /// The config from [`Self::to_arg`]'s text.
    pub fn from_arg(text: &str) -> Result<Self, SharedError> {
        serde_json::from_str(text).map_err(|e| SharedError::CorruptState {
            path: PathBuf::from("--config"),
            detail: e.to_string(),
        })
    }
}

/// The veth fabric a daemon made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FabricRecord {
    /// The fabric namespace.
    pub fabric_netns: CreatedNetns,
    /// The host namespace, when the daemon created one.
    pub host_netns: Option<CreatedNetns>,
    /// The VLANs with a bridge (`br<VLAN>` in the fabric namespace).
    pub bridges: Vec<u16>,
    /// Each netdev's port, by the netdev's name when the daemon started.
    pub ports: Vec<(String, Port)>,
}

/// Everything a running daemon made, as its state file records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonRecord {
    /// The daemon's pid.
    pub pid: u32,
    /// Its start time (clock ticks after boot, `/proc/<pid>/stat` field 22): with the pid,
    /// the process's handle.
    pub start_time: u64,
    /// What it runs.
    pub config: DaemonConfig,
    /// The FUSE mount (`DIR/sys`).
    pub mountpoint: PathBuf,
    /// The proxy socket.
    pub socket: PathBuf,
    /// The daemon's log.
    pub log: PathBuf,
    /// The RDMA character-device stand-ins it wrote.
    pub dev_stubs: Vec<PathBuf>,
    /// The veth fabric, with `--veth`.
    pub fabric: Option<FabricRecord>,
}

/// `DIR/run/sysfs-sim/state.json`.
pub fn state_file(root: &Path) -> PathBuf {
    HostRoot::new(root).sim_dir().join("state.json")
}

/// `DIR/run/sysfs-sim/daemon.log`.
pub fn log_file(root: &Path) -> PathBuf {
    HostRoot::new(root).sim_dir().join("daemon.log")
}

/// The start time of process `pid` (`/proc/<pid>/stat` field 22), if it exists.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name (field 2) is in parentheses and may hold anything: count after it
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// True while the recorded daemon process runs (same pid, same start time).
pub fn is_running(record: &DaemonRecord) -> bool {
    start_time(record.pid) == Some(record.start_time)
}

/// The daemon's record under `root`: [`SharedError::NotRunning`] without a state file.
pub fn read_record(root: &Path) -> Result<DaemonRecord, SharedError> {
    let path = state_file(root);
    let Some(bytes) = state_files::read(&path)? else {
        return Err(SharedError::NotRunning {
            root: root.to_path_buf(),
            state_file: path,
        });
    };
    serde_json::from_slice(&bytes).map_err(|e| SharedError::CorruptState {
        path,
        detail: e.to_string(),
    })
}

fn write_record(record: &DaemonRecord) -> Result<(), SharedError> {
    let bytes = serde_json::to_vec_pretty(record).map_err(|e| SharedError::CorruptState {
        path: state_file(&record.config.root),
        detail: e.to_string(),
    })?;
    state_files::write_atomic(&state_file(&record.config.root), &bytes)?;
    Ok(())
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> SharedError + 'a {
    move |source| SharedError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// What a daemon made, undone in reverse when set-up fails half way or the daemon stops.
#[derive(Default)]
struct Made {
    server: Option<ProxyServer>,
    socket: Option<PathBuf>,
    mount: Option<SysfsMount>,
    shared: Option<SharedHost>,
    stubs: Vec<PathBuf>,
    state: Option<PathBuf>,
}

impl Made {
    fn undo(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
        if let Some(socket) = self.socket.take() {
            let _ = fs::remove_file(socket);
        }
        if let Some(mount) = self.mount.take()
            && let Err(e) = mount.unmount()
        {
            tracing::warn!("unmount: {e}");
        }
        if let Some(shared) = self.shared.take()
            && let Some(fabric) = shared.fabric()
        {
            fabric.destroy();
        }
        for stub in self.stubs.drain(..) {
            let _ = fs::remove_file(stub);
        }
        if let Some(state) = self.state.take() {
            let _ = fs::remove_file(state);
        }
    }
}

/// Runs a daemon (see the module docs): `ready` is called once the host is up, with its
/// record; then it serves until SIGTERM or SIGINT and removes what it made.
pub fn run(config: &DaemonConfig, ready: impl FnOnce(&DaemonRecord)) -> Result<(), SharedError> {
    // a session of its own: the terminal's signals are not its business
    let _ = nix::unistd::setsid();
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(io_err("install a signal handler for", &config.root))?;
    }
    let mut made = Made::default();
    let record = match set_up(config, &mut made) {
        Ok(record) => record,
        Err(e) => {
            made.undo();
            return Err(e);
        }
    };
    ready(&record);
    let Some(shared) = made.shared.clone() else {
        made.undo();
        return Ok(());
    };
    while !stop.load(Ordering::SeqCst) {
        for ns in shared.reap_vanished() {
            tracing::info!("namespace {ns} is gone: its netdevs are back in the host");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    tracing::info!("stopping");
    made.undo();
    Ok(())
}

fn set_up(config: &DaemonConfig, made: &mut Made) -> Result<DaemonRecord, SharedError> {
    let root = HostRoot::new(&config.root);
    if !config.root.is_dir() {
        return Err(SharedError::Io {
            op: "use as root",
            path: config.root.clone(),
            source: std::io::Error::from_raw_os_error(libc::ENOTDIR),
        });
    }
    state_files::create_private_dir(&root.sim_dir())?;
    match read_record(&config.root) {
        Ok(old) if is_running(&old) => {
            return Err(SharedError::AlreadyRunning {
                root: config.root.clone(),
                pid: old.pid,
            });
        }
        // a daemon that died: clear what it left first
        Ok(old) => {
            clean_up(&old);
        }
        Err(SharedError::NotRunning { .. }) => {}
        Err(e) => return Err(e),
    }
    let preset: Preset = config.preset.parse()?;
    let sim = preset.build(config.seed)?;
    let shared = match &config.fabric {
        Some(fabric) => SharedHost::with_fabric(sim, fabric)?,
        None => SharedHost::new(sim),
    };
    made.shared = Some(shared.clone());

    let mountpoint = root.sys_dir();
    fs::create_dir_all(&mountpoint).map_err(io_err("create", &mountpoint))?;
    made.mount = Some(
        SysfsMount::mount(shared.clone(), &mountpoint)
            .map_err(io_err("mount FUSE at", &mountpoint))?,
    );

    let socket = root.proxy_socket();
    let listener = state_files::bind_private_socket(&socket)?;
    made.socket = Some(socket.clone());
    made.server = Some(
        ProxyServer::spawn(listener, Arc::new(shared.clone()))
            .map_err(io_err("serve the host proxy at", &socket))?,
    );

    made.stubs = shared
        .sim()
        .render_rdma_dev_stubs(&config.root)
        .map_err(io_err(
            "write device stand-ins under",
            &root.dev_infiniband(),
        ))?;

    let pid = std::process::id();
    let fabric = shared.fabric().map(|f| {
        let model = shared.sim().model();
        FabricRecord {
            fabric_netns: f.fabric_netns().clone(),
            host_netns: f.host_netns().cloned(),
            bridges: f.bridges(),
            ports: f
                .ports()
                .into_iter()
                .map(|(ifindex, port)| {
                    let name = model
                        .netdevs
                        .get(&ifindex)
                        .map_or_else(|| format!("ifindex {ifindex}"), |d| d.name.clone());
                    (name, port)
                })
                .collect(),
        }
    });
    let record = DaemonRecord {
        pid,
        start_time: start_time(pid).unwrap_or(0),
        config: config.clone(),
        mountpoint,
        socket,
        log: log_file(&config.root),
        dev_stubs: made.stubs.clone(),
        fabric,
    };
    made.state = Some(state_file(&config.root));
    write_record(&record)?;
    Ok(record)
}

/// Starts a daemon with `daemon` (a command that calls [`run`] with `config` and prints
/// `ready` on its standard output when [`run`] calls back, or `error: ...` when it fails), its
/// standard error going to [`log_file`]. Returns its record once it is ready.
pub fn start(mut daemon: Command, config: &DaemonConfig) -> Result<DaemonRecord, SharedError> {
    let root = HostRoot::new(&config.root);
    if !config.root.is_dir() {
        return Err(SharedError::Io {
            op: "use as root",
            path: config.root.clone(),
            source: std::io::Error::from_raw_os_error(libc::ENOTDIR),
        });
    }
    if let Ok(old) = read_record(&config.root)
        && is_running(&old)
    {
        return Err(SharedError::AlreadyRunning {
            root: config.root.clone(),
            pid: old.pid,
        });
    }
    state_files::create_private_dir(&root.sim_dir())?;
    let log_path = log_file(&config.root);
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(io_err("open", &log_path))?;
    let mut child = daemon
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| SharedError::Spawn {
            detail: e.to_string(),
        })?;
    let mut said = String::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if line == "ready" {
                return read_record(&config.root);
            }
            said = line.strip_prefix("error: ").unwrap_or(&line).to_string();
        }
    }
    let status = child.wait().map_err(|e| SharedError::Spawn {
        detail: e.to_string(),
    })?;
    if said.is_empty() {
        said = format!(
            "exited ({status}) before it was ready; see {}",
            log_path.display()
        );
    }
    Err(SharedError::Spawn { detail: said })
}

/// What [`stop`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StopReport {
    /// The daemon that was stopped (`None`: it was not running any more).
    pub stopped_pid: Option<u32>,
    /// Things the daemon had left behind that were removed after it (a daemon that stops
    /// by itself leaves none).
    pub removed_leftovers: Vec<String>,
}

/// Stops the daemon at `root` and removes whatever it left (see the module docs).
pub fn stop(root: &Path) -> Result<StopReport, SharedError> {
    let record = read_record(root)?;
    let mut report = StopReport::default();
    if is_running(&record) {
        let pid = Pid::from_raw(i32::try_from(record.pid).unwrap_or(i32::MAX));
        let _ = kill(pid, Signal::SIGTERM);
        if !wait_gone(&record, Duration::from_secs(15)) {
            let _ = kill(pid, Signal::SIGKILL);
            if !wait_gone(&record, Duration::from_secs(5)) {
                return Err(SharedError::Stop {
                    pid: record.pid,
                    detail: "still running after SIGKILL".into(),
                });
            }
        }
        report.stopped_pid = Some(record.pid);
    }
    report.removed_leftovers = clean_up(&record);
    Ok(report)
}

fn wait_gone(record: &DaemonRecord, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if !is_running(record) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !is_running(record)
}

/// True when `path` is a FUSE mount of a shared host (`/proc/self/mountinfo`).
pub fn is_sim_mount(path: &Path) -> bool {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let Ok(path) = path
        .canonicalize()
        .or_else(|_| Ok::<_, ()>(path.to_path_buf()))
    else {
        return false;
    };
    info.lines().any(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            return false;
        };
        fields.get(4).is_some_and(|m| Path::new(m) == path)
            && fields.get(sep + 1).is_some_and(|t| *t == "fuse.sysfs-sim")
    })
}

/// Removes what a daemon that is no longer running left, each thing by its handle; returns
/// what it removed.
fn clean_up(record: &DaemonRecord) -> Vec<String> {
    let mut removed = Vec::new();
    // a dead FUSE server leaves its mount ("Transport endpoint is not connected")
    if is_sim_mount(&record.mountpoint) {
        match nix::mount::umount2(&record.mountpoint, nix::mount::MntFlags::MNT_DETACH) {
            Ok(()) => removed.push(format!("mount {}", record.mountpoint.display())),
            Err(e) => tracing::warn!("unmount {}: {e}", record.mountpoint.display()),
        }
    }
    if let Some(fabric) = &record.fabric {
        for ns in std::iter::once(&fabric.fabric_netns).chain(&fabric.host_netns) {
            match ns.delete() {
                Ok(true) => removed.push(format!("namespace {}", ns.name)),
                Ok(false) => {}
                Err(e) => tracing::warn!("delete namespace {}: {e}", ns.name),
            }
        }
    }
    if fs::symlink_metadata(&record.socket).is_ok_and(|m| m.file_type().is_socket())
        && fs::remove_file(&record.socket).is_ok()
    {
        removed.push(format!("socket {}", record.socket.display()));
    }
    for stub in &record.dev_stubs {
        if fs::symlink_metadata(stub).is_ok_and(|m| m.is_file() && m.len() == 0)
            && fs::remove_file(stub).is_ok()
        {
            removed.push(format!("device stand-in {}", stub.display()));
        }
    }
    let state = state_file(&record.config.root);
    if fs::remove_file(&state).is_ok() {
        removed.push(format!("state file {}", state.display()));
    }
    removed
}

/// Writes the daemon's readiness line (`ready`) or failure line (`error: ...`) on standard
/// output, as [`start`] reads them.
pub fn announce(outcome: Result<(), &SharedError>) {
    let mut out = std::io::stdout().lock();
    let _ = match outcome {
        Ok(()) => writeln!(out, "ready"),
        Err(e) => writeln!(out, "error: {e}"),
    };
    let _ = out.flush();
}

/// After [`announce`]: standard output goes to `/dev/null`, so the starter's pipe ends.
pub fn detach_stdout() {
    if let Ok(null) = fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdout(&null);
    }
}
