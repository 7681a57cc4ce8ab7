//! The `rdma` plugin's logic on the simulated reference host: the mode must be exclusive (the
//! error names the current one); the VF found by its admin MAC; exactly one RDMA device; DEL
//! moves it back, also without CNI_NETNS and after the pod's namespace was deleted; idempotent.

use sriov_cni::Error;
use sriov_cni::Host;
use sriov_cni::rdma::{RdmaAttach, RdmaPlugin, VfChoice};
use sriov_core::{NetOps, Netns, RdmaNetnsMode, RdmaOps};

#[test]
fn shared_mode_is_refused_naming_it() {
    let sim = sysfs_sim::Preset::Reference.build(1).unwrap();
    let host = Host::simulated(&sim);
    let pod = sim.add_netns("pod").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plugin = RdmaPlugin::new(&host, dir.path());
    let att = RdmaAttach {
        key: "n-c-net1".into(),
        netns: pod,
        vf: VfChoice::Pci("0000:3b:00.5".parse().unwrap()),
    };
    let err = plugin.add(&att).unwrap_err();
    assert!(matches!(
        err,
        Error::RdmaModeNotExclusive {
            mode: RdmaNetnsMode::Shared
        }
    ));
    assert!(err.to_string().contains("mode is shared"), "{err}");
    assert_eq!(err.cni_code().code(), 7);
    assert!(plugin.state("n-c-net1").unwrap().is_none());
}

#[test]
fn by_mac_into_the_pod_and_back_when_the_pod_is_gone() {
    let sim = sysfs_sim::Preset::Reference.build(1).unwrap();
    let host = Host::simulated(&sim);
    host.rdma.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap();
    let mac = "02:00:00:00:11:05".parse().unwrap();
    host.net.set_vf_mac("ens2f0", 3, mac).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plugin = RdmaPlugin::new(&host, dir.path());

    // a MAC no VF has: a clear error
    let pod = sim.add_netns("pod").unwrap();
    let none = RdmaAttach {
        key: "n-x-net1".into(),
        netns: pod.clone(),
        vf: VfChoice::AdminMac("02:00:00:00:99:99".parse().unwrap()),
    };
    assert!(matches!(
        plugin.add(&none),
        Err(Error::VfByMac { count: 0, .. })
    ));

    let att = RdmaAttach {
        key: "n-c-net1".into(),
        netns: pod.clone(),
        vf: VfChoice::AdminMac(mac),
    };
    assert_eq!(plugin.add(&att).unwrap(), "mlx5_5");
    assert_eq!(host.rdma.devices(&pod).unwrap(), ["mlx5_5"]);
    plugin.check("n-c-net1", &pod).unwrap();
    // DEL without CNI_NETNS: the state file names the namespace
    plugin.del("n-c-net1", None).unwrap();
    assert!(
        host.rdma
            .devices(&Netns::Host)
            .unwrap()
            .contains(&"mlx5_5".to_string())
    );
    assert!(plugin.state("n-c-net1").unwrap().is_none());

    // the pod's namespace deleted before DEL: the device is already home
    plugin.add(&att).unwrap();
    sim.del_netns(&pod).unwrap();
    plugin.del("n-c-net1", Some(&pod)).unwrap();
    plugin.del("n-c-net1", Some(&pod)).unwrap();
    assert!(
        host.rdma
            .devices(&Netns::Host)
            .unwrap()
            .contains(&"mlx5_5".to_string())
    );
}
