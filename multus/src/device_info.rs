//! Device-info files: the device plugin writes one per device under `devinfo/dp/`; the meta
//! plugin copies it for the delegate that got the device, to `devinfo/cni/` (mode 0444; a file
//! already there is an error, as in Multus), and removes that copy at DEL.
//!
//! ```
//! use multus::device_info::copy_for_delegate;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let devinfo = dir.path().join("var/run/k8s.cni.cncf.io/devinfo");
//! std::fs::create_dir_all(devinfo.join("dp")).unwrap();
//! std::fs::write(devinfo.join("dp/rdma-vhca-0000:3b:00.2-device.json"),
//!     r#"{"type":"pci","version":"1.1.0","pci":{"pci-address":"0000:3b:00.2"}}"#).unwrap();
//! let copied = copy_for_delegate(&devinfo, "rdma/vhca", "0000:3b:00.2", "default/rdma-net", "ctr1", "net1")?;
//! let (path, info) = copied.unwrap();
//! assert!(path.ends_with("cni/default-rdma-net-ctr1_net1"));
//! assert_eq!(info["pci"]["pci-address"], "0000:3b:00.2");
//! # Ok::<(), multus::Error>(())
//! ```

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::Error;
use crate::delegate::{device_info_cni_path, device_info_dp_path};

/// Copies the device plugin's file of `device_id` for the delegate; `None` when the device
/// plugin wrote none (not every device plugin does).
pub fn copy_for_delegate(
    devinfo_dir: &Path,
    resource: &str,
    device_id: &str,
    network: &str,
    container_id: &str,
    ifname: &str,
) -> Result<Option<(PathBuf, Value)>, Error> {
    let from = device_info_dp_path(devinfo_dir, resource, device_id);
    let bytes = match std::fs::read(&from) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::DeviceInfo {
                op: "read",
                path: from,
                source,
            });
        }
    };
    let info: Value = serde_json::from_slice(&bytes).map_err(|e| Error::DeviceInfo {
        op: "parse",
        path: from.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })?;
    let to = device_info_cni_path(devinfo_dir, network, container_id, ifname);
    let io = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::DeviceInfo { op, path, source }
    };
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(io("create the directory of", &to))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o444)
        .open(&to)
        .map_err(io("create", &to))?;
    f.write_all(&bytes).map_err(io("write", &to))?;
    Ok(Some((to, info)))
}

/// Removes the delegate's copy (a missing one is fine).
pub fn remove_for_delegate(
    devinfo_dir: &Path,
    network: &str,
    container_id: &str,
    ifname: &str,
) -> Result<(), Error> {
    let path = device_info_cni_path(devinfo_dir, network, container_id, ifname);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::DeviceInfo {
            op: "remove",
            path,
            source,
        }),
    }
}
