//! `rdmactl dhcp serve`: configuration errors; the real command serving udhcpc in a pod
//! namespace until SIGTERM, its lease file kept across a restart; and killed with SIGKILL after
//! serving perfdhcp (as a relay): every lease it ACKed is in its lease file, and the restarted
//! server gives new clients none of them.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Stdio;

use common::command;
use dhcp_server::leasefile::bound_leases;
use testbed::dhcp::udhcpc_once;
use testbed::{ChildGuard, Need, Netns, veth_pair};

#[test]
fn config_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("leaf.conf");
    std::fs::write(
        &conf,
        "authoritative;\nsubnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.1.1 10.0.1.9;\n}\n",
    )
    .unwrap();
    let out = command()
        .args(["dhcp", "serve", "--ifname", "sw0", "--config"])
        .arg(&conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:3: range address 10.0.1.1", conf.display())),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    let out = command()
        .args(["dhcp", "serve", "--ifname", "sw0", "--config"])
        .arg(dir.path().join("missing.conf"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("rdmactl: read server config") && err.contains("missing.conf"),
        "{err}"
    );
}

#[test]
fn serve_without_an_address_on_a_subnet_fails() {
    if !testbed::require!(Need::Root, Need::Netns) {
        return;
    }
    let leaf = Netns::new("dsl").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("leaf.conf");
    std::fs::write(
        &conf,
        "subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; }\n",
    )
    .unwrap();
    let out = command()
        .args([
            "dhcp",
            "serve",
            "--netns",
            leaf.name(),
            "--ifname",
            "lo",
            "--config",
        ])
        .arg(&conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("serve on lo:"), "{err}");
}

type Stderr = BufReader<std::process::ChildStderr>;

/// Starts `rdmactl dhcp serve` in `leaf` and waits for its "serving" line.
fn serve(leaf: &Netns, conf: &Path, leases: &Path) -> (ChildGuard, String, Stderr) {
    let child = command()
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
    let stderr = guard.child_mut().stderr.take().unwrap();
    let mut stderr = BufReader::new(stderr);
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("serving DHCP on sw0 as "), "{line}");
    (guard, line, stderr)
}

#[test]
fn serves_udhcpc_until_sigterm_and_keeps_leases_across_restart() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("udhcpc")) {
        return;
    }
    let leaf = Netns::new("dsl").unwrap();
    let pod = Netns::new("dsp").unwrap();
    veth_pair(&leaf, "sw0", &pod, "net1").unwrap();
    leaf.ip(&["addr", "add", "192.168.111.1/24", "dev", "sw0"])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("dhcpd.conf");
    std::fs::write(
        &conf,
        "# leaf-1\nauthoritative;\ndefault-lease-time 600;\n\
         subnet 192.168.111.0 netmask 255.255.255.0 {\n\
           range 192.168.111.10 192.168.111.250;\n  option routers 192.168.111.1;\n}\n",
    )
    .unwrap();
    let leases = dir.path().join("leases");

    let (mut server, banner, mut stderr) = serve(&leaf, &conf, &leases);
    assert!(
        banner.contains("serving DHCP on sw0 as 192.168.111.1"),
        "{banner}"
    );
    assert!(banner.contains("(0 leases bound"), "{banner}");
    let first = udhcpc_once(&pod, "net1", dir.path()).unwrap().ip;
    let status = server.stop_with(nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(status.success(), "{status:?}");
    let mut last = String::new();
    stderr.read_line(&mut last).unwrap();
    assert!(last.contains("stopped: 1 offers, 1 acks, 0 naks"), "{last}");
    let text = std::fs::read_to_string(&leases).unwrap();
    assert!(text.contains(&format!("\"ip\":\"{first}\"")), "{text}");

    let (server, banner, _stderr) = serve(&leaf, &conf, &leases);
    assert!(banner.contains("(1 leases bound"), "{banner}");
    pod.ip(&["link", "set", "net1", "down"]).unwrap();
    pod.ip(&["link", "set", "net1", "address", "02:00:00:00:09:09"])
        .unwrap();
    pod.ip(&["link", "set", "net1", "up"]).unwrap();
    let second = udhcpc_once(&pod, "net1", dir.path()).unwrap().ip;
    assert_ne!(
        first, second,
        "the restarted server gave away a bound address"
    );
    drop(server); // SIGTERM by PID
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

#[test]
fn acked_leases_survive_sigkill() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("perfdhcp")) {
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

    let (mut server, _, _) = serve(&leaf, &conf, &leases);
    let acked = perfdhcp(&pod, "mac=00:0c:01:00:00:00");
    server.stop_with(nix::sys::signal::Signal::SIGKILL).unwrap();
    let first = bound_leases(&leases).unwrap();
    // every ACK perfdhcp saw was on disk before it was sent
    assert!(
        first.len() as u64 >= acked && acked >= 90,
        "{} bound, {acked} acked",
        first.len()
    );

    let (server, _, _) = serve(&leaf, &conf, &leases);
    let acked2 = perfdhcp(&pod, "mac=00:0c:02:00:00:00");
    drop(server);
    assert!(acked2 >= 90, "{acked2}");
    let all = bound_leases(&leases).unwrap();
    let ips: HashSet<Ipv4Addr> = all.iter().map(|(ip, _)| *ip).collect();
    assert_eq!(ips.len(), all.len(), "an address is bound twice");
    // the first run's leases are untouched: same address, same client
    for lease in &first {
        assert!(all.contains(lease), "{lease:?} lost after the restart");
    }
    assert!(all.len() as u64 >= first.len() as u64 + acked2);
}
