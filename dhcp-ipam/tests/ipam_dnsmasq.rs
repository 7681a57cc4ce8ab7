//! The `rdma-dhcp` plugin against dnsmasq, which ignores the RELEASEs the reference CNI `dhcp`
//! plugin sends (from 0.0.0.0, or with option 50): ours is honoured. Needs root and dnsmasq;
//! skips (or fails with RDMA_SRIOV_REQUIRE_PEERS=1) without them.

mod client_peers;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use client_peers::{Daemon, needs};
use testbed::dhcp::{Dnsmasq, LeafPod, POD_IF};

fn plugin(command: &str, netns: &Path, stdin: &str) -> Output {
    client_peers::run_plugin(command, "dnsmasq-pod", netns, POD_IF, stdin)
}

#[test]
fn ipam_add_del_against_dnsmasq_release_honoured() {
    if !testbed::require!(needs = needs("dnsmasq")) {
        return;
    }
    let bed = LeafPod::new();
    let _server = bed.dnsmasq(Dnsmasq {
        lease_secs: 600,
        ..Dnsmasq::default()
    });
    let daemon = Daemon::start(bed.dir.path(), 1);
    let socket = daemon.socket.clone();
    let stdin = format!(
        r#"{{"cniVersion":"0.4.0","name":"rdma-net","type":"sriov","ipam":{{"type":"rdma-dhcp","daemonSocketPath":"{}"}}}}"#,
        socket.display()
    );
    let out = plugin("ADD", &bed.pod_path(), &stdin);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // a 0.4.0 configuration gets a 0.4.0 result
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["cniVersion"], "0.4.0");
    assert_eq!(r["ips"][0]["version"], "4");
    let address = r["ips"][0]["address"].as_str().unwrap().to_string();
    let ip = address.split('/').next().unwrap().to_string();
    bed.pod
        .ip(&["addr", "add", &address, "dev", POD_IF])
        .unwrap();

    let out = plugin("DEL", &bed.pod_path(), &stdin);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        bed.wait_log("dnsmasq", 5, |l| l
            .contains(&format!("DHCPRELEASE(sw0) {ip}"))),
        "{}",
        bed.log("dnsmasq")
    );
    // dnsmasq dropped the lease from its lease file
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let leases =
            std::fs::read_to_string(bed.dir.path().join("dnsmasq.leases")).unwrap_or_default();
        if !leases.contains(&ip) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "lease still in dnsmasq's file: {leases}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
