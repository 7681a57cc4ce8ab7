//! The crate's error type: every variant names the operation and the file, address or
//! interface it failed on.

use std::net::Ipv4Addr;
use std::path::PathBuf;

/// Errors of `dhcp-server`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `dhcpd.conf` could not be read.
    #[error("read server config {path}: {source}")]
    ReadServerConfig {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A `dhcpd.conf` is not valid: `file:line: reason`.
    #[error("{}:{line}: {reason}", file.display())]
    ServerConfig {
        /// The file.
        file: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A line of the server's lease journal is not a lease record.
    #[error("parse server lease file {}:{line}: {reason}", path.display())]
    ServerLeaseRecord {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The server's lease file is locked by another server process.
    #[error("lock server lease file {path}: held by another process")]
    ServerLeaseLocked {
        /// The file.
        path: PathBuf,
    },
    /// No configured subnet matches the address a request arrived on (or its `giaddr`).
    #[error("no subnet configured for {addr}")]
    NoSubnet {
        /// The interface address or relay address.
        addr: Ipv4Addr,
    },
    /// Every address of the subnet's ranges is in use.
    #[error("no free address in subnet {subnet}")]
    PoolExhausted {
        /// The subnet's network address.
        subnet: Ipv4Addr,
    },
    /// The server's interface has no IPv4 address on a configured subnet.
    #[error("serve on {ifname}: {reason}")]
    ServerInterface {
        /// The interface.
        ifname: String,
        /// What is missing.
        reason: String,
    },
    /// A socket operation failed.
    #[error("{op} on interface {ifname}: {source}")]
    Socket {
        /// The operation (`open packet socket`, `send DHCPDISCOVER`, ...).
        op: String,
        /// The interface the socket is bound to.
        ifname: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Entering a network namespace failed.
    #[error("enter network namespace {path}: {source}")]
    EnterNetns {
        /// The namespace file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Opening, appending to, syncing or compacting the lease journal failed (the error names
    /// the file), or its lock could not be taken.
    #[error("{op} lease journal: {source}")]
    Journal {
        /// What was being done (`open`, `append to`, `sync`, `compact`, `lock`).
        op: &'static str,
        /// The error, naming the file.
        #[source]
        source: state_files::Error,
    },
    /// A lease record could not be encoded for the journal.
    #[error("encode a lease record for {}: {source}", path.display())]
    EncodeRecord {
        /// The journal.
        path: PathBuf,
        /// The encoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// A reply could not be encoded.
    #[error(transparent)]
    Codec(#[from] dhcp_codec::Error),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
