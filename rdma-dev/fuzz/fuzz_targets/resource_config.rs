//! A device-plugin resource configuration with arbitrary contents: parsing gives a
//! configuration or a typed error, never a panic; a configuration that parses selects
//! resources from a fixed inventory without any device in two resources, and allocating a
//! resource's devices works.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use rdma_dev::resource::{Candidate, Inventory, RdmaInfo, ResourceConfig, Role, select_resources};
use sriov_core::PciAddress;

fn inventory() -> Inventory {
    let pf = |i: u16| PciAddress::from_routing_id(0, 0x3b00 + i);
    let mut candidates = Vec::new();
    for p in 0..2u16 {
        candidates.push(Candidate {
            pci: pf(p),
            role: Role::Pf { has_vfs: p == 0 },
            vendor: Some(0x15b3),
            device: Some(0x1017),
            driver: Some("mlx5_core".into()),
            numa_node: Some(0),
            netdev: Some(format!("ens2f{p}")),
            pf_netdev: Some(format!("ens2f{p}")),
            link_type: Some("ether".into()),
            rdma: Some(RdmaInfo {
                device: format!("mlx5_{p}"),
                char_devices: Vec::new(),
            }),
        });
    }
    for i in 0..6u16 {
        candidates.push(Candidate {
            pci: pf(2 + i),
            role: Role::Vf {
                pf: pf(0),
                index: u32::from(i),
            },
            vendor: Some(0x15b3),
            device: Some(0x1018),
            driver: (i % 3 != 0).then(|| "mlx5_core".into()),
            numa_node: None,
            netdev: None,
            pf_netdev: Some("ens2f0".into()),
            link_type: Some("ether".into()),
            rdma: (i % 3 != 0).then(|| RdmaInfo {
                device: format!("mlx5_{}", 2 + i),
                char_devices: Vec::new(),
            }),
        });
    }
    Inventory {
        candidates,
        rdma_cm: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = ResourceConfig::parse(text) else {
        return;
    };
    let resources = select_resources(&config, &inventory());
    let mut seen = BTreeSet::new();
    for r in &resources {
        let ids: Vec<&str> = r.devices.iter().map(|d| d.id.as_str()).collect();
        for id in &ids {
            assert!(seen.insert(id.to_string()), "{id} in two resources");
        }
        let a = r.allocate(&ids).unwrap();
        assert_eq!(a.envs.len(), 2);
    }
});
