//! The SR-IOV domain of rdma-sriov: PCI addresses, physical and virtual functions, VF
//! configuration, discovery, enabling VFs, and a VF pool whose allocation ledger survives
//! crashes.
//!
//! Everything that touches the machine goes through three host traits, each with the kernel's
//! errno in its errors; the `sysfs-sim` crate implements all three over a simulated kernel:
//! - [`Sysfs`]: read/write attributes, read links, list directories. [`FsSysfs`] is the real
//!   backend (files under a root, `/` on a host or a rendered tree).
//! - [`NetOps`]: links per network namespace and the PF's VF table; with the cargo feature `netlink`
//!   (on by default), [`rtnl::RtnlNetOps`] is its real backend, over the `rtnl-ns` crate;
//!   without it this crate pulls in no netlink code at all.
//! - [`RdmaOps`]: the RDMA netns mode and moving RDMA devices between namespaces; with the
//!   feature `netlink`, [`rdma_nl::RdmaNetlinkOps`] is its real backend, over the `rdma-nl`
//!   crate.
//!
//! Callers that report to a person wrap the last two in [`Named`], whose errors name the
//! operation and its target; every error of this crate has a CNI error code ([`cni_error`]).
//!
//! [`node`] says where a program finds its node (the host root) and which backends it uses
//! there; `host_proxy` (feature `host-proxy`, on by default) serves the three traits of one
//! host to many processes over a unix socket.
//!
//! ```
//! use sriov_core::{discover, FsSysfs};
//! // This machine's /sys: a host without SR-IOV NICs simply has no PFs.
//! let pfs = discover(&FsSysfs::host()).unwrap_or_default();
//! for pf in &pfs {
//!     println!("{} {:?} {}/{} VFs", pf.pci, pf.netdev, pf.num_vfs, pf.total_vfs);
//! }
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod attr;
pub mod cni_error;
pub mod discovery;
pub mod enable;
mod error;
pub mod host_error;
#[cfg(feature = "host-proxy")]
pub mod host_proxy;
pub mod ledger;
mod mac;
mod model;
pub mod netops;
pub mod node;
mod pci;
pub mod pool;
#[cfg(feature = "netlink")]
pub mod rdma_nl;
pub mod rdma_ops;
#[cfg(feature = "netlink")]
pub mod rtnl;
pub mod sysfs;
mod vf_config;

pub use discovery::discover;
pub use enable::{NumVfsOutcome, ResetPolicy, set_num_vfs};
pub use error::{AttrErrorKind, Error, FunctionRole, Result};
pub use host_error::{HostError, HostOp, HostTarget, Named};
pub use mac::{MacAddress, MacAddressError};
pub use model::{PhysicalFunction, VirtualFunction};
pub use netops::{IpPrefix, LinkInfo, NetOps, Netns, Route, VfInfo};
pub use pci::{PciAddress, PciAddressError};
pub use rdma_ops::{RdmaNetnsMode, RdmaNetnsModeError, RdmaOps};
pub use sysfs::{EntryKind, FsSysfs, Sysfs};
pub use vf_config::{
    LinkState, TxRate, VfConfig, VfConfigError, VfState, VlanConfig, VlanId, VlanProto, VlanQos,
    parse_on_off,
};

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
