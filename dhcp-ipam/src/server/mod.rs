//! The leaf switch's DHCP server.
//!
//! - [`config`]: the `dhcpd.conf` subset ([`ServerConfig`]).
//! - [`alloc`]: the lease allocator ([`Allocator`]), sans I/O, time passed in.
//! - [`key`]: what leases are keyed on ([`ClientKey`]).
//! - [`engine`]: the protocol logic, a message in and a reply out ([`Engine`]).
//! - [`leasefile`]: the crash-safe lease file ([`LeaseFile`]).

pub mod alloc;
mod conf_lex;
pub mod config;
pub mod engine;
pub mod key;
pub mod leasefile;

pub use alloc::{
    Allocator, ClientInfo, Grant, LeaseRecord, RecordState, RequestKind, RequestOutcome, Secs,
    Timers,
};
pub use config::{AddrRange, HostConfig, OptionSet, ServerConfig, SubnetConfig};
pub use engine::{Destination, Engine, Reply, Stats};
pub use key::ClientKey;
pub use leasefile::LeaseFile;
