//! The simulated host: one kernel model shared by every view of it (sysfs per namespace,
//! netlink, RDMA netlink), with faults and a log of what was done to it.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use sriov_core::{Netns, PciAddress};

use crate::faults::{Fault, Faults};
use crate::kernel::{Errno, PhysicalLink, io_error};
use crate::model::{HOST_NS, Model};
use crate::op_log::{LogMark, Op, OpRecord};
use crate::project::project;
use crate::sysfs::SimSysfs;
use crate::tree::SysfsTree;

/// Everything a simulated host holds: the kernel state, its sysfs projection (built on demand,
/// dropped on every change), the injected faults and the operation log.
pub(crate) struct HostState {
    pub(crate) model: Model,
    tree: Option<SysfsTree>,
    faults: Faults,
    log: Vec<OpRecord>,
}

impl HostState {
    /// The sysfs projection of the current state.
    pub(crate) fn tree(&mut self) -> &SysfsTree {
        self.tree.get_or_insert_with(|| project(&self.model))
    }

    /// Marks the projection stale after a change to the model.
    pub(crate) fn changed(&mut self) {
        self.tree = None;
    }

    /// The errno of an injected fault for a read-only operation, if one fires.
    pub(crate) fn read_fault(&mut self, op: crate::FaultOp, target: &str) -> Option<Errno> {
        self.faults.check(op, target)
    }

    /// Runs one mutating operation: an injected fault for it, if one fires, fails it before it
    /// reaches the kernel; otherwise `perform` does it. Either way it is logged with its
    /// outcome and the projection is marked stale.
    pub(crate) fn execute<T>(
        &mut self,
        op: Op,
        perform: impl FnOnce(&mut HostState) -> Result<T, Errno>,
    ) -> io::Result<T> {
        let fault = op
            .fault_point()
            .and_then(|(fault_op, target)| self.faults.check(fault_op, &target));
        let result = match fault {
            Some(errno) => Err(errno),
            None => perform(self),
        };
        self.log.push(OpRecord {
            op,
            errno: result.as_ref().err().copied(),
        });
        self.changed();
        result.map_err(io_error)
    }
}

/// The sysfs of each namespace, for a host-ops proxy serving this host
/// ([`sriov_core::host_proxy`]): ENOENT for a namespace the host does not have.
impl sriov_core::host_proxy::NamespacedSysfs for SimHost {
    fn sysfs_for(&self, ns: &Netns) -> io::Result<Box<dyn sriov_core::Sysfs>> {
        Ok(Box::new(self.sysfs_in(ns)?))
    }
}

/// A simulated host. Cheap to clone: clones share one kernel.
#[derive(Clone)]
pub struct SimHost {
    state: Arc<Mutex<HostState>>,
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
            state: Arc::new(Mutex::new(HostState {
                model,
                tree: None,
                faults,
                log: Vec::new(),
            })),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, HostState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The host namespace's sysfs.
    pub fn sysfs(&self) -> SimSysfs {
        SimSysfs::new(self.clone(), HOST_NS)
    }

    /// The sysfs of namespace `ns` (what a process inside it sees after mounting sysfs);
    /// ENOENT for a missing namespace.
    pub fn sysfs_in(&self, ns: &Netns) -> io::Result<SimSysfs> {
        let id = self.lock().model.ns_id(ns).map_err(io_error)?;
        Ok(SimSysfs::new(self.clone(), id))
    }

    /// Netlink operations on this host.
    pub fn net_ops(&self) -> crate::netops::SimNetOps {
        crate::netops::SimNetOps::new(self.clone())
    }

    /// A snapshot of the kernel state.
    pub fn model(&self) -> Model {
        self.lock().model.clone()
    }

    /// Changes the kernel state directly (test setup; not a kernel interface, not logged).
    pub fn with_model<T>(&self, change: impl FnOnce(&mut Model) -> T) -> T {
        let mut state = self.lock();
        let out = change(&mut state.model);
        state.changed();
        out
    }

    /// Creates a network namespace as `ip netns add <name>` does (with its own `lo`); see
    /// [`Model::add_netns`] for the errors.
    pub fn add_netns(&self, name: &str) -> io::Result<Netns> {
        let op = Op::AddNetns {
            name: name.to_string(),
        };
        self.lock().execute(op, |s| s.model.add_netns(name))
    }

    /// Adds the namespace whose file is `path`, made by someone else (a container runtime), as
    /// the host learns of it; see [`Model::attach_netns`]. Logged as [`Op::AttachNetns`].
    pub fn attach_netns(&self, path: &Path) -> io::Result<Netns> {
        let op = Op::AttachNetns {
            path: path.to_path_buf(),
        };
        self.lock().execute(op, |s| s.model.attach_netns(path))
    }

    /// Deletes a namespace as the kernel does when its last user goes: physical (PCI) netdevs
    /// return to the host, renamed `dev<N>` if their name is taken there; virtual ones (and
    /// both ends of a veth) are destroyed. See [`Model::del_netns`].
    pub fn del_netns(&self, ns: &Netns) -> io::Result<()> {
        let op = Op::DelNetns { ns: ns.clone() };
        self.lock().execute(op, |s| s.model.del_netns(ns))
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

    /// Plugs or unplugs the cable of the PF at `pf` (ENODEV when it is not a NIC function).
    /// The world acting on the host, not an operation done to it: not logged.
    pub fn set_physical_link(&self, pf: PciAddress, link: PhysicalLink) -> io::Result<()> {
        let mut state = self.lock();
        let result = state.model.set_physical_link(pf, link);
        state.changed();
        result.map_err(io_error)
    }

    /// The PCI function behind link `name` in `ns`, if it is a PF's or VF's netdev.
    pub fn pci_of_link(&self, ns: &Netns, name: &str) -> Option<PciAddress> {
        self.lock().model.pci_of_link(ns, name)
    }

    /// Adds a fault.
    pub fn inject(&self, fault: Fault) {
        self.lock().faults.add(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Every mutating operation so far, oldest first, with its outcome.
    pub fn op_log(&self) -> Vec<OpRecord> {
        self.lock().log.clone()
    }

    /// The current end of the operation log: [`Self::ops_since`] with it returns what happens
    /// from now on.
    pub fn log_mark(&self) -> LogMark {
        LogMark(self.lock().log.len())
    }

    /// The operations done since `mark` was taken, oldest first (nothing for a mark taken on
    /// another host whose log is shorter).
    ///
    /// ```
    /// use sriov_core::{NetOps, Netns};
    /// use sysfs_sim::{AdminState, Op, OpRecord, Preset};
    /// let host = Preset::Reference.build(1).unwrap();
    /// let net = host.net_ops();
    /// let mark = host.log_mark();
    /// net.set_link_up(&Netns::Host, "ens2f0v0", true).unwrap();
    /// let err = net.rename_link(&Netns::Host, "ens2f0v0", "net1").unwrap_err();
    /// assert_eq!(err.raw_os_error(), Some(libc::EBUSY)); // Linux 6.1: up links keep their name
    /// assert_eq!(host.ops_since(mark), [
    ///     OpRecord::ok(Op::SetLinkAdmin {
    ///         ns: Netns::Host,
    ///         link: "ens2f0v0".into(),
    ///         state: AdminState::Up,
    ///     }),
    ///     OpRecord {
    ///         op: Op::RenameLink { ns: Netns::Host, from: "ens2f0v0".into(), to: "net1".into() },
    ///         errno: Some(libc::EBUSY),
    ///     },
    /// ]);
    /// ```
    pub fn ops_since(&self, mark: LogMark) -> Vec<OpRecord> {
        self.lock().log.get(mark.0..).unwrap_or_default().to_vec()
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

    /// True when the host has namespace `ns` (the host's always).
    pub fn has_netns(&self, ns: &Netns) -> bool {
        self.lock().model.ns_id(ns).is_ok()
    }

    /// Renders namespace `ns`'s view of sysfs under `dir` (so that `dir/sys/...` reads like
    /// `/sys`). See the crate docs for what a rendered tree can and cannot show.
    pub fn render(&self, dir: &Path, ns: &Netns) -> io::Result<()> {
        let mut state = self.lock();
        let id = state.model.ns_id(ns).map_err(io_error)?;
        let tree = state.tree().clone();
        drop(state);
        crate::render::render(&tree, id, dir)
    }
}
