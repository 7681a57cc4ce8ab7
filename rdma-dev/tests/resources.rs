//! The device-plugin resource model on simulated hosts: resources from the seed's and
//! sriov-network-device-plugin's configurations, health from the host's real state as it
//! changes, and what a container gets for a set of device IDs.

use rdma_dev::resource::{
    Inventory, Problem, Resource, ResourceConfig, Role, device_health, env_name, select_resources,
};
use sriov_core::{LinkState, NetOps, Netns, RdmaNetnsMode, RdmaOps, Sysfs};
use sysfs_sim::{PhysicalLink, SimHost};

fn resources(host: &SimHost, config: &str) -> Vec<Resource> {
    let inv = Inventory::discover(&host.sysfs()).unwrap();
    select_resources(&ResourceConfig::parse(config).unwrap(), &inv)
}

fn ids(r: &Resource) -> Vec<String> {
    r.devices.iter().map(|d| d.id.clone()).collect()
}

const SEED: &str = r#"{"mode":"sriov","pfNetdevices":["ens2f0"]}"#;

#[test]
fn seed_sriov_mode_offers_the_pfs_vfs_by_pci_address() {
    let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    let res = resources(&host, SEED);
    assert_eq!(res.len(), 1);
    let r = &res[0];
    assert_eq!(
        (r.name.as_str(), r.shared, r.requires_rdma),
        ("rdma/vhca", false, true)
    );
    assert_eq!(
        ids(r),
        [
            "0000:3b:00.2",
            "0000:3b:00.3",
            "0000:3b:00.4",
            "0000:3b:00.5",
            "0000:3b:00.6",
            "0000:3b:00.7",
            "0000:3b:01.0",
            "0000:3b:01.1"
        ]
    );
    assert_eq!(r.devices[3].rdma_device.as_deref(), Some("mlx5_5"));
    assert_eq!(r.devices[3].root.to_string(), "0000:3b:00.0");
    assert_eq!(r.devices[3].numa_node, Some(0));
    // the IDs do not change when MACs do
    let net = host.net_ops();
    net.set_vf_mac("ens2f0", 3, sriov_core::MacAddress([2, 1, 2, 3, 4, 5]))
        .unwrap();
    assert_eq!(ids(&resources(&host, SEED)[0]), ids(r));
}

#[test]
fn seed_hca_mode_shares_the_pfs_rdma_devices() {
    let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    let all = &resources(&host, r#"{"mode":"hca"}"#)[0];
    assert_eq!((all.name.as_str(), all.shared), ("rdma/hca", true));
    assert_eq!(ids(all), ["0000:3b:00.0", "0000:3b:00.1"]);
    let one = &resources(&host, r#"{"mode":"hca","pfNetdevices":["ens2f1"]}"#)[0];
    assert_eq!(ids(one), ["0000:3b:00.1"]);
    let a = one.allocate(&["0000:3b:00.1"]).unwrap();
    assert_eq!(a.devices.len(), 4);
    assert_eq!(
        a.devices[0].host_path.to_str(),
        Some("/dev/infiniband/uverbs1")
    );
}

#[test]
fn resource_list_selectors_and_first_match() {
    let host = sysfs_sim::Preset::Mixed.build(1).unwrap();
    let inv = Inventory::discover(&host.sysfs()).unwrap();
    // the mixed host: CX-5 (ens2f0 4 VFs, ens2f1 2 VFs), E810 3 VFs, I350 3 VFs on ens10f0,
    // CX-4 Lx with 2 driverless VFs, an unbound CX-6
    let e810_vfs = inv
        .candidates
        .iter()
        .filter(|c| {
            c.pf_netdev.as_deref() == Some("enp162s0f0np0") && matches!(c.role, Role::Vf { .. })
        })
        .count();
    assert_eq!(e810_vfs, 3);
    let config = r#"{"resourceList":[
        {"resourceName":"low_vfs","resourcePrefix":"rdma","selectors":{"pfNames":["ens2f0#0-1","ens2f1#1"]}},
        {"resourceName":"mlx","resourcePrefix":"nvidia.com","selectors":{"vendors":["15b3"],"drivers":["mlx5_core"],"isRdma":true}},
        {"resourceName":"intel","selectors":[{"devices":["1889"]},{"rootDevices":["0000:45:00.0"]}]},
        {"resourceName":"cx4lx_by_address","resourcePrefix":"rdma","selectors":{"pciAddresses":["0000:5e:00.1"]}},
        {"resourceName":"ether_no_rdma","resourcePrefix":"rdma","selectors":{"linkTypes":["ether"],"isRdma":false}}
    ]}"#;
    let res = select_resources(&ResourceConfig::parse(config).unwrap(), &inv);
    let names: Vec<&str> = res.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "rdma/low_vfs",
            "nvidia.com/mlx",
            "intel.com/intel",
            "rdma/cx4lx_by_address",
            "rdma/ether_no_rdma"
        ]
    );
    assert_eq!(
        ids(&res[0]),
        ["0000:3b:00.2", "0000:3b:00.3", "0000:3b:01.3"],
        "ens2f0 VFs 0-1 and ens2f1 VF 1 (ens2f1's offset is 9: its VFs start at 3b:01.2)"
    );
    // the other mlx5 VFs with RDMA, not those already taken, nor PFs that have VFs; the
    // CX-4 Lx PF has VFs (without drivers), so it is not offered either
    assert_eq!(
        ids(&res[1]),
        ["0000:3b:00.4", "0000:3b:00.5", "0000:3b:01.2"]
    );
    assert_eq!(
        res[2].devices.len(),
        3 + 3,
        "E810 VFs by device, I350 VFs by root"
    );
    assert_eq!(ids(&res[3]), ["0000:5e:00.1"], "a driverless VF by address");
    // ether without RDMA: the CX-4 Lx's other driverless VF, the I350's second PF (no VFs),
    // and the unbound CX-6's PF has no netdev, so no link type
    assert_eq!(ids(&res[4]), ["0000:45:00.1", "0000:5e:00.2"]);
    let mut all: Vec<String> = res.iter().flat_map(ids).collect();
    let before = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), before, "no device in two resources");
}

#[test]
fn health_follows_the_hosts_real_state() {
    let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    let fs = host.sysfs();
    let net = host.net_ops();
    let res = &resources(&host, SEED)[0];
    let dev = res.device("0000:3b:00.4").unwrap();
    let health = |allocated| device_health(&fs, res, dev, allocated).unwrap();
    assert_eq!(
        health(rdma_dev::resource::Allocation::Free).problems,
        [Problem::LinkDown {
            pf_netdev: Some("ens2f0".into())
        }]
    );
    net.set_link_up(&Netns::Host, "ens2f0", true).unwrap();
    assert!(health(rdma_dev::resource::Allocation::Free).is_healthy());
    assert_eq!(
        health(rdma_dev::resource::Allocation::Free).kubelet_str(),
        "Healthy"
    );
    // a VF netdev in use whose link is forced down: netdev and RDMA port
    net.set_link_up(&Netns::Host, "ens2f0v2", true).unwrap();
    assert!(health(rdma_dev::resource::Allocation::Free).is_healthy());
    net.set_vf_link_state("ens2f0", 2, LinkState::Disable)
        .unwrap();
    assert_eq!(
        health(rdma_dev::resource::Allocation::Free).problems,
        [
            Problem::NetdevDown {
                netdev: "ens2f0v2".into()
            },
            Problem::PortNotActive {
                device: "mlx5_4".into(),
                state: Some("DOWN".into())
            }
        ]
    );
    net.set_vf_link_state("ens2f0", 2, LinkState::Auto).unwrap();
    // the cable: every VF loses its link
    host.set_physical_link("0000:3b:00.0".parse().unwrap(), PhysicalLink::Down)
        .unwrap();
    assert!(matches!(
        health(rdma_dev::resource::Allocation::Free).problems[0],
        Problem::LinkDown { .. }
    ));
    host.set_physical_link("0000:3b:00.0".parse().unwrap(), PhysicalLink::Up)
        .unwrap();
    net.set_link_up(&Netns::Host, "ens2f0v2", false).unwrap();
    // the driver goes: no driver, no RDMA device
    fs.write(
        "/sys/bus/pci/drivers/mlx5_core/unbind".as_ref(),
        "0000:3b:00.4",
    )
    .unwrap();
    assert_eq!(
        health(rdma_dev::resource::Allocation::Free).problems,
        [Problem::NoDriver, Problem::NoRdmaDevice]
    );
    fs.write(
        "/sys/bus/pci/drivers/mlx5_core/bind".as_ref(),
        "0000:3b:00.4",
    )
    .unwrap();
    assert!(health(rdma_dev::resource::Allocation::Free).is_healthy());
    // VFs disabled: the function is gone
    fs.write(
        "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs".as_ref(),
        "0",
    )
    .unwrap();
    assert_eq!(
        health(rdma_dev::resource::Allocation::Free).problems,
        [Problem::FunctionMissing]
    );
}

#[test]
fn an_allocated_devices_netdev_and_rdma_device_may_be_in_the_pod() {
    let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    let (fs, net, rdma) = (host.sysfs(), host.net_ops(), host.rdma_ops());
    rdma.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap();
    net.set_link_up(&Netns::Host, "ens2f0", true).unwrap();
    let res = &resources(&host, SEED)[0];
    let dev = res.device("0000:3b:00.5").unwrap();
    let pod = host.add_netns("pod").unwrap();
    net.move_link(&Netns::Host, "ens2f0v3", &pod).unwrap();
    rdma_dev::move_function_device(&rdma, &fs, dev.pci, &Netns::Host, &pod).unwrap();
    assert!(
        device_health(
            &fs,
            res,
            dev,
            rdma_dev::resource::Allocation::HeldByContainer
        )
        .unwrap()
        .is_healthy()
    );
    assert_eq!(
        device_health(&fs, res, dev, rdma_dev::resource::Allocation::Free)
            .unwrap()
            .problems,
        [Problem::NoRdmaDevice],
        "not allocated: a missing RDMA device is a fault"
    );
}

#[test]
fn a_container_gets_exactly_its_devices_and_the_environment() {
    let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    let res = &resources(&host, SEED)[0];
    let a = res.allocate(&["0000:3b:00.5", "0000:3b:01.0"]).unwrap();
    let paths: Vec<String> = a
        .devices
        .iter()
        .map(|d| {
            assert_eq!(d.container_path, d.host_path);
            assert_eq!(d.permissions, "rw");
            d.host_path.display().to_string()
        })
        .collect();
    assert_eq!(
        paths,
        [
            "/dev/infiniband/uverbs5",
            "/dev/infiniband/umad5",
            "/dev/infiniband/issm5",
            "/dev/infiniband/uverbs8",
            "/dev/infiniband/umad8",
            "/dev/infiniband/issm8",
            "/dev/infiniband/rdma_cm"
        ]
    );
    // every path handed out is a char device the host really has
    let nodes: Vec<_> = host.rdma_dev_nodes().into_iter().map(|n| n.path).collect();
    assert!(a.devices.iter().all(|d| nodes.contains(&d.host_path)));
    assert_eq!(a.envs["PCIDEVICE_RDMA_VHCA"], "0000:3b:00.5,0000:3b:01.0");
    let info: serde_json::Value =
        serde_json::from_str(&a.envs["PCIDEVICE_RDMA_VHCA_INFO"]).unwrap();
    assert_eq!(
        info["0000:3b:00.5"],
        serde_json::json!({
            "generic": {"deviceID": "0000:3b:00.5"},
            "rdma": {
                "uverbs": "/dev/infiniband/uverbs5",
                "umad": "/dev/infiniband/umad5",
                "rdma_cm": "/dev/infiniband/rdma_cm",
                "rdma_dev": "mlx5_5"
            }
        })
    );
    assert_eq!(info["0000:3b:01.0"]["rdma"]["rdma_dev"], "mlx5_8");
    assert_eq!(a.envs.len(), 2);
    assert!(matches!(
        res.allocate(&["0000:3b:00.1"]),
        Err(rdma_dev::Error::UnknownDeviceId { .. })
    ));
    assert!(matches!(
        res.allocate(&["0000:3b:00.5", "0000:3b:00.5"]),
        Err(rdma_dev::Error::DuplicateDeviceId { .. })
    ));
    assert_eq!(
        env_name("intel.com/mlnx-sriov"),
        "PCIDEVICE_INTEL_COM_MLNX-SRIOV"
    );
}

#[test]
fn devices_without_rdma_get_no_char_devices() {
    let host = sysfs_sim::Preset::Mixed.build(1).unwrap();
    let res = &resources(
        &host,
        r#"{"resourceList":[{"resourceName":"e810","selectors":{"devices":["1889"]}}]}"#,
    )[0];
    assert!(!res.requires_rdma);
    let id = res.devices[0].id.clone();
    let a = res.allocate(&[id.as_str()]).unwrap();
    assert!(a.devices.is_empty(), "{:?}", a.devices);
    let info: serde_json::Value =
        serde_json::from_str(&a.envs["PCIDEVICE_INTEL_COM_E810_INFO"]).unwrap();
    assert_eq!(info[&id], serde_json::json!({"generic": {"deviceID": id}}));
    // health without RDMA: fine, once the link is up
    let fs = host.sysfs();
    host.net_ops()
        .set_link_up(&Netns::Host, "enp162s0f0np0", true)
        .unwrap();
    assert!(
        device_health(
            &fs,
            res,
            &res.devices[0],
            rdma_dev::resource::Allocation::Free
        )
        .unwrap()
        .is_healthy()
    );
}
