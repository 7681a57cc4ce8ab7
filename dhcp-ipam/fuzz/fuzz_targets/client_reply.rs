//! Arbitrary bytes that decode as a DHCP message, fed to a client in SELECTING as the reply to
//! its DISCOVER: it must never panic.
#![no_main]

use dhcp_codec::{ClientId, Message, Time};
use dhcp_ipam::client::{Client, ClientConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::parse(data) else {
        return;
    };
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
