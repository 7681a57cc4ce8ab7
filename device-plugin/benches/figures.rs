//! The figures of issue 10, measured end to end with `rdma-sriov-dp` as a separate process on a
//! rendered simulated host: re-registration after a kubelet restart, health-change propagation
//! to ListAndWatch, Allocate latency (p50/p99), against the Python grpcio kubelet stand-in (and
//! the Rust one for comparison); and the daemon's idle resident memory with 8 and with 1,016
//! devices.
//!
//! `cargo bench -p device-plugin --bench figures` (add `-- --quick` for fewer runs). Needs
//! Python with grpcio and grpcio-tools for the grpcio figures.

use std::path::Path;
use std::time::{Duration, Instant};

use device_plugin::kubelet_sim::hosts::{RenderedHost, bring_pfs_up, large, pf_netdevs, reference};
use device_plugin::kubelet_sim::{
    DaemonProcess, KubeletPaths, KubeletSim, KubeletStandIn, PythonKubelet, unavailable_reason,
};
use sysfs_sim::{PhysicalLink, SimHost};

const WAIT: Duration = Duration::from_secs(60);
const VHCA: &str = "rdma/vhca";

struct Runs {
    restarts: usize,
    flaps: usize,
    allocates: usize,
}

fn stats(name: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "  {name:<44} n={:<5} min={:>10.3?} p50={:>10.3?} p99={:>10.3?} max={:>10.3?}",
        samples.len(),
        samples[0],
        at(0.5),
        at(0.99),
        samples[samples.len() - 1]
    );
}

fn daemon(root: &Path, config: &str, poll_ms: u64) -> DaemonProcess {
    let path = root.join("config.json");
    std::fs::write(&path, config).unwrap();
    let poll = poll_ms.to_string();
    DaemonProcess::spawn(
        Path::new(env!("CARGO_BIN_EXE_rdma-sriov-dp")),
        root,
        &path,
        &root.join("daemon.log"),
        &["--poll-interval-ms", &poll, "--log-level", "warn"],
    )
    .unwrap()
}

fn ready_host(host: SimHost) -> SimHost {
    bring_pfs_up(&host).unwrap();
    host
}

async fn measure<K: KubeletStandIn>(
    kubelet: &K,
    host: &mut RenderedHost,
    runs: &Runs,
    poll_ms: u64,
) {
    kubelet
        .wait_until("8 healthy", WAIT, |o| {
            !o.registrations.is_empty() && o.healthy(VHCA) == 8
        })
        .await
        .unwrap();
    println!(
        "{} stand-in, daemon polling every {poll_ms} ms:",
        kubelet.stack()
    );
    let mut took = Vec::new();
    for _ in 0..runs.restarts {
        let n = kubelet.observed().registrations.len() + 1;
        let at = kubelet.restart().await.unwrap();
        let o = kubelet
            .wait_until("re-registration", WAIT, |o| o.registrations.len() >= n)
            .await
            .unwrap();
        took.push(o.registrations[n - 1].at.saturating_duration_since(at));
        kubelet
            .wait_until("devices", WAIT, |o| o.healthy(VHCA) == 8)
            .await
            .unwrap();
    }
    stats("re-registration after a kubelet restart", &mut took);
    let pf0 = "0000:3b:00.0".parse().unwrap();
    let (mut down, mut up) = (Vec::new(), Vec::new());
    for _ in 0..runs.flaps {
        for (link, healthy, samples) in [
            (PhysicalLink::Down, 0, &mut down),
            (PhysicalLink::Up, 8, &mut up),
        ] {
            host.host().set_physical_link(pf0, link).unwrap();
            host.render().unwrap();
            let at = Instant::now();
            let o = kubelet
                .wait_until("health", WAIT, |o| o.healthy(VHCA) == healthy)
                .await
                .unwrap();
            samples.push(o.updated_at[VHCA].saturating_duration_since(at));
        }
    }
    stats("PF link down -> 8 Unhealthy on ListAndWatch", &mut down);
    stats("PF link up -> 8 Healthy on ListAndWatch", &mut up);
}

async fn rust_allocates(kubelet: &KubeletSim, n: usize) -> Vec<Duration> {
    let ids = vec!["0000:3b:00.5".to_string()];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        kubelet.allocate(VHCA, &ids).await.unwrap();
        out.push(t.elapsed());
    }
    out
}

async fn idle_rss(host: SimHost, config: &str, devices: usize) {
    let root = testbed::scratch_dir().unwrap();
    let rendered = RenderedHost::new(ready_host(host), root.path()).unwrap();
    let kubelet = KubeletSim::start(KubeletPaths::under(root.path()))
        .await
        .unwrap();
    let d = daemon(root.path(), config, 200);
    kubelet
        .wait_until("devices", WAIT, |o| o.healthy(VHCA) == devices)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cpu0 = d.cpu_time().unwrap_or_default();
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let cpu = d.cpu_time().unwrap_or_default().saturating_sub(cpu0);
    println!(
        "  idle with {devices:>5} devices: VmRSS {:>6} KiB, CPU {:.1}% of one core (200 ms poll)",
        d.rss_kib().unwrap_or(0),
        100.0 * cpu.as_secs_f64() / t0.elapsed().as_secs_f64()
    );
    drop(rendered);
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick {
        Runs {
            restarts: 10,
            flaps: 5,
            allocates: 200,
        }
    } else {
        Runs {
            restarts: 50,
            flaps: 30,
            allocates: 2000,
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let seed = r#"{"mode":"sriov","pfNetdevices":["ens2f0"]}"#;
        for poll_ms in [200, 100] {
            // grpcio
            match unavailable_reason() {
                Some(why) => println!("grpcio stand-in unavailable ({why}): skipped"),
                None => {
                    let root = testbed::scratch_dir().unwrap();
                    let mut host =
                        RenderedHost::new(ready_host(reference(1).unwrap()), root.path()).unwrap();
                    let kubelet =
                        PythonKubelet::start(&KubeletPaths::under(root.path()).plugin_dir)
                            .await
                            .unwrap();
                    let _d = daemon(root.path(), seed, poll_ms);
                    measure(&kubelet, &mut host, &runs, poll_ms).await;
                    if poll_ms == 200 {
                        let mut lat = kubelet
                            .bench_allocate(VHCA, &["0000:3b:00.5".to_string()], runs.allocates)
                            .await
                            .unwrap();
                        stats("Allocate (1 VF), grpcio client, sequential", &mut lat);
                    }
                }
            }
            // tonic, for comparison
            let root = testbed::scratch_dir().unwrap();
            let mut host =
                RenderedHost::new(ready_host(reference(1).unwrap()), root.path()).unwrap();
            let kubelet = KubeletSim::start(KubeletPaths::under(root.path()))
                .await
                .unwrap();
            let _d = daemon(root.path(), seed, poll_ms);
            measure(&kubelet, &mut host, &runs, poll_ms).await;
            if poll_ms == 200 {
                let mut lat = rust_allocates(&kubelet, runs.allocates).await;
                stats("Allocate (1 VF), tonic client, sequential", &mut lat);
            }
        }
        println!("rdma-sriov-dp resident memory:");
        idle_rss(reference(1).unwrap(), seed, 8).await;
        let big = large(1).unwrap();
        let pfs = pf_netdevs(&big).unwrap();
        let quoted: Vec<String> = pfs.iter().map(|p| format!("\"{p}\"")).collect();
        let config = format!(
            r#"{{"mode":"sriov","pfNetdevices":[{}]}}"#,
            quoted.join(",")
        );
        idle_rss(big, &config, 1016).await;
    });
}
