//! The engine's cases on the simulated reference host: ADD then DEL puts everything back;
//! exactly what ADD did is undone by DEL, in reverse; refusals change nothing; the netns
//! deleted before DEL (the VF back as `dev<N>`); a host VF named `eth0`; DEL repeated; a late
//! DEL of an old owner; a reclaimed record of a dead pod; GC and reconcile.

mod common;

use common::*;
use sriov_cni::engine::{AttachRequest, ReconcileMode};
use sriov_cni::ipam::NoIpam;
use sriov_cni::{DelOutcome, Error};
use sriov_core::{MacAddress, NetOps, Netns, VfConfig, VlanConfig, VlanProto};
use sysfs_sim::{AdminState, Op, OpRecord, Preset};

fn config() -> VfConfig {
    VfConfig {
        vlan: Some(VlanConfig::new(111, 0, VlanProto::Dot1Q).unwrap()),
        mac: Some("02:00:00:00:11:03".parse().unwrap()),
        spoofchk: Some(true),
        trust: Some(true),
        ..VfConfig::default()
    }
}

fn request(c: &str, netns: &Netns, i: u32) -> AttachRequest {
    AttachRequest {
        owner: owner(c),
        netns: netns.clone(),
        vf: vf(i),
        config: config(),
    }
}

#[test]
fn add_then_del_puts_everything_back() {
    let host = Preset::Reference.build(7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let before = snapshots(&host);
    let pod = host.add_netns("pod-a").unwrap();
    let mut e = engine(&host, dir.path());
    let att = e.add(&request("a", &pod, 3), &mut NoIpam).unwrap();
    let result = att.result();
    let iface = &result.interfaces[0];
    assert_eq!(
        (
            iface.name.as_str(),
            iface.mac.as_str(),
            iface.pci_id.as_str()
        ),
        ("net1", "02:00:00:00:11:03", "0000:3b:00.5")
    );
    assert_eq!(iface.sandbox, "/var/run/netns/pod-a");
    let link = host.net_ops().link(&pod, "net1").unwrap();
    assert!(link.admin_up);
    let table = host.net_ops().vfs("ens2f0").unwrap();
    assert_eq!(table[3].state.vlan.id().get(), 111);
    assert_eq!(table[3].state.mac.to_string(), "02:00:00:00:11:03");
    assert!(table[3].state.trust && table[3].state.spoofchk);
    // the host no longer has the netdev
    assert_eq!(snapshot(&host, 3).name, None);
    e.check(&owner("a"), &pod, link.mac, &config()).unwrap();

    assert_eq!(
        e.del(&owner("a"), &mut NoIpam).unwrap(),
        DelOutcome::Released(vf(3))
    );
    assert_eq!(snapshots(&host), before);
    assert_eq!(
        e.del(&owner("a"), &mut NoIpam).unwrap(),
        DelOutcome::NothingHeld
    );
    assert!(matches!(
        e.check(&owner("a"), &pod, None, &config()),
        Err(Error::CheckFailed { .. })
    ));
}

/// The strict expectation: DEL does the inverse of each change ADD made, newest first.
#[test]
fn del_undoes_exactly_what_add_did_in_reverse() {
    let host = Preset::Reference.build(7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pod = host.add_netns("pod-a").unwrap();
    let orig = snapshot(&host, 3);
    let mut e = engine(&host, dir.path());
    let mark = host.log_mark();
    e.add(&request("a", &pod, 3), &mut NoIpam).unwrap();
    let tmp = Netns::named("sriov-tmp-0000-3b-00-5");
    let pf = || "ens2f0".to_string();
    let mac: MacAddress = "02:00:00:00:11:03".parse().unwrap();
    let host_ns = Netns::Host;
    assert_eq!(
        host.ops_since(mark),
        [
            Op::SetVfVlan {
                pf: pf(),
                vf: 3,
                vlan: config().vlan.unwrap()
            },
            Op::SetVfMac {
                pf: pf(),
                vf: 3,
                mac
            },
            Op::SetVfSpoofchk {
                pf: pf(),
                vf: 3,
                spoofchk: true
            },
            Op::SetVfTrust {
                pf: pf(),
                vf: 3,
                trust: true
            },
            Op::AddNetns {
                name: "sriov-tmp-0000-3b-00-5".into()
            },
            Op::SetLinkAdmin {
                ns: host_ns.clone(),
                link: "ens2f0v3".into(),
                state: AdminState::Down
            },
            Op::MoveLink {
                ns: host_ns.clone(),
                link: "ens2f0v3".into(),
                to: tmp.clone()
            },
            Op::RenameLink {
                ns: tmp.clone(),
                from: "ens2f0v3".into(),
                to: "net1".into()
            },
            Op::MoveLink {
                ns: tmp.clone(),
                link: "net1".into(),
                to: pod.clone()
            },
            Op::DelNetns { ns: tmp.clone() },
            Op::SetLinkMac {
                ns: pod.clone(),
                link: "net1".into(),
                mac
            },
            Op::SetLinkAdmin {
                ns: pod.clone(),
                link: "net1".into(),
                state: AdminState::Up
            },
        ]
        .map(OpRecord::ok)
    );
    let transit = sriov_cni::engine::transit_name(vf(3));
    assert_eq!(transit, "sr0000-3b-00.5");
    let mark = host.log_mark();
    e.del(&owner("a"), &mut NoIpam).unwrap();
    assert_eq!(
        host.ops_since(mark),
        [
            // the netdev, newest change first: up, moved (via a transit name), MAC
            Op::SetLinkAdmin {
                ns: pod.clone(),
                link: "net1".into(),
                state: AdminState::Down
            },
            Op::RenameLink {
                ns: pod.clone(),
                from: "net1".into(),
                to: transit.clone()
            },
            Op::MoveLink {
                ns: pod.clone(),
                link: transit.clone(),
                to: host_ns.clone()
            },
            Op::RenameLink {
                ns: host_ns.clone(),
                from: transit,
                to: "ens2f0v3".into()
            },
            Op::SetLinkMac {
                ns: host_ns.clone(),
                link: "ens2f0v3".into(),
                mac: orig.mac.unwrap()
            },
            // then the PF side, in the reverse of the anchor's order
            Op::SetVfTrust {
                pf: pf(),
                vf: 3,
                trust: orig.state.trust
            },
            Op::SetVfSpoofchk {
                pf: pf(),
                vf: 3,
                spoofchk: orig.state.spoofchk
            },
            Op::SetVfMac {
                pf: pf(),
                vf: 3,
                mac: orig.state.mac
            },
            Op::SetVfVlan {
                pf: pf(),
                vf: 3,
                vlan: orig.state.vlan
            },
        ]
        .map(OpRecord::ok)
    );
}

#[test]
fn a_vf_held_by_a_live_pod_is_refused_and_nothing_changes() {
    let host = Preset::Reference.build(7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = host.add_netns("pod-a").unwrap();
    let b = host.add_netns("pod-b").unwrap();
    let mut e = engine(&host, dir.path());
    e.add(&request("a", &a, 3), &mut NoIpam).unwrap();
    let before = snapshots(&host);
    let mark = host.log_mark();
    let err = e.add(&request("b", &b, 3), &mut NoIpam).unwrap_err();
    assert!(matches!(err, Error::VfInUse { .. }), "{err}");
    assert_eq!(err.cni_code().code(), 100);
    assert_eq!(host.ops_since(mark), []);
    assert_eq!(snapshots(&host), before);
    // a late DEL of someone who holds nothing touches nothing
    assert_eq!(
        e.del(&owner("b"), &mut NoIpam).unwrap(),
        DelOutcome::NothingHeld
    );
    assert_eq!(host.ops_since(mark), []);
}

#[test]
fn netns_deleted_before_del_the_vf_comes_back_renamed_and_is_restored() {
    let host = Preset::Reference.build(7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let before = snapshots(&host);
    let pod = host.add_netns("pod-a").unwrap();
    let mut e = engine(&host, dir.path());
    // the pod's name for VF 3 is the host name of VF 1: on return the kernel must rename it
    let req = AttachRequest {
        owner: sriov_core::pool::Owner::attachment("a", "ens2f0v1").unwrap(),
        ..request("a", &pod, 3)
    };
    e.add(&req, &mut NoIpam).unwrap();
    host.del_netns(&pod).unwrap();
    let returned = snapshot(&host, 3).name.unwrap();
    assert!(returned.starts_with("dev"), "{returned}");
    // DEL with an empty CNI_NETNS is the same call: the engine uses the recorded namespace
    e.del(&req.owner, &mut NoIpam).unwrap();
    assert_eq!(snapshots(&host), before);
}

#[test]
fn a_dead_pods_record_is_reclaimed_by_the_next_add() {
    let host = Preset::Reference.build(7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let before = snapshots(&host);
    let a = host.add_netns("pod-a").unwrap();
    let b = host.add_netns("pod-b").unwrap();
    let mut e = engine(&host, dir.path());
    e.add(&request("a", &a, 3), &mut NoIpam).unwrap();
    host.del_netns(&a).unwrap();
    e.add(&request("b", &b, 3), &mut NoIpam).unwrap();
    // the old owner's late DEL does not touch the new owner's VF
    let mark = host.log_mark();
    assert_eq!(
        e.del(&owner("a"), &mut NoIpam).unwrap(),
        DelOutcome::NothingHeld
    );
    assert_eq!(host.ops_since(mark), []);
    assert!(host.net_ops().link(&b, "net1").is_ok());
    e.del(&owner("b"), &mut NoIpam).unwrap();
    assert_eq!(snapshots(&host), before);
}

#[test]
fn a_host_vf_named_eth0_works() {
    let host = Preset::Reference.build(7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    host.net_ops()
        .rename_link(&Netns::Host, "ens2f0v3", "eth0")
        .unwrap();
    let before = snapshots(&host);
    assert_eq!(before[3].name.as_deref(), Some("eth0"));
    let pod = host.add_netns("pod-a").unwrap();
    let mut e = engine(&host, dir.path());
    e.add(&request("a", &pod, 3), &mut NoIpam).unwrap();
    assert!(host.net_ops().link(&pod, "net1").is_ok());
    e.del(&owner("a"), &mut NoIpam).unwrap();
    assert_eq!(snapshots(&host), before);
}

#[test]
fn a_failed_add_undoes_everything() {
    use sysfs_sim::{Fault, FaultOp, Target, Trigger};
    let host = Preset::Reference.build(7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let before = snapshots(&host);
    let pod = host.add_netns("pod-a").unwrap();
    let mut e = engine(&host, dir.path());
    // the move into the pod fails
    host.inject(Fault::new(
        FaultOp::MoveLink,
        Target::Exact("net1".into()),
        libc::EEXIST,
        Trigger::Once,
    ));
    let err = e.add(&request("a", &pod, 3), &mut NoIpam).unwrap_err();
    assert!(matches!(err, Error::Host(_)), "{err}");
    assert_eq!(snapshots(&host), before);
    assert_eq!(
        e.del(&owner("a"), &mut NoIpam).unwrap(),
        DelOutcome::NothingHeld
    );
}

#[test]
fn mac_ebusy_is_retried() {
    use sysfs_sim::{Fault, FaultOp, Target, Trigger};
    let host = Preset::Reference.build(7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pod = host.add_netns("pod-a").unwrap();
    let mut e = engine(&host, dir.path());
    // vlan first, then 3 EBUSY answers to the MAC
    host.inject(Fault::new(
        FaultOp::SetVf,
        Target::Exact("ens2f0/vf3".into()),
        libc::EBUSY,
        Trigger::Nth(2),
    ));
    host.inject(Fault::new(
        FaultOp::SetVf,
        Target::Exact("ens2f0/vf3".into()),
        libc::EBUSY,
        Trigger::Nth(2),
    ));
    e.add(&request("a", &pod, 3), &mut NoIpam).unwrap();
    assert_eq!(
        host.net_ops().vfs("ens2f0").unwrap()[3]
            .state
            .mac
            .to_string(),
        "02:00:00:00:11:03"
    );
}

#[test]
fn gc_and_reconcile_put_back_what_is_not_valid() {
    let host = Preset::Reference.build(7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let before = snapshots(&host);
    let mut e = engine(&host, dir.path());
    let pods: Vec<Netns> = (0..4)
        .map(|i| host.add_netns(&format!("pod{i}")).unwrap())
        .collect();
    for (i, pod) in pods.iter().enumerate() {
        e.add(&request(&format!("c{i}"), pod, i as u32), &mut NoIpam)
            .unwrap();
    }
    let freed = e.gc(&[owner("c0"), owner("c1"), owner("c2")]).unwrap();
    assert_eq!(freed, [vf(3)]);
    host.del_netns(&pods[1]).unwrap();
    let plan = e.reconcile(ReconcileMode::DryRun).unwrap();
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].outcome, "planned");
    let done = e.reconcile(ReconcileMode::Apply).unwrap();
    assert_eq!(
        (done[0].pci.as_str(), done[0].outcome.as_str()),
        ("0000:3b:00.3", "restored")
    );
    assert!(
        e.reconcile(ReconcileMode::Apply).unwrap().is_empty(),
        "a second run does nothing"
    );
    for c in ["c0", "c2"] {
        e.del(&owner(c), &mut NoIpam).unwrap();
    }
    assert_eq!(snapshots(&host), before);
}
