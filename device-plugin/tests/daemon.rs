//! `rdma-sriov-dp` as a separate process on a rendered reference host, against both kubelet
//! stand-ins (Rust tonic and Python grpcio): one test body each, run on both.

mod common;

use std::time::{Duration, Instant};

use common::{Bed, Kind, SEED_CONFIG, VFS, VHCA, WAIT, ids, reference_host};
use device_plugin::Health;
use device_plugin::kubelet_sim::{KubeletSim, PythonKubelet, SimError};
use sriov_core::{PciAddress, Sysfs};

macro_rules! on_both_stand_ins {
    ($($body:ident),* $(,)?) => {$(
        mod $body {
            #[tokio::test]
            async fn tonic() {
                if let Some(bed) = super::Bed::<super::KubeletSim>::seed().await {
                    super::$body(bed).await;
                }
            }
            #[tokio::test]
            async fn grpcio() {
                if let Some(bed) = super::Bed::<super::PythonKubelet>::seed().await {
                    super::$body(bed).await;
                }
            }
        }
    )*};
}

on_both_stand_ins!(
    registration_and_the_8_devices,
    allocate_hands_out_exactly_the_vfs_devices,
    unknown_and_unhealthy_ids_are_refused_and_nothing_is_written,
    ten_kubelet_restarts_each_re_registered,
    pf_link_down_is_seen_on_list_and_watch,
    vf_removed_by_writing_sriov_numvfs_is_seen,
    sigterm_removes_the_socket,
    a_thousand_concurrent_allocates,
    preferred_allocation_answers,
    a_config_change_is_picked_up_without_restart,
);

async fn ready<K: Kind>(bed: &Bed<K>) {
    let k = &bed.kubelet;
    let done = k
        .wait_until("8 healthy devices", WAIT, |o| {
            !o.registrations.is_empty() && o.healthy(VHCA) == 8
        })
        .await;
    if done.is_err() {
        panic!(
            "{}: not ready; daemon log:\n{}",
            k.stack(),
            bed.daemon_log()
        );
    }
}

async fn registration_and_the_8_devices<K: Kind>(bed: Bed<K>) {
    ready(&bed).await;
    let o = bed.kubelet.observed();
    let r = &o.registrations[0];
    assert_eq!(r.resource, VHCA);
    assert_eq!(
        r.endpoint, "rdma-sriov-dp.sock",
        "the bare socket file name"
    );
    assert_eq!(r.version, "v1beta1");
    assert!(r.options.get_preferred_allocation_available);
    assert!(!r.options.pre_start_required);
    let devices = &o.devices[VHCA];
    assert_eq!(
        devices.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        VFS
    );
    assert!(
        devices
            .iter()
            .all(|d| d.health == Health::Healthy && d.numa_nodes == [0])
    );
    for line in [
        "max_vfs = 8",
        "cur_vfs = 8",
        "Registered device plugin with Kubelet",
        "exposing devices: [&Device{ID:0000:3b:00.2,Health:Healthy,NUMA:0,}",
    ] {
        bed.wait_log(line).await;
    }
}

async fn allocate_hands_out_exactly_the_vfs_devices<K: Kind>(bed: Bed<K>) {
    ready(&bed).await;
    let r = bed
        .kubelet
        .allocate(VHCA, &ids(&["0000:3b:00.5", "0000:3b:01.0"]))
        .await
        .unwrap();
    let specs: Vec<(&str, &str, &str)> = r
        .devices
        .iter()
        .map(|d| {
            (
                d.container_path.as_str(),
                d.host_path.as_str(),
                d.permissions.as_str(),
            )
        })
        .collect();
    let dev = |p: &'static str| (p, p, "rw");
    assert_eq!(
        specs,
        [
            dev("/dev/infiniband/uverbs5"),
            dev("/dev/infiniband/umad5"),
            dev("/dev/infiniband/issm5"),
            dev("/dev/infiniband/uverbs8"),
            dev("/dev/infiniband/umad8"),
            dev("/dev/infiniband/issm8"),
            dev("/dev/infiniband/rdma_cm"),
        ],
        "exactly these VFs' devices, never /dev/infiniband whole"
    );
    assert_eq!(r.envs["PCIDEVICE_RDMA_VHCA"], "0000:3b:00.5,0000:3b:01.0");
    let info: serde_json::Value =
        serde_json::from_str(&r.envs["PCIDEVICE_RDMA_VHCA_INFO"]).unwrap();
    assert_eq!(
        info["0000:3b:00.5"],
        serde_json::json!({"generic": {"deviceID": "0000:3b:00.5"},
            "rdma": {"uverbs": "/dev/infiniband/uverbs5", "umad": "/dev/infiniband/umad5",
                     "rdma_cm": "/dev/infiniband/rdma_cm", "rdma_dev": "mlx5_5"}})
    );
    assert_eq!(r.envs.len(), 2);
    assert!(r.mounts.is_empty() && r.annotations.is_empty() && r.cdi_devices.is_empty());
    let file = bed.devinfo_dir().join("rdma-vhca-0000:3b:00.5-device.json");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        serde_json::json!({"type": "pci", "version": "1.1.0", "pci": {"pci-address": "0000:3b:00.5",
            "rdma-device": "mlx5_5", "pf-pci-address": "0000:3b:00.0"}})
    );
    assert!(
        bed.devinfo_dir()
            .join("rdma-vhca-0000:3b:01.0-device.json")
            .exists()
    );
}

async fn unknown_and_unhealthy_ids_are_refused_and_nothing_is_written<K: Kind>(bed: Bed<K>) {
    ready(&bed).await;
    for bad in [
        ids(&["0000:3b:09.0"]),
        ids(&["0000:3b:00.2", "not-a-device"]),
    ] {
        match bed.kubelet.allocate(VHCA, &bad).await {
            Err(SimError::Call(e)) => {
                assert_eq!(e.code, tonic::Code::InvalidArgument);
                assert!(
                    e.message.contains(bad.last().unwrap()),
                    "{}: {}",
                    bed.kubelet.stack(),
                    e.message
                );
            }
            other => panic!("{bad:?} accepted: {other:?}"),
        }
    }
    // an unhealthy VF: PF link down
    let mut bed = bed;
    let pf0: PciAddress = "0000:3b:00.0".parse().unwrap();
    bed.host
        .host()
        .set_physical_link(pf0, sysfs_sim::PhysicalLink::Down)
        .unwrap();
    bed.host.render().unwrap();
    bed.kubelet
        .wait_until("all unhealthy", WAIT, |o| o.healthy(VHCA) == 0)
        .await
        .unwrap();
    match bed.kubelet.allocate(VHCA, &ids(&["0000:3b:00.3"])).await {
        Err(SimError::Call(e)) => {
            assert_eq!(e.code, tonic::Code::InvalidArgument);
            assert!(
                e.message.contains("0000:3b:00.3") && e.message.contains("unhealthy"),
                "{}",
                e.message
            );
        }
        other => panic!("an unhealthy VF was allocated: {other:?}"),
    }
    let written: Vec<_> = std::fs::read_dir(bed.devinfo_dir())
        .map(|d| d.count())
        .into_iter()
        .collect();
    assert!(
        written.is_empty() || written == [0],
        "device-info files were written: {written:?}"
    );
}

async fn ten_kubelet_restarts_each_re_registered<K: Kind>(bed: Bed<K>) {
    ready(&bed).await;
    let mut took = Vec::new();
    for n in 2..=11 {
        let restarted = bed.kubelet.restart().await.unwrap();
        let o = bed
            .kubelet
            .wait_until("re-registration", WAIT, |o| o.registrations.len() >= n)
            .await
            .unwrap_or_else(|e| {
                panic!("restart {}: {e}; daemon log:\n{}", n - 1, bed.daemon_log())
            });
        took.push(
            o.registrations[n - 1]
                .at
                .saturating_duration_since(restarted),
        );
        bed.kubelet
            .wait_until("devices again", WAIT, |o| o.healthy(VHCA) == 8)
            .await
            .unwrap();
    }
    eprintln!(
        "{}: re-registration after each of 10 kubelet restarts: {took:?}",
        bed.kubelet.stack()
    );
    assert!(bed.socket().exists());
}

async fn pf_link_down_is_seen_on_list_and_watch<K: Kind>(mut bed: Bed<K>) {
    ready(&bed).await;
    let pf0: PciAddress = "0000:3b:00.0".parse().unwrap();
    bed.host
        .host()
        .set_physical_link(pf0, sysfs_sim::PhysicalLink::Down)
        .unwrap();
    bed.host.render().unwrap();
    let changed = Instant::now();
    let o = bed
        .kubelet
        .wait_until("8 unhealthy", WAIT, |o| o.healthy(VHCA) == 0)
        .await
        .unwrap();
    let seen = o.updated_at[VHCA].saturating_duration_since(changed);
    assert_eq!(o.devices[VHCA].len(), 8, "unhealthy devices stay listed");
    bed.host
        .host()
        .set_physical_link(pf0, sysfs_sim::PhysicalLink::Up)
        .unwrap();
    bed.host.render().unwrap();
    let back = Instant::now();
    let o = bed
        .kubelet
        .wait_until("8 healthy", WAIT, |o| o.healthy(VHCA) == 8)
        .await
        .unwrap();
    eprintln!(
        "{}: PF link down seen after {seen:?}, up after {:?}",
        bed.kubelet.stack(),
        o.updated_at[VHCA].saturating_duration_since(back)
    );
    bed.wait_log("PF link ens2f0 down").await;
}

fn write_numvfs(host: &sysfs_sim::SimHost, value: &str) {
    host.sysfs()
        .write(
            "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs".as_ref(),
            value,
        )
        .unwrap();
}

async fn vf_removed_by_writing_sriov_numvfs_is_seen<K: Kind>(mut bed: Bed<K>) {
    ready(&bed).await;
    // the kernel's rule: through 0 to change a non-zero count
    write_numvfs(bed.host.host(), "0");
    write_numvfs(bed.host.host(), "4");
    common::bring_pfs_up_after_reset(bed.host.host());
    bed.host.render().unwrap();
    let o = bed
        .kubelet
        .wait_until("4 healthy, 4 vanished", WAIT, |o| {
            o.healthy(VHCA) == 4 && o.devices.get(VHCA).is_some_and(|d| d.len() == 8)
        })
        .await
        .unwrap();
    let unhealthy: Vec<&str> = o.devices[VHCA]
        .iter()
        .filter(|d| d.health == Health::Unhealthy)
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(unhealthy, &VFS[4..]);
    bed.wait_log("function vanished").await;
    write_numvfs(bed.host.host(), "0");
    write_numvfs(bed.host.host(), "8");
    common::bring_pfs_up_after_reset(bed.host.host());
    bed.host.render().unwrap();
    bed.kubelet
        .wait_until("8 healthy again", WAIT, |o| o.healthy(VHCA) == 8)
        .await
        .unwrap();
}

async fn sigterm_removes_the_socket<K: Kind>(mut bed: Bed<K>) {
    ready(&bed).await;
    assert!(bed.socket().exists());
    let status = bed.terminate().await;
    assert!(status.success(), "{status:?}; log:\n{}", bed.daemon_log());
    assert!(!bed.socket().exists(), "the socket is removed on SIGTERM");
    assert!(bed.daemon_log().contains("received SIGTERM"));
}

async fn a_thousand_concurrent_allocates<K: Kind>(bed: Bed<K>) {
    ready(&bed).await;
    let requests: Vec<Vec<String>> = (0..1000).map(|i| vec![VFS[i % 8].to_string()]).collect();
    let results = bed
        .kubelet
        .allocate_many(VHCA, requests.clone())
        .await
        .unwrap();
    assert_eq!(results.len(), 1000);
    for (request, result) in requests.iter().zip(&results) {
        let r = result
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", bed.kubelet.stack()));
        assert_eq!(r.envs["PCIDEVICE_RDMA_VHCA"], request[0]);
        let n = VFS.iter().position(|v| *v == request[0]).unwrap() + 2;
        assert_eq!(r.devices[0].host_path, format!("/dev/infiniband/uverbs{n}"));
    }
}

async fn preferred_allocation_answers<K: Kind>(bed: Bed<K>) {
    ready(&bed).await;
    let all = ids(&VFS);
    let k = &bed.kubelet;
    assert_eq!(k.preferred(VHCA, &all, &[], 2).await.unwrap(), &VFS[..2]);
    assert_eq!(
        k.preferred(VHCA, &all, &ids(&["0000:3b:01.1"]), 3)
            .await
            .unwrap(),
        ["0000:3b:01.1", "0000:3b:00.2", "0000:3b:00.3"]
    );
    // the same question in another order: the same answer
    let mut shuffled = all.clone();
    shuffled.reverse();
    assert_eq!(
        k.preferred(VHCA, &shuffled, &[], 2).await.unwrap(),
        &VFS[..2]
    );
    match k.preferred(VHCA, &all, &[], -1).await {
        Err(SimError::Call(e)) => assert_eq!(e.code, tonic::Code::InvalidArgument),
        other => panic!("a negative size was accepted: {other:?}"),
    }
}

async fn a_config_change_is_picked_up_without_restart<K: Kind>(bed: Bed<K>) {
    ready(&bed).await;
    std::fs::write(
        &bed.config,
        r#"{"resourceList":[{"resourceName":"first_two","resourcePrefix":"rdma","selectors":{"pfNames":["ens2f0#0-1"]}},
                            {"resourceName":"rest","resourcePrefix":"rdma","selectors":{"pfNames":["ens2f0#2-7"]}}]}"#,
    )
    .unwrap();
    bed.kubelet
        .wait_until("the new resources", WAIT, |o| {
            // the stand-in reports a registration and the first device list as separate
            // events, in either order: wait for both
            let registered =
                |endpoint: &str| o.registrations.iter().any(|r| r.endpoint == endpoint);
            o.healthy("rdma/first_two") == 2
                && o.healthy("rdma/rest") == 6
                && registered("rdma_first_two.sock")
                && registered("rdma_rest.sock")
        })
        .await
        .unwrap_or_else(|e| panic!("{e}; log:\n{}", bed.daemon_log()));
    // the old resource's plugin stopped and removed its socket
    for _ in 0..300 {
        if !bed.socket().exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!bed.socket().exists());
}

/// Writes a ledger under `root` in which a pod holds VF `held` of the reference host.
fn ledger_holding(root: &std::path::Path, held: &str) {
    use sriov_core::ledger::PersistentPool;
    use sriov_core::pool::{Owner, PoolVf, Selector};
    let pf: PciAddress = "0000:3b:00.0".parse().unwrap();
    let vfs = VFS.iter().map(|v| PoolVf {
        pci: v.parse().unwrap(),
        pf,
        numa_node: Some(0),
    });
    let mut pool =
        PersistentPool::open(vfs, root.join("var/lib/cni/sriov/vf-ledger.json")).unwrap();
    let owner = Owner::attachment("a51debf7e1eb", "net1").unwrap();
    pool.allocate(Selector::Pci(held.parse().unwrap()), &owner)
        .unwrap();
}

async fn a_vf_a_pod_holds_is_listed_but_never_preferred<K: Kind>() {
    let Some(bed) = Bed::<K>::start(reference_host(), SEED_CONFIG, |root| {
        ledger_holding(root, "0000:3b:00.2")
    })
    .await
    else {
        return;
    };
    ready(&bed).await;
    // the kubelet owns allocation: the held VF is listed, and healthy
    assert_eq!(bed.kubelet.observed().devices[VHCA].len(), 8);
    let all = ids(&VFS);
    assert_eq!(
        bed.kubelet.preferred(VHCA, &all, &[], 3).await.unwrap(),
        ["0000:3b:00.3", "0000:3b:00.4", "0000:3b:00.5"]
    );
    // must-include wins, even for a held VF
    assert_eq!(
        bed.kubelet
            .preferred(VHCA, &all, &ids(&["0000:3b:00.2"]), 2)
            .await
            .unwrap(),
        ["0000:3b:00.2", "0000:3b:00.3"]
    );
}

#[tokio::test]
async fn a_vf_a_pod_holds_is_listed_but_never_preferred_tonic() {
    a_vf_a_pod_holds_is_listed_but_never_preferred::<KubeletSim>().await;
}

#[tokio::test]
async fn a_vf_a_pod_holds_is_listed_but_never_preferred_grpcio() {
    a_vf_a_pod_holds_is_listed_but_never_preferred::<PythonKubelet>().await;
}

#[tokio::test]
async fn start_up_leaves_the_vfs_of_a_rendered_tree_alone() {
    // On a rendered tree the VFs already exist (writing sriov_numvfs there would create
    // nothing): the daemon finds cur_vfs = max_vfs and writes nothing. Enabling itself is
    // tested in-process against the simulator (tests/startup.rs).
    let Some(bed) = Bed::<KubeletSim>::seed().await else {
        return;
    };
    ready(&bed).await;
    let numvfs = std::fs::read_to_string(
        bed.root()
            .join("sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs"),
    )
    .unwrap();
    assert_eq!(numvfs.trim(), "8");
}
