//! The `rdma-dhcp` plugin under load: 32 pods on one L2 segment (a bridge in a "fabric"
//! namespace, as the VFs of one PF share the leaf's VLAN) ADD at the same time through one daemon
//! against ISC dhcpd; every ADD succeeds with a distinct address, every DEL's RELEASE reaches
//! dhcpd. Needs root and dhcpd; skips (or fails with RDMA_SRIOV_REQUIRE_PEERS=1) without them.

mod client_peers;

use client_peers::Daemon;

use std::path::Path;
use std::time::{Duration, Instant};

use dhcp_ipam::cni::{DaemonRequest, call};
use testbed::Need;
use testbed::dhcp::LeafPod;

const PODS: usize = 32;

fn plugin(command: &str, cid: &str, netns: &Path, stdin: &str) -> std::process::Child {
    client_peers::spawn_plugin(command, cid, netns, "net1", stdin)
}

#[test]
fn ipam_concurrent_adds_and_dels_against_dhcpd() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("dhcpd")) {
        return;
    }
    // leaf[sw0] and PODS pods on one bridge: one L2 segment, as the VFs of one PF
    let (bed, others) = LeafPod::bridged_with(PODS - 1, "net1");
    let pods: Vec<&testbed::Netns> = std::iter::once(&bed.pod).chain(&others).collect();
    let _dhcpd = bed.dhcpd(600, "");
    let daemon = Daemon::start(bed.dir.path(), 1);
    let socket = daemon.socket.clone();
    let stdin = format!(
        r#"{{"cniVersion":"1.0.0","name":"rdma-net","type":"sriov","ipam":{{"type":"rdma-dhcp","daemonSocketPath":"{}","timeout":30}}}}"#,
        socket.display()
    );

    // all ADDs at once
    let adds: Vec<_> = pods
        .iter()
        .enumerate()
        .map(|(i, p)| plugin("ADD", &format!("ctr{i}"), &p.path(), &stdin))
        .collect();
    let mut addrs = Vec::new();
    for (i, c) in adds.into_iter().enumerate() {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "ADD {i}: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            daemon.log()
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        addrs.push(r["ips"][0]["address"].as_str().unwrap().to_string());
    }
    let mut distinct = addrs.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), PODS, "{addrs:?}");
    let listed = call(&socket, &DaemonRequest::List, Duration::from_secs(5))
        .unwrap()
        .entries;
    assert_eq!(listed.len(), PODS);
    assert!(listed.iter().all(|e| e.state == "BOUND"), "{listed:?}");

    // as the main plugin would: configure the addresses, then DEL everything at once
    for (p, a) in pods.iter().zip(&addrs) {
        p.ip(&["addr", "add", a, "dev", "net1"]).unwrap();
    }
    let dels: Vec<_> = pods
        .iter()
        .enumerate()
        .map(|(i, p)| plugin("DEL", &format!("ctr{i}"), &p.path(), &stdin))
        .collect();
    for (i, c) in dels.into_iter().enumerate() {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "DEL {i}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = bed.log("dhcpd");
        let released = addrs
            .iter()
            .filter(|a| {
                log.contains(&format!(
                    "DHCPRELEASE of {} from",
                    a.split('/').next().unwrap()
                ))
            })
            .count();
        if released == PODS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{released} of {PODS} RELEASEs seen by dhcpd:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        call(&socket, &DaemonRequest::List, Duration::from_secs(5))
            .unwrap()
            .entries
            .is_empty()
    );
}
