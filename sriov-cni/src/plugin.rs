//! The two plugins as `cni_types::skel::Plugin`s: what the binaries `sriov` and `rdma` run.
//! Each invocation resolves the host root (`hostRoot`, else `RDMA_SRIOV_HOST_ROOT`, else `/`),
//! opens the node's backends there (a simulated host's proxy when the root holds one) and the
//! node's ledger, and runs the engine.

use std::io::Write;

use cni_types::skel::{Plugin, Request};
use cni_types::{CniError, ErrorCode, Result100};
use sriov_core::ledger::{LedgerFile, PersistentPool};
use sriov_core::node::{Backends, HostRoot};
use sriov_core::pool::{Owner, PoolVf};
use sriov_core::{MacAddress, Netns, PciAddress};

use crate::engine::{AttachRequest, Engine, EngineOptions};
use crate::error::{Error, Result};
use crate::host::Host;
use crate::ipam::{DelegatedIpam, Ipam, NoIpam};
use crate::netconf::{LogLevel, RdmaConf, SriovConf};
use crate::rdma::{RdmaAttach, RdmaPlugin, VfChoice};

fn netns_of(req: &Request) -> Option<Netns> {
    (!req.netns.is_empty()).then(|| Netns::Path(req.netns.clone().into()))
}

fn owner_of(req: &Request) -> Result<Owner> {
    Owner::attachment(&req.container_id, &req.ifname).map_err(Error::Ledger)
}

fn open_node(host_root: Option<&str>) -> Result<(HostRoot, Host)> {
    let root = HostRoot::from_env(host_root).map_err(Error::Node)?;
    let backends = Backends::open(&root).map_err(Error::Node)?;
    Ok((root, Host::from_backends(backends)))
}

/// The ledger over the VFs that matter to this call: `vfs` and every VF the ledger already
/// records for `owner`, so its record can be found and released whatever the netconf says.
fn open_ledger(
    root: &HostRoot,
    host: &Host,
    vfs: &[PciAddress],
    owner: Option<&Owner>,
) -> Result<PersistentPool> {
    let path = root.vf_ledger();
    let mut wanted: Vec<PciAddress> = vfs.to_vec();
    if let Some(owner) = owner
        && let Some(state) = LedgerFile::new(&path).load()?
    {
        wanted.extend(
            state
                .allocations
                .iter()
                .filter(|a| a.owner == *owner)
                .map(|a| a.pci),
        );
    }
    wanted.sort();
    wanted.dedup();
    let inventory = wanted.into_iter().map(|pci| {
        let pf = sriov_core::discovery::lookup_vf(&*host.sysfs, pci)
            .map(|l| l.pf.pci)
            .unwrap_or(pci);
        PoolVf {
            pci,
            pf,
            numa_node: None,
        }
    });
    Ok(PersistentPool::open(inventory, path)?)
}

fn every_recorded_vf(root: &HostRoot) -> Result<Vec<PciAddress>> {
    Ok(LedgerFile::new(root.vf_ledger())
        .load()?
        .map(|s| s.allocations.iter().map(|a| a.pci).collect())
        .unwrap_or_default())
}

/// The engine of the node under `root` over every VF its ledger records (what GC and
/// `rdmactl reconcile` work on), with the node's backends and per-VF lock files.
pub fn node_engine(root: &HostRoot) -> Result<Engine<PersistentPool>> {
    let backends = Backends::open(root).map_err(Error::Node)?;
    let host = Host::from_backends(backends);
    let recorded = every_recorded_vf(root)?;
    let ledger = open_ledger(root, &host, &recorded, None)?;
    Ok(Engine::new(
        host,
        ledger,
        EngineOptions::node(root.vf_lock_dir()),
    ))
}

/// A line for the plugin's log (`logFile`, else nothing: stderr belongs to the runtime).
fn log(conf: &SriovConf, level: LogLevel, line: &str) {
    if level > conf.log_level {
        return;
    }
    if let Some(path) = &conf.log_file
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(f, "sriov: {line}");
    }
}

/// The `sriov` plugin.
#[derive(Debug, Default)]
pub struct SriovPlugin;

impl SriovPlugin {
    fn conf(req: &Request) -> Result<SriovConf> {
        SriovConf::parse(&req.stdin, req.args.get("MAC"))
    }

    fn ipam<'r>(conf: &SriovConf, req: &'r Request) -> Box<dyn Ipam + 'r> {
        match &conf.ipam_type {
            Some(plugin) => Box::new(DelegatedIpam {
                request: req,
                plugin: plugin.clone(),
            }),
            None => Box::new(NoIpam),
        }
    }

    fn engine(root: &HostRoot, host: Host, ledger: PersistentPool) -> Engine<PersistentPool> {
        Engine::new(host, ledger, EngineOptions::node(root.vf_lock_dir()))
    }

    fn add_inner(req: &Request) -> Result<Result100> {
        let conf = Self::conf(req)?;
        let vf = conf.device_id.ok_or(Error::MissingDeviceId)?;
        let owner = owner_of(req)?;
        let (root, host) = open_node(conf.host_root.as_deref())?;
        let ledger = open_ledger(&root, &host, &[vf], Some(&owner))?;
        let mut engine = Self::engine(&root, host, ledger);
        let netns = netns_of(req).ok_or_else(|| Error::InvalidKey {
            key: "CNI_NETNS",
            reason: "empty".into(),
        })?;
        let request = AttachRequest {
            owner,
            netns,
            vf,
            config: conf.vf,
        };
        let mut ipam = Self::ipam(&conf, req);
        match engine.add(&request, &mut *ipam) {
            Ok(attached) => {
                log(
                    &conf,
                    LogLevel::Info,
                    &format!("ADD {} {vf}: attached", request.owner),
                );
                Ok(attached.result())
            }
            Err(e) => {
                log(
                    &conf,
                    LogLevel::Error,
                    &format!("ADD {} {vf}: {e}", request.owner),
                );
                Err(e)
            }
        }
    }

    fn del_inner(req: &Request) -> Result<()> {
        let conf = Self::conf(req)?;
        let owner = owner_of(req)?;
        let (root, host) = open_node(conf.host_root.as_deref())?;
        let vfs: Vec<PciAddress> = conf.device_id.into_iter().collect();
        let ledger = open_ledger(&root, &host, &vfs, Some(&owner))?;
        let mut engine = Self::engine(&root, host, ledger);
        let mut ipam = Self::ipam(&conf, req);
        let out = engine.del(&owner, &mut *ipam);
        log(&conf, LogLevel::Info, &format!("DEL {owner}: {out:?}"));
        out.map(drop)
    }

    fn check_inner(req: &Request) -> Result<()> {
        let conf = Self::conf(req)?;
        let vf = conf.device_id.ok_or(Error::MissingDeviceId)?;
        let owner = owner_of(req)?;
        let (root, host) = open_node(conf.host_root.as_deref())?;
        let ledger = open_ledger(&root, &host, &[vf], Some(&owner))?;
        let mut engine = Self::engine(&root, host, ledger);
        let netns = netns_of(req).ok_or_else(|| Error::InvalidKey {
            key: "CNI_NETNS",
            reason: "empty".into(),
        })?;
        let prev = req.prev_result().map_err(|e| Error::Decode(e.msg))?;
        let mac = prev
            .as_ref()
            .and_then(|r| r.interfaces.iter().find(|i| i.name == req.ifname))
            .and_then(|i| i.mac.parse::<MacAddress>().ok());
        engine.check(&owner, &netns, mac, &conf.vf)
    }

    fn gc_inner(req: &Request) -> Result<()> {
        let conf = Self::conf(req)?;
        let root = HostRoot::from_env(conf.host_root.as_deref()).map_err(Error::Node)?;
        let mut engine = node_engine(&root)?;
        let valid: Vec<Owner> = req
            .valid_attachments
            .iter()
            .flatten()
            .filter_map(|a| Owner::attachment(&a.container_id, &a.ifname).ok())
            .collect();
        engine.gc(&valid).map(drop)
    }
}

impl Plugin for SriovPlugin {
    fn about(&self) -> String {
        "CNI sriov plugin (rdma-sriov) v0.1.0".into()
    }

    fn add(&mut self, req: &Request) -> std::result::Result<Result100, CniError> {
        Ok(Self::add_inner(req)?)
    }

    fn del(&mut self, req: &Request) -> std::result::Result<(), CniError> {
        Ok(Self::del_inner(req)?)
    }

    fn check(&mut self, req: &Request) -> std::result::Result<(), CniError> {
        Ok(Self::check_inner(req)?)
    }

    fn status(&mut self, req: &Request) -> std::result::Result<(), CniError> {
        let conf = Self::conf(req)?;
        open_node(conf.host_root.as_deref())
            .map(drop)
            .map_err(|e| CniError::new(ErrorCode::PluginNotAvailable, e.to_string()))
    }

    fn gc(&mut self, req: &Request) -> std::result::Result<(), CniError> {
        Ok(Self::gc_inner(req)?)
    }
}

/// The `rdma` plugin.
#[derive(Debug, Default)]
pub struct RdmaCniPlugin;

fn rdma_key(req: &Request) -> String {
    format!("{}-{}-{}", req.config.name, req.container_id, req.ifname)
}

impl RdmaCniPlugin {
    fn add_inner(req: &Request) -> Result<Result100> {
        let conf = RdmaConf::parse(&req.stdin)?;
        let prev = req
            .prev_result()
            .map_err(|e| Error::Decode(e.msg))?
            .ok_or(Error::NotChained)?;
        let (root, host) = open_node(conf.host_root.as_deref())?;
        let vf = match conf.device_id {
            Some(pci) => VfChoice::Pci(pci),
            None => {
                let iface = match prev.interfaces.as_slice() {
                    [one] => one,
                    many => many
                        .iter()
                        .find(|i| i.name == req.ifname && !i.sandbox.is_empty())
                        .ok_or_else(|| Error::InvalidKey {
                            key: "prevResult",
                            reason: "no single interface to take the MAC of".into(),
                        })?,
                };
                VfChoice::AdminMac(iface.mac.parse().map_err(|e| Error::InvalidKey {
                    key: "prevResult",
                    reason: format!("interface MAC: {e}"),
                })?)
            }
        };
        let netns = netns_of(req).ok_or_else(|| Error::InvalidKey {
            key: "CNI_NETNS",
            reason: "empty".into(),
        })?;
        let plugin = RdmaPlugin::new(&host, root.rdma_state_dir());
        plugin.add(&RdmaAttach {
            key: rdma_key(req),
            netns,
            vf,
        })?;
        Ok(prev)
    }

    fn del_inner(req: &Request) -> Result<()> {
        let conf = RdmaConf::parse(&req.stdin)?;
        let (root, host) = open_node(conf.host_root.as_deref())?;
        let plugin = RdmaPlugin::new(&host, root.rdma_state_dir());
        plugin.del(&rdma_key(req), netns_of(req).as_ref())
    }

    fn check_inner(req: &Request) -> Result<()> {
        let conf = RdmaConf::parse(&req.stdin)?;
        let (root, host) = open_node(conf.host_root.as_deref())?;
        let plugin = RdmaPlugin::new(&host, root.rdma_state_dir());
        let netns = netns_of(req).ok_or_else(|| Error::InvalidKey {
            key: "CNI_NETNS",
            reason: "empty".into(),
        })?;
        plugin.check(&rdma_key(req), &netns)
    }
}

impl Plugin for RdmaCniPlugin {
    fn about(&self) -> String {
        "CNI rdma plugin (rdma-sriov) v0.1.0".into()
    }

    fn add(&mut self, req: &Request) -> std::result::Result<Result100, CniError> {
        Ok(Self::add_inner(req)?)
    }

    fn del(&mut self, req: &Request) -> std::result::Result<(), CniError> {
        Ok(Self::del_inner(req)?)
    }

    fn check(&mut self, req: &Request) -> std::result::Result<(), CniError> {
        Ok(Self::check_inner(req)?)
    }
}
