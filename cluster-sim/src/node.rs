//! One simulated node: its host (`sysfs-sim`, a reference host with `--vfs` VFs on `ens2f0`),
//! its host root directory (the ConfigMap mount, the ledger, the kubelet checkpoint, the meta
//! plugin's cache), the device plugin's logic (`device-plugin`'s `sriov_dp`: VFs enabled at
//! start, the host monitor, the device list it registers), its kubelet model, its VF ledger
//! and its DHCP daemon model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use device_plugin::Device;
use device_plugin::sriov_dp::enable::{EnableReport, enable_vfs};
use device_plugin::sriov_dp::ledger::HeldVfs;
use device_plugin::sriov_dp::monitor::{Monitor, MonitorPaths};
use sriov_core::ledger::PersistentPool;
use sriov_core::node::HostRoot;
use sriov_core::pool::VfPool;
use sriov_core::{MacAddress, NetOps, Netns, PciAddress, RdmaNetnsMode, RdmaOps, Sysfs, VfState};
use sysfs_sim::{HostBuilder, NicModel, NicSpec, SimHost};

use crate::cluster::NodeSpec;
use crate::deploy::DeployModel;
use crate::dhcp::Daemon;
use crate::error::{Error, Result};
use crate::kubelet::Kubelet;

/// The name of the PF the seed's configuration enables.
pub const PF: &str = "ens2f0";

/// What a VF looked like in the host before any pod had it: what DEL must put back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VfOriginal {
    /// Its index on the PF.
    pub index: u32,
    /// Its netdev name.
    pub name: String,
    /// Its netdev MAC.
    pub mac: Option<MacAddress>,
    /// Its MTU.
    pub mtu: u32,
    /// Its PF-side config.
    pub state: VfState,
}

/// The device plugin running on a node.
pub struct DevicePlugin {
    /// The host monitor (`sriov_dp::monitor`).
    pub monitor: Monitor,
    /// What start-up did.
    pub enabled: Vec<EnableReport>,
    /// The devices last sent on ListAndWatch.
    pub devices: Vec<Device>,
    /// Each device's PF and NUMA node.
    pub topology: crate::kubelet::Topology,
}

impl std::fmt::Debug for DevicePlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevicePlugin")
            .field("devices", &self.devices)
            .finish_non_exhaustive()
    }
}

/// One node.
#[derive(Debug)]
pub struct Node {
    /// Its description.
    pub spec: NodeSpec,
    /// Its seed (the host's MACs follow from it).
    pub seed: u64,
    /// Its host root.
    pub root: PathBuf,
    /// Its host.
    pub host: SimHost,
    /// Its device plugin; `None` before start, after a crash, on the master.
    pub dp: Option<DevicePlugin>,
    /// Its kubelet.
    pub kubelet: Kubelet,
    /// Its VF ledger (opened once the device plugin enabled the VFs).
    pub ledger: Option<PersistentPool>,
    /// Its `rdma-dhcp` daemon.
    pub dhcp: Daemon,
    /// Each VF's state before any pod had it.
    pub originals: BTreeMap<PciAddress, VfOriginal>,
    /// When the node's ledger lock is next free (CNI ADDs of one node contend on it).
    pub ledger_free_at: dhcp_codec::Time,
    /// Whether the PF's cable is plugged (a link flap unplugs it).
    pub pf_link_up: bool,
    /// Whether the node runs the DaemonSets (its labels match their node selector).
    pub selected: bool,
    /// The device plugin's log at its first start (for the walk-through).
    pub first_dp_log: Vec<String>,
}

/// Builds the host of a node: the reference host's ConnectX-5 with `vfs` total VFs per port and
/// none enabled (the device plugin enables them, as in the seed's log).
pub fn build_host(spec: &NodeSpec, seed: u64) -> Result<SimHost> {
    let host = HostBuilder::new(seed)
        .nic(
            NicSpec::new(
                NicModel::connectx5(),
                sriov_core::PciAddress::from_routing_id(0, 0x3b << 8),
            )
            .ports(2)
            .names([PF, "ens2f1"])
            .total_vfs(spec.vfs)
            .numa_node(Some(0))
            .enable_vfs([0]),
        )
        .build()
        .map_err(|source| Error::BuildHost {
            node: spec.name.clone(),
            source,
        })?;
    // the node's own setup: uplinks up, RDMA devices movable into pods (before any pod exists)
    let net = host.net_ops();
    let op_err = |op: &str| {
        let op = op.to_string();
        let node = spec.name.clone();
        move |source| Error::Host { op, node, source }
    };
    for pf in [PF, "ens2f1"] {
        net.set_link_up(&Netns::Host, pf, true)
            .map_err(op_err(&format!("set {pf} up")))?;
    }
    host.rdma_ops()
        .set_netns_mode(RdmaNetnsMode::Exclusive)
        .map_err(op_err("set RDMA netns mode exclusive"))?;
    Ok(host)
}

impl Node {
    /// A node, its host root under `state_dir`, its host built, nothing started.
    pub fn new(spec: NodeSpec, seed: u64, state_dir: &Path, deploy: &DeployModel) -> Result<Node> {
        let root = state_dir.join(&spec.name);
        let host = build_host(&spec, seed)?;
        let plugin_dir = HostRoot::new(&root).kubelet_dir().join("device-plugins");
        let selected = spec
            .labels
            .get(crate::deploy::NODE_LABEL.0)
            .map(String::as_str)
            == Some(crate::deploy::NODE_LABEL.1);
        Ok(Node {
            kubelet: Kubelet::new(&deploy.resource_name, &plugin_dir),
            spec,
            seed,
            root,
            host,
            dp: None,
            ledger: None,
            dhcp: Daemon::default(),
            originals: BTreeMap::new(),
            ledger_free_at: dhcp_codec::Time::ZERO,
            pf_link_up: true,
            selected,
            first_dp_log: Vec::new(),
        })
    }

    /// The node's ledger path.
    pub fn ledger_path(&self) -> PathBuf {
        HostRoot::new(&self.root)
            .sriov_state_dir()
            .join("vf-ledger.json")
    }

    fn config_path(&self, deploy: &DeployModel) -> PathBuf {
        let rel = deploy
            .dp_config_path
            .strip_prefix("/")
            .unwrap_or(&deploy.dp_config_path);
        self.root.join(rel)
    }

    fn state_err(&self, op: &'static str, path: PathBuf) -> impl FnOnce(std::io::Error) -> Error {
        move |source| Error::StateDir { op, path, source }
    }

    /// The device plugin starts: the ConfigMap's file in place, VFs enabled (never resetting
    /// VFs the ledger says pods hold), the ledger opened over the PF's VFs, the first poll,
    /// registration with the kubelet. Returns the devices registered.
    pub fn start_device_plugin(&mut self, deploy: &DeployModel) -> Result<()> {
        let config = self.config_path(deploy);
        if let Some(dir) = config.parent() {
            std::fs::create_dir_all(dir).map_err(self.state_err("create", dir.to_path_buf()))?;
        }
        std::fs::write(&config, &deploy.dp_config_text)
            .map_err(self.state_err("write", config.clone()))?;
        let ledger = self.ledger_path();
        let fs = self.host.sysfs();
        let dp_err = |node: &str| {
            let node = node.to_string();
            move |source| Error::DevicePlugin {
                node,
                source: Box::new(source),
            }
        };
        let enabled = enable_vfs(
            &fs,
            deploy.dp_config.pfs_to_enable(),
            &HeldVfs::read(&ledger),
        )
        .map_err(dp_err(&self.spec.name))?;
        let core_err = |op: &str, node: &str| {
            let (op, node) = (op.to_string(), node.to_string());
            move |source| Error::Core {
                op,
                node,
                source: Box::new(source),
            }
        };
        let pfs = sriov_core::discover(&fs).map_err(core_err("discover", &self.spec.name))?;
        let pf0: Vec<_> = pfs
            .into_iter()
            .filter(|p| p.netdev.as_deref() == Some(PF))
            .collect();
        let inventory = VfPool::from_discovery(&pf0)
            .map_err(core_err("list VFs", &self.spec.name))?
            .vfs()
            .to_vec();
        self.ledger = Some(
            PersistentPool::open(inventory, &ledger)
                .map_err(core_err("open ledger", &self.spec.name))?,
        );
        let sysfs: Arc<dyn Sysfs> = Arc::new(fs);
        let monitor = Monitor::new(
            sysfs,
            MonitorPaths {
                root: self.root.clone(),
                config,
                ledger,
            },
            deploy.dp_config.prefix.clone(),
            deploy.dp_config_text.clone(),
            deploy.dp_config.clone(),
        );
        self.dp = Some(DevicePlugin {
            monitor,
            enabled,
            devices: Vec::new(),
            topology: BTreeMap::new(),
        });
        self.poll_device_plugin(deploy)?;
        if let Some(dp) = &self.dp {
            self.kubelet
                .register(dp.devices.clone(), dp.topology.clone());
        }
        Ok(())
    }

    /// One look of the device plugin at the host; a changed device list goes to the kubelet.
    pub fn poll_device_plugin(&mut self, deploy: &DeployModel) -> Result<()> {
        let Some(dp) = self.dp.as_mut() else {
            return Ok(());
        };
        let snapshot = dp.monitor.poll().map_err(|source| Error::DevicePlugin {
            node: self.spec.name.clone(),
            source: Box::new(source),
        })?;
        let Some(resource) = snapshot.resources.get(&deploy.resource_name) else {
            dp.devices.clear();
            self.kubelet.update_devices(Vec::new(), BTreeMap::new());
            return Ok(());
        };
        let devices = resource.devices.clone();
        let topology = resource
            .served
            .resource
            .devices
            .iter()
            .map(|d| (d.id.clone(), (d.root, d.numa_node)))
            .collect();
        if devices != dp.devices {
            dp.devices = devices.clone();
            dp.topology = topology;
            self.kubelet.update_devices(devices, dp.topology.clone());
        }
        Ok(())
    }

    /// Records every present VF's current state as the state to restore (after the VFs were
    /// created).
    pub fn capture_originals(&mut self) -> Result<()> {
        self.originals.clear();
        let fs = self.host.sysfs();
        let net = self.host.net_ops();
        let pfs = sriov_core::discover(&fs).map_err(|source| Error::Core {
            op: "discover".into(),
            node: self.spec.name.clone(),
            source: Box::new(source),
        })?;
        let table = net.vfs(PF).unwrap_or_default();
        for pf in pfs.iter().filter(|p| p.netdev.as_deref() == Some(PF)) {
            for vf in &pf.vfs {
                let Some(name) = vf.netdev.clone() else {
                    continue;
                };
                let Ok(link) = net.link(&Netns::Host, &name) else {
                    continue;
                };
                let Some(state) = table.iter().find(|v| v.index == vf.index).map(|v| v.state)
                else {
                    continue;
                };
                self.originals.insert(
                    vf.pci,
                    VfOriginal {
                        index: vf.index,
                        name,
                        mac: link.mac,
                        mtu: link.mtu,
                        state,
                    },
                );
            }
        }
        Ok(())
    }

    /// The node reboots: a fresh host (VFs re-created by the device plugin, every namespace
    /// gone); the files under its root (ledger, checkpoint, caches, leases) are kept; the device
    /// plugin and the kubelet start again.
    pub fn reboot(&mut self) -> Result<()> {
        // the same hardware: the same seed gives the same names and MACs (see the README on
        // what a real reboot changes)
        self.host = build_host(&self.spec, self.seed)?;
        self.dp = None;
        self.ledger = None;
        self.kubelet.plugin_gone();
        self.pf_link_up = true;
        Ok(())
    }
}
