//! The engine's ADD+DEL of one VF on the simulated reference host, with an in-memory ledger
//! (`engine/add_del/memory`, the simulation's setting) and with the durable ledger on a
//! temporary directory (`engine/add_del/durable`, what a node pays: every stage written with
//! `fsync`).

use criterion::{Criterion, criterion_group, criterion_main};
use sriov_cni::engine::AttachRequest;
use sriov_cni::ipam::NoIpam;
use sriov_cni::{Engine, EngineOptions, Host, VfLocking};
use sriov_core::ledger::PersistentPool;
use sriov_core::pool::{Owner, PoolVf, VfPool};
use sriov_core::{PciAddress, VfConfig, VlanConfig, VlanProto};

fn inventory() -> Vec<PoolVf> {
    let pf: PciAddress = "0000:3b:00.0".parse().unwrap();
    (0..8)
        .map(|i| PoolVf {
            pci: pf.vf_address(2, 1, i).unwrap(),
            pf,
            numa_node: Some(0),
        })
        .collect()
}

fn request(pod: &sriov_core::Netns) -> AttachRequest {
    AttachRequest {
        owner: Owner::attachment("bench", "net1").unwrap(),
        netns: pod.clone(),
        vf: inventory()[3].pci,
        config: VfConfig {
            vlan: Some(VlanConfig::new(111, 0, VlanProto::Dot1Q).unwrap()),
            mac: Some("02:00:00:00:11:03".parse().unwrap()),
            spoofchk: Some(true),
            ..VfConfig::default()
        },
    }
}

fn add_del(c: &mut Criterion) {
    let sim = sysfs_sim::Preset::Reference.build(1).unwrap();
    let pod = sim.add_netns("bench-pod").unwrap();
    let req = request(&pod);
    let mut memory = Engine::new(
        Host::simulated(&sim),
        VfPool::new(inventory()).unwrap(),
        EngineOptions::exclusive(),
    );
    c.bench_function("engine/add_del/memory", |b| {
        b.iter(|| {
            memory.add(&req, &mut NoIpam).unwrap();
            memory.del(&req.owner, &mut NoIpam).unwrap();
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let ledger = PersistentPool::open(inventory(), dir.path().join("vf-ledger.json")).unwrap();
    let mut durable = Engine::new(
        Host::simulated(&sim),
        ledger,
        EngineOptions {
            locking: VfLocking::Files(dir.path().join("vf_lock")),
            ..EngineOptions::exclusive()
        },
    );
    c.bench_function("engine/add_del/durable", |b| {
        b.iter(|| {
            durable.add(&req, &mut NoIpam).unwrap();
            durable.del(&req.owner, &mut NoIpam).unwrap();
        })
    });
}

criterion_group!(benches, add_del);
criterion_main!(benches);
