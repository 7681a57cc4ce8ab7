//! The daemon's errors: each names what it was doing and to which file, PF or device.

use std::path::PathBuf;

/// What failed in `rdma-sriov-dp`.
#[derive(Debug, thiserror::Error)]
pub enum DpError {
    /// The configuration file could not be read.
    #[error("read config {path}: {source}")]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is not valid.
    #[error("parse config: {source}")]
    ParseConfig {
        /// rdma-dev's error.
        #[source]
        source: rdma_dev::Error,
    },
    /// The `--resource-prefix` is not a DNS subdomain.
    #[error("resource prefix {prefix:?}: not a lower-case DNS subdomain")]
    Prefix {
        /// The prefix given.
        prefix: String,
    },
    /// Discovering the host's devices failed.
    #[error("discover devices under {root}: {source}")]
    Discover {
        /// The host root.
        root: PathBuf,
        /// rdma-dev's error.
        #[source]
        source: rdma_dev::Error,
    },
    /// Reading the VF ledger failed.
    #[error("read VF ledger {path}: {source}")]
    Ledger {
        /// The ledger file.
        path: PathBuf,
        /// sriov-core's error.
        #[source]
        source: sriov_core::Error,
    },
    /// Enabling VFs on a PF failed.
    #[error("enable VFs on {pf_netdev}: {source}")]
    EnableVfs {
        /// The PF's netdev.
        pf_netdev: String,
        /// sriov-core's error.
        #[source]
        source: sriov_core::Error,
    },
    /// Writing a device-info file failed.
    #[error("write device info {path}: {source}")]
    DeviceInfo {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Installing the SIGTERM/SIGINT handlers failed.
    #[error("install signal handlers: {source}")]
    Signals {
        /// The framework's error.
        #[source]
        source: crate::Error,
    },
    /// Starting the async runtime or a thread failed.
    #[error("start {what}: {source}")]
    Start {
        /// What was started.
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}
