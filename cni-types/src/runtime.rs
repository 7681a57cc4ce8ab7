//! The conflist runner: what a container runtime does with a network configuration list, with
//! the reference runtime's (libcni's) behaviour.
//!
//! - ADD runs the plugins in order, giving each the previous one's result as `prevResult`,
//!   then caches the final result;
//! - CHECK (configuration >= 0.4.0, unless `disableCheck`) and DEL (in reverse order) give each
//!   plugin the cached result as `prevResult`; DEL tolerates a missing or unreadable cache and
//!   removes it;
//! - every plugin gets the list's `name` and version, and a `runtimeConfig` holding only the
//!   capabilities it declares as true *and* the runtime provides (no key when none);
//! - GC deletes cached attachments of the network that are not valid, then (>= 1.1.0, unless
//!   `disableGC`) sends each plugin GC with `cni.dev/valid-attachments` (and the legacy
//!   `cni.dev/attachments`); STATUS (>= 1.1.0) asks each plugin.
//!
//! The result cache is libcni's: `<cache dir>/results/<network>-<container>-<ifname>`, a
//! `{"kind":"cniCacheV1",...}` file; the cache directory defaults to `/var/lib/cni` and is
//! configurable.
//!
//! ```no_run
//! use cni_types::config::NetConfList;
//! use cni_types::runtime::{CniConfig, RuntimeConf};
//!
//! let list = NetConfList::load_file("/etc/cni/net.d/10-dbnet.conflist".as_ref())?;
//! let cni = CniConfig::new(vec!["/usr/lib/cni".into()]).with_cache_dir("/run/my-cache");
//! let rt = RuntimeConf::new("ctr1", "/var/run/netns/ns1", "eth0");
//! let result = cni.add_network_list(&list, &rt)?;
//! cni.check_network_list(&list, &rt)?;
//! cni.del_network_list(&list, &rt)?;
//! # let _ = result;
//! # Ok::<(), cni_types::Error>(())
//! ```

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::{NetConf, NetConfList};
use crate::invoke::{self, Exec, InvokeArgs, RawExec};
use crate::result::AnyResult;
use crate::skel::{Attachment, LEGACY_ATTACHMENTS_KEY, VALID_ATTACHMENTS_KEY};
use crate::version::{self, VersionInfo};
use crate::{Error, validate};

/// The default cache directory of the reference runtime.
pub const DEFAULT_CACHE_DIR: &str = "/var/lib/cni";

/// The `kind` of a cache file.
pub const CACHE_KIND: &str = "cniCacheV1";

/// One attachment's runtime parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeConf {
    /// Container ID.
    pub container_id: String,
    /// Network namespace path.
    pub netns: String,
    /// Interface name in the container.
    pub ifname: String,
    /// `CNI_ARGS` pairs.
    pub args: Vec<(String, String)>,
    /// Capability arguments (`portMappings`, `mac`, ...), offered to plugins that declare them.
    pub capability_args: Map<String, Value>,
}

impl RuntimeConf {
    /// An attachment without args or capability arguments.
    pub fn new(container_id: &str, netns: &str, ifname: &str) -> Self {
        RuntimeConf {
            container_id: container_id.into(),
            netns: netns.into(),
            ifname: ifname.into(),
            ..Default::default()
        }
    }

    fn cni_args(&self) -> String {
        self.args
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// A libcni-compatible cache entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// Always [`CACHE_KIND`].
    pub kind: String,
    /// Container ID.
    #[serde(rename = "containerId")]
    pub container_id: String,
    /// The network configuration list's JSON, base64 on disk.
    #[serde(with = "b64")]
    pub config: Vec<u8>,
    /// Interface name.
    #[serde(rename = "ifName")]
    pub if_name: String,
    /// Network name.
    #[serde(rename = "networkName")]
    pub network_name: String,
    /// Namespace path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub netns: String,
    /// `CNI_ARGS` pairs.
    #[serde(rename = "cniArgs", default, skip_serializing_if = "Vec::is_empty")]
    pub cni_args: Vec<(String, String)>,
    /// Capability arguments.
    #[serde(
        rename = "capabilityArgs",
        default,
        skip_serializing_if = "Map::is_empty"
    )]
    pub capability_args: Map<String, Value>,
    /// The result, raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
}

mod b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// The runner: plugin directories, a cache directory and an [`Exec`].
pub struct CniConfig<E: Exec = RawExec> {
    /// Directories searched for plugins.
    pub path: Vec<PathBuf>,
    /// The cache directory (results go in `<cache_dir>/results/`).
    pub cache_dir: PathBuf,
    exec: E,
}

impl CniConfig<RawExec> {
    /// A runner over `path`, caching in [`DEFAULT_CACHE_DIR`], running real processes.
    pub fn new(path: Vec<PathBuf>) -> Self {
        CniConfig {
            path,
            cache_dir: PathBuf::from(DEFAULT_CACHE_DIR),
            exec: RawExec,
        }
    }
}

impl<E: Exec> CniConfig<E> {
    /// The same runner with another [`Exec`] (a recording double, for instance).
    pub fn with_exec<F: Exec>(self, exec: F) -> CniConfig<F> {
        CniConfig {
            path: self.path,
            cache_dir: self.cache_dir,
            exec,
        }
    }

    /// The [`Exec`] in use.
    pub fn exec(&self) -> &E {
        &self.exec
    }

    /// Sets the cache directory.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = dir.into();
        self
    }

    /// The cache file of one attachment.
    pub fn cache_path(&self, network: &str, rt: &RuntimeConf) -> PathBuf {
        self.cache_dir
            .join("results")
            .join(format!("{network}-{}-{}", rt.container_id, rt.ifname))
    }

    /// The stdin one plugin of `list` gets: the plugin's configuration with `name`,
    /// `cniVersion`, `prevResult` (when given) and the filtered `runtimeConfig` injected.
    pub fn build_plugin_config(
        name: &str,
        cni_version: &str,
        plugin: &NetConf,
        prev_result: Option<&AnyResult>,
        rt: &RuntimeConf,
    ) -> Vec<u8> {
        let mut conf = Self::list_member(name, cni_version, plugin);
        if let Some(prev) = prev_result {
            conf.prev_result = Some(prev.to_value());
        }
        let mut rc = Map::new();
        if let Some(caps) = &plugin.capabilities {
            for (cap, on) in caps {
                if *on && let Some(v) = rt.capability_args.get(cap) {
                    rc.insert(cap.clone(), v.clone());
                }
            }
        }
        if !rc.is_empty() {
            conf.runtime_config = Some(rc);
        }
        conf.emit()
    }

    /// `plugin` as a member of the list `name` at `cni_version`: the list's name and version.
    fn list_member(name: &str, cni_version: &str, plugin: &NetConf) -> NetConf {
        let mut conf = plugin.clone();
        conf.name = name.to_string();
        conf.cni_version = Some(cni_version.to_string());
        conf
    }

    /// Runs one plugin of a list for a command without a result (CHECK, DEL, GC, STATUS);
    /// a failure names the plugin and `op`.
    fn run_without_result(
        &self,
        op: &'static str,
        plugin: &NetConf,
        stdin: &[u8],
        args: &InvokeArgs,
    ) -> Result<(), Error> {
        self.exec
            .find(&plugin.plugin_type, &self.path)
            .and_then(|p| invoke::exec_without_result(&self.exec, &p, stdin, args))
            .map_err(|e| Self::list_err(op, plugin, e))
    }

    fn invoke_args(&self, command: &str, rt: &RuntimeConf) -> InvokeArgs {
        InvokeArgs {
            command: command.into(),
            container_id: rt.container_id.clone(),
            netns: rt.netns.clone(),
            ifname: rt.ifname.clone(),
            args: rt.cni_args(),
            path: self.path.clone(),
        }
    }

    fn validate(&self, name: &str, rt: &RuntimeConf) -> Result<(), Error> {
        validate::container_id(&rt.container_id).map_err(Error::Validation)?;
        validate::network_name(name).map_err(Error::Validation)?;
        validate::interface_name(&rt.ifname).map_err(Error::Validation)?;
        Ok(())
    }

    fn list_err(op: &'static str, plugin: &NetConf, e: Error) -> Error {
        Error::ListPlugin {
            op,
            plugin: plugin.plugin_type.clone(),
            source: Box::new(e),
        }
    }

    /// ADD of every plugin in order; caches and returns the last result.
    pub fn add_network_list(
        &self,
        list: &NetConfList,
        rt: &RuntimeConf,
    ) -> Result<AnyResult, Error> {
        let version = list.effective_version()?;
        self.validate(&list.name, rt)?;
        let args = self.invoke_args("ADD", rt);
        let mut prev: Option<AnyResult> = None;
        for plugin in &list.plugins {
            let stdin = Self::build_plugin_config(&list.name, &version, plugin, prev.as_ref(), rt);
            let result = self
                .exec
                .find(&plugin.plugin_type, &self.path)
                .and_then(|p| invoke::exec_with_result(&self.exec, &p, &stdin, &args))
                .map_err(|e| Self::list_err("add", plugin, e))?;
            prev = Some(result);
        }
        let result = prev.ok_or_else(|| Error::ConfList("no plugins in list".into()))?;
        self.cache_add(list, rt, &result)?;
        Ok(result)
    }

    /// CHECK of every plugin in order with the cached result as `prevResult`.
    pub fn check_network_list(&self, list: &NetConfList, rt: &RuntimeConf) -> Result<(), Error> {
        let version = list.effective_version()?;
        if !version::greater_than_or_equal(&version, "0.4.0")? {
            return Err(Error::CommandNotSupported {
                command: "CHECK",
                version,
            });
        }
        if list.disable_check {
            return Ok(());
        }
        self.validate(&list.name, rt)?;
        let cached = self.cached_result(list, rt)?;
        let args = self.invoke_args("CHECK", rt);
        for plugin in &list.plugins {
            let stdin =
                Self::build_plugin_config(&list.name, &version, plugin, cached.as_ref(), rt);
            self.run_without_result("check", plugin, &stdin, &args)?;
        }
        Ok(())
    }

    /// DEL of every plugin in reverse order (with the cached result as `prevResult` from
    /// 0.4.0 on), then removes the cache entry.
    pub fn del_network_list(&self, list: &NetConfList, rt: &RuntimeConf) -> Result<(), Error> {
        let version = list.effective_version()?;
        self.validate(&list.name, rt)?;
        let cached = if version::greater_than_or_equal(&version, "0.4.0")? {
            match self.cached_result(list, rt) {
                Ok(r) => r,
                Err(_) => {
                    let _ = self.cache_del(&list.name, rt);
                    None
                }
            }
        } else {
            None
        };
        let args = self.invoke_args("DEL", rt);
        for plugin in list.plugins.iter().rev() {
            let stdin =
                Self::build_plugin_config(&list.name, &version, plugin, cached.as_ref(), rt);
            self.run_without_result("delete", plugin, &stdin, &args)?;
        }
        self.cache_del(&list.name, rt)
    }

    /// GC: DEL of cached attachments of this network that are not in `valid`, then GC of each
    /// plugin (>= 1.1.0, unless `disableGC`). Every failure is collected.
    pub fn gc_network_list(&self, list: &NetConfList, valid: &[Attachment]) -> Result<(), Error> {
        let version = list.effective_version()?;
        let mut errors = Vec::new();
        for entry in self.cached_attachments()? {
            if entry.network_name != list.name {
                continue;
            }
            let key = Attachment {
                container_id: entry.container_id.clone(),
                ifname: entry.if_name.clone(),
            };
            if valid.contains(&key) {
                continue;
            }
            let rt = RuntimeConf {
                container_id: entry.container_id,
                netns: entry.netns,
                ifname: entry.if_name,
                args: entry.cni_args,
                capability_args: entry.capability_args,
            };
            if let Err(e) = self.del_network_list(list, &rt) {
                errors.push(e);
            }
        }
        if version::greater_than_or_equal(&version, "1.1.0")? && !list.disable_gc {
            let attachments = serde_json::to_value(valid).unwrap_or(Value::Null);
            let args = InvokeArgs {
                command: "GC".into(),
                path: self.path.clone(),
                ..Default::default()
            };
            for plugin in &list.plugins {
                let mut conf = Self::list_member(&list.name, &version, plugin);
                conf.extra
                    .insert(VALID_ATTACHMENTS_KEY.into(), attachments.clone());
                conf.extra
                    .insert(LEGACY_ATTACHMENTS_KEY.into(), attachments.clone());
                if let Err(e) = self.run_without_result("GC", plugin, &conf.emit(), &args) {
                    errors.push(e);
                }
            }
        }
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Several(errors)),
        }
    }

    /// STATUS of each plugin (>= 1.1.0; older lists have no STATUS and succeed).
    pub fn status_network_list(&self, list: &NetConfList) -> Result<(), Error> {
        let version = list.effective_version()?;
        if !version::greater_than_or_equal(&version, "1.1.0")? {
            return Ok(());
        }
        let args = InvokeArgs {
            command: "STATUS".into(),
            path: self.path.clone(),
            ..Default::default()
        };
        for plugin in &list.plugins {
            let conf = Self::list_member(&list.name, &version, plugin);
            self.run_without_result("STATUS", plugin, &conf.emit(), &args)?;
        }
        Ok(())
    }

    /// A plugin's `VERSION` answer.
    pub fn version_info(&self, plugin_type: &str) -> Result<VersionInfo, Error> {
        let path = self.exec.find(plugin_type, &self.path)?;
        invoke::exec_version(&self.exec, &path)
    }

    /// The cached result of an attachment, converted to the list's version; `None` when
    /// nothing is cached.
    pub fn cached_result(
        &self,
        list: &NetConfList,
        rt: &RuntimeConf,
    ) -> Result<Option<AnyResult>, Error> {
        let cache_err = |reason: String| Error::Cache {
            network: list.name.clone(),
            reason,
        };
        let Some(entry) = self.cache_entry(&list.name, rt)? else {
            return Ok(None);
        };
        if entry.kind != CACHE_KIND {
            return Err(cache_err(format!("wrong kind {:?}", entry.kind)));
        }
        let Some(raw) = entry.result else {
            return Ok(None);
        };
        let bytes = serde_json::to_vec(&raw).map_err(|e| cache_err(e.to_string()))?;
        let result = AnyResult::parse(&bytes).map_err(|e| cache_err(e.to_string()))?;
        let version = list.effective_version()?;
        result
            .convert_to(&version)
            .map(Some)
            .map_err(|e| cache_err(e.to_string()))
    }

    /// The cache entry of an attachment, `None` when there is none.
    pub fn cache_entry(
        &self,
        network: &str,
        rt: &RuntimeConf,
    ) -> Result<Option<CacheEntry>, Error> {
        let path = self.cache_path(network, rt);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Io {
                    op: "read cached result",
                    path,
                    source,
                });
            }
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Cache {
                network: network.to_string(),
                reason: format!("{}: {e}", path.display()),
            })
    }

    /// Every readable cache entry.
    pub fn cached_attachments(&self) -> Result<Vec<CacheEntry>, Error> {
        let dir = self.cache_dir.join("results");
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(Error::Io {
                    op: "list cached results",
                    path: dir,
                    source,
                });
            }
        };
        let mut out = Vec::new();
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if let Ok(entry) = serde_json::from_slice::<CacheEntry>(&bytes)
                && entry.kind == CACHE_KIND
            {
                out.push(entry);
            }
        }
        Ok(out)
    }

    fn cache_add(
        &self,
        list: &NetConfList,
        rt: &RuntimeConf,
        result: &AnyResult,
    ) -> Result<(), Error> {
        let entry = CacheEntry {
            kind: CACHE_KIND.into(),
            container_id: rt.container_id.clone(),
            config: list.emit(),
            if_name: rt.ifname.clone(),
            network_name: list.name.clone(),
            netns: rt.netns.clone(),
            cni_args: rt.args.clone(),
            capability_args: rt.capability_args.clone(),
            result: Some(result.to_value()),
        };
        let path = self.cache_path(&list.name, rt);
        let bytes = serde_json::to_vec(&entry).map_err(|e| Error::Cache {
            network: list.name.clone(),
            reason: format!("encode the cache entry: {e}"),
        })?;
        write_private(&path, &bytes)
    }

    fn cache_del(&self, network: &str, rt: &RuntimeConf) -> Result<(), Error> {
        let path = self.cache_path(network, rt);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(Error::Io {
                op: "remove cached result",
                path,
                source,
            }),
        }
    }
}

/// Writes a file readable only by its owner (directories 0700). The old file is unlinked and a
/// new one created rather than truncated or renamed over: on ext4 both replace patterns force a
/// synchronous flush (`auto_da_alloc`), which would dominate an ADD. A crash mid-write leaves a
/// file that does not parse, which DEL treats as no cache, as it treats a missing one.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let io = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { op, path, source }
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io("create cache directory", dir))?;
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(io("replace cached result", path)(e));
        }
        _ => {}
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io("create cached result", path))?;
    f.write_all(bytes).map_err(io("write cached result", path))
}

/// Decodes the base64 `config` of a cache file (helper for tools that inspect the cache).
pub fn decode_cached_config(b64: &str) -> Result<Vec<u8>, Error> {
    base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|e| Error::Cache {
            network: String::new(),
            reason: e.to_string(),
        })
}
