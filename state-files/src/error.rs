//! The crate's error type: every variant names the operation and the path it failed on.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What was being done to a state file or directory when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileOp {
    /// Creating a directory.
    CreateDir,
    /// Opening an existing file.
    Open,
    /// Creating the temporary file of an atomic write.
    CreateTemp,
    /// Writing bytes.
    Write,
    /// `fsync`/`fdatasync` of a file.
    Sync,
    /// Renaming the temporary file over the target.
    Rename,
    /// `fsync` of the directory holding a renamed file.
    SyncDir,
    /// Reading bytes.
    Read,
    /// Removing a file.
    Remove,
    /// Taking a `flock`.
    Lock,
    /// Listing a directory.
    List,
    /// `lstat`/`fstat`.
    Inspect,
    /// Changing a mode.
    SetMode,
    /// Creating or binding a unix socket.
    BindSocket,
}

impl fmt::Display for FileOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileOp::CreateDir => "create directory",
            FileOp::Open => "open",
            FileOp::CreateTemp => "create temporary file",
            FileOp::Write => "write",
            FileOp::Sync => "sync",
            FileOp::Rename => "rename over",
            FileOp::SyncDir => "sync directory",
            FileOp::Read => "read",
            FileOp::Remove => "remove",
            FileOp::Lock => "lock",
            FileOp::List => "list",
            FileOp::Inspect => "inspect",
            FileOp::SetMode => "set mode of",
            FileOp::BindSocket => "bind socket",
        })
    }
}

/// What kind of entry a path should have been.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A unix socket.
    Socket,
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryKind::File => "a regular file",
            EntryKind::Directory => "a directory",
            EntryKind::Socket => "a unix socket",
        })
    }
}

/// Errors of `state-files`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: FileOp,
        /// The file or directory.
        path: PathBuf,
        /// The error, with its errno.
        #[source]
        source: io::Error,
    },
    /// The path is a symbolic link: state is never read or written through one, since a link
    /// planted by another user could point anywhere.
    #[error("{}: is a symbolic link; refusing to follow it", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// The path exists but is not the kind of entry expected.
    #[error("{}: not {expected}", path.display())]
    WrongKind {
        /// The path.
        path: PathBuf,
        /// What it should have been.
        expected: EntryKind,
    },
    /// The entry belongs to another user than the one this process runs as.
    #[error("{}: owned by uid {owner}, not by uid {expected} (this process); refusing to trust it", path.display())]
    ForeignOwner {
        /// The path.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// This process's effective uid.
        expected: u32,
    },
    /// The entry can be written by other users (group or world write bit).
    #[error("{}: mode {mode:04o} lets other users write it; refusing to trust it", path.display())]
    WritableByOthers {
        /// The path.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A crash armed with [`crate::fault::arm_crash`] stopped the write here.
    #[cfg(feature = "fault-injection")]
    #[error("{}: injected crash {point}", path.display())]
    InjectedCrash {
        /// The file being written.
        path: PathBuf,
        /// Where the write stopped.
        point: crate::fault::CrashPoint,
    },
}

impl Error {
    /// The errno of a failed system call, if this is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Builds the `map_err` closure for a failed call `op` on `path`.
pub(crate) fn io_err(op: FileOp, path: &std::path::Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}
