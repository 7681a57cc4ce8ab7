//! The daemon's configuration: the seed plugin's `{"mode":"sriov","pfNetdevices":[..]}` or
//! `{"mode":"hca"}`, or sriov-network-device-plugin's `resourceList` (parsed by rdma-dev), with
//! what the daemon adds: the resource prefix from `--resource-prefix`, and each resource's
//! socket file name.

use rdma_dev::resource::{
    Inventory, Resource, ResourceConfig, SeedMode, is_valid_resource_prefix, select_resources,
};
use serde_json::Value;

use super::error::DpError;

/// The seed plugin's resource prefix (`rdma/vhca`, `rdma/hca`).
pub const SEED_PREFIX: &str = "rdma";
/// The seed plugin's socket in `sriov` mode.
pub const SEED_SRIOV_SOCKET: &str = "rdma-sriov-dp.sock";
/// The socket in the seed's `hca` mode.
pub const SEED_HCA_SOCKET: &str = "rdma-hca-dp.sock";

/// A parsed configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    /// The resources as configured.
    pub resources: ResourceConfig,
    /// `--resource-prefix`: the seed resource's prefix, and that of `resourceList` entries
    /// without their own `resourcePrefix`.
    pub prefix: Option<String>,
}

/// One resource as served: rdma-dev's resource under its final name, and its socket file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedResource {
    /// The resource and its present devices.
    pub resource: Resource,
    /// Its socket's file name in the plugin directory.
    pub socket_name: String,
}

impl DaemonConfig {
    /// Parses a configuration file's text, with the `--resource-prefix` if one was given.
    ///
    /// ```
    /// use device_plugin::sriov_dp::config::DaemonConfig;
    /// let c = DaemonConfig::parse(r#"{"resourceList":[{"resourceName":"mlnx"}]}"#, Some("nvidia.com")).unwrap();
    /// assert_eq!(c.resource_names(), ["nvidia.com/mlnx"]);
    /// let seed = DaemonConfig::parse(r#"{"mode":"sriov","pfNetdevices":["ens2f0"]}"#, None).unwrap();
    /// assert_eq!(seed.resource_names(), ["rdma/vhca"]);
    /// assert!(DaemonConfig::parse("{}", None).is_err());
    /// assert!(DaemonConfig::parse(r#"{"mode":"hca"}"#, Some("Not A Domain")).is_err());
    /// ```
    pub fn parse(text: &str, prefix: Option<&str>) -> Result<DaemonConfig, DpError> {
        if let Some(p) = prefix
            && !is_valid_resource_prefix(p)
        {
            return Err(DpError::Prefix {
                prefix: p.to_string(),
            });
        }
        let with_prefix = match (prefix, serde_json::from_str::<Value>(text)) {
            (Some(p), Ok(Value::Object(mut top))) => {
                if let Some(Value::Array(list)) = top.get_mut("resourceList") {
                    for entry in list.iter_mut() {
                        if let Value::Object(entry) = entry {
                            entry
                                .entry("resourcePrefix")
                                .or_insert_with(|| Value::String(p.to_string()));
                        }
                    }
                }
                Some(Value::Object(top).to_string())
            }
            // anything else goes to rdma-dev as it is, which says what is wrong with it
            _ => None,
        };
        let resources = ResourceConfig::parse(with_prefix.as_deref().unwrap_or(text))
            .map_err(|source| DpError::ParseConfig { source })?;
        Ok(DaemonConfig {
            resources,
            prefix: prefix.map(str::to_string),
        })
    }

    /// The names of the resources this configuration serves, in order.
    pub fn resource_names(&self) -> Vec<String> {
        match &self.resources {
            ResourceConfig::Seed(seed) => vec![self.seed_name(seed.mode)],
            ResourceConfig::List(specs) => specs.iter().map(|s| s.full_name()).collect(),
        }
    }

    fn seed_name(&self, mode: SeedMode) -> String {
        let prefix = self.prefix.as_deref().unwrap_or(SEED_PREFIX);
        match mode {
            SeedMode::Sriov => format!("{prefix}/vhca"),
            SeedMode::Hca => format!("{prefix}/hca"),
        }
    }

    /// The resources over `inventory`, named and with their sockets.
    pub fn select(&self, inventory: &Inventory) -> Vec<ServedResource> {
        let selected = select_resources(&self.resources, inventory);
        match &self.resources {
            ResourceConfig::Seed(seed) => selected
                .into_iter()
                .map(|mut resource| {
                    resource.name = self.seed_name(seed.mode);
                    let socket_name = match seed.mode {
                        SeedMode::Sriov => SEED_SRIOV_SOCKET,
                        SeedMode::Hca => SEED_HCA_SOCKET,
                    }
                    .to_string();
                    ServedResource {
                        resource,
                        socket_name,
                    }
                })
                .collect(),
            ResourceConfig::List(_) => selected
                .into_iter()
                .map(|resource| {
                    // sriov-network-device-plugin's `<prefix>_<name>.sock`
                    let socket_name = format!("{}.sock", resource.name.replace('/', "_"));
                    ServedResource {
                        resource,
                        socket_name,
                    }
                })
                .collect(),
        }
    }

    /// The PFs whose VFs the daemon enables at start: the seed's `sriov` mode's
    /// `pfNetdevices` (sriov-network-device-plugin leaves that to an operator).
    pub fn pfs_to_enable(&self) -> &[String] {
        match &self.resources {
            ResourceConfig::Seed(seed) if seed.mode == SeedMode::Sriov => &seed.pf_netdevices,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_applies_only_where_no_resource_prefix_is_given() {
        let c = DaemonConfig::parse(
            r#"{"resourceList":[{"resourceName":"a"},{"resourceName":"b","resourcePrefix":"own.io"}]}"#,
            Some("rdma"),
        )
        .unwrap();
        assert_eq!(c.resource_names(), ["rdma/a", "own.io/b"]);
        let c = DaemonConfig::parse(r#"{"resourceList":[{"resourceName":"a"}]}"#, None).unwrap();
        assert_eq!(c.resource_names(), ["intel.com/a"]);
        let c = DaemonConfig::parse(r#"{"mode":"hca"}"#, Some("mellanox.com")).unwrap();
        assert_eq!(c.resource_names(), ["mellanox.com/hca"]);
        assert!(c.pfs_to_enable().is_empty());
    }

    #[test]
    fn sockets_are_named_like_the_anchors() {
        let host = crate::kubelet_sim::hosts::reference(1).unwrap();
        let inv = Inventory::discover(&host.sysfs()).unwrap();
        let seed =
            DaemonConfig::parse(r#"{"mode":"sriov","pfNetdevices":["ens2f0"]}"#, None).unwrap();
        let served = seed.select(&inv);
        assert_eq!(served[0].socket_name, "rdma-sriov-dp.sock");
        assert_eq!(served[0].resource.devices.len(), 8);
        assert_eq!(seed.pfs_to_enable(), ["ens2f0"]);
        let list = DaemonConfig::parse(
            r#"{"resourceList":[{"resourceName":"vfs","resourcePrefix":"nvidia.com","selectors":{"pfNames":["ens2f0"]}}]}"#,
            None,
        )
        .unwrap();
        assert_eq!(list.select(&inv)[0].socket_name, "nvidia.com_vfs.sock");
    }
}
