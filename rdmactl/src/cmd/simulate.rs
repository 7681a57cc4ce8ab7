//! `rdmactl simulate`: the reference deployment's worker node on simulated hardware. The
//! device plugin's part (enable VFs, offer them by PCI address as `rdma/vhca`, with their health
//! and exactly their RDMA character devices), the SR-IOV CNI's part (take a VF from the ledger,
//! save its state, move it into the pod as `net1`, and on DEL put back exactly what was
//! changed), the RDMA CNI's part (the RDMA netns mode exclusive, the VF's RDMA device moved into
//! the pod and back), for a few pods, each printing its `ibdev2netdev` line, then checks that
//! every VF and RDMA device came back.

use std::path::PathBuf;

use clap::Args;
use rdma_dev::resource::{Inventory, ResourceConfig, device_health, select_resources};
use sriov_core::ledger::PersistentPool;
use sriov_core::pool::{Owner, SavedVfState, Selector, VfPool};
use sriov_core::{
    Named, NetOps, Netns, PhysicalFunction, RdmaNetnsMode, RdmaOps, VfConfig, VlanConfig,
    VlanProto, discover,
};

use super::CmdError;

/// Arguments of `rdmactl simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Seed of the simulated host.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Pods to attach (each takes one VF of ens2f0).
    #[arg(long, default_value_t = 2)]
    pub pods: u32,
    /// Where to keep the VF ledger (default: a temporary directory).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

fn ctx<E: std::fmt::Display>(what: String) -> impl FnOnce(E) -> CmdError {
    move |e| format!("{what}: {e}").into()
}

/// A pod's attachment, as the CNI would cache it.
struct Attachment {
    pod: Netns,
    owner: Owner,
    vf: sriov_core::PciAddress,
    saved: SavedVfState,
    /// The VF's RDMA device, moved into the pod.
    rdma_device: String,
}

/// The device plugin's configuration in the seed.
const SEED_CONFIG: &str = r#"{"mode":"sriov","pfNetdevices":["ens2f0"]}"#;

/// Runs `rdmactl simulate`.
pub fn run(args: SimulateArgs) -> Result<(), CmdError> {
    let host = sysfs_sim::Preset::Reference.build(args.seed)?;
    let fs = host.sysfs();
    let net = Named(host.net_ops());
    let rdma = Named(host.rdma_ops());
    // the node's setup: uplinks up, and RDMA devices movable into pods (before any pod exists)
    for pf in ["ens2f0", "ens2f1"] {
        net.set_link_up(&Netns::Host, pf, true)?;
    }
    rdma.set_netns_mode(RdmaNetnsMode::Exclusive)?;

    println!(
        "== worker node (simulated): one dual-port ConnectX-5, device plugin config {{\"mode\":\"sriov\",\"pfNetdevices\":[\"ens2f0\"]}}"
    );
    let pfs = discover(&fs)?;
    super::discover::print_table(&pfs, "/".as_ref());
    let pf0 = pfs
        .iter()
        .find(|pf| pf.netdev.as_deref() == Some("ens2f0"))
        .ok_or("reference host has no ens2f0")?
        .clone();
    println!("\n== RDMA netns mode: {}", rdma.netns_mode()?);
    for line in rdma_dev::ibdev2netdev(&fs, rdma_dev::Detail::Brief)? {
        println!("   {line}");
    }
    let config = ResourceConfig::parse(SEED_CONFIG)?;
    let resources = select_resources(&config, &Inventory::discover(&fs)?);
    let resource = resources.first().ok_or("no resource configured")?;
    println!(
        "\n== device plugin: resource {}, {} devices (IDs are VF PCI addresses)",
        resource.name,
        resource.devices.len()
    );
    for dev in &resource.devices {
        let health = device_health(&fs, resource, dev, rdma_dev::resource::Allocation::Free)?;
        println!(
            "   {} {} {}",
            dev.id,
            dev.rdma_device.as_deref().unwrap_or("-"),
            health.kubelet_str()
        );
    }

    let dir = match &args.state_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("rdmactl-simulate-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).map_err(ctx(format!("create {}", dir.display())))?;
    let ledger_path = dir.join("vf-ledger.json");
    let _ = std::fs::remove_file(&ledger_path);
    let inventory = VfPool::from_discovery(std::slice::from_ref(&pf0))?
        .vfs()
        .to_vec();
    let mut pool = PersistentPool::open(inventory, &ledger_path)?;

    println!("\n== CNI ADD for {} pods", args.pods);
    let mut attached = Vec::new();
    for i in 1..=args.pods {
        let pod = host
            .add_netns(&format!("pod-{i}"))
            .map_err(ctx(format!("add netns pod-{i}")))?;
        let owner = Owner::attachment(&format!("pod-{i}"), "net1")?;
        let vf = pool.allocate(Selector::Pf(pf0.pci), &owner)?;
        let given = resource.allocate(&[vf.to_string().as_str()])?;
        let att = attach(&net.0, &rdma.0, &fs, &pf0, &mut pool, pod, owner, vf, i)?;
        println!(
            "   pod-{i}: net1 = VF {} (host name {}), RDMA device {}",
            att.vf,
            att.saved.host_ifname.as_deref().unwrap_or("-"),
            att.rdma_device
        );
        let nodes: Vec<String> = given
            .devices
            .iter()
            .map(|d| d.container_path.display().to_string())
            .collect();
        println!("   pod-{i}: devices {}", nodes.join(" "));
        let pod_fs = host.sysfs_in(&att.pod)?;
        for line in rdma_dev::ibdev2netdev(&pod_fs, rdma_dev::Detail::Brief)? {
            println!("   pod-{i}: ibdev2netdev: {line}");
        }
        attached.push(att);
    }

    println!("\n== host view with pods running (moved VFs have no netdev here)");
    super::discover::print_table(&discover(&fs)?, "/".as_ref());
    for att in &attached {
        let links = net.links(&att.pod)?;
        let names: Vec<String> = links
            .iter()
            .map(|l| format!("{}({})", l.name, if l.oper_up { "Up" } else { "Down" }))
            .collect();
        println!("   {}: {}", att.pod, names.join(" "));
    }

    let visible = rdma.devices(&Netns::Host)?.len();
    println!("   host sees {visible} RDMA devices (the pods' are in their namespaces)");

    println!("\n== CNI DEL for every pod");
    for att in attached {
        rdma_dev::move_device(&rdma.0, &att.rdma_device, &att.pod, &Netns::Host)?;
        detach(&net.0, &mut pool, &att)?;
        host.del_netns(&att.pod)
            .map_err(ctx(format!("delete {}", att.pod)))?;
        println!("   {}: VF {} restored and released", att.pod, att.vf);
    }
    let after = discover(&fs)?;
    let back = after
        .iter()
        .find(|p| p.pci == pf0.pci)
        .map_or(0, |p| p.vfs.iter().filter(|v| v.netdev.is_some()).count());
    let free = pool.pool().free_count();
    println!(
        "\n== {back}/{} VFs back on the host with their names, {free} free in the ledger ({})",
        pf0.vfs.len(),
        ledger_path.display()
    );
    if back != pf0.vfs.len() || free != pool.pool().len() {
        return Err("a VF was not returned".into());
    }
    let rdma_back = rdma_dev::discover_rdma(&fs)?;
    println!(
        "== {} RDMA devices back on the host; ibdev2netdev:",
        rdma_back.len()
    );
    for line in rdma_dev::ibdev2netdev(&fs, rdma_dev::Detail::Brief)? {
        println!("   {line}");
    }
    if rdma_back.len() != resource.devices.len() + pfs.len() {
        return Err("an RDMA device was not returned".into());
    }
    if args.state_dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn attach(
    net: &dyn NetOps,
    rdma: &dyn RdmaOps,
    host_fs: &dyn sriov_core::Sysfs,
    pf: &PhysicalFunction,
    pool: &mut PersistentPool,
    pod: Netns,
    owner: Owner,
    vf: sriov_core::PciAddress,
    i: u32,
) -> Result<Attachment, CmdError> {
    let net = Named(net);
    let pf_name = pf.netdev.clone().ok_or("PF has no netdev")?;
    let vf_info = pf.vfs.iter().find(|v| v.pci == vf).ok_or("VF vanished")?;
    let host_name = vf_info
        .netdev
        .clone()
        .ok_or("VF has no netdev in the host")?;
    let table = net.vfs(&pf_name)?;
    let state = table
        .get(vf_info.index as usize)
        .ok_or("VF not in the PF's table")?
        .state;
    let link = net.link(&Netns::Host, &host_name)?;
    let saved = SavedVfState {
        pf_netdev: pf_name.clone(),
        vf_index: vf_info.index,
        vf_state: state,
        host_ifname: Some(host_name.clone()),
        mtu: Some(link.mtu),
        netdev_mac: link.mac,
    };
    // the state to restore is durable before anything changes
    pool.set_saved(vf, &owner, saved.clone())?;
    let config = VfConfig {
        vlan: Some(VlanConfig::new(111, 0, VlanProto::Dot1Q)?),
        spoofchk: Some(true),
        trust: Some(false),
        ..VfConfig::default()
    };
    config.validate()?;
    if let Some(vlan) = config.vlan {
        net.set_vf_vlan(&pf_name, vf_info.index, vlan)?;
    }
    net.set_vf_spoofchk(&pf_name, vf_info.index, true)?;
    net.set_vf_trust(&pf_name, vf_info.index, false)?;
    net.set_link_up(&Netns::Host, &host_name, false)?;
    net.move_link(&Netns::Host, &host_name, &pod)?;
    net.rename_link(&pod, &host_name, "net1")?;
    let mac = sriov_core::MacAddress([0x02, 0, 0, 0, 0x11, i as u8]);
    net.set_link_mac(&pod, "net1", mac)?;
    net.set_link_up(&pod, "net1", true)?;
    // the RDMA CNI, chained after sriov: the VF's one RDMA device follows it into the pod
    let rdma_device = rdma_dev::move_function_device(rdma, host_fs, vf, &Netns::Host, &pod)?;
    Ok(Attachment {
        pod,
        owner,
        vf,
        saved,
        rdma_device,
    })
}

fn detach(net: &dyn NetOps, pool: &mut PersistentPool, att: &Attachment) -> Result<(), CmdError> {
    let net = Named(net);
    let s = &att.saved;
    let host_name = s.host_ifname.clone().ok_or("no saved host name")?;
    net.set_link_up(&att.pod, "net1", false)?;
    net.rename_link(&att.pod, "net1", &host_name)?;
    if let Some(mac) = s.netdev_mac {
        net.set_link_mac(&att.pod, &host_name, mac)?;
    }
    if let Some(mtu) = s.mtu {
        net.set_link_mtu(&att.pod, &host_name, mtu)?;
    }
    net.move_link(&att.pod, &host_name, &Netns::Host)?;
    net.set_vf_vlan(&s.pf_netdev, s.vf_index, s.vf_state.vlan)?;
    net.set_vf_spoofchk(&s.pf_netdev, s.vf_index, s.vf_state.spoofchk)?;
    net.set_vf_trust(&s.pf_netdev, s.vf_index, s.vf_state.trust)?;
    pool.release(att.vf, &att.owner)?;
    Ok(())
}
