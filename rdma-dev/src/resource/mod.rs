//! The resource model a device plugin serves: resources from configuration (the seed plugin's
//! `sriov`/`hca` modes or sriov-network-device-plugin's `resourceList` with selectors), their
//! devices identified by PCI address, health from the host's real state, and what a container
//! gets for a set of device IDs.
//!
//! ```
//! use rdma_dev::resource::{Inventory, ResourceConfig, select_resources};
//! let host = sysfs_sim::Preset::Reference.build(1).unwrap();
//! let inventory = Inventory::discover(&host.sysfs()).unwrap();
//! let config = ResourceConfig::parse(r#"{"resourceList":[
//!     {"resourceName":"first_two","resourcePrefix":"rdma","selectors":{"pfNames":["ens2f0#0-1"]}},
//!     {"resourceName":"rest","resourcePrefix":"rdma","selectors":{"vendors":["15b3"],"isRdma":true}}]}"#).unwrap();
//! let resources = select_resources(&config, &inventory);
//! assert_eq!(resources[0].devices.len(), 2);
//! // the rest of ens2f0's VFs, and PF1 (no VFs enabled, so it is a device itself)
//! assert_eq!(resources[1].devices.len(), 7);
//! ```

mod allocate;
mod config;
mod health;
mod inventory;
mod select;

pub use allocate::{ContainerAllocation, DeviceSpec, env_name};
pub use config::{
    DEFAULT_PREFIX, PfName, ResourceConfig, ResourceSpec, SeedConfig, SeedMode, Selectors,
    is_valid_resource_prefix,
};
pub use health::{Allocation, Health, Problem, device_health};
pub use inventory::{Candidate, Inventory, RdmaInfo, Role};
pub use select::{Resource, ResourceDevice, matches, select_resources};
