//! The simulated host: one kernel model shared by every view of it (sysfs per namespace,
//! netlink), with faults and a log of what was done to it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use sriov_core::{EntryKind, Netns, Sysfs};

use crate::faults::{Fault, FaultOp, Faults};
use crate::model::{HOST_NS, Model, Namespace, NetdevKind, NsId};
use crate::project::project;
use crate::vfs::{Node, Value, Vfs, WriteHook};

fn errno(e: i32) -> io::Error {
    io::Error::from_raw_os_error(e)
}

/// One mutating operation done to the host and its outcome (the recording side of the test
/// double).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRecord {
    /// What was done (`write`, `rename_link`, `set_vf_vlan`, ...).
    pub op: String,
    /// To what (a path, a link, `<pf>/vf<N>`).
    pub target: String,
    /// The value or argument.
    pub arg: String,
    /// The errno it failed with, if it did.
    pub errno: Option<i32>,
}

pub(crate) struct Inner {
    pub(crate) model: Model,
    vfs: Option<Vfs>,
    pub(crate) faults: Faults,
    pub(crate) log: Vec<OpRecord>,
}

impl Inner {
    pub(crate) fn vfs(&mut self) -> &Vfs {
        if self.vfs.is_none() {
            self.vfs = Some(project(&self.model));
        }
        self.vfs.get_or_insert_with(Vfs::new)
    }

    /// Marks the projection stale after a change to the model.
    pub(crate) fn changed(&mut self) {
        self.vfs = None;
    }

    pub(crate) fn record(&mut self, op: &str, target: &str, arg: &str, result: &Result<(), i32>) {
        self.log.push(OpRecord {
            op: op.to_string(),
            target: target.to_string(),
            arg: arg.to_string(),
            errno: result.err(),
        });
    }

    pub(crate) fn ns_of(&self, ns: &Netns) -> io::Result<NsId> {
        match ns {
            Netns::Host => Ok(HOST_NS),
            Netns::Path(p) => self.model.ns_by_path(p).ok_or_else(|| errno(libc::ENOENT)),
        }
    }
}

/// A simulated host. Cheap to clone: clones share one kernel.
#[derive(Clone)]
pub struct SimHost {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for SimHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHost").finish_non_exhaustive()
    }
}

impl SimHost {
    /// A host running `model`.
    pub fn from_model(model: Model) -> Self {
        let faults = Faults::new(model.seed);
        SimHost {
            inner: Arc::new(Mutex::new(Inner {
                model,
                vfs: None,
                faults,
                log: Vec::new(),
            })),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The host namespace's sysfs.
    pub fn sysfs(&self) -> SimSysfs {
        SimSysfs {
            host: self.clone(),
            ns: HOST_NS,
        }
    }

    /// The sysfs of namespace `ns` (what a process inside it sees after mounting sysfs).
    pub fn sysfs_in(&self, ns: &Netns) -> io::Result<SimSysfs> {
        let id = self.lock().ns_of(ns)?;
        Ok(SimSysfs {
            host: self.clone(),
            ns: id,
        })
    }

    /// Netlink operations on this host.
    pub fn net_ops(&self) -> crate::netops::SimNetOps {
        crate::netops::SimNetOps::new(self.clone())
    }

    /// A snapshot of the kernel state.
    pub fn model(&self) -> Model {
        self.lock().model.clone()
    }

    /// Changes the kernel state directly (test setup; not a kernel interface).
    pub fn with_model<T>(&self, change: impl FnOnce(&mut Model) -> T) -> T {
        let mut inner = self.lock();
        let out = change(&mut inner.model);
        inner.changed();
        out
    }

    /// Creates a network namespace as `ip netns add <name>` does (with its own `lo`).
    pub fn add_netns(&self, name: &str) -> io::Result<Netns> {
        let netns = Netns::named(name);
        let Netns::Path(path) = &netns else {
            return Err(errno(libc::EINVAL));
        };
        let mut inner = self.lock();
        if name.is_empty() || name.contains('/') {
            return Err(errno(libc::EINVAL));
        }
        if inner.model.ns_by_path(path).is_some() {
            return Err(errno(libc::EEXIST));
        }
        let id = inner.model.next_ns;
        inner.model.next_ns += 1;
        inner.model.namespaces.insert(
            id,
            Namespace {
                path: Some(path.clone()),
                routes: Vec::new(),
            },
        );
        inner.model.add_loopback(id);
        inner.changed();
        Ok(netns)
    }

    /// Deletes a namespace as the kernel does when its last user goes: physical (PCI) netdevs
    /// return to the host, renamed `dev<N>` if their name is taken there; virtual ones (and
    /// both ends of a veth) are destroyed.
    pub fn del_netns(&self, ns: &Netns) -> io::Result<()> {
        let mut inner = self.lock();
        let id = inner.ns_of(ns)?;
        if id == HOST_NS {
            return Err(errno(libc::EINVAL));
        }
        let model = &mut inner.model;
        let members: Vec<u32> = model
            .netdevs
            .values()
            .filter(|d| d.ns == id)
            .map(|d| d.ifindex)
            .collect();
        for ifindex in members {
            let Some(dev) = model.netdevs.get(&ifindex).cloned() else {
                continue;
            };
            match dev.kind {
                NetdevKind::Pci(_) => {
                    let name = if model.netdev_by_name(HOST_NS, &dev.name).is_some() {
                        (0..)
                            .map(|n| format!("dev{n}"))
                            .find(|n| model.netdev_by_name(HOST_NS, n).is_none())
                    } else {
                        Some(dev.name.clone())
                    };
                    if let Some(d) = model.netdevs.get_mut(&ifindex) {
                        d.ns = HOST_NS;
                        d.admin_up = false;
                        d.addresses.clear();
                        if let Some(name) = name {
                            d.name = name;
                        }
                    }
                }
                NetdevKind::Veth { peer } => {
                    model.netdevs.remove(&ifindex);
                    model.netdevs.remove(&peer);
                }
                NetdevKind::Loopback => {
                    model.netdevs.remove(&ifindex);
                }
            }
        }
        model.rdma_netns_deleted(id);
        model.namespaces.remove(&id);
        inner.changed();
        Ok(())
    }

    /// Every namespace other than the host's.
    pub fn namespaces(&self) -> Vec<Netns> {
        self.lock()
            .model
            .namespaces
            .values()
            .filter_map(|n| n.path.clone().map(Netns::Path))
            .collect()
    }

    /// Plugs or unplugs the cable of the PF with netdev `pf_ifname`'s port (by PCI address).
    pub fn set_physical_link(&self, pf: sriov_core::PciAddress, up: bool) -> io::Result<()> {
        let mut inner = self.lock();
        let nic = inner.model.nic_mut(pf).ok_or_else(|| errno(libc::ENODEV))?;
        nic.link_up = up;
        inner.changed();
        Ok(())
    }

    /// Adds a fault.
    pub fn inject(&self, fault: Fault) {
        self.lock().faults.add(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Every mutating operation so far.
    pub fn op_log(&self) -> Vec<OpRecord> {
        self.lock().log.clone()
    }

    /// Saves the kernel state as JSON (a host several processes can share; see [`Self::load`]).
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let text = serde_json::to_vec_pretty(&self.lock().model).map_err(io::Error::other)?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)
    }

    /// Loads a host saved with [`Self::save`].
    pub fn load(path: &Path) -> io::Result<Self> {
        let text = std::fs::read(path)?;
        let model: Model = serde_json::from_slice(&text)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(SimHost::from_model(model))
    }

    /// Renders namespace `ns`'s view of sysfs under `dir` (so that `dir/sys/...` reads like
    /// `/sys`). See the crate docs for what a rendered tree can and cannot show.
    pub fn render(&self, dir: &Path, ns: &Netns) -> io::Result<()> {
        let mut inner = self.lock();
        let id = inner.ns_of(ns)?;
        let vfs = inner.vfs().clone();
        drop(inner);
        crate::render::render(&vfs, id, dir)
    }
}

/// One namespace's view of the simulated sysfs; implements [`Sysfs`].
#[derive(Clone, Debug)]
pub struct SimSysfs {
    host: SimHost,
    ns: NsId,
}

impl SimSysfs {
    /// The host this view belongs to.
    pub fn host(&self) -> &SimHost {
        &self.host
    }
}

fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

impl Sysfs for SimSysfs {
    fn read(&self, path: &Path) -> io::Result<String> {
        let mut inner = self.host.lock();
        if let Some(e) = inner.faults.check(FaultOp::Read, &path_str(path)) {
            return Err(errno(e));
        }
        match inner.vfs().lookup(path, self.ns, true)? {
            Node::Dir(_) => Err(errno(libc::EISDIR)),
            Node::Link(_) => Err(errno(libc::ELOOP)),
            Node::File(f) if !f.readable => Err(errno(libc::EACCES)),
            Node::File(f) => match &f.value {
                Value::Text(t) => Ok(t.clone()),
                Value::Errno(e) => Err(errno(*e)),
            },
        }
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        let mut inner = self.host.lock();
        let target = path_str(path);
        if let Some(e) = inner.faults.check(FaultOp::Write, &target) {
            inner.record("write", &target, value, &Err(e));
            return Err(errno(e));
        }
        let hook = match inner.vfs().lookup(path, self.ns, true)? {
            Node::Dir(_) => return Err(errno(libc::EISDIR)),
            Node::Link(_) => return Err(errno(libc::ELOOP)),
            Node::File(f) => f.write.clone().ok_or_else(|| errno(libc::EACCES))?,
        };
        let model = &mut inner.model;
        let result = match hook {
            WriteHook::SriovNumvfs(pf) => model.write_sriov_numvfs(pf, value),
            WriteHook::SriovAutoprobe(pf) => model.write_autoprobe(pf, value),
            WriteHook::DriverBind(d) => model.write_bind(&d, value),
            WriteHook::DriverUnbind(d) => model.write_unbind(&d, value),
            WriteHook::Ignore => Ok(()),
        };
        inner.record("write", &target, value, &result);
        inner.changed();
        result.map_err(errno)
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        let mut inner = self.host.lock();
        if let Some(e) = inner.faults.check(FaultOp::ReadLink, &path_str(path)) {
            return Err(errno(e));
        }
        match inner.vfs().lookup(path, self.ns, false)? {
            Node::Link(target) => Ok(target.clone()),
            _ => Err(errno(libc::EINVAL)),
        }
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut inner = self.host.lock();
        if let Some(e) = inner.faults.check(FaultOp::ReadDir, &path_str(path)) {
            return Err(errno(e));
        }
        let ns = self.ns;
        let vfs = inner.vfs();
        let comps = vfs.resolve(path, ns, true)?;
        match vfs.dir_at(&comps, ns) {
            Some(dir) => Ok(dir.names(ns)),
            None => Err(errno(libc::ENOTDIR)),
        }
    }

    fn entry_kind(&self, path: &Path) -> io::Result<EntryKind> {
        let mut inner = self.host.lock();
        Ok(match inner.vfs().lookup(path, self.ns, false)? {
            Node::Dir(_) => EntryKind::Dir,
            Node::File(_) => EntryKind::File,
            Node::Link(_) => EntryKind::Link,
        })
    }
}
