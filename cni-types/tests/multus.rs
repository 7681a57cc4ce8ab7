//! Multus inputs: NetworkAttachmentDefinition, the networks annotation in both forms, naming.

use cni_types::multus::{self, NetworkAttachmentDefinition};
use serde_json::json;

#[test]
fn nad_with_a_conflist_and_a_resource_name() {
    let config = json!({
        "cniVersion": "1.0.0", "name": "sriov-net",
        "plugins": [{"type": "sriov", "vlan": 100, "ipam": {"type": "dhcp"}},
                    {"type": "rdma"}]
    })
    .to_string();
    let nad = json!({
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": "sriov-net", "namespace": "default",
                     "annotations": {"k8s.v1.cni.cncf.io/resourceName": "mellanox.com/cx5_sriov_rdma"},
                     "uid": "1234"},
        "spec": {"config": config}
    });
    let nad = NetworkAttachmentDefinition::parse(nad.to_string().as_bytes()).unwrap();
    assert_eq!(nad.resource_name(), Some("mellanox.com/cx5_sriov_rdma"));
    assert_eq!(nad.metadata.extra["uid"], "1234");
    let list = nad.config_list().unwrap();
    assert_eq!(list.name, "sriov-net");
    assert_eq!(list.plugins.len(), 2);
    assert_eq!(list.plugins[0].extra["vlan"], 100);
    assert_eq!(list.plugins[0].ipam.as_ref().unwrap().plugin_type, "dhcp");
}

#[test]
fn nad_with_a_single_plugin_config_becomes_a_one_plugin_list() {
    let config = r#"{"cniVersion":"0.3.1","name":"macvlan-conf","type":"macvlan","master":"eth1"}"#;
    let nad = NetworkAttachmentDefinition {
        spec: multus::NadSpec {
            config: config.into(),
        },
        ..Default::default()
    };
    assert_eq!(nad.resource_name(), None);
    let list = nad.config_list().unwrap();
    assert_eq!(list.effective_version().unwrap(), "0.3.1");
    assert_eq!(list.name, "macvlan-conf");
    assert_eq!(list.plugins[0].plugin_type, "macvlan");
    assert_eq!(list.plugins[0].extra["master"], "eth1");

    let bad = NetworkAttachmentDefinition {
        spec: multus::NadSpec {
            config: r#"{"name":"x"}"#.into(),
        },
        ..Default::default()
    };
    assert_eq!(
        bad.config_list().unwrap_err().to_string(),
        "error parsing configuration: missing 'type'"
    );
    let empty = NetworkAttachmentDefinition::default();
    assert!(empty.config_list().is_err());
}

#[test]
fn annotation_comma_form() {
    let nets =
        multus::parse_networks_annotation(" net-a , other/net-b@ib1,net-c ", "pods").unwrap();
    assert_eq!(nets.len(), 3);
    assert_eq!(nets[0].name, "net-a");
    assert_eq!(nets[0].namespace.as_deref(), Some("pods"));
    assert_eq!(nets[0].interface, None);
    assert_eq!(nets[1].name, "net-b");
    assert_eq!(nets[1].namespace.as_deref(), Some("other"));
    assert_eq!(nets[1].interface.as_deref(), Some("ib1"));
    assert_eq!(
        multus::interface_names("eth0", &nets),
        ["eth0", "net1", "ib1", "net3"]
    );

    for bad in ["a/b/c", "a@b@c", "Net-A", "net_a", "-a", "ns/a@Eth1"] {
        assert!(
            multus::parse_networks_annotation(bad, "d").is_err(),
            "{bad}"
        );
    }
    assert!(multus::parse_networks_annotation("", "d").is_err());
}

#[test]
fn annotation_json_form_with_every_field() {
    let value = json!([
        {"name": "sriov-net", "namespace": "kube-system", "interface": "net7",
         "mac": "c2:b0:57:49:47:f1", "ips": ["10.56.217.171/24", "fd00::5"],
         "deviceID": "0000:03:00.2", "cni-args": {"foo": "bar", "n": 3},
         "default-route": ["10.56.217.1"], "infiniband-guid": "c2:b0:57:49:47:f1:00:01"},
        {"name": "plain", "interfaceRequest": "legacy0"}
    ])
    .to_string();
    let nets = multus::parse_networks_annotation(&value, "default").unwrap();
    let n = &nets[0];
    assert_eq!(n.namespace.as_deref(), Some("kube-system"));
    assert_eq!(n.interface.as_deref(), Some("net7"));
    assert_eq!(n.mac.as_deref(), Some("c2:b0:57:49:47:f1"));
    assert_eq!(n.ips, ["10.56.217.171/24", "fd00::5"]);
    assert_eq!(n.device_id.as_deref(), Some("0000:03:00.2"));
    assert_eq!(n.cni_args.as_ref().unwrap()["n"], 3);
    assert_eq!(
        n.default_route,
        ["10.56.217.1".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(n.extra["infiniband-guid"], "c2:b0:57:49:47:f1:00:01");
    // Missing namespace: the pod's; deprecated interfaceRequest honoured.
    assert_eq!(nets[1].namespace.as_deref(), Some("default"));
    assert_eq!(nets[1].interface.as_deref(), Some("legacy0"));
    assert_eq!(
        multus::interface_names("eth0", &nets),
        ["eth0", "net7", "legacy0"]
    );
    // Emitting and parsing again gives the same selection.
    let again =
        multus::parse_networks_annotation(&serde_json::to_string(&nets).unwrap(), "x").unwrap();
    assert_eq!(again, nets);

    for bad in [
        json!([{"name": "a", "mac": "zz:zz"}]),
        json!([{"name": "a", "ips": ["10.0.0.300"]}]),
        json!([{"name": "a", "ips": ["10.0.0.1/40"]}]),
        json!({"name": "not-a-list"}),
    ] {
        assert!(
            multus::parse_networks_annotation(&bad.to_string(), "d").is_err(),
            "{bad}"
        );
    }
}

#[test]
fn naming_rule() {
    assert_eq!(multus::interface_name(0, "eth0", None), "eth0");
    assert_eq!(multus::interface_name(1, "eth0", None), "net1");
    assert_eq!(multus::interface_name(2, "eth0", Some("")), "net2");
    assert_eq!(multus::interface_name(2, "eth0", Some("ib0")), "ib0");
}
