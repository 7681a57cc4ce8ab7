//! The crate's one error type.
//!
//! A kernel without RDMA netlink (built without InfiniBand, or `ib_core` not loaded) refuses the
//! `NETLINK_RDMA` socket with `EPROTONOSUPPORT`: that is [`Error::NoRdmaNetlink`], naming the
//! request that could not be sent. The kernel's other refusals are [`Error::Kernel`], the
//! `io::Error` carrying its errno. Replies that do not parse name the request they answered.

use std::fmt;
use std::io;

/// What was being done with the `NETLINK_RDMA` socket when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketOp {
    /// Opening or binding it, for a request (named).
    Open {
        /// The request the socket was opened for.
        request: &'static str,
    },
    /// Sending a request (named).
    Send {
        /// The request (`RDMA_NLDEV_CMD_SET`, ...).
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
            SocketOp::Open { request } => write!(f, "open for {request}"),
            SocketOp::Send { request } => write!(f, "send {request} on"),
            SocketOp::Receive { request } => write!(f, "receive the reply to {request} on"),
        }
    }
}

/// Errors of `rdma-nl`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel has no RDMA netlink: the `NETLINK_RDMA` socket (or the request) was refused
    /// with `EPROTONOSUPPORT`.
    #[error(
        "{request}: this kernel has no RDMA netlink (NETLINK_RDMA: Protocol not supported; \
         a kernel without InfiniBand support, or ib_core not loaded)"
    )]
    NoRdmaNetlink {
        /// The request that could not be made.
        request: &'static str,
    },
    /// The kernel refused a request: `source` carries its errno.
    #[error("{request}: {source}")]
    Kernel {
        /// The request (`RDMA_NLDEV_CMD_SYS_SET`, ...).
        request: &'static str,
        /// The kernel's answer, `raw_os_error()` being its errno.
        #[source]
        source: io::Error,
    },
    /// The socket itself failed (`socket(2)`, `send(2)`, `recv(2)`).
    #[error("{op} NETLINK_RDMA socket: {source}")]
    Socket {
        /// What was being done.
        op: SocketOp,
        /// The system call's error.
        #[source]
        source: io::Error,
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
    /// An attribute's length is impossible, or its payload does not fit its type (a `u32` that
    /// is not 4 bytes, a string that is not UTF-8).
    #[error("reply to {request}: attribute {kind} with {length} bytes of payload does not parse")]
    BadAttribute {
        /// The request being answered.
        request: &'static str,
        /// The attribute type (`RDMA_NLDEV_ATTR_*`).
        kind: u16,
        /// The payload length (or, for an impossible header, the length it claims).
        length: usize,
    },
    /// A reply lacks an attribute it must carry.
    #[error("reply to {request}: no {attr} attribute")]
    MissingAttribute {
        /// The request being answered.
        request: &'static str,
        /// The attribute (`RDMA_NLDEV_ATTR_DEV_INDEX`, ...).
        attr: &'static str,
    },
    /// The kernel answered a netns mode this crate does not know (it knows 0, exclusive, and
    /// 1, shared).
    #[error("{request}: the kernel reports RDMA netns mode {value}, neither shared nor exclusive")]
    UnknownNetnsMode {
        /// The request that read it.
        request: &'static str,
        /// The value of `RDMA_NLDEV_SYS_ATTR_NETNS_MODE`.
        value: u8,
    },
    /// The kernel ended its answer without the object asked for.
    #[error("{request}: the kernel's answer holds no reply message")]
    MissingReply {
        /// The request.
        request: &'static str,
    },
    /// No RDMA device of that name is visible in the namespace (`ENODEV`).
    #[error("{request}: no RDMA device {name}")]
    NoSuchDevice {
        /// The request that needed it.
        request: &'static str,
        /// The name looked for.
        name: String,
    },
    /// A namespace file could not be opened or entered (the error names the file).
    #[error(transparent)]
    Netns(#[from] rtnl_ns::Error),
}

impl Error {
    /// The errno this error carries: `EPROTONOSUPPORT` for a kernel without RDMA netlink, the
    /// kernel's answer, the failed system call's, `ENODEV` for a device not found. `None` for
    /// replies that did not parse.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::NoRdmaNetlink { .. } => Some(libc::EPROTONOSUPPORT),
            Error::Kernel { source, .. } | Error::Socket { source, .. } => source.raw_os_error(),
            Error::NoSuchDevice { .. } => Some(libc::ENODEV),
            Error::Netns(e) => e.errno(),
            Error::BadLength { .. }
            | Error::BadAttribute { .. }
            | Error::MissingAttribute { .. }
            | Error::UnknownNetnsMode { .. }
            | Error::MissingReply { .. } => None,
        }
    }
}

impl From<Error> for io::Error {
    /// The kernel's or the system call's `io::Error` unchanged (errno and message); a namespace
    /// failure as `rtnl-ns` converts it. Every other error is wrapped whole, so its message
    /// (naming the request) is kept: a kernel without RDMA netlink is an
    /// [`io::ErrorKind::Unsupported`] error whose inner [`Error`] has [`Error::errno`]
    /// `EPROTONOSUPPORT`, a device not found a [`io::ErrorKind::NotFound`] one, a reply that
    /// did not parse an [`io::ErrorKind::InvalidData`] one. [`errno_of`] finds the errno in
    /// either shape.
    fn from(e: Error) -> io::Error {
        match e {
            Error::Kernel { source, .. } | Error::Socket { source, .. } => source,
            Error::Netns(e) => e.into(),
            e @ Error::NoRdmaNetlink { .. } => io::Error::new(io::ErrorKind::Unsupported, e),
            e @ Error::NoSuchDevice { .. } => io::Error::new(io::ErrorKind::NotFound, e),
            e @ (Error::BadLength { .. }
            | Error::BadAttribute { .. }
            | Error::MissingAttribute { .. }
            | Error::UnknownNetnsMode { .. }
            | Error::MissingReply { .. }) => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    }
}

/// The errno of an `io::Error` made from an [`Error`]: its `raw_os_error()`, else the errno of
/// the [`Error`] it wraps.
///
/// ```
/// let e: std::io::Error = rdma_nl::Error::NoRdmaNetlink { request: "RDMA_NLDEV_CMD_SYS_GET" }.into();
/// assert_eq!(e.raw_os_error(), None);
/// assert_eq!(rdma_nl::errno_of(&e), Some(libc::EPROTONOSUPPORT));
/// assert!(e.to_string().starts_with("RDMA_NLDEV_CMD_SYS_GET: this kernel has no RDMA netlink"));
/// ```
pub fn errno_of(e: &io::Error) -> Option<i32> {
    e.raw_os_error().or_else(|| {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<Error>())
            .and_then(Error::errno)
    })
}
