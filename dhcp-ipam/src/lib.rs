//! DHCPv4 leasing for pod interfaces: a sans-I/O client, lease persistence, renewals, a
//! server-side allocator, netns transports, a CNI IPAM plugin.
//!
//! - [`codec`]: typed DHCPv4 messages over `dhcproto` (parse/emit, padded to 300 bytes, no
//!   length trusted).
//! - [`error`]: the crate's one error type, [`Error`].
//! - [`client`]: the sans-I/O RFC 2131 client state machine; [`time`]: the [`Time`] it is fed.
//! - [`store`]: lease persistence; [`manager`]: many clients on one timer heap.
//! - [`transport`]: packet and UDP sockets inside a pod's netns, address configuration over
//!   rtnetlink (the workspace's `rtnl-ns` crate, which also enters the namespaces), and a
//!   blocking [`transport::Session`].
//! - [`cni`]: the CNI IPAM plugin `rdma-dhcp` and its node daemon.
//! - [`server`]: the leaf switch's DHCP server: `dhcpd.conf` subset, lease allocator, lease
//!   file, UDP server in a netns.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod client;
pub mod clock;
pub mod cni;
pub mod codec;
pub mod error;
pub mod manager;
pub mod server;
pub mod store;
pub mod time;
pub mod transport;

pub use error::{Error, Result};
pub use time::Time;

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
