//! A small synchronous RDMA netlink layer (`NETLINK_RDMA`, the nldev interface of
//! `rdma_netlink.h`), with message building and parsing kept apart from the socket.
//!
//! Two layers, as `rtnl-ns` has them:
//! - pure data, testable and fuzzable without a socket: [`wire`] (nldev [`Message`](wire::Message)s
//!   of typed [`Attr`](wire::Attr)s with an `Other` arm for what the kernel may add, a
//!   [`Request`] framed into bytes, a datagram split into [`Reply`](wire::Reply)s), and
//!   [`device`], [`port`], [`system`] (each request built from plain values, each answer parsed
//!   into a small plain type: [`Device`], [`Port`], [`System`]);
//! - the I/O: [`RdmaSocket`] (one `NETLINK_RDMA` socket: whole datagrams, `EINTR` retried,
//!   sequence numbers checked), [`Handle`] (what the `rdma` tool does, as methods) and
//!   [`in_netns`] (a handle inside a namespace, entered by `rtnl-ns`'s [`NetnsFile::run`]).
//!
//! A kernel without RDMA netlink refuses the socket with `EPROTONOSUPPORT`: that is
//! [`Error::NoRdmaNetlink`], naming the request.
//!
//! ```no_run
//! use rdma_nl::system::NetnsMode;
//! use rdma_nl::Handle;
//!
//! let mut rdma = Handle::new();
//! match rdma.netns_mode() {
//!     Ok(mode) => println!("netns {mode}"),
//!     // RDMA_NLDEV_CMD_SYS_GET: this kernel has no RDMA netlink (...)
//!     Err(e @ rdma_nl::Error::NoRdmaNetlink { .. }) => eprintln!("{e}"),
//!     Err(e) => return Err(e),
//! }
//! rdma.set_netns_mode(NetnsMode::Exclusive)?;
//! for dev in rdma.devices()? {
//!     println!("{}: {}", dev.index, dev.name);
//! }
//! # Ok::<(), rdma_nl::Error>(())
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod device;
mod error;
mod handle;
pub mod port;
mod socket;
pub mod system;
pub mod wire;

pub use device::Device;
pub use error::{Error, SocketOp, errno_of};
pub use handle::{Handle, in_netns};
pub use port::Port;
pub use rtnl_ns::NetnsFile;
pub use socket::RdmaSocket;
pub use system::System;
pub use wire::Request;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
