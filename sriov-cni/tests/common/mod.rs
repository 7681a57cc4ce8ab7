//! Shared helpers of the engine tests: the reference host's VFs, their original state, and an
//! engine over a sim host and a durable ledger in a temporary directory.
#![allow(dead_code)]

use std::path::Path;

use sriov_cni::{Engine, EngineOptions, Host};
use sriov_core::ledger::PersistentPool;
use sriov_core::pool::{Owner, PoolVf};
use sriov_core::sysfs::paths;
use sriov_core::{MacAddress, NetOps, Netns, PciAddress, VfState};
use sysfs_sim::SimHost;

/// VF `i` of ens2f0 on the reference host.
pub fn vf(i: u32) -> PciAddress {
    let pf: PciAddress = "0000:3b:00.0".parse().unwrap();
    pf.vf_address(2, 1, i as u16).unwrap()
}

/// The 8 VFs of ens2f0 as a pool inventory.
pub fn inventory() -> Vec<PoolVf> {
    let pf: PciAddress = "0000:3b:00.0".parse().unwrap();
    (0..8)
        .map(|i| PoolVf {
            pci: vf(i),
            pf,
            numa_node: Some(0),
        })
        .collect()
}

/// What a free VF must look like: in the host with its name, MAC and MTU, its PF-side entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VfSnapshot {
    pub name: Option<String>,
    pub mac: Option<MacAddress>,
    pub mtu: Option<u32>,
    pub state: VfState,
}

/// VF `i`'s state as the host shows it now.
pub fn snapshot(host: &SimHost, i: u32) -> VfSnapshot {
    let fs = host.sysfs();
    let name = sriov_core::discovery::function_netdev(&fs, &paths::pci_device(&vf(i))).unwrap();
    let net = host.net_ops();
    let link = name.as_ref().and_then(|n| net.link(&Netns::Host, n).ok());
    VfSnapshot {
        name,
        mac: link.as_ref().and_then(|l| l.mac),
        mtu: link.as_ref().map(|l| l.mtu),
        state: net.vfs("ens2f0").unwrap()[i as usize].state,
    }
}

/// Every VF's snapshot.
pub fn snapshots(host: &SimHost) -> Vec<VfSnapshot> {
    (0..8).map(|i| snapshot(host, i)).collect()
}

/// An engine on `host` with the ledger and lock files under `dir` (a fresh process's view).
pub fn engine(host: &SimHost, dir: &Path) -> Engine<PersistentPool> {
    let ledger = PersistentPool::open(inventory(), dir.join("vf-ledger.json")).unwrap();
    Engine::new(
        Host::simulated(host),
        ledger,
        EngineOptions {
            locking: sriov_cni::VfLocking::Files(dir.join("vf_lock")),
            ..EngineOptions::exclusive()
        },
    )
}

/// The attachment `net1` of container `c`.
pub fn owner(c: &str) -> Owner {
    Owner::attachment(c, "net1").unwrap()
}
