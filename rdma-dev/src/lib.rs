//! mlx5 RDMA device discovery on top of `sriov-core`: RDMA devices and ports mapped to their
//! PCI functions, netdevs (by the `ibdev2netdev` rules) and character devices;
//! `ibdev2netdev`; moving RDMA devices between network namespaces through the
//! [`RdmaOps`](sriov_core::RdmaOps) host trait; and the resource model a device plugin serves
//! (resources from configuration, device health, what a container gets).
//!
//! Everything reads through a [`Sysfs`](sriov_core::Sysfs): a host's `/sys`
//! ([`FsSysfs`](sriov_core::FsSysfs)), a rendered or captured tree, or the simulator. A view
//! is one network namespace's: in a pod, only the pod's netdevs (and, in the exclusive RDMA
//! netns mode, only its RDMA devices) are visible.
//!
//! ```
//! use sriov_core::{NetOps, Netns, RdmaNetnsMode, RdmaOps};
//! let host = sysfs_sim::Preset::Reference.build(1).unwrap();
//! let (net, rdma) = (host.net_ops(), host.rdma_ops());
//! rdma.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap();
//! net.set_link_up(&Netns::Host, "ens2f0", true).unwrap();
//! // a pod gets VF 3 as net1 and its RDMA device
//! let pod = host.add_netns("pod").unwrap();
//! net.move_link(&Netns::Host, "ens2f0v3", &pod).unwrap();
//! net.rename_link(&pod, "ens2f0v3", "net1").unwrap();
//! net.set_link_up(&pod, "net1", true).unwrap();
//! let vf = "0000:3b:00.5".parse().unwrap();
//! rdma_dev::move_function_device(&rdma, &host.sysfs(), vf, &Netns::Host, &pod).unwrap();
//! let lines = rdma_dev::ibdev2netdev(&host.sysfs_in(&pod).unwrap(), rdma_dev::Detail::Brief).unwrap();
//! assert_eq!(lines[0].to_string(), "mlx5_5 port 1 ==> net1 (Up)");
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod attrs;
mod chardev;
mod device;
mod error;
mod ibdev2netdev;
mod ids;
pub mod mapping;
mod netns;
mod read;
pub mod resource;

pub use chardev::{CharDevice, CharDeviceKind, DEV_DIR, char_devices_of, rdma_cm};
pub use device::{
    CLASS_INFINIBAND, RdmaDevice, RdmaPort, device_dir, device_names, device_of_function,
    devices_of_function, discover_rdma, port_numbers, read_device, read_device_with,
};
pub use error::{Error, Result};
pub use ibdev2netdev::{Detail, Line, Verbose, ibdev2netdev};
pub use ids::{MELLANOX_VENDOR, part_name};
pub use mapping::{MapContext, MatchRule, PortNetdev};
pub use netns::{move_device, move_function_device, require_exclusive};

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
