//! Result, error and version parsers. Whatever parses must emit and parse back to the same
//! value, and convert to every version without panicking.
#![no_main]

use cni_types::result::AnyResult;
use cni_types::version::{ALL, VersionInfo};
use cni_types::CniError;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = AnyResult::parse(data) {
        assert_eq!(AnyResult::parse(&r.emit()).unwrap(), r);
        for v in ALL {
            if let Ok(c) = r.convert_to(v) {
                assert_eq!(c.cni_version(), *v);
                assert_eq!(AnyResult::parse(&c.emit()).unwrap(), c);
            }
        }
        // The current layout keeps a 1.x version; only the relabelling names 1.1.0.
        let layout = r.clone().into_current_layout();
        if r.family() == cni_types::version::Family::V100 {
            assert_eq!(layout.cni_version, r.cni_version());
        }
        assert_eq!(r.clone().into_current_version().cni_version, "1.1.0");
        assert_eq!(r.emit_string().into_bytes(), r.emit());
    }
    for v in ["0.2.0", "0.4.0", "1.1.0"] {
        let _ = AnyResult::parse_as(data, v);
    }
    if let Ok(e) = CniError::parse(data) {
        assert_eq!(CniError::parse(&e.emit()).unwrap(), e);
        assert_eq!(e.emit_string().into_bytes(), e.emit());
    }
    let _ = VersionInfo::parse(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = cni_types::version::Version::parse(s);
    }
});
