//! The crate's error type: every variant names the operation and its target, and has the CNI
//! error code the plugins report ([`Error::cni_code`]).

use std::path::PathBuf;

use cni_types::{CniError, ErrorCode};
use sriov_core::cni_error::codes;
use sriov_core::pool::Owner;
use sriov_core::{HostError, MacAddress, Netns, PciAddress, RdmaNetnsMode};

/// Errors of `sriov-cni`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration key has a value the plugin cannot use (code 7).
    #[error("invalid {key}: {reason}")]
    InvalidKey {
        /// The key, as written in the netconf (`vlan`, `runtimeConfig.mac`, `CNI_ARGS MAC`).
        key: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// The configuration is not a JSON object of the expected shape (code 6).
    #[error("decode netconf: {0}")]
    Decode(String),
    /// Neither `deviceID` nor `runtimeConfig.deviceID` was given (code 7).
    #[error("VF pci addr is required: set deviceID (or runtimeConfig.deviceID)")]
    MissingDeviceId,
    /// The `deviceID` does not name a usable VF: absent, a PF, not SR-IOV (code 7).
    #[error("deviceID {pci}: {source}")]
    Device {
        /// The address given.
        pci: PciAddress,
        /// What sysfs says it is.
        #[source]
        source: sriov_core::Error,
    },
    /// The VF's PF has no netdev in the host namespace, so its VF table cannot be reached.
    #[error("PF {pf} of VF {vf} has no netdev in the host namespace")]
    PfWithoutNetdev {
        /// The PF.
        pf: PciAddress,
        /// The VF.
        vf: PciAddress,
    },
    /// The VF has no netdev in the host namespace (a userspace driver, or it is elsewhere).
    #[error("VF {pci} has no netdev in the host namespace (bound to a userspace driver?)")]
    NoNetdev {
        /// The VF.
        pci: PciAddress,
    },
    /// The VF is not in its PF's VF table.
    #[error("VF {index} of {pf} is not in the PF's VF table")]
    NotInVfTable {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        index: u32,
    },
    /// The ledger gives the VF to another attachment whose namespace still exists (code 100).
    #[error("pci address {pci} is already allocated to {owner} (its netns {netns} exists)")]
    VfInUse {
        /// The VF.
        pci: PciAddress,
        /// Its holder.
        owner: Owner,
        /// The holder's namespace (`unknown` for a holder that recorded none).
        netns: String,
    },
    /// Reading or writing the ledger, or a pool rule (code per `sriov_core`).
    #[error("ledger: {0}")]
    Ledger(#[from] sriov_core::Error),
    /// A host-trait call failed; the error names the operation and its target.
    #[error(transparent)]
    Host(#[from] HostError),
    /// Reading sysfs failed.
    #[error("read {}: {source}", path.display())]
    Sysfs {
        /// The path.
        path: PathBuf,
        /// The error with the kernel's errno.
        #[source]
        source: std::io::Error,
    },
    /// Taking a per-VF lock or writing a state file failed.
    #[error("{what}: {source}")]
    State {
        /// What was done (`lock VF 0000:3b:00.2`, `write RDMA state <path>`).
        what: String,
        /// The error.
        #[source]
        source: state_files::Error,
    },
    /// Creating the temporary namespace a netdev is renamed in failed.
    #[error("create temporary namespace for VF {pci}: {source}")]
    TempNetns {
        /// The VF.
        pci: PciAddress,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The admin MAC read back from the PF's VF table is not the one set.
    #[error("set VF mac of {pf} vf {index} to {want}: the VF table reads {read}")]
    MacReadBack {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        index: u32,
        /// The MAC set.
        want: MacAddress,
        /// The MAC read back.
        read: MacAddress,
    },
    /// The IPAM plugin failed; its own error (and code) is kept.
    #[error("IPAM {plugin} {command}: {}", source.msg)]
    Ipam {
        /// The IPAM plugin.
        plugin: String,
        /// ADD or DEL.
        command: &'static str,
        /// Its error.
        source: CniError,
    },
    /// The IPAM plugin returned no address (code 7: the IPAM config cannot serve the pod).
    #[error("IPAM {plugin} returned no IP addresses")]
    IpamNoAddresses {
        /// The IPAM plugin.
        plugin: String,
    },
    /// The VF's netdev is nowhere DEL can find it (code 11: retry later).
    #[error("netdev of VF {pci} is neither in the host nor as {ifname} in {netns}")]
    NetdevNotFound {
        /// The VF.
        pci: PciAddress,
        /// The pod namespace searched.
        netns: String,
        /// The name searched there.
        ifname: String,
    },
    /// CHECK found the attachment different from what ADD made (code 100+).
    #[error("CHECK {owner}: {what}")]
    CheckFailed {
        /// The attachment.
        owner: Owner,
        /// What differs.
        what: String,
    },
    /// ADD failed and undoing what it had done failed too; the ledger keeps the record, so
    /// DEL or `rdmactl reconcile` finishes the undo.
    #[error("{cause}; undo failed too (the ledger keeps the record): {undo}")]
    Rollback {
        /// Why ADD failed.
        cause: Box<Error>,
        /// Why the undo failed.
        undo: Box<Error>,
    },
    /// The RDMA plugin was not called in a chain (no `prevResult`).
    #[error("RDMA CNI: expected to be called as part of a plugin chain (no prevResult)")]
    NotChained,
    /// The RDMA netns mode is not `exclusive`.
    #[error("RDMA netns mode is {mode}, must be exclusive (rdma system set netns exclusive)")]
    RdmaModeNotExclusive {
        /// The current mode.
        mode: RdmaNetnsMode,
    },
    /// Without a deviceID, the prevResult's MAC did not name exactly one VF.
    #[error("no single VF has admin MAC {mac}: {count} found")]
    VfByMac {
        /// The MAC of the prevResult's interface.
        mac: MacAddress,
        /// How many VFs have it.
        count: usize,
    },
    /// The VF does not have exactly one RDMA device.
    #[error("VF {pci} has {count} RDMA devices, expected exactly one")]
    RdmaDeviceCount {
        /// The VF.
        pci: PciAddress,
        /// How many it has.
        count: usize,
    },
    /// CHECK: the recorded RDMA device is not in the pod's namespace.
    #[error("RDMA device {device} is not in {netns}")]
    RdmaNotInPod {
        /// The device.
        device: String,
        /// The pod's namespace.
        netns: Netns,
    },
    /// The RDMA state file does not parse.
    #[error("RDMA state {}: {detail}", path.display())]
    RdmaStateCorrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The host root or the host backends could not be set up.
    #[error("host: {0}")]
    Node(sriov_core::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The code for an attachment that CHECK finds different from what ADD made.
pub const CHECK_FAILED: u32 = 104;

impl Error {
    /// The CNI error code: 7 for configuration, 6 for decoding, 11 when a retry may succeed,
    /// the IPAM plugin's own code for its errors, 100+ for the rest (see `sriov_core::cni_error`).
    pub fn cni_code(&self) -> ErrorCode {
        match self {
            Error::InvalidKey { .. }
            | Error::MissingDeviceId
            | Error::Device { .. }
            | Error::IpamNoAddresses { .. }
            | Error::NotChained
            | Error::RdmaModeNotExclusive { .. } => ErrorCode::InvalidNetworkConfig,
            Error::Decode(_) => ErrorCode::DecodingFailure,
            Error::PfWithoutNetdev { .. }
            | Error::NoNetdev { .. }
            | Error::NotInVfTable { .. }
            | Error::VfByMac { .. }
            | Error::RdmaDeviceCount { .. } => ErrorCode::Other(codes::WRONG_DEVICE),
            Error::VfInUse { .. } => ErrorCode::Other(codes::VF_UNAVAILABLE),
            Error::Ledger(e) | Error::Node(e) => e.cni_code(),
            Error::Host(e) if matches!(e.errno(), Some(libc::EBUSY | libc::EAGAIN)) => {
                ErrorCode::TryAgainLater
            }
            Error::Host(_) | Error::TempNetns { .. } | Error::MacReadBack { .. } => {
                ErrorCode::Other(codes::HOST_REFUSED)
            }
            Error::Sysfs { .. } => ErrorCode::IoFailure,
            Error::State { .. } | Error::RdmaStateCorrupt { .. } => {
                ErrorCode::Other(codes::NODE_STATE)
            }
            Error::Ipam { source, .. } => source.code,
            Error::NetdevNotFound { .. } => ErrorCode::TryAgainLater,
            Error::CheckFailed { .. } | Error::RdmaNotInPod { .. } => {
                ErrorCode::Other(CHECK_FAILED)
            }
            Error::Rollback { cause, .. } => cause.cni_code(),
        }
    }

    /// The error as the plugin prints it.
    pub fn to_cni(&self) -> CniError {
        CniError::new(self.cni_code(), self.to_string())
    }
}

impl From<Error> for CniError {
    fn from(e: Error) -> Self {
        e.to_cni()
    }
}
