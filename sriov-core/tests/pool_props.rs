//! The VF pool and its ledger under random allocate / release / crash / reload sequences, with
//! two handles on one ledger file (the device plugin's and the CNI plugin's). Against a
//! reference model of confirmed allocations: never a VF to two owners, never a lost VF, a
//! crash leaves exactly the state before or after the interrupted change, and a retried
//! allocation after a crash gets the VF the crash hid.

use std::collections::BTreeMap;

use proptest::prelude::*;
use sriov_core::ledger::PersistentPool;
use sriov_core::pool::{Owner, PoolVf, Selector};
use sriov_core::{Error, PciAddress};
use state_files::fault::{CrashPoint, arm_crash, disarm};

fn inventory() -> Vec<PoolVf> {
    let pf0: PciAddress = "0000:3b:00.0".parse().unwrap();
    let pf1: PciAddress = "0000:3b:00.1".parse().unwrap();
    let mut vfs = Vec::new();
    for i in 0..40 {
        vfs.push(PoolVf {
            pci: pf0.vf_address(2, 1, i).unwrap(),
            pf: pf0,
            numa_node: Some(0),
        });
        vfs.push(PoolVf {
            pci: pf1.vf_address(41, 1, i).unwrap(),
            pf: pf1,
            numa_node: Some(1),
        });
    }
    vfs
}

#[derive(Debug, Clone)]
enum Sel {
    Any,
    Pf(u8),
    Numa(u32),
    Vf(usize),
}

#[derive(Debug, Clone)]
enum Op {
    Allocate {
        handle: usize,
        owner: u8,
        sel: Sel,
    },
    Release {
        handle: usize,
        owner: u8,
        as_other: bool,
    },
    Crash {
        handle: usize,
        point: u8,
        owner: u8,
        sel: Sel,
        release: bool,
    },
    Restart {
        handle: usize,
    },
}

fn sel() -> impl Strategy<Value = Sel> {
    prop_oneof![
        Just(Sel::Any),
        (0u8..2).prop_map(Sel::Pf),
        (0u32..3).prop_map(Sel::Numa),
        (0usize..80).prop_map(Sel::Vf)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0usize..2, 0u8..100, sel()).prop_map(|(handle, owner, sel)| Op::Allocate { handle, owner, sel }),
        3 => (0usize..2, 0u8..100, prop::bool::weighted(0.1)).prop_map(|(handle, owner, as_other)| Op::Release { handle, owner, as_other }),
        2 => (0usize..2, 0u8..4, 0u8..100, sel(), any::<bool>()).prop_map(|(handle, point, owner, sel, release)| Op::Crash { handle, point, owner, sel, release }),
        1 => (0usize..2).prop_map(|handle| Op::Restart { handle }),
    ]
}

fn selector(s: &Sel, inv: &[PoolVf]) -> Selector {
    match s {
        Sel::Any => Selector::Any,
        Sel::Pf(i) => Selector::Pf(inv[*i as usize].pf),
        Sel::Numa(n) => Selector::Numa(*n),
        Sel::Vf(i) => Selector::Pci(inv[*i].pci),
    }
}

fn matches(vf: &PoolVf, s: Selector) -> bool {
    match s {
        Selector::Any => true,
        Selector::Pf(pf) => vf.pf == pf,
        Selector::Numa(n) => vf.numa_node == Some(n),
        Selector::Pci(p) => vf.pci == p,
    }
}

fn owner(i: u8) -> Owner {
    // owners 0..100 map to 12 distinct attachments so owners collide and retry
    Owner::attachment(&format!("pod-{}", i % 12), "net1").unwrap()
}

/// Checks a handle's view against the model of confirmed allocations.
fn check(
    pool: &PersistentPool,
    model: &BTreeMap<Owner, PciAddress>,
    inv: &[PoolVf],
) -> Result<(), TestCaseError> {
    let p = pool.pool();
    let held: BTreeMap<Owner, PciAddress> =
        p.allocations().map(|a| (a.owner.clone(), a.pci)).collect();
    prop_assert_eq!(&held, model);
    let mut vfs: Vec<PciAddress> = held.values().copied().collect();
    vfs.sort();
    vfs.dedup();
    prop_assert_eq!(vfs.len(), held.len(), "a VF held twice");
    prop_assert_eq!(p.free_count() + held.len(), inv.len(), "a VF lost");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn ledger_survives_crashes_and_shares_between_processes(ops in prop::collection::vec(op(), 1..60)) {
        let inv = inventory();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vf-ledger.json");
        let mut handles = [PersistentPool::open(inv.clone(), &path).unwrap(), PersistentPool::open(inv.clone(), &path).unwrap()];
        let mut model: BTreeMap<Owner, PciAddress> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Allocate { handle, owner: o, sel } => {
                    let (who, s) = (owner(o), selector(&sel, &inv));
                    let got = handles[handle].allocate(s, &who);
                    match model.get(&who) {
                        Some(&held) => {
                            let held_vf = inv.iter().find(|v| v.pci == held).unwrap();
                            if matches(held_vf, s) {
                                prop_assert_eq!(got.unwrap(), held, "idempotent allocation");
                            } else {
                                prop_assert!(matches!(got, Err(Error::OwnerHoldsOther { .. })), "{:?}", got);
                            }
                        }
                        None => {
                            let taken: Vec<PciAddress> = model.values().copied().collect();
                            let free_match = inv.iter().any(|v| matches(v, s) && !taken.contains(&v.pci));
                            match got {
                                Ok(pci) => {
                                    prop_assert!(free_match);
                                    let vf = inv.iter().find(|v| v.pci == pci).unwrap();
                                    prop_assert!(matches(vf, s), "{} does not match {:?}", pci, s);
                                    prop_assert!(!taken.contains(&pci), "{} handed out twice", pci);
                                    model.insert(who, pci);
                                }
                                Err(Error::NoFreeVf { .. }) | Err(Error::OwnedByOther { .. }) => prop_assert!(!free_match),
                                Err(e) => return Err(TestCaseError::fail(format!("allocate: {e}"))),
                            }
                        }
                    }
                }
                Op::Release { handle, owner: o, as_other } => {
                    let who = owner(o);
                    let Some(&pci) = model.get(&who) else {
                        prop_assert!(handles[handle].release_owner(&who).unwrap().is_none());
                        continue;
                    };
                    if as_other {
                        // a late DEL of another attachment must not free this VF
                        let got = handles[handle].release(pci, &Owner::attachment("stale-pod", "net1").unwrap());
                        prop_assert!(matches!(got, Err(Error::OwnedByOther { .. })), "{:?}", got);
                    } else {
                        handles[handle].release(pci, &who).unwrap();
                        model.remove(&who);
                    }
                }
                Op::Crash { handle, point, owner: o, sel, release } => {
                    let point = [CrashPoint::BeforeTempWrite, CrashPoint::MidTempWrite, CrashPoint::BeforeRename, CrashPoint::AfterRename][point as usize];
                    let who = owner(o);
                    let held = model.get(&who).copied();
                    // a retried allocation writes nothing, and an absent owner has nothing to
                    // release: nothing to crash in either case
                    if release != held.is_some() {
                        continue;
                    }
                    arm_crash(&path, point);
                    let result = match held {
                        Some(pci) => handles[handle].release(pci, &who).map(|_| ()),
                        None => handles[handle].allocate(selector(&sel, &inv), &who).map(|_| ()),
                    };
                    // the process dies (a crash armed for a write that never came dies with it):
                    // reopen from disk
                    disarm(&path);
                    handles[handle] = PersistentPool::open(inv.clone(), &path).unwrap();
                    match result {
                        Err(Error::Ledger(state_files::Error::InjectedCrash { .. })) => {}
                        Err(Error::NoFreeVf { .. }) | Err(Error::OwnedByOther { .. }) => continue,
                        other => return Err(TestCaseError::fail(format!("crash at {point:?}: {other:?}"))),
                    }
                    let now = handles[handle].pool().held_by(&who).map(|a| a.pci);
                    if point == CrashPoint::AfterRename {
                        // the change is durable though nobody was told: a release is done; an
                        // allocation is there, and the retry returns the same VF
                        if release {
                            prop_assert_eq!(now, None);
                            model.remove(&who);
                        } else {
                            let pci = now.expect("allocation durable after rename");
                            let s = selector(&sel, &inv);
                            prop_assert_eq!(handles[handle].allocate(s, &who).unwrap(), pci);
                            model.insert(who, pci);
                        }
                    } else {
                        prop_assert_eq!(now, model.get(&who).copied(), "crash before rename changes nothing");
                    }
                }
                Op::Restart { handle } => {
                    handles[handle] = PersistentPool::open(inv.clone(), &path).unwrap();
                }
            }
            // both handles agree with the model after their next transaction; check the one
            // reopened from disk, which must equal the model exactly
            let fresh = PersistentPool::open(inv.clone(), &path).unwrap();
            check(&fresh, &model, &inv)?;
        }
        // release everything through the other handle: nothing is lost
        for (who, pci) in model.clone() {
            handles[1].release(pci, &who).unwrap();
        }
        let fresh = PersistentPool::open(inv.clone(), &path).unwrap();
        prop_assert_eq!(fresh.pool().free_count(), inv.len());
    }
}

#[test]
fn a_torn_temporary_file_is_ignored_and_a_corrupt_ledger_is_refused() {
    let inv = inventory();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vf-ledger.json");
    let mut pool = PersistentPool::open(inv.clone(), &path).unwrap();
    let a = pool.allocate(Selector::Any, &owner(1)).unwrap();
    arm_crash(&path, CrashPoint::MidTempWrite);
    assert!(pool.allocate(Selector::Any, &owner(2)).is_err());
    assert!(
        dir.path().join("vf-ledger.json.tmp").exists(),
        "the torn file is left behind"
    );
    let reopened = PersistentPool::open(inv.clone(), &path).unwrap();
    assert_eq!(reopened.pool().held_by(&owner(1)).unwrap().pci, a);
    assert!(reopened.pool().held_by(&owner(2)).is_none());
    std::fs::write(&path, "{\"format\":\"rdma-sriov/vf-ledger\",\"version\":2,\"generation\":3,\"allocations\":[{\"pci\":\"bogus\"").unwrap();
    assert!(matches!(
        PersistentPool::open(inv.clone(), &path),
        Err(Error::LedgerCorrupt { .. })
    ));
    std::fs::write(
        &path,
        "{\"format\":\"something-else\",\"version\":9,\"generation\":3,\"allocations\":[]}",
    )
    .unwrap();
    assert!(matches!(
        PersistentPool::open(inv, &path),
        Err(Error::LedgerCorrupt { .. })
    ));
}

#[test]
fn allocations_of_vanished_vfs_are_kept_as_orphans() {
    let inv = inventory();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vf-ledger.json");
    let last = inv.iter().max_by_key(|v| v.pci).unwrap().pci;
    PersistentPool::open(inv.clone(), &path)
        .unwrap()
        .allocate(Selector::Pci(last), &owner(7))
        .unwrap();
    // VFs were re-enabled with fewer: the allocation stays in the ledger, reported as an orphan
    let fewer: Vec<PoolVf> = inv.iter().copied().filter(|v| v.pci != last).collect();
    let mut pool = PersistentPool::open(fewer.clone(), &path).unwrap();
    assert_eq!(pool.orphans().len(), 1);
    pool.allocate(Selector::Any, &owner(8)).unwrap();
    let back = PersistentPool::open(inv, &path).unwrap();
    assert_eq!(
        back.pool().held_by(&owner(7)).unwrap().pci,
        last,
        "orphan survived other writes"
    );
}
