//! Property tests: preferred allocation, the health state machine, the configuration parser.

use std::collections::{BTreeMap, BTreeSet};

use device_plugin::sriov_dp::config::DaemonConfig;
use device_plugin::sriov_dp::health::{DeviceHealth, Fault, HealthTracker};
use device_plugin::sriov_dp::preferred::{Choosable, Freedom, preferred};
use proptest::prelude::*;
use rdma_dev::resource::ResourceDevice;
use sriov_core::PciAddress;

fn pf(i: u8) -> PciAddress {
    format!("0000:{:02x}:00.0", 0x10 + i).parse().unwrap()
}

fn freedom() -> impl Strategy<Value = Freedom> {
    prop_oneof![6 => Just(Freedom::Free), 1 => Just(Freedom::Unhealthy), 1 => Just(Freedom::Held)]
}

/// Devices `d00`..: a PF, a NUMA node (or none), a freedom each.
fn devices() -> impl Strategy<Value = Vec<Choosable>> {
    prop::collection::vec(
        (0u8..4, prop::option::weighted(0.85, 0u32..3), freedom()),
        0..40,
    )
    .prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (p, numa_node, free))| Choosable {
                id: format!("d{i:02}"),
                pf: pf(p),
                numa_node,
                free,
            })
            .collect()
    })
}

/// Devices, an available subset (shuffled), must-include out of it, a size.
fn question() -> impl Strategy<Value = (Vec<Choosable>, Vec<String>, Vec<String>, usize)> {
    devices()
        .prop_flat_map(|devs| {
            let n = devs.len();
            (
                Just(devs),
                prop::collection::vec(any::<bool>(), n),
                0usize..20,
                any::<u64>(),
            )
        })
        .prop_flat_map(|(devs, pick, size, seed)| {
            let mut available: Vec<String> = devs
                .iter()
                .zip(&pick)
                .filter(|(_, p)| **p)
                .map(|(d, _)| d.id.clone())
                .collect();
            // a deterministic shuffle from the seed
            let mut s = seed;
            for i in (1..available.len()).rev() {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                available.swap(i, (s >> 33) as usize % (i + 1));
            }
            let k = available.len();
            (
                Just(devs),
                Just(available),
                prop::collection::vec(any::<prop::sample::Index>(), 0..4),
                Just(size),
                Just(k),
            )
        })
        .prop_map(|(devs, available, must_idx, size, k)| {
            let mut must: Vec<String> = Vec::new();
            if k > 0 {
                for ix in must_idx {
                    let id = available[ix.index(k)].clone();
                    if !must.contains(&id) && must.len() < size {
                        must.push(id);
                    }
                }
            }
            (devs, available, must, size)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn preferred_allocation_rules((devs, available, must, size) in question()) {
        let out = preferred(&devs, &available, &must, size);
        let by_id: BTreeMap<&str, &Choosable> = devs.iter().map(|d| (d.id.as_str(), d)).collect();
        // must-include first, in order
        prop_assert_eq!(&out[..must.len()], &must[..]);
        // no duplicates; everything proposed is available; nothing else is held or unhealthy
        let set: BTreeSet<&String> = out.iter().collect();
        prop_assert_eq!(set.len(), out.len());
        let rest = &out[must.len()..];
        for id in rest {
            prop_assert!(available.contains(id));
            prop_assert_eq!(by_id[id.as_str()].free, Freedom::Free);
        }
        // as many as asked, when there are that many
        let eligible: BTreeSet<&str> = available
            .iter()
            .filter(|id| !must.contains(id) && by_id[id.as_str()].free == Freedom::Free)
            .map(String::as_str)
            .collect();
        prop_assert_eq!(out.len(), size.max(must.len()).min(must.len() + eligible.len()));
        // the order of the available list does not matter
        let mut reversed = available.clone();
        reversed.reverse();
        prop_assert_eq!(&preferred(&devs, &reversed, &must, size), &out);
        // NUMA: nodes are used one after another, the first one with the most free devices,
        // and a node is used up before the next is touched
        let node_of = |id: &str| by_id[id].numa_node;
        let mut free_per_node: BTreeMap<Option<u32>, usize> = BTreeMap::new();
        for id in &eligible {
            *free_per_node.entry(node_of(id)).or_default() += 1;
        }
        let mut nodes_in_order: Vec<Option<u32>> = Vec::new();
        for id in rest {
            let n = node_of(id);
            if nodes_in_order.last() != Some(&n) {
                prop_assert!(!nodes_in_order.contains(&n), "node {:?} used twice apart: {:?}", n, out);
                nodes_in_order.push(n);
            }
        }
        if let Some(first) = nodes_in_order.first() {
            let most = free_per_node.values().max().copied().unwrap_or(0);
            prop_assert_eq!(free_per_node[first], most);
        }
        for used in nodes_in_order.iter().take(nodes_in_order.len().saturating_sub(1)) {
            let picked = rest.iter().filter(|id| node_of(id) == *used).count();
            prop_assert_eq!(picked, free_per_node[used], "node {:?} left before it was used up", used);
        }
        // PFs: within the first node, with nothing must-included, picks per PF differ by at
        // most one unless the smaller PF ran out
        if must.is_empty()
            && let Some(first) = nodes_in_order.first()
        {
            let mut picks: BTreeMap<PciAddress, usize> = BTreeMap::new();
            let mut free: BTreeMap<PciAddress, usize> = BTreeMap::new();
            for id in eligible.iter().filter(|id| node_of(id) == *first) {
                *free.entry(by_id[id].pf).or_default() += 1;
                picks.entry(by_id[id].pf).or_default();
            }
            for id in rest.iter().filter(|id| node_of(id) == *first) {
                *picks.entry(by_id[id.as_str()].pf).or_default() += 1;
            }
            for (p, n) in &picks {
                for (q, m) in &picks {
                    if *n > m + 1 {
                        prop_assert_eq!(*m, free[q], "PF {} got {} while {} got {} with some left", p, n, q, m);
                    }
                }
            }
        }
    }
}

fn device(i: usize) -> ResourceDevice {
    let pci: PciAddress = format!("0000:3b:00.{i}").parse().unwrap();
    ResourceDevice {
        id: pci.to_string(),
        pci,
        root: "0000:3b:00.0".parse().unwrap(),
        numa_node: Some(0),
        rdma_device: Some(format!("mlx5_{i}")),
        char_devices: Vec::new(),
    }
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::PfLinkDown {
            pf_netdev: Some("ens2f0".into())
        }),
        Just(Fault::PfLinkDown { pf_netdev: None }),
        Just(Fault::VfVanished),
        Just(Fault::DriverUnbound),
        Just(Fault::RdmaDeviceGone),
    ]
}

/// One observation: which of 6 devices are present (some twice), each with faults.
fn observation() -> impl Strategy<Value = Vec<(usize, Vec<Fault>)>> {
    prop::collection::vec((0usize..6, prop::collection::vec(fault(), 0..3)), 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn health_state_machine(steps in prop::collection::vec(observation(), 1..12)) {
        let mut tracker = HealthTracker::default();
        let mut ever: BTreeSet<String> = BTreeSet::new();
        let mut before: BTreeMap<String, DeviceHealth> = BTreeMap::new();
        for step in steps {
            let present: Vec<(ResourceDevice, Vec<Fault>)> = step.iter().map(|(i, f)| (device(*i + 2), f.clone())).collect();
            // the model: the first observation of an ID counts; absent known IDs vanished
            let mut expected: BTreeMap<String, DeviceHealth> = BTreeMap::new();
            for (d, faults) in &present {
                expected.entry(d.id.clone()).or_insert_with(|| DeviceHealth::from_faults(faults.clone()));
            }
            ever.extend(expected.keys().cloned());
            for id in &ever {
                expected.entry(id.clone()).or_insert_with(|| DeviceHealth::Unhealthy(vec![Fault::VfVanished]));
            }
            let changes = tracker.observe(present.clone());
            // state = the model
            let now: BTreeMap<String, DeviceHealth> = tracker.devices().map(|t| (t.device.id.clone(), t.health.clone())).collect();
            prop_assert_eq!(&now, &expected);
            // a transition for exactly the devices whose state changed (or that are new)
            let changed: BTreeSet<String> = changes.iter().map(|c| c.id.clone()).collect();
            let should: BTreeSet<String> = now.iter().filter(|(id, h)| before.get(*id) != Some(*h)).map(|(id, _)| id.clone()).collect();
            prop_assert_eq!(&changed, &should);
            for c in &changes {
                prop_assert_eq!(c.from.as_ref(), before.get(&c.id));
                prop_assert_eq!(&c.to, &now[&c.id]);
            }
            // the kubelet's list: every known device, by ID, Unhealthy exactly when faulty
            let list = tracker.device_list();
            prop_assert_eq!(list.iter().map(|d| d.id.clone()).collect::<Vec<_>>(), now.keys().cloned().collect::<Vec<_>>());
            for d in &list {
                prop_assert_eq!(d.health, now[&d.id].health());
            }
            // observing the same again changes nothing
            prop_assert!(tracker.observe(present).is_empty());
            before = now;
        }
    }
}

fn name() -> impl Strategy<Value = String> {
    "[a-z]([a-z0-9_]{0,10}[a-z0-9])?"
}

fn domain() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z][a-z0-9]{0,6}", 1..3).prop_map(|labels| labels.join("."))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn config_text_never_panics(text in ".{0,200}", prefix in prop::option::of(".{0,20}")) {
        let _ = DaemonConfig::parse(&text, prefix.as_deref());
    }

    #[test]
    fn json_shaped_config_never_panics(
        keys in prop::collection::vec(prop_oneof![Just("mode"), Just("pfNetdevices"), Just("resourceList"),
            Just("resourceName"), Just("resourcePrefix"), Just("selectors"), Just("pfNames"), Just("x")], 0..6),
        values in prop::collection::vec(prop_oneof![Just("\"sriov\""), Just("\"hca\""), Just("[]"), Just("[\"ens2f0#0-3\"]"),
            Just("{}"), Just("[{\"resourceName\":\"a\"}]"), Just("7"), Just("null"), Just("\"\"")], 0..6),
    ) {
        let body: Vec<String> = keys.iter().zip(&values).map(|(k, v)| format!("\"{k}\":{v}")).collect();
        let _ = DaemonConfig::parse(&format!("{{{}}}", body.join(",")), Some("rdma"));
    }

    #[test]
    fn resource_list_names(
        entries in prop::collection::btree_map(name(), prop::option::of(domain()), 1..5),
        cli in prop::option::of(domain()),
    ) {
        let list: Vec<String> = entries
            .iter()
            .map(|(n, p)| match p {
                Some(p) => format!(r#"{{"resourceName":"{n}","resourcePrefix":"{p}"}}"#),
                None => format!(r#"{{"resourceName":"{n}"}}"#),
            })
            .collect();
        let text = format!(r#"{{"resourceList":[{}]}}"#, list.join(","));
        let config = DaemonConfig::parse(&text, cli.as_deref()).unwrap();
        let expected: Vec<String> = entries
            .iter()
            .map(|(n, p)| format!("{}/{n}", p.clone().or_else(|| cli.clone()).unwrap_or_else(|| "intel.com".into())))
            .collect();
        prop_assert_eq!(config.resource_names(), expected);
        prop_assert!(config.pfs_to_enable().is_empty());
    }

    #[test]
    fn seed_config_pfs(pfs in prop::collection::vec("[a-z][a-z0-9]{0,10}", 1..4), prefix in prop::option::of(domain())) {
        let quoted: Vec<String> = pfs.iter().map(|p| format!("\"{p}\"")).collect();
        let text = format!(r#"{{"mode":"sriov","pfNetdevices":[{}]}}"#, quoted.join(","));
        let config = DaemonConfig::parse(&text, prefix.as_deref()).unwrap();
        prop_assert_eq!(config.pfs_to_enable(), &pfs[..]);
        prop_assert_eq!(config.resource_names(), vec![format!("{}/vhca", prefix.unwrap_or_else(|| "rdma".into()))]);
    }

    #[test]
    fn a_prefix_that_is_not_a_domain_is_refused(prefix in "[A-Z_ /]{1,10}|-[a-z]{1,5}|[a-z]{1,5}-|[a-z]+\\.\\.[a-z]+") {
        let parsed = DaemonConfig::parse(r#"{"mode":"hca"}"#, Some(&prefix));
        prop_assert!(parsed.is_err(), "{:?} accepted", prefix);
    }
}
