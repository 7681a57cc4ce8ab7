//! Property tests.
//! - Random registration orders (VFs enabled, disabled, unbound and bound in any order),
//!   renames, MAC changes, link changes, netdev and RDMA-device namespace moves and namespace
//!   deaths never make discovery map an RDMA device to the wrong PCI function or netdev, in any
//!   namespace's view (checked against the simulator's model after every step).
//! - Resource selection is deterministic (independent of the order candidates are listed in)
//!   and a device is never in two resources: it is in the first resource it matches.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use rdma_dev::resource::{
    Candidate, Inventory, PfName, RdmaInfo, ResourceConfig, ResourceSpec, Role, Selectors, matches,
    select_resources,
};
use sriov_core::{MacAddress, NetOps, Netns, PciAddress, RdmaNetnsMode, RdmaOps, Sysfs};
use sysfs_sim::model::{FunctionKind, NetdevKind};
use sysfs_sim::{HostBuilder, NamingScheme, NicModel, NicSpec, PhysicalLink, RdmaNaming, SimHost};

#[derive(Debug, Clone)]
enum Op {
    Enable(usize, u32),
    Disable(usize),
    Unbind(usize),
    Bind(usize),
    Rename(usize, usize),
    MoveNetdev(usize, usize),
    MoveRdma(usize, usize),
    SetUp(usize, bool),
    SetMac(usize, u8),
    Cable(usize, bool),
    RecreatePod(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..3, 1u32..=4).prop_map(|(p, n)| Op::Enable(p, n)),
        1 => (0usize..3).prop_map(Op::Disable),
        2 => (0usize..16).prop_map(Op::Unbind),
        2 => (0usize..16).prop_map(Op::Bind),
        3 => (0usize..16, 0usize..6).prop_map(|(d, n)| Op::Rename(d, n)),
        3 => (0usize..16, 0usize..3).prop_map(|(d, t)| Op::MoveNetdev(d, t)),
        3 => (0usize..16, 0usize..3).prop_map(|(d, t)| Op::MoveRdma(d, t)),
        2 => (0usize..16, any::<bool>()).prop_map(|(d, u)| Op::SetUp(d, u)),
        1 => (0usize..16, any::<u8>()).prop_map(|(d, b)| Op::SetMac(d, b)),
        1 => (0usize..3, any::<bool>()).prop_map(|(p, u)| Op::Cable(p, u)),
        1 => (0usize..2).prop_map(Op::RecreatePod),
    ]
}

const NAMES: [&str; 6] = ["net1", "eth0", "tmp", "ens2f0v1", "dev0", "ens2f1"];

fn build(autoprobe: bool, kernel_names: bool, rdma_core: bool) -> SimHost {
    HostBuilder::new(11)
        .naming(if kernel_names {
            NamingScheme::Kernel
        } else {
            NamingScheme::Systemd
        })
        .rdma_naming(if rdma_core {
            RdmaNaming::RdmaCorePci
        } else {
            RdmaNaming::Kernel
        })
        .nic(
            NicSpec::new(NicModel::connectx5(), "0000:3b:00.0".parse().unwrap())
                .ports(2)
                .names(["ens2f0", "ens2f1"])
                .total_vfs(4)
                .autoprobe(autoprobe),
        )
        .nic(
            NicSpec::new(NicModel::connectx6_dx(), "0000:86:00.0".parse().unwrap())
                .names(["ens3f0np0"])
                .total_vfs(4),
        )
        .build()
        .unwrap()
}

const PFS: [&str; 3] = ["0000:3b:00.0", "0000:3b:00.1", "0000:86:00.0"];

/// The PCI netdevs (ifindex, name, namespace) in ifindex order.
fn pci_netdevs(host: &SimHost) -> Vec<(String, u32, PciAddress)> {
    let m = host.model();
    m.netdevs
        .values()
        .filter_map(|d| match d.kind {
            NetdevKind::Pci(pci) => Some((d.name.clone(), d.ns, pci)),
            _ => None,
        })
        .collect()
}

fn ns_handle(host: &SimHost, id: u32) -> Netns {
    if id == 0 {
        return Netns::Host;
    }
    host.model()
        .namespaces
        .get(&id)
        .and_then(|n| n.path.clone())
        .map_or(Netns::Host, Netns::Path)
}

fn apply(host: &SimHost, pods: &[Netns], op: &Op) {
    let fs = host.sysfs();
    let net = host.net_ops();
    let rdma = host.rdma_ops();
    let targets = [Netns::Host, pods[0].clone(), pods[1].clone()];
    let model = host.model();
    let vfs: Vec<PciAddress> = model
        .functions
        .values()
        .filter(|f| matches!(f.kind, FunctionKind::Vf { .. }))
        .map(|f| f.pci)
        .collect();
    match op {
        Op::Enable(p, n) => {
            let path = format!("/sys/bus/pci/devices/{}/sriov_numvfs", PFS[*p]);
            let _ = fs.write(Path::new(&path), &n.to_string());
        }
        Op::Disable(p) => {
            let path = format!("/sys/bus/pci/devices/{}/sriov_numvfs", PFS[*p]);
            let _ = fs.write(Path::new(&path), "0");
        }
        Op::Unbind(i) | Op::Bind(i) => {
            if vfs.is_empty() {
                return;
            }
            let vf = vfs[i % vfs.len()];
            let knob = if matches!(op, Op::Unbind(_)) {
                "unbind"
            } else {
                "bind"
            };
            let path = format!("/sys/bus/pci/drivers/mlx5_core/{knob}");
            let _ = fs.write(Path::new(&path), &vf.to_string());
        }
        Op::Rename(d, n) => {
            let devs = pci_netdevs(host);
            if let Some((name, ns, _)) = devs.get(d % devs.len().max(1)) {
                let ns = ns_handle(host, *ns);
                let _ = net.set_link_up(&ns, name, false);
                let _ = net.rename_link(&ns, name, NAMES[*n]);
            }
        }
        Op::MoveNetdev(d, t) => {
            let devs = pci_netdevs(host);
            if let Some((name, ns, _)) = devs.get(d % devs.len().max(1)) {
                let _ = net.move_link(&ns_handle(host, *ns), name, &targets[*t]);
            }
        }
        Op::MoveRdma(d, t) => {
            let devs: Vec<(String, u32)> = model
                .rdma
                .devices
                .values()
                .map(|r| (r.name.clone(), r.ns))
                .collect();
            if let Some((name, ns)) = devs.get(d % devs.len().max(1)) {
                let _ = rdma.move_device(&ns_handle(host, *ns), name, &targets[*t]);
            }
        }
        Op::SetUp(d, up) => {
            let devs = pci_netdevs(host);
            if let Some((name, ns, _)) = devs.get(d % devs.len().max(1)) {
                let _ = net.set_link_up(&ns_handle(host, *ns), name, *up);
            }
        }
        Op::SetMac(d, b) => {
            let devs = pci_netdevs(host);
            if let Some((name, ns, _)) = devs.get(d % devs.len().max(1)) {
                let mac = MacAddress([0x02, 0, 0, 0, *b, 1]);
                let _ = net.set_link_mac(&ns_handle(host, *ns), name, mac);
            }
        }
        Op::Cable(p, up) => {
            let link = if *up {
                PhysicalLink::Up
            } else {
                PhysicalLink::Down
            };
            let _ = host.set_physical_link(PFS[*p].parse().unwrap(), link);
        }
        Op::RecreatePod(k) => {
            host.del_netns(&pods[*k]).unwrap();
            let Netns::Path(path) = &pods[*k] else {
                return;
            };
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            host.add_netns(&name).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn devices_never_map_to_the_wrong_netdev(
        autoprobe in prop::bool::weighted(0.8),
        kernel_names: bool,
        rdma_core_names: bool,
        exclusive: bool,
        ops in proptest::collection::vec(op(), 1..24),
    ) {
        let host = build(autoprobe, kernel_names, rdma_core_names);
        if exclusive {
            host.rdma_ops().set_netns_mode(RdmaNetnsMode::Exclusive).unwrap();
        }
        let pods = vec![host.add_netns("pod-a").unwrap(), host.add_netns("pod-b").unwrap()];
        for op in &ops {
            apply(&host, &pods, op);
            for ns in [Netns::Host, pods[0].clone(), pods[1].clone()] {
                let fs = host.sysfs_in(&ns).unwrap();
                common::check_view(&host, &ns, &fs, &format!("after {op:?}"));
            }
        }
        // the model's own invariant: one RDMA device per mlx5 function with a driver
        let m = host.model();
        let with_driver: BTreeSet<PciAddress> = m
            .functions
            .values()
            .filter(|f| f.driver.is_some() && m.is_mlx5(f.pci))
            .map(|f| f.pci)
            .collect();
        let registered: BTreeSet<PciAddress> = m.rdma.devices.keys().copied().collect();
        prop_assert_eq!(with_driver, registered);
        let names: BTreeSet<&String> = m.rdma.devices.values().map(|d| &d.name).collect();
        prop_assert_eq!(names.len(), m.rdma.devices.len(), "names are unique");
    }
}

fn candidate() -> impl Strategy<Value = Candidate> {
    (
        0u8..24,
        prop_oneof![Just(None), (0u8..3).prop_map(Some)],
        0u32..6,
        prop::sample::select(vec![0x15b3u16, 0x8086]),
        prop::sample::select(vec![0x1017u16, 0x1018, 0x101e, 0x1889]),
        prop::option::of(prop::sample::select(vec!["mlx5_core", "iavf", "ice"])),
        prop::option::of(prop::sample::select(vec!["ens1f0", "ens1f1", "ens2f0"])),
        prop::option::of(prop::sample::select(vec!["ether", "infiniband"])),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(slot, pf_slot, index, vendor, device, driver, pf_netdev, link, rdma, has_vfs)| {
                let pci = PciAddress::from_routing_id(0, 0x3b00 + u16::from(slot));
                let role = match pf_slot {
                    Some(p) => Role::Vf {
                        pf: PciAddress::from_routing_id(0, 0x3b00 + u16::from(p)),
                        index,
                    },
                    None => Role::Pf { has_vfs },
                };
                Candidate {
                    pci,
                    role,
                    vendor: Some(vendor),
                    device: Some(device),
                    driver: driver.map(String::from),
                    numa_node: Some(0),
                    netdev: None,
                    pf_netdev: pf_netdev.map(String::from),
                    link_type: link.map(String::from),
                    rdma: rdma.then(|| RdmaInfo {
                        device: format!("mlx5_{slot}"),
                        char_devices: Vec::new(),
                    }),
                }
            },
        )
}

fn selectors() -> impl Strategy<Value = Selectors> {
    (
        prop::option::of(prop::sample::select(vec![0x15b3u16, 0x8086])),
        prop::option::of(prop::sample::select(vec![0x1017u16, 0x1018, 0x101e])),
        prop::option::of(prop::sample::select(vec!["mlx5_core", "iavf"])),
        prop::option::of((
            prop::sample::select(vec!["ens1f0", "ens1f1", "ens2f0"]),
            prop::option::of((0u32..4, 0u32..4)),
        )),
        prop::option::of(prop::sample::select(vec!["ether", "infiniband"])),
        prop::option::of(any::<bool>()),
        prop::option::of(0u8..24),
    )
        .prop_map(
            |(vendor, device, driver, pf, link, is_rdma, addr)| Selectors {
                vendors: vendor.into_iter().collect(),
                devices: device.into_iter().collect(),
                drivers: driver.into_iter().map(String::from).collect(),
                pf_names: pf
                    .into_iter()
                    .map(|(name, range)| PfName {
                        pf: name.to_string(),
                        vfs: range.map(|(a, b)| vec![a.min(b)..=a.max(b)]),
                    })
                    .collect(),
                root_devices: Vec::new(),
                pci_addresses: addr
                    .into_iter()
                    .map(|s| PciAddress::from_routing_id(0, 0x3b00 + u16::from(s)))
                    .collect(),
                link_types: link.into_iter().map(String::from).collect(),
                is_rdma,
            },
        )
}

fn config() -> impl Strategy<Value = Vec<ResourceSpec>> {
    proptest::collection::vec(proptest::collection::vec(selectors(), 1..3), 1..5).prop_map(
        |specs| {
            specs
                .into_iter()
                .enumerate()
                .map(|(i, selectors)| ResourceSpec {
                    name: format!("res{i}"),
                    prefix: "rdma".into(),
                    selectors,
                })
                .collect()
        },
    )
}

proptest! {
    #[test]
    fn selection_is_deterministic_and_disjoint(
        candidates in proptest::collection::vec(candidate(), 0..30),
        specs in config(),
    ) {
        // one candidate per address, as discovery gives
        let mut seen = BTreeSet::new();
        let candidates: Vec<Candidate> =
            candidates.into_iter().filter(|c| seen.insert(c.pci)).collect();
        let cfg = ResourceConfig::List(specs.clone());
        let inv = Inventory { candidates: candidates.clone(), rdma_cm: None };
        let first = select_resources(&cfg, &inv);
        prop_assert_eq!(&first, &select_resources(&cfg, &inv));
        let mut reversed = candidates.clone();
        reversed.reverse();
        let inv_rev = Inventory { candidates: reversed, rdma_cm: None };
        prop_assert_eq!(&first, &select_resources(&cfg, &inv_rev));

        let mut owner = std::collections::BTreeMap::new();
        for (i, res) in first.iter().enumerate() {
            prop_assert_eq!(&res.name, &specs[i].full_name());
            for dev in &res.devices {
                prop_assert!(owner.insert(dev.pci, i).is_none(), "{} in two resources", dev.id);
                prop_assert_eq!(&dev.id, &dev.pci.to_string());
                let c = candidates.iter().find(|c| c.pci == dev.pci).unwrap();
                prop_assert!(specs[i].selectors.iter().any(|s| matches(s, c)));
                for earlier in &specs[..i] {
                    prop_assert!(!earlier.selectors.iter().any(|s| matches(s, c)));
                }
            }
            let ids: Vec<&PciAddress> = res.devices.iter().map(|d| &d.pci).collect();
            let mut sorted = ids.clone();
            sorted.sort();
            prop_assert_eq!(ids, sorted, "devices in PCI order");
        }
        // nothing offerable that matches is left out
        for c in &candidates {
            let offerable = matches!(c.role, Role::Vf { .. } | Role::Pf { has_vfs: false });
            let wanted = specs.iter().any(|s| s.selectors.iter().any(|sel| matches(sel, c)));
            prop_assert_eq!(owner.contains_key(&c.pci), offerable && wanted, "{}", c.pci);
        }
    }
}
