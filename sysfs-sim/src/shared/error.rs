//! Errors of the shared host's daemon: setting it up, starting it, stopping it. Each names the
//! step and what it acted on. (The host's own answers to the host traits stay `io::Error`s with
//! the kernel's errno.)

use std::io;
use std::path::PathBuf;

/// Why starting, running or stopping a shared simulated host failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SharedError {
    /// A filesystem step under the root failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`create`, `mount FUSE at`, `read state file`...).
        op: &'static str,
        /// On what.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A state file or socket step of `state-files` failed.
    #[error(transparent)]
    StateFile(#[from] state_files::Error),
    /// The preset host could not be built.
    #[error("build the preset host: {0}")]
    Build(#[from] crate::BuildError),
    /// A simulated host already runs at this root.
    #[error("a simulated host already runs at {} (pid {pid})", root.display())]
    AlreadyRunning {
        /// The root.
        root: PathBuf,
        /// Its daemon.
        pid: u32,
    },
    /// No simulated host runs at this root (no state file).
    #[error("no simulated host at {} (no {})", root.display(), state_file.display())]
    NotRunning {
        /// The root.
        root: PathBuf,
        /// The state file looked for.
        state_file: PathBuf,
    },
    /// The state file does not hold a daemon's record.
    #[error("state file {}: {detail}", path.display())]
    CorruptState {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A kernel step of the veth fabric failed.
    #[error("{op} {target}: {source}")]
    Fabric {
        /// The step (`create veth`, `create bridge`, `create namespace`...).
        op: &'static str,
        /// Its object.
        target: String,
        /// The kernel's error.
        source: io::Error,
    },
    /// Real netdevs need root.
    #[error("--veth needs root (network namespaces and veth pairs)")]
    VethNeedsRoot,
    /// The daemon process could not be started, or stopped before it was ready.
    #[error("start the simulated host daemon: {detail}")]
    Spawn {
        /// What happened (its last words, when it said any).
        detail: String,
    },
    /// The daemon did not exit after SIGTERM and SIGKILL.
    #[error("stop the simulated host daemon (pid {pid}): {detail}")]
    Stop {
        /// The daemon.
        pid: u32,
        /// What happened.
        detail: String,
    },
}
