//! RDMA in the simulator against the kernel's rules: devices registered by the probe in
//! registration order (lowest free `mlx5_N`), gone with the driver, attributes and char-device
//! numbers as the kernel prints them, the GID table's quirks, the port state following the
//! netdev's link, `gid_attrs/ndevs/0` following renames and moves, the RDMA netns modes, and
//! rendered trees.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use sriov_core::{
    FsSysfs, IpPrefix, LinkState, MacAddress, NetOps, Netns, PciAddress, RdmaNetnsMode, RdmaOps,
    Sysfs,
};
use sysfs_sim::{
    HostBuilder, NicModel, NicSpec, Op, OpRecord, PhysicalLink, Preset, RdmaNaming, SimHost,
};

fn pci(s: &str) -> PciAddress {
    s.parse().unwrap()
}

fn read(fs: &dyn Sysfs, path: &str) -> String {
    fs.read(Path::new(path))
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn errno_read(fs: &dyn Sysfs, path: &str) -> Option<i32> {
    fs.read(Path::new(path))
        .err()
        .and_then(|e| e.raw_os_error())
}

fn write(fs: &dyn Sysfs, path: &str, value: &str) {
    fs.write(Path::new(path), value)
        .unwrap_or_else(|e| panic!("write {value} to {path}: {e}"))
}

/// The RDMA devices under a PCI function's `infiniband/` in a view (the directory must
/// exist: it does while the function has a registered RDMA device, in any namespace).
fn ibdevs_of(fs: &dyn Sysfs, function: &str) -> Vec<String> {
    let dir = format!("/sys/bus/pci/devices/{function}/infiniband");
    fs.read_dir(Path::new(&dir))
        .unwrap_or_else(|e| panic!("read_dir {dir}: {e}"))
}

/// Asserts that a PCI function has no `infiniband/` directory at all (no RDMA device
/// registered).
fn assert_no_ibdev(fs: &dyn Sysfs, function: &str, why: &str) {
    let dir = format!("/sys/bus/pci/devices/{function}/infiniband");
    let err = fs.read_dir(Path::new(&dir)).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT), "{why}: {dir}");
}

fn ibdev_of(fs: &dyn Sysfs, function: &str) -> String {
    let names = ibdevs_of(fs, function);
    assert_eq!(names.len(), 1, "{function}: {names:?}");
    names[0].clone()
}

fn class_ib(fs: &dyn Sysfs) -> Vec<String> {
    let mut v = fs.read_dir(Path::new("/sys/class/infiniband")).unwrap();
    v.sort();
    v
}

fn two_pf_host() -> SimHost {
    HostBuilder::new(3)
        .nic(
            NicSpec::new(NicModel::connectx5(), pci("0000:3b:00.0"))
                .ports(2)
                .names(["ens2f0", "ens2f1"])
                .total_vfs(4),
        )
        .build()
        .unwrap()
}

#[test]
fn names_follow_registration_order_and_reuse_the_lowest_free_number() {
    let host = two_pf_host();
    let fs = host.sysfs();
    assert_eq!(ibdev_of(&fs, "0000:3b:00.0"), "mlx5_0");
    assert_eq!(ibdev_of(&fs, "0000:3b:00.1"), "mlx5_1");
    // PF1's VFs probe first: they take mlx5_2.. although PF0's VFs have lower addresses
    write(&fs, "/sys/bus/pci/devices/0000:3b:00.1/sriov_numvfs", "2");
    write(&fs, "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs", "2");
    let pf1_vf0 = pci("0000:3b:00.1").vf_address(5, 1, 0).unwrap().to_string();
    assert_eq!(pf1_vf0, "0000:3b:00.6"); // PF1's offset: 2 ports - 1 + 4 VFs
    assert_eq!(ibdev_of(&fs, &pf1_vf0), "mlx5_2");
    assert_eq!(ibdev_of(&fs, "0000:3b:00.2"), "mlx5_4");
    assert_eq!(ibdev_of(&fs, "0000:3b:00.3"), "mlx5_5");
    // unbinding a VF's driver unregisters its device; binding again takes the lowest free name
    write(&fs, "/sys/bus/pci/drivers/mlx5_core/unbind", "0000:3b:00.2");
    assert_no_ibdev(&fs, "0000:3b:00.2", "unbound");
    assert!(!class_ib(&fs).contains(&"mlx5_4".to_string()));
    assert!(
        !fs.read_dir(Path::new("/sys/class/infiniband_verbs"))
            .unwrap()
            .contains(&"uverbs4".to_string()),
        "its uverbs goes too"
    );
    write(&fs, "/sys/bus/pci/drivers/mlx5_core/bind", "0000:3b:00.2");
    assert_eq!(ibdev_of(&fs, "0000:3b:00.2"), "mlx5_4");
    // disabling PF1's VFs frees mlx5_2 and mlx5_3; the next VFs to probe take them
    write(&fs, "/sys/bus/pci/devices/0000:3b:00.1/sriov_numvfs", "0");
    assert_eq!(
        class_ib(&fs),
        ["mlx5_0", "mlx5_1", "mlx5_4", "mlx5_5"].map(String::from)
    );
    write(&fs, "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs", "0");
    write(&fs, "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs", "3");
    assert_eq!(ibdev_of(&fs, "0000:3b:00.2"), "mlx5_2");
    assert_eq!(ibdev_of(&fs, "0000:3b:00.4"), "mlx5_4");
    // unbinding a PF takes its VFs and all their RDMA devices
    write(&fs, "/sys/bus/pci/drivers/mlx5_core/unbind", "0000:3b:00.0");
    assert_eq!(class_ib(&fs), ["mlx5_1"].map(String::from));
}

#[test]
fn only_mlx5_functions_with_a_driver_have_rdma_devices() {
    let host = Preset::Mixed.build(1).unwrap();
    let fs = host.sysfs();
    // ConnectX-5: 2 PFs + 4 + 2 VFs; ConnectX-4 Lx PF (autoprobe off: its VFs have no driver);
    // the ConnectX-6 has no driver; E810 and I350 are not mlx5
    assert_eq!(class_ib(&fs).len(), 2 + 4 + 2 + 1);
    assert_no_ibdev(&fs, "0000:a2:00.0", "E810 PF");
    assert_no_ibdev(&fs, "0000:d8:00.0", "unbound ConnectX-6");
    let lx_vf = pci("0000:5e:00.0").vf_address(1, 1, 0).unwrap().to_string();
    assert_no_ibdev(&fs, &lx_vf, "VF without a driver");
    write(&fs, "/sys/bus/pci/drivers/mlx5_core/bind", &lx_vf);
    assert_eq!(ibdevs_of(&fs, &lx_vf).len(), 1, "probed by hand");
    // a host without mlx5 has no RDMA classes at all
    let intel = HostBuilder::new(1)
        .nic(NicSpec::new(NicModel::e810(), pci("0000:a2:00.0")).enable_vfs([2]))
        .build()
        .unwrap();
    let err = intel
        .sysfs()
        .read_dir(Path::new("/sys/class/infiniband"))
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
}

#[test]
fn attributes_and_links_as_the_kernel_lays_them_out() {
    let host = Preset::Reference.build(1).unwrap();
    let fs = host.sysfs();
    let d = "/sys/class/infiniband/mlx5_0";
    assert_eq!(read(&fs, &format!("{d}/node_type")), "1: CA\n");
    assert_eq!(read(&fs, &format!("{d}/hca_type")), "MT4119\n");
    assert_eq!(read(&fs, &format!("{d}/fw_ver")), "16.35.2000\n");
    assert_eq!(read(&fs, &format!("{d}/board_id")), "MT_0000000008\n");
    assert_eq!(
        read(&fs, "/sys/class/infiniband/mlx5_2/hca_type"),
        "MT4120\n"
    );
    // node GUID: the PF MAC's OUI, 03:00, its other half
    let mac = host
        .net_ops()
        .link(&Netns::Host, "ens2f0")
        .unwrap()
        .mac
        .unwrap();
    let m = mac.0;
    let guid = format!(
        "{:02x}{:02x}:{:02x}03:00{:02x}:{:02x}{:02x}\n",
        m[0], m[1], m[2], m[3], m[4], m[5]
    );
    assert_eq!(read(&fs, &format!("{d}/node_guid")), guid);
    // both ports of the card share the system image GUID
    assert_eq!(
        read(&fs, "/sys/class/infiniband/mlx5_1/sys_image_guid"),
        read(&fs, &format!("{d}/sys_image_guid"))
    );
    assert_eq!(
        fs.read_link(Path::new(d)).unwrap(),
        Path::new("../../devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/infiniband/mlx5_0")
    );
    assert_eq!(
        fs.read_link(Path::new(&format!("{d}/device"))).unwrap(),
        Path::new("../../../0000:3b:00.0")
    );
    assert_eq!(read(&fs, &format!("{d}/device/vendor")), "0x15b3\n");
    assert_eq!(read(&fs, &format!("{d}/ports/1/link_layer")), "Ethernet\n");
    assert_eq!(
        read(&fs, &format!("{d}/ports/1/rate")),
        "25 Gb/sec (1X EDR)\n"
    );
    assert_eq!(read(&fs, &format!("{d}/ports/1/lid")), "0x0\n");
    assert_eq!(read(&fs, &format!("{d}/ports/1/pkeys/0")), "0xffff\n");
    // verbs and MAD char devices, their classes' ABI versions, rdma_cm
    assert_eq!(read(&fs, "/sys/class/infiniband_verbs/abi_version"), "6\n");
    assert_eq!(read(&fs, "/sys/class/infiniband_mad/abi_version"), "5\n");
    for n in 0..10 {
        let u = format!("/sys/class/infiniband_verbs/uverbs{n}");
        assert_eq!(read(&fs, &format!("{u}/dev")), format!("231:{}\n", 192 + n));
        assert_eq!(read(&fs, &format!("{u}/abi_version")), "1\n");
        assert_eq!(read(&fs, &format!("{u}/ibdev")), format!("mlx5_{n}\n"));
        let mad = format!("/sys/class/infiniband_mad/umad{n}");
        assert_eq!(read(&fs, &format!("{mad}/dev")), format!("231:{n}\n"));
        assert_eq!(read(&fs, &format!("{mad}/port")), "1\n");
        let issm = format!("/sys/class/infiniband_mad/issm{n}");
        assert_eq!(
            read(&fs, &format!("{issm}/dev")),
            format!("231:{}\n", 64 + n)
        );
    }
    assert_eq!(
        read(&fs, "/sys/class/infiniband_verbs/uverbs0/device/modalias"),
        "pci:v000015B3d00001017sv000015B3sd00000008bc02sc00i00\n"
    );
    assert_eq!(
        read(&fs, "/sys/class/infiniband_verbs/uverbs2/device/modalias"),
        "pci:v000015B3d00001018sv000015B3sd00000008bc02sc00i00\n"
    );
    assert_eq!(read(&fs, "/sys/class/misc/rdma_cm/dev"), "10:58\n");
    let nodes = host.rdma_dev_nodes();
    assert_eq!(nodes.len(), 10 * 3 + 1);
    assert!(nodes.iter().any(
        |n| n.path == Path::new("/dev/infiniband/uverbs9") && (n.major, n.minor) == (231, 201)
    ));
}

#[test]
fn uverbs_past_the_fixed_minors_use_a_dynamic_major() {
    let host = Preset::Large.build(1).unwrap();
    let fs = host.sysfs();
    assert_eq!(class_ib(&fs).len(), 8 + 8 * 127);
    assert_eq!(
        read(&fs, "/sys/class/infiniband_verbs/uverbs31/dev"),
        "231:223\n"
    );
    assert_eq!(
        read(&fs, "/sys/class/infiniband_verbs/uverbs40/dev"),
        format!("{}:8\n", sysfs_sim::rdma::UVERBS_DYNAMIC_MAJOR)
    );
    assert_eq!(
        read(&fs, "/sys/class/infiniband_mad/umad70/dev"),
        format!("{}:12\n", sysfs_sim::rdma::UMAD_DYNAMIC_MAJOR)
    );
    assert_eq!(
        read(&fs, "/sys/class/infiniband_mad/issm70/dev"),
        format!("{}:13\n", sysfs_sim::rdma::UMAD_DYNAMIC_MAJOR)
    );
    assert_eq!(
        read(&fs, "/sys/class/infiniband/mlx5_0/ports/1/rate"),
        "100 Gb/sec (4X EDR)\n"
    );
}

fn eui64_gid(mac: MacAddress) -> String {
    let m = mac.0;
    format!(
        "fe80:0000:0000:0000:{:02x}{:02x}:{:02x}ff:fe{:02x}:{:02x}{:02x}\n",
        m[0] ^ 2,
        m[1],
        m[2],
        m[3],
        m[4],
        m[5]
    )
}

#[test]
fn gid_table_quirks_and_addresses() {
    let host = Preset::Reference.build(1).unwrap();
    let fs = host.sysfs();
    let net = host.net_ops();
    let p = "/sys/class/infiniband/mlx5_3/ports/1";
    let mac = net.link(&Netns::Host, "ens2f0v1").unwrap().mac.unwrap();
    assert_eq!(read(&fs, &format!("{p}/gids/0")), eui64_gid(mac));
    assert_eq!(read(&fs, &format!("{p}/gids/1")), eui64_gid(mac));
    assert_eq!(read(&fs, &format!("{p}/gid_attrs/types/0")), "IB/RoCE v1\n");
    assert_eq!(read(&fs, &format!("{p}/gid_attrs/types/1")), "RoCE v2\n");
    assert_eq!(read(&fs, &format!("{p}/gid_attrs/ndevs/0")), "ens2f0v1\n");
    // unused entries: the zero GID reads fine, its attributes fail with EINVAL
    assert_eq!(
        read(&fs, &format!("{p}/gids/2")),
        "0000:0000:0000:0000:0000:0000:0000:0000\n"
    );
    assert_eq!(
        errno_read(&fs, &format!("{p}/gid_attrs/ndevs/2")),
        Some(libc::EINVAL)
    );
    assert_eq!(
        errno_read(&fs, &format!("{p}/gid_attrs/types/2")),
        Some(libc::EINVAL)
    );
    // an IPv4 address adds IPv4-mapped GIDs, v1 and v2
    let addr = IpPrefix {
        addr: IpAddr::V4(Ipv4Addr::new(192, 168, 111, 10)),
        prefix_len: 24,
    };
    net.add_address(&Netns::Host, "ens2f0v1", addr).unwrap();
    assert_eq!(
        read(&fs, &format!("{p}/gids/2")),
        "0000:0000:0000:0000:0000:ffff:c0a8:6f0a\n"
    );
    assert_eq!(read(&fs, &format!("{p}/gid_attrs/types/3")), "RoCE v2\n");
    assert_eq!(read(&fs, &format!("{p}/gid_attrs/ndevs/3")), "ens2f0v1\n");
    net.del_address(&Netns::Host, "ens2f0v1", addr).unwrap();
    assert_eq!(
        errno_read(&fs, &format!("{p}/gid_attrs/ndevs/2")),
        Some(libc::EINVAL)
    );
}

#[test]
fn port_state_follows_the_netdev_link() {
    let host = Preset::Reference.build(1).unwrap();
    let fs = host.sysfs();
    let net = host.net_ops();
    let p = "/sys/class/infiniband/mlx5_2/ports/1";
    let states = || {
        (
            read(&fs, &format!("{p}/state")),
            read(&fs, &format!("{p}/phys_state")),
        )
    };
    let down = ("1: DOWN\n".to_string(), "3: Disabled\n".to_string());
    let up = ("4: ACTIVE\n".to_string(), "5: LinkUp\n".to_string());
    assert_eq!(states(), down, "admin down");
    net.set_link_up(&Netns::Host, "ens2f0v0", true).unwrap();
    assert_eq!(states(), up);
    host.set_physical_link(pci("0000:3b:00.0"), PhysicalLink::Down)
        .unwrap();
    assert_eq!(states(), down, "cable out, VF link state auto");
    net.set_vf_link_state("ens2f0", 0, LinkState::Enable)
        .unwrap();
    assert_eq!(states(), up, "VF link forced up");
    net.set_vf_link_state("ens2f0", 0, LinkState::Disable)
        .unwrap();
    host.set_physical_link(pci("0000:3b:00.0"), PhysicalLink::Up)
        .unwrap();
    assert_eq!(states(), down, "VF link forced down");
}

#[test]
fn ndevs_follow_renames_moves_and_mac_changes() {
    let host = Preset::Reference.build(1).unwrap();
    let fs = host.sysfs();
    let net = host.net_ops();
    let ndev = "/sys/class/infiniband/mlx5_5/ports/1/gid_attrs/ndevs/0";
    assert_eq!(read(&fs, ndev), "ens2f0v3\n");
    net.rename_link(&Netns::Host, "ens2f0v3", "tmp3").unwrap();
    assert_eq!(read(&fs, ndev), "tmp3\n");
    let pod = host.add_netns("pod").unwrap();
    net.move_link(&Netns::Host, "tmp3", &pod).unwrap();
    net.rename_link(&pod, "tmp3", "net1").unwrap();
    // shared mode: the host still sees the device, and it names the pod's netdev
    assert_eq!(read(&fs, ndev), "net1\n");
    let pod_fs = host.sysfs_in(&pod).unwrap();
    assert_eq!(read(&pod_fs, ndev), "net1\n");
    let mac = MacAddress([0x02, 0, 0, 0, 0x11, 0x01]);
    net.set_link_mac(&pod, "net1", mac).unwrap();
    assert_eq!(
        read(&fs, "/sys/class/infiniband/mlx5_5/ports/1/gids/0"),
        eui64_gid(mac)
    );
    net.set_link_up(&pod, "net1", true).unwrap();
    assert_eq!(
        read(&pod_fs, "/sys/class/infiniband/mlx5_5/ports/1/state"),
        "4: ACTIVE\n"
    );
    host.del_netns(&pod).unwrap();
    // the netdev is back in the host, down, under its pod name
    assert_eq!(read(&fs, ndev), "net1\n");
    assert_eq!(
        read(&fs, "/sys/class/infiniband/mlx5_5/ports/1/state"),
        "1: DOWN\n"
    );
}

#[test]
fn exclusive_mode_follows_the_kernels_rules() {
    let host = Preset::Reference.build(1).unwrap();
    let rdma = host.rdma_ops();
    let errno = |r: std::io::Result<()>| r.unwrap_err().raw_os_error();
    assert_eq!(rdma.netns_mode().unwrap(), RdmaNetnsMode::Shared);
    let pod = host.add_netns("pod").unwrap();
    // shared: everything everywhere, nothing moves
    assert_eq!(rdma.devices(&pod).unwrap().len(), 10);
    assert_eq!(class_ib(&host.sysfs_in(&pod).unwrap()).len(), 10);
    assert_eq!(
        errno(rdma.move_device(&Netns::Host, "mlx5_5", &pod)),
        Some(libc::EOPNOTSUPP)
    );
    // the mode cannot change while another namespace exists; the same mode is fine
    assert_eq!(
        errno(rdma.set_netns_mode(RdmaNetnsMode::Exclusive)),
        Some(libc::EBUSY)
    );
    rdma.set_netns_mode(RdmaNetnsMode::Shared).unwrap();
    host.del_netns(&pod).unwrap();
    rdma.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap();
    let pod = host.add_netns("pod").unwrap();
    let other = host.add_netns("other").unwrap();
    // exclusive: a new namespace sees nothing until a device is moved in
    assert!(rdma.devices(&pod).unwrap().is_empty());
    let pod_fs = host.sysfs_in(&pod).unwrap();
    assert!(class_ib(&pod_fs).is_empty());
    rdma.move_device(&Netns::Host, "mlx5_5", &pod).unwrap();
    assert_eq!(rdma.devices(&pod).unwrap(), ["mlx5_5"]);
    assert_eq!(class_ib(&pod_fs), ["mlx5_5"]);
    assert_eq!(ibdevs_of(&pod_fs, "0000:3b:00.5"), ["mlx5_5"]);
    let host_fs = host.sysfs();
    assert!(!class_ib(&host_fs).contains(&"mlx5_5".to_string()));
    assert!(
        ibdevs_of(&host_fs, "0000:3b:00.5").is_empty(),
        "the directory stays, its entry is the pod's"
    );
    assert_eq!(
        errno_read(&host_fs, "/sys/class/infiniband/mlx5_5/node_guid"),
        Some(libc::ENOENT)
    );
    // the uverbs node stays, but only the owner may open it
    host.rdma_ops().open_uverbs(&pod, "uverbs5").unwrap();
    assert_eq!(
        errno(host.rdma_ops().open_uverbs(&Netns::Host, "uverbs5")),
        Some(libc::EPERM)
    );
    assert_eq!(
        errno(host.rdma_ops().open_uverbs(&pod, "uverbs99")),
        Some(libc::ENODEV)
    );
    // only the namespace that has it can move it
    assert_eq!(
        errno(rdma.move_device(&Netns::Host, "mlx5_5", &other)),
        Some(libc::ENODEV)
    );
    assert_eq!(
        errno(rdma.move_device(&pod, "mlx5_5", &Netns::named("nope"))),
        Some(libc::ENOENT)
    );
    rdma.move_device(&pod, "mlx5_5", &other).unwrap();
    assert!(class_ib(&pod_fs).is_empty());
    // a namespace that dies hands its devices back to the initial one
    host.del_netns(&other).unwrap();
    assert!(
        rdma.devices(&Netns::Host)
            .unwrap()
            .contains(&"mlx5_5".to_string())
    );
    assert!(class_ib(&host_fs).contains(&"mlx5_5".to_string()));
    // moving to where it is succeeds
    rdma.move_device(&Netns::Host, "mlx5_5", &Netns::Host)
        .unwrap();
    host.del_netns(&pod).unwrap();
    rdma.set_netns_mode(RdmaNetnsMode::Shared).unwrap();
    let log = host.op_log();
    let refused = OpRecord {
        op: Op::MoveRdmaDevice {
            from: Netns::Host,
            ibdev: "mlx5_5".into(),
            to: other.clone(),
        },
        errno: Some(libc::ENODEV),
    };
    assert!(log.contains(&refused), "{log:?}");
}

#[test]
fn rdma_core_naming_option() {
    let host = HostBuilder::new(1)
        .rdma_naming(RdmaNaming::RdmaCorePci)
        .nic(
            NicSpec::new(NicModel::connectx5(), pci("0000:3b:00.0"))
                .ports(2)
                .names(["ens2f0", "ens2f1"])
                .enable_vfs([4]),
        )
        .build()
        .unwrap();
    let fs = host.sysfs();
    assert_eq!(ibdev_of(&fs, "0000:3b:00.0"), "rocep59s0f0");
    assert_eq!(ibdev_of(&fs, "0000:3b:00.1"), "rocep59s0f1");
    assert_eq!(ibdev_of(&fs, "0000:3b:00.5"), "rocep59s0f0v3");
    assert_eq!(
        read(&fs, "/sys/class/infiniband_verbs/uverbs5/ibdev"),
        "rocep59s0f0v3\n"
    );
}

#[test]
fn vf_node_guid_comes_from_the_admin_mac_at_probe() {
    let host = Preset::Reference.build(1).unwrap();
    let fs = host.sysfs();
    let guid = "/sys/class/infiniband/mlx5_2/node_guid";
    assert_eq!(read(&fs, guid), "0000:0000:0000:0000\n");
    let mac = MacAddress([0x0c, 0x42, 0xa1, 0x11, 0x22, 0x33]);
    host.net_ops().set_vf_mac("ens2f0", 0, mac).unwrap();
    assert_eq!(
        read(&fs, guid),
        "0000:0000:0000:0000\n",
        "cached until re-probe"
    );
    write(&fs, "/sys/bus/pci/drivers/mlx5_core/unbind", "0000:3b:00.2");
    write(&fs, "/sys/bus/pci/drivers/mlx5_core/bind", "0000:3b:00.2");
    assert_eq!(read(&fs, guid), "0c42:a1ff:fe11:2233\n");
}

#[test]
fn rdma_state_saves_and_loads() {
    let host = Preset::Reference.build(1).unwrap();
    host.rdma_ops()
        .set_netns_mode(RdmaNetnsMode::Exclusive)
        .unwrap();
    let pod = host.add_netns("pod").unwrap();
    host.rdma_ops()
        .move_device(&Netns::Host, "mlx5_4", &pod)
        .unwrap();
    let dir = testbed::scratch_dir().unwrap();
    let file = dir.path().join("host.json");
    host.save(&file).unwrap();
    let loaded = SimHost::load(&file).unwrap();
    assert_eq!(loaded.model(), host.model());
    assert_eq!(loaded.rdma_ops().devices(&pod).unwrap(), ["mlx5_4"]);
    // a state saved before RDMA existed still loads, with the defaults
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("rdma");
    std::fs::write(&file, serde_json::to_vec(&json).unwrap()).unwrap();
    let old = SimHost::load(&file).unwrap();
    assert_eq!(old.rdma_ops().netns_mode().unwrap(), RdmaNetnsMode::Shared);
}

#[test]
fn rendered_trees_read_like_sys() {
    let host = Preset::Reference.build(1).unwrap();
    let dir = testbed::scratch_dir().unwrap();
    host.render(dir.path(), &Netns::Host).unwrap();
    let fs = FsSysfs::new(dir.path());
    let sim = host.sysfs();
    for path in [
        "/sys/class/infiniband/mlx5_7/node_guid",
        "/sys/class/infiniband/mlx5_7/ports/1/gids/0",
        "/sys/class/infiniband/mlx5_7/ports/1/gid_attrs/ndevs/0",
        "/sys/class/infiniband_verbs/uverbs7/dev",
        "/sys/class/infiniband_verbs/uverbs7/device/modalias",
        "/sys/class/infiniband_mad/issm7/dev",
        "/sys/class/misc/rdma_cm/dev",
    ] {
        assert_eq!(read(&fs, path), read(&sim, path), "{path}");
    }
    // reads that fail in the kernel have no file in a rendered tree
    assert!(
        !dir.path()
            .join("sys/class/infiniband/mlx5_7/ports/1/gid_attrs/ndevs/2")
            .exists()
    );
    let link = std::fs::read_link(dir.path().join("sys/class/infiniband/mlx5_7")).unwrap();
    assert!(link.starts_with("../../devices/"), "{link:?}");
    let stubs = host.render_rdma_dev_stubs(dir.path()).unwrap();
    assert_eq!(stubs.len(), 31);
    assert!(dir.path().join("dev/infiniband/uverbs9").is_file());
    assert!(dir.path().join("dev/infiniband/rdma_cm").is_file());
}
