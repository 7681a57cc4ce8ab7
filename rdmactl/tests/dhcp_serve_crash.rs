//! `rdmactl dhcp serve` killed with SIGKILL after serving perfdhcp (as a relay): every lease it
//! ACKed is in its lease file, and the restarted server gives new clients none of them.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};

use dhcp_ipam::server::{ClientKey, LeaseFile, RecordState};
use testbed::{ChildGuard, Need, Netns, veth_pair};

fn serve(leaf: &Netns, conf: &Path, leases: &Path) -> ChildGuard {
    let child = Command::new(env!("CARGO_BIN_EXE_rdmactl"))
        .args([
            "dhcp",
            "serve",
            "--netns",
            leaf.name(),
            "--ifname",
            "sw0",
            "--config",
        ])
        .arg(conf)
        .arg("--leases")
        .arg(leases)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut guard = ChildGuard::new(child);
    let mut line = String::new();
    BufReader::new(guard.child_mut().stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("serving DHCP on sw0"), "{line}");
    guard
}

/// 100 DORAs from 100 clients whose MACs start at `base`; returns the ACKs perfdhcp received.
fn perfdhcp(pod: &Netns, base: &str) -> u64 {
    let out = pod
        .command("timeout")
        .args([
            "60",
            "perfdhcp",
            "-4",
            "-l",
            "10.30.0.2",
            "-R",
            "100",
            "-n",
            "100",
        ])
        .args(["-r", "100", "-W", "500000", "-b", base, "10.30.0.1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let received: Vec<u64> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("received packets: "))
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    assert_eq!(received.len(), 2, "{text}");
    received[1]
}

fn bound(path: &Path) -> Vec<(Ipv4Addr, ClientKey)> {
    let (_lock, records) = LeaseFile::open(path).unwrap();
    records
        .into_iter()
        .filter(|r| r.state == RecordState::Bound)
        .map(|r| (r.ip, r.client.unwrap()))
        .collect()
}

#[test]
fn acked_leases_survive_sigkill() {
    if !testbed::require(
        "acked_leases_survive_sigkill",
        &[Need::Root, Need::Netns, Need::Program("perfdhcp")],
    ) {
        return;
    }
    let leaf = Netns::new("dsl").unwrap();
    let pod = Netns::new("dsp").unwrap();
    veth_pair(&leaf, "sw0", &pod, "net1").unwrap();
    leaf.ip(&["addr", "add", "10.30.0.1/24", "dev", "sw0"])
        .unwrap();
    pod.ip(&["addr", "add", "10.30.0.2/24", "dev", "net1"])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("dhcpd.conf");
    std::fs::write(
        &conf,
        "authoritative;\ndefault-lease-time 3600;\n\
         subnet 10.30.0.0 netmask 255.255.255.0 { range 10.30.0.10 10.30.0.250; }\n",
    )
    .unwrap();
    let leases = dir.path().join("leases");

    let mut server = serve(&leaf, &conf, &leases);
    let acked = perfdhcp(&pod, "mac=00:0c:01:00:00:00");
    server.stop_with(nix::sys::signal::Signal::SIGKILL).unwrap();
    let first = bound(&leases);
    // every ACK perfdhcp saw was on disk before it was sent
    assert!(
        first.len() as u64 >= acked && acked >= 90,
        "{} bound, {acked} acked",
        first.len()
    );

    let server = serve(&leaf, &conf, &leases);
    let acked2 = perfdhcp(&pod, "mac=00:0c:02:00:00:00");
    drop(server);
    assert!(acked2 >= 90, "{acked2}");
    let all = bound(&leases);
    let ips: HashSet<Ipv4Addr> = all.iter().map(|(ip, _)| *ip).collect();
    assert_eq!(ips.len(), all.len(), "an address is bound twice");
    // the first run's leases are untouched: same address, same client
    for lease in &first {
        assert!(all.contains(lease), "{lease:?} lost after the restart");
    }
    assert!(all.len() as u64 >= first.len() as u64 + acked2);
}
