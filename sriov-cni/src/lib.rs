//! The SR-IOV and RDMA CNI plugins of rdma-sriov (`sriov`, `rdma`) and the attach/detach
//! engine behind them.
//!
//! - [`engine`]: ADD, DEL, CHECK, GC and reconcile of a VF over the host traits of
//!   `sriov-core` and the node's VF ledger, every step with its undo, the state to undo it
//!   durable before it runs.
//! - [`rdma`]: the `rdma` plugin's logic (the VF's RDMA device into the pod and back).
//! - [`netconf`]: every key both plugins accept, checked into typed values.
//! - [`host`]: the host the engine drives, and the namespaces it needs.
//! - [`plugin`]: the two plugins as `cni_types::skel::Plugin`s, what the binaries run.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod engine;
mod error;
pub mod host;
pub mod ipam;
pub mod netconf;
pub mod plugin;
pub mod rdma;

pub use engine::{AttachRequest, Attached, DelOutcome, Engine, EngineOptions, VfLocking};
pub use error::{CHECK_FAILED, Error, Result};
#[cfg(feature = "sim")]
pub use host::SimNamespaces;
pub use host::{Host, KernelNamespaces, Namespaces, TemporaryNetns};

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
