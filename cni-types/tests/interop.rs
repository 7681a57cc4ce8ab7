//! Live interop with Debian's reference plugins (`containernetworking-plugins`, `/usr/lib/cni`).
//!
//! - The conflist runner runs the real `bridge` + `host-local` in real network namespaces at
//!   0.3.1, 0.4.0 and 1.0.0: ADD, CHECK, DEL, DEL again; the real results are parsed and
//!   converted. Our `passthrough` example is chained after the bridge: it must receive the
//!   bridge's real result as `prevResult` and print the same document back. The plugins run inside a "host" namespace made for the test (through small
//!   wrapper scripts in a temporary `CNI_PATH`), so the bridge and the veth host ends never
//!   appear in the machine's own namespace; host-local's `dataDir` and the result cache are
//!   temporary directories.
//! - Delegation: `invoke::delegate_add` / `delegate` run the real `host-local` as an IPAM
//!   plugin does, and its error results come back parsed.
//! - The skeleton (through the `passthrough` example binary) answers the same bad inputs with
//!   the same error codes as the reference `bridge` plugin.
//! - The interface-name rule: the running kernel accepts and refuses the same names.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cni_types::config::NetConfList;
use cni_types::invoke::{self, Exec, InvokeArgs, RawExec};
use cni_types::result::AnyResult;
use cni_types::runtime::{CniConfig, RuntimeConf};
use cni_types::testing::{Env, Outcome, PluginLookup, RecordingExec};
use cni_types::version::Family;
use cni_types::{CniError, Error, validate};
use serde_json::{Value, json};
use testbed::{Need, Netns};

const BRIDGE: &str = "/usr/lib/cni/bridge";
const HOST_LOCAL: &str = "/usr/lib/cni/host-local";

/// A temporary `CNI_PATH` whose plugins are the reference ones run inside `host`.
fn wrapped_plugins(dir: &Path, host: &Netns) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let passthrough = passthrough_binary();
    for (plugin, target) in [
        ("bridge", PathBuf::from(BRIDGE)),
        ("host-local", PathBuf::from(HOST_LOCAL)),
        ("passthrough", passthrough),
    ] {
        let path = bin.join(plugin);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\nexec ip netns exec {} {} \"$@\"\n",
                host.name(),
                target.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

/// bridge (+ host-local) followed by our `passthrough` example, which must hand the real
/// bridge result back unchanged, in the list's version.
fn bridge_list(version: &str, name: &str, data_dir: &Path) -> NetConfList {
    let doc = json!({
        "cniVersion": version,
        "name": name,
        "plugins": [{
            "type": "bridge",
            "bridge": "cnitest0",
            "ipam": {
                "type": "host-local",
                "subnet": "10.77.0.0/24",
                "dataDir": data_dir,
                "routes": [{"dst": "10.78.0.0/16", "gw": "10.77.0.1"}]
            }
        }, {
            "type": "passthrough"
        }]
    });
    NetConfList::parse(&serde_json::to_vec(&doc).unwrap()).unwrap()
}

/// Runs real processes through `RawExec`, recording each run and its output.
fn recording() -> RecordingExec {
    RecordingExec::new(PluginLookup::CniPath, |call| {
        RawExec.exec(&call.plugin, &call.env, &call.stdin)
    })
}

fn run_bridge_host_local(version: &str) {
    let test = format!("interop bridge+host-local {version}");
    if !testbed::require(
        &test,
        &[
            Need::Root,
            Need::Netns,
            Need::File(BRIDGE),
            Need::File(HOST_LOCAL),
        ],
    ) {
        return;
    }
    let host = Netns::new("cnih").unwrap();
    let pod = Netns::new("cnip").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let bin = wrapped_plugins(tmp.path(), &host);
    let data_dir = tmp.path().join("ipam");
    let name = format!("itest-{}", version.replace('.', ""));
    let list = bridge_list(version, &name, &data_dir);
    let cni = CniConfig::new(vec![bin])
        .with_exec(recording())
        .with_cache_dir(tmp.path().join("cache"));
    let netns = pod.path().to_string_lossy().into_owned();
    let mut rt = RuntimeConf::new("ctr-interop", &netns, "eth0");
    rt.args = vec![
        ("IgnoreUnknown".into(), "1".into()),
        ("K8S_POD_NAME".into(), "p".into()),
    ];

    // ADD: a real result in the list's version. The bridge's own result is what the
    // passthrough plugin received as prevResult and printed back.
    let result = cni.add_network_list(&list, &rt).unwrap();
    {
        // Each successful ADD's output.
        let outputs: Vec<(String, Vec<u8>)> = cni
            .exec()
            .calls()
            .into_iter()
            .filter(|c| c.command() == "ADD")
            .filter_map(|c| Some((c.plugin_name().into_owned(), c.stdout?)))
            .collect();
        let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["bridge", "passthrough"]);
        let from_bridge = AnyResult::parse(&outputs[0].1).unwrap();
        let from_passthrough = AnyResult::parse(&outputs[1].1).unwrap();
        assert_eq!(from_passthrough, from_bridge);
        assert_eq!(from_passthrough, result);
        // Byte-level: the same JSON document, except that Go writes an empty `"dns":{}`.
        let mut bridge_doc: Value = serde_json::from_slice(&outputs[0].1).unwrap();
        if bridge_doc["dns"] == json!({}) {
            bridge_doc.as_object_mut().unwrap().remove("dns");
        }
        let ours: Value = serde_json::from_slice(&outputs[1].1).unwrap();
        assert_eq!(ours, bridge_doc);
    }
    assert_eq!(result.cni_version(), version);
    let expected_family = Family::of(version).unwrap();
    assert_eq!(result.family(), expected_family);
    let current = result.clone().into_current_layout();
    let eth0 = current
        .interfaces
        .iter()
        .position(|i| i.name == "eth0")
        .expect("eth0 in the result");
    assert_eq!(current.interfaces[eth0].sandbox, netns);
    assert!(current.interfaces.iter().any(|i| i.name == "cnitest0"));
    let ip = &current.ips[0];
    assert_eq!(ip.interface, Some(eth0 as u32));
    let addr = ip.address;
    assert!(
        "10.77.0.0/24"
            .parse::<ipnet::IpNet>()
            .unwrap()
            .contains(&addr.addr()),
        "{addr}"
    );
    assert!(
        current
            .routes
            .iter()
            .any(|r| r.dst.to_string() == "10.78.0.0/16")
    );
    // The address is really on eth0 in the pod, and host-local recorded it.
    let shown = pod.ip(&["-o", "addr", "show", "dev", "eth0"]).unwrap();
    assert!(shown.contains(&addr.to_string()), "{shown}");
    assert!(data_dir.join(&name).join(addr.addr().to_string()).is_file());
    // The bridge is in the test's host namespace, not in the machine's.
    assert!(host.ip(&["link", "show", "cnitest0"]).is_ok());

    // The real result converts to every version and back without losing the address.
    for target in cni_types::version::ALL {
        let conv = result.convert_to(target).unwrap();
        assert_eq!(conv.cni_version(), *target);
        let again = AnyResult::parse(&conv.emit()).unwrap();
        assert_eq!(again, conv, "{target} parse(emit)");
        let back = again.into_current_layout();
        assert_eq!(back.ips[0].address, addr, "{version} -> {target}");
    }
    // 0.4.0 <-> 1.0.0 is lossless for what the plugins return.
    if expected_family != Family::V020 {
        let via = result
            .convert_to("1.0.0")
            .unwrap()
            .convert_to(version)
            .unwrap();
        assert_eq!(via, result);
    }

    // The cache holds it, in the list's version.
    assert_eq!(cni.cached_result(&list, &rt).unwrap().unwrap(), result);

    // CHECK: from 0.4.0 on it passes with the cached result; 0.3.1 has no CHECK.
    match cni.check_network_list(&list, &rt) {
        Ok(()) => assert_ne!(version, "0.3.1"),
        Err(Error::CommandNotSupported { command, .. }) => {
            assert_eq!(version, "0.3.1");
            assert_eq!(command, "CHECK");
        }
        Err(e) => panic!("CHECK {version}: {e}"),
    }

    // DEL: interface, address record and cache entry gone.
    cni.del_network_list(&list, &rt).unwrap();
    assert!(pod.ip(&["link", "show", "eth0"]).is_err());
    assert!(!data_dir.join(&name).join(addr.addr().to_string()).exists());
    assert!(cni.cache_entry(&name, &rt).unwrap().is_none());

    // DEL again succeeds.
    cni.del_network_list(&list, &rt).unwrap();

    // A failing ADD comes back as the plugin's own error: eth0 already exists in the pod.
    pod.ip(&[
        "link", "add", "eth0", "type", "veth", "peer", "name", "eth0peer",
    ])
    .unwrap();
    let err = cni.add_network_list(&list, &rt).unwrap_err();
    let plugin_err = err.plugin_error().expect("the plugin's error result");
    assert!(plugin_err.msg.contains("already exists"), "{plugin_err}");
    assert!(cni.cache_entry(&name, &rt).unwrap().is_none());
    cni.del_network_list(&list, &rt).unwrap();
}

#[test]
fn conflist_runner_with_real_bridge_and_host_local_0_3_1() {
    run_bridge_host_local("0.3.1");
}

#[test]
fn conflist_runner_with_real_bridge_and_host_local_0_4_0() {
    run_bridge_host_local("0.4.0");
}

#[test]
fn conflist_runner_with_real_bridge_and_host_local_1_0_0() {
    run_bridge_host_local("1.0.0");
}

#[test]
fn delegation_runs_real_host_local_as_ipam() {
    if !testbed::require!(Need::File(HOST_LOCAL)) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let conf = json!({
        "cniVersion": "1.0.0",
        "name": "deleg",
        "type": "my-plugin",
        "ipam": {"type": "host-local", "subnet": "10.79.0.0/24", "dataDir": tmp.path()}
    });
    let stdin = serde_json::to_vec(&conf).unwrap();
    let args = InvokeArgs::new(
        "ADD",
        "ctr-deleg",
        "/var/run/netns/unused",
        "net1",
        &["/usr/lib/cni"],
    );
    let result = invoke::delegate_add("host-local", &stdin, &args).unwrap();
    let AnyResult::V100(r) = &result else {
        panic!("1.0.0 layout")
    };
    assert_eq!(r.cni_version, "1.0.0");
    // IPAM results carry no interfaces.
    assert!(r.interfaces.is_empty());
    assert_eq!(r.ips[0].interface, None);
    assert_eq!(r.ips[0].address.to_string(), "10.79.0.2/24");
    assert!(tmp.path().join("deleg/10.79.0.2").is_file());

    // The same invocation again gets the next address; DEL releases by container.
    let mut del = args.clone();
    del.command = "DEL".into();
    invoke::delegate("host-local", &stdin, &del).unwrap();
    assert!(!tmp.path().join("deleg/10.79.0.2").exists());
    invoke::delegate("host-local", &stdin, &del).unwrap();

    // An error result with a non-zero exit comes back parsed.
    let bad = serde_json::to_vec(&json!({
        "cniVersion": "1.0.0", "name": "deleg",
        "ipam": {"type": "host-local", "subnet": "10.79.0.0/31", "dataDir": tmp.path()}
    }))
    .unwrap();
    let err = invoke::delegate_add("host-local", &bad, &args).unwrap_err();
    let Error::Plugin { path, error } = &err else {
        panic!("plugin error expected: {err}")
    };
    assert_eq!(path, Path::new(HOST_LOCAL));
    assert!(error.code.code() > 0);
    assert!(!error.msg.is_empty());
    // Through the skeleton's conversion the plugin's error passes unchanged.
    assert_eq!(CniError::from(&err), error.clone());

    // A plugin that is not there, and a name that tries to leave CNI_PATH.
    assert!(matches!(
        invoke::delegate_add("no-such-plugin", &stdin, &args),
        Err(Error::PluginNotFound { .. })
    ));
    assert!(matches!(
        invoke::delegate_add("../cni/host-local", &stdin, &args),
        Err(Error::InvalidPluginName(_))
    ));

    // VERSION of the real plugin.
    let cni = CniConfig::new(vec!["/usr/lib/cni".into()]);
    let info = cni.version_info("host-local").unwrap();
    assert!(info.supports("1.0.0") && info.supports("0.3.1"));
}

/// The `passthrough` example binary, built by `cargo test` next to the test binaries.
fn passthrough_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = debug_dir.join("examples/passthrough");
    assert!(
        bin.is_file(),
        "{} missing: run `cargo test -p cni-types` (which builds the examples) or \
         `cargo build -p cni-types --example passthrough` first",
        bin.display()
    );
    bin
}

/// Runs a plugin binary as a process with exactly `env`.
fn run_plugin(bin: &Path, env: &Env, stdin: &[u8]) -> Outcome {
    use std::io::Write;
    let mut child = Command::new(bin)
        .env_clear()
        .envs(env.iter())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin);
    Outcome::from(child.wait_with_output().unwrap())
}

#[test]
fn skeleton_errors_match_the_reference_plugin() {
    if !testbed::require!(Need::File(BRIDGE)) {
        return;
    }
    let ours = passthrough_binary();
    let full = |cmd: &'static str| -> Env {
        [
            ("CNI_COMMAND", cmd),
            ("CNI_CONTAINERID", "ctr1"),
            ("CNI_NETNS", "/var/run/netns/does-not-exist"),
            ("CNI_IFNAME", "eth0"),
            ("CNI_PATH", "/usr/lib/cni"),
        ]
        .into_iter()
        .collect()
    };
    let with = |cmd, k, v| full(cmd).with(k, v);
    let conf = |v: Value| serde_json::to_vec(&v).unwrap();
    let good = conf(json!({"cniVersion": "1.0.0", "name": "n", "type": "bridge"}));
    let cases: Vec<(&str, Env, Vec<u8>, bool)> = vec![
        // (what, env, stdin, compare the message too)
        (
            "ADD missing env",
            [("CNI_COMMAND", "ADD"), ("CNI_CONTAINERID", "x")]
                .into_iter()
                .collect(),
            good.clone(),
            true,
        ),
        (
            "DEL missing env",
            [("CNI_COMMAND", "DEL")].into_iter().collect(),
            good.clone(),
            true,
        ),
        (
            "CHECK missing env",
            [("CNI_COMMAND", "CHECK"), ("CNI_PATH", "/x")]
                .into_iter()
                .collect(),
            good.clone(),
            true,
        ),
        ("unknown command", full("NOPE"), good.clone(), true),
        (
            "unknown command, no container",
            [("CNI_COMMAND", "NOPE")].into_iter().collect(),
            good.clone(),
            true,
        ),
        (
            "bad container id",
            with("ADD", "CNI_CONTAINERID", "12%%"),
            good.clone(),
            true,
        ),
        (
            "bad ifname",
            with("ADD", "CNI_IFNAME", "a b"),
            good.clone(),
            true,
        ),
        (
            "long ifname",
            with("DEL", "CNI_IFNAME", "0123456789abcdef"),
            good.clone(),
            true,
        ),
        (
            "dot ifname",
            with("ADD", "CNI_IFNAME", ".."),
            good.clone(),
            true,
        ),
        (
            "bad network name",
            full("ADD"),
            conf(json!({"cniVersion": "1.0.0", "name": "t%%"})),
            true,
        ),
        (
            "missing network name",
            full("DEL"),
            conf(json!({"cniVersion": "1.0.0"})),
            true,
        ),
        ("bad JSON", full("ADD"), b"{\"cniVersion\":".to_vec(), false),
        (
            "unsupported version",
            full("ADD"),
            conf(json!({"cniVersion": "9.9.9", "name": "n"})),
            true,
        ),
        (
            "CHECK at 0.3.1",
            full("CHECK"),
            conf(json!({"cniVersion": "0.3.1", "name": "n"})),
            true,
        ),
        (
            "CHECK with a bad version",
            full("CHECK"),
            conf(json!({"cniVersion": "adsf", "name": "n"})),
            false,
        ),
    ];
    for (what, env, stdin, same_msg) in &cases {
        let theirs = run_plugin(Path::new(BRIDGE), env, stdin);
        let mine = run_plugin(&ours, env, stdin);
        assert_eq!(theirs.exit_code, 1, "{what}: reference exit");
        assert_eq!(mine.exit_code, 1, "{what}: our exit");
        let t = theirs.error().unwrap();
        let m = mine.error().unwrap();
        assert_eq!(m.code, t.code, "{what}: {m:?} vs {t:?}");
        if *same_msg {
            assert_eq!(m.msg, t.msg, "{what}");
        }
    }

    // No CNI_COMMAND: both print their about text and supported versions on stderr, exit 0.
    for bin in [Path::new(BRIDGE), ours.as_path()] {
        let r = run_plugin(bin, &Env::new(), b"");
        assert_eq!(r.exit_code, 0, "{}", bin.display());
        assert!(r.stdout.is_empty());
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(
            err.contains(
                "CNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0"
            ),
            "{err}"
        );
    }

    // VERSION: the same shape; ours adds 1.1.0.
    let t: Value =
        serde_json::from_slice(&run_plugin(Path::new(BRIDGE), &full("VERSION"), b"").stdout)
            .unwrap();
    let m: Value =
        serde_json::from_slice(&run_plugin(&ours, &full("VERSION"), b"").stdout).unwrap();
    let mut tv: Vec<Value> = t["supportedVersions"].as_array().unwrap().clone();
    tv.push(json!("1.1.0"));
    assert_eq!(m["supportedVersions"], Value::Array(tv));
}

#[test]
fn passthrough_example_behaves_as_documented() {
    let ours = passthrough_binary();
    let env: Env = [
        ("CNI_COMMAND", "ADD"),
        ("CNI_CONTAINERID", "ctr1"),
        ("CNI_NETNS", "/var/run/netns/x"),
        ("CNI_IFNAME", "eth0"),
        ("CNI_PATH", "/usr/lib/cni"),
    ]
    .into_iter()
    .collect();
    // ADD without prevResult: an empty result in the config's version.
    let r = run_plugin(
        &ours,
        &env,
        br#"{"cniVersion":"1.0.0","name":"n","type":"passthrough"}"#,
    );
    assert_eq!(r.exit_code, 0);
    assert_eq!(r.stdout_json().unwrap(), json!({"cniVersion": "1.0.0"}));
    // ADD with a 0.4.0 prevResult: returned as it came.
    let prev = json!({"cniVersion": "0.4.0", "ips": [{"version": "4", "interface": 0, "address": "10.1.2.3/24"}],
                      "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/x"}]});
    let stdin = serde_json::to_vec(
        &json!({"cniVersion": "0.4.0", "name": "n", "type": "passthrough", "prevResult": prev}),
    )
    .unwrap();
    let r = run_plugin(&ours, &env, &stdin);
    assert_eq!(r.exit_code, 0);
    assert_eq!(r.stdout_json().unwrap(), prev);
    // CHECK requires a prevResult.
    let check = env.clone().with("CNI_COMMAND", "CHECK");
    assert_eq!(run_plugin(&ours, &check, &stdin).exit_code, 0);
    let r = run_plugin(&ours, &check, br#"{"cniVersion":"1.0.0","name":"n"}"#);
    assert_eq!(r.exit_code, 1);
    assert_eq!(r.error().unwrap().code.code(), 7);
    // DEL, GC, STATUS succeed with nothing on stdout.
    for (cmd, stdin) in [
        ("DEL", &br#"{"cniVersion":"1.0.0","name":"n"}"#[..]),
        (
            "GC",
            &br#"{"cniVersion":"1.1.0","name":"n","cni.dev/valid-attachments":[]}"#[..],
        ),
        ("STATUS", &br#"{"cniVersion":"1.1.0","name":"n"}"#[..]),
    ] {
        let r = run_plugin(&ours, &env.clone().with("CNI_COMMAND", cmd), stdin);
        assert_eq!(
            (r.exit_code, r.stdout.len()),
            (0, 0),
            "{cmd}: {}",
            r.stdout_text()
        );
    }
    // Garbage never panics: a decode error, exit 1.
    let r = run_plugin(&ours, &env, &[0xff, 0xfe, b'{']);
    assert_eq!(r.exit_code, 1);
    assert_eq!(r.error().unwrap().code.code(), 6);
    assert!(r.stderr.is_empty());
}

/// The running kernel agrees with `validate::is_valid_interface_name`: each name is offered
/// as one end of a new veth pair inside a namespace made for the test, and the kernel
/// (`dev_valid_name()`) answers EINVAL for exactly the names the rule refuses. The names are
/// ones iproute2 passes on unchecked (its own check refuses only an empty or too long name,
/// `/` and ASCII white space), so the answer is the kernel's.
#[test]
fn interface_name_rule_matches_the_running_kernel() {
    if !testbed::require!(Need::Root, Need::Netns) {
        return;
    }
    let ns = Netns::new("cniifn").unwrap();
    let names = [
        "a#b",
        "net#1",
        "a:b",
        ".",
        "..",
        "...",
        "à",         // C3 A0: 0xA0 is a space to the kernel
        "Ġ",         // C4 A0
        "x\u{a0}",   // C2 A0
        "\u{820}",   // E0 A0 A0
        "é",         // C3 A9
        "a\u{85}",   // C2 85: NEL is not a space to the kernel
        "\u{2028}",  // E2 80 A8
        "\u{3000}x", // E3 80 80
        "a\u{1c}b",  // a control byte, not a space
        "a\u{7f}",   // DEL
        "ééééééé",   // 14 bytes
        "0123456789abcde",
        "@x",
        "😀😀😀", // 12 bytes
    ];
    for name in names {
        let rule = validate::is_valid_interface_name(name);
        let created = ns.ip(&[
            "link", "add", "name", name, "type", "veth", "peer", "name", "ifnprobe",
        ]);
        match created {
            Ok(_) => {
                assert!(rule, "{name:?}: the kernel accepts what the rule refuses");
                let shown = ns.ip(&["-o", "link", "show", "dev", name]).unwrap();
                assert!(shown.contains(name), "{name:?}: {shown}");
                ns.ip(&["link", "del", "ifnprobe"]).unwrap();
            }
            Err(e) => {
                let e = e.to_string();
                assert!(
                    e.contains("Invalid argument"),
                    "{name:?}: not the kernel's EINVAL: {e}"
                );
                assert!(!rule, "{name:?}: the kernel refuses what the rule accepts");
            }
        }
    }
}
