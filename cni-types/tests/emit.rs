//! Everything a plugin or runtime prints has `emit()` (bytes for stdout) and `emit_string()`
//! (the same JSON text as a `String`).

use cni_types::config::{NetConf, NetConfList};
use cni_types::version::VersionInfo;
use cni_types::{AnyResult, CniError, ErrorCode, Result100};

const RESULT: &[u8] = br#"{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mtu":1500,"sandbox":"/var/run/netns/blue"}],"ips":[{"interface":0,"address":"10.1.0.5/16","gateway":"10.1.0.1"}],"dns":{"nameservers":["10.1.0.1"]}}"#;

#[test]
fn results_in_every_layout() {
    let r = AnyResult::parse(RESULT).unwrap();
    for v in cni_types::version::ALL {
        let c = r.convert_to(v).unwrap();
        assert_eq!(c.emit_string().as_bytes(), c.emit(), "{v}");
    }
    assert_eq!(r.emit_string().as_bytes(), RESULT);
    let r100 = Result100::parse(RESULT).unwrap();
    assert_eq!(r100.emit_string().as_bytes(), RESULT);
    assert_eq!(r100.emit_string().into_bytes(), r100.emit());
}

#[test]
fn errors_version_output_and_configurations() {
    let e = CniError::new(ErrorCode::InvalidNetworkConfig, "Invalid Configuration")
        .with_details("Network 192.168.0.0/31 too small to allocate from.")
        .with_version("1.1.0");
    assert_eq!(
        e.emit_string(),
        r#"{"cniVersion":"1.1.0","code":7,"msg":"Invalid Configuration","details":"Network 192.168.0.0/31 too small to allocate from."}"#
    );
    assert_eq!(e.emit_string().into_bytes(), e.emit());

    let v = VersionInfo::new(&["1.0.0", "1.1.0"]);
    assert_eq!(
        v.emit_string(),
        r#"{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}"#
    );
    assert_eq!(v.emit_string().into_bytes(), v.emit());

    let conf =
        NetConf::parse(br#"{"cniVersion":"1.0.0","name":"n","type":"bridge","mtu":9000}"#).unwrap();
    assert_eq!(NetConf::parse(conf.emit_string().as_bytes()).unwrap(), conf);
    assert_eq!(conf.emit_string().into_bytes(), conf.emit());

    let list = NetConfList::parse(
        br#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"},{"type":"tuning"}]}"#,
    )
    .unwrap();
    assert_eq!(
        NetConfList::parse(list.emit_string().as_bytes()).unwrap(),
        list
    );
    assert_eq!(list.emit_string().into_bytes(), list.emit());
}
