//! Exclusive advisory locks (`flock`) on private lock files, held until dropped.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::atomic::{FILE_MODE, open_existing, set_file_mode};
use crate::error::{Error, FileOp, Result, io_err};
use crate::trust;

/// An exclusive lock on a lock file, released when dropped (or when the process dies: the
/// kernel drops `flock`s with the last descriptor, so a crash never leaves a stale lock).
///
/// ```
/// use state_files::FileLock;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("ledger.lock");
/// let held = FileLock::exclusive(&path).unwrap();
/// assert!(FileLock::try_exclusive(&path).unwrap().is_none()); // a second holder must wait
/// drop(held);
/// assert!(FileLock::try_exclusive(&path).unwrap().is_some());
/// ```
#[derive(Debug)]
pub struct FileLock {
    path: PathBuf,
    _lock: Flock<File>,
}

impl FileLock {
    /// Takes the lock, waiting while another process (or another handle of this one) holds it.
    /// The lock file is created `0600` when missing and must be trusted when present.
    pub fn exclusive(path: &Path) -> Result<FileLock> {
        Self::take(path, FlockArg::LockExclusive)?.ok_or_else(|| unreachable_busy(path))
    }

    /// Takes the lock if it is free; `Ok(None)` when someone holds it.
    pub fn try_exclusive(path: &Path) -> Result<Option<FileLock>> {
        Self::take(path, FlockArg::LockExclusiveNonblock)
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn take(path: &Path, how: FlockArg) -> Result<Option<FileLock>> {
        let file = open_lock_file(path)?;
        match Flock::lock(file, how) {
            Ok(lock) => Ok(Some(FileLock {
                path: path.to_path_buf(),
                _lock: lock,
            })),
            Err((_, Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, errno)) => Err(Error::Io {
                op: FileOp::Lock,
                path: path.to_path_buf(),
                source: errno.into(),
            }),
        }
    }
}

/// A blocking `flock` never answers "would block"; should it, say so with the path.
fn unreachable_busy(path: &Path) -> Error {
    Error::Io {
        op: FileOp::Lock,
        path: path.to_path_buf(),
        source: Errno::EWOULDBLOCK.into(),
    }
}

fn open_lock_file(path: &Path) -> Result<File> {
    trust::check_parent(path)?;
    if let Some(file) = open_existing(path, OpenOptions::new().read(true).write(true))? {
        return Ok(file);
    }
    match OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(file) => {
            set_file_mode(path, &file)?;
            Ok(file)
        }
        // another process created it in between: open theirs
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            open_existing(path, OpenOptions::new().read(true).write(true))?
                .ok_or_else(|| io_err(FileOp::Open, path)(e))
        }
        Err(source) => Err(Error::Io {
            op: FileOp::Open,
            path: path.to_path_buf(),
            source,
        }),
    }
}
