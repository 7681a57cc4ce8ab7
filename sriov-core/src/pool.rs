//! The in-memory VF pool: which VFs exist, which are free, and who holds the rest. Pure data,
//! no I/O (the persistent ledger wraps it, see [`crate::ledger`]). This is the allocation hot
//! path: free VFs live in a bitset with per-PF ranges and per-NUMA masks, so finding one is a
//! scan of a few words.

use std::fmt;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::{MacAddress, Netns, PciAddress, PhysicalFunction, VfState};

/// One VF the pool may hand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolVf {
    /// The VF's PCI address.
    pub pci: PciAddress,
    /// Its PF.
    pub pf: PciAddress,
    /// The PF's NUMA node.
    pub numa_node: Option<u32>,
}

/// Who holds a VF: one CNI attachment, the pair (container ID, interface name) that the CNI
/// specification says identifies it. Cheap to clone.
///
/// Stored in the ledger as `{"containerId": .., "ifname": ..}`; shown as `<container>/<ifname>`.
///
/// ```
/// use sriov_core::pool::Owner;
/// let owner = Owner::attachment("a51debf7e1eb", "net1").unwrap();
/// assert_eq!(owner.container_id(), "a51debf7e1eb");
/// assert_eq!(owner.to_string(), "a51debf7e1eb/net1");
/// // the runtime's own rules: no empty container ID, no interface name the kernel refuses
/// assert!(Owner::attachment("", "net1").is_err());
/// assert!(Owner::attachment("a51debf7e1eb", "net/1").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner(Arc<AttachmentKey>);

#[derive(PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
struct AttachmentKey {
    #[serde(rename = "containerId")]
    container_id: String,
    ifname: String,
}

impl Owner {
    /// The attachment of interface `ifname` of container `container_id`, both checked as a CNI
    /// runtime checks them ([`cni_types::validate`]).
    pub fn attachment(container_id: &str, ifname: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidOwner {
            container_id: container_id.to_string(),
            ifname: ifname.to_string(),
            reason: Box::new(reason),
        };
        cni_types::validate::container_id(container_id).map_err(invalid)?;
        cni_types::validate::interface_name(ifname).map_err(invalid)?;
        Ok(Owner(Arc::new(AttachmentKey {
            container_id: container_id.to_string(),
            ifname: ifname.to_string(),
        })))
    }

    /// The container ID (`CNI_CONTAINERID`).
    pub fn container_id(&self) -> &str {
        &self.0.container_id
    }

    /// The interface name in the container (`CNI_IFNAME`).
    pub fn ifname(&self) -> &str {
        &self.0.ifname
    }
}

impl fmt::Debug for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Owner({self})")
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0.container_id, self.0.ifname)
    }
}

impl Serialize for Owner {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Owner {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let key = AttachmentKey::deserialize(d)?;
        Owner::attachment(&key.container_id, &key.ifname).map_err(serde::de::Error::custom)
    }
}

/// Which VF to hand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    /// Any free VF (lowest PF, lowest VF first).
    Any,
    /// A free VF of this PF.
    Pf(PciAddress),
    /// A free VF on this NUMA node.
    Numa(u32),
    /// Exactly this VF (as a device plugin or CNI `deviceID` names it).
    Pci(PciAddress),
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Any => f.write_str("any VF"),
            Selector::Pf(pf) => write!(f, "a VF of PF {pf}"),
            Selector::Numa(n) => write!(f, "a VF on NUMA node {n}"),
            Selector::Pci(pci) => write!(f, "VF {pci}"),
        }
    }
}

/// What to put back on a VF when it is released: its PF-side VF table entry and its netdev's
/// host-side name, MTU and MAC, recorded before the VF was configured for a pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedVfState {
    /// The PF's netdev.
    pub pf_netdev: String,
    /// The VF index.
    pub vf_index: u32,
    /// The VF table entry before.
    pub vf_state: VfState,
    /// The VF netdev's name in the host namespace.
    pub host_ifname: Option<String>,
    /// The VF netdev's MTU.
    pub mtu: Option<u32>,
    /// The VF netdev's MAC.
    pub netdev_mac: Option<MacAddress>,
}

/// How far an attachment's ADD got: each stage is recorded in the ledger BEFORE its first
/// change to the host is made, so a process killed at any instant leaves a record that says
/// which undos may be needed. Every undo is idempotent (it compares the host with the saved
/// state and changes only what differs), so running the undos of a stage that had barely
/// begun is safe. Ordered: a later stage implies the earlier ones ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttachStage {
    /// The PF-side VF configuration is being (or has been) set; undo: restore the saved VF
    /// table entry.
    PfConfig,
    /// The VF netdev is being moved into the pod (through a temporary namespace); undo: find
    /// the netdev wherever it is and return it to the host with its saved name, MAC and MTU.
    Netdev,
    /// IPAM is being (or has been) run; undo: IPAM DEL.
    Ipam,
    /// ADD completed.
    Attached,
}

impl fmt::Display for AttachStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AttachStage::PfConfig => "pf-config",
            AttachStage::Netdev => "netdev",
            AttachStage::Ipam => "ipam",
            AttachStage::Attached => "attached",
        })
    }
}

/// The intent log of one attachment: the pod namespace the VF goes to and how far ADD got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentIntent {
    /// The pod's network namespace (`CNI_NETNS` at ADD).
    pub netns: Netns,
    /// The stage ADD had begun when this was written.
    pub stage: AttachStage,
}

/// One allocation: who holds the VF and what to restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The VF.
    pub pci: PciAddress,
    /// Its holder.
    pub owner: Owner,
    /// State to restore on release, once recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved: Option<Box<SavedVfState>>,
    /// The attachment's intent log (a CNI plugin's record; absent for other holders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<AttachmentIntent>,
}

#[derive(Debug, Clone, Default)]
struct Bitset(Vec<u64>);

impl Bitset {
    fn new(len: usize) -> Self {
        Bitset(vec![0; len.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    /// First set bit in `start..end`.
    fn first_in(&self, start: usize, end: usize) -> Option<usize> {
        let mut word = start / 64;
        let mut bits = self.0.get(word)? & (!0u64 << (start % 64));
        loop {
            if bits != 0 {
                let i = word * 64 + bits.trailing_zeros() as usize;
                return (i < end).then_some(i);
            }
            word += 1;
            if word * 64 >= end {
                return None;
            }
            bits = self.0[word];
        }
    }
    /// First bit set in both, starting at word `start` (the mask's first non-empty word).
    fn first_and(&self, mask: &Bitset, start: usize) -> Option<usize> {
        self.0[start..]
            .iter()
            .zip(&mask.0[start..])
            .enumerate()
            .find_map(|(w, (a, b))| {
                let bits = a & b;
                (bits != 0).then(|| (start + w) * 64 + bits.trailing_zeros() as usize)
            })
    }
    fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }
}

/// The VF pool.
///
/// ```
/// use sriov_core::pool::{Owner, PoolVf, Selector, VfPool};
/// let pf = "0000:3b:00.0".parse().unwrap();
/// let vfs = (0..8).map(|i| PoolVf { pci: sriov_core::PciAddress::vf_address(&pf, 2, 1, i).unwrap(), pf, numa_node: Some(0) });
/// let mut pool = VfPool::new(vfs).unwrap();
/// let pod = Owner::attachment("c0ffee", "net1").unwrap();
/// let vf = pool.allocate(Selector::Pf(pf), &pod).unwrap();
/// assert_eq!(vf.to_string(), "0000:3b:00.2");
/// // the same owner asking again gets the same VF (a retried ADD)
/// assert_eq!(pool.allocate(Selector::Any, &pod).unwrap(), vf);
/// pool.release(vf, &pod).unwrap();
/// assert_eq!(pool.free_count(), 8);
/// ```
#[derive(Debug, Clone)]
pub struct VfPool {
    vfs: Vec<PoolVf>,
    slots: Vec<Option<Allocation>>,
    free: Bitset,
    by_pci: HashMap<PciAddress, u32>,
    by_owner: HashMap<Owner, u32>,
    pf_ranges: Vec<(PciAddress, u32, u32)>,
    numa_masks: Vec<(u32, usize, Bitset)>,
}

impl VfPool {
    /// A pool of `vfs`, all free. The same VF twice is an error.
    pub fn new(vfs: impl IntoIterator<Item = PoolVf>) -> Result<Self> {
        let mut vfs: Vec<PoolVf> = vfs.into_iter().collect();
        vfs.sort_by_key(|v| (v.pf, v.pci));
        let mut by_pci = HashMap::with_capacity_and_hasher(vfs.len(), Default::default());
        for (i, vf) in vfs.iter().enumerate() {
            if by_pci.insert(vf.pci, i as u32).is_some() {
                return Err(Error::DuplicateVf { pci: vf.pci });
            }
        }
        let mut free = Bitset::new(vfs.len());
        let mut pf_ranges: Vec<(PciAddress, u32, u32)> = Vec::new();
        let mut numa_masks: Vec<(u32, usize, Bitset)> = Vec::new();
        for (i, vf) in vfs.iter().enumerate() {
            free.set(i);
            match pf_ranges.last_mut() {
                Some((pf, _, end)) if *pf == vf.pf => *end = i as u32 + 1,
                _ => pf_ranges.push((vf.pf, i as u32, i as u32 + 1)),
            }
            if let Some(node) = vf.numa_node {
                match numa_masks.iter_mut().find(|(n, _, _)| *n == node) {
                    Some((_, first_word, mask)) => {
                        mask.set(i);
                        *first_word = (*first_word).min(i / 64);
                    }
                    None => {
                        let mut mask = Bitset::new(vfs.len());
                        mask.set(i);
                        numa_masks.push((node, i / 64, mask));
                    }
                }
            }
        }
        Ok(VfPool {
            slots: vec![None; vfs.len()],
            vfs,
            free,
            by_pci,
            by_owner: HashMap::default(),
            pf_ranges,
            numa_masks,
        })
    }

    /// A pool of every enabled VF that discovery found.
    pub fn from_discovery(pfs: &[PhysicalFunction]) -> Result<Self> {
        VfPool::new(pfs.iter().flat_map(|pf| {
            pf.vfs.iter().map(move |vf| PoolVf {
                pci: vf.pci,
                pf: pf.pci,
                numa_node: pf.numa_node,
            })
        }))
    }

    /// Every VF of the pool.
    pub fn vfs(&self) -> &[PoolVf] {
        &self.vfs
    }

    /// Number of VFs.
    pub fn len(&self) -> usize {
        self.vfs.len()
    }

    /// True when the pool has no VFs.
    pub fn is_empty(&self) -> bool {
        self.vfs.is_empty()
    }

    /// Number of free VFs.
    pub fn free_count(&self) -> usize {
        self.free.count()
    }

    /// True when `pci` is in the pool.
    pub fn contains(&self, pci: PciAddress) -> bool {
        self.by_pci.contains_key(&pci)
    }

    /// Hands a free VF matching `selector` to `owner`. Idempotent: when `owner` already holds a
    /// VF that matches, that VF is returned again (a retried ADD, or a crash between the ledger
    /// write and the reply); when it holds one that does not match, that is an error.
    pub fn allocate(&mut self, selector: Selector, owner: &Owner) -> Result<PciAddress> {
        if let Some(&held) = self.by_owner.get(owner) {
            let vf = &self.vfs[held as usize];
            let matches = match selector {
                Selector::Any => true,
                Selector::Pf(pf) => vf.pf == pf,
                Selector::Numa(n) => vf.numa_node == Some(n),
                Selector::Pci(pci) => vf.pci == pci,
            };
            if matches {
                return Ok(vf.pci);
            }
            return Err(Error::OwnerHoldsOther {
                owner: owner.clone(),
                held: vf.pci,
                selector,
            });
        }
        let found = self.find_free(selector, owner)?;
        self.by_owner.insert(owner.clone(), found as u32);
        let pci = self.vfs[found].pci;
        self.free.clear(found);
        self.slots[found] = Some(Allocation {
            pci,
            owner: owner.clone(),
            saved: None,
            intent: None,
        });
        Ok(pci)
    }

    /// Releases `pci`, which `owner` must hold: a late DEL of an old pod can never free the VF
    /// a new pod got since.
    pub fn release(&mut self, pci: PciAddress, owner: &Owner) -> Result<Allocation> {
        let idx = *self.by_pci.get(&pci).ok_or(Error::UnknownVf { pci })? as usize;
        match &self.slots[idx] {
            None => return Err(Error::NotAllocated { pci }),
            Some(a) if a.owner != *owner => {
                return Err(Error::OwnedByOther {
                    pci,
                    owner: a.owner.clone(),
                    requester: owner.clone(),
                });
            }
            Some(_) => {}
        }
        self.vacate(idx).ok_or(Error::NotAllocated { pci })
    }

    /// Releases whatever `owner` holds (a DEL that lost its cache); `None` when it holds nothing.
    pub fn release_owner(&mut self, owner: &Owner) -> Option<Allocation> {
        let idx = *self.by_owner.get(owner)? as usize;
        self.vacate(idx)
    }

    /// Releases `pci` whoever holds it (a reconciler that found the owner gone).
    pub fn force_release(&mut self, pci: PciAddress) -> Result<Option<Allocation>> {
        let idx = *self.by_pci.get(&pci).ok_or(Error::UnknownVf { pci })? as usize;
        Ok(self.vacate(idx))
    }

    fn vacate(&mut self, idx: usize) -> Option<Allocation> {
        let alloc = self.slots[idx].take()?;
        self.by_owner.remove(&alloc.owner);
        self.free.set(idx);
        Some(alloc)
    }

    /// Records the state to restore for a VF `owner` holds.
    pub fn set_saved(&mut self, pci: PciAddress, owner: &Owner, saved: SavedVfState) -> Result<()> {
        let idx = *self.by_pci.get(&pci).ok_or(Error::UnknownVf { pci })? as usize;
        match &mut self.slots[idx] {
            Some(a) if a.owner == *owner => {
                a.saved = Some(Box::new(saved));
                Ok(())
            }
            Some(a) => Err(Error::OwnedByOther {
                pci,
                owner: a.owner.clone(),
                requester: owner.clone(),
            }),
            None => Err(Error::NotAllocated { pci }),
        }
    }

    /// Records (or replaces) the intent log of the attachment holding `pci`, which `owner`
    /// must hold.
    pub fn set_intent(
        &mut self,
        pci: PciAddress,
        owner: &Owner,
        intent: AttachmentIntent,
    ) -> Result<()> {
        let idx = *self.by_pci.get(&pci).ok_or(Error::UnknownVf { pci })? as usize;
        match &mut self.slots[idx] {
            Some(a) if a.owner == *owner => {
                a.intent = Some(intent);
                Ok(())
            }
            Some(a) => Err(Error::OwnedByOther {
                pci,
                owner: a.owner.clone(),
                requester: owner.clone(),
            }),
            None => Err(Error::NotAllocated { pci }),
        }
    }

    /// The allocation of `pci`, if held.
    pub fn allocation(&self, pci: PciAddress) -> Option<&Allocation> {
        self.slots[*self.by_pci.get(&pci)? as usize].as_ref()
    }

    /// What `owner` holds.
    pub fn held_by(&self, owner: &Owner) -> Option<&Allocation> {
        self.slots[*self.by_owner.get(owner)? as usize].as_ref()
    }

    /// Every allocation, in pool order.
    pub fn allocations(&self) -> impl Iterator<Item = &Allocation> {
        self.slots.iter().flatten()
    }

    /// Replaces every allocation with `allocations` (a ledger reloaded from disk). Entries for
    /// VFs not in the pool are returned, not dropped. Two entries for one VF or one owner are an
    /// error (a ledger this crate never writes).
    pub fn restore(
        &mut self,
        allocations: impl IntoIterator<Item = Allocation>,
    ) -> Result<Vec<Allocation>> {
        let mut fresh = VfPool {
            slots: vec![None; self.vfs.len()],
            by_owner: HashMap::default(),
            ..self.clone_shape()
        };
        let mut orphans = Vec::new();
        for alloc in allocations {
            let Some(&idx) = fresh.by_pci.get(&alloc.pci) else {
                orphans.push(alloc);
                continue;
            };
            let idx = idx as usize;
            if let Some(held) = &fresh.slots[idx] {
                return Err(Error::OwnedByOther {
                    pci: alloc.pci,
                    owner: held.owner.clone(),
                    requester: alloc.owner.clone(),
                });
            }
            if let Some(&other) = fresh.by_owner.get(&alloc.owner) {
                return Err(Error::OwnerHoldsOther {
                    owner: alloc.owner.clone(),
                    held: fresh.vfs[other as usize].pci,
                    selector: Selector::Pci(alloc.pci),
                });
            }
            fresh.free.clear(idx);
            fresh.by_owner.insert(alloc.owner.clone(), idx as u32);
            fresh.slots[idx] = Some(alloc);
        }
        *self = fresh;
        Ok(orphans)
    }

    /// The index of the first free VF matching `selector`; `requester` is who asks (named in
    /// the error when the VF asked for by address is held).
    fn find_free(&self, selector: Selector, requester: &Owner) -> Result<usize> {
        let found = match selector {
            Selector::Any => self.free.first_in(0, self.vfs.len()),
            Selector::Pf(pf) => self
                .pf_ranges
                .binary_search_by_key(&pf, |r| r.0)
                .ok()
                .and_then(|i| {
                    let (_, start, end) = self.pf_ranges[i];
                    self.free.first_in(start as usize, end as usize)
                }),
            Selector::Numa(node) => self
                .numa_masks
                .iter()
                .find(|(n, _, _)| *n == node)
                .and_then(|(_, start, mask)| self.free.first_and(mask, *start)),
            Selector::Pci(pci) => {
                let idx = *self.by_pci.get(&pci).ok_or(Error::UnknownVf { pci })? as usize;
                match &self.slots[idx] {
                    Some(held) => {
                        return Err(Error::OwnedByOther {
                            pci,
                            owner: held.owner.clone(),
                            requester: requester.clone(),
                        });
                    }
                    None => self.free.get(idx).then_some(idx),
                }
            }
        };
        found.ok_or(Error::NoFreeVf { selector })
    }

    fn clone_shape(&self) -> VfPool {
        let mut free = Bitset::new(self.vfs.len());
        (0..self.vfs.len()).for_each(|i| free.set(i));
        VfPool {
            vfs: self.vfs.clone(),
            slots: Vec::new(),
            free,
            by_pci: self.by_pci.clone(),
            by_owner: HashMap::default(),
            pf_ranges: self.pf_ranges.clone(),
            numa_masks: self.numa_masks.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    fn owner(container: &str) -> Owner {
        Owner::attachment(container, "net1").unwrap()
    }

    use super::*;

    fn pool() -> VfPool {
        let pf0: PciAddress = "0000:3b:00.0".parse().unwrap();
        let pf1: PciAddress = "0000:3b:00.1".parse().unwrap();
        let mut vfs = Vec::new();
        for i in 0..70 {
            vfs.push(PoolVf {
                pci: pf0.vf_address(2, 1, i).unwrap(),
                pf: pf0,
                numa_node: Some(0),
            });
            vfs.push(PoolVf {
                pci: pf1.vf_address(130, 1, i).unwrap(),
                pf: pf1,
                numa_node: Some(1),
            });
        }
        VfPool::new(vfs).unwrap()
    }

    #[test]
    fn selectors_pick_matching_vfs() {
        let mut p = pool();
        let pf1: PciAddress = "0000:3b:00.1".parse().unwrap();
        let a = p.allocate(Selector::Pf(pf1), &owner("a")).unwrap();
        assert_eq!(p.allocation(a).unwrap().owner.container_id(), "a");
        assert_eq!(p.vfs().iter().find(|v| v.pci == a).unwrap().pf, pf1);
        let b = p.allocate(Selector::Numa(0), &owner("b")).unwrap();
        assert_eq!(
            p.vfs().iter().find(|v| v.pci == b).unwrap().numa_node,
            Some(0)
        );
        assert!(matches!(
            p.allocate(Selector::Numa(7), &owner("c")),
            Err(Error::NoFreeVf { .. })
        ));
        assert!(matches!(
            p.allocate(Selector::Pci(a), &owner("d")),
            Err(Error::OwnedByOther { .. })
        ));
        assert!(matches!(
            p.allocate(Selector::Pf(pf1), &owner("b")),
            Err(Error::OwnerHoldsOther { .. })
        ));
    }

    #[test]
    fn pf_and_numa_exhaustion_cross_word_boundaries() {
        let mut p = pool();
        for i in 0..70 {
            p.allocate(Selector::Numa(1), &owner(&format!("n{i}")))
                .unwrap();
        }
        assert!(matches!(
            p.allocate(Selector::Numa(1), &owner("x")),
            Err(Error::NoFreeVf { .. })
        ));
        assert_eq!(p.free_count(), 70);
        for i in 0..70 {
            p.allocate(Selector::Any, &owner(&format!("a{i}"))).unwrap();
        }
        assert!(matches!(
            p.allocate(Selector::Any, &owner("x")),
            Err(Error::NoFreeVf { .. })
        ));
    }

    #[test]
    fn release_checks_the_owner() {
        let mut p = pool();
        let old = owner("old-pod");
        let vf = p.allocate(Selector::Any, &old).unwrap();
        p.release(vf, &old).unwrap();
        let new = owner("new-pod");
        assert_eq!(p.allocate(Selector::Pci(vf), &new).unwrap(), vf);
        // the old pod's late DEL must not free the new pod's VF
        assert!(matches!(
            p.release(vf, &old),
            Err(Error::OwnedByOther { .. })
        ));
        assert!(p.release(vf, &new).is_ok());
        assert!(matches!(
            p.release(vf, &new),
            Err(Error::NotAllocated { .. })
        ));
    }

    #[test]
    fn restore_keeps_orphans_and_rejects_doubles() {
        let mut p = pool();
        let vf = p.vfs()[3].pci;
        let ghost: PciAddress = "0000:99:00.2".parse().unwrap();
        let orphans = p
            .restore([
                Allocation {
                    pci: vf,
                    owner: owner("x"),
                    saved: None,
                    intent: None,
                },
                Allocation {
                    pci: ghost,
                    owner: owner("y"),
                    saved: None,
                    intent: None,
                },
            ])
            .unwrap();
        assert_eq!(orphans.len(), 1);
        assert_eq!(p.held_by(&owner("x")).unwrap().pci, vf);
        assert_eq!(p.free_count(), p.len() - 1);
        let twice = [
            Allocation {
                pci: vf,
                owner: owner("x"),
                saved: None,
                intent: None,
            },
            Allocation {
                pci: vf,
                owner: owner("z"),
                saved: None,
                intent: None,
            },
        ];
        assert!(p.restore(twice).is_err());
    }

    #[test]
    fn duplicate_inventory_is_rejected() {
        let pf: PciAddress = "0000:3b:00.0".parse().unwrap();
        let vf = PoolVf {
            pci: pf.vf_address(2, 1, 0).unwrap(),
            pf,
            numa_node: None,
        };
        assert!(matches!(
            VfPool::new([vf, vf]),
            Err(Error::DuplicateVf { .. })
        ));
    }
}
