//! Kubelet stand-ins for tests (feature `kubelet-sim`), for this crate's tests and for other
//! crates' (the meta plugin, the whole-cluster simulation):
//!
//! - [`KubeletSim`]: the kubelet's device manager in Rust (tonic): a `Registration` server that
//!   validates as the kubelet does (version, extended resource name, bare endpoint, unique
//!   resource), that drives each registered plugin's ListAndWatch, Allocate and
//!   GetPreferredAllocation, wipes the plugin directory on a simulated restart, writes the
//!   kubelet's checkpoint and serves the pod-resources API; also the plugin-watcher side.
//! - [`PythonKubelet`]: a second stand-in on another gRPC stack, Python grpcio (C-core), run as
//!   a child process and driven over its stdin/stdout; the stubs are generated at start from
//!   this crate's `.proto` files with grpcio-tools.
//! - [`KubeletStandIn`]: what both offer, so one test body runs against either.
//! - [`hosts`]: simulated hosts rendered to a directory for a daemon run as a separate process,
//!   and [`DaemonProcess`], the daemon run on one.

mod daemon;
pub mod hosts;
mod observed;
mod python;
mod rust;
mod validate;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use daemon::DaemonProcess;
pub use observed::{Observed, Registration};
pub use python::{PythonKubelet, python_program, unavailable_reason};
pub use rust::{KubeletPaths, KubeletSim, PodRef};
pub use validate::{valid_endpoint, valid_extended_resource_name};

use crate::api::v1beta1 as pb;
use crate::plugin::Device;

/// A gRPC call a stand-in made was answered with an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{method}: {code:?}: {message}")]
pub struct CallError {
    /// The method called.
    pub method: &'static str,
    /// The gRPC status code.
    pub code: tonic::Code,
    /// The status message.
    pub message: String,
}

/// What a stand-in could not do.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Serving or connecting failed.
    #[error(transparent)]
    Grpc(#[from] crate::Error),
    /// A call was refused.
    #[error(transparent)]
    Call(#[from] CallError),
    /// Nothing happened in time.
    #[error("waiting for {what}: nothing within {after:?}")]
    Timeout {
        /// What was waited for.
        what: String,
        /// How long.
        after: Duration,
    },
    /// The Python stand-in failed or answered nonsense.
    #[error("python stand-in: {detail}")]
    Python {
        /// What went wrong.
        detail: String,
    },
    /// A task of the stand-in failed.
    #[error("{what} task: {detail}")]
    Task {
        /// What the task did.
        what: &'static str,
        /// How it failed.
        detail: String,
    },
    /// Discovering a simulated host failed.
    #[error("discover the simulated host: {0}")]
    Discover(#[from] sriov_core::Error),
    /// There is no plugin of this resource.
    #[error("no plugin registered for {resource}")]
    NoPlugin {
        /// The resource.
        resource: String,
    },
}

/// What a kubelet stand-in does, whichever gRPC stack it runs on.
pub trait KubeletStandIn: Send + Sync {
    /// The stand-in's gRPC stack, for messages (`tonic`, `grpcio`).
    fn stack(&self) -> &'static str;

    /// The plugin directory it serves `kubelet.sock` in.
    fn plugin_dir(&self) -> &Path;

    /// What it has seen so far.
    fn observed(&self) -> Observed;

    /// Waits until `done` holds of what it has seen.
    fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Observed) -> bool + Send + Sync,
    ) -> impl Future<Output = Result<Observed, SimError>> + Send;

    /// Allocate for one container.
    fn allocate(
        &self,
        resource: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<pb::ContainerAllocateResponse, SimError>> + Send;

    /// Allocate for each request at once (one container each), concurrently on one connection.
    fn allocate_many(
        &self,
        resource: &str,
        requests: Vec<Vec<String>>,
    ) -> impl Future<
        Output = Result<Vec<Result<pb::ContainerAllocateResponse, CallError>>, SimError>,
    > + Send;

    /// GetPreferredAllocation for one container.
    fn preferred(
        &self,
        resource: &str,
        available: &[String],
        must_include: &[String],
        size: i32,
    ) -> impl Future<Output = Result<Vec<String>, SimError>> + Send;

    /// Simulates a kubelet restart: stop serving, drop every plugin connection, delete every
    /// socket in the plugin directory, serve a new `kubelet.sock`. Returns when that is
    /// listening.
    fn restart(&self) -> impl Future<Output = Result<Instant, SimError>> + Send;

    /// The latest device list of `resource`.
    fn devices(&self, resource: &str) -> Option<Vec<Device>> {
        self.observed().devices.get(resource).cloned()
    }
}
