//! The leaf switch's DHCPv4 server: a `dhcpd.conf` subset, a lease allocator with time passed
//! in, a crash-safe lease journal and a UDP server in a network namespace. It shares the wire
//! format with the client (`dhcp-codec`), not the client itself.
//!
//! - [`config`]: the `dhcpd.conf` subset ([`ServerConfig`]).
//! - [`alloc`]: the lease allocator ([`Allocator`]), sans I/O, time passed in.
//! - [`key`]: what leases are keyed on ([`ClientKey`]).
//! - [`engine`]: the protocol logic, a message in and a reply out ([`Engine`]).
//! - [`leasefile`]: the crash-safe lease file ([`LeaseFile`]).
//! - [`udp`]: the server on a UDP socket in a netns ([`UdpServer`]).

#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod alloc;
mod conf_lex;
pub mod config;
pub mod engine;
mod error;
pub mod key;
pub mod leasefile;
pub mod udp;

pub use alloc::{
    Allocator, ClientInfo, Grant, LeaseRecord, RecordState, RequestKind, RequestOutcome, Timers,
};
pub use config::{AddrRange, HostConfig, OptionSet, ServerConfig, SubnetConfig};
pub use engine::{Destination, Engine, Reply, Stats};
pub use error::{Error, Result};
pub use key::ClientKey;
pub use leasefile::LeaseFile;
pub use udp::{ServeConfig, ServerHandle, UdpServer};

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
