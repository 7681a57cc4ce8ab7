//! One conformance suite, three kinds of tree: the same test bodies run against the in-memory
//! simulator (`SimSysfs`), against the simulator's rendered tree read through the real
//! `FsSysfs` backend, and against real sysfs captures (`testbed/fixtures/sysfs`).

use std::path::Path;

use sriov_core::{
    AttrErrorKind, Error, FsSysfs, NetOps, Netns, PciAddress, PhysicalFunction, Sysfs, discover,
};
use sysfs_sim::SimHost;

/// A tree to run the suite on; keeps its temporary directory alive.
struct Backend {
    name: String,
    fs: Box<dyn Sysfs>,
    _dir: Option<tempfile::TempDir>,
}

fn sim(host: &SimHost, name: &str) -> Backend {
    Backend {
        name: format!("sim:{name}"),
        fs: Box::new(host.sysfs()),
        _dir: None,
    }
}

fn rendered(host: &SimHost, name: &str) -> Backend {
    let dir = testbed::scratch_dir().unwrap();
    host.render(dir.path(), &Netns::Host).unwrap();
    Backend {
        name: format!("rendered:{name}"),
        fs: Box::new(FsSysfs::new(dir.path())),
        _dir: Some(dir),
    }
}

fn fixture(name: &str) -> Backend {
    let dir = testbed::fixtures::materialize(name).unwrap();
    Backend {
        name: format!("fixture:{name}"),
        fs: Box::new(FsSysfs::new(dir.path())),
        _dir: Some(dir),
    }
}

fn both(host: &SimHost, name: &str) -> Vec<Backend> {
    vec![sim(host, name), rendered(host, name)]
}

fn pci(s: &str) -> PciAddress {
    s.parse().unwrap()
}

/// What a PF must look like.
struct ExpectedPf {
    pci: &'static str,
    vendor: u16,
    device: u16,
    driver: Option<&'static str>,
    numa_node: Option<u32>,
    netdev: Option<&'static str>,
    total_vfs: u32,
    num_vfs: u32,
    offset: Option<u16>,
    stride: Option<u16>,
    /// (index, VF address) pairs that must hold, enabled or not.
    vf_addresses: &'static [(u32, &'static str)],
    /// (index, driver, netdev) of enabled VFs, for the VFs listed.
    vfs: &'static [(u32, Option<&'static str>, Option<&'static str>)],
}

/// Body 1: discovery finds exactly the expected PFs with the expected attributes.
fn check_discovery(backend: &Backend, expected: &[ExpectedPf]) {
    let name = &backend.name;
    let pfs = discover(&*backend.fs).unwrap_or_else(|e| panic!("{name}: {e}"));
    let found: Vec<String> = pfs.iter().map(|p| p.pci.to_string()).collect();
    let wanted: Vec<&str> = expected.iter().map(|e| e.pci).collect();
    assert_eq!(found, wanted, "{name}: PFs");
    for (pf, want) in pfs.iter().zip(expected) {
        let ctx = format!("{name} {}", want.pci);
        assert_eq!(pf.vendor, want.vendor, "{ctx} vendor");
        assert_eq!(pf.device, want.device, "{ctx} device");
        assert_eq!(pf.driver.as_deref(), want.driver, "{ctx} driver");
        assert_eq!(pf.numa_node, want.numa_node, "{ctx} numa");
        assert_eq!(pf.netdev.as_deref(), want.netdev, "{ctx} netdev");
        assert_eq!(
            (pf.total_vfs, pf.num_vfs),
            (want.total_vfs, want.num_vfs),
            "{ctx} total/num"
        );
        assert_eq!(
            (pf.offset, pf.stride),
            (want.offset, want.stride),
            "{ctx} offset/stride"
        );
        for (index, addr) in want.vf_addresses {
            assert_eq!(
                pf.vf_address(*index),
                Some(pci(addr)),
                "{ctx} VF {index} address"
            );
        }
        for (index, driver, netdev) in want.vfs {
            let vf = pf
                .vfs
                .iter()
                .find(|v| v.index == *index)
                .unwrap_or_else(|| panic!("{ctx}: no VF {index}"));
            assert_eq!(vf.driver.as_deref(), *driver, "{ctx} VF {index} driver");
            assert_eq!(vf.netdev.as_deref(), *netdev, "{ctx} VF {index} netdev");
        }
    }
    check_vf_invariants(name, &pfs, &*backend.fs);
}

/// Body 2: whatever the tree, enabled VFs sit where offset and stride put them, their
/// `physfn` points back at the PF, and no address is used twice.
fn check_vf_invariants(name: &str, pfs: &[PhysicalFunction], fs: &dyn Sysfs) {
    let mut seen = std::collections::BTreeSet::new();
    for pf in pfs {
        assert!(seen.insert(pf.pci), "{name}: {} twice", pf.pci);
        assert_eq!(pf.vfs.len() as u32, pf.num_vfs.min(pf.vfs.len() as u32));
        for vf in &pf.vfs {
            assert!(seen.insert(vf.pci), "{name}: VF {} twice", vf.pci);
            if let Some(computed) = pf.vf_address(vf.index) {
                assert_eq!(
                    vf.pci, computed,
                    "{name}: VF {} of {} is not at offset+stride*i",
                    vf.index, pf.pci
                );
            }
            let physfn = format!("/sys/bus/pci/devices/{}/physfn", vf.pci);
            if let Ok(target) = fs.read_link(Path::new(&physfn)) {
                assert!(
                    target.ends_with(pf.pci.to_string()),
                    "{name}: {physfn} -> {target:?}"
                );
            }
        }
    }
}

fn reference_expected() -> Vec<ExpectedPf> {
    vec![
        ExpectedPf {
            pci: "0000:3b:00.0",
            vendor: 0x15b3,
            device: 0x1017,
            driver: Some("mlx5_core"),
            numa_node: Some(0),
            netdev: Some("ens2f0"),
            total_vfs: 8,
            num_vfs: 8,
            offset: Some(2),
            stride: Some(1),
            vf_addresses: &[
                (0, "0000:3b:00.2"),
                (5, "0000:3b:00.7"),
                (7, "0000:3b:01.1"),
            ],
            vfs: &[
                (0, Some("mlx5_core"), Some("ens2f0v0")),
                (7, Some("mlx5_core"), Some("ens2f0v7")),
            ],
        },
        ExpectedPf {
            pci: "0000:3b:00.1",
            vendor: 0x15b3,
            device: 0x1017,
            driver: Some("mlx5_core"),
            numa_node: Some(0),
            netdev: Some("ens2f1"),
            total_vfs: 8,
            num_vfs: 0,
            offset: Some(9),
            stride: Some(1),
            vf_addresses: &[(0, "0000:3b:01.2"), (7, "0000:3b:02.1")],
            vfs: &[],
        },
    ]
}

#[test]
fn reference_host_on_sim_and_rendered_tree() {
    let host = sysfs_sim::Preset::Reference.build(3).unwrap();
    for b in both(&host, "reference") {
        check_discovery(&b, &reference_expected());
    }
}

#[test]
fn mixed_host_on_sim_and_rendered_tree() {
    let host = sysfs_sim::Preset::Mixed.build(3).unwrap();
    let expected = vec![
        ExpectedPf {
            pci: "0000:3b:00.0",
            vendor: 0x15b3,
            device: 0x1017,
            driver: Some("mlx5_core"),
            numa_node: Some(0),
            netdev: Some("ens2f0"),
            total_vfs: 8,
            num_vfs: 4,
            offset: Some(2),
            stride: Some(1),
            vf_addresses: &[(3, "0000:3b:00.5")],
            vfs: &[(3, Some("mlx5_core"), Some("ens2f0v3"))],
        },
        ExpectedPf {
            pci: "0000:3b:00.1",
            vendor: 0x15b3,
            device: 0x1017,
            driver: Some("mlx5_core"),
            numa_node: Some(0),
            netdev: Some("ens2f1"),
            total_vfs: 8,
            num_vfs: 2,
            offset: Some(9),
            stride: Some(1),
            vf_addresses: &[(1, "0000:3b:01.3")],
            vfs: &[(1, Some("mlx5_core"), Some("ens2f1v1"))],
        },
        // I350: every port at offset 128, stride 4, so the ports' VFs interleave
        ExpectedPf {
            pci: "0000:45:00.0",
            vendor: 0x8086,
            device: 0x1521,
            driver: Some("igb"),
            numa_node: None,
            netdev: Some("ens10f0"),
            total_vfs: 7,
            num_vfs: 3,
            offset: Some(128),
            stride: Some(4),
            vf_addresses: &[
                (0, "0000:45:10.0"),
                (1, "0000:45:10.4"),
                (2, "0000:45:11.0"),
                (6, "0000:45:13.0"),
            ],
            vfs: &[(2, Some("igbvf"), Some("ens10f0v2"))],
        },
        ExpectedPf {
            pci: "0000:45:00.1",
            vendor: 0x8086,
            device: 0x1521,
            driver: Some("igb"),
            numa_node: None,
            netdev: Some("ens10f1"),
            total_vfs: 7,
            num_vfs: 0,
            offset: Some(128),
            stride: Some(4),
            vf_addresses: &[(0, "0000:45:10.1"), (1, "0000:45:10.5")],
            vfs: &[],
        },
        // autoprobe off: VFs exist without driver or netdev
        ExpectedPf {
            pci: "0000:5e:00.0",
            vendor: 0x15b3,
            device: 0x1015,
            driver: Some("mlx5_core"),
            numa_node: Some(0),
            netdev: Some("ens5f0"),
            total_vfs: 8,
            num_vfs: 2,
            offset: Some(1),
            stride: Some(1),
            vf_addresses: &[(0, "0000:5e:00.1")],
            vfs: &[(0, None, None), (1, None, None)],
        },
        ExpectedPf {
            pci: "0000:a2:00.0",
            vendor: 0x8086,
            device: 0x159b,
            driver: Some("ice"),
            numa_node: Some(1),
            netdev: Some("enp162s0f0np0"),
            total_vfs: 16,
            num_vfs: 3,
            offset: Some(1),
            stride: Some(1),
            vf_addresses: &[(2, "0000:a2:00.3")],
            vfs: &[(2, Some("iavf"), Some("enp162s0f0np0v2"))],
        },
        // no driver bound: no netdev, no VFs
        ExpectedPf {
            pci: "0000:d8:00.0",
            vendor: 0x15b3,
            device: 0x101b,
            driver: None,
            numa_node: Some(0),
            netdev: None,
            total_vfs: 8,
            num_vfs: 0,
            offset: Some(1),
            stride: Some(1),
            vf_addresses: &[],
            vfs: &[],
        },
    ];
    for b in both(&host, "mixed") {
        check_discovery(&b, &expected);
    }
}

#[test]
fn real_e810_fixture() {
    // Intel E810 (ice) captured by prometheus/procfs: offset 8, stride 1, 128 VFs possible
    let expected = [ExpectedPf {
        pci: "0000:a2:00.0",
        vendor: 0x8086,
        device: 0x159b,
        driver: Some("ice"),
        numa_node: Some(1),
        netdev: Some("enp162s0f0np0"),
        total_vfs: 128,
        num_vfs: 0,
        offset: Some(8),
        stride: Some(1),
        vf_addresses: &[
            (0, "0000:a2:01.0"),
            (1, "0000:a2:01.1"),
            (127, "0000:a2:10.7"),
        ],
        vfs: &[],
    }];
    check_discovery(&fixture("procfs-ice-e810-and-ib"), &expected);
}

#[test]
fn real_i350_fixture() {
    // Intel I350 (igb) captured by node_exporter: offset 128, stride 4; the capture also holds
    // an NVMe controller with SR-IOV attributes but no offset/stride files and no VF links.
    let expected = [
        ExpectedPf {
            pci: "0000:01:00.0",
            vendor: 0xc0a9,
            device: 0x540a,
            driver: Some("nvme"),
            numa_node: None,
            netdev: None,
            total_vfs: 8,
            num_vfs: 4,
            offset: None,
            stride: None,
            vf_addresses: &[],
            vfs: &[],
        },
        ExpectedPf {
            pci: "0000:45:00.0",
            vendor: 0x8086,
            device: 0x1521,
            driver: Some("igb"),
            numa_node: Some(0),
            netdev: Some("ens10f0"),
            total_vfs: 7,
            num_vfs: 0,
            offset: Some(128),
            stride: Some(4),
            vf_addresses: &[
                (0, "0000:45:10.0"),
                (1, "0000:45:10.4"),
                (2, "0000:45:11.0"),
                (6, "0000:45:13.0"),
            ],
            vfs: &[],
        },
    ];
    check_discovery(&fixture("node_exporter-igb-i350-and-pci-sriov"), &expected);
}

#[test]
fn fixtures_without_sriov_have_no_pfs() {
    for name in ["hwloc-2013-mlx4-ib-qdr", "rdma-core-minimal-mlx5"] {
        let b = fixture(name);
        assert_eq!(discover(&*b.fs).unwrap(), Vec::new(), "{name}");
    }
}

#[test]
fn this_machines_sys_reads_without_error() {
    // No SR-IOV hardware here: discovery must still read the real /sys cleanly.
    let pfs = discover(&FsSysfs::host()).expect("real /sys must be readable");
    check_vf_invariants("host /sys", &pfs, &FsSysfs::host());
}

/// Body 3: a VF netdev moved into a pod namespace leaves the host's view and appears in the
/// pod's, in memory and in rendered trees of each namespace.
#[test]
fn moved_vf_netdev_is_seen_only_in_its_namespace() {
    let host = sysfs_sim::Preset::Reference.build(5).unwrap();
    let pod = host.add_netns("pod-a").unwrap();
    let net = host.net_ops();
    net.move_link(&Netns::Host, "ens2f0v3", &pod).unwrap();
    net.rename_link(&pod, "ens2f0v3", "net1").unwrap();
    let vf3 = pci("0000:3b:00.5");

    let pod_dir = testbed::scratch_dir().unwrap();
    host.render(pod_dir.path(), &pod).unwrap();
    let host_views: Vec<Backend> = both(&host, "reference+pod");
    let pod_views = vec![
        Backend {
            name: "sim:pod".into(),
            fs: Box::new(host.sysfs_in(&pod).unwrap()),
            _dir: None,
        },
        Backend {
            name: "rendered:pod".into(),
            fs: Box::new(FsSysfs::new(pod_dir.path())),
            _dir: None,
        },
    ];
    for (views, want) in [(host_views, None), (pod_views, Some("net1"))] {
        for b in views {
            let pfs = discover(&*b.fs).unwrap();
            let vf = pfs[0].vfs.iter().find(|v| v.pci == vf3).unwrap();
            assert_eq!(vf.netdev.as_deref(), want, "{}", b.name);
            assert_eq!(vf.driver.as_deref(), Some("mlx5_core"), "{}", b.name);
            let class_net = b.fs.read_dir(Path::new("/sys/class/net")).unwrap();
            assert_eq!(
                class_net.contains(&"net1".to_string()),
                want.is_some(),
                "{}",
                b.name
            );
            assert!(!class_net.contains(&"ens2f0v3".to_string()), "{}", b.name);
        }
    }
}

/// Body 4: bad attribute values give typed errors that name the path, never a panic.
fn expect_parse_error(b: &Backend, attr_path: &str, kind: AttrErrorKind) {
    match discover(&*b.fs) {
        Err(Error::ParseAttr {
            path, kind: got, ..
        }) => {
            assert_eq!(path, Path::new(attr_path), "{}", b.name);
            assert_eq!(got, kind, "{}", b.name);
        }
        other => panic!(
            "{}: expected a parse error on {attr_path}, got {other:?}",
            b.name
        ),
    }
}

fn corrupted(write: &[(&str, Option<&str>)]) -> Backend {
    let host = sysfs_sim::Preset::Reference.build(9).unwrap();
    let b = rendered(&host, "corrupted");
    let root = b._dir.as_ref().unwrap().path().to_path_buf();
    for (rel, content) in write {
        let path = root.join(rel.trim_start_matches('/'));
        let real = std::fs::canonicalize(&path).unwrap();
        match content {
            Some(text) => {
                std::fs::set_permissions(
                    &real,
                    std::os::unix::fs::PermissionsExt::from_mode(0o644),
                )
                .unwrap();
                std::fs::write(&real, text).unwrap();
            }
            None => std::fs::remove_file(&real).unwrap(),
        }
    }
    b
}

#[test]
fn bad_attribute_values_are_typed_errors() {
    let pf0 = "/sys/bus/pci/devices/0000:3b:00.0";
    let cases: [(&str, &str, AttrErrorKind); 6] = [
        ("sriov_totalvfs", "", AttrErrorKind::Empty),
        ("sriov_totalvfs", "lots\n", AttrErrorKind::NotANumber),
        ("sriov_numvfs", "99999999999\n", AttrErrorKind::Overflow),
        ("vendor", "15b3\n", AttrErrorKind::MissingHexPrefix),
        ("numa_node", "-7\n", AttrErrorKind::NotANumber),
        ("sriov_offset", "70000\n", AttrErrorKind::Overflow),
    ];
    for (attr, text, kind) in cases {
        let path = format!("{pf0}/{attr}");
        expect_parse_error(&corrupted(&[(&path, Some(text))]), &path, kind);
    }
    // a missing required attribute names the file and keeps the errno
    let path = format!("{pf0}/device");
    match discover(&*corrupted(&[(&path, None)]).fs) {
        Err(Error::ReadAttr { path: p, source }) => {
            assert_eq!(p, Path::new(&path));
            assert_eq!(source.raw_os_error(), Some(libc::ENOENT));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bad_virtfn_link_is_a_typed_error() {
    let host = sysfs_sim::Preset::Reference.build(9).unwrap();
    let b = rendered(&host, "bad-link");
    let link = b
        ._dir
        .as_ref()
        .unwrap()
        .path()
        .join("sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/virtfn2");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("../not-a-pci-address", &link).unwrap();
    assert!(matches!(discover(&*b.fs), Err(Error::BadLinkTarget { .. })));
}

#[test]
fn kernel_read_errors_keep_their_errno() {
    let host = sysfs_sim::Preset::Reference.build(9).unwrap();
    let path = "/sys/bus/pci/devices/0000:3b:00.1/sriov_numvfs";
    host.inject(sysfs_sim::Fault::new(
        sysfs_sim::FaultOp::Read,
        sysfs_sim::Target::Exact(path.into()),
        libc::EIO,
        sysfs_sim::Trigger::Once,
    ));
    match discover(&host.sysfs()) {
        Err(Error::ReadAttr { path: p, source }) => {
            assert_eq!(p, Path::new(path));
            assert_eq!(source.raw_os_error(), Some(libc::EIO));
        }
        other => panic!("{other:?}"),
    }
    // the fault fired once; the next discovery works
    assert_eq!(discover(&host.sysfs()).unwrap().len(), 2);
}

#[test]
fn a_missing_root_is_an_error_naming_the_path() {
    let err = discover(&FsSysfs::new("/nonexistent-root-for-test")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("/sys/bus/pci/devices"), "{text}");
    assert!(matches!(err, Error::ReadDir { .. }));
}
