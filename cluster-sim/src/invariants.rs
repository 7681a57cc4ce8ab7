//! The invariants, checked after every event on the node or leaf it touched, and once more
//! over the whole cluster at the end:
//!
//! 1. no VF in two pods (the kubelet's allocations, the ledger, the pods' netns);
//! 2. no address on two pods, and every lease a leaf holds belongs to a live pod or was
//!    released by its pod's IPAM DEL (the RELEASE may be lost on the segment);
//! 3. every running pod's net1 is up in its netns with a live lease from its own leaf's range
//!    and its VF's RDMA device;
//! 4. kubelet allocations = ledger = pods;
//! 5. every VF no pod holds is in the host, restored: its name, MAC, MTU, RDMA device and
//!    PF-side config as before any pod had it;
//! 6. capacity = healthy VFs (present, driver bound, PF link up; 0 while no plugin is
//!    registered).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use dhcp_codec::Time;
use sriov_core::{NetOps, Netns, PciAddress, RdmaOps, Sysfs};

use crate::error::{Error, Result};
use crate::node::PF;
use crate::sim::{Phase, Simulation};

/// An invariant that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The run's seed.
    pub seed: u64,
    /// The invariant.
    pub invariant: &'static str,
    /// What was found.
    pub detail: String,
    /// When (virtual).
    pub at: Time,
    /// The last events, oldest first.
    pub trail: Vec<(Time, String)>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "invariant violated at {}: {}: {} (seed {}; replay with --seed {})",
            self.at, self.invariant, self.detail, self.seed, self.seed
        )?;
        writeln!(f, "event trail (last {}):", self.trail.len())?;
        for (t, e) in &self.trail {
            writeln!(f, "  {t:>12}  {e}")?;
        }
        Ok(())
    }
}

/// The error for `invariant` not holding, with the run's seed and trail.
pub(crate) fn violation(sim: &Simulation, invariant: &'static str, detail: String) -> Error {
    Error::Violation(Box::new(Violation {
        seed: sim.opts.seed,
        invariant,
        detail,
        at: sim.now,
        trail: sim.trail.iter().cloned().collect(),
    }))
}

/// The invariants of node `n` (1, 3, 4, 5, 6).
pub(crate) fn check_node(sim: &Simulation, n: usize) -> Result<()> {
    let node = &sim.nodes[n];
    let name = &node.spec.name;
    let fail =
        |inv: &'static str, detail: String| Err(violation(sim, inv, format!("{name}: {detail}")));
    if !node.selected {
        return Ok(());
    }
    // 1. kubelet side: no device in two pods
    let mut kubelet_vfs: BTreeMap<&str, &str> = BTreeMap::new();
    for (uid, p) in node.kubelet.pods() {
        for d in &p.devices {
            if let Some(other) = kubelet_vfs.insert(d.as_str(), uid.as_str()) {
                return fail(
                    "no VF in two pods",
                    format!("kubelet allocated {d} to pods {other} and {uid}"),
                );
            }
        }
    }
    let Some(ledger) = node.ledger.as_ref() else {
        // rebooting, or the device plugin never started: nothing on the host to check
        return Ok(());
    };
    // 4. kubelet allocations = ledger = pods
    let mut ledger_pairs: BTreeSet<(String, PciAddress)> = BTreeSet::new();
    let by_container: BTreeMap<&str, usize> = sim
        .pods
        .iter()
        .enumerate()
        .filter(|(_, p)| p.node == Some(n))
        .filter_map(|(i, p)| Some((p.sandbox.as_ref()?.container_id.as_str(), i)))
        .collect();
    for a in ledger.pool().allocations() {
        let Some(&pod) = by_container.get(a.owner.container_id()) else {
            return fail(
                "kubelet allocations = ledger = pods",
                format!(
                    "ledger gives VF {} to {}, which is no pod's sandbox",
                    a.pci, a.owner
                ),
            );
        };
        ledger_pairs.insert((sim.pods[pod].uid.clone(), a.pci));
    }
    let mut sandbox_pairs: BTreeSet<(String, PciAddress)> = BTreeSet::new();
    for p in sim.pods.iter().filter(|p| p.node == Some(n)) {
        let Some(sb) = &p.sandbox else { continue };
        for a in &sb.attached {
            sandbox_pairs.insert((p.uid.clone(), a.vf));
            let allocated = node
                .kubelet
                .devices_of(&p.uid)
                .is_some_and(|d| d.contains(&a.vf.to_string()));
            if !allocated {
                return fail(
                    "kubelet allocations = ledger = pods",
                    format!(
                        "pod {} has VF {} the kubelet did not allocate to it",
                        p.name, a.vf
                    ),
                );
            }
        }
    }
    if ledger_pairs != sandbox_pairs {
        let only_ledger: Vec<_> = ledger_pairs.difference(&sandbox_pairs).collect();
        let only_pods: Vec<_> = sandbox_pairs.difference(&ledger_pairs).collect();
        return fail(
            "kubelet allocations = ledger = pods",
            format!("only in the ledger: {only_ledger:?}; only in pods: {only_pods:?}"),
        );
    }
    let host = &node.host;
    let net = host.net_ops();
    let rdma = host.rdma_ops();
    let fs = host.sysfs();
    // 1 and 3: running pods
    let mut in_pods: BTreeMap<PciAddress, &str> = BTreeMap::new();
    for p in sim.pods.iter().filter(|p| p.node == Some(n)) {
        let Some(sb) = &p.sandbox else { continue };
        for a in &sb.attached {
            if let Some(other) = in_pods.insert(a.vf, &p.name) {
                return fail(
                    "no VF in two pods",
                    format!("VF {} in pods {other} and {}", a.vf, p.name),
                );
            }
        }
        if p.phase != Phase::Running {
            continue;
        }
        let Some(a) = sb.attached.first() else {
            return fail(
                "running pods have net1",
                format!("{} runs without an attachment", p.name),
            );
        };
        let link = net.link(&sb.netns, &a.delegate.ifname);
        if !link.as_ref().is_ok_and(|l| l.admin_up) {
            return fail(
                "running pods have net1",
                format!(
                    "{}: {} is not up in its netns: {link:?}",
                    p.name, a.delegate.ifname
                ),
            );
        }
        if host.pci_of_link(&sb.netns, &a.delegate.ifname) != Some(a.vf) {
            return fail(
                "running pods have net1",
                format!("{}: net1 is not VF {}", p.name, a.vf),
            );
        }
        let Some(lease) = node.dhcp.lease(&a.ipam.key) else {
            return fail(
                "running pods have a live lease",
                format!("{}: no lease", p.name),
            );
        };
        if lease.is_expired(sim.now) {
            return fail(
                "running pods have a live lease",
                format!("{}: lease of {} expired", p.name, lease.ip()),
            );
        }
        let leaf = node.spec.leaf.map(|l| &sim.leafs[l]);
        if !leaf.is_some_and(|l| l.in_range(lease.ip())) {
            return fail(
                "running pods have a live lease",
                format!("{}: {} is not from its leaf's range", p.name, lease.ip()),
            );
        }
        let addrs = net
            .addresses(&sb.netns, &a.delegate.ifname)
            .unwrap_or_default();
        if !addrs
            .iter()
            .any(|x| x.addr == std::net::IpAddr::V4(lease.ip()))
        {
            return fail(
                "running pods have a live lease",
                format!("{}: net1 does not carry its lease's {}", p.name, lease.ip()),
            );
        }
        if let Some(dev) = &a.rdma_device {
            let devs = rdma.devices(&sb.netns).unwrap_or_default();
            if !devs.contains(dev) {
                return fail(
                    "running pods have their VF's RDMA device",
                    format!("{}: {dev} is not in its netns ({devs:?})", p.name),
                );
            }
        }
    }
    // 5. free VFs restored
    let held: BTreeSet<PciAddress> = ledger.pool().allocations().map(|a| a.pci).collect();
    let table = net.vfs(PF).unwrap_or_default();
    for (vf, orig) in &node.originals {
        if held.contains(vf) {
            continue;
        }
        let link = net.link(&Netns::Host, &orig.name);
        let ok = link.as_ref().is_ok_and(|l| {
            l.mac == orig.mac
                && l.mtu == orig.mtu
                && host.pci_of_link(&Netns::Host, &l.name) == Some(*vf)
        });
        if !ok {
            return fail(
                "deleted pods' VFs back in the host, restored",
                format!(
                    "VF {vf}: expected {} with MAC {:?} MTU {} in the host, found {link:?}",
                    orig.name, orig.mac, orig.mtu
                ),
            );
        }
        let ib = sriov_core::sysfs::paths::pci_device(vf).join("infiniband");
        if fs.read_dir(&ib).map_or(true, |d| d.is_empty()) {
            return fail(
                "deleted pods' VFs back in the host, restored",
                format!("VF {vf}: its RDMA device is not back in the host"),
            );
        }
        let state = table
            .iter()
            .find(|v| v.index == orig.index)
            .map(|v| v.state);
        if state != Some(orig.state) {
            return fail(
                "deleted pods' VFs back in the host, restored",
                format!("VF {vf}: PF-side config {state:?}, was {:?}", orig.state),
            );
        }
    }
    // 6. capacity = healthy VFs
    let expected = if node.kubelet.registered() && node.dp.is_some() {
        let operstate = fs
            .read(&sriov_core::sysfs::paths::class_net(PF).join("operstate"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        if operstate != "up" {
            0
        } else {
            sriov_core::discover(&fs)
                .map(|pfs| {
                    pfs.iter()
                        .filter(|p| p.netdev.as_deref() == Some(PF))
                        .flat_map(|p| p.vfs.iter())
                        .filter(|v| v.driver.is_some())
                        .count()
                })
                .unwrap_or(0)
        }
    } else {
        0
    };
    if node.kubelet.capacity() != expected {
        return fail(
            "capacity = healthy VFs",
            format!(
                "kubelet capacity {} with {expected} healthy VFs",
                node.kubelet.capacity()
            ),
        );
    }
    Ok(())
}

/// The invariants of leaf `l` (2).
pub(crate) fn check_leaf(sim: &Simulation, l: usize) -> Result<()> {
    let leaf = &sim.leafs[l];
    let mut live: BTreeSet<&[u8]> = BTreeSet::new();
    let mut released: BTreeSet<&[u8]> = BTreeSet::new();
    for node in sim.nodes.iter().filter(|n| n.spec.leaf == Some(l)) {
        live.extend(node.dhcp.clients.values().map(|c| c.client_id.as_slice()));
        released.extend(node.dhcp.released.iter().map(Vec::as_slice));
    }
    for (ip, id) in leaf.bound(sim.now) {
        if !live.contains(id.as_slice()) && !released.contains(id.as_slice()) {
            return Err(violation(
                sim,
                "no lease left behind",
                format!(
                    "{}: {ip} is bound to client {} that no live pod has and no DEL released",
                    leaf.spec.name,
                    dhcp_codec::hex(&id)
                ),
            ));
        }
    }
    Ok(())
}

/// After the teardown: every VF back and free, every ledger and kubelet empty, no lease left.
pub(crate) fn final_check(sim: &Simulation) -> Result<()> {
    for n in 0..sim.nodes.len() {
        check_node(sim, n)?;
        let node = &sim.nodes[n];
        if let Some(ledger) = &node.ledger
            && ledger.pool().allocations().next().is_some()
        {
            return Err(violation(
                sim,
                "kubelet allocations = ledger = pods",
                format!(
                    "{}: the ledger still holds VFs after every pod was deleted",
                    node.spec.name
                ),
            ));
        }
        if !node.kubelet.pods().is_empty() {
            return Err(violation(
                sim,
                "kubelet allocations = ledger = pods",
                format!(
                    "{}: the kubelet still has allocations after every pod was deleted",
                    node.spec.name
                ),
            ));
        }
    }
    for l in 0..sim.leafs.len() {
        check_leaf(sim, l)?;
    }
    Ok(())
}
