//! The DHCP packet decoder on arbitrary bytes: it must never panic, and whatever it accepts
//! must re-encode and decode to the same message.
#![no_main]

use dhcp_codec::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    if let Ok(bytes) = msg.emit() {
        let again = Message::parse(&bytes).expect("an emitted message parses");
        assert_eq!(again, msg, "parse(emit(parse(x))) == parse(x)");
    }
});
