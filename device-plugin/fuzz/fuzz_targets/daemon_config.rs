//! rdma-sriov-dp's configuration with arbitrary contents and an arbitrary `--resource-prefix`:
//! parsing gives a configuration or a typed error, never a panic; a configuration that parses
//! names its resources `<domain>/<name>` without repeats, and serves them over a fixed
//! inventory on distinct bare socket file names.
#![no_main]

use std::collections::BTreeSet;

use device_plugin::sriov_dp::config::DaemonConfig;
use libfuzzer_sys::fuzz_target;
use rdma_dev::resource::{Candidate, Inventory, RdmaInfo, Role};
use sriov_core::PciAddress;

fn inventory() -> Inventory {
    let pci = |i: u16| PciAddress::from_routing_id(0, 0x3b00 + i);
    let mut candidates = vec![Candidate {
        pci: pci(0),
        role: Role::Pf { has_vfs: true },
        vendor: Some(0x15b3),
        device: Some(0x1017),
        driver: Some("mlx5_core".into()),
        numa_node: Some(0),
        netdev: Some("ens2f0".into()),
        pf_netdev: Some("ens2f0".into()),
        link_type: Some("ether".into()),
        rdma: Some(RdmaInfo {
            device: "mlx5_0".into(),
            char_devices: Vec::new(),
        }),
    }];
    for i in 0..4u16 {
        candidates.push(Candidate {
            pci: pci(2 + i),
            role: Role::Vf {
                pf: pci(0),
                index: u32::from(i),
            },
            vendor: Some(0x15b3),
            device: Some(0x1018),
            driver: Some("mlx5_core".into()),
            numa_node: Some(0),
            netdev: Some(format!("ens2f0v{i}")),
            pf_netdev: Some("ens2f0".into()),
            link_type: Some("ether".into()),
            rdma: Some(RdmaInfo {
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
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    // the first byte picks the prefix: none, the seed's, or the text's first line
    let (prefix, text) = match selector % 3 {
        0 => (None, text),
        1 => (Some("rdma"), text),
        _ => match text.split_once('\n') {
            Some((p, t)) => (Some(p), t),
            None => (None, text),
        },
    };
    let Ok(config) = DaemonConfig::parse(text, prefix) else {
        return;
    };
    let names = config.resource_names();
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "a resource twice: {names:?}");
    for name in &names {
        let (domain, rest) = name.split_once('/').expect("a domain/name resource");
        assert!(!domain.is_empty() && !rest.is_empty() && !rest.contains('/'), "{name}");
    }
    let served = config.select(&inventory());
    let sockets: BTreeSet<&str> = served.iter().map(|s| s.socket_name.as_str()).collect();
    assert_eq!(sockets.len(), served.len(), "two resources on one socket");
    for s in &sockets {
        assert!(s.ends_with(".sock") && !s.contains('/'), "{s}");
    }
});
