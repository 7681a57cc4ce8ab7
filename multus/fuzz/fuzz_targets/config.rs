//! The meta plugin's configuration parser: any bytes give a configuration or an error, never a
//! panic; a configuration that parses keeps its delegates' lists valid (they emit and parse
//! back) and its master first.
#![no_main]

use cni_types::NetConfList;
use libfuzzer_sys::fuzz_target;
use multus::config::MultusConf;

fuzz_target!(|data: &[u8]| {
    if let Ok(conf) = MultusConf::parse(data) {
        for list in &conf.delegates {
            assert_eq!(&NetConfList::parse(&list.emit()).unwrap(), list);
        }
        assert!(!conf.delegates.is_empty() || conf.cluster_network.is_some());
        let _ = conf.pod_annotations();
        let _ = conf.version();
    }
});
