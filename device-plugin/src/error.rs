//! The framework's errors: each names the operation and the socket or directory it was done on.

use std::path::PathBuf;

/// What failed in serving, registering, watching or calling the kubelet.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Binding the plugin's socket failed.
    #[error("bind socket {path}: {source}")]
    Bind {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Removing a socket file failed.
    #[error("remove socket {path}: {source}")]
    RemoveSocket {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The gRPC server on a socket failed.
    #[error("serve gRPC on {path}: {source}")]
    Serve {
        /// The socket path.
        path: PathBuf,
        /// tonic's error.
        #[source]
        source: tonic::transport::Error,
    },
    /// Watching a directory with inotify failed.
    #[error("watch directory {dir}: {source}")]
    Watch {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Creating a directory failed.
    #[error("create directory {dir}: {source}")]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Connecting to a gRPC server on a unix socket failed.
    #[error("connect to {socket}: {source}")]
    Connect {
        /// The socket path.
        socket: PathBuf,
        /// tonic's error.
        #[source]
        source: tonic::transport::Error,
    },
    /// A gRPC call was answered with an error.
    #[error("call {method} on {socket}: {status}", status = source.message())]
    Call {
        /// The method (`/v1beta1.Registration/Register`).
        method: &'static str,
        /// The socket path.
        socket: PathBuf,
        /// The gRPC status.
        #[source]
        source: Box<tonic::Status>,
    },
    /// Installing a signal handler failed.
    #[error("install handler for {signal}: {source}")]
    Signal {
        /// The signal's name.
        signal: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The plugin's configuration is not usable.
    #[error("plugin {resource}: {detail}")]
    Config {
        /// The resource name.
        resource: String,
        /// What is wrong.
        detail: String,
    },
}

/// The framework's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
