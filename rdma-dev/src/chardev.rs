//! The character devices of an RDMA device: `uverbsN` (verbs), `umadN` and `issmN` (MADs and
//! the SM flag, one pair per port), found under the PCI function's `infiniband_verbs/` and
//! `infiniband_mad/` (or the class directories when a tree lacks them) by their `ibdev`; and
//! the host-wide `rdma_cm`. Each lives in `/dev/infiniband/<name>`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sriov_core::Sysfs;

use crate::attrs::{DevNumber, parse_decimal};
use crate::error::Result;
use crate::read::{list_opt, natural_sort, parse_opt, text_opt};

/// Where the RDMA character devices live.
pub const DEV_DIR: &str = "/dev/infiniband";

/// What a character device is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CharDeviceKind {
    /// `uverbsN`: the verbs interface (`ibv_open_device`).
    Uverbs,
    /// `umadN`: management datagrams of one port.
    Umad,
    /// `issmN`: the "is subnet manager" flag of one port.
    Issm,
    /// `rdma_cm`: the RDMA connection manager (one per host).
    RdmaCm,
}

impl fmt::Display for CharDeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CharDeviceKind::Uverbs => "uverbs",
            CharDeviceKind::Umad => "umad",
            CharDeviceKind::Issm => "issm",
            CharDeviceKind::RdmaCm => "rdma_cm",
        })
    }
}

/// One character device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CharDevice {
    /// What it is.
    pub kind: CharDeviceKind,
    /// Its name under `/dev/infiniband` (`uverbs3`).
    pub name: String,
    /// Its number (`dev`), when sysfs has it.
    pub dev: Option<DevNumber>,
    /// The port it serves (`umad`/`issm`).
    pub port: Option<u32>,
}

impl CharDevice {
    /// Its path, `/dev/infiniband/<name>`.
    ///
    /// ```
    /// use rdma_dev::{CharDevice, CharDeviceKind};
    /// let d = CharDevice { kind: CharDeviceKind::Uverbs, name: "uverbs3".into(), dev: None, port: None };
    /// assert_eq!(d.path(), std::path::Path::new("/dev/infiniband/uverbs3"));
    /// ```
    pub fn path(&self) -> PathBuf {
        Path::new(DEV_DIR).join(&self.name)
    }
}

fn read_entry(
    fs: &dyn Sysfs,
    dir: &Path,
    name: &str,
    kind: CharDeviceKind,
    ibdev: &str,
) -> Result<Option<CharDevice>> {
    let entry = dir.join(name);
    if text_opt(fs, &entry.join("ibdev"))?.as_deref() != Some(ibdev) {
        return Ok(None);
    }
    let port = match text_opt(fs, &entry.join("port"))? {
        Some(t) => parse_decimal(&t).ok(),
        None => None,
    };
    Ok(Some(CharDevice {
        kind,
        name: name.to_string(),
        dev: parse_opt(fs, &entry.join("dev"))?,
        port,
    }))
}

/// The entries of a char-device class for `ibdev`: from its PCI function's `<class>/` when the
/// tree has it, else from `/sys/class/<class>/`.
fn class_entries(
    fs: &dyn Sysfs,
    ibdev: &str,
    class: &str,
    kinds: &[(&str, CharDeviceKind)],
) -> Result<Vec<CharDevice>> {
    let local = Path::new("/sys/class/infiniband")
        .join(ibdev)
        .join("device")
        .join(class);
    let (dir, names) = match list_opt(fs, &local)? {
        Some(names) => (local, names),
        None => {
            let global = Path::new("/sys/class").join(class);
            match list_opt(fs, &global)? {
                Some(names) => (global, names),
                None => return Ok(Vec::new()),
            }
        }
    };
    let mut names = names;
    natural_sort(&mut names);
    let mut out = Vec::new();
    for (prefix, kind) in kinds {
        for name in names.iter().filter(|n| {
            n.strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
        }) {
            if let Some(dev) = read_entry(fs, &dir, name, *kind, ibdev)? {
                out.push(dev);
            }
        }
    }
    Ok(out)
}

/// The `uverbs`, `umad` and `issm` devices of RDMA device `ibdev`, in that order.
///
/// ```
/// let host = sysfs_sim::Preset::Reference.build(1).unwrap();
/// let devs = rdma_dev::char_devices_of(&host.sysfs(), "mlx5_0").unwrap();
/// let names: Vec<_> = devs.iter().map(|d| d.name.as_str()).collect();
/// assert_eq!(names, ["uverbs0", "umad0", "issm0"]);
/// assert_eq!(devs[0].dev.unwrap().to_string(), "231:192");
/// ```
pub fn char_devices_of(fs: &dyn Sysfs, ibdev: &str) -> Result<Vec<CharDevice>> {
    let mut out = class_entries(
        fs,
        ibdev,
        "infiniband_verbs",
        &[("uverbs", CharDeviceKind::Uverbs)],
    )?;
    out.extend(class_entries(
        fs,
        ibdev,
        "infiniband_mad",
        &[
            ("umad", CharDeviceKind::Umad),
            ("issm", CharDeviceKind::Issm),
        ],
    )?);
    Ok(out)
}

/// The host's `rdma_cm` device, when the tree shows one (`/sys/class/misc/rdma_cm`).
pub fn rdma_cm(fs: &dyn Sysfs) -> Result<Option<CharDevice>> {
    let dir = Path::new("/sys/class/misc/rdma_cm");
    let Some(dev) = parse_opt::<DevNumber>(fs, &dir.join("dev"))? else {
        return Ok(None);
    };
    Ok(Some(CharDevice {
        kind: CharDeviceKind::RdmaCm,
        name: "rdma_cm".into(),
        dev: Some(dev),
        port: None,
    }))
}
