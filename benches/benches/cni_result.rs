//! cni-types: parse + emit of a typical 1.1.0 result (target: under 5 us), and the
//! conversions a plugin does on it.

use std::hint::black_box;

use cni_types::result::AnyResult;
use criterion::{Criterion, criterion_group, criterion_main};

/// A bridge ADD result as a runtime gets it: three interfaces, v4 and v6 addresses, routes,
/// DNS.
const RESULT: &[u8] = br#"{
  "cniVersion": "1.1.0",
  "interfaces": [
    {"name": "cni0", "mac": "00:11:22:33:44:55"},
    {"name": "veth3243", "mac": "55:44:33:22:11:11"},
    {"name": "eth0", "mac": "99:88:77:66:55:44", "mtu": 1500, "sandbox": "/var/run/netns/blue"}
  ],
  "ips": [
    {"address": "10.1.0.5/16", "gateway": "10.1.0.1", "interface": 2},
    {"address": "fd00:1::5/64", "gateway": "fd00:1::1", "interface": 2}
  ],
  "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0", "gw": "fd00:1::1"}],
  "dns": {"nameservers": ["10.1.0.1"], "domain": "cluster.local", "search": ["svc.cluster.local"]}
}"#;

fn bench(c: &mut Criterion) {
    c.bench_function("cni_result_1_1_0_parse_emit", |b| {
        b.iter(|| {
            let r = AnyResult::parse(black_box(RESULT)).unwrap();
            black_box(r.emit())
        })
    });
    let parsed = AnyResult::parse(RESULT).unwrap();
    c.bench_function("cni_result_1_1_0_to_0_4_0", |b| {
        b.iter(|| black_box(black_box(&parsed).convert_to("0.4.0").unwrap()))
    });
    c.bench_function("cni_result_1_1_0_to_0_2_0", |b| {
        b.iter(|| black_box(black_box(&parsed).convert_to("0.2.0").unwrap()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
