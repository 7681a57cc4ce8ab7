//! In-process tests against the simulator (`SimHost::sysfs()`), for what a rendered tree
//! cannot show: enabling VFs through `sriov_numvfs` (a write to a plain file creates no VF),
//! and the fault kinds the daemon tests do not drive (driver unbound, RDMA device gone, a VF's
//! own netdev going down).

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{SEED_CONFIG, VFS, VHCA, reference_host};
use device_plugin::sriov_dp::config::DaemonConfig;
use device_plugin::sriov_dp::enable::{EnableAction, enable_vfs};
use device_plugin::sriov_dp::health::{DeviceHealth, Fault};
use device_plugin::sriov_dp::ledger::HeldVfs;
use device_plugin::sriov_dp::monitor::{Monitor, MonitorPaths};
use sriov_core::{LinkState, NetOps, Netns, PciAddress, RdmaNetnsMode, RdmaOps, Sysfs};
use sysfs_sim::SimHost;

const NUMVFS: &str = "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs";

fn numvfs(host: &SimHost) -> u32 {
    host.sysfs()
        .read(NUMVFS.as_ref())
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn set_numvfs(host: &SimHost, n: &str) {
    host.sysfs().write(NUMVFS.as_ref(), n).unwrap();
}

fn pf0_netdevs() -> Vec<String> {
    vec!["ens2f0".to_string()]
}

fn none_held() -> HeldVfs {
    HeldVfs::Known(BTreeSet::new())
}

#[test]
fn enables_all_vfs_from_zero() {
    let host = reference_host();
    set_numvfs(&host, "0");
    let r = &enable_vfs(&host.sysfs(), &pf0_netdevs(), &none_held()).unwrap()[0];
    assert_eq!((r.max_vfs, r.before, r.after), (8, 0, 8));
    assert_eq!(r.action, EnableAction::Enabled { reset: false });
    assert_eq!(numvfs(&host), 8);
}

#[test]
fn all_enabled_writes_nothing() {
    let host = reference_host();
    let mark = host.log_mark();
    let r = &enable_vfs(&host.sysfs(), &pf0_netdevs(), &none_held()).unwrap()[0];
    assert_eq!(r.action, EnableAction::AlreadyEnabled);
    assert!(
        host.ops_since(mark).is_empty(),
        "{:?}",
        host.ops_since(mark)
    );
}

#[test]
fn some_enabled_none_held_resets_to_all() {
    let host = reference_host();
    set_numvfs(&host, "0");
    set_numvfs(&host, "4");
    let r = &enable_vfs(&host.sysfs(), &pf0_netdevs(), &none_held()).unwrap()[0];
    assert_eq!((r.before, r.after), (4, 8));
    assert_eq!(r.action, EnableAction::Enabled { reset: true });
    assert_eq!(numvfs(&host), 8);
}

#[test]
fn some_enabled_one_held_keeps_them() {
    let host = reference_host();
    set_numvfs(&host, "0");
    set_numvfs(&host, "4");
    let held: PciAddress = "0000:3b:00.3".parse().unwrap();
    let mark = host.log_mark();
    let r = &enable_vfs(
        &host.sysfs(),
        &pf0_netdevs(),
        &HeldVfs::Known([held].into()),
    )
    .unwrap()[0];
    assert_eq!(r.action, EnableAction::KeptHeld { held: vec![held] });
    assert_eq!(numvfs(&host), 4, "the held VF was not destroyed");
    assert!(host.ops_since(mark).is_empty());
    // an unreadable ledger counts every VF as held
    let r = &enable_vfs(
        &host.sysfs(),
        &pf0_netdevs(),
        &HeldVfs::Unreadable("corrupt".into()),
    )
    .unwrap()[0];
    assert!(matches!(r.action, EnableAction::KeptHeld { .. }));
    assert_eq!(numvfs(&host), 4);
}

#[test]
fn a_missing_pf_is_reported_not_fatal() {
    let host = reference_host();
    let r = enable_vfs(&host.sysfs(), &["ens9f9".to_string()], &none_held()).unwrap();
    assert_eq!(r[0].action, EnableAction::NotFound);
}

/// A monitor over the simulator itself.
fn monitor(host: &SimHost, dir: &std::path::Path) -> Monitor {
    let config = dir.join("config.json");
    std::fs::write(&config, SEED_CONFIG).unwrap();
    Monitor::new(
        Arc::new(host.sysfs()),
        MonitorPaths {
            root: dir.to_path_buf(),
            config,
            ledger: dir.join("ledger.json"),
        },
        None,
        SEED_CONFIG.to_string(),
        DaemonConfig::parse(SEED_CONFIG, None).unwrap(),
    )
}

fn health_of(m: &mut Monitor, id: &str) -> DeviceHealth {
    let snapshot = m.poll().unwrap();
    snapshot.resources[VHCA]
        .tracker
        .get(id)
        .unwrap()
        .health
        .clone()
}

#[test]
fn driver_unbound_and_back() {
    let host = reference_host();
    let dir = tempfile::tempdir().unwrap();
    let mut m = monitor(&host, dir.path());
    assert_eq!(health_of(&mut m, VFS[1]), DeviceHealth::Healthy);
    host.sysfs()
        .write("/sys/bus/pci/drivers/mlx5_core/unbind".as_ref(), VFS[1])
        .unwrap();
    let h = health_of(&mut m, VFS[1]);
    let DeviceHealth::Unhealthy(faults) = &h else {
        panic!("{h}")
    };
    assert!(faults.contains(&Fault::DriverUnbound), "{h}");
    host.sysfs()
        .write("/sys/bus/pci/drivers/mlx5_core/bind".as_ref(), VFS[1])
        .unwrap();
    assert_eq!(health_of(&mut m, VFS[1]), DeviceHealth::Healthy);
    assert_eq!(
        health_of(&mut m, VFS[0]),
        DeviceHealth::Healthy,
        "the others never changed"
    );
}

#[test]
fn rdma_device_gone_unless_a_pod_holds_the_vf() {
    let host = reference_host();
    let dir = tempfile::tempdir().unwrap();
    let mut m = monitor(&host, dir.path());
    let rdma = host.rdma_ops();
    rdma.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap();
    let pod = host.add_netns("pod").unwrap();
    let vf: PciAddress = VFS[3].parse().unwrap();
    rdma_dev::move_function_device(&rdma, &host.sysfs(), vf, &Netns::Host, &pod).unwrap();
    assert_eq!(
        health_of(&mut m, VFS[3]),
        DeviceHealth::Unhealthy(vec![Fault::RdmaDeviceGone])
    );
    // the same, with the ledger saying a pod holds the VF: expected, not a fault
    let mut pool = sriov_core::ledger::PersistentPool::open(
        VFS.iter().map(|v| sriov_core::pool::PoolVf {
            pci: v.parse().unwrap(),
            pf: "0000:3b:00.0".parse().unwrap(),
            numa_node: Some(0),
        }),
        dir.path().join("ledger.json"),
    )
    .unwrap();
    pool.allocate(
        sriov_core::pool::Selector::Pci(vf),
        &sriov_core::pool::Owner::attachment("c0ffee", "net1").unwrap(),
    )
    .unwrap();
    assert_eq!(health_of(&mut m, VFS[3]), DeviceHealth::Healthy);
}

#[test]
fn a_vfs_own_netdev_down_is_not_a_fault() {
    let host = reference_host();
    let dir = tempfile::tempdir().unwrap();
    let mut m = monitor(&host, dir.path());
    let net = host.net_ops();
    // idle: down, healthy
    assert_eq!(health_of(&mut m, VFS[0]), DeviceHealth::Healthy);
    net.set_link_up(&Netns::Host, "ens2f0v0", true).unwrap();
    assert_eq!(health_of(&mut m, VFS[0]), DeviceHealth::Healthy);
    // administratively up, operationally down (its VF link state forced down on the PF):
    // rdma-dev calls that NetdevDown; for the kubelet it is the pod's business, not a fault
    net.set_vf_link_state("ens2f0", 0, LinkState::Disable)
        .unwrap();
    assert_eq!(
        host.sysfs()
            .read("/sys/class/net/ens2f0v0/operstate".as_ref())
            .unwrap()
            .trim(),
        "down"
    );
    assert_eq!(health_of(&mut m, VFS[0]), DeviceHealth::Healthy);
    net.set_vf_link_state("ens2f0", 0, LinkState::Auto).unwrap();
    net.set_link_up(&Netns::Host, "ens2f0v0", false).unwrap();
    assert_eq!(health_of(&mut m, VFS[0]), DeviceHealth::Healthy);
    // the PF's link is the physical port: that is a fault
    net.set_link_up(&Netns::Host, "ens2f0", false).unwrap();
    assert_eq!(
        health_of(&mut m, VFS[0]),
        DeviceHealth::Unhealthy(vec![Fault::PfLinkDown {
            pf_netdev: Some("ens2f0".into())
        }])
    );
}

#[test]
fn a_bad_config_change_keeps_the_loaded_one() {
    let host = reference_host();
    let dir = tempfile::tempdir().unwrap();
    let mut m = monitor(&host, dir.path());
    assert_eq!(m.poll().unwrap().resources.len(), 1);
    std::fs::write(dir.path().join("config.json"), "{not json").unwrap();
    let s = m.poll().unwrap();
    assert_eq!(s.resources.keys().collect::<Vec<_>>(), [VHCA]);
    std::fs::write(dir.path().join("config.json"), r#"{"mode":"hca"}"#).unwrap();
    let s = m.poll().unwrap();
    assert_eq!(s.resources.keys().collect::<Vec<_>>(), ["rdma/hca"]);
}
