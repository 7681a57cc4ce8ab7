//! Host-trait failures reach callers through `Named` with the operation, its value and its
//! target, on the simulator (whose errno matches the kernel's, see netops_conformance.rs).

use sriov_core::{HostOp, HostTarget, Named, Netns, RdmaNetnsMode, VlanConfig, VlanProto};
use sysfs_sim::{Fault, FaultOp, Target, Trigger};

#[test]
fn a_refused_vf_vlan_names_the_pf_the_vf_and_the_vlan() {
    let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    host.inject(Fault::new(
        FaultOp::SetVf,
        Target::Exact("ens2f0/vf3".into()),
        libc::EOPNOTSUPP,
        Trigger::Once,
    ));
    let net = Named(host.net_ops());
    let vlan = VlanConfig::new(111, 0, VlanProto::Dot1Q).unwrap();
    let err = net.set_vf_vlan("ens2f0", 3, vlan).unwrap_err();
    assert_eq!(err.op, HostOp::SetVfVlan(vlan));
    assert_eq!(
        err.target,
        HostTarget::Vf {
            pf: "ens2f0".into(),
            index: 3
        }
    );
    assert_eq!(err.errno(), Some(libc::EOPNOTSUPP));
    assert_eq!(
        err.to_string(),
        "set VF vlan of ens2f0 vf 3 to vlan 111 qos 0 proto 802.1q: Operation not supported (os error 95)"
    );
    // through sriov_core::Error as well, unchanged
    let err = sriov_core::Error::from(err);
    assert!(
        err.to_string().starts_with("set VF vlan of ens2f0 vf 3"),
        "{err}"
    );
}

#[test]
fn a_move_into_a_namespace_that_has_the_name_names_both_sides() {
    let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    let pod = host.add_netns("pod1").unwrap();
    let net = Named(host.net_ops());
    net.set_link_up(&Netns::Host, "ens2f0v0", false).unwrap();
    net.move_link(&Netns::Host, "ens2f0v0", &pod).unwrap();
    net.rename_link(&pod, "ens2f0v0", "ens2f0v1").unwrap();
    let err = net.move_link(&Netns::Host, "ens2f0v1", &pod).unwrap_err();
    assert_eq!(err.errno(), Some(libc::EEXIST));
    assert_eq!(
        err.to_string(),
        "move link ens2f0v1 to /var/run/netns/pod1: File exists (os error 17)"
    );
    let err = net.rename_link(&pod, "missing", "net1").unwrap_err();
    assert_eq!(
        err.to_string(),
        "rename link missing in /var/run/netns/pod1 to net1: No such device (os error 19)"
    );
}

#[test]
fn rdma_failures_name_the_device_and_the_mode() {
    let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    let rdma = Named(host.rdma_ops());
    let pod = host.add_netns("pod1").unwrap();
    // the mode cannot change while another namespace exists
    let err = rdma.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap_err();
    assert_eq!(err.errno(), Some(libc::EBUSY));
    assert_eq!(
        err.to_string(),
        "set the RDMA netns mode of the RDMA subsystem to exclusive: Device or resource busy (os error 16)"
    );
    // moves are refused in shared mode
    let err = rdma.move_device(&Netns::Host, "mlx5_2", &pod).unwrap_err();
    assert_eq!(err.errno(), Some(libc::EOPNOTSUPP));
    assert!(
        err.to_string()
            .starts_with("move RDMA device mlx5_2 in host to /var/run/netns/pod1: "),
        "{err}"
    );
}

#[test]
fn a_vf_is_found_by_its_pci_address_and_other_functions_are_told_apart() {
    use sriov_core::discovery::lookup_vf;
    use sriov_core::{Error, FunctionRole};
    let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    let fs = host.sysfs();
    let found = lookup_vf(&fs, "0000:3b:00.5".parse().unwrap()).unwrap();
    assert_eq!(found.pf.pci.to_string(), "0000:3b:00.0");
    assert_eq!(found.pf.netdev.as_deref(), Some("ens2f0"));
    assert_eq!(found.vf.index, 3);
    assert_eq!(found.vf.netdev.as_deref(), Some("ens2f0v3"));
    assert_eq!(found.vf.driver.as_deref(), Some("mlx5_core"));

    let err = lookup_vf(&fs, "0000:3b:00.0".parse().unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotAVf {
                role: FunctionRole::PhysicalFunction,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "0000:3b:00.0: not a virtual function but an SR-IOV physical function"
    );
    let err = lookup_vf(&fs, "0000:5e:00.2".parse().unwrap()).unwrap_err();
    assert!(matches!(err, Error::NoSuchDevice { .. }), "{err}");
    // a VF moved into a pod has no netdev in the host's view, but is still found
    let pod = host.add_netns("pod1").unwrap();
    let net = host.net_ops();
    use sriov_core::NetOps;
    net.move_link(&Netns::Host, "ens2f0v3", &pod).unwrap();
    let found = lookup_vf(&fs, "0000:3b:00.5".parse().unwrap()).unwrap();
    assert_eq!(found.vf.netdev, None);
}
