//! The reply parser on arbitrary bytes: a datagram from the kernel split into replies
//! (`wire::decode`), every message in it read as a device, a port and the system settings, and
//! raw attribute runs parsed. Each must return a value or a typed error, never panic; every
//! message that parsed re-encodes to bytes that decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdma_nl::wire::{self, Reply};
use rdma_nl::{device, port, system};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    if mode % 2 == 1 {
        let _ = wire::parse_attrs(bytes, "fuzz");
        return;
    }
    // the sequence number of the first message is the one we wait for
    let seq = bytes
        .get(8..12)
        .map_or(0, |s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]));
    let Ok(replies) = wire::decode(bytes, seq, "fuzz") else {
        return;
    };
    for reply in &replies {
        if let Reply::Message(m) = reply {
            let _ = device::parse(m, "fuzz");
            let _ = port::parse(m, "fuzz");
            let _ = system::parse(m, "fuzz");
            let again = wire::decode(&m.emit(seq), seq, "fuzz").expect("our own bytes decode");
            assert_eq!(again, vec![Reply::Message(m.clone())]);
        }
    }
});
