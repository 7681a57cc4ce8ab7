//! Whether an existing entry may be trusted as this process's state: not a symbolic link, of
//! the expected kind, owned by this process's effective uid (root for the node's daemons and
//! plugins), and not writable by group or others.

use std::fs::{File, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use crate::error::{EntryKind, Error, FileOp, Result, io_err};

/// Permission bits that let users other than the owner change an entry.
const OTHERS_WRITE: u32 = 0o022;

/// The effective uid of this process: the owner every state entry must have.
pub(crate) fn own_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Checks the metadata of `path` (from `lstat` or `fstat`) against the rules above.
pub(crate) fn check(path: &Path, meta: &Metadata, expected: EntryKind) -> Result<()> {
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Err(Error::Symlink {
            path: path.to_path_buf(),
        });
    }
    let right_kind = match expected {
        EntryKind::File => kind.is_file(),
        EntryKind::Directory => kind.is_dir(),
        EntryKind::Socket => kind.is_socket(),
    };
    if !right_kind {
        return Err(Error::WrongKind {
            path: path.to_path_buf(),
            expected,
        });
    }
    let expected_uid = own_uid();
    if meta.uid() != expected_uid {
        return Err(Error::ForeignOwner {
            path: path.to_path_buf(),
            owner: meta.uid(),
            expected: expected_uid,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & OTHERS_WRITE != 0 {
        return Err(Error::WritableByOthers {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// `lstat`s `path` and checks it; `Ok(None)` when nothing is there.
pub(crate) fn check_path(path: &Path, expected: EntryKind) -> Result<Option<Metadata>> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => check(path, &meta, expected).map(|()| Some(meta)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            op: FileOp::Inspect,
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// `fstat`s an open file and checks it as a regular state file.
pub(crate) fn check_open_file(path: &Path, file: &File) -> Result<()> {
    let meta = file.metadata().map_err(io_err(FileOp::Inspect, path))?;
    check(path, &meta, EntryKind::File)
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Checks that the directory holding `path` exists and is trusted: a file in a directory others
/// can write could be swapped between any two calls.
pub(crate) fn check_parent(path: &Path) -> Result<()> {
    let dir = parent_of(path);
    match check_path(dir, EntryKind::Directory)? {
        Some(_) => Ok(()),
        None => Err(Error::Io {
            op: FileOp::Inspect,
            path: dir.to_path_buf(),
            source: std::io::Error::from_raw_os_error(libc::ENOENT),
        }),
    }
}
