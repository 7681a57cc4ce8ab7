//! Real netdevs for a simulated host (`--veth`): each PF and VF netdev of the model is a veth
//! in the host namespace with the simulator's name and MAC; its peer (`fab<ifindex>`) sits in
//! the fabric namespace on the bridge `br<VLAN>` of the VLAN the PF's VF table gives that VF
//! (`br0` untagged, and for PFs). This kernel has no 802.1Q devices, so that is how a VF's VLAN
//! takes effect: a VF not set to VLAN 111 cannot reach what is attached to `br111`. A peer is up
//! while the model says its netdev has carrier (a VF with link state `disable` has none).
//!
//! [`Fabric::sync`] makes the kernel's links match the model after any change that can add,
//! remove or reconfigure a netdev (a `sriov_numvfs` write, an unbind, a VF-table change).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use sriov_core::rtnl::RtnlNetOps;
use sriov_core::{MacAddress, NetOps, Netns};

use super::SharedError;
use crate::model::{FunctionKind, HOST_NS, Model, NetdevKind};

/// Where the simulated host's netdevs live in the kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostNetns {
    /// The namespace of the process that starts the host (the machine's, usually).
    Caller,
    /// A namespace of this name that the host creates (`/var/run/netns/<name>`) and deletes
    /// when it stops, so that several simulated hosts on one machine never share names.
    Named(String),
}

/// How to lay out the fabric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FabricConfig {
    /// The fabric namespace's name (`sim-fabric` by default); created, must not exist.
    pub fabric_netns: String,
    /// Where the PF and VF netdevs are.
    pub host_netns: HostNetns,
    /// VLANs whose bridges are made up front (`br0` always is).
    pub vlans: Vec<u16>,
}

impl FabricConfig {
    /// The default layout: fabric `sim-fabric`, netdevs in the caller's namespace, only `br0`.
    pub fn new() -> Self {
        FabricConfig {
            fabric_netns: "sim-fabric".into(),
            host_netns: HostNetns::Caller,
            vlans: Vec::new(),
        }
    }
}

impl Default for FabricConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// A namespace the fabric created, by name and by the inode of its file (so that stopping
/// deletes it only while the name still names it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedNetns {
    /// Its name under `/var/run/netns`.
    pub name: String,
    /// The inode of `/var/run/netns/<name>`.
    pub ino: u64,
}

impl CreatedNetns {
    /// `/var/run/netns/<name>`.
    pub fn path(&self) -> PathBuf {
        PathBuf::from("/var/run/netns").join(&self.name)
    }

    /// True while the name still names the namespace that was created.
    pub fn still_ours(&self) -> bool {
        std::fs::metadata(self.path()).is_ok_and(|m| m.ino() == self.ino)
    }

    /// Deletes it (`ip netns del`) if it is still ours; true when it was deleted.
    pub fn delete(&self) -> io::Result<bool> {
        if !self.still_ours() {
            return Ok(false);
        }
        run_ip(&["netns", "del", &self.name])?;
        Ok(true)
    }
}

/// One netdev's fabric side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    /// The peer's name in the fabric namespace.
    pub peer: String,
    /// The VLAN whose bridge it is on.
    pub vlan: u16,
    /// The peer is up (the netdev has carrier).
    pub up: bool,
}

/// What the model wants of one netdev's veth.
struct Wanted {
    name: String,
    in_host: bool,
    mac: MacAddress,
    vlan: u16,
    up: bool,
}

/// What exists in the kernel.
#[derive(Debug, Default)]
struct FabricState {
    ports: BTreeMap<u32, Port>,
    bridges: BTreeSet<u16>,
}

/// The kernel side of a simulated host with real netdevs.
#[derive(Debug)]
pub struct Fabric {
    kernel: RtnlNetOps,
    fabric: Netns,
    fabric_created: CreatedNetns,
    host_created: Option<CreatedNetns>,
    state: Mutex<FabricState>,
}

/// Runs `ip <args>`, failing with its stderr.
fn run_ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

fn create_netns(name: &str) -> Result<CreatedNetns, SharedError> {
    let fabric_err = |source| SharedError::Fabric {
        op: "create namespace",
        target: name.to_string(),
        source,
    };
    let path = PathBuf::from("/var/run/netns").join(name);
    if path.exists() {
        return Err(fabric_err(io::Error::from_raw_os_error(libc::EEXIST)));
    }
    run_ip(&["netns", "add", name]).map_err(fabric_err)?;
    let ino = std::fs::metadata(&path).map_err(fabric_err)?.ino();
    Ok(CreatedNetns {
        name: name.to_string(),
        ino,
    })
}

fn bridge_name(vlan: u16) -> String {
    format!("br{vlan}")
}

/// The VLAN and carrier the model gives each PCI netdev.
fn wanted(model: &Model) -> BTreeMap<u32, Wanted> {
    let mut out = BTreeMap::new();
    for dev in model.netdevs.values() {
        let NetdevKind::Pci(pci) = dev.kind else {
            continue;
        };
        let vlan = match model.functions.get(&pci).map(|f| &f.kind) {
            Some(FunctionKind::Vf { pf, index }) => model
                .nic(*pf)
                .and_then(|n| n.sriov.as_ref())
                .and_then(|s| s.vf_table.get(*index as usize))
                .map_or(0, |s| s.vlan.id().get()),
            _ => 0,
        };
        out.insert(
            dev.ifindex,
            Wanted {
                name: dev.name.clone(),
                in_host: dev.ns == HOST_NS,
                mac: dev.mac,
                vlan,
                up: model.carrier(dev),
            },
        );
    }
    out
}

impl Fabric {
    /// Creates the fabric namespace (and the host namespace when named), the bridges, and a
    /// veth for every PCI netdev of `model`. On failure what was created is removed.
    pub fn create(config: &FabricConfig, model: &Model) -> Result<Fabric, SharedError> {
        if !nix::unistd::geteuid().is_root() {
            return Err(SharedError::VethNeedsRoot);
        }
        let fabric_created = create_netns(&config.fabric_netns)?;
        let host_created = match &config.host_netns {
            HostNetns::Caller => None,
            HostNetns::Named(name) => match create_netns(name) {
                Ok(c) => Some(c),
                Err(e) => {
                    let _ = fabric_created.delete();
                    return Err(e);
                }
            },
        };
        let kernel = match &host_created {
            None => RtnlNetOps::new(),
            Some(c) => RtnlNetOps::with_host_netns(&c.path()),
        };
        let kernel = match kernel {
            Ok(k) => k,
            Err(source) => {
                let _ = fabric_created.delete();
                if let Some(h) = &host_created {
                    let _ = h.delete();
                }
                return Err(SharedError::Fabric {
                    op: "open rtnetlink in",
                    target: "the host namespace".into(),
                    source,
                });
            }
        };
        let fabric = Fabric {
            kernel,
            fabric: Netns::Path(fabric_created.path()),
            fabric_created,
            host_created,
            state: Mutex::new(FabricState::default()),
        };
        let setup = || -> Result<(), SharedError> {
            let mut state = fabric.lock();
            for vlan in std::iter::once(0).chain(config.vlans.iter().copied()) {
                fabric.ensure_bridge(&mut state, vlan)?;
            }
            drop(state);
            fabric.sync(model)
        };
        if let Err(e) = setup() {
            fabric.destroy();
            return Err(e);
        }
        Ok(fabric)
    }

    fn lock(&self) -> MutexGuard<'_, FabricState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// rtnetlink whose [`Netns::Host`] is the simulated host's namespace.
    pub fn kernel(&self) -> &RtnlNetOps {
        &self.kernel
    }

    /// The fabric namespace.
    pub fn fabric_netns(&self) -> &CreatedNetns {
        &self.fabric_created
    }

    /// The host namespace, when the fabric created one.
    pub fn host_netns(&self) -> Option<&CreatedNetns> {
        self.host_created.as_ref()
    }

    /// Every netdev's port, by the model's ifindex.
    pub fn ports(&self) -> BTreeMap<u32, Port> {
        self.lock().ports.clone()
    }

    /// The VLANs that have a bridge.
    pub fn bridges(&self) -> Vec<u16> {
        self.lock().bridges.iter().copied().collect()
    }

    fn ensure_bridge(&self, state: &mut FabricState, vlan: u16) -> Result<(), SharedError> {
        if state.bridges.contains(&vlan) {
            return Ok(());
        }
        let name = bridge_name(vlan);
        let err = |op, source| SharedError::Fabric {
            op,
            target: format!("{name} in {}", self.fabric_created.name),
            source,
        };
        self.kernel
            .add_bridge(&self.fabric, &name)
            .map_err(|e| err("create bridge", e))?;
        self.kernel
            .set_link_up(&self.fabric, &name, true)
            .map_err(|e| err("bring up bridge", e))?;
        state.bridges.insert(vlan);
        Ok(())
    }

    /// Makes the kernel match `model`: a veth for every PCI netdev (made in the host
    /// namespace, where a probe puts a netdev), none for netdevs that are gone, each peer on
    /// its VLAN's bridge and up while the netdev has carrier.
    pub fn sync(&self, model: &Model) -> Result<(), SharedError> {
        let wanted = wanted(model);
        let mut state = self.lock();
        let gone: Vec<u32> = state
            .ports
            .keys()
            .filter(|i| !wanted.contains_key(i))
            .copied()
            .collect();
        for ifindex in gone {
            if let Some(port) = state.ports.remove(&ifindex) {
                match self.kernel.del_link(&self.fabric, &port.peer) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {}
                    Err(source) => {
                        return Err(SharedError::Fabric {
                            op: "delete veth",
                            target: port.peer,
                            source,
                        });
                    }
                }
            }
        }
        for (ifindex, want) in &wanted {
            let err = |op, source| SharedError::Fabric {
                op,
                target: want.name.clone(),
                source,
            };
            self.ensure_bridge(&mut state, want.vlan)?;
            let bridge = bridge_name(want.vlan);
            match state.ports.get(ifindex).cloned() {
                None => {
                    if !want.in_host {
                        // a netdev is only ever made in the host; one elsewhere has a veth
                        continue;
                    }
                    let peer = format!("fab{ifindex}");
                    self.kernel
                        .add_veth(
                            &Netns::Host,
                            &want.name,
                            Some(want.mac),
                            &self.fabric,
                            &peer,
                        )
                        .map_err(|e| err("create veth", e))?;
                    self.kernel
                        .set_bridge(&self.fabric, &peer, &bridge)
                        .map_err(|e| err("attach veth peer", e))?;
                    self.kernel
                        .set_link_up(&self.fabric, &peer, want.up)
                        .map_err(|e| err("set veth peer state", e))?;
                    state.ports.insert(
                        *ifindex,
                        Port {
                            peer,
                            vlan: want.vlan,
                            up: want.up,
                        },
                    );
                }
                Some(port) => {
                    if port.vlan != want.vlan {
                        self.kernel
                            .set_bridge(&self.fabric, &port.peer, &bridge)
                            .map_err(|e| err("move veth peer", e))?;
                    }
                    if port.up != want.up {
                        self.kernel
                            .set_link_up(&self.fabric, &port.peer, want.up)
                            .map_err(|e| err("set veth peer state", e))?;
                    }
                    state.ports.insert(
                        *ifindex,
                        Port {
                            peer: port.peer,
                            vlan: want.vlan,
                            up: want.up,
                        },
                    );
                }
            }
        }
        Ok(())
    }

    /// Removes everything the fabric made: its namespaces (every veth has its peer in the
    /// fabric, so deleting it deletes them all, wherever their other end is).
    pub fn destroy(&self) {
        if let Err(e) = self.fabric_created.delete() {
            tracing::warn!("delete fabric namespace {}: {e}", self.fabric_created.name);
        }
        if let Some(h) = &self.host_created
            && let Err(e) = h.delete()
        {
            tracing::warn!("delete host namespace {}: {e}", h.name);
        }
        self.lock().ports.clear();
    }
}
