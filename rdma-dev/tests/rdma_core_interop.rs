//! rdma-core as a real reader of rendered trees: `SYSFS_PATH=DIR/sys ibv_devices` (Debian
//! `ibverbs-utils`, with the mlx5 provider of `ibverbs-providers`) must list every RDMA device
//! of a rendered simulated host, with the node GUIDs this crate reads.
//!
//! libibverbs falls back to sysfs because this kernel has no RDMA netlink, matches the provider
//! by the PCI function's `modalias`, and needs `/dev/infiniband/uverbsN` to exist: the stubs
//! are plain files bound at `/dev/infiniband` inside a private mount namespace only, never in
//! the host's `/dev` (see `testbed::private_dev`).

use std::collections::BTreeSet;
use std::path::Path;

use sriov_core::{FsSysfs, MacAddress, NetOps, Netns, RdmaNetnsMode, RdmaOps, Sysfs};
use sysfs_sim::{HostBuilder, NicModel, NicSpec, RdmaNaming, SimHost};
use testbed::Need;

const NEEDS: &[Need] = &[
    Need::Root,
    Need::Program("ibv_devices"),
    Need::Program("unshare"),
    // rdma-core's mlx5 provider (Debian ibverbs-providers): without it nothing is listed
    Need::File("/etc/libibverbs.d/mlx5.driver"),
];

/// `ibv_devices`' list for a rendered tree: (device, GUID as 16 hex digits).
fn ibv_devices(dir: &Path) -> BTreeSet<(String, String)> {
    let sys = dir.join("sys");
    let out = testbed::private_dev::run_with_dev_dir(
        &dir.join("dev/infiniband"),
        "infiniband",
        "ibv_devices",
        &[],
        &[("SYSFS_PATH", sys.to_str().unwrap())],
    )
    .unwrap();
    assert!(out.status.success(), "ibv_devices: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().contains("node GUID"), "{text}");
    lines.next();
    lines
        .map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next().unwrap().to_string();
            let guid = parts.next().unwrap().to_string();
            (name, guid)
        })
        .collect()
}

/// Renders `ns`'s view of `host` with its `/dev/infiniband` stubs, and checks that
/// `ibv_devices` lists exactly what `discover_rdma` reads there, GUIDs included.
fn check(host: &SimHost, ns: &Netns, what: &str) -> BTreeSet<(String, String)> {
    // on disk, not in /dev/shm: the private /dev that ibv_devices runs under hides /dev/shm
    let dir = tempfile::tempdir().unwrap();
    host.render(dir.path(), ns).unwrap();
    host.render_rdma_dev_stubs(dir.path()).unwrap();
    let fs = FsSysfs::new(dir.path());
    let ours: BTreeSet<(String, String)> = rdma_dev::discover_rdma(&fs)
        .unwrap()
        .into_iter()
        .map(|d| (d.name, d.node_guid.unwrap().to_hex()))
        .collect();
    let theirs = ibv_devices(dir.path());
    assert_eq!(theirs, ours, "{what}");
    theirs
}

#[test]
fn ibv_devices_lists_every_rendered_device_with_our_guids() {
    if !testbed::require!(needs = NEEDS) {
        return;
    }
    let reference = sysfs_sim::Preset::Reference.build(1).unwrap();
    let listed = check(&reference, &Netns::Host, "reference");
    assert_eq!(listed.len(), 10);
    let mixed = sysfs_sim::Preset::Mixed.build(2).unwrap();
    assert_eq!(check(&mixed, &Netns::Host, "mixed").len(), 9);
    // VFs with admin MACs (non-zero GUIDs after a re-probe) and rdma-core's udev names
    let host = HostBuilder::new(3)
        .rdma_naming(RdmaNaming::RdmaCorePci)
        .nic(
            NicSpec::new(NicModel::connectx6_dx(), "0001:af:00.0".parse().unwrap())
                .names(["ens7f0np0"])
                .total_vfs(4)
                .enable_vfs([4]),
        )
        .build()
        .unwrap();
    let fs = host.sysfs();
    for i in 0..4u8 {
        host.net_ops()
            .set_vf_mac(
                "ens7f0np0",
                u32::from(i),
                MacAddress([0x0c, 0x42, 0xa1, 0, 0, i]),
            )
            .unwrap();
        let vf = format!("0001:af:00.{}", i + 1);
        fs.write("/sys/bus/pci/drivers/mlx5_core/unbind".as_ref(), &vf)
            .unwrap();
        fs.write("/sys/bus/pci/drivers/mlx5_core/bind".as_ref(), &vf)
            .unwrap();
    }
    let listed = check(&host, &Netns::Host, "rdma-core names");
    assert!(listed.contains(&(
        "roceP1p175s0f0v2".to_string(),
        "0c42a1fffe000002".to_string()
    )));
}

#[test]
fn ibv_devices_in_a_pod_sees_only_the_pods_device_in_exclusive_mode() {
    if !testbed::require!(needs = NEEDS) {
        return;
    }
    let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    let rdma = host.rdma_ops();
    rdma.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap();
    let pod = host.add_netns("pod").unwrap();
    rdma.move_device(&Netns::Host, "mlx5_5", &pod).unwrap();
    let listed = check(&host, &pod, "pod");
    let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["mlx5_5"]);
    assert_eq!(check(&host, &Netns::Host, "host").len(), 9);
}
