//! The plugins' configuration: every key sriov-cni and rdma-cni accept, checked into typed
//! values. Each invalid value is an [`Error::InvalidKey`] naming the key (CNI code 7); a
//! configuration that is not a JSON object is an [`Error::Decode`] (code 6). Never a panic.
//!
//! ```
//! use sriov_cni::netconf::SriovConf;
//! let conf = SriovConf::parse(br#"{"cniVersion":"1.0.0","name":"sriov-rdma","type":"sriov",
//!     "deviceID":"0000:3b:00.5","vlan":111,"spoofchk":"on","trust":"off"}"#, None).unwrap();
//! assert_eq!(conf.device_id.unwrap().to_string(), "0000:3b:00.5");
//! assert_eq!(conf.vf.vlan.unwrap().id().get(), 111);
//! let err = SriovConf::parse(br#"{"vlan":4095}"#, None).unwrap_err();
//! assert_eq!(err.to_string(), "invalid vlan: VLAN ID 4095 out of range 0-4094");
//! assert_eq!(err.cni_code().code(), 7);
//! ```

use std::path::PathBuf;
use std::str::FromStr;

use serde_json::{Map, Value};
use sriov_core::{
    LinkState, MacAddress, PciAddress, TxRate, VfConfig, VlanConfig, VlanProto, parse_on_off,
};

use crate::error::{Error, Result};

/// The `logLevel` values of sriov-cni.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    /// `panic`.
    Panic,
    /// `error`.
    Error,
    /// `warning`.
    Warning,
    /// `info` (the default).
    #[default]
    Info,
    /// `debug`.
    Debug,
}

impl FromStr for LogLevel {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "panic" => LogLevel::Panic,
            "error" => LogLevel::Error,
            "warning" => LogLevel::Warning,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            other => {
                return Err(format!(
                    "{other:?} is not one of panic, error, warning, info, debug"
                ));
            }
        })
    }
}

/// The `sriov` plugin's configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SriovConf {
    /// The VF: `deviceID`, else `runtimeConfig.deviceID`.
    pub device_id: Option<PciAddress>,
    /// The PF-side VF configuration to apply (`vlan`, `vlanQoS`, `vlanProto`, the MAC from
    /// `runtimeConfig.mac`, else CNI_ARGS `MAC=`, else `mac`, `spoofchk`, `trust`,
    /// `link_state`, `min_tx_rate`, `max_tx_rate`); `None` fields are left as they are.
    pub vf: VfConfig,
    /// `logLevel`.
    pub log_level: LogLevel,
    /// `logFile` (`None`: stderr).
    pub log_file: Option<PathBuf>,
    /// `hostRoot`, checked absolute.
    pub host_root: Option<String>,
    /// The IPAM plugin (`ipam.type`), when there is one.
    pub ipam_type: Option<String>,
}

/// The `rdma` plugin's configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RdmaConf {
    /// The VF: `deviceID`, else `runtimeConfig.deviceID`; `None`: found by the prevResult's MAC.
    pub device_id: Option<PciAddress>,
    /// `hostRoot`, checked absolute.
    pub host_root: Option<String>,
}

fn object(json: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::Decode("the netconf is not a JSON object".into())),
        Err(e) => Err(Error::Decode(e.to_string())),
    }
}

fn invalid(key: &'static str, reason: impl ToString) -> Error {
    Error::InvalidKey {
        key,
        reason: reason.to_string(),
    }
}

/// A present, non-null value of `key`.
fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn string<'a>(map: &'a Map<String, Value>, key: &'static str) -> Result<Option<&'a str>> {
    match get(map, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(invalid(key, format!("expected a string, got {other}"))),
    }
}

fn number(map: &Map<String, Value>, key: &'static str) -> Result<Option<u32>> {
    match get(map, key) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| invalid(key, format!("{n} is not a non-negative 32-bit integer"))),
        Some(other) => Err(invalid(key, format!("expected a number, got {other}"))),
    }
}

fn pci(value: Option<&str>, key: &'static str) -> Result<Option<PciAddress>> {
    value
        .map(|s| s.parse::<PciAddress>().map_err(|e| invalid(key, e)))
        .transpose()
}

fn mac(value: Option<&str>, key: &'static str) -> Result<Option<MacAddress>> {
    let Some(text) = value else { return Ok(None) };
    let mac: MacAddress = text.parse().map_err(|e| invalid(key, e))?;
    if !mac.is_unicast() {
        return Err(invalid(key, format!("{mac} is a multicast address")));
    }
    Ok(Some(mac))
}

fn runtime_config(map: &Map<String, Value>) -> Result<Option<&Map<String, Value>>> {
    match get(map, "runtimeConfig") {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(invalid(
            "runtimeConfig",
            format!("expected an object, got {other}"),
        )),
    }
}

fn device_id(
    map: &Map<String, Value>,
    runtime: Option<&Map<String, Value>>,
) -> Result<Option<PciAddress>> {
    if let Some(id) = pci(string(map, "deviceID")?, "deviceID")? {
        return Ok(Some(id));
    }
    match runtime {
        Some(rc) => pci(
            string(rc, "deviceID")
                .map_err(|_| invalid("runtimeConfig.deviceID", "expected a string PCI address"))?,
            "runtimeConfig.deviceID",
        ),
        None => Ok(None),
    }
}

fn host_root(map: &Map<String, Value>) -> Result<Option<String>> {
    let Some(root) = string(map, "hostRoot")? else {
        return Ok(None);
    };
    if !root.starts_with('/') {
        return Err(invalid(
            "hostRoot",
            format!("{root:?} is not an absolute path"),
        ));
    }
    Ok(Some(root.to_string()))
}

impl SriovConf {
    /// Parses the netconf on stdin; `cni_args_mac` is CNI_ARGS `MAC=` when given.
    pub fn parse(json: &[u8], cni_args_mac: Option<&str>) -> Result<Self> {
        let map = object(json)?;
        let runtime = runtime_config(&map)?;
        let device_id = device_id(&map, runtime)?;

        let vlan = number(&map, "vlan")?;
        let qos = number(&map, "vlanQoS")?;
        let proto = string(&map, "vlanProto")?
            .map(|p| p.parse::<VlanProto>().map_err(|e| invalid("vlanProto", e)))
            .transpose()?;
        let vlan = match (vlan, qos, proto) {
            (None, None, None) => None,
            (None, Some(q), _) if q != 0 => {
                return Err(invalid("vlanQoS", "a non-zero vlanQoS needs a vlan"));
            }
            (None, _, Some(VlanProto::Dot1Ad)) => {
                return Err(invalid("vlanProto", "802.1ad needs a vlan"));
            }
            (None, _, _) => None,
            (Some(id), q, p) => Some(
                VlanConfig::new(id, q.unwrap_or(0), p.unwrap_or_default()).map_err(
                    |e| match e {
                        sriov_core::VfConfigError::QosOutOfRange(_) => invalid("vlanQoS", e),
                        sriov_core::VfConfigError::VlanSettingsWithoutVlan { .. } => {
                            invalid("vlanQoS", e)
                        }
                        _ => invalid("vlan", e),
                    },
                )?,
            ),
        };

        let runtime_mac = match runtime {
            Some(rc) => mac(
                string(rc, "mac")
                    .map_err(|_| invalid("runtimeConfig.mac", "expected a string MAC"))?,
                "runtimeConfig.mac",
            )?,
            None => None,
        };
        let args_mac = mac(cni_args_mac, "CNI_ARGS MAC")?;
        let conf_mac = mac(string(&map, "mac")?, "mac")?;
        let vf_mac = runtime_mac.or(args_mac).or(conf_mac);

        let on_off = |key: &'static str| -> Result<Option<bool>> {
            string(&map, key)?
                .map(|v| parse_on_off(v).map_err(|e| invalid(key, e)))
                .transpose()
        };
        let spoofchk = on_off("spoofchk")?;
        let trust = on_off("trust")?;
        let link_state = string(&map, "link_state")?
            .map(|v| v.parse::<LinkState>().map_err(|e| invalid("link_state", e)))
            .transpose()?;
        let min = number(&map, "min_tx_rate")?;
        let max = number(&map, "max_tx_rate")?;
        let rate = match (min, max) {
            (None, None) => None,
            (min, max) => Some(
                TxRate::new(min.unwrap_or(0), max.unwrap_or(0))
                    .map_err(|e| invalid("min_tx_rate", e))?,
            ),
        };
        let log_level = string(&map, "logLevel")?
            .filter(|l| !l.is_empty())
            .map(|l| l.parse::<LogLevel>().map_err(|e| invalid("logLevel", e)))
            .transpose()?
            .unwrap_or_default();
        let log_file = string(&map, "logFile")?
            .filter(|f| !f.is_empty())
            .map(PathBuf::from);
        let ipam_type = match get(&map, "ipam") {
            None => None,
            Some(Value::Object(ipam)) => match ipam.get("type") {
                Some(Value::String(t)) if !t.is_empty() => {
                    cni_types::invoke::check_plugin_name(t).map_err(|e| invalid("ipam.type", e))?;
                    Some(t.clone())
                }
                None | Some(Value::Null) => None,
                Some(Value::String(_)) => None,
                Some(other) => {
                    return Err(invalid(
                        "ipam.type",
                        format!("expected a string, got {other}"),
                    ));
                }
            },
            Some(other) => return Err(invalid("ipam", format!("expected an object, got {other}"))),
        };
        Ok(SriovConf {
            device_id,
            vf: VfConfig {
                mac: vf_mac,
                vlan,
                spoofchk,
                trust,
                link_state,
                rate,
            },
            log_level,
            log_file,
            host_root: host_root(&map)?,
            ipam_type,
        })
    }
}

impl RdmaConf {
    /// Parses the `rdma` plugin's netconf.
    ///
    /// ```
    /// use sriov_cni::netconf::RdmaConf;
    /// let conf = RdmaConf::parse(br#"{"runtimeConfig":{"deviceID":"0000:3b:00.2"}}"#).unwrap();
    /// assert_eq!(conf.device_id.unwrap().to_string(), "0000:3b:00.2");
    /// assert!(RdmaConf::parse(br#"{"deviceID":"nope"}"#).is_err());
    /// ```
    pub fn parse(json: &[u8]) -> Result<Self> {
        let map = object(json)?;
        let runtime = runtime_config(&map)?;
        Ok(RdmaConf {
            device_id: device_id(&map, runtime)?,
            host_root: host_root(&map)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(json: &str, args_mac: Option<&str>) -> &'static str {
        match SriovConf::parse(json.as_bytes(), args_mac) {
            Err(Error::InvalidKey { key, .. }) => key,
            other => panic!("{json}: expected an invalid key, got {other:?}"),
        }
    }

    #[test]
    fn every_invalid_value_names_its_key() {
        let cases: &[(&str, &str)] = &[
            (r#"{"deviceID":"0000:3b:00"}"#, "deviceID"),
            (r#"{"deviceID":7}"#, "deviceID"),
            (
                r#"{"runtimeConfig":{"deviceID":"x"}}"#,
                "runtimeConfig.deviceID",
            ),
            (
                r#"{"runtimeConfig":{"deviceID":3}}"#,
                "runtimeConfig.deviceID",
            ),
            (r#"{"runtimeConfig":[]}"#, "runtimeConfig"),
            (r#"{"vlan":4095}"#, "vlan"),
            (r#"{"vlan":-1}"#, "vlan"),
            (r#"{"vlan":"111"}"#, "vlan"),
            (r#"{"vlan":1.5}"#, "vlan"),
            (r#"{"vlan":111,"vlanQoS":8}"#, "vlanQoS"),
            (r#"{"vlanQoS":3}"#, "vlanQoS"),
            (r#"{"vlan":0,"vlanQoS":3}"#, "vlanQoS"),
            (r#"{"vlan":111,"vlanProto":"802.1x"}"#, "vlanProto"),
            (r#"{"vlanProto":"802.1ad"}"#, "vlanProto"),
            (r#"{"mac":"02:00:00:00:00"}"#, "mac"),
            (r#"{"mac":"01:00:5e:00:00:01"}"#, "mac"),
            (r#"{"runtimeConfig":{"mac":"zz"}}"#, "runtimeConfig.mac"),
            (r#"{"spoofchk":"yes"}"#, "spoofchk"),
            (r#"{"trust":true}"#, "trust"),
            (r#"{"link_state":"up"}"#, "link_state"),
            (r#"{"min_tx_rate":-3}"#, "min_tx_rate"),
            (r#"{"max_tx_rate":"fast"}"#, "max_tx_rate"),
            (r#"{"min_tx_rate":200,"max_tx_rate":100}"#, "min_tx_rate"),
            (r#"{"logLevel":"verbose"}"#, "logLevel"),
            (r#"{"logFile":5}"#, "logFile"),
            (r#"{"hostRoot":"relative"}"#, "hostRoot"),
            (r#"{"ipam":"host-local"}"#, "ipam"),
            (r#"{"ipam":{"type":"../bin/x"}}"#, "ipam.type"),
            (r#"{"ipam":{"type":3}}"#, "ipam.type"),
        ];
        for (json, key) in cases {
            assert_eq!(key_of(json, None), *key, "{json}");
        }
        assert_eq!(key_of("{}", Some("nope")), "CNI_ARGS MAC");
    }

    #[test]
    fn mac_precedence_is_runtime_config_then_cni_args_then_mac() {
        let json = br#"{"mac":"02:00:00:00:00:01","runtimeConfig":{"mac":"02:00:00:00:00:03"}}"#;
        let conf = SriovConf::parse(json, Some("02:00:00:00:00:02")).unwrap();
        assert_eq!(conf.vf.mac.unwrap().to_string(), "02:00:00:00:00:03");
        let conf =
            SriovConf::parse(br#"{"mac":"02:00:00:00:00:01"}"#, Some("02:00:00:00:00:02")).unwrap();
        assert_eq!(conf.vf.mac.unwrap().to_string(), "02:00:00:00:00:02");
    }

    #[test]
    fn not_an_object_is_a_decode_error() {
        for json in ["[]", "3", "{", ""] {
            let err = SriovConf::parse(json.as_bytes(), None).unwrap_err();
            assert_eq!(err.cni_code().code(), 6, "{json}");
        }
    }

    #[test]
    fn every_key_parses() {
        let json = br#"{"deviceID":"0000:3b:00.2","vlan":111,"vlanQoS":3,"vlanProto":"802.1ad",
            "mac":"02:00:00:00:11:01","spoofchk":"off","trust":"on","link_state":"enable",
            "min_tx_rate":10,"max_tx_rate":100,"logLevel":"debug","logFile":"/tmp/x.log",
            "hostRoot":"/srv/node","ipam":{"type":"host-local"}}"#;
        let c = SriovConf::parse(json, None).unwrap();
        let vlan = c.vf.vlan.unwrap();
        assert_eq!(
            (vlan.id().get(), vlan.qos().get(), vlan.proto()),
            (111, 3, VlanProto::Dot1Ad)
        );
        assert_eq!((c.vf.spoofchk, c.vf.trust), (Some(false), Some(true)));
        assert_eq!(c.vf.link_state, Some(LinkState::Enable));
        assert_eq!(c.vf.rate, Some(TxRate::new(10, 100).unwrap()));
        assert_eq!(c.log_level, LogLevel::Debug);
        assert_eq!(c.host_root.as_deref(), Some("/srv/node"));
        assert_eq!(c.ipam_type.as_deref(), Some("host-local"));
    }
}
