//! The meta plugin's own overhead per ADD and per DEL: the same conflist (two no-op plugins,
//! `multus-noop-delegate`) run directly through `cni-types`' runner, and through the `multus`
//! binary with that conflist as its cluster network. Both start the same delegate processes;
//! the difference is multus's process, its configuration parsing, its delegate cache and
//! network-status writes and its own runner call. Side by side in one run:
//!
//! ```sh
//! cargo bench -p multus --bench overhead
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cni_types::NetConfList;
use cni_types::runtime::{CniConfig, RuntimeConf};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

const MULTUS: &str = env!("CARGO_BIN_EXE_multus");
const NOOP: &str = env!("CARGO_BIN_EXE_multus-noop-delegate");
const NETNS: &str = "/var/run/netns/multus-bench-none";

fn conflist() -> Value {
    json!({"cniVersion": "1.0.0", "name": "bench-net", "plugins": [
        {"type": "multus-noop-delegate", "noop": {"ip": "10.9.0.2/24"}},
        {"type": "multus-noop-delegate"},
    ]})
}

fn bin_dir() -> PathBuf {
    Path::new(NOOP)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn multus(command: &str, conf: &[u8]) {
    let mut child = Command::new(MULTUS)
        .env("CNI_COMMAND", command)
        .env("CNI_CONTAINERID", "bench1")
        .env("CNI_NETNS", NETNS)
        .env("CNI_IFNAME", "eth0")
        .env(
            "CNI_ARGS",
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=bench;K8S_POD_UID=u1",
        )
        .env("CNI_PATH", bin_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run multus");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(conf)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait multus");
    assert!(
        out.status.success(),
        "multus {command}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn overhead(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = NetConfList::parse(conflist().to_string().as_bytes()).expect("conflist");
    let runner = CniConfig::new(vec![bin_dir()]).with_cache_dir(dir.path().join("direct"));
    let rt = RuntimeConf::new("bench1", NETNS, "eth0");
    let meta = json!({"cniVersion": "1.0.0", "name": "multus-bench", "type": "multus",
        "hostRoot": dir.path().join("root"), "delegates": [conflist()]})
    .to_string()
    .into_bytes();

    let mut add = c.benchmark_group("add");
    add.bench_function("direct", |b| {
        b.iter(|| runner.add_network_list(&list, &rt).expect("direct ADD"))
    });
    add.bench_function("multus", |b| b.iter(|| multus("ADD", &meta)));
    add.finish();

    let mut del = c.benchmark_group("del");
    del.bench_function("direct", |b| {
        b.iter_batched(
            || runner.add_network_list(&list, &rt).expect("direct ADD"),
            |_| runner.del_network_list(&list, &rt).expect("direct DEL"),
            BatchSize::PerIteration,
        )
    });
    del.bench_function("multus", |b| {
        b.iter_batched(
            || multus("ADD", &meta),
            |()| multus("DEL", &meta),
            BatchSize::PerIteration,
        )
    });
    del.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = overhead
}
criterion_main!(benches);
