//! The pod's inputs the meta plugin parses: the networks annotation (comma and JSON forms) and
//! NetworkAttachmentDefinition files (YAML or JSON). Never a panic; what parses is usable.
#![no_main]

use cni_types::multus as inputs;
use libfuzzer_sys::fuzz_target;
use multus::nad_store::parse_nad;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(nets) = inputs::parse_networks_annotation(text, "default") {
        assert!(nets.iter().all(|n| n.namespace.is_some()));
        let names = inputs::interface_names("eth0", &nets);
        assert_eq!(names.len(), nets.len() + 1);
    }
    if let Ok(nad) = parse_nad(text) {
        let _ = nad.config_list();
        let _ = nad.resource_name();
    }
});
