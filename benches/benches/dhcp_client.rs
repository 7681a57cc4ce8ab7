//! The DHCP client's hot paths: decoding a server's ACK, encoding a REQUEST, and one renewal
//! round trip (timer fires, REQUEST out, ACK in) in a renewal manager holding 10,000 leases.

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{Criterion, criterion_group, criterion_main};
use dhcp_codec::Time;
use dhcp_codec::{ClientId, HwAddr, Message, MessageType};
use dhcp_ipam::client::{Client, ClientConfig, Output};
use dhcp_ipam::renewal::RenewalScheduler;

const ACK: &[u8] = include_bytes!("../../dhcp-codec/tests/captures/dnsmasq-4-ack.bin");

fn codec(c: &mut Criterion) {
    c.bench_function("dhcp_client/parse dnsmasq ACK", |b| {
        b.iter(|| Message::parse(black_box(ACK)).unwrap())
    });
    let mut req = Message::new_request(MessageType::Request, 7, HwAddr::mac([2, 0, 0, 0, 0, 1]));
    req.options.client_id = Some(ClientId::for_pod_interface("0123456789abcdef", "net1"));
    req.options.requested_ip = Some(Ipv4Addr::new(10, 0, 0, 5));
    req.options.server_id = Some(Ipv4Addr::new(10, 0, 0, 1));
    req.options.parameter_request_list = vec![1, 3, 6, 15, 51, 54, 58, 59, 121];
    let mut buf = Vec::with_capacity(600);
    c.bench_function("dhcp_client/emit REQUEST", |b| {
        b.iter(|| black_box(&req).emit_into(&mut buf).unwrap())
    });
}

/// The answer a server would give to `req` (OFFER for DISCOVER, ACK for REQUEST).
fn answer(req: &Message, n: u32) -> Message {
    let t = if req.message_type == MessageType::Discover {
        MessageType::Offer
    } else {
        MessageType::Ack
    };
    let mut r = Message::new_reply(req, t);
    r.yiaddr = if req.ciaddr.is_unspecified() {
        Ipv4Addr::from(0x0a00_0000 + n)
    } else {
        req.ciaddr
    };
    r.options.server_id = Some(Ipv4Addr::new(10, 255, 255, 254));
    r.options.lease_time = Some(3600);
    r.options.subnet_mask = Some(Ipv4Addr::new(255, 0, 0, 0));
    r
}

fn key_index(key: &str) -> u32 {
    key[3..].parse().unwrap()
}

/// Feeds every transmit of `out` its answer until nothing is left to answer.
fn settle(m: &mut RenewalScheduler, now: Time, mut out: Vec<(String, Output)>) {
    while !out.is_empty() {
        let mut next = Vec::new();
        for (key, o) in out {
            if let Output::Transmit(t) = o {
                let a = answer(&t.message, key_index(&key));
                m.handle_message(now, &key, &a, &mut next);
            }
        }
        out = next;
    }
}

fn manager(c: &mut Criterion) {
    let n = 10_000u32;
    let mut m = RenewalScheduler::new();
    let t0 = Time::from_secs(1_700_000_000);
    for i in 0..n {
        let mac = HwAddr::mac([2, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8, 1]);
        let cfg = ClientConfig::new(mac, ClientId::for_pod_interface(&format!("c{i}"), "net1"));
        m.insert(format!("pod{i}"), Client::new(cfg, u64::from(i), t0));
    }
    let mut now = t0 + std::time::Duration::from_secs(10);
    let mut out = Vec::new();
    m.handle_timeouts(now, &mut out);
    settle(&mut m, now, out);
    assert!(m.iter().all(|(_, c)| c.state().holds_lease()));
    c.bench_function("dhcp_client/renewal round trip among 10,000 leases", |b| {
        b.iter(|| {
            now = m.next_timeout().unwrap();
            let mut out = Vec::new();
            m.handle_timeouts(now, &mut out);
            settle(&mut m, now, out);
        })
    });
}

criterion_group!(benches, codec, manager);
criterion_main!(benches);
