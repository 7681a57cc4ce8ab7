//! The `rdma-dhcp` plugin under load: 32 pods on one L2 segment (a bridge in a "fabric"
//! namespace, as the VFs of one PF share the leaf's VLAN) ADD at the same time through one daemon
//! against ISC dhcpd; every ADD succeeds with a distinct address, every DEL's RELEASE reaches
//! dhcpd. Needs root and dhcpd; skips (or fails with RDMA_SRIOV_REQUIRE_PEERS=1) without them.

mod client_peers;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dhcp_ipam::cni::{DaemonRequest, call};
use testbed::{ChildGuard, Need, Netns};

const BIN: &str = env!("CARGO_BIN_EXE_rdma-dhcp");
const PODS: usize = 32;

fn plugin(command: &str, cid: &str, netns: &Path, stdin: &str) -> std::process::Child {
    client_peers::spawn_plugin(command, cid, netns, "net1", stdin)
}

#[test]
fn ipam_concurrent_adds_and_dels_against_dhcpd() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("dhcpd")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let leaf = Netns::new("ll").unwrap();
    let fabric = Netns::new("lf").unwrap();
    fabric
        .ip(&["link", "add", "br0", "type", "bridge"])
        .unwrap();
    fabric.ip(&["link", "set", "br0", "up"]).unwrap();
    testbed::veth_pair(&leaf, "sw0", &fabric, "pf0").unwrap();
    fabric.ip(&["link", "set", "pf0", "master", "br0"]).unwrap();
    leaf.ip(&["addr", "add", "192.168.111.1/24", "dev", "sw0"])
        .unwrap();
    let pods: Vec<Netns> = (0..PODS)
        .map(|i| {
            let pod = Netns::new("lp").unwrap();
            let port = format!("vf{i}");
            testbed::veth_pair(&pod, "net1", &fabric, &port).unwrap();
            fabric.ip(&["link", "set", &port, "master", "br0"]).unwrap();
            pod
        })
        .collect();

    let conf = dir.path().join("dhcpd.conf");
    let leases = dir.path().join("dhcpd.leases");
    std::fs::write(
        &conf,
        "authoritative;\nddns-update-style none;\nping-check false;\ndefault-lease-time 600;\n\
         max-lease-time 600;\nsubnet 192.168.111.0 netmask 255.255.255.0 {\n  \
         range 192.168.111.10 192.168.111.250;\n  option routers 192.168.111.1;\n}\n",
    )
    .unwrap();
    std::fs::write(&leases, "").unwrap();
    let dhcpd_log = dir.path().join("dhcpd.log");
    let _dhcpd = ChildGuard::new(
        leaf.command("dhcpd")
            .args(["-4", "-f", "-d", "-cf"])
            .arg(&conf)
            .arg("-lf")
            .arg(&leases)
            .arg("-pf")
            .arg(dir.path().join("dhcpd.pid"))
            .arg("sw0")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&dhcpd_log).unwrap())
            .spawn()
            .unwrap(),
    );
    let socket = dir.path().join("d.sock");
    let daemon_log = dir.path().join("daemon.log");
    let _daemon = ChildGuard::new(
        Command::new(BIN)
            .args(["daemon", "--socket"])
            .arg(&socket)
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&daemon_log).unwrap())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while call(&socket, &DaemonRequest::Status, Duration::from_secs(1)).is_err() {
        assert!(Instant::now() < deadline, "daemon did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500)); // dhcpd's sockets
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
            std::fs::read_to_string(&daemon_log).unwrap_or_default()
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
        let log = std::fs::read_to_string(&dhcpd_log).unwrap_or_default();
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
