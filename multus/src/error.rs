//! What the meta plugin can fail at, each failure naming its operation and target, and the CNI
//! code each one is reported with.

use std::path::PathBuf;

use cni_types::{CniError, ErrorCode};

/// A failure of the meta plugin.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is not a JSON object.
    #[error("decode multus configuration: {source}")]
    ConfigJson {
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
    /// A configuration key has the wrong type or value.
    #[error("multus configuration key {key:?}: {reason}")]
    ConfigKey {
        /// The key (`delegates[1]` for an entry of a list).
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The cluster network named by `clusterNetwork` is in none of the places looked in.
    #[error(
        "find clusterNetwork {name:?}: no file in {conf_dir} and no NetworkAttachmentDefinition {namespace}/{name}"
    )]
    ClusterNetworkNotFound {
        /// The name given.
        name: String,
        /// The configuration directory searched.
        conf_dir: PathBuf,
        /// The namespace searched for a NetworkAttachmentDefinition.
        namespace: String,
    },
    /// A network configuration file could not be read or parsed.
    #[error("load network configuration {path}: {source}")]
    NetworkFile {
        /// The file.
        path: PathBuf,
        /// The CNI library's error.
        #[source]
        source: Box<cni_types::Error>,
    },
    /// No NetworkAttachmentDefinition file of that name.
    #[error(
        "find NetworkAttachmentDefinition {namespace}/{name}: none of {dir}/{namespace}/{name}.{{yaml,yml,json}}"
    )]
    NadNotFound {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The directory searched.
        dir: PathBuf,
    },
    /// A NetworkAttachmentDefinition file could not be read.
    #[error("read NetworkAttachmentDefinition {path}: {source}")]
    NadRead {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A NetworkAttachmentDefinition file is not one.
    #[error("parse NetworkAttachmentDefinition {path}: {reason}")]
    NadParse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The networks annotation or a NetworkAttachmentDefinition's config did not parse.
    #[error("{what}: {source}")]
    Input {
        /// What was parsed (`annotation k8s.v1.cni.cncf.io/networks of pod default/web`).
        what: String,
        /// The CNI library's error.
        #[source]
        source: Box<cni_types::Error>,
    },
    /// The readiness indicator file does not exist (the cluster network is not ready).
    #[error("check readinessindicatorfile {path}: it does not exist")]
    NotReady {
        /// The file.
        path: PathBuf,
    },
    /// The host root is not usable.
    #[error("resolve the host root: {0}")]
    HostRoot(#[source] sriov_core::Error),
    /// An attachment of a resource needs the pod's identity, which `CNI_ARGS` lacks.
    #[error("device IDs of {resource}: CNI_ARGS has no {key}")]
    PodIdentity {
        /// The resource.
        resource: String,
        /// The missing key.
        key: &'static str,
    },
    /// The kubelet has no devices of the resource for the pod.
    #[error("device IDs of {resource} for pod {pod}: {source_desc} lists none")]
    NoKubeletData {
        /// The resource.
        resource: String,
        /// The pod (`namespace/name`, UID).
        pod: String,
        /// Where it was looked up (the socket or checkpoint file).
        source_desc: String,
    },
    /// More attachments of the resource than the pod holds devices of it.
    #[error("device IDs of {resource} for pod {pod}: {needed} attachments, {available} devices ({})", ids.join(","))]
    NotEnoughDevices {
        /// The resource.
        resource: String,
        /// The pod.
        pod: String,
        /// Attachments asking for one.
        needed: usize,
        /// Devices the kubelet gave the pod.
        available: usize,
        /// Those devices.
        ids: Vec<String>,
    },
    /// The pod-resources API failed.
    #[error("ask the kubelet's pod-resources API at {socket} for pod {pod}: {source}")]
    PodResources {
        /// The socket.
        socket: PathBuf,
        /// The pod.
        pod: String,
        /// The client's error.
        #[source]
        source: Box<device_plugin::Error>,
    },
    /// The kubelet checkpoint could not be read.
    #[error("read the kubelet checkpoint {path}: {source}")]
    CheckpointRead {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The kubelet checkpoint did not parse.
    #[error("parse the kubelet checkpoint {path}: {source}")]
    CheckpointParse {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: Box<device_plugin::checkpoint::CheckpointError>,
    },
    /// The async runtime for the pod-resources client could not start.
    #[error("start the pod-resources client's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A state file (delegate cache, network status) operation failed.
    #[error("{op} {path}: {source}")]
    State {
        /// The operation.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The state-files error.
        #[source]
        source: state_files::Error,
    },
    /// The delegate cache is not ours or is damaged.
    #[error("decode the delegate cache {path}: {reason}")]
    CacheDecode {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// CHECK of a container the meta plugin has no delegate cache of.
    #[error("read the delegate cache {path}: there is none (no ADD of this container)")]
    NoCache {
        /// Where it would be.
        path: PathBuf,
    },
    /// A device-info file operation failed.
    #[error("{op} device-info file {path}: {source}")]
    DeviceInfo {
        /// The operation.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A delegate failed.
    #[error("{op} delegate {network} ({ifname}): {source}")]
    Delegate {
        /// `ADD`, `DEL`, `CHECK`, `STATUS`, `GC`.
        op: &'static str,
        /// The delegate's network.
        network: String,
        /// Its interface.
        ifname: String,
        /// The runner's error (the delegate's own error result when it printed one).
        #[source]
        source: Box<cni_types::Error>,
    },
    /// `kubeconfig` is set: the API-server path is not built (see the README).
    #[error(
        "multus configuration key \"kubeconfig\" ({path}): reading pods and NetworkAttachmentDefinitions from an API server is not supported by this build; remove the key to use nadDir and the runtime's pod annotations"
    )]
    KubeconfigUnsupported {
        /// The kubeconfig given.
        path: PathBuf,
    },
}

impl Error {
    /// The CNI code the error is reported with: a delegate's own code passes through; bad
    /// configuration and inputs are 7, missing kubelet data and readiness 11 (try again
    /// later), file failures 5, the missing pod identity 4 (`CNI_ARGS` is the environment).
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::ConfigJson { .. } => ErrorCode::DecodingFailure,
            Error::ConfigKey { .. }
            | Error::ClusterNetworkNotFound { .. }
            | Error::NetworkFile { .. }
            | Error::NadNotFound { .. }
            | Error::NadParse { .. }
            | Error::Input { .. }
            | Error::HostRoot(_)
            | Error::NotEnoughDevices { .. }
            | Error::KubeconfigUnsupported { .. } => ErrorCode::InvalidNetworkConfig,
            Error::PodIdentity { .. } => ErrorCode::InvalidEnvironment,
            Error::NoCache { .. } => ErrorCode::UnknownContainer,
            Error::NotReady { .. }
            | Error::NoKubeletData { .. }
            | Error::PodResources { .. }
            | Error::CheckpointRead { .. }
            | Error::CheckpointParse { .. } => ErrorCode::TryAgainLater,
            Error::NadRead { .. }
            | Error::Runtime(_)
            | Error::State { .. }
            | Error::CacheDecode { .. }
            | Error::DeviceInfo { .. } => ErrorCode::IoFailure,
            Error::Delegate { source, .. } => source.code(),
        }
    }
}

impl From<&Error> for CniError {
    /// A delegate's error result reaches the runtime exactly as the delegate printed it (its
    /// code and message); every other error is its message with its cause chain as details.
    fn from(e: &Error) -> CniError {
        if let Error::Delegate { source, .. } = e
            && let Some(given) = source.plugin_error()
        {
            return given.clone();
        }
        CniError::from_error(e.code(), e)
    }
}

impl From<Error> for CniError {
    fn from(e: Error) -> CniError {
        CniError::from(&e)
    }
}
