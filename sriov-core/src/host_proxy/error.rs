//! Errors of the proxy itself, not of the host behind it: the socket, the wire format. A host's
//! own answers never become one of these: they come back as the `io::Error` with the errno the
//! backend gave. When a `ProxyError` reaches a host-trait caller it is wrapped in an
//! `io::Error` whose `raw_os_error()` is `None`, so a broken connection is never mistaken for a
//! kernel's ENOENT or EBUSY.

use std::io;
use std::path::PathBuf;

/// Why a proxied call failed on the way, or a request or reply could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The client could not connect to the server's socket.
    #[error("connect to the simulated host at {}: {source}", socket.display())]
    Connect {
        /// The socket.
        socket: PathBuf,
        /// What `connect(2)` said.
        source: io::Error,
    },
    /// Sending a request failed.
    #[error("send {op} to the simulated host at {}: {source}", socket.display())]
    Send {
        /// The socket.
        socket: PathBuf,
        /// The request.
        op: &'static str,
        /// The error.
        source: io::Error,
    },
    /// Receiving the reply failed (or timed out).
    #[error("receive the reply to {op} from the simulated host at {}: {source}", socket.display())]
    Receive {
        /// The socket.
        socket: PathBuf,
        /// The request.
        op: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The server closed the connection before answering.
    #[error("the simulated host at {} closed the connection before answering {op}", socket.display())]
    Closed {
        /// The socket.
        socket: PathBuf,
        /// The request.
        op: &'static str,
    },
    /// A reply line longer than [`super::MAX_REPLY_LINE`].
    #[error("the reply to {op} is longer than {limit} bytes")]
    ReplyTooLong {
        /// The request.
        op: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A request line that is not a request.
    #[error("decode request: {source}")]
    DecodeRequest {
        /// What the JSON parser said.
        source: serde_json::Error,
    },
    /// A request line longer than [`super::MAX_REQUEST_LINE`].
    #[error("request line longer than {limit} bytes")]
    RequestTooLong {
        /// The limit.
        limit: usize,
    },
    /// A reply line that is not a reply.
    #[error("decode the reply to {op}: {source}")]
    DecodeReply {
        /// The request.
        op: &'static str,
        /// What the JSON parser said.
        source: serde_json::Error,
    },
    /// A reply of the wrong shape for its request.
    #[error("the simulated host answered {op} with {answer}")]
    UnexpectedAnswer {
        /// The request.
        op: &'static str,
        /// The answer's kind.
        answer: &'static str,
    },
    /// A request or reply could not be encoded (a path that is not UTF-8).
    #[error("encode {what}: {source}")]
    Encode {
        /// The request or reply.
        what: &'static str,
        /// What the JSON encoder said.
        source: serde_json::Error,
    },
    /// The backend failed without an errno; its message.
    #[error("{op} on the simulated host: {message}")]
    Remote {
        /// The request.
        op: &'static str,
        /// The backend's message.
        message: String,
    },
}

impl ProxyError {
    /// The `io::Error` a host-trait caller gets: the kind of the underlying failure, no errno.
    pub fn into_io(self) -> io::Error {
        let kind = match &self {
            ProxyError::Connect { source, .. }
            | ProxyError::Send { source, .. }
            | ProxyError::Receive { source, .. } => source.kind(),
            ProxyError::Closed { .. } => io::ErrorKind::UnexpectedEof,
            ProxyError::Encode { .. } => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }
}
