//! VF pool allocate + release: the allocation hot path.
//!
//! - `vf_pool/in_memory/*`: [`VfPool`] with 1,024 VFs (8 PFs x 128 on two NUMA nodes), half of
//!   them already held, so every search crosses allocated words. Target: under 100 ns median.
//! - `vf_pool/durable`: the same through [`PersistentPool`], where every change is written,
//!   fsynced and renamed into place before it is reported (disk-bound; reported for context).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sriov_core::PciAddress;
use sriov_core::ledger::PersistentPool;
use sriov_core::pool::{Owner, PoolVf, Selector, VfPool};

fn inventory() -> Vec<PoolVf> {
    let mut vfs = Vec::with_capacity(1024);
    for p in 0..8u8 {
        let pf = PciAddress::new(0, 0x18 + p * 0x20, 0, 0).unwrap();
        for i in 0..128 {
            vfs.push(PoolVf {
                pci: pf.vf_address(1, 1, i).unwrap(),
                pf,
                numa_node: Some(u32::from(p / 4)),
            });
        }
    }
    vfs
}

fn half_full(inv: &[PoolVf]) -> VfPool {
    let mut pool = VfPool::new(inv.iter().copied()).unwrap();
    for (i, vf) in inv.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        pool.allocate(
            Selector::Pci(vf.pci),
            &Owner::attachment(&format!("held-{i}"), "net1").unwrap(),
        )
        .unwrap();
    }
    pool
}

fn bench(c: &mut Criterion) {
    let inv = inventory();
    let owner = Owner::attachment("3f1c9a2e7b0d4c15a9e8f6b2d1c0e4a7", "net1").unwrap();
    let mut group = c.benchmark_group("vf_pool/in_memory");
    let selectors = [
        ("any", Selector::Any),
        ("by_pf", Selector::Pf(inv[700].pf)),
        ("by_numa", Selector::Numa(1)),
        ("by_pci", Selector::Pci(inv[701].pci)),
    ];
    for (name, selector) in selectors {
        let mut pool = half_full(&inv);
        group.bench_function(format!("allocate_release_1024/{name}"), |b| {
            b.iter(|| {
                let vf = pool
                    .allocate(black_box(selector), black_box(&owner))
                    .unwrap();
                pool.release(vf, &owner).unwrap();
            })
        });
    }
    group.finish();

    let dir = tempfile::tempdir().unwrap();
    let mut durable = PersistentPool::open(inv.clone(), dir.path().join("vf-ledger.json")).unwrap();
    let mut group = c.benchmark_group("vf_pool/durable");
    group.sample_size(20);
    group.bench_function("allocate_release_1024", |b| {
        b.iter(|| {
            let vf = durable.allocate(Selector::Any, &owner).unwrap();
            durable.release(vf, &owner).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
