//! Moving a VF's RDMA device into a pod's network namespace and back, as the RDMA CNI does:
//! the mode must be `exclusive`, the VF must have exactly one RDMA device, and the device is
//! moved from the namespace that sees it.

use sriov_core::{Named, Netns, PciAddress, RdmaNetnsMode, RdmaOps, Sysfs};

use crate::device::device_of_function;
use crate::error::{Error, Result};

/// Checks that the RDMA netns mode is `exclusive` (moves are refused in `shared` mode).
pub fn require_exclusive(ops: &dyn RdmaOps, device: &str) -> Result<()> {
    match Named(ops).netns_mode()? {
        RdmaNetnsMode::Exclusive => Ok(()),
        RdmaNetnsMode::Shared => Err(Error::SharedNetnsMode {
            device: device.to_string(),
        }),
    }
}

/// Moves RDMA device `ibdev` from `from` to `to`, after checking the mode.
pub fn move_device(ops: &dyn RdmaOps, ibdev: &str, from: &Netns, to: &Netns) -> Result<()> {
    require_exclusive(ops, ibdev)?;
    Ok(Named(ops).move_device(from, ibdev, to)?)
}

/// Moves the one RDMA device of PCI function `pci` (found in `fs`, the sysfs view of `from`)
/// to `to`, and returns its name (keep it: once moved, `from` may no longer see it).
///
/// ```
/// use sriov_core::{Netns, RdmaNetnsMode, RdmaOps};
/// let host = sysfs_sim::Preset::Reference.build(1).unwrap();
/// let ops = host.rdma_ops();
/// ops.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap();
/// let pod = host.add_netns("pod").unwrap();
/// let vf = "0000:3b:00.5".parse().unwrap();
/// let name = rdma_dev::move_function_device(&ops, &host.sysfs(), vf, &Netns::Host, &pod).unwrap();
/// assert_eq!(name, "mlx5_5");
/// let in_pod = rdma_dev::discover_rdma(&host.sysfs_in(&pod).unwrap()).unwrap();
/// assert_eq!(in_pod.len(), 1);
/// rdma_dev::move_device(&ops, &name, &pod, &Netns::Host).unwrap();
/// ```
pub fn move_function_device(
    ops: &dyn RdmaOps,
    fs: &dyn Sysfs,
    pci: PciAddress,
    from: &Netns,
    to: &Netns,
) -> Result<String> {
    let name = device_of_function(fs, pci)?;
    move_device(ops, &name, from, to)?;
    Ok(name)
}
