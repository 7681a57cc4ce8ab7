//! Results of every specification version, and the conversions between them.
//!
//! Three layouts exist ([`Family`]): [`Result020`] (0.1.0/0.2.0, `ip4`/`ip6`), [`Result040`]
//! (0.3.0/0.3.1/0.4.0, `ips[].version`) and [`Result100`] (1.0.0/1.1.0, the current one, with
//! the 1.1.0 interface fields `mtu`, `socketPath`, `pciID`). [`AnyResult`] holds any of them and
//! converts between versions:
//!
//! - 1.0.0 <-> 1.1.0 changes only `cniVersion`;
//! - 1.x -> 0.4.0 adds `ips[].version` from the address family and drops the interface `mtu`,
//!   `socketPath` and `pciID`; 0.4.0 -> 1.x drops `ips[].version`;
//! - 0.4.0 -> 0.2.0 keeps the first IPv4 and the first IPv6 address and splits the routes by
//!   destination family (destination and gateway only), for a family that has an address; a
//!   result without any address fails with [`Error::NoValidIp`];
//! - 0.2.0 -> 0.4.0 is lossless, so a 0.2.0 result survives the round trip unchanged.
//!
//! ```
//! use cni_types::result::AnyResult;
//!
//! let json = br#"{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mtu":1500}],
//!     "ips":[{"interface":0,"address":"10.1.0.5/16","gateway":"10.1.0.1"}]}"#;
//! let r = AnyResult::parse(json)?;
//! let old = r.convert_to("0.4.0")?;
//! let v: serde_json::Value = serde_json::from_slice(&old.emit())?;
//! assert_eq!(v["ips"][0]["version"], "4");
//! assert!(v["interfaces"][0].get("mtu").is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::version::{CURRENT, Family};

/// An interface in a 1.x result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interface {
    /// Interface name.
    #[serde(default)]
    pub name: String,
    /// Hardware address (omitted when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
    /// MTU (1.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// The namespace path for a container interface; empty for a host interface.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sandbox: String,
    /// A vhost-user or similar socket (1.1.0).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub socket_path: String,
    /// PCI ID of the device (1.1.0).
    #[serde(rename = "pciID", default, skip_serializing_if = "String::is_empty")]
    pub pci_id: String,
}

/// An address in a 1.x result. `interface: 0` is written out; an absent index stays absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpConfig {
    /// Index into `interfaces`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<u32>,
    /// Address with prefix; host bits are kept (`1.2.3.30/24`).
    pub address: IpNet,
    /// Default gateway for this subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
}

/// A route (all versions; the 1.1.0 fields are optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Destination.
    pub dst: IpNet,
    /// Next hop; absent means the default gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gw: Option<IpAddr>,
    /// MTU (1.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Advertised MSS (1.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advmss: Option<u32>,
    /// Priority (1.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// Routing table (1.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
    /// Scope (1.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<u8>,
}

impl Route {
    /// A route to `dst` via `gw`, without the 1.1.0 fields.
    pub fn new(dst: IpNet, gw: Option<IpAddr>) -> Self {
        Route {
            dst,
            gw,
            mtu: None,
            advmss: None,
            priority: None,
            table: None,
            scope: None,
        }
    }

    fn dst_gw_only(&self) -> Route {
        Route::new(self.dst, self.gw)
    }
}

/// DNS settings (all versions; empty parts are omitted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dns {
    /// Name servers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    /// Local domain.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub domain: String,
    /// Search domains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    /// Resolver options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

impl Dns {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        self.nameservers.is_empty()
            && self.domain.is_empty()
            && self.search.is_empty()
            && self.options.is_empty()
    }
}

/// A 1.0.0 / 1.1.0 result: the current layout, the one plugins build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Result100 {
    /// The result's version (`1.0.0` or `1.1.0` on the wire).
    #[serde(rename = "cniVersion", default)]
    pub cni_version: String,
    /// Interfaces created or touched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<Interface>,
    /// Addresses assigned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<IpConfig>,
    /// Routes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    /// DNS settings.
    #[serde(default, skip_serializing_if = "Dns::is_empty")]
    pub dns: Dns,
}

/// The current result layout under its usual name.
pub type CurrentResult = Result100;

impl Result100 {
    /// An empty result of version [`CURRENT`].
    pub fn new() -> Self {
        Result100 {
            cni_version: CURRENT.to_string(),
            ..Default::default()
        }
    }

    /// Parses a 1.x result; a missing `cniVersion` is taken as [`CURRENT`], any other version
    /// than 1.0.0/1.1.0 is an error.
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        match AnyResult::parse_with_default(json, CURRENT)? {
            AnyResult::V100(r) => Ok(r),
            other => Err(Error::ResultVersionMismatch {
                supported: Family::V100.versions(),
                found: other.cni_version().to_string(),
            }),
        }
    }

    /// Encodes as JSON bytes, what a plugin writes on stdout.
    pub fn emit(&self) -> Vec<u8> {
        self.emit_string().into_bytes()
    }

    /// Encodes as a JSON string, the same text as [`Result100::emit`].
    pub fn emit_string(&self) -> String {
        crate::to_json_string(self)
    }
}

/// An interface in a 0.3.x/0.4.0 result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface040 {
    /// Interface name.
    #[serde(default)]
    pub name: String,
    /// Hardware address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
    /// Namespace path for a container interface.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sandbox: String,
}

/// An address in a 0.3.x/0.4.0 result, with its `version` (`"4"` or `"6"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpConfig040 {
    /// `"4"` or `"6"`.
    #[serde(default)]
    pub version: String,
    /// Index into `interfaces`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<u32>,
    /// Address with prefix.
    pub address: IpNet,
    /// Gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
}

/// A 0.3.0 / 0.3.1 / 0.4.0 result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Result040 {
    /// The result's version.
    #[serde(rename = "cniVersion", default)]
    pub cni_version: String,
    /// Interfaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<Interface040>,
    /// Addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<IpConfig040>,
    /// Routes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    /// DNS settings.
    #[serde(default, skip_serializing_if = "Dns::is_empty")]
    pub dns: Dns,
}

/// One address family in a 0.1.0/0.2.0 result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpConfig020 {
    /// Address with prefix.
    pub ip: IpNet,
    /// Gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    /// Routes of this family.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
}

/// A 0.1.0 / 0.2.0 result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Result020 {
    /// The result's version.
    #[serde(rename = "cniVersion", default)]
    pub cni_version: String,
    /// The IPv4 configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip4: Option<IpConfig020>,
    /// The IPv6 configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip6: Option<IpConfig020>,
    /// DNS settings.
    #[serde(default, skip_serializing_if = "Dns::is_empty")]
    pub dns: Dns,
}

/// A result of any version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyResult {
    /// 0.1.0 / 0.2.0.
    V020(Result020),
    /// 0.3.0 / 0.3.1 / 0.4.0.
    V040(Result040),
    /// 1.0.0 / 1.1.0.
    V100(Result100),
}

#[derive(Deserialize)]
struct VersionProbe {
    #[serde(rename = "cniVersion", default)]
    cni_version: Option<serde_json::Value>,
}

fn probe_version(json: &[u8]) -> Result<Option<String>, Error> {
    let probe: VersionProbe = serde_json::from_slice(json).map_err(|source| Error::Decode {
        what: "result",
        source,
    })?;
    match probe.cni_version {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Error::UnsupportedResultVersion(other.to_string())),
    }
}

/// One pass for the common case: a 1.x result (its own `cniVersion`, or none and a 1.x
/// default). Anything else (another version, or a document the 1.x layout cannot hold) goes
/// the general way: version first, then the layout it names.
fn fast_v100(json: &[u8], default: &str) -> Option<Result100> {
    let mut r: Result100 = serde_json::from_slice(json).ok()?;
    if r.cni_version.is_empty() {
        r.cni_version = default.to_string();
    }
    Family::V100
        .versions()
        .contains(&r.cni_version.as_str())
        .then_some(r)
}

fn decode<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(json).map_err(|source| Error::Decode {
        what: "result",
        source,
    })
}

impl AnyResult {
    /// Parses a result; its layout comes from its `cniVersion` (missing means 0.1.0, as the
    /// specification says).
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        AnyResult::parse_with_default(json, "0.1.0")
    }

    /// Parses a result whose missing `cniVersion` means `default` (a delegated plugin's result
    /// is read this way with the configuration's version, as the reference runtime does).
    pub fn parse_with_default(json: &[u8], default: &str) -> Result<Self, Error> {
        if let Some(r) = fast_v100(json, default) {
            return Ok(AnyResult::V100(r));
        }
        let version = probe_version(json)?.unwrap_or_else(|| default.to_string());
        let family =
            Family::of(&version).ok_or_else(|| Error::UnsupportedResultVersion(version.clone()))?;
        AnyResult::decode_family(json, family, version)
    }

    /// Parses a result that must be in the layout of `config_version` (how `prevResult` is
    /// read: a missing `cniVersion` inherits the configuration's; another family is an error,
    /// there is no automatic conversion).
    pub fn parse_as(json: &[u8], config_version: &str) -> Result<Self, Error> {
        let family = Family::of(config_version)
            .ok_or_else(|| Error::UnsupportedResultVersion(config_version.to_string()))?;
        if family == Family::V100
            && let Some(r) = fast_v100(json, config_version)
        {
            return Ok(AnyResult::V100(r));
        }
        let version = probe_version(json)?.unwrap_or_else(|| config_version.to_string());
        if !family.versions().contains(&version.as_str()) {
            return Err(Error::ResultVersionMismatch {
                supported: family.versions(),
                found: version,
            });
        }
        AnyResult::decode_family(json, family, version)
    }

    fn decode_family(json: &[u8], family: Family, version: String) -> Result<Self, Error> {
        Ok(match family {
            Family::V020 => AnyResult::V020(Result020 {
                cni_version: version,
                ..decode(json)?
            }),
            Family::V040 => AnyResult::V040(Result040 {
                cni_version: version,
                ..decode(json)?
            }),
            Family::V100 => AnyResult::V100(Result100 {
                cni_version: version,
                ..decode(json)?
            }),
        })
    }

    /// Parses a JSON value (such as a configuration's `prevResult`) with [`AnyResult::parse_as`].
    pub fn from_value_as(value: &serde_json::Value, config_version: &str) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(value).map_err(|source| Error::Decode {
            what: "result",
            source,
        })?;
        AnyResult::parse_as(&bytes, config_version)
    }

    /// The result's `cniVersion`.
    pub fn cni_version(&self) -> &str {
        match self {
            AnyResult::V020(r) => &r.cni_version,
            AnyResult::V040(r) => &r.cni_version,
            AnyResult::V100(r) => &r.cni_version,
        }
    }

    /// The layout.
    pub fn family(&self) -> Family {
        match self {
            AnyResult::V020(_) => Family::V020,
            AnyResult::V040(_) => Family::V040,
            AnyResult::V100(_) => Family::V100,
        }
    }

    /// Encodes as a JSON string in its own layout, the same text as [`AnyResult::emit`].
    pub fn emit_string(&self) -> String {
        match self {
            AnyResult::V020(r) => crate::to_json_string(r),
            AnyResult::V040(r) => crate::to_json_string(r),
            AnyResult::V100(r) => crate::to_json_string(r),
        }
    }

    /// Encodes as JSON bytes in its own layout, what a plugin writes on stdout.
    pub fn emit(&self) -> Vec<u8> {
        // Typical results are a few hundred bytes: one allocation instead of several.
        let mut buf = Vec::with_capacity(512);
        let written = match self {
            AnyResult::V020(r) => serde_json::to_writer(&mut buf, r),
            AnyResult::V040(r) => serde_json::to_writer(&mut buf, r),
            AnyResult::V100(r) => serde_json::to_writer(&mut buf, r),
        };
        if written.is_err() {
            buf.clear();
        }
        buf
    }

    /// As a JSON value.
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            AnyResult::V020(r) => serde_json::to_value(r),
            AnyResult::V040(r) => serde_json::to_value(r),
            AnyResult::V100(r) => serde_json::to_value(r),
        }
        .unwrap_or(serde_json::Value::Null)
    }

    /// Converts to `version` (`""` means 0.1.0). Fails with [`Error::NoConverter`] for a version
    /// without a layout and [`Error::NoValidIp`] when a result without addresses goes to 0.2.0
    /// or older.
    pub fn convert_to(&self, version: &str) -> Result<AnyResult, Error> {
        let target = if version.is_empty() { "0.1.0" } else { version };
        let Some(family) = Family::of(target) else {
            return Err(Error::NoConverter {
                from: self.cni_version().to_string(),
                to: target.to_string(),
            });
        };
        let target = target.to_string();
        Ok(match family {
            Family::V100 => AnyResult::V100(Result100 {
                cni_version: target,
                ..self.to_100()
            }),
            Family::V040 => AnyResult::V040(Result040 {
                cni_version: target,
                ..self.to_040()
            }),
            Family::V020 => AnyResult::V020(Result020 {
                cni_version: target,
                ..self.to_020()?
            }),
        })
    }

    /// Converts to the current layout ([`Result100`]) and keeps the version wherever that
    /// layout can carry it: a 1.0.0 result stays 1.0.0 and a 1.1.0 result stays 1.1.0, so
    /// emitting it again prints the version it was read in. A 0.x result cannot keep its
    /// version in this layout: it becomes 1.0.0, the first version of the layout (the
    /// specification's 0.4.0 -> 1.0.0 conversion; nothing a 0.x result holds needs 1.1.0).
    /// To print such a result in its own version again, note [`AnyResult::cni_version`]
    /// first and [`AnyResult::convert_to`] it back, as the skeleton does with what ADD returns.
    ///
    /// [`AnyResult::into_current_version`] is the conversion that relabels to 1.1.0.
    ///
    /// ```
    /// use cni_types::AnyResult;
    ///
    /// let r = AnyResult::parse(br#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}]}"#)?;
    /// let current = r.into_current_layout();
    /// assert_eq!(current.cni_version, "1.0.0");
    /// assert!(current.emit_string().starts_with(r#"{"cniVersion":"1.0.0""#));
    ///
    /// let old = AnyResult::parse(br#"{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.0.0.2/24"}]}"#)?;
    /// assert_eq!(old.into_current_layout().cni_version, "1.0.0");
    /// # Ok::<(), cni_types::Error>(())
    /// ```
    pub fn into_current_layout(self) -> Result100 {
        match self {
            AnyResult::V100(r) => r,
            other => Result100 {
                cni_version: Family::V100.versions()[0].to_string(),
                ..other.to_100()
            },
        }
    }

    /// Converts to the current version, [`CURRENT`] (1.1.0), **relabelling every result**:
    /// `cniVersion` becomes `"1.1.0"` whatever it was, a 1.0.0 result included, so emitting
    /// the outcome prints 1.1.0 and not the version the result was read in. The same as
    /// `convert_to(CURRENT)`, which cannot fail for this target. Use it when the result is to
    /// be printed as 1.1.0; [`AnyResult::into_current_layout`] keeps the version.
    ///
    /// ```
    /// use cni_types::AnyResult;
    ///
    /// let r = AnyResult::parse(br#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}]}"#)?;
    /// assert_eq!(r.into_current_version().cni_version, "1.1.0");
    /// # Ok::<(), cni_types::Error>(())
    /// ```
    pub fn into_current_version(self) -> Result100 {
        Result100 {
            cni_version: CURRENT.to_string(),
            ..self.into_current_layout()
        }
    }

    fn to_100(&self) -> Result100 {
        match self {
            AnyResult::V100(r) => r.clone(),
            AnyResult::V040(r) => from_040(r),
            AnyResult::V020(r) => from_040(&from_020(r)),
        }
    }

    fn to_040(&self) -> Result040 {
        match self {
            AnyResult::V100(r) => to_040(r),
            AnyResult::V040(r) => r.clone(),
            AnyResult::V020(r) => from_020(r),
        }
    }

    fn to_020(&self) -> Result<Result020, Error> {
        match self {
            AnyResult::V100(r) => to_020(&to_040(r)),
            AnyResult::V040(r) => to_020(r),
            AnyResult::V020(r) => Ok(r.clone()),
        }
    }
}

impl From<Result100> for AnyResult {
    fn from(r: Result100) -> Self {
        AnyResult::V100(r)
    }
}

impl From<Result040> for AnyResult {
    fn from(r: Result040) -> Self {
        AnyResult::V040(r)
    }
}

impl From<Result020> for AnyResult {
    fn from(r: Result020) -> Self {
        AnyResult::V020(r)
    }
}

fn family_of(addr: &IpNet) -> &'static str {
    match addr {
        IpNet::V4(_) => "4",
        IpNet::V6(_) => "6",
    }
}

fn to_040(r: &Result100) -> Result040 {
    Result040 {
        cni_version: r.cni_version.clone(),
        interfaces: r
            .interfaces
            .iter()
            .map(|i| Interface040 {
                name: i.name.clone(),
                mac: i.mac.clone(),
                sandbox: i.sandbox.clone(),
            })
            .collect(),
        ips: r
            .ips
            .iter()
            .map(|ip| IpConfig040 {
                version: family_of(&ip.address).to_string(),
                interface: ip.interface,
                address: ip.address,
                gateway: ip.gateway,
            })
            .collect(),
        routes: r.routes.clone(),
        dns: r.dns.clone(),
    }
}

fn from_040(r: &Result040) -> Result100 {
    Result100 {
        cni_version: r.cni_version.clone(),
        interfaces: r
            .interfaces
            .iter()
            .map(|i| Interface {
                name: i.name.clone(),
                mac: i.mac.clone(),
                sandbox: i.sandbox.clone(),
                ..Default::default()
            })
            .collect(),
        ips: r
            .ips
            .iter()
            .map(|ip| IpConfig {
                interface: ip.interface,
                address: ip.address,
                gateway: ip.gateway,
            })
            .collect(),
        routes: r.routes.clone(),
        dns: r.dns.clone(),
    }
}

fn to_020(r: &Result040) -> Result<Result020, Error> {
    let mut out = Result020 {
        cni_version: r.cni_version.clone(),
        ip4: None,
        ip6: None,
        dns: r.dns.clone(),
    };
    for ip in &r.ips {
        let slot = match ip.version.as_str() {
            "4" => &mut out.ip4,
            "6" => &mut out.ip6,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(IpConfig020 {
                ip: ip.address,
                gateway: ip.gateway,
                routes: Vec::new(),
            });
        }
        if out.ip4.is_some() && out.ip6.is_some() {
            break;
        }
    }
    for route in &r.routes {
        let slot = match route.dst {
            IpNet::V4(_) => &mut out.ip4,
            IpNet::V6(_) => &mut out.ip6,
        };
        if let Some(cfg) = slot {
            cfg.routes.push(route.dst_gw_only());
        }
    }
    if out.ip4.is_none() && out.ip6.is_none() {
        return Err(Error::NoValidIp);
    }
    Ok(out)
}

fn from_020(r: &Result020) -> Result040 {
    let mut out = Result040 {
        cni_version: r.cni_version.clone(),
        dns: r.dns.clone(),
        ..Default::default()
    };
    for (version, cfg) in [("4", &r.ip4), ("6", &r.ip6)] {
        if let Some(cfg) = cfg {
            out.ips.push(IpConfig040 {
                version: version.to_string(),
                interface: None,
                address: cfg.ip,
                gateway: cfg.gateway,
            });
            out.routes.extend(cfg.routes.iter().cloned());
        }
    }
    out
}
