//! Device-info files (the network-plumbing working group's device-info spec, version 1.1.0):
//! one JSON file per allocated device in `/var/run/k8s.cni.cncf.io/devinfo/dp/`, named
//! `<resource with / as ->-<deviceID>-device.json`, that Multus hands to the CNI plugin.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rdma_dev::resource::ResourceDevice;
use serde_json::json;

use super::error::DpError;

/// The device-info directory under a host root.
pub const DEVINFO_DIR: &str = "var/run/k8s.cni.cncf.io/devinfo/dp";

/// The file of `device` of `resource` in `dir`.
///
/// ```
/// let p = device_plugin::sriov_dp::devinfo::file_path("/run/dp".as_ref(), "rdma/vhca", "0000:3b:00.2");
/// assert_eq!(p, std::path::Path::new("/run/dp/rdma-vhca-0000:3b:00.2-device.json"));
/// ```
pub fn file_path(dir: &Path, resource: &str, id: &str) -> PathBuf {
    dir.join(format!("{}-{id}-device.json", resource.replace('/', "-")))
}

/// The file's content.
pub fn content(device: &ResourceDevice) -> String {
    let mut pci = serde_json::Map::new();
    pci.insert("pci-address".into(), json!(device.pci.to_string()));
    if let Some(rdma) = &device.rdma_device {
        pci.insert("rdma-device".into(), json!(rdma));
    }
    if device.root != device.pci {
        pci.insert("pf-pci-address".into(), json!(device.root.to_string()));
    }
    json!({ "type": "pci", "version": "1.1.0", "pci": pci }).to_string()
}

/// Writes the file of `device` (atomically: a reader sees the old or the new file whole).
pub fn write(dir: &Path, resource: &str, device: &ResourceDevice) -> Result<PathBuf, DpError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let path = file_path(dir, resource, &device.id);
    let err = |source| DpError::DeviceInfo {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        resource.replace('/', "-"),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let result = std::fs::write(&tmp, content(device)).and_then(|()| std::fs::rename(&tmp, &path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)?;
    Ok(path)
}
