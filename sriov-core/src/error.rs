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

/// What a PCI function that is not a VF is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FunctionRole {
    /// An SR-IOV physical function (it has `sriov_totalvfs`).
    PhysicalFunction,
    /// A function without SR-IOV.
    PlainFunction,
}

impl std::fmt::Display for FunctionRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FunctionRole::PhysicalFunction => "an SR-IOV physical function",
            FunctionRole::PlainFunction => "a PCI function without SR-IOV",
        })
    }
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
    /// No PCI function at this address (`/sys/bus/pci/devices/<pci>` is absent).
    #[error("{pci}: no such PCI device")]
    NoSuchDevice {
        /// The address.
        pci: PciAddress,
    },
    /// The function exists but is not a virtual function.
    #[error("{pci}: not a virtual function but {role}")]
    NotAVf {
        /// The function.
        pci: PciAddress,
        /// What it is instead.
        role: FunctionRole,
    },
    /// A VF's `physfn` names a PF none of whose `virtfnN` links point back at it (a tree
    /// changing under the reader, or a damaged capture).
    #[error("VF {vf}: its PF {pf} does not list it among its enabled VFs")]
    VfNotListedByPf {
        /// The VF.
        vf: PciAddress,
        /// The PF its `physfn` names.
        pf: PciAddress,
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
    /// Reading, writing or locking the allocation ledger failed.
    #[error("ledger: {0}")]
    Ledger(#[from] state_files::Error),
    /// The ledger file does not hold a valid ledger.
    #[error("ledger {}: corrupt: {detail}", path.display())]
    LedgerCorrupt {
        /// The ledger file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
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
        selector: crate::pool::Selector,
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
    #[error("VF {pci} is allocated to {owner}, not to {requester}")]
    OwnedByOther {
        /// The VF.
        pci: PciAddress,
        /// Its owner.
        owner: crate::pool::Owner,
        /// Who asked.
        requester: crate::pool::Owner,
    },
    /// An attachment's container ID or interface name is not one a CNI runtime accepts.
    #[error("invalid attachment {container_id:?}/{ifname:?}: {reason}")]
    InvalidOwner {
        /// The container ID given.
        container_id: String,
        /// The interface name given.
        ifname: String,
        /// The runtime's rule that refuses it.
        #[source]
        reason: Box<cni_types::CniError>,
    },
    /// The owner already holds a VF that does not match this request.
    #[error("{owner} already holds VF {held}, which does not match {selector}")]
    OwnerHoldsOther {
        /// The owner.
        owner: crate::pool::Owner,
        /// The VF it holds.
        held: PciAddress,
        /// The request.
        selector: crate::pool::Selector,
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
    /// A host-trait call (netlink, RDMA netlink, or their simulation) failed; the error names
    /// the operation, its value and its target.
    #[error(transparent)]
    Host(Box<crate::HostError>),
    /// The RDMA netns mode cannot change while a network namespace other than the initial one
    /// exists (the kernel's `EBUSY`); these do.
    #[error(
        "set the RDMA netns mode to {mode}: it can change only while no network namespace other \
         than the initial one exists, and these exist: {}",
        namespaces.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    RdmaNetnsModeBusy {
        /// The mode asked for.
        mode: crate::RdmaNetnsMode,
        /// The namespaces that exist.
        namespaces: Vec<crate::Netns>,
    },
    /// A host root given by a netconf or the environment is not an absolute path.
    #[error("host root {value:?} from {given_by} is not an absolute path")]
    HostRoot {
        /// Where it was given.
        given_by: crate::node::HostRootSource,
        /// What was given.
        value: String,
    },
    /// A kernel backend could not be opened (rtnetlink needs `/proc/self/ns/net`).
    #[error("open the {backend} backend: {source}")]
    OpenBackend {
        /// Which backend.
        backend: &'static str,
        /// The error.
        source: io::Error,
    },
    /// Another namespace's sysfs was asked of a node that is not a simulated host.
    #[error(
        "the sysfs of namespace {ns} is only readable through a simulated host, and {} holds none",
        root.display()
    )]
    NoNamespaceView {
        /// The host root.
        root: PathBuf,
        /// The namespace.
        ns: crate::Netns,
    },
}

impl From<crate::HostError> for Error {
    fn from(e: crate::HostError) -> Self {
        Error::Host(Box::new(e))
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
