//! Enabling VFs under the kernel's rules for `sriov_numvfs`.
//!
//! The kernel checks a write in this order: unparsable value (EINVAL); above `sriov_totalvfs`
//! (ERANGE); equal to the current count (success, nothing happens); no driver or a driver
//! without SR-IOV support (ENOENT); 0 disables every VF; a different non-zero count while VFs
//! exist (EBUSY: write 0 first). The driver may then enable fewer VFs than asked.

use std::io;
use std::path::Path;

use crate::PciAddress;
use crate::attr::{self, read_with};
use crate::error::{Error, Result};
use crate::sysfs::{Sysfs, paths};

/// Whether [`set_num_vfs`] may disable the current VFs to reach a different non-zero count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetPolicy {
    /// Write 0 first when needed (destroys the current VFs and whatever uses them).
    Allow,
    /// Fail with [`Error::VfsBusy`] instead.
    Refuse,
}

/// What [`set_num_vfs`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumVfsOutcome {
    /// VFs enabled before.
    pub before: u32,
    /// The count asked for.
    pub requested: u32,
    /// VFs enabled after (the driver may enable fewer than asked).
    pub enabled: u32,
    /// True when 0 was written first.
    pub reset: bool,
}

/// Sets the number of VFs of `pf`.
///
/// ```
/// use sriov_core::{set_num_vfs, FsSysfs, ResetPolicy};
/// # let dir = tempfile::tempdir().unwrap();
/// # let d = dir.path().join("sys/bus/pci/devices/0000:3b:00.0");
/// # std::fs::create_dir_all(&d).unwrap();
/// # std::fs::write(d.join("sriov_totalvfs"), "8\n").unwrap();
/// # std::fs::write(d.join("sriov_numvfs"), "0\n").unwrap();
/// let fs = FsSysfs::new(dir.path());
/// let out = set_num_vfs(&fs, "0000:3b:00.0".parse().unwrap(), 8, ResetPolicy::Refuse).unwrap();
/// assert_eq!(out.enabled, 8);
/// assert!(set_num_vfs(&fs, "0000:3b:00.0".parse().unwrap(), 9, ResetPolicy::Allow).is_err());
/// ```
pub fn set_num_vfs(
    fs: &dyn Sysfs,
    pf: PciAddress,
    count: u32,
    policy: ResetPolicy,
) -> Result<NumVfsOutcome> {
    let total_path = paths::pci_attr(&pf, "sriov_totalvfs");
    let numvfs_path = paths::pci_attr(&pf, "sriov_numvfs");
    let total = match attr::read_optional_with(fs, &total_path, attr::parse_u32)? {
        Some(total) => total,
        None => return Err(Error::NotSriovPf { pci: pf }),
    };
    if count > total {
        return Err(Error::NumVfsOutOfRange {
            pf,
            requested: count,
            total,
        });
    }
    let before = read_with(fs, &numvfs_path, attr::parse_u32)?;
    if before == count {
        return Ok(NumVfsOutcome {
            before,
            requested: count,
            enabled: before,
            reset: false,
        });
    }
    let mut reset = false;
    if before != 0 && count != 0 {
        if policy == ResetPolicy::Refuse {
            return Err(Error::VfsBusy {
                pf,
                current: before,
                requested: count,
            });
        }
        write_numvfs(fs, pf, &numvfs_path, 0, before, total)?;
        reset = true;
    }
    write_numvfs(
        fs,
        pf,
        &numvfs_path,
        count,
        if reset { 0 } else { before },
        total,
    )?;
    let enabled = read_with(fs, &numvfs_path, attr::parse_u32)?;
    if enabled != count {
        tracing::warn!(%pf, requested = count, enabled, "driver enabled fewer VFs than requested");
    }
    Ok(NumVfsOutcome {
        before,
        requested: count,
        enabled,
        reset,
    })
}

fn write_numvfs(
    fs: &dyn Sysfs,
    pf: PciAddress,
    path: &Path,
    count: u32,
    current: u32,
    total: u32,
) -> Result<()> {
    let value = count.to_string();
    fs.write(path, &value)
        .map_err(|source| map_numvfs_errno(pf, path, &value, count, current, total, source))
}

fn map_numvfs_errno(
    pf: PciAddress,
    path: &Path,
    value: &str,
    requested: u32,
    current: u32,
    total: u32,
    source: io::Error,
) -> Error {
    match source.raw_os_error() {
        Some(libc::EBUSY) => Error::VfsBusy {
            pf,
            current,
            requested,
        },
        Some(libc::ERANGE) => Error::NumVfsOutOfRange {
            pf,
            requested,
            total,
        },
        // the attribute was just read, so ENOENT comes from the kernel: no SR-IOV driver
        Some(libc::ENOENT) => Error::NoSriovDriver { pf },
        Some(libc::EINVAL) => Error::InvalidNumVfs {
            pf,
            value: value.to_string(),
        },
        _ => Error::WriteAttr {
            path: path.to_path_buf(),
            value: value.to_string(),
            source,
        },
    }
}
