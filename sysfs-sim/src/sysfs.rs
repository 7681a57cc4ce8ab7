//! The simulator's [`Sysfs`]: one namespace's view of the projected tree. Reads come from the
//! projection; a write goes to the kernel handler of the attribute it resolves to.

use std::io;
use std::path::{Path, PathBuf};

use sriov_core::{EntryKind, Sysfs};

use crate::faults::FaultOp;
use crate::host::{HostState, SimHost};
use crate::kernel::{Errno, io_error};
use crate::model::NsId;
use crate::op_log::Op;
use crate::tree::{FinalLink, Node, Value, WriteHook};

/// One namespace's view of the simulated sysfs; implements [`Sysfs`].
#[derive(Clone, Debug)]
pub struct SimSysfs {
    host: SimHost,
    ns: NsId,
}

impl SimSysfs {
    pub(crate) fn new(host: SimHost, ns: NsId) -> Self {
        SimSysfs { host, ns }
    }

    /// The host this view belongs to.
    pub fn host(&self) -> &SimHost {
        &self.host
    }
}

fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A write as sysfs answers it: the lookup's errno (ENOENT, ENOTDIR, ELOOP), EISDIR for a
/// directory, EACCES for a read-only attribute; otherwise what the attribute's kernel handler
/// answers.
fn write_attr(state: &mut HostState, ns: NsId, path: &Path, value: &str) -> Result<(), Errno> {
    let hook = match state.tree().lookup(path, ns, FinalLink::Follow)? {
        Node::Dir(_) => return Err(libc::EISDIR),
        Node::Link(_) => return Err(libc::ELOOP),
        Node::File(f) => f.write.clone().ok_or(libc::EACCES)?,
    };
    let model = &mut state.model;
    match hook {
        WriteHook::SriovNumvfs(pf) => model.write_sriov_numvfs(pf, value),
        WriteHook::SriovAutoprobe(pf) => model.write_autoprobe(pf, value),
        WriteHook::DriverBind(driver) => model.write_bind(&driver, value),
        WriteHook::DriverUnbind(driver) => model.write_unbind(&driver, value),
    }
}

impl SimSysfs {
    /// Answers a read-only request on the node at `path` (a link at its end followed as `last`
    /// says): an injected fault for `fault` fires first, then the lookup's errno, then `answer`.
    fn with_node<T>(
        &self,
        fault: FaultOp,
        path: &Path,
        last: FinalLink,
        answer: impl FnOnce(&Node) -> Result<T, Errno>,
    ) -> io::Result<T> {
        let mut state = self.host.lock();
        if let Some(e) = state.read_fault(fault, &path_str(path)) {
            return Err(io_error(e));
        }
        let node = state.tree().lookup(path, self.ns, last).map_err(io_error)?;
        answer(node).map_err(io_error)
    }
}

/// What a filesystem serving the tree needs of one entry, a final link not followed.
#[cfg(feature = "shared")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryMeta {
    /// A directory.
    Dir,
    /// A symbolic link.
    Link,
    /// An attribute: readable, and writable (it has a kernel handler).
    File {
        /// Reads succeed or fail with the attribute's errno (write-only ones: EACCES).
        readable: bool,
        /// A write goes to a kernel handler.
        writable: bool,
    },
}

#[cfg(feature = "shared")]
fn meta_of(node: &Node) -> EntryMeta {
    match node {
        Node::Dir(_) => EntryMeta::Dir,
        Node::Link(_) => EntryMeta::Link,
        Node::File(f) => EntryMeta::File {
            readable: f.readable,
            writable: f.write.is_some(),
        },
    }
}

#[cfg(feature = "shared")]
impl SimSysfs {
    /// The entry at `path`, a final link not followed.
    pub(crate) fn entry_meta(&self, path: &Path) -> io::Result<EntryMeta> {
        let mut state = self.host.lock();
        let node = state
            .tree()
            .lookup(path, self.ns, FinalLink::NoFollow)
            .map_err(io_error)?;
        Ok(meta_of(node))
    }

    /// The entries of the directory at `path` with their kinds, read at one instant.
    pub(crate) fn list_with_meta(&self, path: &Path) -> io::Result<Vec<(String, EntryMeta)>> {
        let mut state = self.host.lock();
        let ns = self.ns;
        let tree = state.tree();
        let comps = tree
            .resolve(path, ns, FinalLink::Follow)
            .map_err(io_error)?;
        let dir = tree
            .dir_at(&comps, ns)
            .ok_or_else(|| io_error(libc::ENOTDIR))?;
        Ok(dir
            .visible(ns)
            .map(|(name, node)| (name.to_string(), meta_of(node)))
            .collect())
    }
}

impl Sysfs for SimSysfs {
    fn read(&self, path: &Path) -> io::Result<String> {
        self.with_node(FaultOp::Read, path, FinalLink::Follow, |node| match node {
            Node::Dir(_) => Err(libc::EISDIR),
            Node::Link(_) => Err(libc::ELOOP),
            Node::File(f) if !f.readable => Err(libc::EACCES),
            Node::File(f) => match &f.value {
                Value::Text(t) => Ok(t.clone()),
                Value::Errno(e) => Err(*e),
            },
        })
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        let op = Op::WriteAttr {
            path: path.to_path_buf(),
            value: value.to_string(),
        };
        let ns = self.ns;
        self.host
            .lock()
            .execute(op, |state| write_attr(state, ns, path, value))
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.with_node(
            FaultOp::ReadLink,
            path,
            FinalLink::NoFollow,
            |node| match node {
                Node::Link(target) => Ok(target.clone()),
                _ => Err(libc::EINVAL),
            },
        )
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut state = self.host.lock();
        if let Some(e) = state.read_fault(FaultOp::ReadDir, &path_str(path)) {
            return Err(io_error(e));
        }
        let ns = self.ns;
        let tree = state.tree();
        let comps = tree
            .resolve(path, ns, FinalLink::Follow)
            .map_err(io_error)?;
        match tree.dir_at(&comps, ns) {
            Some(dir) => Ok(dir.names(ns)),
            None => Err(io_error(libc::ENOTDIR)),
        }
    }

    fn entry_kind(&self, path: &Path) -> io::Result<EntryKind> {
        let mut state = self.host.lock();
        let node = state
            .tree()
            .lookup(path, self.ns, FinalLink::NoFollow)
            .map_err(io_error)?;
        Ok(match node {
            Node::Dir(_) => EntryKind::Dir,
            Node::File(_) => EntryKind::File,
            Node::Link(_) => EntryKind::Link,
        })
    }
}
