//! A simulated host shared by processes (feature `shared`): one [`SimHost`] owned by one
//! daemon, seen by every process of the machine as a live `DIR/sys` ([`fuse`]) and used by
//! them through the host-ops proxy at `DIR/run/sysfs-sim/host.sock`
//! ([`sriov_core::host_proxy`]), optionally with real netdevs ([`fabric`]).
//!
//! [`SharedHost`] is what the daemon serves: the host traits over the simulator, plus what
//! sharing needs:
//! - namespaces made by others (a container runtime's `/var/run/netns/cni-...`, a test's
//!   `ip netns add`) become known to the model the first time a call names them, and are held
//!   open; when a namespace's file is gone the host does what the kernel does when its last user
//!   goes (physical netdevs back to the host, `dev<N>` on a clash), checked before every
//!   proxied call and by the daemon's loop ([`SharedHost::reap_vanished`]);
//! - with a [`Fabric`], link operations go to the kernel and are mirrored in the model, so
//!   sysfs stays true (a VF netdev moved into a pod leaves the host's `/sys/class/net`); PF-side
//!   (VF table), sysfs and RDMA operations go to the simulator, and the fabric follows them
//!   (a VF's VLAN moves its veth peer to that VLAN's bridge);
//! - one lock: every change takes the shared host's lock, then the simulator's, so any number
//!   of processes see one consistent host.
//!
//! [`daemon`] starts, runs and stops the process that owns it (`rdmactl sim start|stop`).

pub mod daemon;
mod error;
pub mod fabric;
pub mod fuse;
mod held;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use sriov_core::host_proxy::NamespacedSysfs;
use sriov_core::{
    EntryKind, IpPrefix, LinkInfo, LinkState, MacAddress, NetOps, Netns, RdmaNetnsMode, RdmaOps,
    Route, Sysfs, TxRate, VfInfo, VlanConfig,
};

pub use self::error::SharedError;
pub use self::fabric::{Fabric, FabricConfig, HostNetns};
use self::held::HeldNetns;
use crate::kernel::{AdminState, io_error};
use crate::model::{Model, NetdevKind};
use crate::op_log::Op;
use crate::{SimHost, SimNetOps};

struct SharedInner {
    sim: SimHost,
    net: SimNetOps,
    held: Mutex<Vec<HeldNetns>>,
    fabric: Option<Fabric>,
}

/// A simulated host as many processes share it (see the module docs). Cheap to clone.
///
/// ```
/// use sriov_core::{NetOps, Netns, Sysfs};
/// use sriov_core::host_proxy::NamespacedSysfs;
/// use sysfs_sim::shared::SharedHost;
/// let shared = SharedHost::new(sysfs_sim::Preset::Reference.build(1).unwrap());
/// shared.set_vf_trust("ens2f0", 3, true).unwrap();
/// assert!(shared.vfs("ens2f0").unwrap()[3].state.trust);
/// // a namespace nobody made: the kernel's ENOENT
/// let err = shared.links(&Netns::named("no-such-pod")).unwrap_err();
/// assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
/// let fs = shared.sysfs_for(&Netns::Host).unwrap();
/// assert_eq!(fs.read("/sys/class/net/ens2f0v3/mtu".as_ref()).unwrap(), "1500\n");
/// ```
#[derive(Clone)]
pub struct SharedHost {
    inner: Arc<SharedInner>,
}

impl std::fmt::Debug for SharedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedHost")
            .field("veth", &self.inner.fabric.is_some())
            .finish_non_exhaustive()
    }
}

/// Temporary name of a netdev on its way back to the host (unique per netdev).
fn returning_name(ifindex: u32) -> String {
    format!("simret{ifindex}")
}

impl SharedHost {
    /// Shares `sim`, every operation on the simulator.
    pub fn new(sim: SimHost) -> Self {
        Self::build(sim, None)
    }

    /// Shares `sim` with real netdevs laid out as `config` says (root only); see [`fabric`].
    pub fn with_fabric(sim: SimHost, config: &FabricConfig) -> Result<Self, SharedError> {
        let fabric = Fabric::create(config, &sim.model())?;
        Ok(Self::build(sim, Some(fabric)))
    }

    fn build(sim: SimHost, fabric: Option<Fabric>) -> Self {
        let net = sim.net_ops();
        SharedHost {
            inner: Arc::new(SharedInner {
                sim,
                net,
                held: Mutex::new(Vec::new()),
                fabric,
            }),
        }
    }

    /// The simulator.
    pub fn sim(&self) -> &SimHost {
        &self.inner.sim
    }

    /// The fabric, when the netdevs are real.
    pub fn fabric(&self) -> Option<&Fabric> {
        self.inner.fabric.as_ref()
    }

    /// The shared host's lock: taken before the simulator's by every change.
    fn held(&self) -> MutexGuard<'_, Vec<HeldNetns>> {
        self.inner.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The namespaces the host holds open (made by others, learned of through calls).
    pub fn held_namespaces(&self) -> Vec<Netns> {
        self.held().iter().map(HeldNetns::netns).collect()
    }

    /// Deletes, as the kernel does when its last user goes, every held namespace whose file is
    /// gone or names another namespace now; returns them.
    pub fn reap_vanished(&self) -> Vec<Netns> {
        let mut held = self.held();
        self.reap_locked(&mut held)
    }

    fn reap_locked(&self, held: &mut Vec<HeldNetns>) -> Vec<Netns> {
        let mut gone = Vec::new();
        let mut i = 0;
        while i < held.len() {
            if held[i].is_current() {
                i += 1;
                continue;
            }
            let ns = held.remove(i);
            self.namespace_deleted(&ns);
            gone.push(ns.netns());
        }
        gone
    }

    /// What the kernel does to a namespace whose last user went, in the model and, with a
    /// fabric, in the kernel: each PCI netdev in it returns to the host (renamed `dev<N>` when
    /// its name is taken there) instead of dying with it as a veth would.
    fn namespace_deleted(&self, ns: &HeldNetns) {
        let sim = &self.inner.sim;
        let netns = ns.netns();
        let returning: Vec<(u32, String)> = {
            let model = sim.model();
            let Ok(id) = model.ns_id(&netns) else {
                return;
            };
            model
                .netdevs
                .values()
                .filter(|d| d.ns == id && matches!(d.kind, NetdevKind::Pci(_)))
                .map(|d| (d.ifindex, d.name.clone()))
                .collect()
        };
        if let Some(fabric) = &self.inner.fabric {
            let k = fabric.kernel();
            let inside = ns.fd_path();
            for (ifindex, name) in &returning {
                let tmp = returning_name(*ifindex);
                let moved = k
                    .rename_link(&inside, name, &tmp)
                    .and_then(|()| k.move_link(&inside, &tmp, &Netns::Host));
                if let Err(e) = moved {
                    tracing::warn!("return {name} from {} to the host: {e}", ns.path.display());
                }
            }
        }
        if let Err(e) = sim.del_netns(&netns) {
            tracing::warn!("delete namespace {} in the model: {e}", ns.path.display());
        }
        if let Some(fabric) = &self.inner.fabric {
            let model = sim.model();
            for (ifindex, _) in &returning {
                let Some(dev) = model.netdevs.get(ifindex) else {
                    continue;
                };
                let tmp = returning_name(*ifindex);
                if let Err(e) = fabric.kernel().rename_link(&Netns::Host, &tmp, &dev.name) {
                    tracing::warn!("rename returned {tmp} to {}: {e}", dev.name);
                }
            }
        }
    }

    /// Makes every namespace in `names` known (see the module docs): EINVAL for a file that
    /// is not a network namespace; a missing one is left to the model (ENOENT).
    fn adopt(&self, held: &mut Vec<HeldNetns>, names: &[&Netns]) -> io::Result<()> {
        self.reap_locked(held);
        for ns in names {
            let Netns::Path(path) = ns else { continue };
            if self.inner.sim.has_netns(ns) {
                continue;
            }
            let file = match HeldNetns::open(path) {
                Ok(file) => file,
                // no such namespace: the model answers the call (ENOENT), and logs it
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
                Err(e) => return Err(e),
            };
            self.inner.sim.attach_netns(path)?;
            held.push(file);
        }
        Ok(())
    }

    /// Runs `work` with the shared lock held, the namespaces in `names` known.
    fn with<T>(&self, names: &[&Netns], work: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        let mut held = self.held();
        self.adopt(&mut held, names)?;
        work()
    }

    /// Brings the fabric in line with the model after a change to it.
    fn sync_fabric(&self) {
        if let Some(fabric) = &self.inner.fabric
            && let Err(e) = fabric.sync(&self.inner.sim.model())
        {
            tracing::warn!("veth fabric: {e}");
        }
    }

    /// A link operation with a fabric: `op` is logged (and can be failed by a fault) as the
    /// simulator logs it; `kernel` does it to the real link, and when the link is one of the
    /// simulator's netdevs, `mirror` does the same to the model.
    fn link_op(
        &self,
        ns: &Netns,
        name: &str,
        op: Op,
        kernel: impl FnOnce(&sriov_core::rtnl::RtnlNetOps) -> io::Result<()>,
        mirror: impl FnOnce(&mut Model, u32),
    ) -> io::Result<()> {
        let Some(fabric) = &self.inner.fabric else {
            return Err(io_error(libc::EOPNOTSUPP));
        };
        self.inner.sim.lock().execute(op, |state| {
            kernel(fabric.kernel()).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
            let simulated = state
                .model
                .ns_id(ns)
                .ok()
                .and_then(|id| state.model.netdev_by_name(id, name))
                .filter(|d| matches!(d.kind, NetdevKind::Pci(_)))
                .map(|d| d.ifindex);
            if let Some(ifindex) = simulated {
                mirror(&mut state.model, ifindex);
            }
            Ok(())
        })
    }
}

impl NetOps for SharedHost {
    fn links(&self, ns: &Netns) -> io::Result<Vec<LinkInfo>> {
        self.with(&[ns], || match &self.inner.fabric {
            Some(f) => f.kernel().links(ns),
            None => self.inner.net.links(ns),
        })
    }

    fn link(&self, ns: &Netns, name: &str) -> io::Result<LinkInfo> {
        self.with(&[ns], || match &self.inner.fabric {
            Some(f) => f.kernel().link(ns, name),
            None => self.inner.net.link(ns, name),
        })
    }

    fn rename_link(&self, ns: &Netns, name: &str, new_name: &str) -> io::Result<()> {
        self.with(&[ns], || {
            if self.inner.fabric.is_none() {
                return self.inner.net.rename_link(ns, name, new_name);
            }
            let op = Op::RenameLink {
                ns: ns.clone(),
                from: name.to_string(),
                to: new_name.to_string(),
            };
            let resulting = std::cell::RefCell::new(new_name.to_string());
            self.link_op(
                ns,
                name,
                op,
                |k| {
                    let index = k.link(ns, name)?.index;
                    k.rename_link(ns, name, new_name)?;
                    if new_name.contains('%') {
                        // the kernel picked the number: read back the name it gave
                        if let Some(l) = k.links(ns)?.into_iter().find(|l| l.index == index) {
                            *resulting.borrow_mut() = l.name;
                        }
                    }
                    Ok(())
                },
                |m, ifindex| {
                    if let Some(d) = m.netdevs.get_mut(&ifindex) {
                        d.name = resulting.borrow().clone();
                    }
                },
            )
        })
    }

    fn set_link_mac(&self, ns: &Netns, name: &str, mac: MacAddress) -> io::Result<()> {
        self.with(&[ns], || {
            if self.inner.fabric.is_none() {
                return self.inner.net.set_link_mac(ns, name, mac);
            }
            let op = Op::SetLinkMac {
                ns: ns.clone(),
                link: name.to_string(),
                mac,
            };
            self.link_op(
                ns,
                name,
                op,
                |k| k.set_link_mac(ns, name, mac),
                |m, ifindex| {
                    if let Some(d) = m.netdevs.get_mut(&ifindex) {
                        d.mac = mac;
                    }
                },
            )
        })
    }

    fn set_link_mtu(&self, ns: &Netns, name: &str, mtu: u32) -> io::Result<()> {
        self.with(&[ns], || {
            if self.inner.fabric.is_none() {
                return self.inner.net.set_link_mtu(ns, name, mtu);
            }
            // the simulated NIC's limits (mlx5: 68-9978), stricter than a veth's
            if self.inner.sim.pci_of_link(ns, name).is_some() && !(68..=9978).contains(&mtu) {
                return Err(io_error(libc::EINVAL));
            }
            let op = Op::SetLinkMtu {
                ns: ns.clone(),
                link: name.to_string(),
                mtu,
            };
            self.link_op(
                ns,
                name,
                op,
                |k| k.set_link_mtu(ns, name, mtu),
                |m, _| {
                    let _ = m.set_link_mtu(ns, name, mtu);
                },
            )
        })
    }

    fn set_link_up(&self, ns: &Netns, name: &str, up: bool) -> io::Result<()> {
        self.with(&[ns], || {
            if self.inner.fabric.is_none() {
                return self.inner.net.set_link_up(ns, name, up);
            }
            let state = if up { AdminState::Up } else { AdminState::Down };
            let op = Op::SetLinkAdmin {
                ns: ns.clone(),
                link: name.to_string(),
                state,
            };
            self.link_op(
                ns,
                name,
                op,
                |k| k.set_link_up(ns, name, up),
                |m, _| {
                    let _ = m.set_link_admin(ns, name, state);
                },
            )
        })
    }

    fn move_link(&self, ns: &Netns, name: &str, target: &Netns) -> io::Result<()> {
        self.with(&[ns, target], || {
            if self.inner.fabric.is_none() {
                return self.inner.net.move_link(ns, name, target);
            }
            let op = Op::MoveLink {
                ns: ns.clone(),
                link: name.to_string(),
                to: target.clone(),
            };
            self.link_op(
                ns,
                name,
                op,
                |k| k.move_link(ns, name, target),
                |m, ifindex| {
                    if m.move_link(ns, name, target).is_err()
                        && let Ok(to) = m.ns_id(target)
                        && let Some(d) = m.netdevs.get_mut(&ifindex)
                    {
                        // the kernel moved it: the model follows whatever its own rules say
                        d.ns = to;
                        d.admin_up = false;
                        d.addresses.clear();
                    }
                },
            )
        })
    }

    fn addresses(&self, ns: &Netns, name: &str) -> io::Result<Vec<IpPrefix>> {
        self.with(&[ns], || match &self.inner.fabric {
            Some(f) => f.kernel().addresses(ns, name),
            None => self.inner.net.addresses(ns, name),
        })
    }

    fn add_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()> {
        self.with(&[ns], || {
            if self.inner.fabric.is_none() {
                return self.inner.net.add_address(ns, name, addr);
            }
            let op = Op::AddAddress {
                ns: ns.clone(),
                link: name.to_string(),
                addr,
            };
            self.link_op(
                ns,
                name,
                op,
                |k| k.add_address(ns, name, addr),
                |m, _| {
                    let _ = m.add_address(ns, name, addr);
                },
            )
        })
    }

    fn del_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()> {
        self.with(&[ns], || {
            if self.inner.fabric.is_none() {
                return self.inner.net.del_address(ns, name, addr);
            }
            let op = Op::DelAddress {
                ns: ns.clone(),
                link: name.to_string(),
                addr,
            };
            self.link_op(
                ns,
                name,
                op,
                |k| k.del_address(ns, name, addr),
                |m, _| {
                    let _ = m.del_address(ns, name, addr);
                },
            )
        })
    }

    fn routes(&self, ns: &Netns) -> io::Result<Vec<Route>> {
        self.with(&[ns], || match &self.inner.fabric {
            Some(f) => f.kernel().routes(ns),
            None => self.inner.net.routes(ns),
        })
    }

    fn add_route(&self, ns: &Netns, route: &Route) -> io::Result<()> {
        self.with(&[ns], || {
            if self.inner.fabric.is_none() {
                return self.inner.net.add_route(ns, route);
            }
            let op = Op::AddRoute {
                ns: ns.clone(),
                route: route.clone(),
            };
            self.link_op(
                ns,
                &route.dev,
                op,
                |k| k.add_route(ns, route),
                |m, _| {
                    let _ = m.add_route(ns, route);
                },
            )
        })
    }

    fn vfs(&self, pf: &str) -> io::Result<Vec<VfInfo>> {
        self.with(&[], || self.inner.net.vfs(pf))
    }

    fn set_vf_mac(&self, pf: &str, vf: u32, mac: MacAddress) -> io::Result<()> {
        self.with(&[], || self.inner.net.set_vf_mac(pf, vf, mac))
    }

    fn set_vf_vlan(&self, pf: &str, vf: u32, vlan: VlanConfig) -> io::Result<()> {
        self.with(&[], || {
            self.inner.net.set_vf_vlan(pf, vf, vlan)?;
            self.sync_fabric();
            Ok(())
        })
    }

    fn set_vf_spoofchk(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
        self.with(&[], || self.inner.net.set_vf_spoofchk(pf, vf, on))
    }

    fn set_vf_trust(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
        self.with(&[], || self.inner.net.set_vf_trust(pf, vf, on))
    }

    fn set_vf_link_state(&self, pf: &str, vf: u32, state: LinkState) -> io::Result<()> {
        self.with(&[], || {
            self.inner.net.set_vf_link_state(pf, vf, state)?;
            self.sync_fabric();
            Ok(())
        })
    }

    fn set_vf_rate(&self, pf: &str, vf: u32, rate: TxRate) -> io::Result<()> {
        self.with(&[], || self.inner.net.set_vf_rate(pf, vf, rate))
    }
}

impl RdmaOps for SharedHost {
    fn netns_mode(&self) -> io::Result<RdmaNetnsMode> {
        self.with(&[], || self.inner.sim.rdma_ops().netns_mode())
    }

    fn set_netns_mode(&self, mode: RdmaNetnsMode) -> io::Result<()> {
        self.with(&[], || self.inner.sim.rdma_ops().set_netns_mode(mode))
    }

    fn devices(&self, ns: &Netns) -> io::Result<Vec<String>> {
        self.with(&[ns], || self.inner.sim.rdma_ops().devices(ns))
    }

    fn move_device(&self, from: &Netns, ibdev: &str, to: &Netns) -> io::Result<()> {
        self.with(&[from, to], || {
            self.inner.sim.rdma_ops().move_device(from, ibdev, to)
        })
    }

    fn other_namespaces(&self) -> io::Result<Vec<Netns>> {
        // namespaces the kernel deleted are reaped first, as for every call
        self.with(&[], || self.inner.sim.rdma_ops().other_namespaces())
    }
}

/// The sysfs of one namespace of a shared host: reads from the simulator's projection, writes
/// through its kernel handlers, the fabric brought in line after each write.
#[derive(Clone, Debug)]
pub struct SharedSysfs {
    shared: SharedHost,
    ns: Netns,
}

impl SharedSysfs {
    fn view(&self) -> io::Result<crate::SimSysfs> {
        self.shared.inner.sim.sysfs_in(&self.ns)
    }

    /// The simulator's view behind this one (for the FUSE filesystem's metadata).
    pub(crate) fn sim_view(&self) -> io::Result<crate::SimSysfs> {
        self.view()
    }
}

impl Sysfs for SharedSysfs {
    /// The attribute as it is now: on a veth-backed host, after the model's host netdevs took
    /// the admin state their veths have in the kernel ([`SharedHost::follow_kernel_links`]).
    fn read(&self, path: &Path) -> io::Result<String> {
        self.shared.follow_kernel_links();
        self.view()?.read(path)
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        self.shared.with(&[&self.ns], || {
            self.view()?.write(path, value)?;
            self.shared.sync_fabric();
            Ok(())
        })
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.view()?.read_link(path)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        self.view()?.read_dir(path)
    }

    fn entry_kind(&self, path: &Path) -> io::Result<EntryKind> {
        self.view()?.entry_kind(path)
    }
}

impl SharedHost {
    /// With a fabric (`--veth`), the model's PCI netdevs in the host namespace take the admin
    /// state (up or down) their veths have in the kernel: a change made there by any process
    /// (`ip link set ens2f0 down`, not through this host) shows in the next sysfs read
    /// (`operstate`, `flags`, the RDMA port state that follows the netdev), as on a real host.
    /// Run before each attribute read. Netdevs moved into other namespaces are not followed.
    pub fn follow_kernel_links(&self) {
        let Some(fabric) = &self.inner.fabric else {
            return;
        };
        // under the host's lock, as link operations hold it across their kernel change
        let mut state = self.inner.sim.lock();
        let links = match fabric.kernel().links(&Netns::Host) {
            Ok(links) => links,
            Err(e) => {
                tracing::warn!("read the host's links from the kernel: {e}");
                return;
            }
        };
        let mut changed = false;
        for link in links {
            let differs = state
                .model
                .netdev_by_name(crate::model::HOST_NS, &link.name)
                .is_some_and(|d| {
                    matches!(d.kind, NetdevKind::Pci(_)) && d.admin_up != link.admin_up
                });
            if !differs {
                continue;
            }
            let admin = if link.admin_up {
                AdminState::Up
            } else {
                AdminState::Down
            };
            match state.model.set_link_admin(&Netns::Host, &link.name, admin) {
                Ok(()) => changed = true,
                Err(errno) => tracing::warn!(
                    "follow the kernel's admin state of {}: {}",
                    link.name,
                    io_error(errno)
                ),
            }
        }
        if changed {
            state.changed();
        }
    }

    /// The sysfs of namespace `ns` (learning of the namespace if need be).
    pub fn sysfs_of(&self, ns: &Netns) -> io::Result<SharedSysfs> {
        self.with(&[ns], || {
            Ok(SharedSysfs {
                shared: self.clone(),
                ns: ns.clone(),
            })
        })
    }
}

impl NamespacedSysfs for SharedHost {
    fn sysfs_for(&self, ns: &Netns) -> io::Result<Box<dyn Sysfs>> {
        Ok(Box::new(self.sysfs_of(ns)?))
    }
}
