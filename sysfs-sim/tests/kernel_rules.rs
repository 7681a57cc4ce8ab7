//! The simulator against the kernel's rules: `sriov_numvfs` checks in the kernel's order,
//! autoprobe and driver binding, link attributes, namespaces, the library's enabling logic on
//! top, faults, saving, and rendered trees laid out like `/sys`.

use std::path::Path;

use sriov_core::{
    Error, FsSysfs, NetOps, Netns, PciAddress, ResetPolicy, Sysfs, discover, set_num_vfs,
};
use sysfs_sim::{
    Fault, FaultOp, HostBuilder, NicModel, NicSpec, Op, PhysicalLink, Preset, SimHost, Target,
    Trigger,
};

fn pci(s: &str) -> PciAddress {
    s.parse().unwrap()
}

fn errno_of(r: std::io::Result<()>) -> Option<i32> {
    r.err().map(|e| e.raw_os_error().unwrap_or(-1))
}

fn numvfs(host: &SimHost, pf: &str) -> String {
    host.sysfs()
        .read(Path::new(&format!(
            "/sys/bus/pci/devices/{pf}/sriov_numvfs"
        )))
        .unwrap()
}

fn write(host: &SimHost, path: &str, value: &str) -> Option<i32> {
    errno_of(host.sysfs().write(Path::new(path), value))
}

const PF1: &str = "/sys/bus/pci/devices/0000:3b:00.1/sriov_numvfs";

#[test]
fn sriov_numvfs_checks_in_kernel_order() {
    let host = Preset::Reference.build(1).unwrap();
    assert_eq!(write(&host, PF1, "eight"), Some(libc::EINVAL), "unparsable");
    assert_eq!(write(&host, PF1, "-1"), Some(libc::EINVAL), "negative");
    assert_eq!(write(&host, PF1, "70000"), Some(libc::ERANGE), "above u16");
    assert_eq!(write(&host, PF1, "9"), Some(libc::ERANGE), "above totalvfs");
    assert_eq!(
        write(&host, PF1, "0"),
        None,
        "same as current: nothing happens"
    );
    assert_eq!(write(&host, PF1, "0x4\n"), None, "base 0 with a newline");
    assert_eq!(numvfs(&host, "0000:3b:00.1"), "4\n");
    assert_eq!(write(&host, PF1, "4"), None, "same again");
    assert_eq!(
        write(&host, PF1, "2"),
        Some(libc::EBUSY),
        "different non-zero while VFs exist"
    );
    assert_eq!(numvfs(&host, "0000:3b:00.1"), "4\n");
    assert_eq!(write(&host, PF1, "0"), None);
    let links: Vec<String> = host
        .sysfs()
        .read_dir(Path::new("/sys/bus/pci/devices/0000:3b:00.1"))
        .unwrap();
    assert!(
        !links.iter().any(|n| n.starts_with("virtfn")),
        "virtfn links gone: {links:?}"
    );
    assert_eq!(
        host.sysfs()
            .read_dir(Path::new("/sys/bus/pci/devices/0000:3b:01.2"))
            .unwrap_err()
            .raw_os_error(),
        Some(libc::ENOENT),
        "VF function gone"
    );
    assert_eq!(write(&host, PF1, "2"), None);
    assert_eq!(numvfs(&host, "0000:3b:00.1"), "2\n");
}

#[test]
fn enoent_without_a_driver_comes_after_range_and_same_count_checks() {
    let host = Preset::Mixed.build(1).unwrap();
    let path = "/sys/bus/pci/devices/0000:d8:00.0/sriov_numvfs";
    assert_eq!(write(&host, path, "99"), Some(libc::ERANGE));
    assert_eq!(write(&host, path, "0"), None);
    assert_eq!(write(&host, path, "2"), Some(libc::ENOENT));
}

#[test]
fn writing_non_knobs_fails_like_sysfs() {
    let host = Preset::Reference.build(1).unwrap();
    let fs = host.sysfs();
    assert_eq!(
        write(
            &host,
            "/sys/bus/pci/devices/0000:3b:00.0/sriov_totalvfs",
            "4"
        ),
        Some(libc::EACCES)
    );
    assert_eq!(
        write(&host, "/sys/bus/pci/devices/0000:3b:00.0", "4"),
        Some(libc::EISDIR)
    );
    assert_eq!(
        write(&host, "/sys/bus/pci/devices/0000:3b:00.0/nope", "4"),
        Some(libc::ENOENT)
    );
    let e = fs
        .read(Path::new("/sys/bus/pci/drivers/mlx5_core/bind"))
        .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EACCES), "write-only attribute");
    let e = fs
        .read_link(Path::new("/sys/bus/pci/devices/0000:3b:00.0/vendor"))
        .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    let e = fs
        .read_dir(Path::new("/sys/bus/pci/devices/0000:3b:00.0/vendor"))
        .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOTDIR));
}

#[test]
fn the_driver_may_enable_fewer_vfs_than_asked() {
    let host = HostBuilder::new(1)
        .nic(
            NicSpec::new(NicModel::connectx6_dx(), pci("0000:18:00.0"))
                .total_vfs(16)
                .driver_vf_limit(Some(5)),
        )
        .build()
        .unwrap();
    let out = set_num_vfs(&host.sysfs(), pci("0000:18:00.0"), 12, ResetPolicy::Refuse).unwrap();
    assert_eq!((out.requested, out.enabled), (12, 5));
    assert_eq!(discover(&host.sysfs()).unwrap()[0].vfs.len(), 5);
}

#[test]
fn set_num_vfs_maps_the_kernels_answers_to_typed_errors() {
    let host = Preset::Mixed.build(1).unwrap();
    let fs = host.sysfs();
    let pf0 = pci("0000:3b:00.0");
    assert!(matches!(
        set_num_vfs(&fs, pf0, 9, ResetPolicy::Allow),
        Err(Error::NumVfsOutOfRange { total: 8, .. })
    ));
    assert!(matches!(
        set_num_vfs(&fs, pf0, 6, ResetPolicy::Refuse),
        Err(Error::VfsBusy { current: 4, .. })
    ));
    let out = set_num_vfs(&fs, pf0, 6, ResetPolicy::Allow).unwrap();
    assert_eq!((out.before, out.enabled, out.reset), (4, 6, true));
    assert!(matches!(
        set_num_vfs(&fs, pci("0000:d8:00.0"), 1, ResetPolicy::Allow),
        Err(Error::NoSriovDriver { .. })
    ));
    assert!(matches!(
        set_num_vfs(&fs, pci("0000:3a:00.0"), 1, ResetPolicy::Allow),
        Err(Error::NotSriovPf { .. })
    ));
    // a kernel EBUSY (say, VFs assigned to a guest) surfaces as VfsBusy
    host.inject(Fault::new(
        FaultOp::Write,
        Target::Exact("/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs".into()),
        libc::EBUSY,
        Trigger::Once,
    ));
    assert!(matches!(
        set_num_vfs(&fs, pf0, 0, ResetPolicy::Allow),
        Err(Error::VfsBusy { .. })
    ));
    assert_eq!(
        discover(&fs).unwrap()[0].vfs.len(),
        6,
        "nothing changed on the failed write"
    );
    let log = host.op_log();
    assert!(
        log.iter().any(|r| matches!(
            &r.op,
            Op::WriteAttr { path, value }
                if path == Path::new("/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs") && value == "0"
        ) && r.errno == Some(libc::EBUSY)),
        "{log:?}"
    );
}

#[test]
fn autoprobe_off_leaves_vfs_without_drivers_until_bound() {
    let host = Preset::Mixed.build(1).unwrap();
    let fs = host.sysfs();
    let vf = "0000:5e:00.1";
    assert_eq!(
        fs.read_link(Path::new(&format!("/sys/bus/pci/devices/{vf}/driver")))
            .unwrap_err()
            .raw_os_error(),
        Some(libc::ENOENT),
        "no driver link"
    );
    let bind = "/sys/bus/pci/drivers/mlx5_core/bind";
    assert_eq!(
        write(&host, bind, "0000:99:00.0"),
        Some(libc::ENODEV),
        "no such device"
    );
    assert_eq!(
        write(&host, "/sys/bus/pci/drivers/iavf/bind", vf),
        Some(libc::ENODEV),
        "driver does not match"
    );
    assert_eq!(write(&host, bind, vf), None);
    assert_eq!(write(&host, bind, vf), Some(libc::EBUSY), "already bound");
    let pfs = discover(&fs).unwrap();
    let vf0 = &pfs
        .iter()
        .find(|p| p.pci == pci("0000:5e:00.0"))
        .unwrap()
        .vfs[0];
    assert_eq!(vf0.driver.as_deref(), Some("mlx5_core"));
    assert_eq!(vf0.netdev.as_deref(), Some("ens5f0v0"));
    let listed = fs
        .read_dir(Path::new("/sys/bus/pci/drivers/mlx5_core"))
        .unwrap();
    assert!(listed.contains(&vf.to_string()), "{listed:?}");
    // unbind takes the netdev away
    assert_eq!(
        write(&host, "/sys/bus/pci/drivers/mlx5_core/unbind", vf),
        None
    );
    assert_eq!(
        write(&host, "/sys/bus/pci/drivers/mlx5_core/unbind", vf),
        Some(libc::ENODEV)
    );
    assert!(
        !fs.read_dir(Path::new("/sys/class/net"))
            .unwrap()
            .contains(&"ens5f0v0".to_string())
    );
    // autoprobe back on: new VFs probe
    assert_eq!(
        write(
            &host,
            "/sys/bus/pci/devices/0000:5e:00.0/sriov_drivers_autoprobe",
            "maybe"
        ),
        Some(libc::EINVAL)
    );
    assert_eq!(
        write(
            &host,
            "/sys/bus/pci/devices/0000:5e:00.0/sriov_drivers_autoprobe",
            "1"
        ),
        None
    );
    assert_eq!(
        write(&host, "/sys/bus/pci/devices/0000:5e:00.0/sriov_numvfs", "0"),
        None
    );
    assert_eq!(
        write(&host, "/sys/bus/pci/devices/0000:5e:00.0/sriov_numvfs", "3"),
        None
    );
    let pfs = discover(&fs).unwrap();
    let pf = pfs.iter().find(|p| p.pci == pci("0000:5e:00.0")).unwrap();
    assert!(pf.vfs.iter().all(|v| v.netdev.is_some()), "{pf:?}");
}

#[test]
fn unbinding_a_pf_driver_takes_its_vfs() {
    let host = Preset::Reference.build(1).unwrap();
    assert_eq!(
        write(
            &host,
            "/sys/bus/pci/drivers/mlx5_core/unbind",
            "0000:3b:00.0\n"
        ),
        None
    );
    let pfs = discover(&host.sysfs()).unwrap();
    assert_eq!(
        (
            pfs[0].driver.as_deref(),
            pfs[0].num_vfs,
            pfs[0].netdev.as_deref()
        ),
        (None, 0, None)
    );
}

#[test]
fn link_attributes_follow_admin_and_physical_state() {
    let host = Preset::Reference.build(1).unwrap();
    let fs = host.sysfs();
    let net = host.net_ops();
    let carrier = Path::new("/sys/class/net/ens2f0v0/carrier");
    assert_eq!(
        fs.read(carrier).unwrap_err().raw_os_error(),
        Some(libc::EINVAL),
        "admin down: EINVAL"
    );
    assert_eq!(
        fs.read(Path::new("/sys/class/net/ens2f0v0/speed"))
            .unwrap_err()
            .raw_os_error(),
        Some(libc::EINVAL)
    );
    assert_eq!(
        fs.read(Path::new("/sys/class/net/ens2f0v0/operstate"))
            .unwrap(),
        "down\n"
    );
    net.set_link_up(&Netns::Host, "ens2f0v0", true).unwrap();
    assert_eq!(fs.read(carrier).unwrap(), "1\n");
    assert_eq!(
        fs.read(Path::new("/sys/class/net/ens2f0v0/operstate"))
            .unwrap(),
        "up\n"
    );
    assert_eq!(
        fs.read(Path::new("/sys/class/net/ens2f0v0/speed")).unwrap(),
        "25000\n"
    );
    // cable pulled: a VF with link_state auto follows the PF
    host.set_physical_link(pci("0000:3b:00.0"), PhysicalLink::Down)
        .unwrap();
    assert_eq!(fs.read(carrier).unwrap(), "0\n");
    assert_eq!(
        fs.read(Path::new("/sys/class/net/ens2f0v0/operstate"))
            .unwrap(),
        "down\n"
    );
    net.set_vf_link_state("ens2f0", 0, sriov_core::LinkState::Enable)
        .unwrap();
    assert_eq!(
        fs.read(carrier).unwrap(),
        "1\n",
        "link_state enable ignores the PF link"
    );
    assert!(net.link(&Netns::Host, "ens2f0v0").unwrap().oper_up);
}

#[test]
fn names_clash_with_eexist_and_namespaces_return_physical_devices() {
    let host = Preset::Reference.build(1).unwrap();
    let net = host.net_ops();
    let pod = host.add_netns("pod").unwrap();
    assert_eq!(
        host.add_netns("pod").unwrap_err().raw_os_error(),
        Some(libc::EEXIST)
    );
    assert_eq!(
        errno_of(net.rename_link(&Netns::Host, "ens2f0v0", "ens2f0v1")),
        Some(libc::EEXIST)
    );
    net.move_link(&Netns::Host, "ens2f0v0", &pod).unwrap();
    net.rename_link(&pod, "ens2f0v0", "net1").unwrap();
    net.rename_link(&Netns::Host, "ens2f0v1", "net1").unwrap();
    // the pod already has net1
    assert_eq!(
        errno_of(net.move_link(&Netns::Host, "net1", &pod)),
        Some(libc::EEXIST)
    );
    // a VF called eth0 cannot go into a pod that has eth0 (rename first)
    net.rename_link(&Netns::Host, "ens2f0v2", "eth0").unwrap();
    let pod2 = host.add_netns("pod2").unwrap();
    net.add_veth(&pod2, "eth0", &Netns::Host, "veth-pod2")
        .unwrap();
    assert_eq!(
        errno_of(net.move_link(&Netns::Host, "eth0", &pod2)),
        Some(libc::EEXIST)
    );
    // the pod dies: its VF comes back to the host, renamed because net1 is taken there
    host.del_netns(&pod).unwrap();
    let names: Vec<String> = net
        .links(&Netns::Host)
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert!(names.contains(&"dev0".to_string()), "{names:?}");
    assert!(net.link(&Netns::Host, "dev0").is_ok());
    assert_eq!(
        host.pci_of_link(&Netns::Host, "dev0"),
        Some(pci("0000:3b:00.2"))
    );
    // the veth pair dies with pod2
    host.del_netns(&pod2).unwrap();
    assert_eq!(
        net.link(&Netns::Host, "veth-pod2")
            .unwrap_err()
            .raw_os_error(),
        Some(libc::ENODEV)
    );
    assert_eq!(
        errno_of(net.move_link(&Netns::Host, "eth0", &pod2)),
        Some(libc::ENOENT),
        "namespace gone"
    );
}

#[test]
fn disabling_vfs_removes_their_netdevs_even_inside_pods() {
    let host = Preset::Reference.build(1).unwrap();
    let net = host.net_ops();
    let pod = host.add_netns("pod").unwrap();
    net.move_link(&Netns::Host, "ens2f0v4", &pod).unwrap();
    assert_eq!(
        write(&host, "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs", "0"),
        None
    );
    assert_eq!(
        net.links(&pod).unwrap().len(),
        1,
        "only lo is left in the pod"
    );
}

#[test]
fn saved_hosts_load_identically() {
    let host = Preset::Mixed.build(4).unwrap();
    host.add_netns("p").unwrap();
    let dir = testbed::scratch_dir().unwrap();
    let file = dir.path().join("host.json");
    host.save(&file).unwrap();
    let loaded = SimHost::load(&file).unwrap();
    assert_eq!(loaded.model(), host.model());
    assert_eq!(
        discover(&loaded.sysfs()).unwrap(),
        discover(&host.sysfs()).unwrap()
    );
    std::fs::write(&file, "{ not a host").unwrap();
    assert_eq!(
        SimHost::load(&file).unwrap_err().kind(),
        std::io::ErrorKind::InvalidData
    );
}

#[test]
fn rendered_links_are_relative_like_the_kernels() {
    let host = Preset::Reference.build(1).unwrap();
    let dir = testbed::scratch_dir().unwrap();
    host.render(dir.path(), &Netns::Host).unwrap();
    let root = dir.path();
    let link = |p: &str| {
        std::fs::read_link(root.join(p))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    assert_eq!(
        link("sys/bus/pci/devices/0000:3b:00.2"),
        "../../../devices/pci0000:3a/0000:3a:00.0/0000:3b:00.2"
    );
    let pf = "sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0";
    assert_eq!(link(&format!("{pf}/virtfn0")), "../0000:3b:00.2");
    assert_eq!(
        link(&format!("{pf}/driver")),
        "../../../../bus/pci/drivers/mlx5_core"
    );
    assert_eq!(link(&format!("{pf}/subsystem")), "../../../../bus/pci");
    assert_eq!(
        link("sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.2/physfn"),
        "../0000:3b:00.0"
    );
    assert_eq!(
        link("sys/class/net/ens2f0v0"),
        "../../devices/pci0000:3a/0000:3a:00.0/0000:3b:00.2/net/ens2f0v0"
    );
    assert_eq!(
        link(&format!("{pf}/net/ens2f0/device")),
        "../../../0000:3b:00.0"
    );
    assert_eq!(
        link(&format!("{pf}/net/ens2f0/subsystem")),
        "../../../../../../class/net"
    );
    // every link resolves inside the tree
    let canon =
        std::fs::canonicalize(root.join("sys/class/net/ens2f0v0/device/physfn/net/ens2f0/address"))
            .unwrap();
    assert!(canon.starts_with(std::fs::canonicalize(root).unwrap()));
    // attribute text exactly as the kernel prints it
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    assert_eq!(read(&format!("{pf}/vendor")), "0x15b3\n");
    assert_eq!(read(&format!("{pf}/class")), "0x020000\n");
    assert_eq!(read(&format!("{pf}/sriov_vf_device")), "1018\n");
    assert_eq!(
        read(&format!("{pf}/modalias")),
        "pci:v000015B3d00001017sv000015B3sd00000008bc02sc00i00\n"
    );
    assert!(read(&format!("{pf}/uevent")).contains("PCI_SLOT_NAME=0000:3b:00.0\n"));
    // an admin-down link's carrier has no file: a plain file cannot fail a read with EINVAL
    assert!(!root.join("sys/class/net/ens2f0v0/carrier").exists());
    let fs = FsSysfs::new(root);
    assert_eq!(discover(&fs).unwrap(), discover(&host.sysfs()).unwrap());
}

#[test]
fn explicit_offset_stride_and_vf_device() {
    let host = HostBuilder::new(1)
        .nic(
            NicSpec::new(NicModel::connectx6_lx(), pci("0000:17:00.0"))
                .vf_layout(sysfs_sim::VfLayout::Interleaved {
                    offset: 8,
                    stride: 2,
                })
                .vf_device(0x101e)
                .total_vfs(4)
                .enable_vfs([3]),
        )
        .build()
        .unwrap();
    let pf = &discover(&host.sysfs()).unwrap()[0];
    assert_eq!(
        (pf.offset, pf.stride, pf.vf_device),
        (Some(8), Some(2), Some(0x101e))
    );
    let vfs: Vec<String> = pf.vfs.iter().map(|v| v.pci.to_string()).collect();
    assert_eq!(vfs, ["0000:17:01.0", "0000:17:01.2", "0000:17:01.4"]);
    let device = host
        .sysfs()
        .read(Path::new("/sys/bus/pci/devices/0000:17:01.2/device"))
        .unwrap();
    assert_eq!(device, "0x101e\n");
}

#[test]
fn rdma_operations_take_injected_faults() {
    use sriov_core::{RdmaNetnsMode, RdmaOps};
    let host = Preset::Reference.build(1).unwrap();
    let rdma = host.rdma_ops();
    host.inject(Fault::new(
        FaultOp::RdmaNetnsMode,
        Target::Exact("system".into()),
        libc::EPERM,
        Trigger::Once,
    ));
    assert_eq!(
        rdma.set_netns_mode(RdmaNetnsMode::Exclusive)
            .unwrap_err()
            .raw_os_error(),
        Some(libc::EPERM)
    );
    rdma.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap();
    let pod = host.add_netns("pod").unwrap();
    host.inject(Fault::new(
        FaultOp::RdmaMove,
        Target::Exact("mlx5_3".into()),
        libc::EBUSY,
        Trigger::Always,
    ));
    assert_eq!(
        rdma.move_device(&Netns::Host, "mlx5_3", &pod)
            .unwrap_err()
            .raw_os_error(),
        Some(libc::EBUSY)
    );
    assert!(
        rdma.devices(&Netns::Host)
            .unwrap()
            .contains(&"mlx5_3".to_string()),
        "nothing moved"
    );
    rdma.move_device(&Netns::Host, "mlx5_4", &pod).unwrap();
    assert_eq!(rdma.devices(&pod).unwrap(), ["mlx5_4"]);
}
