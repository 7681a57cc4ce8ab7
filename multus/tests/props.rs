//! Properties of the parsers the meta plugin runs on outside input: its configuration and the
//! pod's networks (annotation, NetworkAttachmentDefinition files).

use cni_types::multus::{NetworkSelectionElement, interface_names, parse_networks_annotation};
use multus::config::{ConfigFormat, MultusConf};
use multus::nad_store::parse_nad;
use proptest::prelude::*;
use serde_json::{Value, json};

/// A DNS-1123 label, what a namespace, a name and an interface of the comma form may be.
fn label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?"
}

fn element() -> impl Strategy<Value = (Option<String>, String, Option<String>)> {
    (
        proptest::option::of(label()),
        label(),
        proptest::option::of(label()),
    )
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-zA-Z0-9/._-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("delegates".to_string()),
                    Just("type".to_string()),
                    Just("name".to_string()),
                    Just("masterplugin".to_string()),
                    Just("plugins".to_string()),
                    Just("cniVersion".to_string()),
                    Just("clusterNetwork".to_string()),
                    Just("defaultNetworks".to_string()),
                    Just("capabilities".to_string()),
                    Just("logLevel".to_string()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn the_comma_form_reads_back_what_was_written(
        elements in proptest::collection::vec(element(), 1..6),
    ) {
        let text = elements
            .iter()
            .map(|(ns, name, iface)| {
                let mut s = String::new();
                if let Some(ns) = ns { s.push_str(ns); s.push('/'); }
                s.push_str(name);
                if let Some(i) = iface { s.push('@'); s.push_str(i); }
                s
            })
            .collect::<Vec<_>>()
            .join(", ");
        let nets = parse_networks_annotation(&text, "pods").unwrap();
        prop_assert_eq!(nets.len(), elements.len());
        for (net, (ns, name, iface)) in nets.iter().zip(&elements) {
            prop_assert_eq!(&net.name, name);
            prop_assert_eq!(net.namespace.as_deref(), Some(ns.as_deref().unwrap_or("pods")));
            prop_assert_eq!(&net.interface, iface);
        }
        // interface names: requested ones kept, the others net<index>
        let names = interface_names("eth0", &nets);
        for (i, (_, _, iface)) in elements.iter().enumerate() {
            let want = iface.clone().unwrap_or_else(|| format!("net{}", i + 1));
            prop_assert_eq!(&names[i + 1], &want);
        }
    }

    #[test]
    fn the_json_form_reads_back_what_was_written(
        elements in proptest::collection::vec(element(), 1..6),
        mac in proptest::option::of(proptest::array::uniform6(any::<u8>())),
    ) {
        let given: Vec<NetworkSelectionElement> = elements
            .iter()
            .map(|(ns, name, iface)| NetworkSelectionElement {
                name: name.clone(),
                namespace: ns.clone(),
                interface: iface.clone(),
                mac: mac.map(|m| m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")),
                ..Default::default()
            })
            .collect();
        let text = serde_json::to_string(&given).unwrap();
        let nets = parse_networks_annotation(&text, "pods").unwrap();
        for (net, want) in nets.iter().zip(&given) {
            let mut want = want.clone();
            want.namespace.get_or_insert_with(|| "pods".to_string());
            prop_assert_eq!(net, &want);
        }
    }

    #[test]
    fn annotation_and_nad_parsers_never_panic(text in "\\PC{0,80}") {
        let _ = parse_networks_annotation(&text, "default");
        if let Ok(nad) = parse_nad(&text) {
            let _ = nad.config_list();
        }
    }

    #[test]
    fn the_config_parser_never_panics_on_any_json(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        if let Ok(conf) = MultusConf::parse(&bytes) {
            prop_assert!(!conf.delegates.is_empty() || conf.cluster_network.is_some());
        }
    }

    #[test]
    fn a_2018_config_puts_its_one_master_first_and_keeps_unknown_keys(
        count in 1usize..6,
        master_seed in any::<usize>(),
        unknown in "[a-z]{3,8}",
    ) {
        let master = master_seed % count;
        let delegates: Vec<Value> = (0..count)
            .map(|i| json!({"type": format!("plugin{i}"), "masterplugin": i == master}))
            .collect();
        let mut conf = json!({"name": "m", "type": "multus", "delegates": delegates});
        let key = format!("x-{unknown}");
        conf[&key] = json!({"kept": true});
        let parsed = MultusConf::parse(conf.to_string().as_bytes()).unwrap();
        prop_assert_eq!(parsed.format, ConfigFormat::Static2018);
        prop_assert_eq!(&parsed.delegates[0].plugins[0].plugin_type, &format!("plugin{master}"));
        prop_assert_eq!(parsed.delegates.len(), count);
        prop_assert_eq!(&parsed.extra[&key], &json!({"kept": true}));
        // two masters: an error naming the key
        if count > 1 {
            let mut two = conf.clone();
            for d in two["delegates"].as_array_mut().unwrap() { d["masterplugin"] = json!(true); }
            let err = MultusConf::parse(two.to_string().as_bytes()).unwrap_err();
            prop_assert!(err.to_string().contains("\"delegates\""));
        }
    }

    #[test]
    fn a_nad_reads_the_same_from_yaml_and_json(
        name in label(),
        resource in proptest::option::of("[a-z]{1,6}/[a-z]{1,6}"),
    ) {
        let config = json!({"cniVersion":"1.0.0","name":name,"type":"sriov"}).to_string();
        let mut meta = json!({"name": name});
        if let Some(r) = &resource {
            meta["annotations"] = json!({"k8s.v1.cni.cncf.io/resourceName": r});
        }
        let as_json = json!({"apiVersion":"k8s.cni.cncf.io/v1","kind":"NetworkAttachmentDefinition",
            "metadata": meta, "spec": {"config": config}}).to_string();
        let annotations = match &resource {
            Some(r) => format!("  annotations:\n    k8s.v1.cni.cncf.io/resourceName: {r}\n"),
            None => String::new(),
        };
        let as_yaml = format!("apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\n\
            metadata:\n  name: \"{name}\"\n{annotations}spec:\n  config: '{config}'\n");
        let a = parse_nad(&as_json).unwrap();
        let b = parse_nad(&as_yaml).unwrap();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.resource_name(), resource.as_deref());
        prop_assert_eq!(&a.config_list().unwrap().plugins[0].plugin_type, "sriov");
    }
}
