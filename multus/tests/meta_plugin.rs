//! The `multus` binary run as a runtime runs it, its delegates replaced by the no-op delegate
//! that records every call: both configuration formats, both annotation forms, deviceIDs from
//! the kubelet checkpoint, rollback, DEL without a cache and with an empty netns, error codes.

mod common;

use common::{Call, Node};
use serde_json::{Value, json};

fn ok(out: &cni_types::testing::Outcome) {
    assert!(
        out.succeeded(),
        "exit {}: stdout {} stderr {}",
        out.exit_code,
        out.stdout_text(),
        out.stderr_text()
    );
}

fn annotations(networks: &str) -> Value {
    json!({"io.kubernetes.cri.pod-annotations": {"k8s.v1.cni.cncf.io/networks": networks}})
}

const NS: &str = "netns=/var/run/netns/multus-test-none";

#[test]
fn static_2018_format_runs_the_master_first_and_names_the_others_by_a_counter() {
    let node = Node::new();
    let mut sriov = node.noop(json!({}));
    sriov["name"] = json!("sriov-net");
    let mut flannel = node.noop(json!({"ip": "10.244.1.4/24"}));
    flannel["name"] = json!("flannel-net");
    flannel["masterplugin"] = json!(true);
    let conf = json!({"cniVersion": "0.3.1", "name": "multus-demo", "type": "multus",
        "hostRoot": node.root(), "delegates": [sriov, flannel]});

    let out = Call::new("ADD").run(&conf);
    ok(&out);
    assert_eq!(
        node.calls(),
        [
            format!("ADD flannel-net eth0 {NS}"),
            format!("ADD sriov-net net0 {NS}")
        ]
    );
    // the master's result, in the configuration's version
    let result = out.stdout_json().unwrap();
    assert_eq!(result["cniVersion"], "0.3.1");
    assert_eq!(result["ips"][0]["address"], "10.244.1.4/24");
    // the host root given by the `hostRoot` key reaches the delegates' environment
    assert_eq!(
        std::fs::read_to_string(node.record.join("root-ADD-net0")).unwrap(),
        node.root().to_str().unwrap()
    );
    // the master plugin flag is Multus's, not the delegate's
    assert!(
        node.stdin_of("ADD", "flannel-net", "eth0")
            .get("masterplugin")
            .is_none()
    );

    node.clear_calls();
    ok(&Call::new("DEL").run(&conf));
    assert_eq!(
        node.calls(),
        [
            format!("DEL sriov-net net0 {NS}"),
            format!("DEL flannel-net eth0 {NS}")
        ]
    );
    assert!(!node.cni_dir().join("ctr1").exists());
}

#[test]
fn thin_format_cluster_network_default_networks_and_the_comma_annotation() {
    let node = Node::new();
    std::fs::create_dir_all(node.conf_dir()).unwrap();
    std::fs::write(
        node.conf_dir().join("10-cbr0.conflist"),
        node.list("cbr0", vec![node.noop(json!({"ip": "10.244.1.4/24"}))])
            .to_string(),
    )
    .unwrap();
    node.nad_yaml(
        "kube-system",
        "mgmt-net",
        None,
        &node.list("mgmt-net", vec![node.noop(json!({}))]),
    );
    node.nad_json(
        "default",
        "rdma-net",
        None,
        &node.list(
            "rdma-net",
            vec![node.noop(json!({"ip": "192.168.111.20/24"}))],
        ),
    );
    node.nad_yaml(
        "other",
        "extra",
        None,
        &node.list("extra", vec![node.noop(json!({}))]),
    );
    let conf = json!({"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus",
        "hostRoot": node.root(), "nadDir": node.nad_dir(), "confDir": node.conf_dir(),
        "clusterNetwork": "cbr0", "defaultNetworks": ["mgmt-net"],
        "capabilities": {"io.kubernetes.cri.pod-annotations": true},
        "runtimeConfig": annotations("rdma-net@ib1, other/extra")});

    let out = Call::new("ADD").run(&conf);
    ok(&out);
    assert_eq!(
        node.calls(),
        [
            format!("ADD cbr0 eth0 {NS}"),
            format!("ADD mgmt-net net1 {NS}"),
            format!("ADD rdma-net ib1 {NS}"),
            format!("ADD extra net3 {NS}"),
        ]
    );
    // CNI_ARGS reach the delegates with the pod identity: the stdin does not carry them, the
    // cache does
    let cache: Value =
        serde_json::from_slice(&std::fs::read(node.cni_dir().join("ctr1")).unwrap()).unwrap();
    let args = &cache["delegates"][1]["cniArgs"];
    assert_eq!(args[0], json!(["IgnoreUnknown", "1"]));
    assert!(
        args.as_array()
            .unwrap()
            .contains(&json!(["K8S_POD_NAME", "mofed-test-pod"]))
    );

    // the network status, beside the cache
    let status: Value = serde_json::from_slice(
        &std::fs::read(node.cni_dir().join("ctr1.network-status.json")).unwrap(),
    )
    .unwrap();
    let names: Vec<(&str, &str, bool)> = status
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["interface"].as_str().unwrap(),
                s["default"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("cbr0", "eth0", true),
            ("kube-system/mgmt-net", "net1", false),
            ("default/rdma-net", "ib1", false),
            ("other/extra", "net3", false),
        ]
    );
    assert_eq!(status[0]["ips"], json!(["10.244.1.4"]));
    assert_eq!(status[2]["ips"], json!(["192.168.111.20"]));
    assert_eq!(status[2]["mac"], "02:00:00:00:00:01");

    node.clear_calls();
    ok(&Call::new("DEL").run(&conf));
    assert_eq!(
        node.calls(),
        [
            format!("DEL extra net3 {NS}"),
            format!("DEL rdma-net ib1 {NS}"),
            format!("DEL mgmt-net net1 {NS}"),
            format!("DEL cbr0 eth0 {NS}"),
        ]
    );
    assert!(!node.cni_dir().join("ctr1.network-status.json").exists());
}

#[test]
fn the_json_annotation_sets_interface_mac_and_cni_args() {
    let node = Node::new();
    let mut with_mac = node.noop(json!({}));
    with_mac["capabilities"] = json!({"mac": true});
    node.nad_yaml(
        "default",
        "rdma-net",
        None,
        &node.list("rdma-net", vec![with_mac]),
    );
    let annotation = r#"[{"name":"rdma-net","interface":"net7","mac":"02:11:22:33:44:55",
        "cni-args":{"debug":true}}]"#;
    let conf = node.thin(
        node.list("cbr0", vec![node.noop(json!({}))]),
        json!({"runtimeConfig": annotations(annotation)}),
    );
    ok(&Call::new("ADD").run(&conf));
    let stdin = node.stdin_of("ADD", "rdma-net", "net7");
    assert_eq!(stdin["runtimeConfig"]["mac"], "02:11:22:33:44:55");
    assert_eq!(stdin["args"]["cni"]["debug"], true);
    // the cluster network gets no pod annotations
    assert!(
        node.stdin_of("ADD", "cbr0", "eth0")
            .get("runtimeConfig")
            .is_none()
    );

    // a bad annotation is the meta plugin's configuration error, before anything runs
    let node = Node::new();
    let conf = node.thin(
        node.list("cbr0", vec![node.noop(json!({}))]),
        json!({"runtimeConfig": annotations("Bad_Name")}),
    );
    let out = Call::new("ADD").run(&conf);
    assert_eq!(out.error().unwrap().code.code(), 7);
    assert!(node.calls().is_empty());
}

/// A NAD of resource `rdma/vhca` whose list is two plugins: the first declares the `deviceID`
/// capability (as `sriov` would), the second does not (as `rdma`).
fn rdma_nad(node: &Node) {
    let mut first = node.noop(json!({"tag": "sriov"}));
    first["capabilities"] = json!({"deviceID": true});
    let second = node.noop(json!({"tag": "rdma"}));
    node.nad_yaml(
        "default",
        "rdma-net",
        Some("rdma/vhca"),
        &node.list("rdma-net", vec![first, second]),
    );
}

#[test]
fn device_ids_from_the_checkpoint_sorted_and_handed_out_in_order() {
    let node = Node::new();
    rdma_nad(&node);
    // kubelet >= 1.20 layout; this pod holds 0000:3b:00.3 and 0000:3b:00.2, listed in that order
    common::install_checkpoint(node.root(), "checkpoint-v2.json");
    let devinfo = node.root().join("var/run/k8s.cni.cncf.io/devinfo");
    std::fs::create_dir_all(devinfo.join("dp")).unwrap();
    let info = r#"{"type":"pci","version":"1.1.0","pci":{"pci-address":"0000:3b:00.2","rdma-device":"mlx5_2","pf-pci-address":"0000:3b:00.0"}}"#;
    std::fs::write(devinfo.join("dp/rdma-vhca-0000:3b:00.2-device.json"), info).unwrap();
    let conf = node.thin(
        node.list("cbr0", vec![node.noop(json!({}))]),
        json!({"runtimeConfig": annotations("rdma-net, rdma-net@net2")}),
    );
    let call = Call::new("ADD").args(
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p2;K8S_POD_UID=0c5d8a77-1e2b-4f60-9a3c-5b7e2d4f6a80",
    );
    ok(&call.run(&conf));
    for (ifname, id) in [("net1", "0000:3b:00.2"), ("net2", "0000:3b:00.3")] {
        let sriov = node.stdin_of("ADD", "rdma-net", &format!("{ifname}-sriov"));
        let rdma = node.stdin_of("ADD", "rdma-net", &format!("{ifname}-rdma"));
        for plugin in [&sriov, &rdma] {
            assert_eq!(plugin["deviceID"], id, "{ifname}");
            assert_eq!(plugin["pciBusID"], id, "{ifname}");
        }
        assert_eq!(sriov["runtimeConfig"]["deviceID"], id);
        assert!(
            rdma.get("runtimeConfig").is_none(),
            "rdma declares no deviceID capability"
        );
    }
    // the device-info file copied for the delegate, read-only, and in the network status
    let copy = devinfo.join("cni/default-rdma-net-ctr1_net1");
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), info);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o444
    );
    let status: Value = serde_json::from_slice(
        &std::fs::read(node.cni_dir().join("ctr1.network-status.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(status[1]["device-info"]["pci"]["rdma-device"], "mlx5_2");
    assert!(status[2].get("device-info").is_none());

    ok(&Call::new("DEL").args(&call.args).run(&conf));
    assert!(!copy.exists());
}

#[test]
fn device_ids_from_the_flat_checkpoint_of_old_kubelets() {
    let node = Node::new();
    rdma_nad(&node);
    common::install_checkpoint(node.root(), "checkpoint-v1.json");
    let conf = node.thin(
        node.list("cbr0", vec![node.noop(json!({}))]),
        json!({"runtimeConfig": annotations("rdma-net")}),
    );
    ok(&Call::new("ADD").run(&conf));
    assert_eq!(
        node.stdin_of("ADD", "rdma-net", "net1-rdma")["deviceID"],
        "0000:3b:00.5"
    );
}

#[test]
fn more_attachments_than_devices_or_no_kubelet_data_fail_before_anything_is_attached() {
    let node = Node::new();
    rdma_nad(&node);
    let conf = node.thin(
        node.list("cbr0", vec![node.noop(json!({}))]),
        json!({"runtimeConfig": annotations("rdma-net, rdma-net@net2")}),
    );
    // no checkpoint, no socket
    let out = Call::new("ADD").run(&conf);
    let err = out.error().unwrap();
    assert_eq!(err.code.code(), 11, "{err}");
    assert!(err.msg.contains("rdma/vhca"), "{err}");
    // one device, two attachments
    common::install_checkpoint(node.root(), "checkpoint-v1.json");
    let err = Call::new("ADD").run(&conf).error().unwrap();
    assert_eq!(err.code.code(), 7, "{err}");
    assert!(
        err.msg.contains("rdma/vhca") && err.msg.contains("2 attachments, 1 devices"),
        "{err}"
    );
    // the checkpoint is read by pod UID
    let err = Call::new("ADD")
        .args("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=mofed-test-pod")
        .run(&conf)
        .error()
        .unwrap();
    assert_eq!(err.code.code(), 4, "{err}");
    assert!(err.msg.contains("K8S_POD_UID"), "{err}");
    assert!(node.calls().is_empty());
    assert!(!node.cni_dir().join("ctr1").exists());
}

/// Cluster network and attachments a, b, c; `fail` is the noop options of b.
fn three_attachments(node: &Node, fail: Value) -> Value {
    for (name, extra) in [("a", json!({})), ("b", fail), ("c", json!({}))] {
        node.nad_yaml(
            "default",
            name,
            None,
            &node.list(name, vec![node.noop(extra)]),
        );
    }
    node.thin(
        node.list("cbr0", vec![node.noop(json!({}))]),
        json!({"runtimeConfig": annotations("a,b,c")}),
    )
}

#[test]
fn a_failure_at_attachment_k_deletes_k_to_0_in_reverse_and_returns_its_error() {
    let node = Node::new();
    let conf = three_attachments(
        &node,
        json!({"failOn": "ADD", "code": 117, "msg": "VF 0000:3b:00.2 is busy"}),
    );
    let out = Call::new("ADD").run(&conf);
    let err = out.error().unwrap();
    assert_eq!(
        (err.code.code(), err.msg.as_str()),
        (117, "VF 0000:3b:00.2 is busy")
    );
    assert_eq!(
        node.calls(),
        [
            format!("ADD cbr0 eth0 {NS}"),
            format!("ADD a net1 {NS}"),
            format!("ADD b net2 {NS}"),
            format!("DEL b net2 {NS}"),
            format!("DEL a net1 {NS}"),
            format!("DEL cbr0 eth0 {NS}"),
        ]
    );
    // every rollback DEL succeeded: nothing left to undo, no cache
    assert!(!node.cni_dir().join("ctr1").exists());
}

#[test]
fn every_delegate_error_code_is_passed_through() {
    for code in [1u32, 4, 5, 7, 11, 50, 117, 999] {
        for position in ["cluster", "attachment"] {
            let node = Node::new();
            let fail = json!({"failOn": "ADD", "code": code, "msg": format!("failed with {code}")});
            let (cluster, attachment) = if position == "cluster" {
                (fail, json!({}))
            } else {
                (json!({}), fail)
            };
            node.nad_yaml(
                "default",
                "a",
                None,
                &node.list("a", vec![node.noop(attachment)]),
            );
            let conf = node.thin(
                node.list("cbr0", vec![node.noop(cluster)]),
                json!({"runtimeConfig": annotations("a")}),
            );
            let err = Call::new("ADD").run(&conf).error().unwrap();
            assert_eq!(err.code.code(), code, "{position}");
            assert_eq!(err.msg, format!("failed with {code}"), "{position}");

            // and on DEL
            let node = Node::new();
            let fail = json!({"failOn": "DEL", "code": code, "msg": "del failed"});
            let conf = node.thin(node.list("cbr0", vec![node.noop(fail)]), json!({}));
            ok(&Call::new("ADD").run(&conf));
            let err = Call::new("DEL").run(&conf).error().unwrap();
            assert_eq!((err.code.code(), err.msg.as_str()), (code, "del failed"));
        }
    }
}

#[test]
fn del_continues_past_failures_reports_the_first_and_keeps_the_cache() {
    let node = Node::new();
    let conf = three_attachments(&node, json!({"failOn": "DEL", "code": 11, "msg": "busy"}));
    ok(&Call::new("ADD").run(&conf));
    node.clear_calls();
    let err = Call::new("DEL").run(&conf).error().unwrap();
    assert_eq!((err.code.code(), err.msg.as_str()), (11, "busy"));
    assert_eq!(
        node.calls(),
        [
            format!("DEL c net3 {NS}"),
            format!("DEL b net2 {NS}"),
            format!("DEL a net1 {NS}"),
            format!("DEL cbr0 eth0 {NS}"),
        ]
    );
    assert!(node.cni_dir().join("ctr1").exists(), "kept for a retry");
}

#[test]
fn del_after_the_cache_was_lost() {
    let node = Node::new();
    let conf = three_attachments(&node, json!({}));
    ok(&Call::new("ADD").run(&conf));
    std::fs::remove_file(node.cni_dir().join("ctr1")).unwrap();
    node.clear_calls();
    // with the pod's data (identity, annotation): the delegates are found again
    ok(&Call::new("DEL").run(&conf));
    assert_eq!(
        node.calls(),
        [
            format!("DEL c net3 {NS}"),
            format!("DEL b net2 {NS}"),
            format!("DEL a net1 {NS}"),
            format!("DEL cbr0 eth0 {NS}"),
        ]
    );
    // without any: success, nothing to do
    node.clear_calls();
    ok(&Call::new("DEL").args("IgnoreUnknown=1").run(&conf));
    assert!(node.calls().is_empty());
    // a cache that does not decode counts as lost
    std::fs::create_dir_all(node.cni_dir()).unwrap();
    std::fs::write(node.cni_dir().join("ctr1"), "{not json").unwrap();
    ok(&Call::new("DEL").args("IgnoreUnknown=1").run(&conf));
}

#[test]
fn del_with_an_empty_netns_reaches_every_delegate() {
    let node = Node::new();
    let conf = three_attachments(&node, json!({}));
    ok(&Call::new("ADD").run(&conf));
    node.clear_calls();
    ok(&Call::new("DEL").netns("").run(&conf));
    assert_eq!(
        node.calls(),
        [
            "DEL c net3 netns=",
            "DEL b net2 netns=",
            "DEL a net1 netns=",
            "DEL cbr0 eth0 netns="
        ]
    );
    assert!(!node.cni_dir().join("ctr1").exists());
}

#[test]
fn check_status_and_gc_are_delegated() {
    let node = Node::new();
    node.nad_yaml(
        "default",
        "a",
        None,
        &node.list("a", vec![node.noop(json!({}))]),
    );
    let mut cluster = node.list("cbr0", vec![node.noop(json!({}))]);
    cluster["cniVersion"] = json!("1.1.0");
    let mut conf = node.thin(cluster, json!({"runtimeConfig": annotations("a")}));
    conf["cniVersion"] = json!("1.1.0");
    ok(&Call::new("ADD").run(&conf));
    let mut other = Call::new("ADD");
    other.container_id = "ctr2".into();
    ok(&other.run(&conf));
    node.clear_calls();

    ok(&Call::new("CHECK").run(&conf));
    assert_eq!(
        node.calls(),
        [
            format!("CHECK cbr0 eth0 {NS}"),
            format!("CHECK a net1 {NS}")
        ]
    );
    node.clear_calls();
    let mut status = Call::new("STATUS");
    status.container_id = String::new();
    status.ifname = String::new();
    ok(&status.run(&conf));
    assert_eq!(node.calls(), ["STATUS cbr0  netns="]);
    node.clear_calls();

    // GC: ctr2 is not valid any more
    let mut gc_conf = conf.clone();
    gc_conf["cni.dev/valid-attachments"] = json!([{"containerID": "ctr1", "ifname": "eth0"}]);
    let mut gc = Call::new("GC");
    gc.container_id = String::new();
    gc.ifname = String::new();
    ok(&gc.run(&gc_conf));
    let calls = node.calls();
    assert_eq!(
        calls[..2],
        [format!("DEL a net1 {NS}"), format!("DEL cbr0 eth0 {NS}")]
    );
    assert_eq!(calls[2], "GC cbr0  netns=");
    assert!(node.cni_dir().join("ctr1").exists());
    assert!(!node.cni_dir().join("ctr2").exists());
    // a CHECK of a container never added: unknown container
    let mut unknown = Call::new("CHECK");
    unknown.container_id = "ctr9".into();
    assert_eq!(unknown.run(&conf).error().unwrap().code.code(), 3);
}

#[test]
fn configuration_errors_name_the_key_with_code_7() {
    let node = Node::new();
    let cluster = node.list("cbr0", vec![node.noop(json!({}))]);
    for (more, key) in [
        (
            json!({"defaultNetworks": "rdma-net"}),
            "\"defaultNetworks\"",
        ),
        (json!({"logLevel": "loud"}), "\"logLevel\""),
        (json!({"cniDir": 5}), "\"cniDir\""),
        (
            json!({"delegates": [{"type": "a", "masterplugin": "yes"}]}),
            "\"delegates[0].masterplugin\"",
        ),
        (json!({"delegates": [{"name": "x"}]}), "\"delegates[0]\""),
        (json!({"delegates": []}), "\"delegates\""),
        (
            json!({"clusterNetwork": "nowhere", "delegates": []}),
            "clusterNetwork \"nowhere\"",
        ),
        (
            json!({"kubeconfig": "/etc/kubernetes/kubeconfig"}),
            "\"kubeconfig\"",
        ),
    ] {
        let conf = node.thin(cluster.clone(), more);
        let err = Call::new("ADD").run(&conf).error().unwrap();
        assert_eq!(err.code.code(), 7, "{err}");
        assert!(err.msg.contains(key), "{key}: {err}");
    }
    let conf = node.thin(
        cluster,
        json!({"readinessindicatorfile": "/run/flannel/subnet.env"}),
    );
    let err = Call::new("ADD").run(&conf).error().unwrap();
    assert_eq!(err.code.code(), 11, "{err}");
    assert!(node.calls().is_empty());
}
