//! What the node's VF ledger (`sriov_core::ledger`, written by the SR-IOV CNI plugin) says pods
//! hold. The ledger records an attachment until its CNI DEL (or `rdmactl reconcile`) drops it,
//! so every VF in it counts as held by a live pod.

use std::collections::BTreeSet;
use std::path::Path;

use sriov_core::PciAddress;
use sriov_core::ledger::LedgerFile;

use super::error::DpError;

/// The VFs pods hold, as far as the ledger tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldVfs {
    /// The ledger was read (no ledger yet: nothing held).
    Known(BTreeSet<PciAddress>),
    /// The ledger could not be read: every VF counts as held, so nothing is reset or proposed
    /// on a guess.
    Unreadable(String),
}

impl HeldVfs {
    /// Reads the ledger at `path`.
    pub fn read(path: &Path) -> HeldVfs {
        match load(path) {
            Ok(held) => HeldVfs::Known(held),
            Err(e) => HeldVfs::Unreadable(e.to_string()),
        }
    }

    /// Whether a pod (may) hold `pci`.
    pub fn holds(&self, pci: PciAddress) -> bool {
        match self {
            HeldVfs::Known(set) => set.contains(&pci),
            HeldVfs::Unreadable(_) => true,
        }
    }
}

/// The VFs the ledger at `path` records allocations of.
pub fn load(path: &Path) -> Result<BTreeSet<PciAddress>, DpError> {
    let state = LedgerFile::new(path)
        .load()
        .map_err(|source| DpError::Ledger {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(state
        .map(|s| s.allocations.iter().map(|a| a.pci).collect())
        .unwrap_or_default())
}
