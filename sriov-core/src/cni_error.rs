//! How this crate's errors reach a CNI runtime: each [`Error`] maps to one CNI error code, so a
//! plugin built on this crate never picks codes by hand.
//!
//! | error | code |
//! | --- | --- |
//! | [`Error::PciAddress`], [`Error::VfConfig`] (a bad `deviceID`, `vlan`, `mac`, ... in the netconf) | 7 invalid network config |
//! | [`Error::InvalidOwner`] (a container ID or interface name a runtime would refuse) | 4 invalid environment |
//! | [`Error::ReadAttr`], [`Error::ReadLink`], [`Error::ReadDir`], [`Error::ParseAttr`], [`Error::BadLinkTarget`] (sysfs could not be read), `Error::VfTableEntry` (a VF table entry no `VfState` holds) | 5 I/O failure |
//! | [`Error::Host`] with EBUSY or EAGAIN (the kernel says: not now) | 11 try again later |
//! | [`Error::Host`] otherwise, [`Error::WriteAttr`], [`Error::NumVfsOutOfRange`], [`Error::VfsBusy`], [`Error::NoSriovDriver`], [`Error::InvalidNumVfs`] | [`codes::HOST_REFUSED`] (103) |
//! | [`Error::NoFreeVf`], [`Error::OwnedByOther`], [`Error::OwnerHoldsOther`] | [`codes::VF_UNAVAILABLE`] (100) |
//! | [`Error::NoSuchDevice`], [`Error::NotAVf`], [`Error::NotSriovPf`], [`Error::UnknownVf`], [`Error::VfNotListedByPf`] | [`codes::WRONG_DEVICE`] (101) |
//! | [`Error::Ledger`], [`Error::LedgerCorrupt`], [`Error::NotAllocated`] | [`codes::NODE_STATE`] (102) |
//! | [`Error::HostRoot`] (a `hostRoot` or `RDMA_SRIOV_HOST_ROOT` that is not absolute) | 7 invalid network config |
//! | [`Error::OpenBackend`], [`Error::NoNamespaceView`] (the node's backends cannot be had) | [`codes::NODE_STATE`] (102) |
//! | [`Error::DuplicateVf`] (an inventory this crate would never build) | 999 internal |
//!
//! The CNI error's `msg` is the error's message; `details` holds its sources, outermost first.
//!
//! ```
//! use cni_types::CniError;
//! use sriov_core::pool::{Owner, Selector, VfPool};
//! let mut pool = VfPool::new([]).unwrap();
//! let err = pool.allocate(Selector::Any, &Owner::attachment("c1", "net1").unwrap()).unwrap_err();
//! let cni = CniError::from(&err);
//! assert_eq!(cni.code.code(), sriov_core::cni_error::codes::VF_UNAVAILABLE);
//! assert_eq!(cni.msg, "no free VF matches any VF");
//! ```

use cni_types::{CniError, ErrorCode};

use crate::Error;

/// The codes (100 and up, the plugin's range) this crate's errors use beside the
/// specification's.
pub mod codes {
    /// No VF can be given: every matching VF, or the one asked for, is held by another
    /// attachment.
    pub const VF_UNAVAILABLE: u32 = 100;
    /// The device asked for does not exist, or is not what it must be (a VF of an SR-IOV PF
    /// in the pool).
    pub const WRONG_DEVICE: u32 = 101;
    /// The node's state (the allocation ledger) could not be read or written, or does not
    /// match what was asked.
    pub const NODE_STATE: u32 = 102;
    /// The kernel refused an operation on the host (netlink, RDMA netlink, a sysfs write).
    pub const HOST_REFUSED: u32 = 103;
}

impl Error {
    /// The CNI error code for this error (see the [module docs](self)).
    pub fn cni_code(&self) -> ErrorCode {
        match self {
            Error::PciAddress(_) | Error::VfConfig(_) | Error::HostRoot { .. } => {
                ErrorCode::InvalidNetworkConfig
            }
            Error::InvalidOwner { .. } => ErrorCode::InvalidEnvironment,
            Error::ReadAttr { .. }
            | Error::ReadLink { .. }
            | Error::ReadDir { .. }
            | Error::ParseAttr { .. }
            | Error::BadLinkTarget { .. } => ErrorCode::IoFailure,
            #[cfg(feature = "netlink")]
            Error::VfTableEntry { .. } => ErrorCode::IoFailure,
            Error::Host(e) if matches!(e.errno(), Some(libc::EBUSY | libc::EAGAIN)) => {
                ErrorCode::TryAgainLater
            }
            Error::Host(_)
            | Error::RdmaNetnsModeBusy { .. }
            | Error::WriteAttr { .. }
            | Error::NumVfsOutOfRange { .. }
            | Error::VfsBusy { .. }
            | Error::NoSriovDriver { .. }
            | Error::InvalidNumVfs { .. } => ErrorCode::Other(codes::HOST_REFUSED),
            Error::NoFreeVf { .. } | Error::OwnedByOther { .. } | Error::OwnerHoldsOther { .. } => {
                ErrorCode::Other(codes::VF_UNAVAILABLE)
            }
            Error::NoSuchDevice { .. }
            | Error::NotAVf { .. }
            | Error::NotSriovPf { .. }
            | Error::UnknownVf { .. }
            | Error::VfNotListedByPf { .. } => ErrorCode::Other(codes::WRONG_DEVICE),
            Error::Ledger(_)
            | Error::LedgerCorrupt { .. }
            | Error::NotAllocated { .. }
            | Error::OpenBackend { .. }
            | Error::NoNamespaceView { .. } => ErrorCode::Other(codes::NODE_STATE),
            Error::DuplicateVf { .. } => ErrorCode::Internal,
        }
    }
}

impl From<&Error> for CniError {
    fn from(err: &Error) -> CniError {
        CniError::from_error(err.cni_code(), err)
    }
}

impl From<Error> for CniError {
    fn from(err: Error) -> CniError {
        CniError::from(&err)
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::path::PathBuf;

    use super::*;
    use crate::pool::{Owner, Selector};
    use crate::{AttrErrorKind, FunctionRole, HostError, HostOp, HostTarget, PciAddress};

    fn pci() -> PciAddress {
        "0000:3b:00.2".parse().unwrap()
    }

    fn owner(c: &str) -> Owner {
        Owner::attachment(c, "net1").unwrap()
    }

    fn host(errno: i32) -> Error {
        Error::from(HostError {
            op: HostOp::SetLinkUp,
            target: HostTarget::Pf("ens2f0".into()),
            source: io::Error::from_raw_os_error(errno),
        })
    }

    fn io() -> io::Error {
        io::Error::from_raw_os_error(libc::EACCES)
    }

    #[test]
    fn every_error_has_the_code_the_table_gives() {
        let path = || PathBuf::from("/sys/x");
        let cases: Vec<(Error, u32)> = vec![
            ("zz".parse::<PciAddress>().unwrap_err().into(), 7),
            (
                crate::VlanConfig::new(5000, 0, crate::VlanProto::Dot1Q)
                    .unwrap_err()
                    .into(),
                7,
            ),
            (Owner::attachment("", "net1").unwrap_err(), 4),
            (
                Error::ReadAttr {
                    path: path(),
                    source: io(),
                },
                5,
            ),
            (
                Error::ReadLink {
                    path: path(),
                    source: io(),
                },
                5,
            ),
            (
                Error::ReadDir {
                    path: path(),
                    source: io(),
                },
                5,
            ),
            (
                Error::ParseAttr {
                    path: path(),
                    value: "x".into(),
                    kind: AttrErrorKind::NotANumber,
                },
                5,
            ),
            (
                Error::BadLinkTarget {
                    path: path(),
                    target: path(),
                },
                5,
            ),
            (host(libc::EBUSY), 11),
            (host(libc::EAGAIN), 11),
            (host(libc::EOPNOTSUPP), codes::HOST_REFUSED),
            (
                Error::WriteAttr {
                    path: path(),
                    value: "1".into(),
                    source: io(),
                },
                codes::HOST_REFUSED,
            ),
            (
                Error::NumVfsOutOfRange {
                    pf: pci(),
                    requested: 9,
                    total: 8,
                },
                codes::HOST_REFUSED,
            ),
            (
                Error::VfsBusy {
                    pf: pci(),
                    current: 8,
                    requested: 4,
                },
                codes::HOST_REFUSED,
            ),
            (Error::NoSriovDriver { pf: pci() }, codes::HOST_REFUSED),
            (
                Error::InvalidNumVfs {
                    pf: pci(),
                    value: "x".into(),
                },
                codes::HOST_REFUSED,
            ),
            (
                Error::NoFreeVf {
                    selector: Selector::Any,
                },
                codes::VF_UNAVAILABLE,
            ),
            (
                Error::OwnedByOther {
                    pci: pci(),
                    owner: owner("a"),
                    requester: owner("b"),
                },
                codes::VF_UNAVAILABLE,
            ),
            (
                Error::OwnerHoldsOther {
                    owner: owner("a"),
                    held: pci(),
                    selector: Selector::Any,
                },
                codes::VF_UNAVAILABLE,
            ),
            (Error::NoSuchDevice { pci: pci() }, codes::WRONG_DEVICE),
            (
                Error::NotAVf {
                    pci: pci(),
                    role: FunctionRole::PhysicalFunction,
                },
                codes::WRONG_DEVICE,
            ),
            (Error::NotSriovPf { pci: pci() }, codes::WRONG_DEVICE),
            (Error::UnknownVf { pci: pci() }, codes::WRONG_DEVICE),
            (
                Error::VfNotListedByPf {
                    vf: pci(),
                    pf: pci(),
                },
                codes::WRONG_DEVICE,
            ),
            (
                Error::Ledger(state_files::Error::Symlink { path: path() }),
                codes::NODE_STATE,
            ),
            (
                Error::LedgerCorrupt {
                    path: path(),
                    detail: "x".into(),
                },
                codes::NODE_STATE,
            ),
            (Error::NotAllocated { pci: pci() }, codes::NODE_STATE),
            (Error::DuplicateVf { pci: pci() }, 999),
            (
                Error::HostRoot {
                    given_by: crate::node::HostRootSource::Environment,
                    value: "x".into(),
                },
                7,
            ),
            (
                Error::OpenBackend {
                    backend: "rtnetlink",
                    source: io(),
                },
                codes::NODE_STATE,
            ),
            (
                Error::NoNamespaceView {
                    root: path(),
                    ns: crate::Netns::named("pod"),
                },
                codes::NODE_STATE,
            ),
        ];
        for (err, code) in cases {
            let cni = CniError::from(&err);
            assert_eq!(cni.code.code(), code, "{err:?}");
            assert_eq!(cni.msg, err.to_string());
        }
    }

    #[test]
    fn details_carry_the_causes_the_message_does_not_already_say() {
        let err = Error::ReadAttr {
            path: "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs".into(),
            source: io(),
        };
        let cni = CniError::from(err);
        assert_eq!(
            cni.msg,
            "read /sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs: Permission denied (os error 13)"
        );
        assert_eq!(cni.details, "", "the message already ends with its cause");
    }
}
