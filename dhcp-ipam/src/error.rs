//! The crate's one error type, and its CNI error codes.
//!
//! Every variant names the operation that failed and the input or place it failed on, so a
//! message read on its own says what went wrong where (`decode DHCP packet: option 51 has
//! length 3, expected 4`, `add address 10.0.0.5/24 on net1 in /run/netns/pod: ...`).

use std::path::PathBuf;

/// Errors of `dhcp-ipam`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
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
    /// A DHCP message could not be decoded or encoded.
    #[error(transparent)]
    Codec(#[from] dhcp_codec::Error),
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
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The CNI error code for this error, so the IPAM plugin and its daemon never pick codes by
    /// hand:
    ///
    /// | error | code |
    /// | --- | --- |
    /// | [`Error::Socket`], [`Error::Netlink`], [`Error::LeaseFile`], [`Error::LeaseStore`] | 5 I/O failure |
    /// | [`Error::EnterNetns`] | 8 invalid network namespace |
    /// | [`Error::Timeout`] (no server answered) | 11 try again later |
    /// | [`Error::Codec`], [`Error::LeaseFormat`] (a message or record that does not decode) | 6 decoding failure |
    /// | [`Error::InvalidLeaseKey`] (from the container ID and interface name) | 4 invalid environment |
    /// | [`Error::InvalidState`] (a caller asked the client for what its state forbids) | 999 internal |
    ///
    /// ```
    /// use cni_types::CniError;
    /// let err = dhcp_ipam::Error::Timeout { what: "acquire a lease".into(), ifname: "net1".into(), secs: 20 };
    /// assert_eq!(CniError::from(&err).code.code(), 11);
    /// ```
    pub fn cni_code(&self) -> cni_types::ErrorCode {
        use cni_types::ErrorCode;
        match self {
            Error::Socket { .. }
            | Error::Netlink { .. }
            | Error::LeaseFile { .. }
            | Error::LeaseStore { .. } => ErrorCode::IoFailure,
            Error::EnterNetns { .. } => ErrorCode::InvalidNetns,
            Error::Timeout { .. } => ErrorCode::TryAgainLater,
            Error::Codec(_) | Error::LeaseFormat { .. } => ErrorCode::DecodingFailure,
            Error::InvalidLeaseKey { .. } => ErrorCode::InvalidEnvironment,
            Error::InvalidState { .. } => ErrorCode::Internal,
        }
    }
}

impl From<&Error> for cni_types::CniError {
    fn from(err: &Error) -> Self {
        cni_types::CniError::from_error(err.cni_code(), err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_code() {
        let io = || std::io::Error::from_raw_os_error(libc::ENODEV);
        let cases: Vec<(Error, u32)> = vec![
            (
                Error::Socket {
                    op: "open".into(),
                    ifname: "net1".into(),
                    source: io(),
                },
                5,
            ),
            (
                Error::Netlink {
                    op: "look up link".into(),
                    ifname: "net1".into(),
                    source: io(),
                },
                5,
            ),
            (
                Error::LeaseFile {
                    op: "list",
                    path: "/x".into(),
                    source: io(),
                },
                5,
            ),
            (
                Error::LeaseStore {
                    op: "save",
                    source: state_files::Error::Symlink { path: "/x".into() },
                },
                5,
            ),
            (
                Error::EnterNetns {
                    path: "/var/run/netns/p".into(),
                    source: io(),
                },
                8,
            ),
            (
                Error::Timeout {
                    what: "renew".into(),
                    ifname: "net1".into(),
                    secs: 3,
                },
                11,
            ),
            (dhcp_codec::Message::parse(&[]).unwrap_err().into(), 6),
            (
                Error::LeaseFormat {
                    path: "/x".into(),
                    source: serde_json::from_str::<u8>("x").unwrap_err(),
                },
                6,
            ),
            (
                Error::InvalidLeaseKey {
                    key: String::new(),
                    reason: "empty",
                },
                4,
            ),
            (
                Error::InvalidState {
                    op: "release",
                    state: "INIT",
                },
                999,
            ),
        ];
        for (err, code) in cases {
            assert_eq!(cni_types::CniError::from(&err).code.code(), code, "{err:?}");
        }
    }
}
