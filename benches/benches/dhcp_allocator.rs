//! The leaf server's lease allocator at scale: a /16 with 50,000 active leases, then one more
//! client allocated (DISCOVER -> offer, REQUEST -> ack) and released per iteration. Target:
//! under 200 ns median for allocate + release.
//!
//! Also: the whole protocol engine answering a DISCOVER and a REQUEST (decode, allocate,
//! encode), for scale against the per-packet cost.

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{Criterion, criterion_group, criterion_main};
use dhcp_codec::{HwAddr, Message, MessageType, Time};
use dhcp_server::{
    Allocator, ClientInfo, ClientKey, Engine, RequestKind, RequestOutcome, ServerConfig, Timers,
};

const CONF: &str = "authoritative;\n\
    subnet 10.0.0.0 netmask 255.255.0.0 {\n\
      range 10.0.0.1 10.0.255.254;\n\
      default-lease-time 3600;\n\
      option routers 10.0.0.1;\n\
    }\n";
const LINK: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const ACTIVE: u64 = 50_000;
const NOW: Time = Time::from_secs(1_700_000_000);

fn mac(n: u64) -> [u8; 6] {
    let b = n.to_be_bytes();
    [0x02, b[3], b[4], b[5], b[6], b[7]]
}

fn client(n: u64) -> ClientInfo {
    ClientInfo::new(ClientKey::mac(mac(n)), Some(mac(n)))
}

fn allocate(a: &mut Allocator, c: &ClientInfo) -> Ipv4Addr {
    let g = a.offer(c, LINK, None, None, NOW).expect("free address");
    let kind = RequestKind::Selecting {
        addr: g.addr,
        server_is_us: true,
    };
    match a.request(c, LINK, kind, None, NOW) {
        RequestOutcome::Ack(g) => g.addr,
        other => panic!("{other:?}"),
    }
}

fn loaded() -> Allocator {
    let conf = ServerConfig::parse(CONF, "bench.conf").expect("config");
    let mut a = Allocator::new(&conf, Timers::default());
    for n in 0..ACTIVE {
        allocate(&mut a, &client(n));
    }
    a.clear_changes();
    assert_eq!(a.bound_count() as u64, ACTIVE);
    a
}

fn allocator(c: &mut Criterion) {
    let mut a = loaded();
    let mut next = ACTIVE;
    c.bench_function(
        "allocate+release /16, 50k active (new client each time)",
        |b| {
            b.iter(|| {
                let cl = client(next);
                next += 1;
                let addr = allocate(&mut a, &cl);
                a.release(&cl, addr, NOW);
                a.clear_changes();
                black_box(addr)
            })
        },
    );
    assert_eq!(a.bound_count() as u64, ACTIVE);

    // For scale: the same at a /24 with 200 active leases (everything in L1/L2 cache).
    let conf = ServerConfig::parse(
        "subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.2 10.0.0.254; default-lease-time 3600; }",
        "small.conf",
    )
    .expect("config");
    let mut small = Allocator::new(&conf, Timers::default());
    for n in 0..200 {
        allocate(&mut small, &client(n));
    }
    small.clear_changes();
    let mut next = 1_000_000;
    c.bench_function(
        "allocate+release /24, 200 active (new client each time)",
        |b| {
            b.iter(|| {
                let cl = client(next);
                next += 1;
                let addr = allocate(&mut small, &cl);
                small.release(&cl, addr, NOW);
                small.clear_changes();
                black_box(addr)
            })
        },
    );

    let mut a = loaded();
    let returning: Vec<ClientInfo> = (ACTIVE..ACTIVE + 1000).map(client).collect();
    let mut i = 0;
    c.bench_function("allocate+release /16, 50k active (returning client)", |b| {
        b.iter(|| {
            let cl = &returning[i % returning.len()];
            i += 1;
            let addr = allocate(&mut a, cl);
            a.release(cl, addr, NOW);
            a.clear_changes();
            black_box(addr)
        })
    });
}

fn engine(c: &mut Criterion) {
    let conf = ServerConfig::parse(CONF, "bench.conf").expect("config");
    let mut e = Engine::new(&conf, LINK, Timers::default()).expect("engine");
    for n in 0..ACTIVE {
        let cl = client(n);
        allocate(e.allocator_mut(), &cl);
    }
    e.allocator_mut().clear_changes();
    let mut next = ACTIVE;
    let mut buf = Vec::new();
    c.bench_function(
        "engine DISCOVER+REQUEST packets (decode, allocate, encode) + release",
        |b| {
            b.iter(|| {
                let m = mac(next);
                next += 1;
                let d = Message::new_request(MessageType::Discover, next as u32, HwAddr::mac(m));
                let bytes = d.emit().expect("emit");
                let offer = e
                    .handle(&Message::parse(&bytes).expect("parse"), NOW)
                    .expect("offer");
                offer.message.emit_into(&mut buf).expect("emit");
                let mut r = Message::new_request(MessageType::Request, next as u32, HwAddr::mac(m));
                r.options.server_id = Some(LINK);
                r.options.requested_ip = Some(offer.message.yiaddr);
                let bytes = r.emit().expect("emit");
                let ack = e
                    .handle(&Message::parse(&bytes).expect("parse"), NOW)
                    .expect("ack");
                ack.message.emit_into(&mut buf).expect("emit");
                e.allocator_mut()
                    .release(&client(next - 1), ack.message.yiaddr, NOW);
                e.allocator_mut().clear_changes();
                black_box(buf.len())
            })
        },
    );
}

criterion_group!(benches, allocator, engine);
criterion_main!(benches);
