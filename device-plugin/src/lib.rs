//! The kubelet device-plugin API (v1beta1) and pod-resources API (v1) over gRPC on unix
//! sockets, a framework for device-plugin authors, and the `rdma-sriov-dp` daemon.
//!
//! A plugin author implements [`DevicePlugin`] (the devices as a stream of changes, Allocate,
//! and optionally GetPreferredAllocation and PreStartContainer) and calls [`serve`], which
//! binds `<plugin dir>/<socket>`, registers with the kubelet, registers again within
//! milliseconds when the kubelet restarts (inotify on the plugin directory, no 5 s poll) or
//! its ListAndWatch stream breaks, supports the plugin-watcher mode, and on stop ends every
//! stream and removes the socket. See the README for an example.
//!
//! - [`api`]: the generated protobuf and gRPC code of the three kubelet APIs.
//! - [`uds`]: tonic over unix sockets, both ways.
//! - [`pod_resources`]: a pod-resources client; [`checkpoint`]: the kubelet's checkpoint file.
//! - [`sriov_dp`]: the `rdma-sriov-dp` daemon's parts.
//! - `kubelet_sim` (feature `kubelet-sim`): kubelet stand-ins for tests, in Rust and in
//!   Python grpcio.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod api;
pub mod checkpoint;
pub mod dir_watch;
mod error;
#[cfg(feature = "kubelet-sim")]
pub mod kubelet_sim;
mod plugin;
pub mod pod_resources;
pub mod registration;
mod serve;
pub mod service;
pub mod sriov_dp;
pub mod stop;
pub mod uds;

pub use error::{Error, Result};
pub use plugin::{
    Device, DevicePlugin, Health, PluginOptions, PreStart, PreferredAllocation, PreferredRequest,
};
pub use serve::{RegistrationMode, ServeConfig, serve};

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
