//! The crate's error type: every variant names the operation and the path, device or input it
//! failed on.

use std::path::PathBuf;

use sriov_core::PciAddress;

use crate::attrs::ParseError;

/// Errors of `rdma-dev`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An attribute's text is not what the kernel prints there.
    #[error("{}: {source}", path.display())]
    ParseAttr {
        /// The attribute.
        path: PathBuf,
        /// What is wrong with it.
        source: ParseError,
    },
    /// Reading sysfs (attributes, links, directories; the error names the path and keeps the
    /// kernel's errno), or SR-IOV discovery, failed in `sriov-core`.
    #[error(transparent)]
    Sriov(#[from] sriov_core::Error),
    /// The PCI function has no RDMA device (none under its `infiniband/`).
    #[error("{pci}: no RDMA device")]
    NoRdmaDevice {
        /// The function.
        pci: PciAddress,
    },
    /// The PCI function has several RDMA devices where exactly one was expected.
    #[error("{pci}: several RDMA devices: {}", names.join(", "))]
    SeveralRdmaDevices {
        /// The function.
        pci: PciAddress,
        /// Their names.
        names: Vec<String>,
    },
    /// Moving an RDMA device between namespaces needs the `exclusive` RDMA netns mode.
    #[error("move RDMA device {device}: the RDMA netns mode is shared (set it to exclusive first)")]
    SharedNetnsMode {
        /// The device.
        device: String,
    },
    /// An RDMA netlink call (or its simulation) failed; the error names the operation and the
    /// device.
    #[error(transparent)]
    Host(#[from] sriov_core::HostError),
    /// The resource configuration is not valid JSON of the expected shape.
    #[error("resource configuration: {source}")]
    ConfigJson {
        /// The decoder's error.
        source: serde_json::Error,
    },
    /// The resource configuration is well-formed JSON but not a valid configuration.
    #[error("resource configuration: {detail}")]
    Config {
        /// What is wrong.
        detail: String,
    },
    /// A device ID that the resource does not have.
    #[error("resource {resource}: unknown device ID {id:?}")]
    UnknownDeviceId {
        /// The resource.
        resource: String,
        /// The ID.
        id: String,
    },
    /// The same device ID asked for twice in one allocation.
    #[error("resource {resource}: device ID {id:?} requested twice")]
    DuplicateDeviceId {
        /// The resource.
        resource: String,
        /// The ID.
        id: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The CNI error code of each error, so a plugin built on this crate never picks codes by hand:
///
/// | error | code |
/// | --- | --- |
/// | [`Error::ParseAttr`] | 5 I/O failure (sysfs holds what the kernel would not print) |
/// | [`Error::Sriov`] | that error's own code ([`sriov_core::Error::cni_code`]) |
/// | [`Error::Host`] | 11 try again for EBUSY/EAGAIN, else `sriov_core` 103 (host refused) |
/// | [`Error::SharedNetnsMode`] | 103 host refused (the node's RDMA netns mode must change) |
/// | [`Error::NoRdmaDevice`], [`Error::SeveralRdmaDevices`], [`Error::UnknownDeviceId`] | 101 wrong device |
/// | [`Error::ConfigJson`], [`Error::Config`], [`Error::DuplicateDeviceId`] | 7 invalid network config |
///
/// ```
/// use cni_types::CniError;
/// let err = rdma_dev::Error::SharedNetnsMode { device: "mlx5_3".into() };
/// assert_eq!(CniError::from(&err).code.code(), 103);
/// ```
impl Error {
    /// The CNI error code for this error (see the table above).
    pub fn cni_code(&self) -> cni_types::ErrorCode {
        use cni_types::ErrorCode;
        use sriov_core::cni_error::codes;
        match self {
            Error::ParseAttr { .. } => ErrorCode::IoFailure,
            Error::Sriov(e) => e.cni_code(),
            Error::Host(e) if matches!(e.errno(), Some(libc::EBUSY | libc::EAGAIN)) => {
                ErrorCode::TryAgainLater
            }
            Error::Host(_) | Error::SharedNetnsMode { .. } => ErrorCode::Other(codes::HOST_REFUSED),
            Error::NoRdmaDevice { .. }
            | Error::SeveralRdmaDevices { .. }
            | Error::UnknownDeviceId { .. } => ErrorCode::Other(codes::WRONG_DEVICE),
            Error::ConfigJson { .. } | Error::Config { .. } | Error::DuplicateDeviceId { .. } => {
                ErrorCode::InvalidNetworkConfig
            }
        }
    }
}

impl From<&Error> for cni_types::CniError {
    fn from(err: &Error) -> Self {
        cni_types::CniError::from_error(err.cni_code(), err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_code() {
        let pci: PciAddress = "0000:3b:00.2".parse().unwrap();
        let host = |errno| {
            Error::Host(sriov_core::HostError {
                op: sriov_core::HostOp::ListRdmaDevices,
                target: sriov_core::HostTarget::RdmaSubsystem,
                source: std::io::Error::from_raw_os_error(errno),
            })
        };
        let cases: Vec<(Error, u32)> = vec![
            (
                Error::ParseAttr {
                    path: "/sys/x".into(),
                    source: crate::attrs::ParseError {
                        what: "GUID",
                        input: "x".into(),
                        reason: "too short",
                    },
                },
                5,
            ),
            (Error::Sriov(sriov_core::Error::NoSuchDevice { pci }), 101),
            (host(libc::EBUSY), 11),
            (host(libc::ENODEV), 103),
            (
                Error::SharedNetnsMode {
                    device: "mlx5_2".into(),
                },
                103,
            ),
            (Error::NoRdmaDevice { pci }, 101),
            (
                Error::SeveralRdmaDevices {
                    pci,
                    names: vec!["a".into(), "b".into()],
                },
                101,
            ),
            (
                Error::UnknownDeviceId {
                    resource: "rdma/vhca".into(),
                    id: "x".into(),
                },
                101,
            ),
            (
                Error::ConfigJson {
                    source: serde_json::from_str::<u8>("x").unwrap_err(),
                },
                7,
            ),
            (Error::Config { detail: "x".into() }, 7),
            (
                Error::DuplicateDeviceId {
                    resource: "rdma/vhca".into(),
                    id: "x".into(),
                },
                7,
            ),
        ];
        for (err, code) in cases {
            assert_eq!(cni_types::CniError::from(&err).code.code(), code, "{err:?}");
        }
    }
}
