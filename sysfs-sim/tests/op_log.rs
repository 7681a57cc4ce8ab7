//! The operation log as a plugin's tests use it: configure a VF as the SR-IOV CNI plugin does
//! (PF-side VLAN, MAC and spoof checking, then its netdev moved into the pod, renamed, given
//! the MAC and brought up), undo it as its DEL does, and assert that the undo did exactly the
//! inverse of each configuration step, newest first, and that the host is as it was.

use sriov_core::{LinkInfo, MacAddress, NetOps, Netns, VfState, VlanConfig, VlanProto, discover};
use sysfs_sim::{
    AdminState, Fault, FaultOp, Op, OpRecord, Preset, SimHost, SimNetOps, Target, Trigger,
};

const PF: &str = "ens2f0";
const VF: u32 = 3;
const VF_NETDEV: &str = "ens2f0v3";
const POD_IFNAME: &str = "net1";
const MAC: MacAddress = MacAddress([0x02, 0x00, 0x00, 0x00, 0x11, 0x03]);

/// What the plugin saves before it changes anything, to restore it on DEL.
#[derive(Debug, Clone)]
struct Saved {
    vf: VfState,
    netdev: LinkInfo,
}

fn save(net: &SimNetOps) -> Saved {
    Saved {
        vf: net.vfs(PF).unwrap()[VF as usize].state,
        netdev: net.link(&Netns::Host, VF_NETDEV).unwrap(),
    }
}

fn vlan111() -> VlanConfig {
    VlanConfig::new(111, 0, VlanProto::Dot1Q).unwrap()
}

/// The PF-side steps of ADD; stops at the first failure.
fn configure_vf_table(net: &SimNetOps) -> std::io::Result<()> {
    net.set_vf_vlan(PF, VF, vlan111())?;
    net.set_vf_mac(PF, VF, MAC)?;
    net.set_vf_spoofchk(PF, VF, true)
}

/// ADD: the PF side, then the netdev into the pod.
fn configure(net: &SimNetOps, pod: &Netns) -> std::io::Result<()> {
    configure_vf_table(net)?;
    net.move_link(&Netns::Host, VF_NETDEV, pod)?;
    net.rename_link(pod, VF_NETDEV, POD_IFNAME)?;
    net.set_link_mac(pod, POD_IFNAME, MAC)?;
    net.set_link_up(pod, POD_IFNAME, true)
}

/// DEL's PF side: the saved VF-table state back.
fn undo_vf_table(net: &SimNetOps, saved: &Saved) {
    net.set_vf_spoofchk(PF, VF, saved.vf.spoofchk).unwrap();
    net.set_vf_mac(PF, VF, saved.vf.mac).unwrap();
    net.set_vf_vlan(PF, VF, saved.vf.vlan).unwrap();
}

/// DEL: the netdev back to the host as it was, then the PF side.
fn undo(net: &SimNetOps, pod: &Netns, saved: &Saved) {
    net.set_link_up(pod, POD_IFNAME, false).unwrap();
    let mac = saved.netdev.mac.unwrap();
    net.set_link_mac(pod, POD_IFNAME, mac).unwrap();
    net.rename_link(pod, POD_IFNAME, &saved.netdev.name)
        .unwrap();
    net.move_link(pod, &saved.netdev.name, &Netns::Host)
        .unwrap();
    undo_vf_table(net, saved);
}

/// The operation that undoes `op`, from the state saved before it.
fn inverse(op: &Op, saved: &Saved) -> Op {
    match op.clone() {
        Op::SetVfVlan { pf, vf, .. } => Op::SetVfVlan {
            pf,
            vf,
            vlan: saved.vf.vlan,
        },
        Op::SetVfMac { pf, vf, .. } => Op::SetVfMac {
            pf,
            vf,
            mac: saved.vf.mac,
        },
        Op::SetVfSpoofchk { pf, vf, .. } => Op::SetVfSpoofchk {
            pf,
            vf,
            spoofchk: saved.vf.spoofchk,
        },
        Op::MoveLink { ns, link, to } => Op::MoveLink {
            ns: to,
            link,
            to: ns,
        },
        Op::RenameLink { ns, from, to } => Op::RenameLink {
            ns,
            from: to,
            to: from,
        },
        Op::SetLinkMac { ns, link, .. } => Op::SetLinkMac {
            ns,
            link,
            mac: saved.netdev.mac.unwrap(),
        },
        Op::SetLinkAdmin {
            ns,
            link,
            state: AdminState::Up,
        } => Op::SetLinkAdmin {
            ns,
            link,
            state: AdminState::Down,
        },
        other => panic!("the test has no inverse for {other}"),
    }
}

/// The undo a log of configuration steps calls for: the inverse of each step that succeeded,
/// newest first.
fn expected_undo(config: &[OpRecord], saved: &Saved) -> Vec<OpRecord> {
    config
        .iter()
        .rev()
        .filter(|r| r.errno.is_none())
        .map(|r| OpRecord::ok(inverse(&r.op, saved)))
        .collect()
}

fn reference() -> (SimHost, Netns) {
    let host = Preset::Reference.build(7).unwrap();
    let pod = host.add_netns("pod").unwrap();
    (host, pod)
}

#[test]
fn undoing_a_vf_configuration_does_the_inverse_steps_in_reverse_order() {
    let (host, pod) = reference();
    let net = host.net_ops();
    let before = discover(&host.sysfs()).unwrap();
    let saved = save(&net);

    let config_mark = host.log_mark();
    configure(&net, &pod).unwrap();
    let config = host.ops_since(config_mark);
    let vf = |op| OpRecord::ok(op);
    assert_eq!(
        config,
        [
            vf(Op::SetVfVlan {
                pf: PF.into(),
                vf: VF,
                vlan: vlan111(),
            }),
            vf(Op::SetVfMac {
                pf: PF.into(),
                vf: VF,
                mac: MAC,
            }),
            vf(Op::SetVfSpoofchk {
                pf: PF.into(),
                vf: VF,
                spoofchk: true,
            }),
            vf(Op::MoveLink {
                ns: Netns::Host,
                link: VF_NETDEV.into(),
                to: pod.clone(),
            }),
            vf(Op::RenameLink {
                ns: pod.clone(),
                from: VF_NETDEV.into(),
                to: POD_IFNAME.into(),
            }),
            vf(Op::SetLinkMac {
                ns: pod.clone(),
                link: POD_IFNAME.into(),
                mac: MAC,
            }),
            vf(Op::SetLinkAdmin {
                ns: pod.clone(),
                link: POD_IFNAME.into(),
                state: AdminState::Up,
            }),
        ]
    );
    let in_pod = net.link(&pod, POD_IFNAME).unwrap();
    assert!(in_pod.oper_up && in_pod.mac == Some(MAC), "{in_pod:?}");

    let undo_mark = host.log_mark();
    undo(&net, &pod, &saved);
    assert_eq!(host.ops_since(undo_mark), expected_undo(&config, &saved));

    // and the host is as it was
    assert_eq!(net.vfs(PF).unwrap()[VF as usize].state, saved.vf);
    assert_eq!(net.link(&Netns::Host, VF_NETDEV).unwrap(), saved.netdev);
    assert_eq!(discover(&host.sysfs()).unwrap(), before);
    let pod_links: Vec<String> = net
        .links(&pod)
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(pod_links, ["lo"]);
}

#[test]
fn a_failed_step_is_logged_with_its_errno_and_only_the_steps_before_it_are_undone() {
    let (host, pod) = reference();
    let net = host.net_ops();
    let saved = save(&net);
    host.inject(Fault::new(
        FaultOp::MoveLink,
        Target::Exact(VF_NETDEV.into()),
        libc::EBUSY,
        Trigger::Once,
    ));

    let config_mark = host.log_mark();
    let err = configure(&net, &pod).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EBUSY));
    let config = host.ops_since(config_mark);
    assert_eq!(config.len(), 4, "{config:?}");
    assert_eq!(
        config[3],
        OpRecord {
            op: Op::MoveLink {
                ns: Netns::Host,
                link: VF_NETDEV.into(),
                to: pod.clone(),
            },
            errno: Some(libc::EBUSY),
        }
    );
    assert!(config[..3].iter().all(|r| r.errno.is_none()), "{config:?}");
    assert_eq!(net.link(&Netns::Host, VF_NETDEV).unwrap(), saved.netdev);

    let undo_mark = host.log_mark();
    undo_vf_table(&net, &saved);
    let undo_ops = host.ops_since(undo_mark);
    assert_eq!(undo_ops, expected_undo(&config, &saved));
    assert_eq!(undo_ops.len(), 3);
    assert_eq!(net.vfs(PF).unwrap()[VF as usize].state, saved.vf);
}

#[test]
fn operations_print_as_the_commands_that_do_them() {
    let pod = Netns::named("pod");
    let ops = [
        (
            Op::SetVfVlan {
                pf: PF.into(),
                vf: VF,
                vlan: vlan111(),
            },
            "ip link set ens2f0 vf 3 vlan 111 qos 0 proto 802.1q",
        ),
        (
            Op::MoveLink {
                ns: Netns::Host,
                link: VF_NETDEV.into(),
                to: pod.clone(),
            },
            "ip link set ens2f0v3 netns pod",
        ),
        (
            Op::RenameLink {
                ns: pod.clone(),
                from: VF_NETDEV.into(),
                to: POD_IFNAME.into(),
            },
            "ip netns exec pod ip link set ens2f0v3 name net1",
        ),
        (
            Op::WriteAttr {
                path: "/sys/bus/pci/devices/0000:3b:00.1/sriov_numvfs".into(),
                value: "4".into(),
            },
            "echo \"4\" > /sys/bus/pci/devices/0000:3b:00.1/sriov_numvfs",
        ),
    ];
    for (op, text) in ops {
        assert_eq!(op.to_string(), text);
    }
}
