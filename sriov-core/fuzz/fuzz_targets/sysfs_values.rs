//! Every parser of sysfs attribute text, PCI addresses, MAC addresses and VF configuration
//! values, on arbitrary bytes: each must return a value or a typed error, never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sriov_core::attr;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let p = Path::new("/sys/fuzz");
    let _ = attr::parse_u32(p, text);
    let _ = attr::parse_hex_u16(p, text);
    let _ = attr::parse_hex_prefixed(p, text);
    let _ = attr::parse_hex_bare_u16(p, text);
    let _ = attr::parse_numa_node(p, text);
    let _ = attr::parse_bool01(p, text);
    if let Ok(a) = text.parse::<sriov_core::PciAddress>() {
        assert_eq!(
            a.to_string().parse::<sriov_core::PciAddress>().ok(),
            Some(a)
        );
    }
    if let Ok(m) = text.parse::<sriov_core::MacAddress>() {
        assert_eq!(
            m.to_string().parse::<sriov_core::MacAddress>().ok(),
            Some(m)
        );
    }
    let _ = text.parse::<sriov_core::VlanProto>();
    let _ = text.parse::<sriov_core::LinkState>();
    let _ = sriov_core::parse_on_off(text);
    let _ = serde_json::from_str::<sriov_core::VfState>(text);
});
