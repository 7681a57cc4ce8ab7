//! Namespaces the shared host learned of, held open: a namespace a caller names by its file
//! (`/var/run/netns/<name>`, `/proc/<pid>/ns/net`) is opened once and kept open, so that it
//! stays alive while it holds simulated netdevs (a veth in a dying namespace would be
//! destroyed; a VF is handed back to the host). When the file is gone, or names another
//! namespace, the namespace counts as deleted.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sriov_core::Netns;

/// An open namespace file.
#[derive(Debug)]
pub(crate) struct HeldNetns {
    /// The path callers name it by.
    pub(crate) path: PathBuf,
    file: File,
    dev: u64,
    ino: u64,
}

impl HeldNetns {
    /// Opens the namespace file at `path`: ENOENT when it is missing, EINVAL when it is not a
    /// network namespace.
    pub(crate) fn open(path: &Path) -> io::Result<HeldNetns> {
        let file = File::open(path)?;
        // setns(2) refuses (EINVAL) any file that is not a network namespace; a thread of its
        // own tries it and ends, so no thread of the host ever changes namespace
        std::thread::scope(|s| {
            s.spawn(|| nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET))
                .join()
                .unwrap_or(Err(nix::errno::Errno::EINVAL))
        })
        .map_err(io::Error::from)?;
        let meta = file.metadata()?;
        Ok(HeldNetns {
            path: path.to_path_buf(),
            file,
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    /// True while `path` still names this namespace.
    pub(crate) fn is_current(&self) -> bool {
        std::fs::metadata(&self.path).is_ok_and(|m| m.dev() == self.dev && m.ino() == self.ino)
    }

    /// The namespace as callers name it.
    pub(crate) fn netns(&self) -> Netns {
        Netns::Path(self.path.clone())
    }

    /// A path that reaches the namespace through the open file, valid in this process even
    /// after the caller's path is gone.
    pub(crate) fn fd_path(&self) -> Netns {
        Netns::Path(PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            self.file.as_raw_fd()
        )))
    }
}
