//! Network configurations: a plugin's configuration ([`NetConf`], what a plugin reads on
//! stdin) and a network configuration list ([`NetConfList`], a `.conflist` file).
//!
//! Every 1.1.0 field is typed; keys this crate does not know (the plugin's own) are kept in
//! `extra` and written back unchanged.
//!
//! ```
//! use cni_types::config::NetConfList;
//!
//! let list = NetConfList::parse(br#"{
//!     "cniVersion": "1.1.0", "cniVersions": ["0.3.1", "1.0.0", "1.1.0"], "name": "dbnet",
//!     "plugins": [{"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local"}},
//!                 {"type": "portmap", "capabilities": {"portMappings": true}}]
//! }"#)?;
//! assert_eq!(list.effective_version()?, "1.1.0");
//! assert_eq!(list.plugins[0].extra["bridge"], "cni0");
//! assert_eq!(list.plugins[1].capabilities.as_ref().unwrap()["portMappings"], true);
//! # Ok::<(), cni_types::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;
use crate::result::{AnyResult, Dns};
use crate::version::{self, CURRENT};

/// The `ipam` section: the IPAM plugin's `type` and its own keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ipam {
    /// The IPAM plugin to delegate to.
    #[serde(rename = "type", default)]
    pub plugin_type: String,
    /// The IPAM plugin's own keys (`subnet`, `routes`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A plugin's configuration, as a plugin receives it on stdin (with `name`, `cniVersion`,
/// `runtimeConfig` and `prevResult` filled in by the runtime).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetConf {
    /// The configuration's version; absent means 0.1.0 (see [`NetConf::version`]).
    #[serde(
        rename = "cniVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cni_version: Option<String>,
    /// The network name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The plugin (binary name).
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub plugin_type: String,
    /// Capabilities the plugin declares (`portMappings`, `mac`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<BTreeMap<String, bool>>,
    /// IPAM section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
    /// DNS section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Dns>,
    /// Runtime-provided values for the declared capabilities.
    #[serde(
        rename = "runtimeConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub runtime_config: Option<Map<String, Value>>,
    /// The previous plugin's result, raw; read it with [`NetConf::prev_result`].
    #[serde(
        rename = "prevResult",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub prev_result: Option<Value>,
    /// The conventional `args` object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    /// Every other key (the plugin's own configuration), preserved.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl NetConf {
    /// Parses a plugin configuration (no field is required here; see
    /// [`NetConf::parse_plugin`] for the `type` rule of configuration lists).
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(json).map_err(|source| Error::Decode {
            what: "network configuration",
            source,
        })
    }

    /// Parses a plugin entry of a configuration list, which needs a `type`.
    pub fn parse_plugin(json: &[u8]) -> Result<Self, Error> {
        let conf: NetConf = serde_json::from_slice(json).map_err(|e| Error::Conf(e.to_string()))?;
        if conf.plugin_type.is_empty() {
            return Err(Error::Conf("missing 'type'".into()));
        }
        Ok(conf)
    }

    /// Encodes as JSON bytes, what a plugin writes on stdout.
    pub fn emit(&self) -> Vec<u8> {
        self.emit_string().into_bytes()
    }

    /// Encodes as a JSON string, the same text as [`NetConf::emit`].
    pub fn emit_string(&self) -> String {
        crate::to_json_string(self)
    }

    /// The configuration's version; `0.1.0` when absent or empty.
    pub fn version(&self) -> &str {
        match self.cni_version.as_deref() {
            None | Some("") => "0.1.0",
            Some(v) => v,
        }
    }

    /// The `prevResult` parsed in the configuration's version family (a missing `cniVersion`
    /// in it inherits the configuration's). `None` when there is no `prevResult`.
    pub fn prev_result(&self) -> Result<Option<AnyResult>, Error> {
        match &self.prev_result {
            None | Some(Value::Null) => Ok(None),
            Some(v) => AnyResult::from_value_as(v, self.version())
                .map(Some)
                .map_err(|e| Error::PrevResult(Box::new(e))),
        }
    }

    /// True when the plugin declares `capability` as true.
    pub fn has_capability(&self, capability: &str) -> bool {
        self.capabilities
            .as_ref()
            .is_some_and(|c| c.get(capability) == Some(&true))
    }
}

/// A network configuration list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetConfList {
    /// `cniVersion` as written (absent stays absent).
    pub cni_version: Option<String>,
    /// `cniVersions` as written.
    pub cni_versions: Option<Vec<String>>,
    /// Network name.
    pub name: String,
    /// Skip CHECK for this network.
    pub disable_check: bool,
    /// Skip GC for this network.
    pub disable_gc: bool,
    /// Load only the plugins inlined here (no plugin files from the network's directory).
    pub load_only_inlined_plugins: bool,
    /// The plugins, in ADD order.
    pub plugins: Vec<NetConf>,
    /// Other top-level keys, preserved.
    pub extra: Map<String, Value>,
}

const LIST_KEYS: &[&str] = &[
    "cniVersion",
    "cniVersions",
    "name",
    "disableCheck",
    "disableGC",
    "loadOnlyInlinedPlugins",
    "plugins",
];

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl NetConfList {
    /// Parses a configuration list, with the reference runtime's rules: `name` is required;
    /// `disableCheck`, `disableGC` and `loadOnlyInlinedPlugins` accept booleans and the
    /// strings `true`/`false` in any case; `plugins` may be absent unless
    /// `loadOnlyInlinedPlugins`, but not empty; each plugin needs a `type`; `cniVersions`
    /// entries must parse.
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        let raw: Map<String, Value> =
            serde_json::from_slice(json).map_err(|e| Error::ConfList(e.to_string()))?;
        NetConfList::from_map(raw)
    }

    /// As [`NetConfList::parse`], from a JSON object.
    pub fn from_map(mut raw: Map<String, Value>) -> Result<Self, Error> {
        let name = match raw.get("name") {
            None => return Err(Error::ConfList("no name".into())),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(Error::ConfList(format!(
                    "invalid name type {}",
                    json_type(other)
                )));
            }
        };
        let cni_version = match raw.get("cniVersion") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(Error::ConfList(format!(
                    "invalid cniVersion type {}",
                    json_type(other)
                )));
            }
        };
        let cni_versions = match raw.get("cniVersions") {
            None => None,
            Some(Value::Array(items)) => {
                let mut vs = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => vs.push(s.clone()),
                        other => {
                            return Err(Error::ConfList(format!(
                                "invalid type for cniVersions index {i}: {}",
                                json_type(other)
                            )));
                        }
                    }
                }
                Some(vs)
            }
            Some(other) => {
                return Err(Error::ConfList(format!(
                    "invalid type for cniVersions: {}",
                    json_type(other)
                )));
            }
        };
        let read_bool = |key: &str| -> Result<bool, Error> {
            match raw.get(key) {
                None => Ok(false),
                Some(Value::Bool(b)) => Ok(*b),
                Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    lower => Err(Error::ConfList(format!(
                        "invalid value {lower:?} for {key}"
                    ))),
                },
                Some(other) => Err(Error::ConfList(format!(
                    "invalid type {} for {key}",
                    json_type(other)
                ))),
            }
        };
        let disable_check = read_bool("disableCheck")?;
        let disable_gc = read_bool("disableGC")?;
        let load_only_inlined_plugins = read_bool("loadOnlyInlinedPlugins")?;

        let mut list = NetConfList {
            cni_version,
            cni_versions,
            name,
            disable_check,
            disable_gc,
            load_only_inlined_plugins,
            plugins: Vec::new(),
            extra: Map::new(),
        };
        list.effective_version()?;

        match raw.remove("plugins") {
            None if load_only_inlined_plugins => {
                return Err(Error::ConfList(
                    "`loadOnlyInlinedPlugins` is true, and no 'plugins' key".into(),
                ));
            }
            None => {}
            Some(Value::Array(items)) => {
                if items.is_empty() {
                    return Err(Error::ConfList("no plugins in list".into()));
                }
                for (index, item) in items.into_iter().enumerate() {
                    let conf = match item {
                        Value::Object(_) => serde_json::from_value::<NetConf>(item)
                            .map_err(|e| Error::Conf(e.to_string())),
                        other => Err(Error::Conf(format!(
                            "json: cannot unmarshal {} into a plugin configuration",
                            json_type(&other)
                        ))),
                    }
                    .and_then(|c| {
                        if c.plugin_type.is_empty() {
                            Err(Error::Conf("missing 'type'".into()))
                        } else {
                            Ok(c)
                        }
                    })
                    .map_err(|source| Error::ConfListPlugin {
                        index,
                        source: Box::new(source),
                    })?;
                    list.plugins.push(conf);
                }
            }
            Some(other) => {
                return Err(Error::ConfList(format!(
                    "invalid 'plugins' type {}",
                    json_type(&other)
                )));
            }
        }
        for (k, v) in raw {
            if !LIST_KEYS.contains(&k.as_str()) {
                list.extra.insert(k, v);
            }
        }
        Ok(list)
    }

    /// A delegate or attachment configuration as Multus reads one: a list (a `plugins` key) as
    /// [`NetConfList::from_map`] does, or a single plugin configuration (a `type`, no
    /// `plugins`) as a one-plugin list carrying its `name` and `cniVersion`.
    ///
    /// ```
    /// use cni_types::NetConfList;
    /// let raw = serde_json::json!({"cniVersion":"0.3.1","name":"cbr0","type":"bridge"});
    /// let list = NetConfList::from_conf_or_list(raw.as_object().unwrap().clone())?;
    /// assert_eq!((list.name.as_str(), list.plugins[0].plugin_type.as_str()), ("cbr0", "bridge"));
    /// # Ok::<(), cni_types::Error>(())
    /// ```
    pub fn from_conf_or_list(raw: Map<String, Value>) -> Result<Self, Error> {
        if raw.contains_key("plugins") {
            return NetConfList::from_map(raw);
        }
        let conf: NetConf = serde_json::from_value(Value::Object(raw.clone()))
            .map_err(|e| Error::Conf(e.to_string()))?;
        if conf.plugin_type.is_empty() {
            return Err(Error::Conf("missing 'type'".into()));
        }
        let mut list = Map::new();
        list.insert("name".into(), Value::String(conf.name.clone()));
        if let Some(v) = &conf.cni_version {
            list.insert("cniVersion".into(), Value::String(v.clone()));
        }
        list.insert("plugins".into(), Value::Array(vec![Value::Object(raw)]));
        NetConfList::from_map(list)
    }

    /// Reads a `.conflist` file. Unless `loadOnlyInlinedPlugins`, the plugin files
    /// `<dir>/<name>/*.conf` beside it are appended (sorted by file name). A list that ends up
    /// without plugins is an error.
    pub fn load_file(path: &Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            op: "read network configuration list",
            path: path.to_path_buf(),
            source,
        })?;
        let mut list = NetConfList::parse(&bytes)?;
        if !list.load_only_inlined_plugins {
            let dir = path
                .parent()
                .unwrap_or_else(|| Path::new("."))
                .join(&list.name);
            match std::fs::read_dir(&dir) {
                Ok(entries) => {
                    let mut files: Vec<_> = entries
                        .filter_map(|e| e.ok())
                        .map(|e| e.path())
                        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "conf"))
                        .collect();
                    files.sort();
                    for file in files {
                        let bytes = std::fs::read(&file).map_err(|source| Error::Io {
                            op: "read plugin configuration",
                            path: file.clone(),
                            source,
                        })?;
                        list.plugins.push(NetConf::parse_plugin(&bytes)?);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(Error::Io {
                        op: "read plugin configuration directory",
                        path: dir,
                        source,
                    });
                }
            }
        }
        if list.plugins.is_empty() {
            return Err(Error::ConfList("no plugin configs found".into()));
        }
        Ok(list)
    }

    /// The version the list runs at: the highest of `cniVersions` and `cniVersion` that is not
    /// above [`CURRENT`] when `cniVersions` is present; otherwise `cniVersion` as written (not
    /// capped); `""` when neither gives one.
    pub fn effective_version(&self) -> Result<String, Error> {
        let plain = self.cni_version.clone().unwrap_or_default();
        let Some(versions) = &self.cni_versions else {
            return Ok(plain);
        };
        let current = version::Version::parse(CURRENT)?;
        let mut candidates = Vec::new();
        for (i, v) in versions.iter().enumerate() {
            let parsed = version::Version::parse(v).map_err(|e| {
                Error::ConfList(format!("invalid cniVersions entry {v} at index {i}: {e}"))
            })?;
            if parsed <= current {
                candidates.push((parsed, v.clone()));
            }
        }
        if !plain.is_empty() {
            let parsed = version::Version::parse(&plain)
                .map_err(|e| Error::ConfList(format!("invalid cniVersion {plain}: {e}")))?;
            if parsed <= current {
                candidates.push((parsed, plain.clone()));
            }
        }
        Ok(candidates
            .into_iter()
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, v)| v)
            .unwrap_or(plain))
    }

    /// As a JSON object (booleans written only when true).
    pub fn to_map(&self) -> Map<String, Value> {
        let mut m = self.extra.clone();
        if let Some(v) = &self.cni_version {
            m.insert("cniVersion".into(), Value::String(v.clone()));
        }
        if let Some(vs) = &self.cni_versions {
            m.insert(
                "cniVersions".into(),
                Value::Array(vs.iter().cloned().map(Value::String).collect()),
            );
        }
        m.insert("name".into(), Value::String(self.name.clone()));
        for (key, on) in [
            ("disableCheck", self.disable_check),
            ("disableGC", self.disable_gc),
            ("loadOnlyInlinedPlugins", self.load_only_inlined_plugins),
        ] {
            if on {
                m.insert(key.into(), Value::Bool(true));
            }
        }
        if !self.plugins.is_empty() {
            m.insert(
                "plugins".into(),
                Value::Array(
                    self.plugins
                        .iter()
                        .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
                        .collect(),
                ),
            );
        }
        m
    }

    /// Encodes as JSON bytes.
    pub fn emit(&self) -> Vec<u8> {
        self.emit_string().into_bytes()
    }

    /// Encodes as a JSON string, the same text as [`NetConfList::emit`].
    pub fn emit_string(&self) -> String {
        crate::to_json_string(&self.to_map())
    }
}
