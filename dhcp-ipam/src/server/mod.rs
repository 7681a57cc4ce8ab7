//! The leaf switch's DHCP server.
//!
//! - [`config`]: the `dhcpd.conf` subset ([`ServerConfig`]).
//! - [`alloc`]: the lease allocator ([`Allocator`]), sans I/O, time passed in.
//! - [`key`]: what leases are keyed on ([`ClientKey`]).
//! - [`engine`]: the protocol logic, a message in and a reply out ([`Engine`]).
//! - [`leasefile`]: the crash-safe lease file ([`LeaseFile`]).
//! - [`udp`]: the server on a UDP socket in a netns ([`UdpServer`]).

pub mod alloc;
mod conf_lex;
pub mod config;
pub mod engine;
pub mod key;
pub mod leasefile;
pub mod udp;

pub use alloc::{
    Allocator, ClientInfo, Grant, LeaseRecord, RecordState, RequestKind, RequestOutcome, Secs,
    Timers,
};
pub use config::{AddrRange, HostConfig, OptionSet, ServerConfig, SubnetConfig};
pub use engine::{Destination, Engine, Reply, Stats};
pub use key::ClientKey;
pub use leasefile::LeaseFile;
pub use udp::{ServeConfig, ServerHandle, UdpServer};
