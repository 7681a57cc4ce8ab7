//! The crate's one error type.
//!
//! The kernel's answers stay `std::io::Error`s carrying the kernel's errno ([`Error::Kernel`]),
//! and so do failures of the socket and of opening a namespace file: converting an [`Error`]
//! into an `io::Error` hands back that `io::Error` unchanged, so a caller that promises errno
//! (`EEXIST`, `ENODEV`, `ENOENT`...) keeps its promise. Replies that cannot be decoded name the
//! request they answered; namespace failures name the namespace file.

use std::fmt;
use std::io;
use std::path::PathBuf;

use netlink_packet_core::DecodeError;
use nix::errno::Errno;

/// What was being done with the rtnetlink socket when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketOp {
    /// Opening, binding or connecting it.
    Open,
    /// Sending a request (named).
    Send {
        /// The request (`RTM_NEWADDR`, ...).
        request: &'static str,
    },
    /// Receiving the reply to a request (named).
    Receive {
        /// The request being answered.
        request: &'static str,
    },
}

impl fmt::Display for SocketOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketOp::Open => f.write_str("open"),
            SocketOp::Send { request } => write!(f, "send {request} on"),
            SocketOp::Receive { request } => write!(f, "receive the reply to {request} on"),
        }
    }
}

/// Errors of `rtnl-ns`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused a request: `source` carries its errno.
    #[error("{request}: {source}")]
    Kernel {
        /// The request (`RTM_NEWADDR`, `RTM_SETLINK`, ...).
        request: &'static str,
        /// The kernel's answer, `raw_os_error()` being its errno.
        #[source]
        source: io::Error,
    },
    /// The socket itself failed (`socket(2)`, `send(2)`, `recv(2)`).
    #[error("{op} rtnetlink socket: {source}")]
    Socket {
        /// What was being done.
        op: SocketOp,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
    /// A reply did not parse as rtnetlink messages.
    #[error("decode the kernel's reply to {request}: {source}")]
    Decode {
        /// The request being answered (`RTM_GETLINK dump`, ...).
        request: &'static str,
        /// What the parser said.
        #[source]
        source: DecodeError,
    },
    /// A netlink header's length is impossible (shorter than a header or past the datagram).
    #[error("reply to {request}: message at offset {offset} has length {length}")]
    BadLength {
        /// The request being answered.
        request: &'static str,
        /// Where the message starts in the datagram.
        offset: usize,
        /// The length its header claims.
        length: usize,
    },
    /// The kernel ended its answer without the object asked for.
    #[error("{request}: the kernel's answer holds no reply message")]
    MissingReply {
        /// The request.
        request: &'static str,
    },
    /// A request netlink cannot say, refused before it is sent, with the errno `ip` gives for
    /// it (an empty new name: the kernel would read it as "no rename").
    #[error("{request}: {reason}")]
    Refused {
        /// The request that was not sent.
        request: &'static str,
        /// Why.
        reason: &'static str,
        /// The errno it stands for.
        errno: Errno,
    },
    /// A namespace file could not be opened.
    #[error("open network namespace {}: {source}", path.display())]
    OpenNetns {
        /// The namespace file.
        path: PathBuf,
        /// The error (`ENOENT` for a namespace that does not exist).
        #[source]
        source: io::Error,
    },
    /// A thread could not be started in a namespace, or `setns(2)` refused it.
    #[error("enter network namespace {}: {source}", path.display())]
    EnterNetns {
        /// The namespace file.
        path: PathBuf,
        /// The error (`EINVAL` when the file is no network namespace).
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// The errno this error carries: the kernel's answer, the failed system call's, or the one
    /// a refused request stands for. `None` for replies that did not decode.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel { source, .. }
            | Error::Socket { source, .. }
            | Error::OpenNetns { source, .. }
            | Error::EnterNetns { source, .. } => source.raw_os_error(),
            Error::Refused { errno, .. } => Some(*errno as i32),
            Error::Decode { .. } | Error::BadLength { .. } | Error::MissingReply { .. } => None,
        }
    }
}

impl From<Error> for io::Error {
    /// The `io::Error` inside, unchanged (errno and message), where there is one; a refused
    /// request becomes its errno; a reply that did not decode an `InvalidData` error wrapping
    /// this one (no errno: the kernel did not fail).
    fn from(e: Error) -> io::Error {
        match e {
            Error::Kernel { source, .. }
            | Error::Socket { source, .. }
            | Error::OpenNetns { source, .. }
            | Error::EnterNetns { source, .. } => source,
            Error::Refused { errno, .. } => io::Error::from_raw_os_error(errno as i32),
            e @ (Error::Decode { .. } | Error::BadLength { .. } | Error::MissingReply { .. }) => {
                io::Error::new(io::ErrorKind::InvalidData, e)
            }
        }
    }
}
