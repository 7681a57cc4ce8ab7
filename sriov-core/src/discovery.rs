//! Discovery of SR-IOV physical functions and their VFs from a sysfs tree.
//!
//! A function is an SR-IOV PF when it has `sriov_totalvfs`. Functions are listed from
//! `/sys/bus/pci/devices`; on partial trees that lack it (some captured fixtures), the PCI
//! hierarchy under `/sys/devices/pci*` is walked instead.

use std::path::{Path, PathBuf};

use crate::attr::{self, link_basename, link_pci, list_optional, read_optional_with, read_with};
use crate::error::{Error, Result};
use crate::sysfs::{EntryKind, Sysfs, paths};
use crate::{FunctionRole, PciAddress, PhysicalFunction, VirtualFunction};

/// One PCI function found in the tree and the directory to read it from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciFunctionDir {
    /// Its address.
    pub pci: PciAddress,
    /// Its directory (`/sys/bus/pci/devices/<pci>`, or the real device path on partial trees).
    pub dir: PathBuf,
}

/// Every PCI function in the tree, sorted by address.
pub fn pci_functions(fs: &dyn Sysfs) -> Result<Vec<PciFunctionDir>> {
    let bus = Path::new(paths::PCI_DEVICES);
    let mut out = match list_optional(fs, bus)? {
        Some(names) => names
            .into_iter()
            .filter_map(|name| {
                let pci = name.parse().ok()?;
                Some(PciFunctionDir {
                    pci,
                    dir: bus.join(&name),
                })
            })
            .collect(),
        None => {
            let devices = Path::new(paths::DEVICES);
            let roots = fs.read_dir(devices).map_err(|source| Error::ReadDir {
                path: bus.to_path_buf(),
                source,
            })?;
            let mut found = Vec::new();
            for root in roots.into_iter().filter(|r| r.starts_with("pci")) {
                walk_pci(fs, &devices.join(root), &mut found, 0)?;
            }
            found
        }
    };
    out.sort_by_key(|f| f.pci);
    out.dedup_by_key(|f| f.pci);
    Ok(out)
}

/// Collects directories named like PCI functions below `dir` (bridges nest functions).
fn walk_pci(
    fs: &dyn Sysfs,
    dir: &Path,
    found: &mut Vec<PciFunctionDir>,
    depth: usize,
) -> Result<()> {
    if depth > 16 {
        return Ok(());
    }
    let names = fs.read_dir(dir).map_err(|source| Error::ReadDir {
        path: dir.to_path_buf(),
        source,
    })?;
    for name in names {
        let Ok(pci) = name.parse::<PciAddress>() else {
            continue;
        };
        let path = dir.join(&name);
        if fs.entry_kind(&path).ok() != Some(EntryKind::Dir) {
            continue; // virtfnN/physfn links point at siblings, never recurse through links
        }
        found.push(PciFunctionDir {
            pci,
            dir: path.clone(),
        });
        walk_pci(fs, &path, found, depth + 1)?;
    }
    Ok(())
}

/// Every SR-IOV capable PF with its enabled VFs, sorted by PCI address. An empty list is not an
/// error: a host without SR-IOV NICs has none.
///
/// ```
/// use sriov_core::{discover, FsSysfs};
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir_all(dir.path().join("sys/bus/pci/devices")).unwrap();
/// assert!(discover(&FsSysfs::new(dir.path())).unwrap().is_empty());
/// ```
pub fn discover(fs: &dyn Sysfs) -> Result<Vec<PhysicalFunction>> {
    let mut pfs: Vec<PhysicalFunction> = Vec::new();
    // VFs found through their PF's links need no probe of their own (a VF never has
    // `sriov_totalvfs`); on a host with a thousand VFs this halves the work.
    let mut known_vfs = std::collections::HashSet::new();
    for function in pci_functions(fs)? {
        if known_vfs.contains(&function.pci) {
            continue;
        }
        if let Some(pf) = read_pf_at(fs, function.pci, &function.dir)? {
            known_vfs.extend(pf.vfs.iter().map(|vf| vf.pci));
            pfs.push(pf);
        }
    }
    Ok(pfs)
}

/// Reads one PF by address (from `/sys/bus/pci/devices/<pci>`).
pub fn read_pf(fs: &dyn Sysfs, pci: PciAddress) -> Result<PhysicalFunction> {
    read_pf_at(fs, pci, &paths::pci_device(&pci))?.ok_or(Error::NotSriovPf { pci })
}

/// Reads the PF at `dir`; `Ok(None)` when the function has no SR-IOV capability.
pub fn read_pf_at(fs: &dyn Sysfs, pci: PciAddress, dir: &Path) -> Result<Option<PhysicalFunction>> {
    let Some(total_vfs) = read_optional_with(fs, &dir.join("sriov_totalvfs"), attr::parse_u32)?
    else {
        return Ok(None);
    };
    let num_vfs = read_with(fs, &dir.join("sriov_numvfs"), attr::parse_u32)?;
    let offset = read_optional_u16(fs, &dir.join("sriov_offset"))?;
    let stride = read_optional_u16(fs, &dir.join("sriov_stride"))?;
    let mut pf = PhysicalFunction {
        pci,
        vendor: read_with(fs, &dir.join("vendor"), attr::parse_hex_u16)?,
        device: read_with(fs, &dir.join("device"), attr::parse_hex_u16)?,
        driver: link_basename(fs, &dir.join("driver"))?,
        numa_node: read_optional_with(fs, &dir.join("numa_node"), attr::parse_numa_node)?.flatten(),
        netdev: function_netdev(fs, dir)?,
        total_vfs,
        num_vfs,
        offset,
        stride,
        vf_device: read_optional_with(fs, &dir.join("sriov_vf_device"), attr::parse_hex_bare_u16)?,
        drivers_autoprobe: read_optional_with(
            fs,
            &dir.join("sriov_drivers_autoprobe"),
            attr::parse_bool01,
        )?,
        vfs: Vec::with_capacity(num_vfs as usize),
    };
    for index in 0..num_vfs {
        let link = dir.join(format!("virtfn{index}"));
        let (vf_pci, vf_dir) = match link_pci(fs, &link)? {
            Some(vf_pci) => (vf_pci, link),
            // a capture without links: the address follows from offset and stride
            None => match pf.vf_address(index) {
                Some(vf_pci) => (vf_pci, paths::pci_device(&vf_pci)),
                None => continue,
            },
        };
        pf.vfs.push(VirtualFunction {
            index,
            pci: vf_pci,
            driver: link_basename(fs, &vf_dir.join("driver"))?,
            netdev: function_netdev(fs, &vf_dir)?,
        });
    }
    Ok(Some(pf))
}

/// A VF found by its PCI address, with its PF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VfLookup {
    /// The PF, as [`read_pf`] reads it (with all its VFs).
    pub pf: PhysicalFunction,
    /// The VF: its index under the PF, driver and netdev in this namespace's view.
    pub vf: VirtualFunction,
}

/// Finds the VF at `pci`: its PF (through its `physfn` link), its index, driver and netdev.
///
/// The errors tell the cases apart: no function at that address is [`Error::NoSuchDevice`];
/// a function that is not a VF (an SR-IOV PF, or a function without SR-IOV) is
/// [`Error::NotAVf`] with its [`FunctionRole`].
///
/// ```
/// use sriov_core::discovery::lookup_vf;
/// use sriov_core::{Error, FsSysfs, FunctionRole};
/// let tmp = tempfile::tempdir().unwrap();
/// let fs = FsSysfs::new(tmp.path());
/// let err = lookup_vf(&fs, "0000:3b:00.2".parse().unwrap()).unwrap_err();
/// assert!(matches!(err, Error::NoSuchDevice { .. }));
/// // a PF is not a VF
/// let pf = tmp.path().join("sys/bus/pci/devices/0000:3b:00.0");
/// std::fs::create_dir_all(&pf).unwrap();
/// std::fs::write(pf.join("sriov_totalvfs"), "8\n").unwrap();
/// let err = lookup_vf(&fs, "0000:3b:00.0".parse().unwrap()).unwrap_err();
/// assert!(matches!(err, Error::NotAVf { role: FunctionRole::PhysicalFunction, .. }));
/// ```
pub fn lookup_vf(fs: &dyn Sysfs, pci: PciAddress) -> Result<VfLookup> {
    let dir = paths::pci_device(&pci);
    if list_optional(fs, &dir)?.is_none() {
        return Err(Error::NoSuchDevice { pci });
    }
    let Some(pf_pci) = link_pci(fs, &dir.join("physfn"))? else {
        let role = match read_optional_with(fs, &dir.join("sriov_totalvfs"), attr::parse_u32)? {
            Some(_) => FunctionRole::PhysicalFunction,
            None => FunctionRole::PlainFunction,
        };
        return Err(Error::NotAVf { pci, role });
    };
    let pf = read_pf(fs, pf_pci)?;
    let vf = pf
        .vfs
        .iter()
        .find(|vf| vf.pci == pci)
        .cloned()
        .ok_or(Error::VfNotListedByPf {
            vf: pci,
            pf: pf_pci,
        })?;
    Ok(VfLookup { pf, vf })
}

fn read_optional_u16(fs: &dyn Sysfs, path: &Path) -> Result<Option<u16>> {
    let Some(value) = read_optional_with(fs, path, attr::parse_u32)? else {
        return Ok(None);
    };
    u16::try_from(value)
        .map(Some)
        .map_err(|_| Error::ParseAttr {
            path: path.to_path_buf(),
            value: value.to_string(),
            kind: crate::AttrErrorKind::Overflow,
        })
}

/// The netdev of a PCI function in this namespace's view: the only entry of its `net/`
/// directory, or, when it holds several (switchdev representors share the PF's `net/`), the
/// uplink: the one whose `phys_port_name` is `p<N>` or that has none.
pub fn function_netdev(fs: &dyn Sysfs, dir: &Path) -> Result<Option<String>> {
    let net = dir.join("net");
    let Some(mut names) = list_optional(fs, &net)? else {
        return Ok(None);
    };
    if names.len() <= 1 {
        return Ok(names.pop());
    }
    names.sort();
    for name in &names {
        let port = attr::read_optional(fs, &net.join(name).join("phys_port_name")).unwrap_or(None);
        match port.as_deref().map(str::trim) {
            None | Some("") => return Ok(Some(name.clone())),
            Some(p) if p.starts_with('p') && p[1..].bytes().all(|b| b.is_ascii_digit()) => {
                return Ok(Some(name.clone()));
            }
            _ => {}
        }
    }
    Ok(names.into_iter().next())
}

/// The PF-side configuration of each enabled VF of `pf`, by VF index, as the PF's VF table
/// (`net`) reports it. `None` when it cannot be read: the PF has no netdev in this namespace,
/// or the netlink backend does not know it (a rendered tree read on a machine that lacks the
/// PF).
///
/// ```
/// let host = sysfs_sim::Preset::Reference.build(1).unwrap();
/// let pfs = sriov_core::discover(&host.sysfs()).unwrap();
/// let table = sriov_core::discovery::vf_configs(&host.net_ops(), &pfs[0]).unwrap();
/// assert_eq!(table.len(), 8);
/// assert!(table[&3].vlan.id().get() == 0 && !table[&3].spoofchk); // mlx5's defaults
/// assert!(sriov_core::discovery::vf_configs(&host.net_ops(), &pfs[1]).unwrap().is_empty());
/// ```
pub fn vf_configs(
    net: &dyn crate::NetOps,
    pf: &PhysicalFunction,
) -> Option<std::collections::BTreeMap<u32, crate::VfState>> {
    let netdev = pf.netdev.as_deref()?;
    let table = net.vfs(netdev).ok()?;
    Some(table.into_iter().map(|v| (v.index, v.state)).collect())
}
