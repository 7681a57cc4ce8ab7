//! The host-ops proxy: every [`NetOps`], [`RdmaOps`] and [`Sysfs`] call of one process answered
//! by a host backend living in another, over a unix socket. This is how many processes (CNI
//! plugins, the device plugin, `rdmactl`) share one simulated host: its daemon serves it with
//! [`ProxyServer`], each program uses a [`ProxyClient`] (see [`crate::node::Backends`]).
//!
//! The protocol is JSON lines: one [`Request`] per line from the client, one [`Reply`] per line
//! back, in order, on a connection that serves any number of calls. A failed call's reply
//! carries the errno ([`WireError`]), and the client turns it back into
//! `io::Error::from_raw_os_error(errno)`: a proxied EBUSY is the EBUSY the simulator gave, so
//! code above the traits cannot tell a proxied host from an in-process one. `Sysfs` requests
//! name the namespace whose view they read ([`ProxyClient::sysfs_of`]), so a pod's
//! `/sys/class/net` can be read from the host. Failures of the proxy itself (no server, a
//! broken connection, a reply that does not parse) are [`ProxyError`]s inside `io::Error`s
//! without an errno.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use sriov_core::*; use std::io; use std::path::Path;
//! use std::sync::Arc;
//! use sriov_core::host_proxy::{NamespacedSysfs, ProxyClient, ProxyServer};
//! # struct Tree(FsSysfs);
//! # fn enodev<T>() -> io::Result<T> { Err(io::Error::from_raw_os_error(libc::ENODEV)) }
//! # impl NetOps for Tree {
//! #     fn links(&self, _: &Netns) -> io::Result<Vec<LinkInfo>> { Ok(vec![]) }
//! #     fn rename_link(&self, _: &Netns, _: &str, _: &str) -> io::Result<()> { enodev() }
//! #     fn set_link_mac(&self, _: &Netns, _: &str, _: MacAddress) -> io::Result<()> { enodev() }
//! #     fn set_link_mtu(&self, _: &Netns, _: &str, _: u32) -> io::Result<()> { enodev() }
//! #     fn set_link_up(&self, _: &Netns, _: &str, _: bool) -> io::Result<()> { enodev() }
//! #     fn move_link(&self, _: &Netns, _: &str, _: &Netns) -> io::Result<()> { enodev() }
//! #     fn addresses(&self, _: &Netns, _: &str) -> io::Result<Vec<IpPrefix>> { enodev() }
//! #     fn add_address(&self, _: &Netns, _: &str, _: IpPrefix) -> io::Result<()> { enodev() }
//! #     fn del_address(&self, _: &Netns, _: &str, _: IpPrefix) -> io::Result<()> { enodev() }
//! #     fn routes(&self, _: &Netns) -> io::Result<Vec<Route>> { Ok(vec![]) }
//! #     fn add_route(&self, _: &Netns, _: &Route) -> io::Result<()> { enodev() }
//! #     fn vfs(&self, _: &str) -> io::Result<Vec<VfInfo>> { enodev() }
//! #     fn set_vf_mac(&self, _: &str, _: u32, _: MacAddress) -> io::Result<()> { enodev() }
//! #     fn set_vf_vlan(&self, _: &str, _: u32, _: VlanConfig) -> io::Result<()> { enodev() }
//! #     fn set_vf_spoofchk(&self, _: &str, _: u32, _: bool) -> io::Result<()> { enodev() }
//! #     fn set_vf_trust(&self, _: &str, _: u32, _: bool) -> io::Result<()> { enodev() }
//! #     fn set_vf_link_state(&self, _: &str, _: u32, _: LinkState) -> io::Result<()> { enodev() }
//! #     fn set_vf_rate(&self, _: &str, _: u32, _: TxRate) -> io::Result<()> { enodev() }
//! # }
//! # impl RdmaOps for Tree {
//! #     fn netns_mode(&self) -> io::Result<RdmaNetnsMode> { Ok(RdmaNetnsMode::Shared) }
//! #     fn set_netns_mode(&self, _: RdmaNetnsMode) -> io::Result<()> { Ok(()) }
//! #     fn devices(&self, _: &Netns) -> io::Result<Vec<String>> { Ok(vec![]) }
//! #     fn move_device(&self, _: &Netns, _: &str, _: &Netns) -> io::Result<()> { enodev() }
//! # }
//! # impl NamespacedSysfs for Tree {
//! #     fn sysfs_for(&self, _: &Netns) -> io::Result<Box<dyn Sysfs>> { Ok(Box::new(self.0.clone())) }
//! # }
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir_all(dir.path().join("sys/class/net"))?;
//! // `Tree` serves the files under `dir` as sysfs and answers ENODEV to every link change
//! let host = Arc::new(Tree(FsSysfs::new(dir.path())));
//! let socket = dir.path().join("host.sock");
//! let server = ProxyServer::spawn(std::os::unix::net::UnixListener::bind(&socket)?, host)?;
//!
//! let client = ProxyClient::new(&socket);
//! assert!(client.read_dir(Path::new("/sys/class/net"))?.is_empty());
//! let err = client.set_link_up(&Netns::Host, "ens2f0", true).unwrap_err();
//! assert_eq!(err.raw_os_error(), Some(libc::ENODEV)); // the backend's errno, unchanged
//! let err = client.read(Path::new("/sys/class/net/ens2f0/mtu")).unwrap_err();
//! assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
//! server.stop();
//! # Ok(()) }
//! ```

mod client;
mod error;
mod server;
mod wire;

use std::io;

pub use client::{DEFAULT_REPLY_TIMEOUT, ProxyClient, ProxySysfs};
pub use error::ProxyError;
pub use server::{ProxiedHost, ProxyServer, answer, serve_connection};
pub use wire::{
    Answer, MAX_REPLY_LINE, MAX_REQUEST_LINE, Reply, Request, WireError, WireErrorKind,
};

use crate::{Netns, Sysfs};

/// A host with one sysfs view per network namespace (what a process inside the namespace
/// sees after mounting sysfs): the part of a host a proxy serves besides its netlink.
pub trait NamespacedSysfs: Send + Sync {
    /// The sysfs of namespace `ns` (ENOENT for a namespace the host does not have).
    fn sysfs_for(&self, ns: &Netns) -> io::Result<Box<dyn Sysfs>>;
}

impl<T: NamespacedSysfs + ?Sized> NamespacedSysfs for std::sync::Arc<T> {
    fn sysfs_for(&self, ns: &Netns) -> io::Result<Box<dyn Sysfs>> {
        (**self).sysfs_for(ns)
    }
}

impl<T: NamespacedSysfs + ?Sized> NamespacedSysfs for &T {
    fn sysfs_for(&self, ns: &Netns) -> io::Result<Box<dyn Sysfs>> {
        (**self).sysfs_for(ns)
    }
}

#[cfg(test)]
mod tests;
