//! Checks shared by the conformance suite and the property tests.

use rdma_dev::attrs::{Guid, LinkLayer, PortState};
use rdma_dev::{CharDeviceKind, MatchRule, discover_rdma, ibdev2netdev};
use sriov_core::{Netns, Sysfs};
use sysfs_sim::SimHost;
use sysfs_sim::model::NetdevKind;

/// Checks every device a namespace's view shows against the simulator's model: the right PCI
/// function, GUID and char devices, and the port's netdev is the one of the same PCI function,
/// present exactly when it is in this namespace, up exactly when it is operationally up.
pub fn check_view(host: &SimHost, ns: &Netns, fs: &dyn Sysfs, what: &str) {
    let model = host.model();
    let ns_id = match ns {
        Netns::Host => 0,
        Netns::Path(p) => model.ns_by_path(p).unwrap(),
    };
    let devices = discover_rdma(fs).unwrap();
    let mut expected = model.rdma_devices_in(ns_id);
    let mut seen: Vec<String> = devices.iter().map(|d| d.name.clone()).collect();
    expected.sort();
    seen.sort();
    assert_eq!(seen, expected, "{what}: devices visible in {ns}");
    for dev in &devices {
        let truth = model.rdma.by_name(&dev.name).unwrap();
        assert_eq!(dev.pci, Some(truth.pci), "{what}: {} PCI", dev.name);
        assert_eq!(
            dev.node_guid,
            Some(Guid(truth.node_guid)),
            "{what}: {}",
            dev.name
        );
        let kinds: Vec<(CharDeviceKind, &str)> = dev
            .char_devices
            .iter()
            .map(|c| (c.kind, c.name.as_str()))
            .collect();
        let (u, m) = (
            format!("uverbs{}", truth.uverbs),
            format!("umad{}", truth.umad),
        );
        let issm = format!("issm{}", truth.umad);
        assert_eq!(
            kinds,
            [
                (CharDeviceKind::Uverbs, u.as_str()),
                (CharDeviceKind::Umad, m.as_str()),
                (CharDeviceKind::Issm, issm.as_str())
            ],
            "{what}: {} char devices",
            dev.name
        );
        assert_eq!(dev.ports.len(), 1);
        let port = &dev.ports[0];
        assert_eq!(port.link_layer, Some(LinkLayer::Ethernet));
        let netdev = model
            .netdevs
            .values()
            .find(|d| d.kind == NetdevKind::Pci(truth.pci))
            .unwrap();
        assert_eq!(port.netdevs.len(), 1, "{what}: {}", dev.name);
        let nd = &port.netdevs[0];
        assert_eq!(nd.name, netdev.name, "{what}: {} netdev", dev.name);
        assert_eq!(nd.rule, MatchRule::GidNdev);
        assert_eq!(
            nd.present,
            netdev.ns == ns_id,
            "{what}: {} present",
            dev.name
        );
        let up = nd.present && model.oper_up(netdev);
        assert_eq!(nd.up, up, "{what}: {} up", dev.name);
        let want_state = if model.oper_up(netdev) {
            PortState::Active
        } else {
            PortState::Down
        };
        assert_eq!(port.state, Some(want_state), "{what}: {} state", dev.name);
    }
    // ibdev2netdev agrees with discovery, line for line
    let lines = ibdev2netdev(fs, rdma_dev::Detail::Brief).unwrap();
    assert_eq!(lines.len(), devices.len(), "{what}: one line per port");
    for (line, dev) in lines.iter().zip(&devices) {
        let nd = &dev.ports[0].netdevs[0];
        assert_eq!(line.device, dev.name);
        assert_eq!(line.netdev.as_deref(), Some(nd.name.as_str()));
        assert_eq!(line.up, nd.up);
    }
}
