//! The DHCP packet decoder on arbitrary bytes: it must never panic, and whatever it accepts
//! must re-encode and decode to the same message. Accepted replies are also fed to a client
//! in SELECTING, which must not panic either.
#![no_main]

use dhcp_ipam::Time;
use dhcp_ipam::client::{Client, ClientConfig};
use dhcp_ipam::codec::{ClientId, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    if let Ok(bytes) = msg.emit() {
        let again = Message::parse(&bytes).expect("an emitted message parses");
        assert_eq!(again, msg, "parse(emit(parse(x))) == parse(x)");
    }
    let cfg = ClientConfig::new(msg.chaddr, ClientId::from_mac([2, 0, 0, 0, 0, 1]));
    let mut client = Client::new(cfg, 1, Time::ZERO);
    if let Some(t) = client.poll_timeout() {
        client.handle_timeout(t);
    }
    let mut msg = msg;
    msg.xid = client.xid();
    client.handle_message(Time::from_secs(20), &msg);
    while client.poll_output().is_some() {}
});
