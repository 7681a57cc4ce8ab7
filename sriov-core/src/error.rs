//! The crate's error type: every variant names the operation and the path or object it failed on.

use std::io;
use std::path::PathBuf;

use crate::{PciAddress, PciAddressError, VfConfigError};

/// What is wrong with an attribute's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttrErrorKind {
    /// The file was empty (or only whitespace).
    #[error("empty value")]
    Empty,
    /// Not a number in the expected base, or stray characters.
    #[error("not a valid number")]
    NotANumber,
    /// The number does not fit the attribute's type.
    #[error("number out of range")]
    Overflow,
    /// Expected a `0x` prefix (vendor, device, class).
    #[error("missing 0x prefix")]
    MissingHexPrefix,
    /// Not one of the values the kernel prints for this attribute.
    #[error("unexpected value")]
    Unexpected,
}

/// Errors of `sriov-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading an attribute failed.
    #[error("read {}: {source}", path.display())]
    ReadAttr {
        /// The attribute.
        path: PathBuf,
        /// The error, with the kernel's errno.
        source: io::Error,
    },
    /// Writing an attribute failed with an errno this crate has no better name for.
    #[error("write {value:?} to {}: {source}", path.display())]
    WriteAttr {
        /// The attribute.
        path: PathBuf,
        /// What was written.
        value: String,
        /// The error, with the kernel's errno.
        source: io::Error,
    },
    /// Reading a symbolic link failed.
    #[error("read link {}: {source}", path.display())]
    ReadLink {
        /// The link.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Listing a directory failed.
    #[error("list {}: {source}", path.display())]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// An attribute's text is not what the kernel prints there.
    #[error("{}: {kind}: {value:?}", path.display())]
    ParseAttr {
        /// The attribute.
        path: PathBuf,
        /// The text read (trimmed).
        value: String,
        /// What is wrong with it.
        kind: AttrErrorKind,
    },
    /// A link that should point at a PCI function does not.
    #[error("{}: link target {target:?} does not end in a PCI address", path.display())]
    BadLinkTarget {
        /// The link.
        path: PathBuf,
        /// Its target.
        target: PathBuf,
    },
    /// A PCI address did not parse.
    #[error(transparent)]
    PciAddress(#[from] PciAddressError),
    /// A VF configuration value is invalid.
    #[error(transparent)]
    VfConfig(#[from] VfConfigError),
    /// The function has no SR-IOV capability (`sriov_totalvfs` missing).
    #[error("{pci}: not an SR-IOV physical function (no sriov_totalvfs)")]
    NotSriovPf {
        /// The function.
        pci: PciAddress,
    },
    /// More VFs asked for than `sriov_totalvfs` (ERANGE).
    #[error("{pf}: {requested} VFs requested but sriov_totalvfs is {total}")]
    NumVfsOutOfRange {
        /// The PF.
        pf: PciAddress,
        /// The count asked for.
        requested: u32,
        /// The PF's maximum.
        total: u32,
    },
    /// VFs are enabled and a different non-zero count was asked for without allowing a reset
    /// (EBUSY: the kernel wants 0 written first).
    #[error(
        "{pf}: {current} VFs are enabled; they must be disabled (0 written) before enabling {requested}"
    )]
    VfsBusy {
        /// The PF.
        pf: PciAddress,
        /// VFs enabled now.
        current: u32,
        /// The count asked for.
        requested: u32,
    },
    /// No driver bound to the PF, or a driver without SR-IOV support (ENOENT).
    #[error("{pf}: no driver with SR-IOV support is bound (ENOENT writing sriov_numvfs)")]
    NoSriovDriver {
        /// The PF.
        pf: PciAddress,
    },
    /// The kernel rejected the value written to `sriov_numvfs` (EINVAL).
    #[error("{pf}: the kernel rejected sriov_numvfs value {value:?} (EINVAL)")]
    InvalidNumVfs {
        /// The PF.
        pf: PciAddress,
        /// The value written.
        value: String,
    },
    /// Reading or writing the allocation ledger failed.
    #[error("ledger {}: {op}: {source}", path.display())]
    Ledger {
        /// The ledger file (or its lock or temporary file).
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The ledger file does not hold a valid ledger.
    #[error("ledger {}: corrupt: {detail}", path.display())]
    LedgerCorrupt {
        /// The ledger file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A crash injected into a ledger write (tests and fault drills only).
    #[error("ledger {}: injected crash at {point:?}", path.display())]
    InjectedCrash {
        /// The ledger file.
        path: PathBuf,
        /// Where the write stopped.
        point: crate::ledger::CrashPoint,
    },
    /// The same VF appears twice in a pool's inventory.
    #[error("VF {pci} listed twice in the pool inventory")]
    DuplicateVf {
        /// The VF.
        pci: PciAddress,
    },
    /// No free VF matches the request.
    #[error("no free VF matches {selector}")]
    NoFreeVf {
        /// The request.
        selector: String,
    },
    /// The VF is not in the pool.
    #[error("VF {pci} is not in the pool")]
    UnknownVf {
        /// The VF.
        pci: PciAddress,
    },
    /// Releasing a VF that is not allocated.
    #[error("VF {pci} is not allocated")]
    NotAllocated {
        /// The VF.
        pci: PciAddress,
    },
    /// The VF is allocated to someone else.
    #[error("VF {pci} is allocated to {owner:?}, not to {requester:?}")]
    OwnedByOther {
        /// The VF.
        pci: PciAddress,
        /// Its owner.
        owner: String,
        /// Who asked.
        requester: String,
    },
    /// The owner already holds a VF that does not match this request.
    #[error("{owner:?} already holds VF {held}, which does not match {selector}")]
    OwnerHoldsOther {
        /// The owner.
        owner: String,
        /// The VF it holds.
        held: PciAddress,
        /// The request.
        selector: String,
    },
    /// One VF of a PF's VF table (`IFLA_VFINFO_LIST`) holds values no `VfState` can represent.
    #[cfg(feature = "netlink")]
    #[error("VF table entry {vf}: {source}")]
    VfTableEntry {
        /// The VF index (or the entry's position when it carries none).
        vf: u32,
        /// What is wrong with its values.
        source: VfConfigError,
    },
    /// A netlink (or simulated netlink) operation failed.
    #[error("{op} {target}: {source}")]
    NetOp {
        /// The operation, e.g. `set VF MAC`.
        op: &'static str,
        /// What it was applied to, e.g. `ens2f0 vf 3`.
        target: String,
        /// The error, with the kernel's errno.
        source: io::Error,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
