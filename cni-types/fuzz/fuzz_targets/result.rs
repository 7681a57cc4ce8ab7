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
        let _ = r.clone().into_current();
    }
    for v in ["0.2.0", "0.4.0", "1.1.0"] {
        let _ = AnyResult::parse_as(data, v);
    }
    if let Ok(e) = CniError::parse(data) {
        assert_eq!(CniError::parse(&e.emit()).unwrap(), e);
    }
    let _ = VersionInfo::parse(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = cni_types::version::Version::parse(s);
    }
});
