//! The `deploy/` manifests: the project's own (embedded) or any directory of YAML files,
//! parsed into the Kubernetes API types (`k8s-openapi`, the API of Kubernetes 1.36; the
//! NetworkAttachmentDefinition, a custom resource, into `cni-types`'), and the model the
//! simulation runs ([`DeployModel`]), built only after every cross-reference holds:
//!
//! - the device plugin's `--config` is the path where the ConfigMap's key is mounted;
//! - the resource it advertises (the ConfigMap's config with `--resource-prefix`) is the NAD's
//!   `k8s.v1.cni.cncf.io/resourceName` and what the test pods request;
//! - the pods' networks annotation names the NAD;
//! - each host path is the path the binary uses under its `--root` (`sriov_core::node`,
//!   `device_plugin::sriov_dp::daemon::DaemonOptions`, `dhcp_ipam::cni` defaults);
//! - every selector matches its template's labels, and every DaemonSet and the Deployment
//!   select the nodes labelled `name=sriov-cni-ds`.
//!
//! ```
//! let files = cluster_sim::deploy::project_manifests();
//! let model = cluster_sim::deploy::DeployModel::from_files(&files).unwrap();
//! assert_eq!(model.resource_name, "rdma/vhca");
//! assert_eq!(model.replicas, 2);
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cni_types::multus::{
    NETWORKS_ANNOTATION, NetworkAttachmentDefinition, parse_networks_annotation,
};
use device_plugin::sriov_dp::config::DaemonConfig;
use device_plugin::sriov_dp::daemon::DaemonOptions;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Container, PodSpec, PodTemplateSpec, Volume};
use serde::Deserialize;
use sriov_core::node::HostRoot;

use crate::error::{Error, Result};

/// One manifest file: its name and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFile {
    /// The file name (`device-plugin.yaml`).
    pub name: String,
    /// Its YAML.
    pub text: String,
}

/// The project's `deploy/` manifests, as built into this crate.
pub fn project_manifests() -> Vec<ManifestFile> {
    [
        (
            "rdma-sriov-node-config.yaml",
            include_str!("../deploy/rdma-sriov-node-config.yaml"),
        ),
        (
            "device-plugin.yaml",
            include_str!("../deploy/device-plugin.yaml"),
        ),
        (
            "k8s-sriov-cni-installer.yaml",
            include_str!("../deploy/k8s-sriov-cni-installer.yaml"),
        ),
        (
            "dhcp-daemonset.yaml",
            include_str!("../deploy/dhcp-daemonset.yaml"),
        ),
        (
            "sriov-rdma-net.yaml",
            include_str!("../deploy/sriov-rdma-net.yaml"),
        ),
        (
            "test-sriov-dep.yaml",
            include_str!("../deploy/test-sriov-dep.yaml"),
        ),
    ]
    .into_iter()
    .map(|(name, text)| ManifestFile {
        name: name.to_string(),
        text: text.to_string(),
    })
    .collect()
}

/// Every `*.yaml` / `*.yml` file of `dir`, by name.
pub fn read_dir(dir: &Path) -> Result<Vec<ManifestFile>> {
    let read_err = |path: PathBuf| move |source| Error::ReadManifest { path, source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err(dir.to_path_buf()))? {
        let path = entry.map_err(read_err(dir.to_path_buf()))?.path();
        let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if !is_yaml {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(read_err(path.clone()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push(ManifestFile { name, text });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// One parsed object of a manifest.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Object {
    /// A ConfigMap.
    ConfigMap(ConfigMap),
    /// A DaemonSet.
    DaemonSet(DaemonSet),
    /// A Deployment.
    Deployment(Deployment),
    /// A ServiceAccount.
    ServiceAccount(k8s_openapi::api::core::v1::ServiceAccount),
    /// A ClusterRole.
    ClusterRole(k8s_openapi::api::rbac::v1::ClusterRole),
    /// A ClusterRoleBinding.
    ClusterRoleBinding(k8s_openapi::api::rbac::v1::ClusterRoleBinding),
    /// A NetworkAttachmentDefinition.
    Nad(NetworkAttachmentDefinition),
}

impl Object {
    /// `Kind/namespace/name`.
    pub fn describe(&self) -> String {
        let (kind, meta_ns, meta_name) = match self {
            Object::ConfigMap(o) => ("ConfigMap", &o.metadata.namespace, &o.metadata.name),
            Object::DaemonSet(o) => ("DaemonSet", &o.metadata.namespace, &o.metadata.name),
            Object::Deployment(o) => ("Deployment", &o.metadata.namespace, &o.metadata.name),
            Object::ServiceAccount(o) => {
                ("ServiceAccount", &o.metadata.namespace, &o.metadata.name)
            }
            Object::ClusterRole(o) => ("ClusterRole", &o.metadata.namespace, &o.metadata.name),
            Object::ClusterRoleBinding(o) => (
                "ClusterRoleBinding",
                &o.metadata.namespace,
                &o.metadata.name,
            ),
            Object::Nad(o) => {
                return format!(
                    "NetworkAttachmentDefinition/{}/{}",
                    o.metadata.namespace, o.metadata.name
                );
            }
        };
        format!(
            "{kind}/{}/{}",
            meta_ns.as_deref().unwrap_or("-"),
            meta_name.as_deref().unwrap_or("-")
        )
    }
}

#[derive(Deserialize)]
struct TypeMeta {
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    #[serde(default)]
    kind: String,
}

/// Parses every document of every file into its API type. Unknown kinds are an error (the
/// simulation would silently not run them).
pub fn parse(files: &[ManifestFile]) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    for file in files {
        for (index, doc) in serde_norway::Deserializer::from_str(&file.text).enumerate() {
            let bad = |detail: String| Error::ParseManifest {
                file: file.name.clone(),
                document: index,
                detail,
            };
            let value = serde_norway::Value::deserialize(doc).map_err(|e| bad(e.to_string()))?;
            if value.is_null() {
                continue;
            }
            let json = serde_json::to_value(&value).map_err(|e| bad(e.to_string()))?;
            let meta: TypeMeta =
                serde_json::from_value(json.clone()).map_err(|e| bad(e.to_string()))?;
            fn typed<T: serde::de::DeserializeOwned>(
                json: serde_json::Value,
                bad: impl Fn(String) -> Error,
            ) -> Result<T> {
                serde_json::from_value(json).map_err(|e| bad(e.to_string()))
            }
            let object = match (meta.api_version.as_str(), meta.kind.as_str()) {
                ("v1", "ConfigMap") => Object::ConfigMap(typed(json, bad)?),
                ("v1", "ServiceAccount") => Object::ServiceAccount(typed(json, bad)?),
                ("apps/v1", "DaemonSet") => Object::DaemonSet(typed(json, bad)?),
                ("apps/v1", "Deployment") => Object::Deployment(typed(json, bad)?),
                ("rbac.authorization.k8s.io/v1", "ClusterRole") => {
                    Object::ClusterRole(typed(json, bad)?)
                }
                ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
                    Object::ClusterRoleBinding(typed(json, bad)?)
                }
                ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition") => {
                    let bytes = serde_json::to_vec(&json).map_err(|e| bad(e.to_string()))?;
                    Object::Nad(
                        NetworkAttachmentDefinition::parse(&bytes)
                            .map_err(|e| bad(e.to_string()))?,
                    )
                }
                (api, kind) => return Err(bad(format!("unknown kind {api}/{kind}"))),
            };
            out.push(object);
        }
    }
    Ok(out)
}

/// The node label every component selects (`kubectl label nodes clx-host-021 name=sriov-cni-ds`).
pub const NODE_LABEL: (&str, &str) = ("name", "sriov-cni-ds");

/// The device plugin's container command.
pub const DEVICE_PLUGIN_BIN: &str = "/usr/bin/rdma-sriov-dp";
/// The CNI installer's container command.
pub const INSTALLER_BIN: &str = "/usr/bin/install-cni";
/// The DHCP daemon's container command.
pub const DHCP_DAEMON_BIN: &str = "/usr/bin/rdma-dhcp";

/// The plugins the installer must copy.
pub const CNI_PLUGINS: [&str; 4] = ["sriov", "rdma", "rdma-dhcp", "multus"];

/// The NetworkAttachmentDefinition as the meta plugin uses it.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The resource.
    pub nad: NetworkAttachmentDefinition,
    /// Its `sriov` plugin's VLAN.
    pub vlan: u16,
    /// Its `sriov` plugin's `spoofchk`.
    pub spoofchk: bool,
    /// Its `sriov` plugin's `trust`.
    pub trust: bool,
    /// Whether an `rdma` plugin is chained after `sriov`.
    pub rdma: bool,
    /// The `rdma-dhcp` IPAM's daemon socket.
    pub dhcp_socket: PathBuf,
}

/// What the simulation runs, from the manifests.
#[derive(Debug, Clone)]
pub struct DeployModel {
    /// The device plugin's configuration text (the ConfigMap's `config.json`).
    pub dp_config_text: String,
    /// The parsed configuration, with `--resource-prefix`.
    pub dp_config: DaemonConfig,
    /// The device plugin's `--config`.
    pub dp_config_path: PathBuf,
    /// The resource the device plugin advertises, the NAD names and the pods request.
    pub resource_name: String,
    /// The attachment.
    pub attachment: Attachment,
    /// The test Deployment's name.
    pub deployment: String,
    /// Its namespace.
    pub namespace: String,
    /// Its replicas.
    pub replicas: u32,
    /// Its pods' networks annotation.
    pub networks_annotation: String,
    /// The NAD's `namespace/name`, as the annotation names it.
    pub network: String,
    /// The names of the DaemonSets (device plugin, installer, DHCP daemon).
    pub daemonsets: Vec<String>,
    /// The meta plugin's configuration (the installer's ConfigMap).
    pub multus_conf: serde_json::Value,
}

fn cross(what: impl Into<String>) -> Error {
    Error::CrossReference { what: what.into() }
}

fn pod_spec(template: &PodTemplateSpec) -> Result<&PodSpec> {
    template
        .spec
        .as_ref()
        .ok_or_else(|| cross("a pod template has no spec"))
}

fn labels(template: &PodTemplateSpec) -> BTreeMap<String, String> {
    template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

fn selects(
    owner: &str,
    selector: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    template: &PodTemplateSpec,
) -> Result<()> {
    let have = labels(template);
    let want = selector.match_labels.clone().unwrap_or_default();
    if want.is_empty() || want.iter().any(|(k, v)| have.get(k) != Some(v)) {
        return Err(cross(format!(
            "{owner}: selector {want:?} does not match its template's labels {have:?}"
        )));
    }
    Ok(())
}

fn node_selected(owner: &str, spec: &PodSpec) -> Result<()> {
    let sel = spec.node_selector.clone().unwrap_or_default();
    if sel.get(NODE_LABEL.0).map(String::as_str) != Some(NODE_LABEL.1) || sel.len() != 1 {
        return Err(cross(format!(
            "{owner}: nodeSelector {sel:?} is not {}={}",
            NODE_LABEL.0, NODE_LABEL.1
        )));
    }
    Ok(())
}

fn container_with<'a>(spec: &'a PodSpec, command: &str, owner: &str) -> Result<&'a Container> {
    spec.containers
        .iter()
        .find(|c| {
            c.command
                .as_ref()
                .and_then(|c| c.first())
                .map(String::as_str)
                == Some(command)
        })
        .ok_or_else(|| cross(format!("{owner}: no container runs {command}")))
}

fn arg<'a>(c: &'a Container, flag: &str, owner: &str) -> Result<&'a str> {
    let args = c.args.as_deref().unwrap_or_default();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
        .ok_or_else(|| cross(format!("{owner}: container {} has no {flag}", c.name)))
}

/// The host path a container sees at `path` (through a hostPath volume mounted at it or a
/// parent of it), and whether it is mounted read-only.
fn host_path_of(spec: &PodSpec, c: &Container, path: &Path) -> Option<(PathBuf, bool)> {
    let mounts = c.volume_mounts.as_deref().unwrap_or_default();
    let volumes: &[Volume] = spec.volumes.as_deref().unwrap_or_default();
    let mut best: Option<(PathBuf, bool, usize)> = None;
    for m in mounts {
        let Ok(rest) = path.strip_prefix(&m.mount_path) else {
            continue;
        };
        let Some(hp) = volumes
            .iter()
            .find(|v| v.name == m.name)
            .and_then(|v| v.host_path.as_ref())
        else {
            continue;
        };
        let depth = Path::new(&m.mount_path).components().count();
        if best.as_ref().is_none_or(|b| depth > b.2) {
            best = Some((
                Path::new(&hp.path).join(rest),
                m.read_only == Some(true),
                depth,
            ));
        }
    }
    best.map(|(p, ro, _)| (p, ro))
}

/// Checks that the container sees host path `host` at `container_path`, writable if
/// `writable`.
fn expect_host_path(
    spec: &PodSpec,
    c: &Container,
    container_path: &Path,
    host: &Path,
    access: Access,
    owner: &str,
) -> Result<()> {
    match host_path_of(spec, c, container_path) {
        Some((seen, ro)) if seen == host && (access == Access::ReadOnly || !ro) => Ok(()),
        Some((seen, ro)) => Err(cross(format!(
            "{owner}: {} is host path {} (read-only: {ro}), the binary needs {} {access:?}",
            container_path.display(),
            seen.display(),
            host.display()
        ))),
        None => Err(cross(format!(
            "{owner}: nothing mounted at {} (the binary uses host path {})",
            container_path.display(),
            host.display()
        ))),
    }
}

/// How a binary uses a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadOnly,
    ReadWrite,
}

impl DeployModel {
    /// Parses `files` and checks their cross-references (see the [module docs](self)).
    pub fn from_files(files: &[ManifestFile]) -> Result<DeployModel> {
        Self::from_objects(&parse(files)?)
    }

    /// Builds the model from parsed objects, checking every cross-reference.
    pub fn from_objects(objects: &[Object]) -> Result<DeployModel> {
        let config_maps: Vec<&ConfigMap> = objects
            .iter()
            .filter_map(|o| match o {
                Object::ConfigMap(c) => Some(c),
                _ => None,
            })
            .collect();
        let daemonsets: Vec<&DaemonSet> = objects
            .iter()
            .filter_map(|o| match o {
                Object::DaemonSet(d) => Some(d),
                _ => None,
            })
            .collect();
        let find_ds = |bin: &str| -> Result<(&DaemonSet, &PodSpec, &Container)> {
            for ds in &daemonsets {
                let spec = ds
                    .spec
                    .as_ref()
                    .ok_or_else(|| cross("a DaemonSet has no spec"))?;
                let pod = pod_spec(&spec.template)?;
                if let Ok(c) = container_with(pod, bin, "") {
                    return Ok((ds, pod, c));
                }
            }
            Err(cross(format!("no DaemonSet runs {bin}")))
        };
        for ds in &daemonsets {
            let name = ds.metadata.name.clone().unwrap_or_default();
            let spec = ds
                .spec
                .as_ref()
                .ok_or_else(|| cross(format!("{name}: no spec")))?;
            selects(&name, &spec.selector, &spec.template)?;
            node_selected(&name, pod_spec(&spec.template)?)?;
        }
        let config_map_key = |volume: &Volume| -> Option<(String, String)> {
            let cm = volume.config_map.as_ref()?;
            let items = cm.items.as_deref().unwrap_or_default();
            let item = items.first()?;
            Some((cm.name.clone(), item.key.clone()))
        };
        let config_data = |cm_name: &str, key: &str| -> Result<String> {
            config_maps
                .iter()
                .find(|c| c.metadata.name.as_deref() == Some(cm_name))
                .and_then(|c| c.data.as_ref()?.get(key).cloned())
                .ok_or_else(|| cross(format!("ConfigMap {cm_name} has no key {key}")))
        };
        // The file a container sees at `path` through a ConfigMap volume.
        let config_file = |spec: &PodSpec, c: &Container, path: &Path| -> Result<String> {
            let mounts = c.volume_mounts.as_deref().unwrap_or_default();
            for m in mounts {
                let Ok(rest) = path.strip_prefix(&m.mount_path) else {
                    continue;
                };
                let volume = spec
                    .volumes
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .find(|v| v.name == m.name);
                if let Some((cm, key)) = volume.and_then(config_map_key) {
                    let item_path = volume
                        .and_then(|v| v.config_map.as_ref()?.items.as_ref()?.first().cloned())
                        .map(|i| i.path)
                        .unwrap_or_default();
                    if Path::new(&item_path) != rest {
                        continue;
                    }
                    return config_data(&cm, &key);
                }
            }
            Err(cross(format!(
                "{}: no ConfigMap key is mounted at {}",
                c.name,
                path.display()
            )))
        };

        // the device plugin
        let (dp_ds, dp_pod, dp) = find_ds(DEVICE_PLUGIN_BIN)?;
        let dp_name = dp_ds.metadata.name.clone().unwrap_or_default();
        let dp_config_path = PathBuf::from(arg(dp, "--config", &dp_name)?);
        let dp_config_text = config_file(dp_pod, dp, &dp_config_path)?;
        let root = PathBuf::from(arg(dp, "--root", &dp_name)?);
        let plugin_dir = PathBuf::from(arg(dp, "--plugin-dir", &dp_name)?);
        let prefix = arg(dp, "--resource-prefix", &dp_name)?.to_string();
        let dp_config = DaemonConfig::parse(&dp_config_text, Some(&prefix))
            .map_err(|e| cross(format!("{dp_name}: {e}")))?;
        let defaults = DaemonOptions::under_root(&root);
        if plugin_dir != defaults.plugin_dir {
            return Err(cross(format!(
                "{dp_name}: --plugin-dir {} is not the kubelet's {} under --root",
                plugin_dir.display(),
                defaults.plugin_dir.display()
            )));
        }
        let host_root = HostRoot::new(&root);
        let system = HostRoot::system();
        let under =
            |p: &Path| -> PathBuf { Path::new("/").join(p.strip_prefix(&root).unwrap_or(p)) };
        for (container_path, access) in [
            (host_root.sys_dir(), Access::ReadWrite),
            (defaults.plugin_dir.clone(), Access::ReadWrite),
            (host_root.sriov_state_dir(), Access::ReadOnly),
            (defaults.devinfo_dir.clone(), Access::ReadWrite),
        ] {
            expect_host_path(
                dp_pod,
                dp,
                &container_path,
                &under(&container_path),
                access,
                &dp_name,
            )?;
        }
        if under(&host_root.sys_dir()) != system.sys_dir()
            || under(&host_root.sriov_state_dir()) != system.sriov_state_dir()
        {
            return Err(cross(format!(
                "{dp_name}: --root {} is not a plain prefix",
                root.display()
            )));
        }
        let resource_names = dp_config.resource_names();
        let [resource_name] = resource_names.as_slice() else {
            return Err(cross(format!(
                "{dp_name}: the configuration serves {resource_names:?}, the simulation needs exactly one resource"
            )));
        };

        // the installer
        let (inst_ds, inst_pod, inst) = find_ds(INSTALLER_BIN)?;
        let inst_name = inst_ds.metadata.name.clone().unwrap_or_default();
        let plugins = arg(inst, "--plugins", &inst_name)?;
        let listed: Vec<&str> = plugins.split(',').collect();
        if CNI_PLUGINS.iter().any(|p| !listed.contains(p)) {
            return Err(cross(format!(
                "{inst_name}: --plugins {plugins} does not install all of {CNI_PLUGINS:?}"
            )));
        }
        let bin_dir = PathBuf::from(arg(inst, "--bin-dir", &inst_name)?);
        let conf_dir = PathBuf::from(arg(inst, "--conf-dir", &inst_name)?);
        expect_host_path(
            inst_pod,
            inst,
            &bin_dir,
            Path::new("/opt/cni/bin"),
            Access::ReadWrite,
            &inst_name,
        )?;
        expect_host_path(
            inst_pod,
            inst,
            &conf_dir,
            Path::new("/etc/cni/net.d"),
            Access::ReadWrite,
            &inst_name,
        )?;
        let multus_path = PathBuf::from(arg(inst, "--multus-conf", &inst_name)?);
        let multus_text = config_file(inst_pod, inst, &multus_path)?;
        let multus_conf: serde_json::Value = serde_json::from_str(&multus_text)
            .map_err(|e| cross(format!("{inst_name}: 00-multus.conf: {e}")))?;
        if multus_conf["type"] != "multus" || multus_conf["binDir"] != "/opt/cni/bin" {
            return Err(cross(format!(
                "{inst_name}: 00-multus.conf is not a multus config with binDir /opt/cni/bin"
            )));
        }
        let sa = inst_pod.service_account_name.clone().unwrap_or_default();
        let has_sa = objects
            .iter()
            .any(|o| matches!(o, Object::ServiceAccount(s) if s.metadata.name.as_deref() == Some(sa.as_str())));
        if !has_sa {
            return Err(cross(format!(
                "{inst_name}: service account {sa:?} is not defined"
            )));
        }

        // the DHCP daemon
        let (dhcp_ds, dhcp_pod, dhcp) = find_ds(DHCP_DAEMON_BIN)?;
        let dhcp_name = dhcp_ds.metadata.name.clone().unwrap_or_default();
        let socket = PathBuf::from(arg(dhcp, "--socket", &dhcp_name)?);
        let state_dir = PathBuf::from(arg(dhcp, "--state-dir", &dhcp_name)?);
        if socket != Path::new(dhcp_ipam::cni::DEFAULT_SOCKET)
            || state_dir != Path::new(dhcp_ipam::cni::DEFAULT_STATE_DIR)
        {
            return Err(cross(format!(
                "{dhcp_name}: --socket/--state-dir are not the plugin's defaults {} {}",
                dhcp_ipam::cni::DEFAULT_SOCKET,
                dhcp_ipam::cni::DEFAULT_STATE_DIR
            )));
        }
        let socket_dir = socket.parent().unwrap_or(Path::new("/"));
        expect_host_path(
            dhcp_pod,
            dhcp,
            socket_dir,
            socket_dir,
            Access::ReadWrite,
            &dhcp_name,
        )?;
        expect_host_path(
            dhcp_pod,
            dhcp,
            &state_dir,
            &state_dir,
            Access::ReadWrite,
            &dhcp_name,
        )?;

        // the NAD
        let nads: Vec<&NetworkAttachmentDefinition> = objects
            .iter()
            .filter_map(|o| match o {
                Object::Nad(n) => Some(n),
                _ => None,
            })
            .collect();
        let [nad] = nads.as_slice() else {
            return Err(cross(format!(
                "{} NetworkAttachmentDefinitions, the simulation runs one",
                nads.len()
            )));
        };
        let nad_id = format!("{}/{}", nad.metadata.namespace, nad.metadata.name);
        if nad.resource_name() != Some(resource_name.as_str()) {
            return Err(cross(format!(
                "{nad_id}: resourceName {:?} is not the device plugin's {resource_name}",
                nad.resource_name()
            )));
        }
        let list = nad
            .config_list()
            .map_err(|e| cross(format!("{nad_id}: {e}")))?;
        let plugin = |t: &str| list.plugins.iter().find(|p| p.plugin_type == t);
        let sriov = plugin("sriov").ok_or_else(|| cross(format!("{nad_id}: no sriov plugin")))?;
        let raw = serde_json::to_value(sriov).map_err(|e| cross(format!("{nad_id}: {e}")))?;
        let vlan = raw["vlan"]
            .as_u64()
            .and_then(|v| u16::try_from(v).ok())
            .ok_or_else(|| cross(format!("{nad_id}: sriov has no vlan")))?;
        let on = |key: &str, default: bool| match raw[key].as_str() {
            Some("on") => true,
            Some("off") => false,
            _ => default,
        };
        let ipam = &raw["ipam"];
        if ipam["type"] != "rdma-dhcp" {
            return Err(cross(format!("{nad_id}: ipam is not rdma-dhcp")));
        }
        let dhcp_socket = ipam["daemonSocketPath"]
            .as_str()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(dhcp_ipam::cni::DEFAULT_SOCKET));
        if dhcp_socket != socket {
            return Err(cross(format!(
                "{nad_id}: daemonSocketPath {} is not where {dhcp_name} listens ({})",
                dhcp_socket.display(),
                socket.display()
            )));
        }
        let attachment = Attachment {
            nad: (*nad).clone(),
            vlan,
            spoofchk: on("spoofchk", true),
            trust: on("trust", false),
            rdma: plugin("rdma").is_some(),
            dhcp_socket,
        };

        // the test Deployment
        let deployments: Vec<&Deployment> = objects
            .iter()
            .filter_map(|o| match o {
                Object::Deployment(d) => Some(d),
                _ => None,
            })
            .collect();
        let [dep] = deployments.as_slice() else {
            return Err(cross(format!(
                "{} Deployments, the simulation runs one",
                deployments.len()
            )));
        };
        let dep_name = dep.metadata.name.clone().unwrap_or_default();
        let namespace = dep
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let spec = dep
            .spec
            .as_ref()
            .ok_or_else(|| cross(format!("{dep_name}: no spec")))?;
        selects(&dep_name, &spec.selector, &spec.template)?;
        let pod = pod_spec(&spec.template)?;
        node_selected(&dep_name, pod)?;
        let networks_annotation = spec
            .template
            .metadata
            .as_ref()
            .and_then(|m| m.annotations.as_ref()?.get(NETWORKS_ANNOTATION).cloned())
            .ok_or_else(|| cross(format!("{dep_name}: no {NETWORKS_ANNOTATION} annotation")))?;
        let nets = parse_networks_annotation(&networks_annotation, &namespace)
            .map_err(|e| cross(format!("{dep_name}: {e}")))?;
        let named: Vec<String> = nets
            .iter()
            .map(|n| {
                format!(
                    "{}/{}",
                    n.namespace.as_deref().unwrap_or(&namespace),
                    n.name
                )
            })
            .collect();
        if named != [nad_id.clone()] {
            return Err(cross(format!(
                "{dep_name}: networks {named:?} are not [{nad_id}]"
            )));
        }
        let requested: Vec<(String, String)> = pod
            .containers
            .iter()
            .flat_map(|c| c.resources.iter())
            .flat_map(|r| r.limits.iter().chain(r.requests.iter()))
            .flat_map(|m| m.iter())
            .filter(|(k, _)| k.contains('/'))
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect();
        if requested.is_empty()
            || requested
                .iter()
                .any(|(k, v)| k != resource_name || v != "1")
        {
            return Err(cross(format!(
                "{dep_name}: requests {requested:?}, not {resource_name}: 1"
            )));
        }
        let replicas = u32::try_from(spec.replicas.unwrap_or(1))
            .map_err(|_| cross(format!("{dep_name}: negative replicas")))?;

        Ok(DeployModel {
            dp_config_text: dp_config_text.trim().to_string(),
            dp_config,
            dp_config_path,
            resource_name: resource_name.clone(),
            attachment,
            deployment: dep_name,
            namespace,
            replicas,
            networks_annotation,
            network: nad_id,
            daemonsets: daemonsets
                .iter()
                .filter_map(|d| d.metadata.name.clone())
                .collect(),
            multus_conf,
        })
    }
}
