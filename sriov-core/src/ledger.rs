//! The persistent allocation ledger: which VF is whose, and what to restore, in one JSON file
//! per node that several processes (the device plugin, the CNI plugin) share.
//!
//! Every change is a transaction under an exclusive `flock` on `<ledger>.lock`: reload the file
//! if another process changed it, apply the change in memory, and replace the whole ledger with
//! [`state_files::write_atomic`] (temporary file, `fsync`, `rename`, `fsync` of the directory). A crash at
//! any point leaves either the old or the new ledger, never a torn one, so nothing is lost and
//! no VF is ever handed out twice. A caller only learns of an allocation after it is durable;
//! a crash after the rename but before the reply is healed by idempotent allocation (the same
//! owner asking again gets the same VF).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use state_files::FileLock;

use crate::PciAddress;
use crate::error::{Error, Result};
use crate::pool::{Allocation, Owner, PoolVf, SavedVfState, Selector, VfPool};

const FORMAT: &str = "rdma-sriov/vf-ledger";
/// 2: owners are `{"containerId", "ifname"}` objects (1 had `"<container>/<ifname>"` strings).
const VERSION: u32 = 2;

/// The ledger as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerState {
    format: String,
    version: u32,
    /// Incremented by every write.
    pub generation: u64,
    /// Every allocation, including those of VFs no longer present (orphans).
    pub allocations: Vec<Allocation>,
}

impl LedgerState {
    fn new(generation: u64, allocations: Vec<Allocation>) -> Self {
        LedgerState {
            format: FORMAT.into(),
            version: VERSION,
            generation,
            allocations,
        }
    }
}

/// The ledger file and its lock file (`<ledger>.lock`), kept with
/// [`state_files`]: private (`0600` in a `0700` directory), never read through a link or from a
/// file another user could have written, replaced atomically.
#[derive(Debug)]
pub struct LedgerFile {
    path: PathBuf,
}

impl LedgerFile {
    /// The ledger at `path` (created on the first write). Its directory is created `0700` when
    /// missing.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LedgerFile { path: path.into() }
    }

    /// The ledger's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the exclusive lock (blocks until other processes release it), creating the
    /// ledger's directory first when missing.
    pub fn lock(&self) -> Result<FileLock> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            state_files::create_private_dir(dir)?;
        }
        Ok(FileLock::exclusive(&self.lock_path())?)
    }

    /// Reads the ledger; `None` when there is none yet. A leftover temporary file from a crash
    /// is ignored (it never replaced the ledger).
    pub fn load(&self) -> Result<Option<LedgerState>> {
        let Some(text) = state_files::read(&self.path)? else {
            return Ok(None);
        };
        let corrupt = |detail: String| Error::LedgerCorrupt {
            path: self.path.clone(),
            detail,
        };
        let state: LedgerState =
            serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
        if state.format != FORMAT || state.version != VERSION {
            return Err(corrupt(format!(
                "unknown format {:?} version {}",
                state.format, state.version
            )));
        }
        Ok(Some(state))
    }

    /// Atomically replaces the ledger with `state`.
    pub fn store(&self, state: &LedgerState) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| Error::LedgerCorrupt {
            path: self.path.clone(),
            detail: format!("cannot encode: {e}"),
        })?;
        Ok(state_files::write_atomic(&self.path, &bytes)?)
    }
}

/// A [`VfPool`] whose every change is durable in a [`LedgerFile`] before it is reported.
///
/// ```
/// use sriov_core::pool::{Owner, PoolVf, Selector};
/// use sriov_core::ledger::PersistentPool;
/// let dir = tempfile::tempdir().unwrap();
/// let pf = "0000:3b:00.0".parse().unwrap();
/// let vfs: Vec<PoolVf> = (0..8).map(|i| PoolVf { pci: sriov_core::PciAddress::vf_address(&pf, 2, 1, i).unwrap(), pf, numa_node: None }).collect();
/// let path = dir.path().join("ledger.json");
/// let vf = {
///     let mut pool = PersistentPool::open(vfs.clone(), &path).unwrap();
///     pool.allocate(Selector::Any, &Owner::attachment("pod-a", "net1").unwrap()).unwrap()
/// };
/// // a restarted process sees the allocation
/// let pool = PersistentPool::open(vfs, &path).unwrap();
/// assert_eq!(pool.pool().held_by(&Owner::attachment("pod-a", "net1").unwrap()).unwrap().pci, vf);
/// ```
#[derive(Debug)]
pub struct PersistentPool {
    pool: VfPool,
    ledger: LedgerFile,
    generation: u64,
    orphans: Vec<Allocation>,
}

impl PersistentPool {
    /// Opens the ledger at `path` over the VFs of `inventory`, restoring its allocations.
    /// Allocations of VFs not in the inventory are kept as orphans (see [`Self::orphans`]).
    pub fn open(
        inventory: impl IntoIterator<Item = PoolVf>,
        path: impl Into<PathBuf>,
    ) -> Result<Self> {
        let ledger = LedgerFile::new(path);
        let mut this = PersistentPool {
            pool: VfPool::new(inventory)?,
            ledger,
            generation: 0,
            orphans: Vec::new(),
        };
        let _lock = this.ledger.lock()?;
        this.reload()?;
        Ok(this)
    }

    fn reload(&mut self) -> Result<()> {
        match self.ledger.load()? {
            Some(state) if state.generation != self.generation || self.generation == 0 => {
                self.orphans = self.pool.restore(state.allocations)?;
                self.generation = state.generation;
            }
            Some(_) => {}
            None => {
                if self.generation != 0 {
                    return Err(Error::LedgerCorrupt {
                        path: self.ledger.path().to_path_buf(),
                        detail: "ledger disappeared".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The pool as of the last transaction.
    pub fn pool(&self) -> &VfPool {
        &self.pool
    }

    /// Allocations whose VF is not in the inventory (kept in the ledger, never dropped).
    pub fn orphans(&self) -> &[Allocation] {
        &self.orphans
    }

    /// The ledger file.
    pub fn ledger(&self) -> &LedgerFile {
        &self.ledger
    }

    /// Runs `change` on the pool under the ledger lock and makes it durable. On any error the
    /// in-memory pool is put back as the ledger has it.
    pub fn transact<T>(&mut self, change: impl FnOnce(&mut VfPool) -> Result<T>) -> Result<T> {
        let _lock = self.ledger.lock()?;
        self.reload()?;
        let before = self.pool.clone();
        let out = match change(&mut self.pool) {
            Ok(out) => out,
            Err(e) => {
                self.pool = before;
                return Err(e);
            }
        };
        if self.pool.allocations().eq(before.allocations()) {
            return Ok(out); // nothing changed: nothing to write
        }
        let mut allocations: Vec<Allocation> = self.pool.allocations().cloned().collect();
        allocations.extend(self.orphans.iter().cloned());
        let state = LedgerState::new(self.generation + 1, allocations);
        match self.ledger.store(&state) {
            Ok(()) => {
                self.generation = state.generation;
                Ok(out)
            }
            Err(e) => {
                self.pool = before;
                Err(e)
            }
        }
    }

    /// [`VfPool::allocate`], durably. Asking again for what the owner already holds writes
    /// nothing.
    pub fn allocate(&mut self, selector: Selector, owner: &Owner) -> Result<PciAddress> {
        self.transact(|pool| pool.allocate(selector, owner))
    }

    /// [`VfPool::release`], durably.
    pub fn release(&mut self, pci: PciAddress, owner: &Owner) -> Result<Allocation> {
        self.transact(|pool| pool.release(pci, owner))
    }

    /// [`VfPool::release_owner`], durably.
    pub fn release_owner(&mut self, owner: &Owner) -> Result<Option<Allocation>> {
        self.transact(|pool| Ok(pool.release_owner(owner)))
    }

    /// [`VfPool::set_saved`], durably.
    pub fn set_saved(&mut self, pci: PciAddress, owner: &Owner, saved: SavedVfState) -> Result<()> {
        self.transact(|pool| pool.set_saved(pci, owner, saved))
    }
}

/// Where the records of VF holders are kept, for code that works on either kind: the durable
/// [`PersistentPool`] of a node (shared by processes, every change written before it is
/// reported) or a plain in-memory [`VfPool`] (one process owns it: a simulation, a benchmark).
/// Both hold the same [`Allocation`] records.
///
/// ```
/// use sriov_core::ledger::Ledger;
/// use sriov_core::pool::{Owner, PoolVf, Selector, VfPool};
/// let pf = "0000:3b:00.0".parse().unwrap();
/// let vf = PoolVf { pci: sriov_core::PciAddress::vf_address(&pf, 2, 1, 0).unwrap(), pf, numa_node: None };
/// let mut pool = VfPool::new([vf]).unwrap();
/// let owner = Owner::attachment("c1", "net1").unwrap();
/// pool.transact(|p| p.allocate(Selector::Any, &owner)).unwrap();
/// assert_eq!(pool.snapshot().unwrap().len(), 1);
/// ```
pub trait Ledger {
    /// Runs `change` on the pool as one transaction: on error nothing changes; on success the
    /// change is as durable as the ledger is (on disk for [`PersistentPool`]).
    fn transact<T>(&mut self, change: impl FnOnce(&mut VfPool) -> Result<T>) -> Result<T>;

    /// Every allocation as of now (re-read from disk when others may have changed it),
    /// including those of VFs outside the pool's inventory.
    fn snapshot(&mut self) -> Result<Vec<Allocation>>;
}

impl Ledger for PersistentPool {
    fn transact<T>(&mut self, change: impl FnOnce(&mut VfPool) -> Result<T>) -> Result<T> {
        PersistentPool::transact(self, change)
    }

    fn snapshot(&mut self) -> Result<Vec<Allocation>> {
        let mut all = PersistentPool::transact(self, |pool| {
            Ok(pool.allocations().cloned().collect::<Vec<_>>())
        })?;
        all.extend(self.orphans.iter().cloned());
        Ok(all)
    }
}

impl Ledger for VfPool {
    fn transact<T>(&mut self, change: impl FnOnce(&mut VfPool) -> Result<T>) -> Result<T> {
        let before = self.clone();
        change(self).inspect_err(|_| *self = before)
    }

    fn snapshot(&mut self) -> Result<Vec<Allocation>> {
        Ok(self.allocations().cloned().collect())
    }
}
