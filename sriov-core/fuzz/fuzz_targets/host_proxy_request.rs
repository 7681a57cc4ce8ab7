//! The host proxy's request and reply parsers on arbitrary bytes: a typed error or a value,
//! never a panic; whatever parses emits a line that parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sriov_core::host_proxy::{Reply, Request};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Request::parse_line(data) {
        let line = request.emit_line().expect("a parsed request encodes");
        assert_eq!(Request::parse_line(&line).expect("re-parse"), request);
    }
    if let Ok(reply) = Reply::parse_line(data) {
        let line = reply.emit_line().expect("a parsed reply encodes");
        assert_eq!(Reply::parse_line(&line).expect("re-parse"), reply);
    }
});
