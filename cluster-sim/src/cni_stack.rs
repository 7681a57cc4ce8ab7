//! Every call into "the SR-IOV CNI engine", "the RDMA CNI" and "the meta plugin", in one
//! module, so that swapping in their libraries is local to it.
//!
//! INTERIM: the crates `sriov-cni` (issue 9) and `multus` (issue 11) are not on `main` yet.
//! Until they land, this module holds a minimal stand-in of their logic over the same host
//! traits and the same node ledger (`sriov_core::ledger::PersistentPool`), with the shape their
//! issues give them:
//! - meta plugin ADD: the delegate list is saved to `<root>/var/lib/cni/multus/<containerID>`
//!   before any delegate runs; the deviceID of each attachment whose NAD has a resourceName
//!   comes from the kubelet's pod-resources answer (by pod name and namespace) when the kubelet
//!   is up, else from its checkpoint (by `K8S_POD_UID`); net1 gets `sriov` then `rdma`;
//!   DEL runs the delegates in reverse from the cache, or rebuilt from the NAD and the kubelet
//!   when the cache is lost;
//! - sriov ADD: the VF taken for this attachment in the ledger (refused when another
//!   attachment holds it), its state to restore durable in the ledger before any change,
//!   PF-side config (VLAN, spoofchk, trust), the netdev moved into the pod and renamed `net1`,
//!   link up; any failure undoes what was done; DEL restores the PF-side config and returns the
//!   netdev with its name, MAC and MTU, also when the pod's netns is gone;
//! - rdma ADD/DEL: the VF's one RDMA device moved into the pod's netns and back;
//! - IPAM `rdma-dhcp`: asynchronous here, the simulation's DHCP daemon model does the leasing
//!   ([`IpamRequest`]); [`finish_add`] configures the leased address on net1.
//!
//! The simulation calls only [`add`], [`finish_add`], [`del`] and [`cache_dir`].

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use cni_types::multus::parse_networks_annotation;
use device_plugin::checkpoint::Checkpoint;
use serde::{Deserialize, Serialize};
use sriov_core::ledger::PersistentPool;
use sriov_core::pool::{Owner, SavedVfState, Selector};
use sriov_core::{IpPrefix, MacAddress, NetOps, Netns, PciAddress, RdmaOps, VlanConfig, VlanProto};
use sysfs_sim::SimHost;

use crate::deploy::{Attachment, DeployModel};
use crate::kubelet::PodResources;

/// A failed CNI call, as the runtime sees it: the CNI error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CniFailure {
    /// The plugin that failed (`multus`, `sriov`, `rdma`).
    pub plugin: &'static str,
    /// The CNI error code.
    pub code: u32,
    /// The message.
    pub message: String,
}

impl std::fmt::Display for CniFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: CNI error {}: {}",
            self.plugin, self.code, self.message
        )
    }
}

fn fail(plugin: &'static str, code: u32, message: impl Into<String>) -> CniFailure {
    CniFailure {
        plugin,
        code,
        message: message.into(),
    }
}

/// The CNI_ARGS and environment of one call (the K8S_* keys included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CniArgs {
    /// `CNI_CONTAINERID` (also `K8S_POD_INFRA_CONTAINER_ID`).
    pub container_id: String,
    /// `CNI_NETNS` (`None`: empty, the runtime has already closed it).
    pub netns: Option<Netns>,
    /// `CNI_IFNAME` of the meta plugin (the cluster network's, `eth0`).
    pub ifname: String,
    /// `K8S_POD_NAMESPACE`.
    pub pod_namespace: String,
    /// `K8S_POD_NAME`.
    pub pod_name: String,
    /// `K8S_POD_UID`.
    pub pod_uid: String,
    /// The pod's `k8s.v1.cni.cncf.io/networks` annotation (from
    /// `io.kubernetes.cri.pod-annotations`).
    pub networks_annotation: String,
}

/// What the kubelet tells the meta plugin.
pub trait KubeletView {
    /// The pod-resources `List` answer; `None` while the kubelet's socket is down.
    fn pod_resources(&self) -> Option<Vec<PodResources>>;
    /// The device manager's checkpoint file.
    fn checkpoint_path(&self) -> PathBuf;
}

/// A node as the plugins see it.
pub struct NodeView<'a> {
    /// The node's name (for messages).
    pub node: &'a str,
    /// Its host.
    pub host: &'a SimHost,
    /// Its host root (state files).
    pub root: &'a Path,
    /// Its VF ledger.
    pub ledger: &'a mut PersistentPool,
    /// Its kubelet.
    pub kubelet: &'a dyn KubeletView,
    /// The deployment (NADs).
    pub deploy: &'a DeployModel,
    /// A deliberately broken engine variant (tests only).
    pub defect: Option<crate::Defect>,
}

/// One delegate of the meta plugin's cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegate {
    /// The NAD, `namespace/name`.
    pub network: String,
    /// The interface in the pod.
    pub ifname: String,
    /// The deviceID given to `sriov` and `rdma`.
    pub device_id: String,
}

/// The leasing the IPAM plugin asks of the node's DHCP daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpamRequest {
    /// `<containerID>/<ifname>`.
    pub key: String,
    /// The interface's MAC (chaddr).
    pub mac: [u8; 6],
    /// The container (for the client identifier).
    pub container_id: String,
    /// The interface.
    pub ifname: String,
}

/// An ADD whose host part is done and whose IPAM is leasing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAdd {
    /// The attachment.
    pub delegate: Delegate,
    /// The VF.
    pub vf: PciAddress,
    /// Its RDMA device, now in the pod.
    pub rdma_device: Option<String>,
    /// The lease to obtain.
    pub ipam: IpamRequest,
    /// Host operations done (for the virtual-time cost).
    pub host_ops: usize,
}

/// Where the meta plugin keeps its cache under `root`.
pub fn cache_dir(root: &Path) -> PathBuf {
    root.join("var/lib/cni/multus")
}

fn cache_path(root: &Path, container_id: &str) -> PathBuf {
    cache_dir(root).join(container_id)
}

/// The devices of `resource` the kubelet gave the pod: pod-resources first, else the
/// checkpoint; sorted.
fn device_ids(
    view: &NodeView<'_>,
    args: &CniArgs,
    resource: &str,
) -> Result<Vec<String>, CniFailure> {
    let mut ids = match view.kubelet.pod_resources() {
        Some(list) => list
            .into_iter()
            .filter(|p| p.namespace == args.pod_namespace && p.name == args.pod_name)
            .flat_map(|p| p.devices.into_iter())
            .filter(|(r, _)| r == resource)
            .flat_map(|(_, ids)| ids)
            .collect::<Vec<_>>(),
        None => {
            let path = view.kubelet.checkpoint_path();
            let text = std::fs::read_to_string(&path).map_err(|e| {
                fail(
                    "multus",
                    11,
                    format!("read kubelet checkpoint {}: {e}", path.display()),
                )
            })?;
            Checkpoint::parse(&text)
                .map_err(|e| fail("multus", 11, e.to_string()))?
                .pod_device_ids(&args.pod_uid, resource)
        }
    };
    ids.sort();
    Ok(ids)
}

/// The meta plugin's delegates for this pod: every network of the annotation, `net<idx>`,
/// each with its devices of the NAD's resource handed out in order.
fn delegates(view: &NodeView<'_>, args: &CniArgs) -> Result<Vec<Delegate>, CniFailure> {
    let nets = parse_networks_annotation(&args.networks_annotation, &args.pod_namespace)
        .map_err(|e| fail("multus", 7, e.to_string()))?;
    let deploy = view.deploy;
    let mut out = Vec::new();
    let ids = device_ids(view, args, &deploy.resource_name)?;
    // one device per attachment of the resource, handed out in order
    for (idx, net) in nets.iter().enumerate() {
        let id = format!(
            "{}/{}",
            net.namespace.as_deref().unwrap_or(&args.pod_namespace),
            net.name
        );
        if id != deploy.network {
            return Err(fail(
                "multus",
                7,
                format!("NetworkAttachmentDefinition {id} not found"),
            ));
        }
        let Some(device_id) = ids.get(idx).cloned() else {
            return Err(fail(
                "multus",
                7,
                format!(
                    "no device of resource {} for attachment {id}",
                    deploy.resource_name
                ),
            ));
        };
        let ifname = net
            .interface
            .clone()
            .unwrap_or_else(|| format!("net{}", idx + 1));
        out.push(Delegate {
            network: id,
            ifname,
            device_id,
        });
    }
    Ok(out)
}

/// The meta plugin's ADD up to the IPAM step of each delegate (here: one, net1).
pub fn add(view: &mut NodeView<'_>, args: &CniArgs) -> Result<Vec<PendingAdd>, CniFailure> {
    let netns = args
        .netns
        .clone()
        .ok_or_else(|| fail("multus", 4, "CNI_NETNS is required for ADD"))?;
    let delegates = delegates(view, args)?;
    // the delegate list is durable before any delegate runs
    let dir = cache_dir(view.root);
    std::fs::create_dir_all(&dir)
        .and_then(|()| {
            std::fs::write(
                cache_path(view.root, &args.container_id),
                serde_json::to_vec(&delegates).unwrap_or_default(),
            )
        })
        .map_err(|e| {
            fail(
                "multus",
                100,
                format!("save cache in {}: {e}", dir.display()),
            )
        })?;
    let mut done = Vec::new();
    for delegate in delegates {
        match sriov_rdma_add(view, args, &netns, &delegate) {
            Ok(p) => done.push(p),
            Err(e) => {
                // roll back k..0
                for p in done.iter().rev() {
                    let _ = sriov_rdma_del(view, args, &p.delegate);
                }
                return Err(e);
            }
        }
    }
    Ok(done)
}

/// The IPAM result arrived: the address goes on the interface (what `sriov` does with its
/// IPAM's result).
pub fn finish_add(
    host: &SimHost,
    netns: &Netns,
    ifname: &str,
    address: IpPrefix,
) -> Result<(), CniFailure> {
    host.net_ops()
        .add_address(netns, ifname, address)
        .map_err(|e| {
            fail(
                "sriov",
                100,
                format!("add address {address:?} to {ifname}: {e}"),
            )
        })
}

/// What a DEL did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DelOutcome {
    /// The leases the IPAM plugin asked the daemon to release (`<containerID>/<ifname>`).
    pub released_leases: Vec<String>,
    /// The VFs put back.
    pub restored: Vec<PciAddress>,
    /// Whether the cache was there.
    pub from_cache: bool,
}

/// The meta plugin's DEL: from the cache, else rebuilt; in reverse, continuing past failures,
/// reporting the first; the cache removed when every delegate succeeded.
pub fn del(view: &mut NodeView<'_>, args: &CniArgs) -> Result<DelOutcome, CniFailure> {
    let path = cache_path(view.root, &args.container_id);
    let cached: Option<Vec<Delegate>> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let mut out = DelOutcome {
        from_cache: cached.is_some(),
        ..DelOutcome::default()
    };
    let delegates = match cached {
        Some(d) => d,
        // no cache: the attachments from the pod's data; no pod data either: nothing to do
        None => delegates(view, args).unwrap_or_default(),
    };
    let mut first_err = None;
    for d in delegates.iter().rev() {
        match sriov_rdma_del(view, args, d) {
            Ok(del) => {
                out.released_leases.extend(del.released_leases);
                out.restored.extend(del.restored);
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => {
            let _ = std::fs::remove_file(&path);
            Ok(out)
        }
    }
}

fn host_err(plugin: &'static str, what: String) -> impl FnOnce(std::io::Error) -> CniFailure {
    move |e| fail(plugin, 100, format!("{what}: {e}"))
}

fn core_err(plugin: &'static str, what: String) -> impl FnOnce(sriov_core::Error) -> CniFailure {
    move |e| fail(plugin, 100, format!("{what}: {e}"))
}

/// `sriov` ADD then `rdma` ADD, up to IPAM; any failure undoes what was done.
fn sriov_rdma_add(
    view: &mut NodeView<'_>,
    args: &CniArgs,
    netns: &Netns,
    d: &Delegate,
) -> Result<PendingAdd, CniFailure> {
    let host = view.host;
    let net = host.net_ops();
    let fs = host.sysfs();
    let mark = host.log_mark();
    let vf: PciAddress = d.device_id.parse().map_err(|_| {
        fail(
            "sriov",
            7,
            format!("deviceID {:?} is not a PCI address", d.device_id),
        )
    })?;
    let owner = Owner::attachment(&args.container_id, &d.ifname)
        .map_err(core_err("sriov", "owner".into()))?;
    let found = sriov_core::discovery::lookup_vf(&fs, vf)
        .map_err(core_err("sriov", format!("deviceID {vf}")))?;
    let pf_name = found
        .pf
        .netdev
        .clone()
        .ok_or_else(|| fail("sriov", 100, format!("PF of {vf} has no netdev")))?;
    let host_name = found
        .vf
        .netdev
        .clone()
        .ok_or_else(|| fail("sriov", 100, format!("VF {vf} has no netdev in the host")))?;
    let index = found.vf.index;
    view.ledger
        .allocate(Selector::Pci(vf), &owner)
        .map_err(core_err("sriov", format!("take VF {vf}")))?;
    let table = net
        .vfs(&pf_name)
        .map_err(host_err("sriov", format!("read VF table of {pf_name}")))?;
    let Some(state) = table.iter().find(|v| v.index == index).map(|v| v.state) else {
        let _ = view.ledger.release(vf, &owner);
        return Err(fail(
            "sriov",
            100,
            format!("VF {index} not in {pf_name}'s table"),
        ));
    };
    let link = match net.link(&Netns::Host, &host_name) {
        Ok(l) => l,
        Err(e) => {
            let _ = view.ledger.release(vf, &owner);
            return Err(fail("sriov", 100, format!("read link {host_name}: {e}")));
        }
    };
    let saved = SavedVfState {
        pf_netdev: pf_name.clone(),
        vf_index: index,
        vf_state: state,
        host_ifname: Some(host_name.clone()),
        mtu: Some(link.mtu),
        netdev_mac: link.mac,
    };
    // the state to restore is durable before anything changes
    view.ledger
        .set_saved(vf, &owner, saved.clone())
        .map_err(core_err("sriov", format!("save state of {vf}")))?;
    let vlan = VlanConfig::new(u32::from(view.deploy.attachment.vlan), 0, VlanProto::Dot1Q)
        .map_err(|e| fail("sriov", 7, format!("vlan: {e}")))?;
    let attachment: &Attachment = &view.deploy.attachment;
    let steps = || -> std::io::Result<Option<String>> {
        net.set_vf_vlan(&pf_name, index, vlan)?;
        net.set_vf_spoofchk(&pf_name, index, attachment.spoofchk)?;
        net.set_vf_trust(&pf_name, index, attachment.trust)?;
        net.set_link_up(&Netns::Host, &host_name, false)?;
        net.move_link(&Netns::Host, &host_name, netns)?;
        net.rename_link(netns, &host_name, &d.ifname)?;
        net.set_link_up(netns, &d.ifname, true)?;
        if !attachment.rdma {
            return Ok(None);
        }
        let rdma = host.rdma_ops();
        rdma_dev::move_function_device(&rdma, &fs, vf, &Netns::Host, netns)
            .map(Some)
            .map_err(|e| std::io::Error::other(e.to_string()))
    };
    let rdma_device = match steps() {
        Ok(r) => r,
        Err(e) => {
            let _ = restore_vf(view, args.netns.as_ref(), &d.ifname, vf, &saved);
            let _ = view.ledger.release(vf, &owner);
            return Err(fail(
                "sriov",
                100,
                format!("attach VF {vf} as {}: {e}", d.ifname),
            ));
        }
    };
    let mac = net
        .link(netns, &d.ifname)
        .ok()
        .and_then(|l| l.mac)
        .map(|m| m.0)
        .unwrap_or_default();
    Ok(PendingAdd {
        delegate: d.clone(),
        vf,
        rdma_device,
        ipam: IpamRequest {
            key: format!("{}/{}", args.container_id, d.ifname),
            mac,
            container_id: args.container_id.clone(),
            ifname: d.ifname.clone(),
        },
        host_ops: host.ops_since(mark).len(),
    })
}

/// Puts the VF back: its netdev from wherever it is (the pod's netns, or the host when the
/// netns is gone, maybe as `dev<N>`), its RDMA device, its name, MAC, MTU, PF-side config.
fn restore_vf(
    view: &NodeView<'_>,
    netns: Option<&Netns>,
    ifname: &str,
    vf: PciAddress,
    saved: &SavedVfState,
) -> std::io::Result<()> {
    let host = view.host;
    let net = host.net_ops();
    let rdma = host.rdma_ops();
    let host_name = saved
        .host_ifname
        .clone()
        .unwrap_or_else(|| ifname.to_string());
    if let Some(ns) = netns.filter(|ns| host.has_netns(ns)) {
        for dev in rdma.devices(ns).unwrap_or_default() {
            rdma.move_device(ns, &dev, &Netns::Host)?;
        }
        if net.link(ns, ifname).is_ok() {
            net.set_link_up(ns, ifname, false)?;
            net.rename_link(ns, ifname, &host_name)?;
            net.move_link(ns, &host_name, &Netns::Host)?;
        } else if net.link(ns, &host_name).is_ok() {
            net.set_link_up(ns, &host_name, false)?;
            net.move_link(ns, &host_name, &Netns::Host)?;
        }
    }
    // wherever it is now in the host, under any name
    let current = net
        .links(&Netns::Host)?
        .into_iter()
        .find(|l| host.pci_of_link(&Netns::Host, &l.name) == Some(vf));
    if let Some(link) = current {
        if link.admin_up {
            net.set_link_up(&Netns::Host, &link.name, false)?;
        }
        if link.name != host_name {
            net.rename_link(&Netns::Host, &link.name, &host_name)?;
        }
        if let Some(mac) = saved.netdev_mac.filter(|m| Some(*m) != link.mac) {
            net.set_link_mac(&Netns::Host, &host_name, mac)?;
        }
        if let Some(mtu) = saved.mtu.filter(|m| *m != link.mtu) {
            net.set_link_mtu(&Netns::Host, &host_name, mtu)?;
        }
    }
    #[cfg(feature = "defect-injection")]
    if view.defect == Some(crate::Defect::SkipRestore) {
        return Ok(());
    }
    let s = &saved.vf_state;
    net.set_vf_vlan(&saved.pf_netdev, saved.vf_index, s.vlan)?;
    net.set_vf_spoofchk(&saved.pf_netdev, saved.vf_index, s.spoofchk)?;
    net.set_vf_trust(&saved.pf_netdev, saved.vf_index, s.trust)?;
    if s.mac != MacAddress([0; 6]) {
        net.set_vf_mac(&saved.pf_netdev, saved.vf_index, s.mac)?;
    }
    Ok(())
}

/// `rdma` DEL then IPAM DEL then `sriov` DEL of one delegate: idempotent (no ledger record:
/// success).
fn sriov_rdma_del(
    view: &mut NodeView<'_>,
    args: &CniArgs,
    d: &Delegate,
) -> Result<DelOutcome, CniFailure> {
    let owner = Owner::attachment(&args.container_id, &d.ifname)
        .map_err(core_err("sriov", "owner".into()))?;
    let mut out = DelOutcome::default();
    let release = format!("{}/{}", args.container_id, d.ifname);
    #[cfg(feature = "defect-injection")]
    let release_lease = view.defect != Some(crate::Defect::LeaseNotReleased);
    #[cfg(not(feature = "defect-injection"))]
    let release_lease = true;
    if release_lease {
        out.released_leases.push(release);
    }
    let Some(alloc) = view.ledger.pool().held_by(&owner).cloned() else {
        return Ok(out);
    };
    if let Some(saved) = alloc.saved.as_deref() {
        restore_vf(view, args.netns.as_ref(), &d.ifname, alloc.pci, saved)
            .map_err(host_err("sriov", format!("restore VF {}", alloc.pci)))?;
    }
    view.ledger
        .release(alloc.pci, &owner)
        .map_err(core_err("sriov", format!("release VF {}", alloc.pci)))?;
    out.restored.push(alloc.pci);
    Ok(out)
}

/// The address of a lease as an interface prefix.
pub fn prefix_of(lease: &dhcp_ipam::client::Lease) -> IpPrefix {
    IpPrefix {
        addr: IpAddr::V4(lease.ip()),
        prefix_len: lease.address.prefix_len(),
    }
}
