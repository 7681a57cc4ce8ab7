//! Fuzz target: the `dhcpd.conf` parser must never panic, every error must name the file and
//! a line of the input, and a configuration it accepts must be usable by the allocator.
#![no_main]

use libfuzzer_sys::fuzz_target;

use dhcp_server::{Allocator, ServerConfig, Timers};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ServerConfig::parse(text, "fuzz.conf") {
        Ok(conf) => {
            // Accepted configurations hold a bounded number of addresses; build the allocator
            // only for small ones to keep each run fast.
            let size: u64 = conf
                .subnets
                .iter()
                .flat_map(|s| s.ranges.iter())
                .map(|r| r.len())
                .sum();
            if size <= 4096 {
                let alloc = Allocator::new(&conf, Timers::default());
                assert_eq!(alloc.capacity() as u64, size);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            let rest = msg
                .strip_prefix("fuzz.conf:")
                .expect("error names the file");
            let line: usize = rest
                .split(':')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("error names a line");
            assert!(line >= 1 && line <= text.lines().count().max(1), "{msg}");
        }
    }
});
