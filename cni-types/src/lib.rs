//! The CNI specification 0.1.0-1.1.0 for plugin authors: configs, results, conversions,
//! errors, a plugin skeleton, delegation, Multus inputs.
//!
//! - [`config`]: [`NetConf`] (a plugin's stdin) and [`NetConfList`] (a `.conflist`), every
//!   1.1.0 field typed, unknown keys kept.
//! - [`result`]: results of every version ([`Result020`], [`Result040`], [`Result100`]) in
//!   [`AnyResult`], with the specification's conversions.
//! - [`error`]: the CNI error result [`CniError`] and its [`ErrorCode`]s; this crate's
//!   [`Error`].
//! - [`version`]: version parsing and comparison, `VERSION` output.
//! - [`args`], [`validate`]: `CNI_ARGS` and identifier validation.
//! - [`skel`]: the plugin skeleton: implement [`skel::Plugin`], call [`skel::run`].
//! - [`invoke`]: find and run another plugin (IPAM delegation).
//! - [`runtime`]: the conflist runner with a libcni-compatible result cache.
//! - [`multus`]: NetworkAttachmentDefinition, the networks annotation, interface naming.
//! - [`testing`]: run a plugin in-process and read what it printed; a recording [`invoke::Exec`].
//!
//! ```
//! use cni_types::{AnyResult, NetConf};
//!
//! let conf = NetConf::parse(br#"{"cniVersion":"0.4.0","name":"n","type":"x","vlan":7,
//!     "prevResult":{"ips":[{"version":"4","address":"10.0.0.2/24"}]}}"#)?;
//! assert_eq!(conf.extra["vlan"], 7);
//! let prev = conf.prev_result()?.unwrap();          // read in the 0.4.0 layout
//! let current = prev.into_current_layout();         // 1.x layout for the plugin to work on
//! assert_eq!(current.ips[0].address.to_string(), "10.0.0.2/24");
//! let out = AnyResult::from(current).convert_to(conf.version())?; // back to 0.4.0
//! assert_eq!(out.cni_version(), "0.4.0");
//! # Ok::<(), cni_types::Error>(())
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod args;
pub mod config;
pub mod error;
pub mod invoke;
pub mod multus;
pub mod result;
pub mod runtime;
pub mod skel;
pub mod testing;
pub mod validate;
pub mod version;

pub use config::{Ipam, NetConf, NetConfList};
pub use error::{CniError, Error, ErrorCode};
pub use result::{
    AnyResult, CurrentResult, Dns, Interface, IpConfig, Result020, Result040, Result100, Route,
};

/// The JSON text of one of this crate's documents. Serializing them cannot fail (every map
/// has string keys and no serializer of theirs returns an error), so the empty string of
/// the error arm is never what a caller gets.
fn to_json_string<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
