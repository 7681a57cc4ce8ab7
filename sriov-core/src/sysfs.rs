//! The `Sysfs` host trait and its real backend, [`FsSysfs`]: files under a root directory.
//!
//! Paths given to a [`Sysfs`] are absolute sysfs paths (`/sys/bus/pci/devices/...`). Errors are
//! `std::io::Error` carrying the kernel's errno (EBUSY, ERANGE, EINVAL, ENOENT, EOPNOTSUPP...),
//! so code above handles a simulated failure exactly like a real one.

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// What kind of entry a path names (without following a final symbolic link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// An attribute file.
    File,
    /// A symbolic link.
    Link,
}

/// Read and write access to a sysfs tree, shaped like `std::fs`.
///
/// Implementations: [`FsSysfs`] (a real root such as `/`, or a rendered tree) and the simulator
/// in the `sysfs-sim` crate.
pub trait Sysfs: Send + Sync {
    /// Reads a whole attribute (the text as the kernel prints it, usually ending in `\n`).
    fn read(&self, path: &Path) -> io::Result<String>;
    /// Writes `value` to an attribute in one write, as `echo -n value > path` would.
    fn write(&self, path: &Path, value: &str) -> io::Result<()>;
    /// Reads a symbolic link's target as stored (sysfs links are relative).
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    /// Lists the names in a directory (in no particular order).
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    /// The kind of entry at `path`, not following a final link.
    fn entry_kind(&self, path: &Path) -> io::Result<EntryKind>;
}

impl<T: Sysfs + ?Sized> Sysfs for &T {
    fn read(&self, path: &Path) -> io::Result<String> {
        (**self).read(path)
    }
    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        (**self).write(path, value)
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        (**self).read_link(path)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        (**self).read_dir(path)
    }
    fn entry_kind(&self, path: &Path) -> io::Result<EntryKind> {
        (**self).entry_kind(path)
    }
}

impl<T: Sysfs + ?Sized> Sysfs for std::sync::Arc<T> {
    fn read(&self, path: &Path) -> io::Result<String> {
        (**self).read(path)
    }
    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        (**self).write(path, value)
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        (**self).read_link(path)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        (**self).read_dir(path)
    }
    fn entry_kind(&self, path: &Path) -> io::Result<EntryKind> {
        (**self).entry_kind(path)
    }
}

/// The real backend: sysfs paths resolved under a root directory (`/` on a host, or the
/// directory holding `sys/` of a rendered or captured tree).
///
/// ```
/// use sriov_core::{FsSysfs, Sysfs};
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir_all(dir.path().join("sys/class/net")).unwrap();
/// let fs = FsSysfs::new(dir.path());
/// assert!(fs.read_dir("/sys/class/net".as_ref()).unwrap().is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct FsSysfs {
    root: PathBuf,
}

impl FsSysfs {
    /// A backend rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FsSysfs { root: root.into() }
    }

    /// The host's own `/sys`.
    pub fn host() -> Self {
        FsSysfs::new("/")
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a sysfs path lives on disk. `..` components are refused (they could leave the root).
    pub fn resolve(&self, path: &Path) -> io::Result<PathBuf> {
        let mut out = self.root.clone();
        for component in path.components() {
            match component {
                Component::RootDir | Component::CurDir => {}
                Component::Normal(part) => out.push(part),
                Component::ParentDir | Component::Prefix(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "sysfs path with '..'",
                    ));
                }
            }
        }
        Ok(out)
    }
}

impl Sysfs for FsSysfs {
    fn read(&self, path: &Path) -> io::Result<String> {
        fs::read_to_string(self.resolve(path)?)
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        // O_TRUNC as a shell's `>` uses it: sysfs ignores it, a rendered tree needs it.
        let mut file = fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(self.resolve(path)?)?;
        file.write_all(value.as_bytes())
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        fs::read_link(self.resolve(path)?)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        fs::read_dir(self.resolve(path)?)?
            .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect()
    }

    fn entry_kind(&self, path: &Path) -> io::Result<EntryKind> {
        let meta = fs::symlink_metadata(self.resolve(path)?)?;
        let kind = meta.file_type();
        Ok(if kind.is_symlink() {
            EntryKind::Link
        } else if kind.is_dir() {
            EntryKind::Dir
        } else {
            EntryKind::File
        })
    }
}

/// Well-known sysfs paths.
pub mod paths {
    use std::path::PathBuf;

    use crate::PciAddress;

    /// `/sys/bus/pci/devices`.
    pub const PCI_DEVICES: &str = "/sys/bus/pci/devices";
    /// `/sys/devices`.
    pub const DEVICES: &str = "/sys/devices";
    /// `/sys/class/net`.
    pub const CLASS_NET: &str = "/sys/class/net";

    /// `/sys/bus/pci/devices/<pci>`.
    pub fn pci_device(pci: &PciAddress) -> PathBuf {
        PathBuf::from(format!("{PCI_DEVICES}/{pci}"))
    }

    /// `/sys/bus/pci/devices/<pci>/<attr>`.
    pub fn pci_attr(pci: &PciAddress, attr: &str) -> PathBuf {
        PathBuf::from(format!("{PCI_DEVICES}/{pci}/{attr}"))
    }

    /// `/sys/class/net/<ifname>`.
    pub fn class_net(ifname: &str) -> PathBuf {
        PathBuf::from(format!("{CLASS_NET}/{ifname}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_is_preserved() {
        let dir = tempfile::tempdir().unwrap();
        let fs = FsSysfs::new(dir.path());
        let err = fs.read("/sys/nothing".as_ref()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
        let err = fs.write("/sys/nothing".as_ref(), "1").unwrap_err();
        assert_eq!(
            err.raw_os_error(),
            Some(libc::ENOENT),
            "write must not create files"
        );
        assert!(fs.read("/sys/../etc/passwd".as_ref()).is_err());
    }

    #[test]
    fn reads_links_and_kinds() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sys/a")).unwrap();
        std::os::unix::fs::symlink("../a", dir.path().join("sys/a/link")).unwrap();
        std::fs::write(dir.path().join("sys/a/attr"), "5\n").unwrap();
        let fs = FsSysfs::new(dir.path());
        assert_eq!(
            fs.read_link("/sys/a/link".as_ref()).unwrap(),
            PathBuf::from("../a")
        );
        assert_eq!(
            fs.entry_kind("/sys/a/link".as_ref()).unwrap(),
            EntryKind::Link
        );
        assert_eq!(fs.entry_kind("/sys/a".as_ref()).unwrap(), EntryKind::Dir);
        assert_eq!(
            fs.entry_kind("/sys/a/attr".as_ref()).unwrap(),
            EntryKind::File
        );
        fs.write("/sys/a/attr".as_ref(), "7").unwrap();
        assert_eq!(fs.read("/sys/a/attr".as_ref()).unwrap(), "7");
    }
}
