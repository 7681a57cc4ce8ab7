//! The meta plugin's commands on the CNI skeleton: ADD (plan, cache, run each delegate, roll
//! back on failure, network status), DEL (from the cache, in reverse, past failures), CHECK,
//! STATUS and GC delegated.

use std::path::PathBuf;

use cni_types::invoke::{Exec, RawExec};
use cni_types::runtime::{CniConfig, RuntimeConf};
use cni_types::skel::{Plugin, Request};
use cni_types::{AnyResult, CniError, Result100};
use serde_json::Value;
use sriov_core::node::{HOST_ROOT_ENV, HostRoot, HostRootSource};

use crate::Error;
use crate::config::{DEFAULT_BIN_DIR, LogLevel, MultusConf};
use crate::delegate::{self, Delegate, DeviceLookup, Role};
use crate::device_info;
use crate::kubelet::{KubeletDevices, PodIdentity};
use crate::log::Log;
use crate::nad_store::NadStore;
use crate::state::{DelegateCache, NetworkStatus, StateDir};

/// The libcni result cache directory of the delegates, a node path.
pub const DELEGATE_RESULT_CACHE_DIR: &str = "/var/lib/cni";

/// The meta plugin: `cni_types::skel::run(MetaPlugin)` is the `multus` binary.
///
/// ```no_run
/// cni_types::skel::run(multus::MetaPlugin);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MetaPlugin;

/// Runs the delegates as child processes with the host root in their environment
/// ([`HOST_ROOT_ENV`]), so that a root given to the meta plugin by its `hostRoot` key is the
/// delegates' root too.
struct DelegateExec {
    env: Vec<(String, String)>,
}

impl Exec for DelegateExec {
    fn exec(
        &self,
        plugin: &std::path::Path,
        env: &[(String, String)],
        stdin: &[u8],
    ) -> Result<Vec<u8>, cni_types::Error> {
        let mut all = env.to_vec();
        all.extend(self.env.iter().cloned());
        RawExec.exec(plugin, &all, stdin)
    }
}

/// What every command works with, resolved from the configuration and the host root.
struct Node {
    conf: MultusConf,
    root: HostRoot,
    state: StateDir,
    store: NadStore,
    runner: CniConfig<DelegateExec>,
    log: Log,
}

impl Node {
    fn open(req: &Request) -> Result<Node, Error> {
        let conf = MultusConf::parse(&req.stdin)?;
        let root = HostRoot::from_env(conf.host_root.as_deref()).map_err(Error::HostRoot)?;
        // An explicit binDir comes first, as in Multus; without one the runtime's CNI_PATH is
        // authoritative and Multus's default directory comes last.
        let mut path: Vec<PathBuf> = Vec::new();
        match &conf.bin_dir {
            Some(dir) => {
                path.push(dir.clone());
                path.extend(req.path.iter().cloned());
            }
            None => {
                path.extend(req.path.iter().cloned());
                path.push(PathBuf::from(DEFAULT_BIN_DIR));
            }
        }
        let env = match root.source() {
            HostRootSource::Default => Vec::new(),
            _ => vec![(
                HOST_ROOT_ENV.to_string(),
                root.dir().to_string_lossy().into_owned(),
            )],
        };
        let runner = CniConfig::new(path)
            .with_cache_dir(root.node_path(DELEGATE_RESULT_CACHE_DIR.as_ref()))
            .with_exec(DelegateExec { env });
        Ok(Node {
            state: StateDir::new(root.node_path(&conf.cni_dir)),
            store: NadStore::new(conf.nad_dir.clone(), conf.conf_dir.clone()),
            log: Log::new(conf.log.clone()),
            runner,
            root,
            conf,
        })
    }

    fn devinfo_dir(&self) -> PathBuf {
        self.root.device_info_dir()
    }

    fn runtime_conf(&self, req: &Request, netns: &str, d: &Delegate) -> RuntimeConf {
        RuntimeConf {
            container_id: req.container_id.clone(),
            netns: netns.to_string(),
            ifname: d.ifname.clone(),
            args: d.cni_args.clone(),
            capability_args: d.capability_args.clone(),
        }
    }

    fn delegate_err(op: &'static str, d: &Delegate, source: cni_types::Error) -> Error {
        Error::Delegate {
            op,
            network: d.network.clone(),
            ifname: d.ifname.clone(),
            source: Box::new(source),
        }
    }

    /// ADD of one delegate: its device-info file, then its list.
    fn add_one(&self, req: &Request, d: &Delegate) -> Result<(AnyResult, Option<Value>), Error> {
        let info = match (&d.resource_name, &d.device_id) {
            (Some(resource), Some(id)) => device_info::copy_for_delegate(
                &self.devinfo_dir(),
                resource,
                id,
                &d.network,
                &req.container_id,
                &d.ifname,
            )?
            .map(|(_, info)| info),
            _ => None,
        };
        let result = self
            .runner
            .add_network_list(&d.list, &self.runtime_conf(req, &req.netns, d))
            .map_err(|e| Self::delegate_err("ADD", d, e))?;
        Ok((result, info))
    }

    /// DEL of one delegate and its device-info copy.
    fn del_one(&self, req: &Request, d: &Delegate) -> Result<(), Error> {
        let del = self
            .runner
            .del_network_list(&d.list, &self.runtime_conf(req, &req.netns, d))
            .map_err(|e| Self::delegate_err("DEL", d, e));
        let info = device_info::remove_for_delegate(
            &self.devinfo_dir(),
            &d.network,
            &req.container_id,
            &d.ifname,
        );
        del.and(info)
    }

    /// DEL of `delegates` in reverse, continuing past failures; the first failure.
    fn del_all(&self, req: &Request, delegates: &[Delegate]) -> Result<(), Error> {
        let mut first = None;
        for d in delegates.iter().rev() {
            if let Err(e) = self.del_one(req, d) {
                self.log.line(LogLevel::Error, &e.to_string());
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    fn plan(&self, req: &Request, lookup: DeviceLookup) -> Result<Vec<Delegate>, Error> {
        let pod = PodIdentity::from_args(&req.args);
        let mut kubelet = KubeletDevices::new(&self.root);
        delegate::plan(
            &self.conf,
            &self.store,
            &pod,
            &req.ifname,
            &req.args.pairs,
            &mut kubelet,
            lookup,
        )
    }

    fn add(&self, req: &Request) -> Result<Result100, Error> {
        if let Some(path) = &self.conf.kubeconfig {
            return Err(Error::KubeconfigUnsupported { path: path.clone() });
        }
        if let Some(file) = &self.conf.readiness_indicator_file {
            let path = self.root.node_path(file);
            if !path.exists() {
                return Err(Error::NotReady { path });
            }
        }
        let delegates = self.plan(req, DeviceLookup::Kubelet)?;
        self.state.save_cache(&DelegateCache::new(
            &req.container_id,
            &req.netns,
            delegates.clone(),
        ))?;
        let mut master = None;
        let mut statuses = Vec::with_capacity(delegates.len());
        for (k, d) in delegates.iter().enumerate() {
            self.log.line(
                LogLevel::Verbose,
                &format!("ADD {} as {} ({:?})", d.network, d.ifname, d.device_id),
            );
            match self.add_one(req, d) {
                Ok((result, info)) => {
                    statuses.push(network_status(d, &result, info));
                    if d.role == Role::ClusterNetwork {
                        master = Some(result);
                    }
                }
                Err(e) => {
                    self.log.line(LogLevel::Error, &e.to_string());
                    self.roll_back(req, &delegates[..=k]);
                    return Err(e);
                }
            }
        }
        if let Err(e) = self.state.save_network_status(&req.container_id, &statuses) {
            self.roll_back(req, &delegates);
            return Err(e);
        }
        master
            .map(AnyResult::into_current_layout)
            .ok_or_else(|| Error::ConfigKey {
                key: "delegates".into(),
                reason: "no cluster network".into(),
            })
    }

    /// Undoes delegates `0..=k` after attachment k failed; the cache goes too when every DEL
    /// succeeded (otherwise a later DEL retries from it).
    fn roll_back(&self, req: &Request, attached: &[Delegate]) {
        if self.del_all(req, attached).is_ok() {
            let _ = self.state.remove(&req.container_id);
        }
    }

    fn del(&self, req: &Request) -> Result<(), Error> {
        let delegates = match self.state.load_cache(&req.container_id) {
            Ok(Some(cache)) => cache.delegates,
            Ok(None) | Err(Error::CacheDecode { .. }) => {
                let pod = PodIdentity::from_args(&req.args);
                if pod.name.is_none() {
                    self.log.line(
                        LogLevel::Verbose,
                        &format!(
                            "DEL {}: no cache and no pod data: nothing to do",
                            req.container_id
                        ),
                    );
                    return Ok(());
                }
                match self.plan(req, DeviceLookup::Skip) {
                    Ok(d) => d,
                    Err(e) => {
                        self.log.line(
                            LogLevel::Error,
                            &format!(
                                "DEL {}: no cache, and the pod's networks: {e}",
                                req.container_id
                            ),
                        );
                        return Ok(());
                    }
                }
            }
            Err(e) => return Err(e),
        };
        self.del_all(req, &delegates)?;
        self.state.remove(&req.container_id)
    }

    fn check(&self, req: &Request) -> Result<(), Error> {
        let cache = self
            .state
            .load_cache(&req.container_id)?
            .ok_or_else(|| Error::NoCache {
                path: self.state.cache_path(&req.container_id),
            })?;
        for d in &cache.delegates {
            self.runner
                .check_network_list(&d.list, &self.runtime_conf(req, &req.netns, d))
                .map_err(|e| Self::delegate_err("CHECK", d, e))?;
        }
        Ok(())
    }

    fn configured(&self) -> Result<Vec<cni_types::NetConfList>, Error> {
        delegate::configured_networks(&self.conf, &self.store)
    }

    fn status(&self) -> Result<(), Error> {
        for list in self.configured()? {
            self.runner
                .status_network_list(&list)
                .map_err(|source| Error::Delegate {
                    op: "STATUS",
                    network: list.name.clone(),
                    ifname: String::new(),
                    source: Box::new(source),
                })?;
        }
        Ok(())
    }

    /// GC: every cached container not among the valid attachments is deleted from its cache;
    /// then each configured network gets GC with the valid attachments.
    fn gc(&self, req: &Request) -> Result<(), Error> {
        let valid = req.valid_attachments.clone().unwrap_or_default();
        let mut first = None;
        for container_id in self.state.cached_containers() {
            if valid.iter().any(|a| a.container_id == container_id) {
                continue;
            }
            let Ok(Some(cache)) = self.state.load_cache(&container_id) else {
                continue;
            };
            let mut stale = req.clone();
            stale.container_id = container_id.clone();
            stale.netns = cache.netns.clone();
            let outcome = self
                .del_all(&stale, &cache.delegates)
                .and_then(|()| self.state.remove(&container_id));
            if let Err(e) = outcome {
                first.get_or_insert(e);
            }
        }
        for list in self.configured()? {
            if let Err(source) = self.runner.gc_network_list(&list, &valid) {
                first.get_or_insert(Error::Delegate {
                    op: "GC",
                    network: list.name.clone(),
                    ifname: String::new(),
                    source: Box::new(source),
                });
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// The network-status entry of one delegate's result.
fn network_status(d: &Delegate, result: &AnyResult, device_info: Option<Value>) -> NetworkStatus {
    let current = result.clone().into_current_layout();
    let interface = current
        .interfaces
        .iter()
        .position(|i| i.name == d.ifname && !i.sandbox.is_empty())
        .or_else(|| current.interfaces.iter().position(|i| i.name == d.ifname));
    let ips = current
        .ips
        .iter()
        .filter(|ip| match (ip.interface, interface) {
            (Some(i), Some(want)) => i as usize == want,
            _ => true,
        })
        .map(|ip| ip.address.addr().to_string())
        .collect();
    let mac = interface
        .and_then(|i| current.interfaces.get(i))
        .map(|i| i.mac.clone())
        .unwrap_or_default();
    let dns = serde_json::to_value(&current.dns)
        .ok()
        .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()));
    NetworkStatus {
        name: d.network.clone(),
        interface: d.ifname.clone(),
        ips,
        mac,
        default: d.role == Role::ClusterNetwork,
        dns,
        device_info,
    }
}

impl Plugin for MetaPlugin {
    fn about(&self) -> String {
        format!(
            "CNI multus meta plugin (rdma-sriov) v{}",
            env!("CARGO_PKG_VERSION")
        )
    }

    fn add(&mut self, req: &Request) -> Result<Result100, CniError> {
        let node = Node::open(req)?;
        node.add(req).map_err(CniError::from)
    }

    fn del(&mut self, req: &Request) -> Result<(), CniError> {
        let node = Node::open(req)?;
        node.del(req).map_err(CniError::from)
    }

    fn check(&mut self, req: &Request) -> Result<(), CniError> {
        let node = Node::open(req)?;
        node.check(req).map_err(CniError::from)
    }

    fn status(&mut self, req: &Request) -> Result<(), CniError> {
        let node = Node::open(req)?;
        node.status().map_err(CniError::from)
    }

    fn gc(&mut self, req: &Request) -> Result<(), CniError> {
        let node = Node::open(req)?;
        node.gc(req).map_err(CniError::from)
    }
}
