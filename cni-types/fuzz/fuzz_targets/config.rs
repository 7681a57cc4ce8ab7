//! Configuration parsers: a plugin configuration, a configuration list, a
//! NetworkAttachmentDefinition, the networks annotation and `CNI_ARGS`. Whatever parses must
//! emit and parse back to the same value.
#![no_main]

use cni_types::args::CniArgs;
use cni_types::config::{NetConf, NetConfList};
use cni_types::multus;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(conf) = NetConf::parse(data) {
        assert_eq!(NetConf::parse(&conf.emit()).unwrap(), conf);
        let _ = conf.prev_result();
    }
    if let Ok(list) = NetConfList::parse(data) {
        assert_eq!(NetConfList::parse(&list.emit()).unwrap(), list);
        let _ = list.effective_version();
    }
    if let Ok(nad) = multus::NetworkAttachmentDefinition::parse(data) {
        let _ = nad.config_list();
        let _ = nad.resource_name();
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(nets) = multus::parse_networks_annotation(s, "default") {
            let _ = multus::interface_names("eth0", &nets);
        }
        if let Ok(args) = CniArgs::parse(s) {
            assert_eq!(CniArgs::parse(&args.emit()).unwrap(), args);
            let _ = args.check_known(&["MAC"]);
        }
    }
});
