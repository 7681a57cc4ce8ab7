//! The crate's error type: what could not be decoded or encoded, and why.

/// Errors of `dhcp-codec`.
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
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
