//! The projected sysfs tree ([`SysfsTree`]): a small in-memory filesystem shaped like sysfs,
//! with directories, attribute files and relative symbolic links, where some entries belong to
//! one network namespace (`/sys/class/net/<if>`, a device's `net/<if>`) and are visible only in
//! that namespace's view. Paths resolve the way the kernel resolves them: links in the middle of
//! a path are followed, `..` after a link goes to the target's parent, 40 hops give ELOOP.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::kernel::Errno;
use crate::model::NsId;

/// Tag of entries visible in every namespace.
pub const ALL_NS: NsId = NsId::MAX;

/// What a write to an attribute does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteHook {
    /// `sriov_numvfs` of a PF.
    SriovNumvfs(sriov_core::PciAddress),
    /// `sriov_drivers_autoprobe` of a PF.
    SriovAutoprobe(sriov_core::PciAddress),
    /// `/sys/bus/pci/drivers/<driver>/bind`.
    DriverBind(String),
    /// `/sys/bus/pci/drivers/<driver>/unbind`.
    DriverUnbind(String),
}

/// Whether a lookup follows a symbolic link at the end of the path (links in the middle of a
/// path are always followed), as `stat` and `lstat` differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalLink {
    /// Follow it, as `stat`, `open` and `opendir` do.
    Follow,
    /// Return the link itself, as `lstat` and `readlink` do.
    NoFollow,
}

/// An attribute's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text as the kernel prints it.
    Text(String),
    /// Reading fails with this errno (e.g. `carrier` of an admin-down link: EINVAL).
    Errno(i32),
}

/// An attribute file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Content.
    pub value: Value,
    /// Readable (write-only attributes read EACCES).
    pub readable: bool,
    /// Writable, and what a write does.
    pub write: Option<WriteHook>,
}

/// The root's stand-in for lookups of `/` (its listing comes from [`SysfsTree::dir_at`]).
static ROOT_SENTINEL: Node = Node::Dir(Dir {
    entries: BTreeMap::new(),
});

/// A node of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A directory.
    Dir(Dir),
    /// An attribute.
    File(File),
    /// A symbolic link with its (relative) target.
    Link(PathBuf),
}

/// A directory: entries by name, each name with one node per namespace tag (usually one,
/// [`ALL_NS`]; `/sys/devices/virtual/net/lo` has one per namespace).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dir {
    entries: BTreeMap<String, Vec<(NsId, Node)>>,
}

impl Dir {
    fn get(&self, name: &str, ns: NsId) -> Option<&Node> {
        let tagged = self.entries.get(name)?;
        tagged
            .iter()
            .find(|(tag, _)| *tag == ns)
            .or_else(|| tagged.iter().find(|(tag, _)| *tag == ALL_NS))
            .map(|(_, node)| node)
    }

    /// Names visible in `ns`, sorted.
    pub fn names(&self, ns: NsId) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, tagged)| tagged.iter().any(|(tag, _)| *tag == ALL_NS || *tag == ns))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Entries visible in `ns`, with their nodes.
    pub fn visible(&self, ns: NsId) -> impl Iterator<Item = (&str, &Node)> {
        self.entries.iter().flat_map(move |(name, tagged)| {
            tagged
                .iter()
                .filter(move |(tag, _)| *tag == ALL_NS || *tag == ns)
                .map(move |(_, node)| (name.as_str(), node))
        })
    }
}

/// Splits an absolute path into normal components (lexically dropping `.`).
fn components(path: &Path) -> Vec<String> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// The projected sysfs tree: what every namespace's `/sys` shows, built from the model by
/// `project.rs` and rebuilt after each change.
#[derive(Debug, Clone, Default)]
pub struct SysfsTree {
    root: Dir,
}

impl SysfsTree {
    /// An empty tree.
    pub fn new() -> Self {
        SysfsTree::default()
    }

    /// The root directory.
    pub fn root(&self) -> &Dir {
        &self.root
    }

    /// Creates every directory of `path` (untagged).
    pub fn mkdir_p(&mut self, path: &str) {
        if self
            .lookup(Path::new(path), ALL_NS, FinalLink::NoFollow)
            .is_err()
        {
            self.insert(path, ALL_NS, Node::Dir(Dir::default()));
        }
    }

    /// Inserts `node` at `path`, visible in namespace `tag` ([`ALL_NS`] for all). Walking
    /// down, a directory tagged `tag` is preferred over an untagged one of the same name, so the
    /// children of a namespace's entry (say `/sys/devices/virtual/net/lo/`) go under that
    /// namespace's copy; missing parents are created untagged.
    pub fn insert(&mut self, path: &str, tag: NsId, node: Node) {
        let mut comps = components(Path::new(path));
        let Some(name) = comps.pop() else { return };
        let mut dir = &mut self.root;
        for comp in comps {
            let tagged = dir.entries.entry(comp).or_default();
            let at = match tagged.iter().position(|(t, _)| *t == tag) {
                Some(i) => i,
                None => match tagged.iter().position(|(t, _)| *t == ALL_NS) {
                    Some(i) => i,
                    None => {
                        tagged.push((ALL_NS, Node::Dir(Dir::default())));
                        tagged.len() - 1
                    }
                },
            };
            let entry = &mut tagged[at].1;
            if !matches!(entry, Node::Dir(_)) {
                *entry = Node::Dir(Dir::default());
            }
            let Node::Dir(d) = entry else {
                unreachable!("just made a directory")
            };
            dir = d;
        }
        let tagged = dir.entries.entry(name).or_default();
        match tagged.iter_mut().find(|(t, _)| *t == tag) {
            Some(slot) => slot.1 = node,
            None => tagged.push((tag, node)),
        }
    }

    /// Inserts an attribute file.
    pub fn file(&mut self, path: &str, text: impl Into<String>) {
        self.insert(
            path,
            ALL_NS,
            Node::File(File {
                value: Value::Text(text.into()),
                readable: true,
                write: None,
            }),
        );
    }

    /// Inserts a symbolic link.
    pub fn link(&mut self, path: &str, target: impl Into<PathBuf>) {
        self.insert(path, ALL_NS, Node::Link(target.into()));
    }

    /// Looks up a node by exact canonical components in `ns`, without following links.
    fn get(&self, comps: &[String], ns: NsId) -> Option<&Node> {
        if comps.is_empty() {
            return Some(&ROOT_SENTINEL);
        }
        let mut node: Option<&Node> = None;
        let mut dir = &self.root;
        for (i, comp) in comps.iter().enumerate() {
            let found = dir.get(comp, ns)?;
            if i + 1 < comps.len() {
                match found {
                    Node::Dir(d) => dir = d,
                    _ => return None,
                }
            }
            node = Some(found);
        }
        node
    }

    /// The directory at canonical components `comps` in `ns` (the root for none).
    pub fn dir_at(&self, comps: &[String], ns: NsId) -> Option<&Dir> {
        if comps.is_empty() {
            return Some(&self.root);
        }
        match self.get(comps, ns)? {
            Node::Dir(d) => Some(d),
            _ => None,
        }
    }

    /// Resolves `path` in `ns` to canonical components, following links in the middle of the
    /// path and, as `last` says, at its end.
    pub fn resolve(&self, path: &Path, ns: NsId, last: FinalLink) -> Result<Vec<String>, Errno> {
        let mut queue: std::collections::VecDeque<String> = components(path).into();
        let mut done: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(comp) = queue.pop_front() {
            if comp == ".." {
                done.pop();
                continue;
            }
            done.push(comp);
            let node = self.get(&done, ns).ok_or(libc::ENOENT)?;
            match node {
                Node::Link(target) if last == FinalLink::Follow || !queue.is_empty() => {
                    hops += 1;
                    if hops > 40 {
                        return Err(libc::ELOOP);
                    }
                    done.pop();
                    if target.is_absolute() {
                        done.clear();
                    }
                    for (i, c) in components(target).into_iter().enumerate() {
                        queue.insert(i, c);
                    }
                }
                Node::File(_) if !queue.is_empty() => return Err(libc::ENOTDIR),
                _ => {}
            }
        }
        Ok(done)
    }

    /// The node at `path` in `ns` (a link at the end followed as `last` says).
    pub fn lookup(&self, path: &Path, ns: NsId, last: FinalLink) -> Result<&Node, Errno> {
        let comps = self.resolve(path, ns, last)?;
        self.get(&comps, ns).ok_or(libc::ENOENT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> SysfsTree {
        let mut v = SysfsTree::new();
        v.file("/sys/devices/pci0000:3a/0000:3b:00.0/vendor", "0x15b3\n");
        v.link(
            "/sys/bus/pci/devices/0000:3b:00.0",
            "../../../devices/pci0000:3a/0000:3b:00.0",
        );
        v.insert(
            "/sys/class/net/eth0",
            1,
            Node::Link("../../devices/pci0000:3a/0000:3b:00.0".into()),
        );
        v.link("/sys/loop/a", "b");
        v.link("/sys/loop/b", "a");
        v
    }

    #[test]
    fn follows_links_mid_path() {
        let v = tree();
        let node = v
            .lookup(
                Path::new("/sys/bus/pci/devices/0000:3b:00.0/vendor"),
                0,
                FinalLink::Follow,
            )
            .unwrap();
        assert!(matches!(node, Node::File(f) if f.value == Value::Text("0x15b3\n".into())));
        // `..` after a link goes to the target's parent
        let comps = v
            .resolve(
                Path::new("/sys/bus/pci/devices/0000:3b:00.0/../0000:3b:00.0/vendor"),
                0,
                FinalLink::Follow,
            )
            .unwrap();
        assert_eq!(
            comps.join("/"),
            "sys/devices/pci0000:3a/0000:3b:00.0/vendor"
        );
    }

    #[test]
    fn namespace_tags_hide_entries() {
        let v = tree();
        assert!(
            v.lookup(
                Path::new("/sys/class/net/eth0/vendor"),
                1,
                FinalLink::Follow
            )
            .is_ok()
        );
        let err = v
            .lookup(Path::new("/sys/class/net/eth0"), 0, FinalLink::NoFollow)
            .unwrap_err();
        assert_eq!(err, libc::ENOENT);
    }

    #[test]
    fn loops_and_files_as_dirs_fail_like_the_kernel() {
        let v = tree();
        assert_eq!(
            v.lookup(Path::new("/sys/loop/a"), 0, FinalLink::Follow)
                .unwrap_err(),
            libc::ELOOP
        );
        let e = v
            .lookup(
                Path::new("/sys/devices/pci0000:3a/0000:3b:00.0/vendor/x"),
                0,
                FinalLink::Follow,
            )
            .unwrap_err();
        assert_eq!(e, libc::ENOTDIR);
    }
}
