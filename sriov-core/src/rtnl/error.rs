//! Errors of the rtnetlink backend that are not the kernel's: replies this backend cannot decode
//! and requests it refuses to build. The kernel's own answers never become one of these: they
//! stay `std::io::Error`s carrying the kernel's errno, as the `NetOps` contract says.

use std::io;

use netlink_packet_core::DecodeError;

/// Why a netlink exchange failed on this side of the socket.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RtnlError {
    /// A datagram from the kernel did not parse as rtnetlink messages.
    #[error("decode the kernel's reply to {request}: {source}")]
    Decode {
        /// The request being answered (`RTM_GETLINK dump`, ...).
        request: &'static str,
        /// What the parser said.
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
    /// One VF of a PF's `IFLA_VFINFO_LIST` holds values no `VfState` can represent.
    #[error("VF table entry {vf}: {detail}")]
    VfEntry {
        /// The VF index (or the entry's position when it carries none).
        vf: u32,
        /// What is wrong with it.
        detail: String,
    },
}

impl From<RtnlError> for io::Error {
    /// Decoding failures become `InvalidData` errors (no errno: the kernel did not fail).
    fn from(e: RtnlError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// An `io::Error` carrying errno `e`, as the kernel would return it.
pub(crate) fn errno(e: i32) -> io::Error {
    io::Error::from_raw_os_error(e)
}
