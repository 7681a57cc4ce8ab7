//! The crate's one error type.

use std::path::PathBuf;

/// What went wrong building or running a simulation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A manifest file or directory could not be read.
    #[error("read manifest {path}: {source}")]
    ReadManifest {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A manifest document is not a known Kubernetes object.
    #[error("parse manifest {file} document {document}: {detail}")]
    ParseManifest {
        /// The file.
        file: String,
        /// The document's index in the file.
        document: usize,
        /// What is wrong.
        detail: String,
    },
    /// The manifests do not refer to each other or to the binaries' paths consistently.
    #[error("check manifests: {what}")]
    CrossReference {
        /// What does not match.
        what: String,
    },
    /// A cluster description is not usable.
    #[error("cluster description: {what}")]
    Cluster {
        /// What is wrong.
        what: String,
    },
    /// `--faults` names an unknown fault.
    #[error("parse --faults {given:?}: unknown fault (known: {known})")]
    UnknownFault {
        /// The name given.
        given: String,
        /// The known names.
        known: String,
    },
    /// A leaf's dhcpd.conf does not parse or its server cannot start.
    #[error("start DHCP server of {leaf}: {source}")]
    Leaf {
        /// The leaf.
        leaf: String,
        /// The server's error.
        #[source]
        source: Box<dhcp_server::Error>,
    },
    /// A simulated host could not be built.
    #[error("build simulated host {node}: {source}")]
    BuildHost {
        /// The node.
        node: String,
        /// The builder's error.
        #[source]
        source: sysfs_sim::BuildError,
    },
    /// An operation on a node's simulated host failed where the simulation cannot go on.
    #[error("{op} on node {node}: {source}")]
    Host {
        /// What was done.
        op: String,
        /// The node.
        node: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The node's ledger, discovery or RDMA model failed where the simulation cannot go on.
    #[error("{op} on node {node}: {source}")]
    Core {
        /// What was done.
        op: String,
        /// The node.
        node: String,
        /// The error.
        #[source]
        source: Box<sriov_core::Error>,
    },
    /// The device plugin's logic failed on a node.
    #[error("device plugin on node {node}: {source}")]
    DevicePlugin {
        /// The node.
        node: String,
        /// The error.
        #[source]
        source: Box<device_plugin::sriov_dp::DpError>,
    },
    /// The node state directory could not be made or written.
    #[error("{op} {path}: {source}")]
    StateDir {
        /// What was done.
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// An invariant did not hold after an event.
    #[error("{0}")]
    Violation(Box<crate::invariants::Violation>),
    /// The plot could not be drawn.
    #[error("draw plot {path}: {detail}")]
    Plot {
        /// The file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
