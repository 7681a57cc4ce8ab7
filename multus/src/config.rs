//! The meta plugin's configuration: Multus's 2018 static format (`delegates` with one
//! `masterplugin`) and its current thin format (`delegates` or `clusterNetwork`,
//! `defaultNetworks`, directories, logging, readiness, capabilities), unknown keys kept, every
//! error naming its key.
//!
//! ```
//! use multus::config::{ConfigFormat, MultusConf};
//!
//! let seed = MultusConf::parse(br#"{"name":"multus-demo","type":"multus","delegates":[
//!     {"type":"sriov","if0":"ens2f0","ipam":{"type":"dhcp"}},
//!     {"type":"flannel","masterplugin":true,"delegate":{"isDefaultGateway":true}}]}"#)?;
//! assert_eq!(seed.format, ConfigFormat::Static2018);
//! assert_eq!(seed.delegates[0].plugins[0].plugin_type, "flannel"); // the master comes first
//!
//! let thin = MultusConf::parse(br#"{"cniVersion":"0.4.0","name":"multus-cni-network","type":"multus",
//!     "clusterNetwork":"cbr0","defaultNetworks":["rdma-net"],"nadDir":"/etc/cni/multus/nad",
//!     "tuning":{"kept":true}}"#)?;
//! assert_eq!(thin.cluster_network.as_deref(), Some("cbr0"));
//! assert_eq!(thin.extra["tuning"]["kept"], true);
//!
//! let err = MultusConf::parse(br#"{"name":"m","type":"multus","clusterNetwork":"cbr0","defaultNetworks":"rdma-net"}"#).unwrap_err();
//! assert!(err.to_string().contains("\"defaultNetworks\""));
//! # Ok::<(), multus::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use cni_types::NetConfList;
use serde_json::{Map, Value};

use crate::Error;

/// Multus's default `cniDir`: the delegate caches.
pub const DEFAULT_CNI_DIR: &str = "/var/lib/cni/multus";
/// Multus's default `confDir`: network configuration files named by `clusterNetwork`.
pub const DEFAULT_CONF_DIR: &str = "/etc/cni/multus/net.d";
/// Multus's default `binDir`.
pub const DEFAULT_BIN_DIR: &str = "/opt/cni/bin";
/// This plugin's default `nadDir`: NetworkAttachmentDefinitions as files,
/// `<nadDir>/<namespace>/<name>.yaml` (or `.yml`, `.json`).
pub const DEFAULT_NAD_DIR: &str = "/etc/cni/multus/net-attach-def";
/// Multus's default `multusNamespace`: the namespace of `clusterNetwork` and
/// `defaultNetworks` given without one.
pub const DEFAULT_MULTUS_NAMESPACE: &str = "kube-system";
/// The runtimeConfig key containerd fills with every pod annotation, for a plugin declaring
/// the capability of that name.
pub const POD_ANNOTATIONS_CAPABILITY: &str = "io.kubernetes.cri.pod-annotations";

/// Which of Multus's formats a configuration is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    /// Multus v1.2/v2.0 (2018, the seed's): `delegates`, one of them `masterplugin: true`; the
    /// others are `net0`, `net1`, ... by a counter.
    Static2018,
    /// Multus v3 and later: `delegates[0]` or `clusterNetwork` is the cluster network, the
    /// attachments are `net<index>` (the first is `net1`).
    Thin,
}

/// Multus's `logLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `panic`.
    Panic,
    /// `error`.
    Error,
    /// `verbose`.
    Verbose,
    /// `debug`.
    Debug,
}

impl LogLevel {
    /// Parses Multus's level names (`panic`, `error`, `verbose`, `debug`; `info` and
    /// `warning` are read as `verbose`).
    pub fn parse(s: &str) -> Option<LogLevel> {
        match s.to_ascii_lowercase().as_str() {
            "panic" => Some(LogLevel::Panic),
            "error" => Some(LogLevel::Error),
            "verbose" | "info" | "warning" => Some(LogLevel::Verbose),
            "debug" => Some(LogLevel::Debug),
            _ => None,
        }
    }
}

/// Where and how much the plugin logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// `logFile` (appended to).
    pub file: Option<PathBuf>,
    /// `logLevel` (default `error`).
    pub level: LogLevel,
    /// `logToStderr`.
    pub to_stderr: bool,
}

/// The meta plugin's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct MultusConf {
    /// `cniVersion`.
    pub cni_version: Option<String>,
    /// `name`.
    pub name: String,
    /// `type`.
    pub plugin_type: String,
    /// The format it is written in.
    pub format: ConfigFormat,
    /// The delegates, the cluster network (master) first; given delegates without `cniVersion`
    /// take the configuration's, without `name` their `type`.
    pub delegates: Vec<NetConfList>,
    /// `clusterNetwork`: a configuration file path, a network name in `confDir`, or a
    /// NetworkAttachmentDefinition; replaces `delegates[0]` when set.
    pub cluster_network: Option<String>,
    /// `defaultNetworks`: networks every pod (outside `systemNamespaces`) gets, as
    /// `[namespace/]name[@interface]`.
    pub default_networks: Vec<String>,
    /// `kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// `cniDir`, a node path (taken under the host root).
    pub cni_dir: PathBuf,
    /// `confDir`.
    pub conf_dir: PathBuf,
    /// `binDir` when given (searched before `CNI_PATH`).
    pub bin_dir: Option<PathBuf>,
    /// `nadDir`.
    pub nad_dir: PathBuf,
    /// `multusNamespace`.
    pub multus_namespace: String,
    /// `systemNamespaces`: pods there get only the cluster network.
    pub system_namespaces: Vec<String>,
    /// `hostRoot`: the node's root for every node path (see [`sriov_core::node::HostRoot`]).
    pub host_root: Option<String>,
    /// `logFile`, `logLevel`, `logToStderr`.
    pub log: LogOptions,
    /// `readinessindicatorfile`: ADD fails (code 11) while it does not exist.
    pub readiness_indicator_file: Option<PathBuf>,
    /// `retryDeleteOnError` (read and kept; DEL here always continues past failures).
    pub retry_delete_on_error: bool,
    /// `capabilities`.
    pub capabilities: BTreeMap<String, bool>,
    /// `runtimeConfig`, as the runtime filled it.
    pub runtime_config: Map<String, Value>,
    /// Every other key, kept.
    pub extra: Map<String, Value>,
}

fn key_err(key: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::ConfigKey {
        key: key.into(),
        reason: reason.into(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Takes keys out of the raw object, checking their types.
struct Keys(Map<String, Value>);

impl Keys {
    fn string(&mut self, key: &str) -> Result<Option<String>, Error> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(key_err(
                key,
                format!("expected a string, found {}", type_name(&other)),
            )),
        }
    }

    fn path(&mut self, key: &str) -> Result<Option<PathBuf>, Error> {
        Ok(self
            .string(key)?
            .filter(|s| !s.is_empty())
            .map(PathBuf::from))
    }

    fn boolean(&mut self, key: &str) -> Result<bool, Error> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(b),
            Some(other) => Err(key_err(
                key,
                format!("expected a boolean, found {}", type_name(&other)),
            )),
        }
    }

    fn strings(&mut self, key: &str) -> Result<Option<Vec<String>>, Error> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s),
                    other => Err(key_err(
                        format!("{key}[{i}]"),
                        format!("expected a string, found {}", type_name(&other)),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(key_err(
                key,
                format!("expected an array of strings, found {}", type_name(&other)),
            )),
        }
    }

    fn object(&mut self, key: &str) -> Result<Option<Map<String, Value>>, Error> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(other) => Err(key_err(
                key,
                format!("expected an object, found {}", type_name(&other)),
            )),
        }
    }
}

impl MultusConf {
    /// Parses the configuration the runtime gives the plugin on stdin.
    pub fn parse(json: &[u8]) -> Result<MultusConf, Error> {
        let raw: Map<String, Value> =
            serde_json::from_slice(json).map_err(|source| Error::ConfigJson { source })?;
        let mut keys = Keys(raw);
        let cni_version = keys.string("cniVersion")?;
        let name = keys.string("name")?.unwrap_or_default();
        let plugin_type = keys.string("type")?.unwrap_or_default();
        let delegates_raw = match keys.0.remove("delegates") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(key_err(
                    "delegates",
                    format!("expected an array, found {}", type_name(&other)),
                ));
            }
        };
        let cluster_network = keys.string("clusterNetwork")?.filter(|s| !s.is_empty());
        let (format, delegates) = parse_delegates(delegates_raw, cni_version.as_deref())?;
        if delegates.is_empty() && cluster_network.is_none() {
            return Err(key_err(
                "delegates",
                "neither delegates nor clusterNetwork names a cluster network",
            ));
        }
        let capabilities = match keys.object("capabilities")? {
            None => BTreeMap::new(),
            Some(m) => m
                .into_iter()
                .map(|(k, v)| match v {
                    Value::Bool(b) => Ok((k, b)),
                    other => Err(key_err(
                        format!("capabilities.{k}"),
                        format!("expected a boolean, found {}", type_name(&other)),
                    )),
                })
                .collect::<Result<_, _>>()?,
        };
        let level = match keys.string("logLevel")? {
            None => LogLevel::Error,
            Some(s) if s.is_empty() => LogLevel::Error,
            Some(s) => LogLevel::parse(&s).ok_or_else(|| {
                key_err(
                    "logLevel",
                    format!("{s:?} is none of panic, error, verbose, debug"),
                )
            })?,
        };
        let conf = MultusConf {
            cni_version,
            name,
            plugin_type,
            format,
            delegates,
            cluster_network,
            default_networks: keys.strings("defaultNetworks")?.unwrap_or_default(),
            kubeconfig: keys.path("kubeconfig")?,
            cni_dir: keys
                .path("cniDir")?
                .unwrap_or_else(|| PathBuf::from(DEFAULT_CNI_DIR)),
            conf_dir: keys
                .path("confDir")?
                .unwrap_or_else(|| PathBuf::from(DEFAULT_CONF_DIR)),
            bin_dir: keys.path("binDir")?,
            nad_dir: keys
                .path("nadDir")?
                .unwrap_or_else(|| PathBuf::from(DEFAULT_NAD_DIR)),
            multus_namespace: keys
                .string("multusNamespace")?
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| DEFAULT_MULTUS_NAMESPACE.to_string()),
            system_namespaces: keys
                .strings("systemNamespaces")?
                .unwrap_or_else(|| vec![DEFAULT_MULTUS_NAMESPACE.to_string()]),
            host_root: keys.string("hostRoot")?,
            log: LogOptions {
                file: keys.path("logFile")?,
                level,
                to_stderr: keys.boolean("logToStderr")?,
            },
            readiness_indicator_file: keys.path("readinessindicatorfile")?,
            retry_delete_on_error: keys.boolean("retryDeleteOnError")?,
            capabilities,
            runtime_config: keys.object("runtimeConfig")?.unwrap_or_default(),
            extra: keys.0,
        };
        Ok(conf)
    }

    /// The configuration's version, `0.1.0` when absent (as the CNI library reads it).
    pub fn version(&self) -> &str {
        self.cni_version
            .as_deref()
            .filter(|v| !v.is_empty())
            .unwrap_or("0.1.0")
    }

    /// The pod's annotations the runtime passed in `runtimeConfig`
    /// ([`POD_ANNOTATIONS_CAPABILITY`]), if any.
    pub fn pod_annotations(&self) -> Option<&Map<String, Value>> {
        match self.runtime_config.get(POD_ANNOTATIONS_CAPABILITY) {
            Some(Value::Object(m)) => Some(m),
            _ => None,
        }
    }
}

/// Parses `delegates`: the format, and the lists with the master first.
fn parse_delegates(
    items: Vec<Value>,
    cni_version: Option<&str>,
) -> Result<(ConfigFormat, Vec<NetConfList>), Error> {
    let mut lists = Vec::with_capacity(items.len());
    let mut masters = Vec::new();
    let mut static_format = false;
    for (i, item) in items.into_iter().enumerate() {
        let key = format!("delegates[{i}]");
        let Value::Object(mut map) = item else {
            return Err(key_err(key, "expected an object"));
        };
        match map.remove("masterplugin") {
            None => {}
            Some(Value::Bool(master)) => {
                static_format = true;
                if master {
                    masters.push(i);
                }
            }
            Some(other) => {
                return Err(key_err(
                    format!("{key}.masterplugin"),
                    format!("expected a boolean, found {}", type_name(&other)),
                ));
            }
        }
        if !map.contains_key("cniVersion")
            && let Some(v) = cni_version
        {
            map.insert("cniVersion".into(), Value::String(v.to_string()));
        }
        if !map.contains_key("name")
            && let Some(Value::String(t)) = map.get("type")
        {
            let t = t.clone();
            map.insert("name".into(), Value::String(t));
        }
        let list = NetConfList::from_conf_or_list(map).map_err(|e| key_err(key, e.to_string()))?;
        lists.push(list);
    }
    if !static_format {
        return Ok((ConfigFormat::Thin, lists));
    }
    let [master] = masters[..] else {
        return Err(key_err(
            "delegates",
            format!(
                "the 2018 format needs exactly one delegate with masterplugin: true, found {}",
                masters.len()
            ),
        ));
    };
    let m = lists.remove(master);
    lists.insert(0, m);
    Ok((ConfigFormat::Static2018, lists))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_read_and_unknown_ones_kept() {
        let conf = MultusConf::parse(br#"{"cniVersion":"0.4.0","name":"multus-cni-network","type":"multus",
            "kubeconfig":"/etc/cni/net.d/multus.d/multus.kubeconfig","clusterNetwork":"cbr0",
            "defaultNetworks":["a","ns/b@net9"],"cniDir":"/run/multus","confDir":"/etc/m","binDir":"/opt/bin",
            "nadDir":"/etc/nad","multusNamespace":"multus","systemNamespaces":["kube-system","x"],
            "hostRoot":"/srv/node1","logFile":"/var/log/multus.log","logLevel":"debug","logToStderr":true,
            "readinessindicatorfile":"/run/flannel/subnet.env","retryDeleteOnError":true,
            "capabilities":{"portMappings":true,"io.kubernetes.cri.pod-annotations":true},
            "runtimeConfig":{"portMappings":[]},"socketDir":"/run/multus/"}"#).unwrap();
        assert_eq!(conf.format, ConfigFormat::Thin);
        assert_eq!(
            conf.kubeconfig.as_deref(),
            Some("/etc/cni/net.d/multus.d/multus.kubeconfig".as_ref())
        );
        assert_eq!(conf.default_networks, ["a", "ns/b@net9"]);
        assert_eq!(conf.cni_dir, PathBuf::from("/run/multus"));
        assert_eq!(conf.bin_dir, Some(PathBuf::from("/opt/bin")));
        assert_eq!(conf.multus_namespace, "multus");
        assert_eq!(conf.system_namespaces, ["kube-system", "x"]);
        assert_eq!(
            conf.log,
            LogOptions {
                file: Some("/var/log/multus.log".into()),
                level: LogLevel::Debug,
                to_stderr: true
            }
        );
        assert!(conf.retry_delete_on_error);
        assert!(conf.capabilities["portMappings"]);
        assert_eq!(conf.extra["socketDir"], "/run/multus/");
        assert_eq!(conf.extra.len(), 1);
        assert_eq!(conf.pod_annotations(), None);

        // the defaults
        let conf =
            MultusConf::parse(br#"{"name":"m","type":"multus","delegates":[{"type":"bridge"}]}"#)
                .unwrap();
        assert_eq!(conf.cni_dir, PathBuf::from(DEFAULT_CNI_DIR));
        assert_eq!(conf.conf_dir, PathBuf::from(DEFAULT_CONF_DIR));
        assert_eq!(conf.nad_dir, PathBuf::from(DEFAULT_NAD_DIR));
        assert_eq!(conf.bin_dir, None);
        assert_eq!(conf.system_namespaces, ["kube-system"]);
        assert_eq!(conf.log.level, LogLevel::Error);
        assert_eq!(conf.version(), "0.1.0");
        // a delegate without a name is named by its type
        assert_eq!(conf.delegates[0].name, "bridge");
    }

    #[test]
    fn delegates_take_the_configuration_version_when_they_have_none() {
        let conf = MultusConf::parse(br#"{"cniVersion":"0.3.1","name":"m","type":"multus","delegates":[
            {"name":"a","type":"bridge"},{"cniVersion":"1.0.0","name":"b","plugins":[{"type":"x"}]}]}"#).unwrap();
        assert_eq!(conf.delegates[0].cni_version.as_deref(), Some("0.3.1"));
        assert_eq!(conf.delegates[1].cni_version.as_deref(), Some("1.0.0"));
    }

    #[test]
    fn errors_name_their_key() {
        for (json, key) in [
            (r#"{"delegates":{}}"#, "\"delegates\""),
            (r#"{"delegates":[7]}"#, "\"delegates[0]\""),
            (
                r#"{"delegates":[{"type":"a","masterplugin":1}]}"#,
                "\"delegates[0].masterplugin\"",
            ),
            (
                r#"{"delegates":[{"type":"a","masterplugin":false}]}"#,
                "\"delegates\"",
            ),
            (
                r#"{"delegates":[{"type":"a","masterplugin":true},{"type":"b","masterplugin":true}]}"#,
                "\"delegates\"",
            ),
            (
                r#"{"clusterNetwork":"c","capabilities":{"mac":"yes"}}"#,
                "\"capabilities.mac\"",
            ),
            (
                r#"{"clusterNetwork":"c","capabilities":[]}"#,
                "\"capabilities\"",
            ),
            (
                r#"{"clusterNetwork":"c","defaultNetworks":["a",3]}"#,
                "\"defaultNetworks[1]\"",
            ),
            (
                r#"{"clusterNetwork":"c","logToStderr":"yes"}"#,
                "\"logToStderr\"",
            ),
            (
                r#"{"clusterNetwork":"c","logLevel":"loud"}"#,
                "\"logLevel\"",
            ),
            (
                r#"{"clusterNetwork":"c","runtimeConfig":"x"}"#,
                "\"runtimeConfig\"",
            ),
            (r#"{"clusterNetwork":7}"#, "\"clusterNetwork\""),
            (r#"{"name":"m"}"#, "\"delegates\""),
        ] {
            let err = MultusConf::parse(json.as_bytes()).unwrap_err();
            assert!(err.to_string().contains(key), "{json}: {err}");
            assert_eq!(err.code().code(), 7, "{json}");
        }
        let err = MultusConf::parse(b"[]").unwrap_err();
        assert_eq!(err.code().code(), 6);
    }
}
