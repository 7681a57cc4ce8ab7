//! DHCPv4 leasing for pod interfaces: the client side of a lease and the CNI IPAM plugin that
//! uses it.
//!
//! - [`client`]: the sans-I/O RFC 2131 client state machine, fed the `dhcp_codec::Time` it runs
//!   on; messages are `dhcp-codec`'s.
//! - [`store`]: lease persistence; [`renewal`]: many clients on one timer heap; [`clock`]: the
//!   monotonic clock the daemon's timers run on.
//! - [`transport`]: packet and UDP sockets inside a pod's netns, address configuration over
//!   rtnetlink (the workspace's `rtnl-ns` crate, which also enters the namespaces), and a
//!   blocking [`transport::Session`].
//! - [`cni`]: the CNI IPAM plugin `rdma-dhcp` and its node daemon.
//! - [`error`]: the crate's error type, [`Error`].
//!
//! The leaf switch's server is the `dhcp-server` crate; both build on `dhcp-codec`.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod client;
pub mod clock;
pub mod cni;
pub mod error;
pub mod renewal;
pub mod store;
pub mod transport;

pub use error::{Error, Result};

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
