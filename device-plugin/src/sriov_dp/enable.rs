//! Start-up as the seed's plugin: enable every configured PF's VFs, up to `sriov_totalvfs`,
//! under the kernel's rules, without destroying VFs that pods hold.
//!
//! The kernel only changes a non-zero VF count by going through 0, which destroys every VF of
//! the PF. So: 0 VFs -> enable all; all enabled -> nothing; some enabled -> reset to all only
//! when the ledger says no pod holds any of them, else keep them as they are.

use sriov_core::{PciAddress, PhysicalFunction, ResetPolicy, Sysfs, discover, set_num_vfs};

use super::error::DpError;
use super::ledger::HeldVfs;

/// What start-up did on one PF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnableAction {
    /// Every VF was already enabled.
    AlreadyEnabled,
    /// VFs were enabled (from 0, or after a reset no pod could notice).
    Enabled {
        /// 0 was written first (some VFs existed, none held).
        reset: bool,
    },
    /// Some VFs were enabled and pods hold some of them: left as they are.
    KeptHeld {
        /// The held VFs.
        held: Vec<PciAddress>,
    },
    /// No PF has this netdev.
    NotFound,
}

/// The outcome on one PF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnableReport {
    /// The PF's netdev, as configured.
    pub pf_netdev: String,
    /// The PF, when found.
    pub pf: Option<PciAddress>,
    /// `sriov_totalvfs`.
    pub max_vfs: u32,
    /// VFs enabled before.
    pub before: u32,
    /// VFs enabled after.
    pub after: u32,
    /// What was done.
    pub action: EnableAction,
}

/// Enables the VFs of the PFs with netdevs `pf_netdevs`, logging as the seed's plugin did
/// (`max_vfs = 8`, `cur_vfs = 8`, one line per VF).
///
/// ```
/// use device_plugin::sriov_dp::{enable::{enable_vfs, EnableAction}, ledger::HeldVfs};
/// let host = device_plugin::kubelet_sim::hosts::reference(1).unwrap();
/// let fs = host.sysfs();
/// sriov_core::Sysfs::write(&fs, "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs".as_ref(), "0").unwrap();
/// let reports = enable_vfs(&fs, &["ens2f0".to_string()], &HeldVfs::Known(Default::default())).unwrap();
/// assert_eq!(reports[0].after, 8);
/// assert_eq!(reports[0].action, EnableAction::Enabled { reset: false });
/// ```
pub fn enable_vfs(
    fs: &dyn Sysfs,
    pf_netdevs: &[String],
    held: &HeldVfs,
) -> Result<Vec<EnableReport>, DpError> {
    let discover_err = |source: sriov_core::Error| DpError::EnableVfs {
        pf_netdev: pf_netdevs.join(","),
        source,
    };
    let pfs = discover(fs).map_err(discover_err)?;
    let mut reports = Vec::with_capacity(pf_netdevs.len());
    for name in pf_netdevs {
        let Some(pf) = pfs
            .iter()
            .find(|p| p.netdev.as_deref() == Some(name.as_str()))
        else {
            tracing::warn!("PF netdev {name} not found: none of its VFs are exposed");
            reports.push(EnableReport {
                pf_netdev: name.clone(),
                pf: None,
                max_vfs: 0,
                before: 0,
                after: 0,
                action: EnableAction::NotFound,
            });
            continue;
        };
        let report = enable_one(fs, name, pf, held)?;
        log_vfs(fs, name, pf.pci);
        reports.push(report);
    }
    Ok(reports)
}

fn ifindex(fs: &dyn Sysfs, netdev: &str) -> String {
    fs.read(&sriov_core::sysfs::paths::class_net(netdev).join("ifindex"))
        .map(|t| t.trim().to_string())
        .unwrap_or_default()
}

fn enable_one(
    fs: &dyn Sysfs,
    name: &str,
    pf: &PhysicalFunction,
    held: &HeldVfs,
) -> Result<EnableReport, DpError> {
    tracing::info!("Configuring SRIOV on ndev= {name} {}", ifindex(fs, name));
    tracing::info!("max_vfs = {}", pf.total_vfs);
    let before = pf.num_vfs;
    let total = pf.total_vfs;
    let err = |source| DpError::EnableVfs {
        pf_netdev: name.to_string(),
        source,
    };
    let (after, action) = if before == total {
        (before, EnableAction::AlreadyEnabled)
    } else if before == 0 {
        let out = set_num_vfs(fs, pf.pci, total, ResetPolicy::Refuse).map_err(err)?;
        (out.enabled, EnableAction::Enabled { reset: false })
    } else {
        let held_here: Vec<PciAddress> = pf
            .vfs
            .iter()
            .map(|v| v.pci)
            .filter(|p| held.holds(*p))
            .collect();
        if held_here.is_empty() {
            let out = set_num_vfs(fs, pf.pci, total, ResetPolicy::Allow).map_err(err)?;
            (out.enabled, EnableAction::Enabled { reset: out.reset })
        } else {
            tracing::warn!(
                "{name}: {} of its {before} VFs are held by pods ({}); keeping cur_vfs = {before} instead of resetting to {total}",
                held_here.len(),
                held_here
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            (before, EnableAction::KeptHeld { held: held_here })
        }
    };
    tracing::info!("cur_vfs = {after}");
    Ok(EnableReport {
        pf_netdev: name.to_string(),
        pf: Some(pf.pci),
        max_vfs: total,
        before,
        after,
        action,
    })
}

/// One line per VF, as the seed's `vf = &{7 virtfn7 true false}`, with what a user needs now:
/// the PCI address (the device ID), netdev and RDMA device.
fn log_vfs(fs: &dyn Sysfs, name: &str, pf: PciAddress) {
    let Ok(pfs) = discover(fs) else { return };
    let Some(pf) = pfs.iter().find(|p| p.pci == pf) else {
        return;
    };
    for vf in &pf.vfs {
        let rdma = rdma_dev::device_of_function(fs, vf.pci).ok();
        tracing::info!(
            "vf = {{{} virtfn{} pci={} netdev={} rdma={}}} on {name}",
            vf.index,
            vf.index,
            vf.pci,
            vf.netdev.as_deref().unwrap_or("-"),
            rdma.as_deref().unwrap_or("-"),
        );
    }
}
