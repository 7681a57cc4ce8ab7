//! Simulated SR-IOV hardware: an in-memory model of the parts of the Linux kernel that SR-IOV
//! and RDMA networking touch, behind the host traits of `sriov-core`.
//!
//! - PCI functions with SR-IOV capability ([`NicModel`]: ConnectX-4 to 7, BlueField, E810,
//!   I350), drivers bound or not, `sriov_drivers_autoprobe`, NUMA nodes, link state.
//! - Writes behave as in the kernel, errno included: `sriov_numvfs` creates and removes VF
//!   functions, `virtfnN`/`physfn` links and VF netdevs, checking in the kernel's order (EINVAL,
//!   ERANGE, same-count no-op, ENOENT without a driver, EBUSY for a non-zero change); `bind` and
//!   `unbind` of drivers; `carrier` of a down link reads EINVAL.
//! - Network namespaces: `/sys/class/net` and each device's `net/` are per namespace; moving a
//!   VF netdev into a pod removes it from the host's view; names clash with EEXIST; a deleted
//!   namespace hands its physical netdevs back to the host.
//! - [`SimNetOps`] implements `NetOps` (links, addresses, routes, the PF's VF table).
//! - RDMA ([`rdma`]): the probe of an mlx5 function registers its RDMA device (`mlx5_N`, lowest
//!   free number, or rdma-core's udev names) with `class/infiniband` attributes, a port whose
//!   state follows the netdev's link and whose `gid_attrs/ndevs/0` follows renames and moves,
//!   `uverbsN`/`umadN`/`issmN` and `rdma_cm`; [`SimRdmaOps`] implements `RdmaOps` (the RDMA netns
//!   mode and device moves, with the kernel's rules).
//! - Faults: any operation on any path can fail with a chosen errno ([`Fault`]), seeded.
//! - A typed log of every mutating operation and its outcome ([`Op`], [`OpRecord`]), with
//!   [`SimHost::log_mark`] and [`SimHost::ops_since`] for "exactly these operations happened".
//! - Presets ([`Preset`]): the reference deployment's worker node (its addresses and names are
//!   listed at [`Preset::Reference`]) and two larger hosts.
//! - Rendering: [`SimHost::render`] writes a tree that reads like a real `/sys` (relative links
//!   as the kernel lays them out), for the real `FsSysfs` backend and for other programs.
//! - Sharing (feature `shared`): `shared` runs one host for many processes, its sysfs a live
//!   FUSE mount, its host traits served by the host-ops proxy, its netdevs optionally real veths
//!   (`rdmactl sim start`).
//!
//! The kernel's rules are methods of [`model::Model`] (in [`kernel`], by subsystem); the views
//! ([`SimSysfs`], [`SimNetOps`], [`SimRdmaOps`]) check faults, call them, log the operation and
//! mark the sysfs projection ([`tree::SysfsTree`]) stale.
//!
//! ```
//! use sriov_core::{discover, set_num_vfs, ResetPolicy, Sysfs};
//! let host = sysfs_sim::Preset::Reference.build(42).unwrap();
//! let fs = host.sysfs();
//! let pf1 = "0000:3b:00.1".parse().unwrap();
//! let out = set_num_vfs(&fs, pf1, 4, ResetPolicy::Refuse).unwrap();
//! assert_eq!(out.enabled, 4);
//! let pfs = discover(&fs).unwrap();
//! assert_eq!(pfs[1].vfs[0].pci.to_string(), "0000:3b:01.2"); // offset 9
//! // the kernel refuses a different non-zero count while VFs exist
//! let err = fs.write("/sys/bus/pci/devices/0000:3b:00.1/sriov_numvfs".as_ref(), "2").unwrap_err();
//! assert_eq!(err.raw_os_error(), Some(libc::EBUSY));
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod builder;
mod faults;
mod host;
pub mod kernel;
pub mod model;
mod netops;
mod nic_model;
mod op_log;
mod presets;
mod project;
pub mod rdma;
mod rdma_ops;
mod rdma_project;
mod render;
#[cfg(feature = "shared")]
pub mod shared;
mod sysfs;
pub mod tree;

pub use builder::{BuildError, HostBuilder, NicSpec};
pub use faults::{Fault, FaultOp, Faults, Target, Trigger};
pub use host::SimHost;
pub use kernel::{AdminState, PhysicalLink, VfSetting};
pub use model::NamingScheme;
pub use netops::SimNetOps;
pub use nic_model::{NicModel, VfLayout};
pub use op_log::{LogMark, Op, OpRecord};
pub use presets::Preset;
pub use project::modalias;
pub use rdma::{RdmaDevice, RdmaNaming, RdmaState};
pub use rdma_ops::{DevNode, SimRdmaOps};
pub use sysfs::SimSysfs;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
