//! Full discovery of a rendered host with 8 PFs x 127 VFs (the `large` preset) through the real
//! `FsSysfs` backend. Target: under 50 ms. Also the in-memory simulator, for comparison.

use criterion::{Criterion, criterion_group, criterion_main};
use sriov_core::{FsSysfs, Netns, discover};

fn bench(c: &mut Criterion) {
    let host = sysfs_sim::Preset::Large.build(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    host.render(dir.path(), &Netns::Host).unwrap();
    let fs = FsSysfs::new(dir.path());
    let pfs = discover(&fs).unwrap();
    assert_eq!(pfs.len(), 8);
    assert_eq!(pfs.iter().map(|p| p.vfs.len()).sum::<usize>(), 8 * 127);

    let mut group = c.benchmark_group("discovery");
    group.sample_size(30);
    group.bench_function("rendered_8pf_x_127vf", |b| {
        b.iter(|| discover(&fs).unwrap())
    });
    let sim = host.sysfs();
    group.bench_function("simulator_8pf_x_127vf", |b| {
        b.iter(|| discover(&sim).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
