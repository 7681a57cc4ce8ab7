//! What the engine works on: the three host traits of `sriov-core` and the namespaces it
//! needs besides them ([`Namespaces`]: whether a pod's namespace still exists, and a temporary
//! namespace to rename a netdev in).
//!
//! [`KernelNamespaces`] is the real one: a temporary namespace belongs to a thread of the
//! plugin that `unshare`s it and waits, named `/proc/<pid>/task/<tid>/ns/net`, so it cannot
//! outlive the process: a plugin killed with a netdev in it leaves nothing to clean up (the
//! kernel returns a physical netdev to the host when its namespace dies, and a simulated
//! host's proxy does the same). With the `sim` feature, [`SimNamespaces`] does the same on an
//! in-process `sysfs-sim` host.

use std::io;
use std::path::Path;

use sriov_core::{NetOps, Netns, RdmaOps, Sysfs};

/// A temporary namespace, deleted when dropped.
pub trait TemporaryNetns: Send {
    /// The namespace.
    fn netns(&self) -> &Netns;
}

/// Namespace operations the host traits do not have.
pub trait Namespaces: Send + Sync {
    /// True while `ns` exists (the host's always).
    fn exists(&self, ns: &Netns) -> bool;
    /// A new empty namespace, deleted when the returned value is dropped. `hint` is a short
    /// name for it where the backend names namespaces (unique per VF).
    fn create_temporary(&self, hint: &str) -> io::Result<Box<dyn TemporaryNetns>>;
}

/// The host traits the engine drives, and its namespaces.
pub struct Host {
    /// The host namespace's sysfs.
    pub sysfs: Box<dyn Sysfs>,
    /// Links and VF tables.
    pub net: Box<dyn NetOps>,
    /// RDMA netns mode and device moves.
    pub rdma: Box<dyn RdmaOps>,
    /// Namespace liveness and temporary namespaces.
    pub namespaces: Box<dyn Namespaces>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").finish_non_exhaustive()
    }
}

impl Host {
    /// The backends `sriov_core::node::Backends::open` chose for a node, with the kernel's
    /// namespaces (a simulated host's proxy adopts them by path).
    pub fn from_backends(backends: sriov_core::node::Backends) -> Self {
        Host {
            sysfs: Box::new(backends.sysfs),
            net: backends.net,
            rdma: backends.rdma,
            namespaces: Box::new(KernelNamespaces),
        }
    }

    /// An in-process simulated host (its host-namespace sysfs, netlink and RDMA netlink).
    #[cfg(feature = "sim")]
    pub fn simulated(sim: &sysfs_sim::SimHost) -> Self {
        Host {
            sysfs: Box::new(sim.sysfs()),
            net: Box::new(sim.net_ops()),
            rdma: Box::new(sim.rdma_ops()),
            namespaces: Box::new(SimNamespaces(sim.clone())),
        }
    }
}

/// The kernel's namespaces: a namespace is alive while its file opens as a network namespace
/// (`nsfs`); temporary ones are held by a thread (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct KernelNamespaces;

const NSFS_MAGIC: libc::__fsword_t = 0x6e73_6673;

/// True when `path` is a network-namespace file (on `nsfs`: a bind mount or `/proc/.../ns/net`).
pub fn is_netns_file(path: &Path) -> bool {
    nix::sys::statfs::statfs(path).is_ok_and(|s| s.filesystem_type().0 == NSFS_MAGIC)
}

struct ThreadNetns {
    netns: Netns,
    release: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TemporaryNetns for ThreadNetns {
    fn netns(&self) -> &Netns {
        &self.netns
    }
}

impl Drop for ThreadNetns {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Namespaces for KernelNamespaces {
    fn exists(&self, ns: &Netns) -> bool {
        match ns {
            Netns::Host => true,
            Netns::Path(p) => is_netns_file(p),
        }
    }

    fn create_temporary(&self, _hint: &str) -> io::Result<Box<dyn TemporaryNetns>> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<i32>>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sriov-tmp-netns".into())
            .spawn(move || {
                // only this thread changes namespace; it does nothing else and ends when
                // the namespace is released, which deletes it
                let made = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
                    .map(|()| nix::unistd::gettid().as_raw())
                    .map_err(io::Error::from);
                let ok = made.is_ok();
                let _ = ready_tx.send(made);
                if ok {
                    let _ = release_rx.recv();
                }
            })?;
        let tid = match ready_rx.recv() {
            Ok(Ok(tid)) => tid,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => return Err(io::Error::other("temporary namespace thread died")),
        };
        let path = format!("/proc/{}/task/{tid}/ns/net", std::process::id());
        Ok(Box::new(ThreadNetns {
            netns: Netns::Path(path.into()),
            release: Some(release_tx),
            thread: Some(thread),
        }))
    }
}

/// The namespaces of an in-process `sysfs-sim` host: alive while the host has them;
/// temporary ones made with `SimHost::add_netns` and deleted (as the kernel deletes a
/// namespace, returning its physical netdevs to the host) when dropped.
#[cfg(feature = "sim")]
#[derive(Debug, Clone)]
pub struct SimNamespaces(pub sysfs_sim::SimHost);

#[cfg(feature = "sim")]
struct SimTemporary {
    host: sysfs_sim::SimHost,
    netns: Netns,
}

#[cfg(feature = "sim")]
impl TemporaryNetns for SimTemporary {
    fn netns(&self) -> &Netns {
        &self.netns
    }
}

#[cfg(feature = "sim")]
impl Drop for SimTemporary {
    fn drop(&mut self) {
        let _ = self.host.del_netns(&self.netns);
    }
}

#[cfg(feature = "sim")]
impl Namespaces for SimNamespaces {
    fn exists(&self, ns: &Netns) -> bool {
        self.0.has_netns(ns)
    }

    fn create_temporary(&self, hint: &str) -> io::Result<Box<dyn TemporaryNetns>> {
        let name = format!("sriov-tmp-{hint}");
        let netns = match self.0.add_netns(&name) {
            Ok(ns) => ns,
            // left by an engine that was dropped without unwinding: reuse it
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Netns::named(&name),
            Err(e) => return Err(e),
        };
        Ok(Box::new(SimTemporary {
            host: self.0.clone(),
            netns,
        }))
    }
}
