//! `rdma-sriov-dp`: the device plugin for the seed's resource (`rdma/vhca`, the VFs of the
//! configured PFs; or `rdma/hca`, or sriov-network-device-plugin's `resourceList`), built on
//! the framework of this crate and on rdma-dev's resource model.
//!
//! - [`config`]: the configuration formats and the resource prefix.
//! - [`enable`]: enabling VFs at start, never destroying VFs pods hold ([`ledger`]).
//! - [`monitor`]: the host looked at every poll through the `Sysfs` trait: devices, health
//!   ([`health`]), configuration changes.
//! - [`plugin`]: Allocate (exactly the allocated VFs' character devices, the environment, the
//!   [`devinfo`] files) and GetPreferredAllocation ([`preferred`]).
//! - [`daemon`]: the whole daemon.

pub mod config;
pub mod daemon;
pub mod devinfo;
pub mod enable;
mod error;
pub mod health;
pub mod ledger;
pub mod monitor;
pub mod plugin;
pub mod preferred;

pub use error::DpError;
