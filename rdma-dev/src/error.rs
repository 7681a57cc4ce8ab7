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
