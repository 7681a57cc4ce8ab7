//! The mapping's conformance suite: one set of checks of RDMA discovery (device -> PCI function,
//! port -> netdev by the ibdev2netdev rules, char devices, GUIDs) run on the simulator's views,
//! on the same views rendered to disk and read through the real `FsSysfs`, and on the real
//! captured trees in `testbed/fixtures/sysfs` (a ConnectX-3 in InfiniBand mode with IPoIB `ib0`,
//! rdma-core's minimal mlx5 tree, and a partial capture).

mod common;

use std::path::Path;

use common::check_view;
use rdma_dev::attrs::{LinkLayer, PhysState, PortState};
use rdma_dev::{MatchRule, discover_rdma, ibdev2netdev};
use sriov_core::{FsSysfs, NetOps, Netns, RdmaNetnsMode, RdmaOps};
use sysfs_sim::SimHost;

/// The same checks on the simulator and on its rendered copy.
fn check_both(host: &SimHost, ns: &Netns, what: &str) {
    check_view(
        host,
        ns,
        &host.sysfs_in(ns).unwrap(),
        &format!("{what} (simulator)"),
    );
    let dir = testbed::scratch_dir().unwrap();
    host.render(dir.path(), ns).unwrap();
    check_view(
        host,
        ns,
        &FsSysfs::new(dir.path()),
        &format!("{what} (rendered)"),
    );
}

/// The reference worker with two pods: VF netdevs moved and renamed `net1`, one RDMA device
/// moved along (exclusive mode), PFs up.
fn reference_with_pods(mode: RdmaNetnsMode) -> (SimHost, Vec<Netns>) {
    let host = sysfs_sim::Preset::Reference.build(9).unwrap();
    let (net, rdma) = (host.net_ops(), host.rdma_ops());
    rdma.set_netns_mode(mode).unwrap();
    net.set_link_up(&Netns::Host, "ens2f0", true).unwrap();
    let mut pods = Vec::new();
    for (i, vf) in [(1, "ens2f0v3"), (2, "ens2f0v6")] {
        let pod = host.add_netns(&format!("pod-{i}")).unwrap();
        net.move_link(&Netns::Host, vf, &pod).unwrap();
        net.rename_link(&pod, vf, "net1").unwrap();
        net.set_link_up(&pod, "net1", true).unwrap();
        pods.push(pod);
    }
    if mode == RdmaNetnsMode::Exclusive {
        let vf = "0000:3b:00.5".parse().unwrap();
        rdma_dev::move_function_device(&rdma, &host.sysfs(), vf, &Netns::Host, &pods[0]).unwrap();
    }
    (host, pods)
}

#[test]
fn simulated_and_rendered_fresh_hosts() {
    for preset in [sysfs_sim::Preset::Reference, sysfs_sim::Preset::Mixed] {
        let host = preset.build(4).unwrap();
        check_both(&host, &Netns::Host, preset.name());
    }
}

#[test]
fn simulated_and_rendered_pods_in_shared_mode() {
    let (host, pods) = reference_with_pods(RdmaNetnsMode::Shared);
    check_both(&host, &Netns::Host, "host, shared");
    for pod in &pods {
        check_both(&host, pod, "pod, shared");
    }
    // in the pod, every device is listed, and only its own VF's port has a present netdev
    let lines = ibdev2netdev(&host.sysfs_in(&pods[0]).unwrap(), rdma_dev::Detail::Brief).unwrap();
    let up: Vec<String> = lines
        .iter()
        .filter(|l| l.up)
        .map(ToString::to_string)
        .collect();
    assert_eq!(up, ["mlx5_5 port 1 ==> net1 (Up)"]);
}

#[test]
fn simulated_and_rendered_pods_in_exclusive_mode() {
    let (host, pods) = reference_with_pods(RdmaNetnsMode::Exclusive);
    check_both(&host, &Netns::Host, "host, exclusive");
    for pod in &pods {
        check_both(&host, pod, "pod, exclusive");
    }
    let lines: Vec<String> =
        ibdev2netdev(&host.sysfs_in(&pods[0]).unwrap(), rdma_dev::Detail::Brief)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
    assert_eq!(lines, ["mlx5_5 port 1 ==> net1 (Up)"]);
    // pod-2's netdev moved but its RDMA device did not: the pod sees no RDMA device
    assert!(
        discover_rdma(&host.sysfs_in(&pods[1]).unwrap())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_namesake_netdev_is_not_taken_for_the_ports_own() {
    // shared mode: mlx5_5's netdev is net1 in a pod; the host renames another VF's netdev to
    // net1. The host's view must not map mlx5_5 to the host's net1.
    let (host, _pods) = reference_with_pods(RdmaNetnsMode::Shared);
    host.net_ops()
        .rename_link(&Netns::Host, "ens2f0v0", "net1")
        .unwrap();
    check_both(&host, &Netns::Host, "namesake");
    let devs = discover_rdma(&host.sysfs()).unwrap();
    let mlx5_5 = devs.iter().find(|d| d.name == "mlx5_5").unwrap();
    assert_eq!(mlx5_5.ports[0].netdevs[0].name, "net1");
    assert!(!mlx5_5.ports[0].netdevs[0].present);
    let mlx5_2 = devs.iter().find(|d| d.name == "mlx5_2").unwrap();
    assert!(mlx5_2.ports[0].netdevs[0].present);
}

#[test]
fn real_infiniband_fixture_maps_ipoib_by_port_guid() {
    let dir = testbed::fixtures::materialize("hwloc-2013-mlx4-ib-qdr").unwrap();
    let fs = FsSysfs::new(dir.path());
    let devs = discover_rdma(&fs).unwrap();
    assert_eq!(devs.len(), 1);
    let d = &devs[0];
    assert_eq!(d.name, "mlx4_0");
    assert_eq!(d.pci.unwrap().to_string(), "0000:82:00.0");
    assert_eq!(d.node_guid, Some("0002:c903:00f9:bfa0".parse().unwrap()));
    assert_eq!(
        d.sys_image_guid,
        Some("0002:c903:00f9:bfa3".parse().unwrap())
    );
    assert_eq!(d.fw_ver.as_deref(), Some("2.11.500"));
    assert_eq!(d.hca_type.as_deref(), Some("MT4099"));
    let p = &d.ports[0];
    assert_eq!(p.number, 1);
    assert_eq!(p.state, Some(PortState::Active));
    assert_eq!(p.phys_state, Some(PhysState::LinkUp));
    assert_eq!(p.link_layer, Some(LinkLayer::InfiniBand));
    assert_eq!(p.rate.as_deref(), Some("56 Gb/sec (4X FDR)"));
    assert_eq!(p.netdevs.len(), 1);
    assert_eq!(p.netdevs[0].name, "ib0");
    assert_eq!(p.netdevs[0].rule, MatchRule::IpoibGuid);
    assert!(p.netdevs[0].present && p.netdevs[0].up);
    let chars: Vec<String> = d
        .char_devices
        .iter()
        .map(|c| format!("{} {}", c.name, c.dev.unwrap()))
        .collect();
    assert_eq!(chars, ["uverbs0 231:192", "umad0 231:0", "issm0 231:64"]);
    let lines: Vec<String> = ibdev2netdev(&fs, rdma_dev::Detail::Verbose)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "0000:82:00.0 mlx4_0 (MT4099 - DEL0A30000019) ConnectX-3 fw 2.11.500 port 1 (ACTIVE) ==> ib0 (Up)"
        ]
    );
}

#[test]
fn ipoib_child_interfaces_share_the_port() {
    // add a P_Key child of ib0 (same port GUID, another QPN) and an unrelated IPoIB netdev
    let dir = testbed::fixtures::materialize("hwloc-2013-mlx4-ib-qdr").unwrap();
    let net = dir.path().join("sys/class/net");
    for (name, addr) in [
        (
            "ib0.8001",
            "80:00:00:49:fe:80:00:00:00:00:00:00:00:02:c9:03:00:f9:bf:a1",
        ),
        (
            "ib9",
            "80:00:00:48:fe:80:00:00:00:00:00:00:00:02:c9:03:00:f9:bf:a2",
        ),
    ] {
        let d = net.join(name);
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("type"), "32\n").unwrap();
        std::fs::write(d.join("address"), format!("{addr}\n")).unwrap();
        std::fs::write(d.join("operstate"), "down\n").unwrap();
    }
    let lines: Vec<String> = ibdev2netdev(&FsSysfs::new(dir.path()), rdma_dev::Detail::Brief)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "mlx4_0 port 1 ==> ib0 (Up)",
            "mlx4_0 port 1 ==> ib0.8001 (Down)"
        ]
    );
}

#[test]
fn without_gid_attrs_the_same_functions_netdev_by_port_number() {
    // an old kernel: no gid_attrs; a dual-port mlx4 with one netdev per port (dev_id)
    let dir = testbed::fixtures::materialize("hwloc-2013-mlx4-ib-qdr").unwrap();
    let root = dir
        .path()
        .join("sys/devices/pci0000:80/0000:80:02.2/0000:82:00.0");
    let ports = root.join("infiniband/mlx4_0/ports");
    std::fs::write(ports.join("1/link_layer"), "Ethernet\n").unwrap();
    std::fs::create_dir_all(ports.join("2")).unwrap();
    std::fs::write(ports.join("2/link_layer"), "Ethernet\n").unwrap();
    std::fs::write(ports.join("2/state"), "1: DOWN\n").unwrap();
    // an Ethernet-mode card has no IPoIB netdev
    std::fs::remove_dir_all(root.join("net/ib0")).unwrap();
    std::fs::remove_file(dir.path().join("sys/class/net/ib0")).unwrap();
    for (name, dev_id, state) in [("eth2", "0x0", "up"), ("eth3", "0x1", "down")] {
        let d = root.join("net").join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("dev_id"), format!("{dev_id}\n")).unwrap();
        std::fs::write(d.join("dev_port"), "0\n").unwrap();
        std::fs::write(d.join("operstate"), format!("{state}\n")).unwrap();
        std::os::unix::fs::symlink(
            format!("../../devices/pci0000:80/0000:80:02.2/0000:82:00.0/net/{name}"),
            dir.path().join("sys/class/net").join(name),
        )
        .unwrap();
    }
    let fs = FsSysfs::new(dir.path());
    let lines: Vec<String> = ibdev2netdev(&fs, rdma_dev::Detail::Brief)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "mlx4_0 port 1 ==> eth2 (Up)",
            "mlx4_0 port 2 ==> eth3 (Down)"
        ]
    );
    let devs = discover_rdma(&fs).unwrap();
    assert_eq!(devs[0].ports[1].netdevs[0].rule, MatchRule::SamePciFunction);
}

#[test]
fn rdma_core_minimal_fixture() {
    let dir = testbed::fixtures::materialize("rdma-core-minimal-mlx5").unwrap();
    let fs = FsSysfs::new(dir.path());
    let devs = discover_rdma(&fs).unwrap();
    assert_eq!(devs.len(), 1);
    let d = &devs[0];
    assert_eq!(d.pci.unwrap().to_string(), "0000:03:00.0");
    assert_eq!(d.node_guid.unwrap().to_hex(), "b8599f0300d4e6ea");
    let nd = &d.ports[0].netdevs[0];
    // named by gid_attrs, absent from this capture
    assert_eq!(
        (nd.name.as_str(), nd.rule, nd.present),
        ("ens1f0np0", MatchRule::GidNdev, false)
    );
    assert_eq!(d.char_devices.len(), 3);
    assert_eq!(
        ibdev2netdev(&fs, rdma_dev::Detail::Brief).unwrap()[0].to_string(),
        "mlx5_0 port 1 ==> ens1f0np0 (Down)"
    );
    assert!(rdma_dev::rdma_cm(&fs).unwrap().is_none());
}

#[test]
fn partial_capture_reads_what_is_there() {
    // class/infiniband entries are plain directories, without device links, GUIDs or GIDs
    let dir = testbed::fixtures::materialize("procfs-ice-e810-and-ib").unwrap();
    let fs = FsSysfs::new(dir.path());
    let devs = discover_rdma(&fs).unwrap();
    let names: Vec<&str> = devs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["mlx4_0", "mlx5_0"]);
    assert_eq!(devs[0].pci, None);
    assert_eq!(devs[0].node_guid, None);
    assert_eq!(devs[0].ports.len(), 2);
    assert!(
        devs[0]
            .ports
            .iter()
            .all(|p| p.is_active() && p.netdevs.is_empty())
    );
    assert_eq!(
        devs[1].node_guid,
        Some("0a7f:bc12:45ef:d23b".parse().unwrap())
    );
    // the capture's hand-edited phys_state: decided by its code
    assert_eq!(
        devs[1].ports[0].phys_state,
        Some(PhysState::PortConfigurationTraining)
    );
    let lines: Vec<String> = ibdev2netdev(&fs, rdma_dev::Detail::Brief)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "mlx4_0 port 1 ==> none (Down)",
            "mlx4_0 port 2 ==> none (Down)",
            "mlx5_0 port 1 ==> none (Down)"
        ]
    );
}

#[test]
fn malformed_values_are_typed_errors_naming_the_path() {
    let dir = testbed::fixtures::materialize("rdma-core-minimal-mlx5").unwrap();
    let guid = dir
        .path()
        .join("sys/devices/pci0000:00/0000:00:03.0/0000:03:00.0/infiniband/mlx5_0/node_guid");
    std::fs::write(&guid, "b859:9f03:00d4\n").unwrap();
    let err = discover_rdma(&FsSysfs::new(dir.path())).unwrap_err();
    match err {
        rdma_dev::Error::ParseAttr { path, .. } => {
            assert_eq!(path, Path::new("/sys/class/infiniband/mlx5_0/node_guid"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_host_without_rdma_has_no_devices() {
    let dir = testbed::scratch_dir().unwrap();
    std::fs::create_dir_all(dir.path().join("sys/class/net")).unwrap();
    let fs = FsSysfs::new(dir.path());
    assert!(discover_rdma(&fs).unwrap().is_empty());
    assert!(
        ibdev2netdev(&fs, rdma_dev::Detail::Verbose)
            .unwrap()
            .is_empty()
    );
    // this machine's own /sys (no InfiniBand here): no error either way
    let _ = discover_rdma(&FsSysfs::host()).unwrap();
}
