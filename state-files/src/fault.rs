//! Crash drills (feature `fault-injection`): arm a crash at one step of the next atomic write of
//! a path. The write then stops there, leaving the files exactly as a process killed at that
//! instant would, and returns [`Error::InjectedCrash`](crate::Error::InjectedCrash).
//!
//! Crashes are armed per path, so tests running in parallel on their own directories do not
//! see each other's.
//!
//! ```
//! use state_files::fault::{arm_crash, CrashPoint};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("ledger.json");
//! state_files::write_atomic(&path, b"old").unwrap();
//! arm_crash(&path, CrashPoint::BeforeRename);
//! assert!(state_files::write_atomic(&path, b"new").is_err());
//! assert_eq!(state_files::read(&path).unwrap().unwrap(), b"old"); // the old state survives
//! state_files::write_atomic(&path, b"new").unwrap();              // armed once only
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::Error;

/// Where an atomic write stops when a crash is armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrashPoint {
    /// Before anything is written.
    BeforeTempWrite,
    /// Half of the new contents is in the temporary file.
    MidTempWrite,
    /// The temporary file is complete and synced, not yet renamed.
    BeforeRename,
    /// The rename happened and the directory was synced; the caller was not told.
    AfterRename,
}

impl fmt::Display for CrashPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CrashPoint::BeforeTempWrite => "before the temporary file was written",
            CrashPoint::MidTempWrite => "half-way through writing the temporary file",
            CrashPoint::BeforeRename => "before the rename",
            CrashPoint::AfterRename => "after the rename",
        })
    }
}

static ARMED: Mutex<Vec<(PathBuf, CrashPoint)>> = Mutex::new(Vec::new());

/// Makes the next atomic write of `path` stop at `point` (once).
pub fn arm_crash(path: &Path, point: CrashPoint) {
    let mut armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
    armed.retain(|(p, _)| p != path);
    armed.push((path.to_path_buf(), point));
}

/// Removes a crash armed for `path`, if any.
pub fn disarm(path: &Path) {
    ARMED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|(p, _)| p != path);
}

/// The error to return when a crash at `point` is armed for `path` (disarming it), else
/// `None`.
pub(crate) fn take(path: &Path, point: CrashPoint) -> Option<Error> {
    let mut armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
    let i = armed.iter().position(|(p, at)| p == path && *at == point)?;
    armed.remove(i);
    Some(Error::InjectedCrash {
        path: path.to_path_buf(),
        point,
    })
}
