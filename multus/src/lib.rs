//! A Multus-compatible CNI meta plugin: the pod's cluster network as `eth0`, its attachments as
//! `net1..netN`, each VF's `deviceID` from the kubelet, without an API server.
//!
//! - [`config`]: the 2018 static and the current thin configuration formats.
//! - [`nad_store`]: NetworkAttachmentDefinitions as files (YAML or JSON), configuration files.
//! - [`kubelet`]: the pod's device IDs from the pod-resources API or the kubelet checkpoint.
//! - [`delegate`]: which delegates a pod gets, their interface names and injected deviceIDs.
//! - [`device_info`]: device-info files copied for delegates.
//! - [`state`]: the delegate cache and the network status, crash-safe.
//! - [`MetaPlugin`]: ADD, DEL, CHECK, STATUS, GC on the CNI skeleton (the `multus` binary).
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod config;
pub mod delegate;
pub mod device_info;
mod error;
pub mod kubelet;
pub mod log;
pub mod nad_store;
mod plugin;
pub mod state;

pub use error::Error;
pub use plugin::{DELEGATE_RESULT_CACHE_DIR, MetaPlugin};

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
