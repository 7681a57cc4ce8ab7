//! `ibdev2netdev` over a rendered host with 8 PFs x 127 VFs (the `large` preset: 1,024 RDMA
//! devices) through the real `FsSysfs` backend, plain and verbose. Target: under 50 ms. Also the
//! full RDMA discovery of the same tree, and the in-memory simulator, for comparison.

use criterion::{Criterion, criterion_group, criterion_main};
use sriov_core::{FsSysfs, Netns};

fn bench(c: &mut Criterion) {
    let host = sysfs_sim::Preset::Large.build(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    host.render(dir.path(), &Netns::Host).unwrap();
    let fs = FsSysfs::new(dir.path());
    let lines = rdma_dev::ibdev2netdev(&fs, rdma_dev::Detail::Brief).unwrap();
    assert_eq!(lines.len(), 8 + 8 * 127);
    assert!(lines.iter().all(|l| l.netdev.is_some()));

    let mut group = c.benchmark_group("ibdev2netdev");
    group.sample_size(30);
    group.bench_function("rendered_8pf_x_127vf", |b| {
        b.iter(|| rdma_dev::ibdev2netdev(&fs, rdma_dev::Detail::Brief).unwrap())
    });
    group.bench_function("rendered_8pf_x_127vf_verbose", |b| {
        b.iter(|| rdma_dev::ibdev2netdev(&fs, rdma_dev::Detail::Verbose).unwrap())
    });
    group.bench_function("discover_rdma_rendered_8pf_x_127vf", |b| {
        b.iter(|| rdma_dev::discover_rdma(&fs).unwrap())
    });
    let sim = host.sysfs();
    group.bench_function("simulator_8pf_x_127vf", |b| {
        b.iter(|| rdma_dev::ibdev2netdev(&sim, rdma_dev::Detail::Brief).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
