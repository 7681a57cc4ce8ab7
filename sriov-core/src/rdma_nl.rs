//! The kernel's [`RdmaOps`] backend: RDMA netlink (`NETLINK_RDMA`, nldev) through the `rdma-nl`
//! crate, with namespaces entered by file descriptor (cargo feature `netlink`).
//!
//! [`RdmaNetlinkOps`] maps each call onto an [`rdma_nl::Handle`] opened inside the namespace it
//! concerns (by `rdma_nl::in_netns`, on a thread of its own that entered it with `setns(2)`):
//! the mode is read and set from the host's namespace, devices are listed from the namespace
//! asked for, and a device is moved from the namespace it is in (where it is visible under its
//! name) with `RDMA_NLDEV_CMD_SET` and `RDMA_NLDEV_NET_NS_FD`, the target namespace's file.
//!
//! Errors are `io::Error`s: the kernel's refusals keep its errno (`EBUSY`, `EOPNOTSUPP`...); a
//! namespace file that does not exist is `ENOENT`. A kernel without RDMA netlink refuses the
//! socket with `EPROTONOSUPPORT`: that is an [`io::ErrorKind::Unsupported`] error wrapping
//! [`rdma_nl::Error::NoRdmaNetlink`], whose message names the request and says "this kernel
//! has no RDMA netlink"; [`rdma_nl::errno_of`] (and [`HostError::errno`](crate::HostError::errno))
//! give its errno, `EPROTONOSUPPORT`. A device not visible in `from` is `ENODEV` the same way.
//!
//! ```no_run
//! use sriov_core::rdma_nl::RdmaNetlinkOps;
//! use sriov_core::{Named, Netns, RdmaNetnsMode};
//!
//! let rdma = Named(RdmaNetlinkOps::new()?);
//! match rdma.netns_mode() {
//!     Ok(mode) => println!("netns {mode}"),
//!     // read the RDMA netns mode of the RDMA subsystem: RDMA_NLDEV_CMD_SYS_GET: this kernel
//!     // has no RDMA netlink (...)
//!     Err(e) => eprintln!("{e}"),
//! }
//! rdma.move_device(&Netns::Host, "mlx5_3", &Netns::named("pod1"))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rdma_nl::system::NetnsMode;
use rdma_nl::{NetnsFile, in_netns};

use crate::{Netns, RdmaNetnsMode, RdmaOps};

/// [`RdmaOps`] over RDMA netlink. Holds one open file, the host's namespace.
#[derive(Debug)]
pub struct RdmaNetlinkOps {
    host: NetnsFile,
}

impl RdmaNetlinkOps {
    /// A backend whose host namespace is the one this process is in now. Opening no socket,
    /// it succeeds on a kernel without RDMA netlink; the calls then fail.
    pub fn new() -> io::Result<Self> {
        Ok(RdmaNetlinkOps {
            host: NetnsFile::own().map_err(rdma_nl::Error::from)?,
        })
    }

    /// A backend whose [`Netns::Host`] is the namespace file `path`.
    pub fn with_host_netns(path: &Path) -> io::Result<Self> {
        Ok(RdmaNetlinkOps {
            host: NetnsFile::open(path).map_err(rdma_nl::Error::from)?,
        })
    }

    /// Calls `f` with the namespace file of `ns`: the host's (kept open) or one opened now.
    fn with_ns<T>(
        &self,
        ns: &Netns,
        f: impl FnOnce(&NetnsFile) -> Result<T, rdma_nl::Error>,
    ) -> Result<T, rdma_nl::Error> {
        match ns {
            Netns::Host => f(&self.host),
            Netns::Path(path) => f(&NetnsFile::open(path)?),
        }
    }
}

/// Where namespace files are: the bind mounts `ip netns add` makes, then each process's.
fn namespace_files() -> Vec<PathBuf> {
    let dir_entries = |dir: &str| -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        paths.sort();
        paths
    };
    let mut files = dir_entries("/var/run/netns");
    let mut pids: Vec<u32> = dir_entries("/proc")
        .iter()
        .filter_map(|p| p.file_name()?.to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    files.extend(
        pids.iter()
            .map(|pid| PathBuf::from(format!("/proc/{pid}/ns/net"))),
    );
    files
}

impl RdmaOps for RdmaNetlinkOps {
    /// Every namespace a bind mount under `/var/run/netns` or a process holds, other than the
    /// host's, by its first file (a name under `/var/run/netns` before a `/proc/<pid>/ns/net`).
    /// Namespaces held only by an open descriptor are not seen.
    fn other_namespaces(&self) -> io::Result<Vec<Netns>> {
        let host = nix::sys::stat::fstat(std::os::fd::AsFd::as_fd(&self.host))?;
        let host = (host.st_dev, host.st_ino);
        let mut found: BTreeMap<(u64, u64), PathBuf> = BTreeMap::new();
        for file in namespace_files() {
            // a process that exited meanwhile, or a file that is no namespace: not one
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            // every namespace file is on nsfs, the host's too: a stale file under
            // /var/run/netns (no namespace mounted on it) is not
            let id = (meta.dev(), meta.ino());
            if id.0 == host.0 && id != host {
                found.entry(id).or_insert(file);
            }
        }
        let mut namespaces: Vec<Netns> = found.into_values().map(Netns::Path).collect();
        namespaces.sort_by_key(ToString::to_string);
        Ok(namespaces)
    }

    fn netns_mode(&self) -> io::Result<RdmaNetnsMode> {
        let mode = in_netns(&self.host, |rdma| rdma.netns_mode())?;
        match mode {
            NetnsMode::Exclusive => Ok(RdmaNetnsMode::Exclusive),
            NetnsMode::Shared => Ok(RdmaNetnsMode::Shared),
            // Handle::netns_mode refuses these already; a mode added later lands here
            other => Err(rdma_nl::Error::UnknownNetnsMode {
                request: rdma_nl::system::get().name,
                value: other.to_wire(),
            }
            .into()),
        }
    }

    fn set_netns_mode(&self, mode: RdmaNetnsMode) -> io::Result<()> {
        let mode = match mode {
            RdmaNetnsMode::Shared => NetnsMode::Shared,
            RdmaNetnsMode::Exclusive => NetnsMode::Exclusive,
        };
        Ok(in_netns(&self.host, |rdma| rdma.set_netns_mode(mode))?)
    }

    fn devices(&self, ns: &Netns) -> io::Result<Vec<String>> {
        let mut names: Vec<String> = self.with_ns(ns, |file| {
            in_netns(file, |rdma| {
                Ok(rdma.devices()?.into_iter().map(|d| d.name).collect())
            })
        })?;
        names.sort();
        Ok(names)
    }

    fn move_device(&self, from: &Netns, ibdev: &str, to: &Netns) -> io::Result<()> {
        self.with_ns(to, |target| {
            self.with_ns(from, |source| {
                in_netns(source, |rdma| {
                    let dev = rdma.device_by_name(ibdev)?;
                    rdma.set_netns(dev.index, target)
                })
            })
        })
        .map_err(io::Error::from)
    }
}
