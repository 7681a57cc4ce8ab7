//! Resource configuration, in the two formats a device plugin is given:
//! - the seed plugin's (Mellanox `k8s-rdma-sriov-dev-plugin`): `{"mode":"sriov",
//!   "pfNetdevices":["ens2f0"]}` -> resource `rdma/vhca` of those PFs' VFs, or `{"mode":"hca"}`
//!   -> `rdma/hca`, the PFs' RDMA devices shared between containers;
//! - sriov-network-device-plugin's `resourceList`: named resources with selectors (`vendors`,
//!   `devices`, `drivers`, `pfNames` with VF ranges `ens1#0-3,5`, `rootDevices`,
//!   `pciAddresses`, `linkTypes`, `isRdma`); `selectors` is one object or a list of them (any
//!   may match). Unknown selector keys are refused rather than ignored, so a typo never widens a
//!   resource.

use std::ops::RangeInclusive;

use serde::Deserialize;
use serde_json::Value;
use sriov_core::PciAddress;

use crate::error::{Error, Result};

/// The default `resourcePrefix`, as in sriov-network-device-plugin.
pub const DEFAULT_PREFIX: &str = "intel.com";

/// The seed plugin's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeedMode {
    /// `sriov`: each VF is a device of `rdma/vhca`.
    Sriov,
    /// `hca`: the PFs' RDMA devices, shared, as `rdma/hca`.
    Hca,
}

/// The seed plugin's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedConfig {
    /// Mode.
    pub mode: SeedMode,
    /// The PFs by netdev name (empty: every PF, in `hca` mode).
    pub pf_netdevices: Vec<String>,
}

/// A `pfNames` entry: a PF netdev name and optionally which of its VFs (`ens1#0-3,5`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PfName {
    /// The PF's netdev name.
    pub pf: String,
    /// VF index ranges; `None` is every VF.
    pub vfs: Option<Vec<RangeInclusive<u32>>>,
}

impl PfName {
    /// Parses `name` or `name#ranges` (ranges: comma-separated `N` or `A-B` with A <= B).
    ///
    /// ```
    /// use rdma_dev::resource::PfName;
    /// let p = PfName::parse("ens1#0-3,5").unwrap();
    /// assert_eq!(p.pf, "ens1");
    /// assert!(p.includes(2) && p.includes(5) && !p.includes(4));
    /// assert!(PfName::parse("ens1#3-1").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<PfName> {
        let bad = |why: &str| Error::Config {
            detail: format!("pfNames entry {text:?}: {why}"),
        };
        let (pf, ranges) = match text.split_once('#') {
            Some((pf, ranges)) => (pf, Some(ranges)),
            None => (text, None),
        };
        // the kernel's rule; a name holding `#` cannot be written here, as `#` starts the ranges
        if !cni_types::validate::is_valid_interface_name(pf) {
            return Err(bad("not a valid interface name"));
        }
        let vfs = match ranges {
            None => None,
            Some(ranges) => {
                let mut out = Vec::new();
                for part in ranges.split(',') {
                    let (a, b) = match part.split_once('-') {
                        Some((a, b)) => (a, b),
                        None => (part, part),
                    };
                    let num = |s: &str| -> Result<u32> {
                        if s.is_empty() || s.len() > 5 || !s.bytes().all(|c| c.is_ascii_digit()) {
                            return Err(bad("VF ranges must be N or A-B with decimal numbers"));
                        }
                        s.parse().map_err(|_| bad("VF index out of range"))
                    };
                    let (a, b) = (num(a)?, num(b)?);
                    if a > b {
                        return Err(bad("a range's start is above its end"));
                    }
                    out.push(a..=b);
                }
                Some(out)
            }
        };
        Ok(PfName {
            pf: pf.to_string(),
            vfs,
        })
    }

    /// Whether VF `index` of this PF is included.
    pub fn includes(&self, index: u32) -> bool {
        self.vfs
            .as_ref()
            .is_none_or(|ranges| ranges.iter().any(|r| r.contains(&index)))
    }
}

/// One selector object: every field given must match (an empty list is no constraint).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selectors {
    /// PCI vendor IDs.
    pub vendors: Vec<u16>,
    /// PCI device IDs.
    pub devices: Vec<u16>,
    /// Bound driver names.
    pub drivers: Vec<String>,
    /// PF names with optional VF ranges.
    pub pf_names: Vec<PfName>,
    /// PF PCI addresses (a VF matches by its PF, a PF by itself).
    pub root_devices: Vec<PciAddress>,
    /// The functions' own PCI addresses.
    pub pci_addresses: Vec<PciAddress>,
    /// Link types, lower case (`ether`, `infiniband`).
    pub link_types: Vec<String>,
    /// Whether the function must (or must not) have an RDMA device.
    pub is_rdma: Option<bool>,
}

/// One `resourceList` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSpec {
    /// `resourceName`.
    pub name: String,
    /// `resourcePrefix`.
    pub prefix: String,
    /// Selector objects; a function matching any of them belongs to the resource.
    pub selectors: Vec<Selectors>,
}

impl ResourceSpec {
    /// `prefix/name`, as the kubelet knows the resource.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.prefix, self.name)
    }
}

/// A device plugin's resource configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceConfig {
    /// The seed plugin's format.
    Seed(SeedConfig),
    /// sriov-network-device-plugin's `resourceList`, in order (a function belongs to the first
    /// resource it matches).
    List(Vec<ResourceSpec>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelectors {
    #[serde(default)]
    vendors: Vec<String>,
    #[serde(default)]
    devices: Vec<String>,
    #[serde(default)]
    drivers: Vec<String>,
    #[serde(default, rename = "pfNames")]
    pf_names: Vec<String>,
    #[serde(default, rename = "rootDevices")]
    root_devices: Vec<String>,
    #[serde(default, rename = "pciAddresses")]
    pci_addresses: Vec<String>,
    #[serde(default, rename = "linkTypes")]
    link_types: Vec<String>,
    #[serde(default, rename = "isRdma")]
    is_rdma: Option<bool>,
}

#[derive(Deserialize)]
struct RawResource {
    #[serde(rename = "resourceName")]
    resource_name: String,
    #[serde(default, rename = "resourcePrefix")]
    resource_prefix: Option<String>,
    #[serde(default, rename = "deviceType")]
    device_type: Option<String>,
    #[serde(default)]
    selectors: Option<Value>,
}

#[derive(Deserialize)]
struct RawSeed {
    mode: String,
    #[serde(default, rename = "pfNetdevices")]
    pf_netdevices: Vec<String>,
}

fn config_err(detail: String) -> Error {
    Error::Config { detail }
}

fn hex_id(resource: &str, what: &str, text: &str) -> Result<u16> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(config_err(format!(
            "resource {resource}: {what} {text:?} is not a 1-4 digit hex ID"
        )));
    }
    u16::from_str_radix(digits, 16)
        .map_err(|_| config_err(format!("resource {resource}: {what} {text:?} is not hex")))
}

fn pci(resource: &str, what: &str, text: &str) -> Result<PciAddress> {
    text.parse().map_err(|e: sriov_core::PciAddressError| {
        config_err(format!("resource {resource}: {what}: {e}"))
    })
}

fn selectors(resource: &str, raw: RawSelectors) -> Result<Selectors> {
    let mut link_types = Vec::new();
    for t in raw.link_types {
        if t.is_empty() {
            return Err(config_err(format!(
                "resource {resource}: empty linkTypes entry"
            )));
        }
        link_types.push(t.to_ascii_lowercase());
    }
    Ok(Selectors {
        vendors: raw
            .vendors
            .iter()
            .map(|v| hex_id(resource, "vendor", v))
            .collect::<Result<_>>()?,
        devices: raw
            .devices
            .iter()
            .map(|v| hex_id(resource, "device", v))
            .collect::<Result<_>>()?,
        drivers: raw.drivers,
        pf_names: raw
            .pf_names
            .iter()
            .map(|p| PfName::parse(p))
            .collect::<Result<_>>()?,
        root_devices: raw
            .root_devices
            .iter()
            .map(|p| pci(resource, "rootDevices", p))
            .collect::<Result<_>>()?,
        pci_addresses: raw
            .pci_addresses
            .iter()
            .map(|p| pci(resource, "pciAddresses", p))
            .collect::<Result<_>>()?,
        link_types,
        is_rdma: raw.is_rdma,
    })
}

/// A Kubernetes extended-resource name part: 1-63 of `[A-Za-z0-9_.-]`, alphanumeric at both
/// ends.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Whether `prefix` can be a resource's domain (`<prefix>/<name>`): a DNS subdomain, lower-case
/// labels of `[a-z0-9-]` (1 to 63 bytes, no `-` at either end) joined by dots, at most 253 bytes.
///
/// ```
/// use rdma_dev::resource::is_valid_resource_prefix;
/// assert!(is_valid_resource_prefix("rdma"));
/// assert!(is_valid_resource_prefix("nvidia.com"));
/// assert!(!is_valid_resource_prefix("Not A Domain"));
/// assert!(!is_valid_resource_prefix("-rdma"));
/// ```
pub fn is_valid_resource_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.len() <= 253
        && prefix.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

fn resource(raw: RawResource) -> Result<ResourceSpec> {
    let name = raw.resource_name;
    if !valid_name(&name) {
        return Err(config_err(format!("invalid resourceName {name:?}")));
    }
    let prefix = raw
        .resource_prefix
        .unwrap_or_else(|| DEFAULT_PREFIX.to_string());
    if !is_valid_resource_prefix(&prefix) {
        return Err(config_err(format!(
            "resource {name}: invalid resourcePrefix {prefix:?}"
        )));
    }
    match raw.device_type.as_deref() {
        None | Some("netDevice") => {}
        Some(other) => {
            return Err(config_err(format!(
                "resource {name}: deviceType {other:?} is not supported (only netDevice)"
            )));
        }
    }
    let raw_selectors = match raw.selectors {
        None | Some(Value::Null) => vec![Value::Object(Default::default())],
        Some(Value::Array(items)) => items,
        Some(obj @ Value::Object(_)) => vec![obj],
        Some(_) => {
            return Err(config_err(format!(
                "resource {name}: selectors must be an object or a list of objects"
            )));
        }
    };
    if raw_selectors.is_empty() {
        return Err(config_err(format!("resource {name}: empty selectors list")));
    }
    let mut out = Vec::new();
    for value in raw_selectors {
        let raw: RawSelectors = serde_json::from_value(value)
            .map_err(|e| config_err(format!("resource {name}: selectors: {e}")))?;
        out.push(selectors(&name, raw)?);
    }
    Ok(ResourceSpec {
        name,
        prefix,
        selectors: out,
    })
}

impl ResourceConfig {
    /// Parses a configuration in either format.
    ///
    /// ```
    /// use rdma_dev::resource::{ResourceConfig, SeedMode};
    /// let seed = ResourceConfig::parse(r#"{"mode":"sriov","pfNetdevices":["ens2f0"]}"#).unwrap();
    /// assert!(matches!(seed, ResourceConfig::Seed(ref s) if s.mode == SeedMode::Sriov));
    /// let list = ResourceConfig::parse(r#"{"resourceList":[{"resourceName":"mlnx_rdma",
    ///   "resourcePrefix":"nvidia.com","selectors":{"vendors":["15b3"],"isRdma":true}}]}"#).unwrap();
    /// assert!(matches!(list, ResourceConfig::List(ref l) if l[0].full_name() == "nvidia.com/mlnx_rdma"));
    /// // a misspelt selector is an error, not a wider resource
    /// assert!(ResourceConfig::parse(r#"{"resourceList":[{"resourceName":"x","selectors":{"vendor":["15b3"]}}]}"#).is_err());
    /// ```
    pub fn parse(text: &str) -> Result<ResourceConfig> {
        let value: Value =
            serde_json::from_str(text).map_err(|source| Error::ConfigJson { source })?;
        let Value::Object(top) = &value else {
            return Err(config_err("expected a JSON object".into()));
        };
        if let Some(list) = top.get("resourceList") {
            let raws: Vec<RawResource> = serde_json::from_value(list.clone())
                .map_err(|source| Error::ConfigJson { source })?;
            let mut specs = Vec::with_capacity(raws.len());
            for raw in raws {
                let spec = resource(raw)?;
                if specs
                    .iter()
                    .any(|s: &ResourceSpec| s.full_name() == spec.full_name())
                {
                    return Err(config_err(format!(
                        "resource {} configured twice",
                        spec.full_name()
                    )));
                }
                specs.push(spec);
            }
            return Ok(ResourceConfig::List(specs));
        }
        if top.contains_key("mode") {
            let raw: RawSeed =
                serde_json::from_value(value).map_err(|source| Error::ConfigJson { source })?;
            let mode = match raw.mode.as_str() {
                "sriov" => SeedMode::Sriov,
                "hca" => SeedMode::Hca,
                other => {
                    return Err(config_err(format!(
                        "mode {other:?} (expected sriov or hca)"
                    )));
                }
            };
            for name in &raw.pf_netdevices {
                if !cni_types::validate::is_valid_interface_name(name) {
                    return Err(config_err(format!("pfNetdevices: invalid name {name:?}")));
                }
            }
            if mode == SeedMode::Sriov && raw.pf_netdevices.is_empty() {
                return Err(config_err("mode sriov needs pfNetdevices".into()));
            }
            return Ok(ResourceConfig::Seed(SeedConfig {
                mode,
                pf_netdevices: raw.pf_netdevices,
            }));
        }
        Err(config_err(
            "expected \"resourceList\" (sriov-network-device-plugin) or \"mode\" (seed plugin)"
                .into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pf_name_ranges() {
        let p = PfName::parse("ens1f0#0-3,5,7-7").unwrap();
        let inc: Vec<u32> = (0..10).filter(|i| p.includes(*i)).collect();
        assert_eq!(inc, [0, 1, 2, 3, 5, 7]);
        assert!(PfName::parse("ens1").unwrap().includes(1000));
        for bad in [
            "",
            "#1",
            "ens1#",
            "ens1#a",
            "ens1#1-",
            "ens1#-1",
            "ens1#1,,2",
            "ens1#2-1",
            "a/b#1",
            "ens1#999999",
            "averyveryverylongname#1",
        ] {
            assert!(PfName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn resource_list_forms() {
        let cfg = ResourceConfig::parse(
            r#"{"resourceList":[
                {"resourceName":"a","selectors":[{"devices":["0x1018"]},{"pfNames":["ens2f1#0-1"]}]},
                {"resourceName":"b","resourcePrefix":"rdma","deviceType":"netDevice","excludeTopology":true}
            ]}"#,
        )
        .unwrap();
        let ResourceConfig::List(list) = cfg else {
            panic!("not a list")
        };
        assert_eq!(list[0].full_name(), "intel.com/a");
        assert_eq!(list[0].selectors.len(), 2);
        assert_eq!(list[0].selectors[0].devices, [0x1018]);
        assert_eq!(list[1].full_name(), "rdma/b");
        assert_eq!(list[1].selectors, [Selectors::default()]);
    }

    #[test]
    fn invalid_configs_are_typed_errors() {
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"mode":"vhca"}"#,
            r#"{"mode":"sriov"}"#,
            r#"{"mode":"sriov","pfNetdevices":["a b"]}"#,
            r#"{"resourceList":[{"resourceName":""}]}"#,
            r#"{"resourceList":[{"resourceName":"-x"}]}"#,
            r#"{"resourceList":[{"resourceName":"x","resourcePrefix":"Intel.com"}]}"#,
            r#"{"resourceList":[{"resourceName":"x","deviceType":"accelerator"}]}"#,
            r#"{"resourceList":[{"resourceName":"x","selectors":{"vendors":["15b3x"]}}]}"#,
            r#"{"resourceList":[{"resourceName":"x","selectors":{"pciAddresses":["3b:00"]}}]}"#,
            r#"{"resourceList":[{"resourceName":"x","selectors":[]}]}"#,
            r#"{"resourceList":[{"resourceName":"x","selectors":7}]}"#,
            r#"{"resourceList":[{"resourceName":"x"},{"resourceName":"x"}]}"#,
        ] {
            assert!(ResourceConfig::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seed_hca_mode_needs_no_pfs() {
        assert_eq!(
            ResourceConfig::parse(r#"{"mode":"hca"}"#).unwrap(),
            ResourceConfig::Seed(SeedConfig {
                mode: SeedMode::Hca,
                pf_netdevices: vec![]
            })
        );
    }
}
