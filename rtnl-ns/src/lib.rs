//! A small synchronous rtnetlink layer, with message building and parsing kept apart from the
//! socket, and network namespaces entered by file descriptor on a dedicated thread.
//!
//! Built over `netlink-packet-route` (the messages) and `netlink-sys` (the socket), in two
//! layers, as rust-netlink builds its crates:
//! - pure data, testable and fuzzable without a socket: [`wire`] (framing a [`Request`], splitting
//!   a datagram into [`Reply`](wire::Reply)s), [`link`], [`addr`] and [`route`] (each request
//!   built from plain values, each reply parsed into a small plain type: [`Link`], [`Address`],
//!   [`Route`]);
//! - the I/O: [`RtnlSocket`] (one `NETLINK_ROUTE` socket: whole datagrams whatever their size,
//!   `EINTR` retried, sequence numbers checked, a dump ending at `NLMSG_DONE` and a request at
//!   its acknowledgement), [`Handle`] (the operations of `ip link`, `ip addr`, `ip route` as
//!   methods) and [`NetnsFile`] (a namespace file kept open; [`NetnsFile::run`] runs any work
//!   inside it on a scoped thread that entered it with `setns(2)`, so no caller's thread ever
//!   changes namespace).
//!
//! Errors are [`Error`]s; the kernel's refusals keep its errno ([`Error::errno`], and
//! `io::Error::from(e).raw_os_error()`).
//!
//! ```no_run
//! use rtnl_ns::link::{AdminState, LinkSet};
//! use rtnl_ns::NetnsFile;
//! use std::os::fd::AsRawFd;
//!
//! let host = NetnsFile::own()?;
//! let pod = NetnsFile::open("/var/run/netns/pod1")?;
//! host.run_rtnl(|rtnl| {
//!     let vf = rtnl.link_by_name("ens2f0v3")?;
//!     rtnl.set_link(vf.index, &LinkSet { state: Some(AdminState::Down), ..LinkSet::default() })?;
//!     let to_pod = LinkSet {
//!         name: Some("net1".into()),
//!         netns_fd: Some(pod.as_raw_fd()),
//!         ..LinkSet::default()
//!     };
//!     rtnl.set_link(vf.index, &to_pod)
//! })?;
//! for link in pod.run_rtnl(|rtnl| rtnl.links())? {
//!     println!("{} {} mtu {} up {}", link.index, link.name, link.mtu, link.oper_up);
//! }
//! # Ok::<(), rtnl_ns::Error>(())
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod addr;
pub mod create;
mod error;
mod handle;
pub mod link;
mod netns;
mod prefix;
pub mod route;
mod socket;
pub mod wire;

pub use addr::{Address, Lifetime, Lifetimes};
pub use error::{Error, SocketOp};
pub use handle::Handle;
pub use link::Link;
pub use netns::NetnsFile;
pub use prefix::Prefix;
pub use route::Route;
pub use socket::RtnlSocket;
pub use wire::Request;

/// The message types this crate builds and parses, for callers that add attributes of their
/// own ([`link::LinkSet::extra`]) or read what the crate does not ([`Handle::link_message`]).
pub use netlink_packet_core;
/// The rtnetlink message types.
pub use netlink_packet_route;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
