//! The crate's one error type.
//!
//! Every variant names the operation that failed and the input or place it failed on, so a
//! message read on its own says what went wrong where (`decode DHCP packet: option 51 has
//! length 3, expected 4`, `add address 10.0.0.5/24 on net1 in /run/netns/pod: ...`).

use std::net::Ipv4Addr;
use std::path::PathBuf;

/// Errors of `dhcp-ipam`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A packet could not be decoded: too short, bad magic cookie, a field out of range.
    #[error("decode DHCP packet: {reason}")]
    Decode {
        /// What is wrong with the packet.
        reason: String,
    },
    /// One option of a packet is malformed (bad length, bad contents).
    #[error("decode DHCP packet: option {code}: {reason}")]
    MalformedOption {
        /// The option code.
        code: u8,
        /// What is wrong with it.
        reason: String,
    },
    /// A message could not be encoded (a value too long for its field, for example).
    #[error("encode DHCP {what}: {reason}")]
    Encode {
        /// The message being encoded (`DHCPREQUEST`, ...).
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// A client identifier is not valid (RFC 2132: at least 2 bytes, at most 255).
    #[error("invalid client identifier {input:?}: {reason}")]
    InvalidClientId {
        /// The input as given.
        input: String,
        /// Why it is rejected.
        reason: &'static str,
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
    /// A netlink request (address, route or link) failed.
    #[error("{op} on {ifname}: {source}")]
    Netlink {
        /// The request (`add address 10.0.0.5/24`, `look up link`, ...).
        op: String,
        /// The interface.
        ifname: String,
        /// The underlying error (the kernel's errno for NLMSG_ERROR answers).
        #[source]
        source: std::io::Error,
    },
    /// No server answered in time.
    #[error("{what}: no answer from a DHCP server on {ifname} after {secs} s")]
    Timeout {
        /// What was attempted (`acquire a lease`, `renew`, ...).
        what: String,
        /// The interface.
        ifname: String,
        /// How long it waited.
        secs: u64,
    },
    /// A server refused the request with a DHCPNAK.
    #[error("server {server} refused {what} with DHCPNAK: {message}")]
    Nak {
        /// The server that sent the NAK.
        server: Ipv4Addr,
        /// What was refused.
        what: String,
        /// The server's message (option 56), or empty.
        message: String,
    },
    /// Reading or writing a lease file failed.
    #[error("{op} lease file {path}: {source}")]
    LeaseFile {
        /// The operation (`read`, `write`, `remove`, `list`).
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Saving, loading or removing a lease record failed (the error names the file), or the
    /// store's directory could not be made private.
    #[error("{op} lease record: {source}")]
    LeaseStore {
        /// The operation (`open`, `save`, `load`, `remove`).
        op: &'static str,
        /// What went wrong, and on which file.
        #[source]
        source: state_files::Error,
    },
    /// A lease file holds something that is not a lease.
    #[error("parse lease file {path}: {source}")]
    LeaseFormat {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A lease key (the name of a lease in a store) is not valid.
    #[error("invalid lease key {key:?}: {reason}")]
    InvalidLeaseKey {
        /// The key.
        key: String,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// The client is in no state to do what was asked (release without a lease, ...).
    #[error("{op}: not possible in state {state}")]
    InvalidState {
        /// The operation.
        op: &'static str,
        /// The state the client is in.
        state: &'static str,
    },
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
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
