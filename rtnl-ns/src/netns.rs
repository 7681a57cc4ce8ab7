//! Network namespaces by file descriptor: a namespace file opened once, and work run inside it
//! on a thread of its own that enters it with `setns(2)` and ends with the work, so no caller's
//! thread ever changes namespace. Sockets made there (rtnetlink, packet, UDP...) stay in that
//! namespace for their whole life and can be used from any thread afterwards.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::sched::{CloneFlags, setns};
use nix::sys::stat::{fstat, stat};

use crate::{Error, Handle};

/// The calling thread's own namespace file.
const THREAD_NETNS: &str = "/proc/thread-self/ns/net";

/// An open network namespace file: `/var/run/netns/<name>`, `/proc/<pid>/ns/net`, a CNI
/// `CNI_NETNS`. Holding it keeps the namespace alive.
///
/// ```no_run
/// use rtnl_ns::NetnsFile;
///
/// let pod = NetnsFile::open("/var/run/netns/pod1")?;
/// let links = pod.run_rtnl(|rtnl| rtnl.links())?;
/// // any work, not only netlink: a UDP socket bound inside the pod's namespace
/// let sock = pod.run(|| std::net::UdpSocket::bind("0.0.0.0:0"))??;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct NetnsFile {
    file: File,
    path: PathBuf,
}

impl NetnsFile {
    /// Opens the namespace file `path` (`ENOENT` when there is no such namespace).
    pub fn open(path: impl Into<PathBuf>) -> Result<NetnsFile, Error> {
        let path = path.into();
        match File::open(&path) {
            Ok(file) => Ok(NetnsFile { file, path }),
            Err(source) => Err(Error::OpenNetns { path, source }),
        }
    }

    /// The namespace this process is in now (`/proc/self/ns/net`), kept open: it stays this
    /// one even if the process later moves.
    pub fn own() -> Result<NetnsFile, Error> {
        NetnsFile::open("/proc/self/ns/net")
    }

    /// The file it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the calling thread already is in this namespace (same nsfs device and inode).
    pub fn contains_caller(&self) -> bool {
        match (fstat(self.file.as_fd()), stat(THREAD_NETNS)) {
            (Ok(ns), Ok(own)) => ns.st_dev == own.st_dev && ns.st_ino == own.st_ino,
            _ => false,
        }
    }

    /// Runs `work` inside this namespace and returns what it returns: on the caller when it
    /// already is in it, else on a scoped thread that enters it with `setns` and ends with the
    /// work. A panic in `work` is resumed on the caller.
    pub fn run<T, F>(&self, work: F) -> Result<T, Error>
    where
        T: Send,
        F: FnOnce() -> T + Send,
    {
        if self.contains_caller() {
            return Ok(work());
        }
        let enter_err = |source| Error::EnterNetns {
            path: self.path.clone(),
            source,
        };
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("rtnl-netns".into())
                .spawn_scoped(scope, || {
                    setns(self.file.as_fd(), CloneFlags::CLONE_NEWNET)
                        .map_err(|e| enter_err(e.into()))?;
                    Ok(work())
                })
                .map_err(enter_err)?;
            worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// Runs `work` with an rtnetlink [`Handle`] opened inside this namespace.
    pub fn run_rtnl<T, F>(&self, work: F) -> Result<T, Error>
    where
        T: Send,
        F: FnOnce(&mut Handle) -> Result<T, Error> + Send,
    {
        self.run(|| work(&mut Handle::open()?))?
    }
}

impl AsFd for NetnsFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl AsRawFd for NetnsFile {
    /// The descriptor [`LinkSet::netns_fd`](crate::link::LinkSet::netns_fd) names.
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}
