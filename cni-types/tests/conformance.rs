//! Every file under `tests/conformance/` (copied from the shared CNI vectors) drives a test
//! here; `every_vector_file_is_used` fails when a file is added that no test reads.

mod common;

use std::collections::BTreeSet;

use cni_types::config::{NetConf, NetConfList};
use cni_types::result::{AnyResult, Interface, IpConfig, IpConfig040, Route};
use cni_types::runtime::{CacheEntry, CniConfig, RuntimeConf};
use cni_types::skel::Command;
use cni_types::testing::{self, Env};
use cni_types::version::{self, Version, VersionInfo};
use cni_types::{CniError, ErrorCode, args::CniArgs, validate};
use common::*;
use serde_json::{Value, json};

/// The files the tests below read, relative to `tests/conformance` (with [`STDIN_FILES`]).
const USED: &[&str] = &[
    "README.md",
    "spec/netconf-list-dbnet-1.1.0.json",
    "spec/netconf-list-dbnet-1.1.0.jsonc",
    "spec/plugin-conf-capabilities-portMappings.json",
    "spec/plugin-conf-runtimeConfig-portMappings.fragment.txt",
    "spec/version-result-1.0.0.json",
    "spec/version-result-1.1.0.json",
    "spec/error-code7-1.1.0.json",
    "spec/add-02-host-local-ipam-result.json",
    "spec/add-03-bridge-result.json",
    "spec/add-05-tuning-result.json",
    "conversion/cases.json",
    "conversion/result-1.1.0.json",
    "conversion/result-1.1.0.as-1.0.0.json",
    "conversion/result-1.1.0.as-0.4.0.json",
    "conversion/result-1.1.0.as-0.1.0.json",
    "conversion/result-0.3.1.json",
    "conversion/result-0.3.1.as-0.1.0.json",
    "conversion/result-0.2.0.json",
    "conversion/result-0.1.0.json",
    "conversion/result-0.2.0-routes-without-gw.json",
    "conversion/result-0.3.1-no-ips.json",
    "conversion/route-all-fields.json",
    "conversion/ipconfig-1.x-interface-0.json",
    "conversion/ipconfig-1.x-no-interface.json",
    "conversion/ipconfig-0.4.0-interface-0.json",
    "conversion/prevresult-1.0.0-with-stray-version-field.json",
    "skel/validate-ifname.json",
    "skel/validate-containerid.json",
    "skel/validate-network-name.json",
    "skel/dispatch-cases.json",
    "skel/cni-args-cases.json",
    "skel/version-parse-cases.json",
    "skel/conflist-version-selection.json",
    "derived/gc-stdin-1.1.0-as-libcni-sends.json",
    "derived/gc-env.json",
    "derived/status-stdin-1.1.0.json",
    "derived/status-error-50.json",
    "derived/libcni-cache-cniCacheV1-example.json",
    "derived/runtimeConfig-injection.json",
];

fn list_files(dir: &std::path::Path, base: &std::path::Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            list_files(&p, base, out);
        } else {
            out.insert(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
        }
    }
}

#[test]
fn every_vector_file_is_used() {
    let base = conformance_dir();
    let mut files = BTreeSet::new();
    list_files(&base, &base, &mut files);
    let used: BTreeSet<String> = USED
        .iter()
        .chain(STDIN_FILES)
        .map(|s| s.to_string())
        .collect();
    let unused: Vec<_> = files.difference(&used).collect();
    assert!(unused.is_empty(), "vector files no test reads: {unused:?}");
    let missing: Vec<_> = used.difference(&files).collect();
    assert!(missing.is_empty(), "listed but absent: {missing:?}");
    // The README names each folder the tests cover.
    let readme = String::from_utf8(read("README.md")).unwrap();
    for folder in ["spec/", "conversion/", "skel/", "derived/"] {
        assert!(readme.contains(folder), "README lists {folder}");
    }
}

// ---------------------------------------------------------------- spec/

fn strip_jsonc(s: &str) -> String {
    s.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn spec_conflist_parses_with_every_field_and_round_trips() {
    let bytes = read("spec/netconf-list-dbnet-1.1.0.json");
    let list = NetConfList::parse(&bytes).unwrap();
    assert_eq!(list.name, "dbnet");
    assert_eq!(list.effective_version().unwrap(), "1.1.0");
    assert_eq!(
        list.cni_versions.as_deref().unwrap(),
        ["0.3.1", "0.4.0", "1.0.0", "1.1.0"]
    );
    let types: Vec<_> = list
        .plugins
        .iter()
        .map(|p| p.plugin_type.as_str())
        .collect();
    assert_eq!(types, ["bridge", "tuning", "portmap"]);
    let bridge = &list.plugins[0];
    assert_eq!(bridge.extra["bridge"], "cni0");
    assert_eq!(bridge.extra["keyA"][1], "plugin specific");
    let ipam = bridge.ipam.as_ref().unwrap();
    assert_eq!(ipam.plugin_type, "host-local");
    assert_eq!(ipam.extra["subnet"], "10.1.0.0/16");
    assert_eq!(ipam.extra["routes"][0]["dst"], "0.0.0.0/0");
    assert_eq!(bridge.dns.as_ref().unwrap().nameservers, ["10.1.0.1"]);
    assert!(list.plugins[1].has_capability("mac"));
    assert_eq!(list.plugins[1].extra["sysctl"]["net.core.somaxconn"], "500");
    assert!(list.plugins[2].has_capability("portMappings"));
    assert!(!list.plugins[2].has_capability("mac"));
    // Emitting gives back the same document.
    let emitted: Value = serde_json::from_slice(&list.emit()).unwrap();
    assert_eq!(emitted, json("spec/netconf-list-dbnet-1.1.0.json"));
    assert_eq!(NetConfList::parse(&list.emit()).unwrap(), list);

    // The commented original is the same list once comments are gone.
    let jsonc = String::from_utf8(read("spec/netconf-list-dbnet-1.1.0.jsonc")).unwrap();
    assert!(
        NetConfList::parse(jsonc.as_bytes()).is_err(),
        "comments are not JSON"
    );
    let stripped = NetConfList::parse(strip_jsonc(&jsonc).as_bytes()).unwrap();
    assert_eq!(stripped, list);
}

#[test]
fn spec_plugin_capabilities_and_runtime_config() {
    let conf = NetConf::parse(&read("spec/plugin-conf-capabilities-portMappings.json")).unwrap();
    assert_eq!(conf.plugin_type, "myPlugin");
    assert!(conf.has_capability("portMappings"));
    let back: Value = serde_json::from_slice(&conf.emit()).unwrap();
    assert_eq!(
        back,
        json("spec/plugin-conf-capabilities-portMappings.json")
    );

    // The spec's runtimeConfig example elides the rest with `...`: not JSON as printed.
    let fragment = String::from_utf8(read(
        "spec/plugin-conf-runtimeConfig-portMappings.fragment.txt",
    ))
    .unwrap();
    assert!(NetConf::parse(fragment.as_bytes()).is_err());
    let completed = fragment.replace("  }\n  ...\n}", "  }\n}");
    let conf = NetConf::parse(completed.as_bytes()).unwrap();
    let rc = conf.runtime_config.unwrap();
    assert_eq!(rc["portMappings"][0]["hostPort"], 8080);
    assert_eq!(rc["portMappings"][0]["protocol"], "tcp");
}

#[test]
fn spec_version_results() {
    let v11 = VersionInfo::parse(&read("spec/version-result-1.1.0.json")).unwrap();
    assert_eq!(v11, VersionInfo::new(version::ALL));
    let v10 = VersionInfo::parse(&read("spec/version-result-1.0.0.json")).unwrap();
    assert_eq!(v10.cni_version, "1.0.0");
    assert_eq!(v10.supported_versions, version::ALL[..6]);
    assert!(v10.supports("0.3.1") && !v10.supports("1.1.0"));
    let emitted: Value = serde_json::from_slice(&v11.emit()).unwrap();
    assert_eq!(emitted, json("spec/version-result-1.1.0.json"));
}

#[test]
fn spec_error_result() {
    let e = CniError::parse(&read("spec/error-code7-1.1.0.json")).unwrap();
    assert_eq!(e.code, ErrorCode::InvalidNetworkConfig);
    assert_eq!(e.code.code(), 7);
    assert_eq!(e.cni_version.as_deref(), Some("1.1.0"));
    assert_eq!(
        e.to_string(),
        "Invalid Configuration; Network 192.168.0.0/31 too small to allocate from."
    );
    let back: Value = serde_json::from_slice(&e.emit()).unwrap();
    assert_eq!(back, json("spec/error-code7-1.1.0.json"));
}

/// The specification's plugin stdins, in the order of its ADD, CHECK, DEL walk-through.
const STDIN_FILES: &[&str] = &[
    "spec/add-01-bridge-stdin.json",
    "spec/add-04-tuning-stdin.json",
    "spec/add-06-portmap-stdin.json",
    "spec/check-01-bridge-stdin.json",
    "spec/check-02-tuning-stdin.json",
    "spec/check-03-portmap-stdin.json",
    "spec/del-01-portmap-stdin.json",
    "spec/del-02-tuning-stdin.json",
    "spec/del-03-bridge-stdin.json",
];

#[test]
fn spec_plugin_stdins_parse_round_trip_and_carry_prev_results() {
    for file in STDIN_FILES {
        let conf = NetConf::parse(&read(file)).unwrap();
        assert_eq!(conf.version(), "1.1.0", "{file}");
        assert_eq!(conf.name, "dbnet", "{file}");
        let back: Value = serde_json::from_slice(&conf.emit()).unwrap();
        assert_eq!(back, json(file), "{file} round trip");
        let prev = conf.prev_result().unwrap();
        if file.starts_with("spec/add-01") {
            assert!(prev.is_none());
            continue;
        }
        // The spec's prevResults omit cniVersion: they inherit the configuration's.
        let prev = prev.unwrap_or_else(|| panic!("{file} has a prevResult"));
        assert_eq!(prev.cni_version(), "1.1.0");
        let AnyResult::V100(r) = &prev else {
            panic!("{file}: 1.x layout")
        };
        assert_eq!(r.interfaces.len(), 3);
        assert_eq!(r.ips[0].interface, Some(2));
        assert_eq!(r.ips[0].address.to_string(), "10.1.0.5/16");
        assert_eq!(r.interfaces[2].sandbox, "/var/run/netns/blue");
    }
    let tuning = NetConf::parse(&read("spec/add-04-tuning-stdin.json")).unwrap();
    assert_eq!(tuning.runtime_config.unwrap()["mac"], "00:11:22:33:44:66");
}

#[test]
fn spec_results_parse_in_the_config_version() {
    for file in [
        "spec/add-02-host-local-ipam-result.json",
        "spec/add-03-bridge-result.json",
        "spec/add-05-tuning-result.json",
    ] {
        let r = AnyResult::parse_as(&read(file), "1.1.0").unwrap();
        assert_eq!(r.cni_version(), "1.1.0");
        let mut expected = json(file);
        expected["cniVersion"] = json!("1.1.0");
        assert_eq!(r.to_value(), expected, "{file}");
    }
    // The IPAM result has no interfaces and no ips[].interface.
    let AnyResult::V100(ipam) =
        AnyResult::parse_as(&read("spec/add-02-host-local-ipam-result.json"), "1.1.0").unwrap()
    else {
        panic!()
    };
    assert!(ipam.interfaces.is_empty());
    assert_eq!(ipam.ips[0].interface, None);
    assert_eq!(ipam.routes[0].gw, None);
}

/// The spec's ADD/CHECK/DEL walk-through, replayed by the conflist runner against a recording
/// `Exec` that answers with the spec's results: the runner must send the spec's stdins.
#[test]
fn spec_chain_replayed_by_the_conflist_runner() {
    let list = NetConfList::parse(&read("spec/netconf-list-dbnet-1.1.0.json")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let fake = canned_exec(
        [
            ("bridge".to_string(), read("spec/add-03-bridge-result.json")),
            ("tuning".to_string(), read("spec/add-05-tuning-result.json")),
            (
                "portmap".to_string(),
                read("spec/add-05-tuning-result.json"),
            ),
        ]
        .into(),
    );
    let cni = CniConfig::new(vec!["/fake".into()])
        .with_exec(fake)
        .with_cache_dir(cache.path());
    let mut rt = RuntimeConf::new("a51debf7e1eb", "/var/run/netns/blue", "eth0");
    rt.capability_args
        .insert("mac".into(), json!("00:11:22:33:44:66"));
    rt.capability_args.insert(
        "portMappings".into(),
        json!([{ "hostPort": 8080, "containerPort": 80, "protocol": "tcp" }]),
    );

    // Differences between what libcni sends and the spec's hand-written examples: libcni keeps
    // `capabilities`, the spec's bridge stdin lacks the list's ipam `routes`, and the runner's
    // prevResult carries its cniVersion.
    let normalize = |mut v: Value| {
        let o = v.as_object_mut().unwrap();
        o.remove("capabilities");
        if let Some(ipam) = o.get_mut("ipam") {
            ipam.as_object_mut().unwrap().remove("routes");
        }
        if let Some(prev) = o.get_mut("prevResult") {
            prev.as_object_mut().unwrap().remove("cniVersion");
        }
        v
    };

    let result = cni.add_network_list(&list, &rt).unwrap();
    let mut expected = json("spec/add-05-tuning-result.json");
    expected["cniVersion"] = json!("1.1.0");
    assert_eq!(result.to_value(), expected);
    {
        let calls = cni.exec().calls();
        let plugins: Vec<_> = calls.iter().map(|c| c.plugin_name()).collect();
        assert_eq!(plugins, ["bridge", "tuning", "portmap"]);
        assert_eq!(
            normalize(calls[0].stdin_json().unwrap()),
            json("spec/add-01-bridge-stdin.json")
        );
        assert_eq!(
            normalize(calls[1].stdin_json().unwrap()),
            json("spec/add-04-tuning-stdin.json")
        );
        assert_eq!(
            normalize(calls[2].stdin_json().unwrap()),
            json("spec/add-06-portmap-stdin.json")
        );
        for c in &calls {
            assert_eq!(c.var("CNI_COMMAND"), Some("ADD"));
            assert_eq!(c.var("CNI_CONTAINERID"), Some("a51debf7e1eb"));
            assert_eq!(c.var("CNI_IFNAME"), Some("eth0"));
            assert_eq!(c.var("CNI_NETNS"), Some("/var/run/netns/blue"));
        }
    }
    // The cache holds the final result, in libcni's format.
    let entry = cni.cache_entry("dbnet", &rt).unwrap().unwrap();
    assert_eq!(entry.kind, "cniCacheV1");
    assert_eq!(entry.network_name, "dbnet");
    assert_eq!(NetConfList::parse(&entry.config).unwrap(), list);
    assert!(
        cache
            .path()
            .join("results/dbnet-a51debf7e1eb-eth0")
            .is_file()
    );

    // CHECK in order, DEL in reverse, each with the spec's stdin.
    cni.exec().clear();
    cni.check_network_list(&list, &rt).unwrap();
    assert_sent(
        &cni,
        &normalize,
        "CHECK",
        &[
            "spec/check-01-bridge-stdin.json",
            "spec/check-02-tuning-stdin.json",
            "spec/check-03-portmap-stdin.json",
        ],
    );

    cni.exec().clear();
    cni.del_network_list(&list, &rt).unwrap();
    assert_sent(
        &cni,
        &normalize,
        "DEL",
        &[
            "spec/del-01-portmap-stdin.json",
            "spec/del-02-tuning-stdin.json",
            "spec/del-03-bridge-stdin.json",
        ],
    );
    assert!(cni.cache_entry("dbnet", &rt).unwrap().is_none());

    // DEL again: no cache, so no prevResult, and still success.
    cni.exec().clear();
    cni.del_network_list(&list, &rt).unwrap();
    let calls = cni.exec().calls();
    assert_eq!(calls.len(), 3);
    assert!(
        calls
            .iter()
            .all(|c| c.stdin_json().unwrap().get("prevResult").is_none())
    );
}

/// The runner's last calls were `command` to one plugin each, with the stdins of `files`.
fn assert_sent(
    cni: &CniConfig<testing::RecordingExec>,
    normalize: &dyn Fn(Value) -> Value,
    command: &str,
    files: &[&str],
) {
    let calls = cni.exec().calls();
    assert_eq!(calls.len(), files.len());
    for (c, f) in calls.iter().zip(files) {
        assert_eq!(c.command(), command);
        assert_eq!(normalize(c.stdin_json().unwrap()), json(f), "{f}");
    }
}

// ---------------------------------------------------------------- conversion/

#[test]
fn conversion_cases() {
    let cases = json("conversion/cases.json");
    let mut ran = 0;
    for case in cases.as_array().unwrap() {
        let src = case["src"].as_str().unwrap_or("");
        if let Some(cfg_version) = case.get("parse_prevresult_under_config_version") {
            let cfg_version = cfg_version.as_str().unwrap();
            let input = match case.get("input") {
                Some(f) => json(&format!("conversion/{}", f.as_str().unwrap())),
                None => case["input_inline"].clone(),
            };
            let mut conf = NetConf {
                cni_version: Some(cfg_version.into()),
                name: "n".into(),
                plugin_type: "t".into(),
                ..Default::default()
            };
            conf.prev_result = Some(input);
            let parsed = conf.prev_result();
            match case.get("expect_error") {
                Some(msg) => {
                    let err = parsed.unwrap_err();
                    assert_eq!(err.to_string(), msg.as_str().unwrap(), "{src}");
                }
                None => {
                    let r = parsed.unwrap().unwrap();
                    let AnyResult::V100(r) = r else {
                        panic!("{src}")
                    };
                    assert_eq!(r.cni_version, "1.0.0");
                    assert_eq!(r.ips[0].address.to_string(), "1.2.3.30/24");
                    // The stray `version` is not kept: emitting has no such key.
                    assert!(
                        AnyResult::V100(r).to_value()["ips"][0]
                            .get("version")
                            .is_none()
                    );
                }
            }
            ran += 1;
            continue;
        }
        let from = case["from"].as_str().unwrap();
        let to = case["to"].as_str().unwrap();
        let parsed = AnyResult::parse(&read(&format!("conversion/{from}"))).unwrap();
        // Parsing then emitting in the same version gives the file back.
        assert_eq!(
            parsed.to_value(),
            json(&format!("conversion/{from}")),
            "{from} round trip"
        );
        let converted = parsed.convert_to(to);
        if let Some(msg) = case.get("expect_error") {
            assert_eq!(
                converted.unwrap_err().to_string(),
                msg.as_str().unwrap(),
                "{src}"
            );
            ran += 1;
            continue;
        }
        let mut converted = converted.unwrap();
        if let Some(then) = case.get("then_to") {
            converted = converted.convert_to(then.as_str().unwrap()).unwrap();
        }
        if let Some(v) = case.get("expect_cniVersion") {
            assert_eq!(converted.cni_version(), v.as_str().unwrap(), "{src}");
        }
        if let Some(f) = case.get("expect") {
            let expected = json(&format!("conversion/{}", f.as_str().unwrap()));
            assert_eq!(converted.to_value(), expected, "{src}: {from} -> {to}");
        }
        ran += 1;
    }
    assert_eq!(ran, cases.as_array().unwrap().len());
}

#[test]
fn conversion_ipconfig_interface_zero_is_written_absent_stays_absent() {
    for file in [
        "conversion/ipconfig-1.x-interface-0.json",
        "conversion/ipconfig-1.x-no-interface.json",
    ] {
        let ip: IpConfig = serde_json::from_slice(&read(file)).unwrap();
        assert_eq!(serde_json::to_value(&ip).unwrap(), json(file), "{file}");
    }
    let zero: IpConfig =
        serde_json::from_slice(&read("conversion/ipconfig-1.x-interface-0.json")).unwrap();
    assert_eq!(zero.interface, Some(0));
    let none: IpConfig =
        serde_json::from_slice(&read("conversion/ipconfig-1.x-no-interface.json")).unwrap();
    assert_eq!(none.interface, None);
    let old: IpConfig040 =
        serde_json::from_slice(&read("conversion/ipconfig-0.4.0-interface-0.json")).unwrap();
    assert_eq!(old.interface, Some(0));
    assert_eq!(old.version, "4");
    assert_eq!(
        serde_json::to_value(&old).unwrap(),
        json("conversion/ipconfig-0.4.0-interface-0.json")
    );
}

#[test]
fn conversion_route_with_every_field() {
    let route: Route = serde_json::from_slice(&read("conversion/route-all-fields.json")).unwrap();
    assert_eq!(route.mtu, Some(1500));
    assert_eq!(route.advmss, Some(1340));
    assert_eq!(route.priority, Some(100));
    assert_eq!(route.table, Some(50));
    assert_eq!(route.scope, Some(253));
    assert_eq!(
        serde_json::to_value(&route).unwrap(),
        json("conversion/route-all-fields.json")
    );
    // 1.1.0 route fields survive 1.1.0 -> 0.4.0 (routes are shared), but not 0.2.0.
    let mut r = cni_types::Result100::new();
    r.ips.push(IpConfig {
        interface: None,
        address: "1.2.3.4/24".parse().unwrap(),
        gateway: None,
    });
    r.routes.push(route.clone());
    let v040 = AnyResult::V100(r.clone()).convert_to("0.4.0").unwrap();
    assert_eq!(
        v040.to_value()["routes"][0],
        json("conversion/route-all-fields.json")
    );
    let v020 = AnyResult::V100(r).convert_to("0.2.0").unwrap();
    assert_eq!(
        v020.to_value()["ip4"]["routes"][0],
        json!({"dst": "1.2.3.0/24", "gw": "1.2.3.1"})
    );
    let _ = Interface::default();
}

/// A 1.0.0 result read and emitted again is 1.0.0; 1.1.0 comes out only when asked for.
#[test]
fn a_1_0_0_result_keeps_its_version_unless_relabelled() {
    let as_100 = read("conversion/result-1.1.0.as-1.0.0.json");
    let r = AnyResult::parse(&as_100).unwrap();
    assert_eq!(r.cni_version(), "1.0.0");

    // The current layout keeps the version it was read in...
    let kept = r.clone().into_current_layout();
    assert_eq!(kept.cni_version, "1.0.0");
    let printed: Value = serde_json::from_slice(&kept.emit()).unwrap();
    assert_eq!(printed, json("conversion/result-1.1.0.as-1.0.0.json"));
    let r110 = AnyResult::parse(&read("conversion/result-1.1.0.json")).unwrap();
    assert_eq!(r110.into_current_layout().cni_version, "1.1.0");

    // ...and only the relabelling, asked for by name, gives 1.1.0 (the same data).
    let relabelled = r.into_current_version();
    let printed: Value = serde_json::from_slice(&relabelled.emit()).unwrap();
    assert_eq!(printed, json("conversion/result-1.1.0.json"));

    // A 0.x result cannot keep its version in the 1.x layout: the spec's conversion gives 1.0.0.
    let r031 = AnyResult::parse(&read("conversion/result-0.3.1.json")).unwrap();
    assert_eq!(r031.clone().into_current_layout().cni_version, "1.0.0");
    assert_eq!(r031.into_current_version().cni_version, "1.1.0");

    // A plugin's prevResult of a 1.0.0 configuration reaches it as 1.0.0.
    let stdin = serde_json::to_vec(&json!({
        "cniVersion": "1.0.0", "name": "n", "type": "x",
        "prevResult": json("conversion/result-1.1.0.as-1.0.0.json"),
    }))
    .unwrap();
    let mut p = Recorder::default();
    let out = testing::run(&mut p, &cmd_env("CHECK"), &stdin);
    assert_eq!(out.exit_code, 0, "{}", out.stdout_text());
    let prev = p.seen[0].prev_result().unwrap().unwrap();
    assert_eq!(prev.cni_version, "1.0.0");
    assert_eq!(
        serde_json::from_slice::<Value>(&prev.emit()).unwrap(),
        json("conversion/result-1.1.0.as-1.0.0.json")
    );
}

// ---------------------------------------------------------------- skel/

#[test]
fn skel_validate_ifname() {
    for case in json("skel/validate-ifname.json").as_array().unwrap() {
        let name = case["ifname"].as_str().unwrap();
        let got = validate::interface_name(name);
        // Through the skeleton too.
        let mut env = cmd_env("ADD");
        env.set("CNI_IFNAME", name);
        let mut p = Recorder::default();
        let out = testing::run(&mut p, &env, br#"{"cniVersion":"1.1.0","name":"n"}"#);
        if case.get("ok").is_some() {
            assert!(got.is_ok(), "{name}");
            assert_eq!(out.exit_code, 0, "{name}");
            continue;
        }
        let err = got.unwrap_err();
        let expect = (
            case["code"].as_u64().unwrap() as u32,
            case["msg"].as_str().unwrap(),
            case["details"].as_str().unwrap(),
        );
        assert_eq!(
            (err.code.code(), err.msg.as_str(), err.details.as_str()),
            expect,
            "{name:?}"
        );
        if name.is_empty() {
            // An empty variable is a missing one for the skeleton.
            assert_eq!(
                out.error().unwrap().msg,
                "required env variables [CNI_IFNAME] missing"
            );
        } else {
            let e = out.error().unwrap();
            assert_eq!((e.code.code(), e.msg.as_str(), e.details.as_str()), expect);
        }
    }
}

#[test]
fn skel_validate_container_id() {
    for case in json("skel/validate-containerid.json").as_array().unwrap() {
        if let Some(re) = case.get("regex") {
            assert_eq!(re, "^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");
            assert!(
                validate::is_valid_identifier("a.b_c-9") && !validate::is_valid_identifier("_a")
            );
            continue;
        }
        let id = case["containerID"].as_str().unwrap();
        let got = validate::container_id(id);
        let mut env = cmd_env("DEL");
        env.set("CNI_CONTAINERID", id);
        let out = testing::run(
            &mut Recorder::default(),
            &env,
            br#"{"cniVersion":"1.1.0","name":"n"}"#,
        );
        if case.get("ok").is_some() {
            assert!(got.is_ok());
            assert_eq!(out.exit_code, 0);
            continue;
        }
        let err = got.unwrap_err();
        assert_eq!(err.code.code() as u64, case["code"].as_u64().unwrap());
        assert_eq!(err.msg, case["msg"].as_str().unwrap());
        assert_eq!(err.details, case["details"].as_str().unwrap());
        let e = out.error().unwrap();
        if id.is_empty() {
            assert_eq!(
                (e.code.code(), e.msg.as_str()),
                (4, "required env variables [CNI_CONTAINERID] missing")
            );
        } else {
            assert_eq!((e.code, e.msg, e.details), (err.code, err.msg, err.details));
        }
    }
}

#[test]
fn skel_validate_network_name() {
    for case in json("skel/validate-network-name.json").as_array().unwrap() {
        if case.get("regex").is_some() {
            continue;
        }
        let name = case["name"].as_str().unwrap();
        let got = validate::network_name(name);
        let stdin = serde_json::to_vec(&json!({"cniVersion": "1.1.0", "name": name})).unwrap();
        let out = testing::run(&mut Recorder::default(), &cmd_env("ADD"), &stdin);
        if case.get("ok").is_some() {
            assert!(got.is_ok());
            assert_eq!(out.exit_code, 0);
            continue;
        }
        let err = got.unwrap_err();
        assert_eq!(
            err.code.code() as u64,
            case["code"].as_u64().unwrap(),
            "{name}"
        );
        if let Some(msg) = case.get("msg") {
            assert_eq!(err.msg, msg.as_str().unwrap());
            assert_eq!(err.details, case["details"].as_str().unwrap());
        }
        assert_eq!(out.error().unwrap().code, err.code);
        assert_eq!(out.error().unwrap().msg, err.msg);
    }
}

struct FailingReader;
impl std::io::Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("boom"))
    }
}

#[test]
fn skel_dispatch_cases() {
    let ok_stdin = br#"{"cniVersion":"1.1.0","name":"skel-test"}"#;
    for case in json("skel/dispatch-cases.json").as_array().unwrap() {
        let desc = case["desc"].as_str().unwrap();
        let case_env = |base: &str| {
            let mut env = cmd_env(base);
            if let Some(e) = case.get("env").and_then(Value::as_object) {
                for (k, v) in e {
                    env.set(k.clone(), v.as_str().unwrap());
                }
            }
            env
        };
        let stdin = case.get("stdin").map(|s| serde_json::to_vec(s).unwrap());
        match desc {
            "unknown command" => {
                let out = testing::run(&mut Recorder::default(), &case_env("ADD"), ok_stdin);
                let e = out.error().unwrap();
                assert_eq!(
                    (e.code.code() as u64, e.msg.as_str()),
                    (
                        case["code"].as_u64().unwrap(),
                        case["msg"].as_str().unwrap()
                    )
                );
            }
            "missing CNI_COMMAND, no about string" => {
                let out = testing::run(&mut Recorder::default(), &Default::default(), ok_stdin);
                let e = out.error().unwrap();
                assert_eq!(e.code.code(), 4);
                assert_eq!(e.msg, case["msg"].as_str().unwrap());
            }
            "missing CNI_COMMAND with about string" => {
                let mut p = Recorder::with_versions(&["9.8.7", "10.0.0"]);
                p.about = "<about>".into();
                let out = testing::run(&mut p, &Default::default(), ok_stdin);
                assert_eq!(out.exit_code, 0);
                assert_eq!(
                    String::from_utf8(out.stderr).unwrap(),
                    case["stderr"].as_str().unwrap()
                );
                assert!(out.stdout.is_empty());
            }
            "ADD missing several" => {
                let env: Env = [("CNI_COMMAND", "ADD"), ("CNI_CONTAINERID", "x")]
                    .into_iter()
                    .collect();
                let out = testing::run(&mut Recorder::default(), &env, ok_stdin);
                assert_eq!(out.error().unwrap().msg, case["msg"].as_str().unwrap());
                assert_eq!(out.error().unwrap().code.code(), 4);
            }
            "required env per command (current skel)" => {
                for cmd in ["ADD", "CHECK", "DEL", "GC", "STATUS", "VERSION"] {
                    let required: Vec<&str> = case[cmd]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap())
                        .collect();
                    let full = cmd_env(cmd);
                    let only = |skip: Option<&str>| {
                        full.iter()
                            .filter(|(k, _)| required.contains(k) && Some(*k) != skip)
                            .collect::<Env>()
                    };
                    // Exactly the required ones: no missing-variable error.
                    let out = testing::run(&mut Recorder::default(), &only(None), ok_stdin);
                    if out.exit_code != 0 {
                        assert!(
                            !out.error().unwrap().msg.contains("missing"),
                            "{cmd}: {:?}",
                            out.error().unwrap()
                        );
                    }
                    // Each one left out is reported alone.
                    for r in &required {
                        if *r == "CNI_COMMAND" {
                            continue;
                        }
                        let out = testing::run(&mut Recorder::default(), &only(Some(r)), ok_stdin);
                        assert_eq!(
                            out.error().unwrap().msg,
                            format!("required env variables [{r}] missing"),
                            "{cmd}"
                        );
                    }
                }
            }
            "ADD with no cniVersion in stdin, plugin supports 0.1.0" => {
                let mut p = Recorder::with_versions(&["0.1.0"]);
                let out = testing::run(&mut p, &cmd_env("ADD"), &stdin.unwrap());
                assert_eq!(out.exit_code, 0);
                assert_eq!(p.seen.len(), 1);
                assert_eq!(p.seen[0].version(), "0.1.0");
                // The result is printed in the configuration's (implicit) version.
                assert_eq!(out.stdout_json().unwrap()["cniVersion"], "0.1.0");
                assert_eq!(out.stdout_json().unwrap()["ip4"]["ip"], "10.0.0.2/24");
            }
            "ADD with no cniVersion, plugin supports only 4.3.2" => {
                let mut p = Recorder::with_versions(&["4.3.2"]);
                let e = testing::run(&mut p, &cmd_env("ADD"), &stdin.unwrap())
                    .error()
                    .unwrap();
                assert_eq!(e.code.code(), 1);
                assert_eq!(e.msg, case["msg"].as_str().unwrap());
                assert_eq!(e.details, case["details"].as_str().unwrap());
                assert!(p.seen.is_empty());
            }
            "CHECK with cniVersion 0.3.0" | "CHECK bad version string" => {
                let e = testing::run(&mut Recorder::default(), &case_env("ADD"), &stdin.unwrap())
                    .error()
                    .unwrap();
                assert_eq!(e.code.code() as u64, case["code"].as_u64().unwrap());
                if let Some(m) = case.get("msg") {
                    assert_eq!(e.msg, m.as_str().unwrap());
                }
            }
            "CHECK 0.4.0 but plugin supports only 0.1.0,0.2.0,0.3.0" => {
                let mut p = Recorder::with_versions(&["0.1.0", "0.2.0", "0.3.0"]);
                let e = testing::run(&mut p, &case_env("ADD"), &stdin.unwrap())
                    .error()
                    .unwrap();
                assert_eq!(
                    (e.code.code(), e.msg.as_str()),
                    (1, case["msg"].as_str().unwrap())
                );
            }
            "GC/STATUS with cniVersion < 1.1.0" => {
                let msgs: Vec<&str> = case["msg"].as_str().unwrap().split(" / ").collect();
                for (cmd, msg) in ["GC", "STATUS"].into_iter().zip(msgs) {
                    let e = testing::run(
                        &mut Recorder::default(),
                        &cmd_env(cmd),
                        br#"{"cniVersion":"1.0.0","name":"n"}"#,
                    )
                    .error()
                    .unwrap();
                    assert_eq!((e.code.code(), e.msg.as_str()), (1, msg));
                    // A plugin that stops at 1.0.0 cannot serve them either.
                    let mut p = Recorder::with_versions(&["1.0.0"]);
                    let e = testing::run(&mut p, &cmd_env(cmd), ok_stdin)
                        .error()
                        .unwrap();
                    assert_eq!(e.msg, format!("plugin version does not allow {cmd}"));
                }
            }
            "VERSION does not read stdin; output cniVersion is library Current() not input" => {
                let mut p = Recorder::with_versions(&["9.8.7", "10.0.0"]);
                let env = case_env("VERSION");
                let out = testing::run_with_reader(&mut p, &env, &mut FailingReader);
                assert_eq!(out.exit_code, 0);
                assert_eq!(out.stdout_json().unwrap(), case["stdout"]);
            }
            "stdin read failure" => {
                let env = cmd_env("ADD");
                let e =
                    testing::run_with_reader(&mut Recorder::default(), &env, &mut FailingReader)
                        .error()
                        .unwrap();
                assert_eq!(e.code.code(), 5);
                assert_eq!(e.msg, "error reading from stdin: boom");
            }
            "callback returns plain error" => {
                let mut p = Recorder {
                    fail: Some(CniError::internal("<err text>")),
                    ..Default::default()
                };
                let e = testing::run(&mut p, &cmd_env("DEL"), ok_stdin)
                    .error()
                    .unwrap();
                assert_eq!((e.code.code(), e.msg.as_str()), (999, "<err text>"));
            }
            "callback returns typed error" => {
                let typed = CniError::new(123u32, "custom").with_details("more");
                let mut p = Recorder {
                    fail: Some(typed.clone()),
                    ..Default::default()
                };
                let e = testing::run(&mut p, &cmd_env("ADD"), ok_stdin)
                    .error()
                    .unwrap();
                assert_eq!(e, typed.with_version("1.1.0"));
            }
            "bad JSON stdin" => {
                let e = testing::run(&mut Recorder::default(), &cmd_env("ADD"), b"{\"name\":")
                    .error()
                    .unwrap();
                assert_eq!(e.code.code(), 6);
                assert!(
                    e.msg.starts_with(case["msg_prefix"].as_str().unwrap()),
                    "{}",
                    e.msg
                );
            }
            "ADD/DEL where CNI_NETNS is the plugin's own netns (current skel only)" => {
                for cmd in ["ADD", "DEL"] {
                    let mut env = cmd_env(cmd);
                    env.set("CNI_NETNS", "/proc/self/ns/net");
                    let mut p = Recorder::default();
                    let e = testing::run(&mut p, &env, ok_stdin).error().unwrap();
                    assert_eq!(
                        (e.code.code(), e.msg.as_str()),
                        (8, case["msg"].as_str().unwrap())
                    );
                    assert!(p.seen.is_empty());
                    for over in ["1", "true", "TRUE"] {
                        env.set("CNI_NETNS_OVERRIDE", over);
                        assert_eq!(testing::run(&mut p, &env, ok_stdin).exit_code, 0);
                    }
                }
            }
            other => panic!("dispatch case without a test: {other}"),
        }
    }
}

#[test]
fn skel_cni_args_cases() {
    for case in json("skel/cni-args-cases.json").as_array().unwrap() {
        if let Some(trues) = case.get("bool_true") {
            for t in trues.as_array().unwrap() {
                assert_eq!(cni_types::args::parse_bool(t.as_str().unwrap()), Ok(true));
            }
            for f in case["bool_false"].as_array().unwrap() {
                assert_eq!(cni_types::args::parse_bool(f.as_str().unwrap()), Ok(false));
            }
            assert!(cni_types::args::parse_bool("yes").is_err());
            continue;
        }
        if let Some(keys) = case.get("well_known_k8s_keys") {
            let s: Vec<String> = keys
                .as_array()
                .unwrap()
                .iter()
                .map(|k| format!("{}=v", k.as_str().unwrap()))
                .collect();
            let mut args = CniArgs::parse(&s.join(";")).unwrap();
            args.pairs.retain(|(k, _)| k != "IgnoreUnknown");
            args.pairs.push(("IgnoreUnknown".into(), "1".into()));
            args.check_known(&[]).unwrap();
            let k8s = args.k8s();
            assert!(
                k8s.pod_name.is_some()
                    && k8s.pod_namespace.is_some()
                    && k8s.pod_uid.is_some()
                    && k8s.pod_infra_container_id.is_some()
            );
            for k in cni_types::args::K8S_KEYS {
                assert!(keys.as_array().unwrap().contains(&json!(k)));
            }
            continue;
        }
        let input = case["args"].as_str().unwrap();
        // A plugin that knows no keys, as in the reference library's tests.
        let got = CniArgs::parse(input).and_then(|a| a.check_known(&[]).map(|_| a));
        // The skeleton applies the same rule for a plugin that declares its keys.
        let mut env = cmd_env("ADD");
        env.set("CNI_ARGS", input);
        let mut p = Recorder {
            args_keys: Some(Vec::new()),
            ..Default::default()
        };
        let out = testing::run(&mut p, &env, br#"{"cniVersion":"1.1.0","name":"n"}"#);
        if case.get("ok").is_some() {
            let a = got.unwrap();
            assert_eq!(a.emit(), input);
            assert_eq!(out.exit_code, 0, "{input}");
            continue;
        }
        let err = got.unwrap_err().to_string();
        if let Some(exact) = case.get("error") {
            assert_eq!(err, exact.as_str().unwrap());
        } else {
            assert!(
                err.contains(case["error_contains"].as_str().unwrap()),
                "{err}"
            );
        }
        let e = out.error().unwrap();
        assert_eq!((e.code.code(), e.msg), (4, err));
    }
}

#[test]
fn skel_version_parse_cases() {
    let cases = json("skel/version-parse-cases.json");
    for (input, parts) in cases["ok"].as_object().unwrap() {
        let p: Vec<u32> = parts
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(
            Version::parse(input).unwrap(),
            Version::new(p[0], p[1], p[2]),
            "{input}"
        );
    }
    for bad in cases["error"].as_array().unwrap() {
        assert!(Version::parse(bad.as_str().unwrap()).is_err(), "{bad}");
    }
    for pair in cases["gte_true"].as_array().unwrap() {
        let (a, b) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        assert!(version::greater_than_or_equal(a, b).unwrap(), "{a} >= {b}");
        assert_eq!(version::greater_than(a, b).unwrap(), a != b);
    }
    for case in cases["version_decoder"].as_array().unwrap() {
        let stdout = match &case["stdout"] {
            Value::String(s) => s.clone().into_bytes(),
            v => serde_json::to_vec(v).unwrap(),
        };
        let got = VersionInfo::parse(&stdout);
        match case.get("error") {
            Some(msg) => {
                let err = got.unwrap_err().to_string();
                let msg = msg.as_str().unwrap();
                if msg.contains("missing field") {
                    assert_eq!(err, msg);
                } else {
                    // The JSON library's own wording differs; the prefix is the contract.
                    assert!(err.starts_with("decoding version info: "), "{err}");
                }
            }
            None => {
                let expect: Vec<String> =
                    serde_json::from_value(case["supported"].clone()).unwrap();
                assert_eq!(got.unwrap().supported_versions, expect);
            }
        }
    }
    assert_eq!(
        NetConf::default().version(),
        cases["missing_cniVersion_in_config_means"]
            .as_str()
            .unwrap()
    );
    let all: Vec<String> = serde_json::from_value(cases["all_versions"].clone()).unwrap();
    assert_eq!(all, version::ALL);
    let from: Vec<String> =
        serde_json::from_value(cases["VersionsStartingFrom_0.3.1"].clone()).unwrap();
    assert_eq!(from, version::starting_from("0.3.1"));
}

#[test]
fn skel_conflist_version_selection() {
    for case in json("skel/conflist-version-selection.json")
        .as_array()
        .unwrap()
    {
        let input = serde_json::to_vec(&case["input"]).unwrap();
        let got = NetConfList::parse(&input);
        match case.get("error") {
            Some(Value::String(msg)) => {
                assert_eq!(got.unwrap_err().to_string(), *msg, "{}", case["input"]);
            }
            Some(_) => assert!(got.is_err(), "{}", case["input"]),
            None => {
                let list = got.unwrap();
                if let Some(sel) = case.get("selected") {
                    assert_eq!(list.effective_version().unwrap(), sel.as_str().unwrap());
                }
                if let Some(dc) = case.get("disableCheck") {
                    assert_eq!(list.disable_check, dc.as_bool().unwrap());
                }
            }
        }
    }
}

// ---------------------------------------------------------------- derived/

#[test]
fn derived_gc_request_reaches_the_plugin_with_its_attachments() {
    let env_case = json("derived/gc-env.json");
    let required: Vec<&str> = env_case["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["CNI_COMMAND=GC", "CNI_PATH"]);
    let stdin = read("derived/gc-stdin-1.1.0-as-libcni-sends.json");

    // libcni passes the other four variables as empty strings.
    let mut env = Env::for_command(Command::Gc).with("CNI_PATH", "/usr/lib/cni");
    for k in ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS"] {
        assert_eq!(env.get(k), Some(""));
    }
    let mut p = Recorder::default();
    let out = testing::run(&mut p, &env, &stdin);
    assert_eq!(
        out.exit_code,
        0,
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty());
    let req = &p.seen[0];
    assert_eq!(req.command, Command::Gc);
    let valid = req.valid_attachments.as_ref().unwrap();
    assert_eq!(valid.len(), 1);
    assert_eq!(valid[0].container_id, "a51debf7e1eb");
    assert_eq!(valid[0].ifname, "eth0");

    // Only the legacy key: still read.
    let mut legacy = json("derived/gc-stdin-1.1.0-as-libcni-sends.json");
    legacy
        .as_object_mut()
        .unwrap()
        .remove("cni.dev/valid-attachments");
    let mut p = Recorder::default();
    assert_eq!(
        testing::run(&mut p, &env, &serde_json::to_vec(&legacy).unwrap()).exit_code,
        0
    );
    assert_eq!(p.seen[0].valid_attachments.as_ref().unwrap().len(), 1);

    // Without CNI_PATH, GC is refused.
    env.remove("CNI_PATH");
    let e = testing::run(&mut Recorder::default(), &env, &stdin)
        .error()
        .unwrap();
    assert_eq!(e.msg, "required env variables [CNI_PATH] missing");
}

#[test]
fn derived_status_error_is_printed_as_the_plugin_gives_it() {
    let stdin = read("derived/status-stdin-1.1.0.json");
    let expected = json("derived/status-error-50.json");
    let env = Env::new()
        .with("CNI_COMMAND", "STATUS")
        .with("CNI_PATH", "/usr/lib/cni");
    let mut p = Recorder {
        fail: Some(CniError::new(
            ErrorCode::PluginNotAvailable,
            "plugin error: banana",
        )),
        ..Default::default()
    };
    let out = testing::run(&mut p, &env, &stdin);
    assert_eq!(out.exit_code, 1);
    assert_eq!(out.stdout_json().unwrap(), expected);
    let mut ok = Recorder::default();
    assert_eq!(testing::run(&mut ok, &env, &stdin).exit_code, 0);
    assert_eq!(ok.seen[0].config.plugin_type, "bridge");
}

#[test]
fn derived_libcni_cache_file_is_read_and_written_alike() {
    let raw = read("derived/libcni-cache-cniCacheV1-example.json");
    let entry: CacheEntry = serde_json::from_slice(&raw).unwrap();
    assert_eq!(entry.kind, "cniCacheV1");
    assert_eq!(
        entry.cni_args[1],
        ("K8S_POD_NAME".to_string(), "p".to_string())
    );
    let list = NetConfList::parse(&entry.config).unwrap();
    assert_eq!(list.name, "cnires-net");
    assert_eq!(list.plugins[0].plugin_type, "bridge");
    // Writing it back gives the same document.
    assert_eq!(
        serde_json::to_value(&entry).unwrap(),
        json("derived/libcni-cache-cniCacheV1-example.json")
    );

    // Placed where libcni keeps it, the runner reads the cached result in the list's version.
    let dir = tempfile::tempdir().unwrap();
    let cni = CniConfig::new(vec![]).with_cache_dir(dir.path());
    let rt = RuntimeConf::new("cnires-ctr1", "/var/run/netns/cnires-ns1", "eth0");
    let path = cni.cache_path("cnires-net", &rt);
    assert!(path.ends_with("results/cnires-net-cnires-ctr1-eth0"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &raw).unwrap();
    let cached = cni.cached_result(&list, &rt).unwrap().unwrap();
    assert_eq!(cached.cni_version(), "1.0.0");
    assert_eq!(cached.to_value()["ips"][0]["interface"], 2);
    assert_eq!(cni.cached_attachments().unwrap(), vec![entry]);
}

#[test]
fn derived_runtime_config_holds_only_declared_and_provided_capabilities() {
    let case = json("derived/runtimeConfig-injection.json");
    let plugin: NetConf = serde_json::from_value(case["plugin_conf"].clone()).unwrap();
    let rt = RuntimeConf {
        capability_args: case["capability_args"].as_object().unwrap().clone(),
        ..RuntimeConf::new("c", "/n", "eth0")
    };
    let stdin = CniConfig::<cni_types::invoke::RawExec>::build_plugin_config(
        "apitest", "1.1.0", &plugin, None, &rt,
    );
    let v: Value = serde_json::from_slice(&stdin).unwrap();
    let keys: Vec<&str> = v["runtimeConfig"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: Vec<&str> = case["expected_runtimeConfig_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(keys, expected);
    assert_eq!(
        v["runtimeConfig"]["somethingElse"],
        json!(["foobar", "baz"])
    );
    // libcni does not strip `capabilities`.
    assert_eq!(v["capabilities"], case["plugin_conf"]["capabilities"]);

    // No capability offered: no runtimeConfig key at all.
    let bare = CniConfig::<cni_types::invoke::RawExec>::build_plugin_config(
        "apitest",
        "1.1.0",
        &plugin,
        None,
        &RuntimeConf::new("c", "/n", "eth0"),
    );
    let v: Value = serde_json::from_slice(&bare).unwrap();
    assert!(v.get("runtimeConfig").is_none());
}
