//! The conflist runner's GC, STATUS, CHECK rules and delegation helpers, against a recording
//! `Exec` (no process runs here; `interop.rs` runs the real plugins).

mod common;

use cni_types::config::NetConfList;
use cni_types::invoke::{self, InvokeArgs};
use cni_types::runtime::{CniConfig, RuntimeConf};
use cni_types::skel::Attachment;
use cni_types::testing::RecordingExec;
use cni_types::{Error, ErrorCode};
use common::canned_exec;
use serde_json::json;

fn list(version: &str, extra: serde_json::Value) -> NetConfList {
    let mut doc = json!({
        "cniVersion": version, "name": "net1",
        "plugins": [{"type": "a"}, {"type": "b", "capabilities": {"mac": true}}]
    });
    for (k, v) in extra.as_object().unwrap() {
        doc[k] = v.clone();
    }
    NetConfList::parse(doc.to_string().as_bytes()).unwrap()
}

fn runner(dir: &std::path::Path) -> CniConfig<RecordingExec> {
    let result = br#"{"cniVersion":"1.1.0","ips":[{"address":"10.0.0.2/24"}]}"#.to_vec();
    let fake = canned_exec([("a".into(), result.clone()), ("b".into(), result)].into());
    CniConfig::new(vec!["/fake".into()])
        .with_exec(fake)
        .with_cache_dir(dir)
}

#[test]
fn gc_deletes_stale_attachments_then_sends_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cni = runner(dir.path());
    let list = list("1.1.0", json!({}));
    let keep = RuntimeConf::new("keep", "/ns/keep", "eth0");
    let stale = RuntimeConf::new("stale", "/ns/stale", "eth0");
    cni.add_network_list(&list, &keep).unwrap();
    cni.add_network_list(&list, &stale).unwrap();
    cni.exec().clear();

    let valid = [Attachment {
        container_id: "keep".into(),
        ifname: "eth0".into(),
    }];
    cni.gc_network_list(&list, &valid).unwrap();
    let calls = cni.exec().calls();
    let summary: Vec<(String, String, String)> = calls
        .iter()
        .map(|c| {
            (
                c.command().to_string(),
                c.plugin_name().into_owned(),
                c.var("CNI_CONTAINERID").unwrap().to_string(),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        summary,
        [
            s("DEL", "b", "stale"),
            s("DEL", "a", "stale"),
            s("GC", "a", ""),
            s("GC", "b", "")
        ]
    );
    let gc = calls[2].stdin_json().unwrap();
    assert_eq!(
        gc["cni.dev/valid-attachments"],
        json!([{"containerID": "keep", "ifname": "eth0"}])
    );
    assert_eq!(gc["cni.dev/attachments"], gc["cni.dev/valid-attachments"]);
    assert_eq!(gc["name"], "net1");
    assert_eq!(gc["cniVersion"], "1.1.0");
    assert!(cni.cache_entry("net1", &stale).unwrap().is_none());
    assert!(cni.cache_entry("net1", &keep).unwrap().is_some());

    // disableGC: stale entries still go, no plugin GC.
    cni.exec().clear();
    let no_gc = list_with(&list, |l| l.disable_gc = true);
    cni.gc_network_list(&no_gc, &[]).unwrap();
    let cmds: Vec<String> = cni
        .exec()
        .calls()
        .iter()
        .map(|c| c.command().to_string())
        .collect();
    assert_eq!(cmds, ["DEL", "DEL"]);
}

fn list_with(l: &NetConfList, f: impl FnOnce(&mut NetConfList)) -> NetConfList {
    let mut l = l.clone();
    f(&mut l);
    l
}

#[test]
fn status_only_from_1_1_0() {
    let dir = tempfile::tempdir().unwrap();
    let cni = runner(dir.path());
    cni.status_network_list(&list("1.0.0", json!({}))).unwrap();
    assert!(cni.exec().calls().is_empty());
    cni.status_network_list(&list("1.1.0", json!({}))).unwrap();
    let calls = cni.exec().calls();
    assert_eq!(calls.len(), 2);
    assert!(
        calls
            .iter()
            .all(|c| c.command() == "STATUS" && c.var("CNI_PATH") == Some("/fake"))
    );
}

#[test]
fn check_rules() {
    let dir = tempfile::tempdir().unwrap();
    let cni = runner(dir.path());
    let rt = RuntimeConf::new("c1", "/ns", "eth0");
    let err = cni
        .check_network_list(&list("0.3.1", json!({})), &rt)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "configuration version \"0.3.1\" does not support the CHECK command"
    );
    assert_eq!(err.code(), ErrorCode::IncompatibleVersion);
    cni.check_network_list(&list("1.0.0", json!({"disableCheck": true})), &rt)
        .unwrap();
    assert!(cni.exec().calls().is_empty());
}

#[test]
fn add_converts_nothing_and_uses_the_list_version_in_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let cni = runner(dir.path());
    // Selected from cniVersions: the highest not above 1.1.0.
    let l = list("0.4.0", json!({"cniVersions": ["1.0.0", "1.1.0", "2.0.0"]}));
    let rt = RuntimeConf::new("c1", "/ns", "eth0");
    let r = cni.add_network_list(&l, &rt).unwrap();
    assert_eq!(r.cni_version(), "1.1.0");
    let stdins: Vec<_> = cni
        .exec()
        .calls()
        .iter()
        .map(|c| c.stdin_json().unwrap())
        .collect();
    assert!(
        stdins
            .iter()
            .all(|c| c["cniVersion"] == "1.1.0" && c["name"] == "net1")
    );
    assert!(stdins[0].get("prevResult").is_none());
    assert_eq!(stdins[1]["prevResult"]["ips"][0]["address"], "10.0.0.2/24");
    // Invalid identifiers are refused before any plugin runs.
    for rt in [
        RuntimeConf::new("", "/ns", "eth0"),
        RuntimeConf::new("c%", "/ns", "eth0"),
        RuntimeConf::new("c1", "/ns", "eth0:1"),
    ] {
        let e = cni.add_network_list(&l, &rt).unwrap_err();
        assert!(matches!(e, Error::Validation(_)), "{e}");
    }
}

#[test]
fn corrupt_cache_does_not_block_del() {
    let dir = tempfile::tempdir().unwrap();
    let cni = runner(dir.path());
    let l = list("1.0.0", json!({}));
    let rt = RuntimeConf::new("c1", "/ns", "eth0");
    let path = cni.cache_path("net1", &rt);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"{not json").unwrap();
    assert!(cni.cached_result(&l, &rt).is_err());
    cni.del_network_list(&l, &rt).unwrap();
    assert!(!path.exists());
    let calls = cni.exec().calls();
    assert_eq!(calls.len(), 2);
    assert!(
        calls
            .iter()
            .all(|c| c.stdin_json().unwrap().get("prevResult").is_none())
    );
}

#[test]
fn cache_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cni = runner(dir.path());
    let rt = RuntimeConf::new("c1", "/ns", "eth0");
    cni.add_network_list(&list("1.1.0", json!({})), &rt)
        .unwrap();
    let path = cni.cache_path("net1", &rt);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
}

#[test]
fn plugin_error_output_shapes() {
    let e = invoke::plugin_error("exit status: 1", br#"{"code":7,"msg":"bad"}"#, b"");
    assert_eq!((e.code.code(), e.msg.as_str()), (7, "bad"));
    let e = invoke::plugin_error("exit status: 1", b"", b"");
    assert_eq!(
        e.msg,
        "netplugin failed with no error message: exit status: 1"
    );
    let e = invoke::plugin_error("exit status: 1", b"", b"oops");
    assert_eq!(e.msg, "netplugin failed: \"oops\"");
    let e = invoke::plugin_error("exit status: 1", b"garbage", b"");
    assert!(
        e.msg
            .starts_with("netplugin failed but error parsing its diagnostic message \"garbage\"")
    );
    assert_eq!(e.code, ErrorCode::Internal);
}

#[test]
fn real_processes_exit_status_is_honoured() {
    // /bin/sh stands in for a plugin: exit 0 with a result, exit 1 with an error.
    if !testbed::require!(testbed::Need::Program("sh")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.path().join(name);
        std::fs::write(&p, format!("#!/bin/sh\ncat >/dev/null\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    write("ok", r#"echo '{"ips":[{"address":"10.1.1.1/24"}]}'"#);
    write(
        "fail",
        r#"echo '{"code":11,"msg":"try again"}'; echo "$CNI_COMMAND $CNI_IFNAME" >&2; exit 3"#,
    );
    write("mute", "exit 2");
    let args = InvokeArgs::new("ADD", "c1", "/ns", "eth0", &[dir.path()]);
    let conf = br#"{"cniVersion":"1.0.0","name":"n"}"#;
    let r = invoke::delegate_add("ok", conf, &args).unwrap();
    // No cniVersion in the output: read in the configuration's version.
    assert_eq!(r.cni_version(), "1.0.0");
    let e = invoke::delegate_add("fail", conf, &args).unwrap_err();
    assert_eq!(e.plugin_error().unwrap().code, ErrorCode::TryAgainLater);
    let e = invoke::delegate("mute", conf, &args).unwrap_err();
    assert_eq!(
        e.plugin_error().unwrap().msg,
        "netplugin failed with no error message: exit status: 2"
    );
}

#[test]
fn load_file_appends_plugin_files_unless_inlined_only() {
    let dir = tempfile::tempdir().unwrap();
    let list_path = dir.path().join("10-net1.conflist");
    std::fs::write(
        &list_path,
        br#"{"cniVersion":"1.1.0","name":"net1","plugins":[{"type":"a"}]}"#,
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("net1")).unwrap();
    std::fs::write(dir.path().join("net1/20-c.conf"), br#"{"type":"c"}"#).unwrap();
    std::fs::write(dir.path().join("net1/10-b.conf"), br#"{"type":"b","x":1}"#).unwrap();
    std::fs::write(dir.path().join("net1/ignored.json"), br#"{"type":"z"}"#).unwrap();
    let l = NetConfList::load_file(&list_path).unwrap();
    let types: Vec<&str> = l.plugins.iter().map(|p| p.plugin_type.as_str()).collect();
    assert_eq!(types, ["a", "b", "c"]);

    // Only the inlined ones when asked.
    std::fs::write(
        &list_path,
        br#"{"cniVersion":"1.1.0","name":"net1","loadOnlyInlinedPlugins":"TRUE","plugins":[{"type":"a"}]}"#,
    )
    .unwrap();
    assert_eq!(NetConfList::load_file(&list_path).unwrap().plugins.len(), 1);

    // No plugins key and no directory: nothing to run.
    std::fs::write(&list_path, br#"{"cniVersion":"1.1.0","name":"other"}"#).unwrap();
    assert_eq!(
        NetConfList::load_file(&list_path).unwrap_err().to_string(),
        "error parsing configuration list: no plugin configs found"
    );
    // A plugin file without a type is refused.
    std::fs::write(dir.path().join("net1/30-bad.conf"), br#"{"x":1}"#).unwrap();
    std::fs::write(&list_path, br#"{"name":"net1"}"#).unwrap();
    assert_eq!(
        NetConfList::load_file(&list_path).unwrap_err().to_string(),
        "error parsing configuration: missing 'type'"
    );
}
