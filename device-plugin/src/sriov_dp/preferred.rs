//! GetPreferredAllocation's choice, a pure function of the devices and the request:
//! 1. the must-include devices, in the order given;
//! 2. then free devices (healthy, not held by a pod in the ledger) from the NUMA node with the
//!    most of them (ties: the lower node; devices without a node last), then the next node;
//! 3. within a node, spread across PFs: each pick takes the PF with the fewest devices in the
//!    answer so far (ties: the lower PF address), and its lowest free device.
//!
//! The answer does not depend on the order of the available list. A VF a pod holds is never
//! proposed (unless must-include).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sriov_core::PciAddress;

/// What the choice needs to know of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choosable {
    /// The device ID.
    pub id: String,
    /// Its PF.
    pub pf: PciAddress,
    /// Its NUMA node.
    pub numa_node: Option<u32>,
    /// Whether it may be proposed.
    pub free: Freedom,
}

/// Whether a device may be proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freedom {
    /// Healthy and held by no pod.
    Free,
    /// Unhealthy.
    Unhealthy,
    /// Held by a pod in the ledger.
    Held,
}

/// The preferred devices for a request of `size` out of `available`, with `must_include`.
///
/// ```
/// use device_plugin::sriov_dp::preferred::{preferred, Choosable, Freedom};
/// let pf0 = "0000:3b:00.0".parse().unwrap();
/// let pf1 = "0000:3b:00.1".parse().unwrap();
/// let dev = |id: &str, pf, numa| Choosable { id: id.into(), pf, numa_node: Some(numa), free: Freedom::Free };
/// let devices = [dev("a0", pf0, 0), dev("a1", pf0, 0), dev("b0", pf1, 0), dev("c0", pf1, 1)];
/// let available: Vec<String> = ["a0", "a1", "b0", "c0"].map(String::from).to_vec();
/// // node 0 has most free devices; spread over PF0 and PF1
/// assert_eq!(preferred(&devices, &available, &[], 2), ["a0", "b0"]);
/// assert_eq!(preferred(&devices, &available, &["c0".into()], 2), ["c0", "a0"]);
/// ```
pub fn preferred(
    devices: &[Choosable],
    available: &[String],
    must_include: &[String],
    size: usize,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(size);
    let mut chosen: BTreeSet<&str> = BTreeSet::new();
    let by_id: HashMap<&str, &Choosable> = devices.iter().map(|d| (d.id.as_str(), d)).collect();
    let mut per_pf: HashMap<PciAddress, usize> = HashMap::new();
    for id in must_include {
        if chosen.insert(id.as_str()) {
            out.push(id.clone());
            if let Some(d) = by_id.get(id.as_str()) {
                *per_pf.entry(d.pf).or_default() += 1;
            }
        }
    }
    if out.len() >= size {
        return out;
    }
    // the free candidates, grouped by node, then PF, each PF's devices by ID
    let mut nodes: BTreeMap<Option<u32>, BTreeMap<PciAddress, BTreeSet<&str>>> = BTreeMap::new();
    let available: BTreeSet<&str> = available.iter().map(String::as_str).collect();
    for id in available {
        if chosen.contains(id) {
            continue;
        }
        if let Some(d) = by_id.get(id).filter(|d| d.free == Freedom::Free) {
            nodes
                .entry(d.numa_node)
                .or_default()
                .entry(d.pf)
                .or_default()
                .insert(id);
        }
    }
    let mut order: Vec<(Option<u32>, usize)> = nodes
        .iter()
        .map(|(node, pfs)| (*node, pfs.values().map(BTreeSet::len).sum()))
        .collect();
    // most free first; then the lower node; no node last
    order.sort_by_key(|(node, count)| (std::cmp::Reverse(*count), node.is_none(), *node));
    for (node, _) in order {
        let Some(pfs) = nodes.get_mut(&node) else {
            continue;
        };
        while out.len() < size {
            let next = pfs
                .iter()
                .filter(|(_, ids)| !ids.is_empty())
                .min_by_key(|(pf, _)| (per_pf.get(*pf).copied().unwrap_or(0), **pf))
                .map(|(pf, _)| *pf);
            let Some(pf) = next else { break };
            let Some(ids) = pfs.get_mut(&pf) else { break };
            let Some(id) = ids.pop_first() else { break };
            out.push(id.to_string());
            *per_pf.entry(pf).or_default() += 1;
        }
        if out.len() >= size {
            break;
        }
    }
    out
}
