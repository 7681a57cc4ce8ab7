//! cni-types: the conflist runner's own overhead per ADD (target: under 1 ms), that is
//! everything but the plugins' run time: building each plugin's stdin (name, version,
//! prevResult, filtered runtimeConfig), parsing each plugin's result, and writing the libcni
//! cache file. The plugins are answered by an in-memory `Exec` that returns canned results,
//! so no process runs.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use cni_types::Error;
use cni_types::config::NetConfList;
use cni_types::invoke::Exec;
use cni_types::runtime::{CniConfig, RuntimeConf};
use criterion::{Criterion, criterion_group, criterion_main};

/// The specification's example list: bridge (+ host-local), tuning, portmap.
const LIST: &[u8] = br#"{
  "cniVersion": "1.1.0", "cniVersions": ["0.3.1", "0.4.0", "1.0.0", "1.1.0"], "name": "dbnet",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "keyA": ["some more", "plugin specific", "configuration"],
     "ipam": {"type": "host-local", "subnet": "10.1.0.0/16", "gateway": "10.1.0.1",
              "routes": [{"dst": "0.0.0.0/0"}]},
     "dns": {"nameservers": ["10.1.0.1"]}},
    {"type": "tuning", "capabilities": {"mac": true}, "sysctl": {"net.core.somaxconn": "500"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}"#;

const RESULT: &[u8] = br#"{"cniVersion":"1.1.0",
  "interfaces":[{"name":"cni0","mac":"00:11:22:33:44:55"},{"name":"veth3243","mac":"55:44:33:22:11:11"},
                {"name":"eth0","mac":"00:11:22:33:44:66","sandbox":"/var/run/netns/blue"}],
  "ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1","interface":2}],
  "routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["10.1.0.1"]}}"#;

/// Every plugin answers instantly with the same result.
struct Canned;

impl Exec for Canned {
    fn exec(&self, _: &Path, _: &[(String, String)], stdin: &[u8]) -> Result<Vec<u8>, Error> {
        black_box(stdin);
        Ok(RESULT.to_vec())
    }
    fn find(&self, plugin: &str, _: &[PathBuf]) -> Result<PathBuf, Error> {
        Ok(PathBuf::from("/bench").join(plugin))
    }
}

fn bench(c: &mut Criterion) {
    let list = NetConfList::parse(LIST).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cni = CniConfig::new(vec!["/bench".into()])
        .with_exec(Canned)
        .with_cache_dir(cache.path());
    let mut rt = RuntimeConf::new("a51debf7e1eb", "/var/run/netns/blue", "eth0");
    rt.capability_args
        .insert("mac".into(), serde_json::json!("00:11:22:33:44:66"));
    rt.capability_args.insert(
        "portMappings".into(),
        serde_json::json!([{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]),
    );
    c.bench_function("cni_runner_add_overhead_3_plugins", |b| {
        b.iter(|| black_box(cni.add_network_list(black_box(&list), &rt).unwrap()))
    });
    c.bench_function("cni_runner_del_overhead_3_plugins", |b| {
        b.iter(|| cni.del_network_list(black_box(&list), &rt).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
