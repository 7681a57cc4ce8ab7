//! The `sriov` and `rdma` binaries as a runtime runs them, on bad input: every CNI env error
//! and every key's invalid value gives the spec's code and a message naming the key; a
//! deviceID that is absent or a PF is a clear code-7 error; DEL with nothing recorded succeeds.
//! No root needed: the host root is a rendered reference tree or an empty directory.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

struct Out {
    code: i32,
    stdout: Value,
    stderr: String,
}

fn run(bin: &str, env: &[(&str, &str)], stdin: &str) -> Out {
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const SRIOV: &str = env!("CARGO_BIN_EXE_sriov");
const RDMA: &str = env!("CARGO_BIN_EXE_rdma");

fn env<'a>(command: &'a str, root: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("CNI_COMMAND", command),
        ("CNI_CONTAINERID", "c0ffee"),
        ("CNI_NETNS", "/var/run/netns/nonexistent-pod"),
        ("CNI_IFNAME", "net1"),
        ("CNI_PATH", "/usr/lib/cni"),
        ("RDMA_SRIOV_HOST_ROOT", root),
    ]
}

fn conf(extra: &str) -> String {
    format!(r#"{{"cniVersion":"1.0.0","name":"sriov-net","type":"sriov"{extra}}}"#)
}

fn code(out: &Out) -> u64 {
    out.stdout["code"].as_u64().unwrap_or(0)
}

fn rendered_reference(dir: &Path) {
    let host = sysfs_sim::Preset::Reference.build(1).unwrap();
    host.render(dir, &sriov_core::Netns::Host).unwrap();
}

#[test]
fn cni_env_errors_have_the_spec_codes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let out = run(SRIOV, &[], "");
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("CNI sriov plugin"), "{}", out.stderr);
    let out = run(SRIOV, &[("CNI_COMMAND", "ADD")], &conf(""));
    assert_eq!(code(&out), 4, "{}", out.stdout);
    assert!(
        out.stdout["msg"]
            .as_str()
            .unwrap()
            .contains("CNI_CONTAINERID")
    );
    let mut e = env("BOGUS", root);
    let out = run(SRIOV, &e, &conf(""));
    assert_eq!(code(&out), 4);
    e[0].1 = "ADD";
    let out = run(SRIOV, &e, "{not json");
    assert_eq!(code(&out), 6);
    let mut bad_args = env("ADD", root);
    bad_args.push(("CNI_ARGS", "novalue"));
    assert_eq!(code(&run(SRIOV, &bad_args, &conf(""))), 4);
    let mut bad_if = env("ADD", root);
    bad_if[3].1 = "a/b";
    assert_eq!(code(&run(SRIOV, &bad_if, &conf(""))), 4);
    let version = run(SRIOV, &env("VERSION", root), "");
    assert!(
        version.stdout["supportedVersions"]
            .as_array()
            .unwrap()
            .len()
            > 3
    );
}

#[test]
fn every_invalid_key_is_code_7_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let cases = [
        (r#","deviceID":"0000:3b:00.2","vlan":5000"#, "vlan"),
        (
            r#","deviceID":"0000:3b:00.2","vlan":1,"vlanQoS":9"#,
            "vlanQoS",
        ),
        (
            r#","deviceID":"0000:3b:00.2","vlanProto":"802.1ad""#,
            "vlanProto",
        ),
        (r#","deviceID":"0000:3b:00.2","mac":"nope""#, "mac"),
        (
            r#","deviceID":"0000:3b:00.2","spoofchk":"maybe""#,
            "spoofchk",
        ),
        (r#","deviceID":"0000:3b:00.2","trust":"yes""#, "trust"),
        (
            r#","deviceID":"0000:3b:00.2","link_state":"up""#,
            "link_state",
        ),
        (
            r#","deviceID":"0000:3b:00.2","min_tx_rate":-1"#,
            "min_tx_rate",
        ),
        (
            r#","deviceID":"0000:3b:00.2","max_tx_rate":"x""#,
            "max_tx_rate",
        ),
        (
            r#","deviceID":"0000:3b:00.2","logLevel":"loud""#,
            "logLevel",
        ),
        (r#","deviceID":"0000:3b:00.2","hostRoot":"rel""#, "hostRoot"),
        (r#","deviceID":"zz""#, "deviceID"),
        (
            r#","runtimeConfig":{"deviceID":"zz"}"#,
            "runtimeConfig.deviceID",
        ),
        (
            r#","deviceID":"0000:3b:00.2","runtimeConfig":{"mac":"x"}"#,
            "runtimeConfig.mac",
        ),
    ];
    for (extra, key) in cases {
        let out = run(SRIOV, &env("ADD", root), &conf(extra));
        assert_eq!(code(&out), 7, "{extra}: {}", out.stdout);
        let msg = out.stdout["msg"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!("invalid {key}:")),
            "{extra}: {msg}"
        );
    }
    let mut with_mac = env("ADD", root);
    with_mac.push(("CNI_ARGS", "IgnoreUnknown=1;MAC=zz"));
    let out = run(SRIOV, &with_mac, &conf(r#","deviceID":"0000:3b:00.2""#));
    assert_eq!(code(&out), 7);
    assert!(out.stdout["msg"].as_str().unwrap().contains("CNI_ARGS MAC"));
    let out = run(SRIOV, &env("ADD", root), &conf(""));
    assert_eq!(code(&out), 7);
    assert!(
        out.stdout["msg"]
            .as_str()
            .unwrap()
            .contains("VF pci addr is required")
    );
}

#[test]
fn a_device_that_is_absent_or_a_pf_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    rendered_reference(dir.path());
    let root = dir.path().to_str().unwrap();
    let out = run(
        SRIOV,
        &env("ADD", root),
        &conf(r#","deviceID":"0000:3b:00.0""#),
    );
    assert_eq!(code(&out), 7, "{}", out.stdout);
    assert!(
        out.stdout["msg"]
            .as_str()
            .unwrap()
            .contains("not a virtual function"),
        "{}",
        out.stdout
    );
    let out = run(
        SRIOV,
        &env("ADD", root),
        &conf(r#","deviceID":"0000:99:00.2""#),
    );
    assert_eq!(code(&out), 7, "{}", out.stdout);
    assert!(
        out.stdout["msg"]
            .as_str()
            .unwrap()
            .contains("no such PCI device")
    );
}

#[test]
fn del_with_nothing_recorded_succeeds_even_without_netns() {
    let dir = tempfile::tempdir().unwrap();
    rendered_reference(dir.path());
    let root = dir.path().to_str().unwrap();
    let mut e = env("DEL", root);
    e.retain(|(k, _)| *k != "CNI_NETNS");
    for _ in 0..2 {
        let out = run(SRIOV, &e, &conf(r#","deviceID":"0000:3b:00.5""#));
        assert_eq!(out.code, 0, "{}", out.stdout);
        let out = run(RDMA, &e, &conf(""));
        assert_eq!(out.code, 0, "{}", out.stdout);
    }
}

#[test]
fn rdma_needs_a_chain() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let out = run(RDMA, &env("ADD", root), &conf(""));
    assert_eq!(code(&out), 7, "{}", out.stdout);
    assert!(out.stdout["msg"].as_str().unwrap().contains("plugin chain"));
    let out = run(RDMA, &env("ADD", root), &conf(r#","deviceID":"x""#));
    assert_eq!(code(&out), 7);
}
