//! `rdmactl dhcp lease` end to end against dnsmasq in a "leaf" namespace, with the pod
//! interface in another: acquire and configure, print JSON, hold with renewals, release.
//! Needs root and dnsmasq; skips (or fails with RDMA_SRIOV_REQUIRE_PEERS=1) without them.

mod common;

use common::rdmactl;
use testbed::Need;
use testbed::dhcp::{Dnsmasq, LeafPod};

#[test]
fn dhcp_lease_acquires_configures_holds_and_releases() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("dnsmasq")) {
        return;
    }
    let bed = LeafPod::new();
    let _server = bed.dnsmasq(Dnsmasq {
        lease_secs: 120,
        t1_t2: Some((2, 4)),
        dns: vec!["192.168.111.53", "192.168.111.54"],
        extra: Vec::new(),
    });
    let ns = bed.pod.name().to_string();

    // 1. acquire and keep: the address stays on net1, the JSON says what was leased
    let out = rdmactl(&[
        "dhcp",
        "lease",
        "--netns",
        &ns,
        "--ifname",
        "net1",
        "--json",
        "--client-id",
        "00:70:6f:64:31",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let address = v["address"].as_str().unwrap().to_string();
    assert!(
        address.starts_with("192.168.111.") && address.ends_with("/24"),
        "{v}"
    );
    assert_eq!(v["router"], "192.168.111.1");
    assert_eq!(
        v["dns"],
        serde_json::json!(["192.168.111.53", "192.168.111.54"])
    );
    // T1/T2 as dnsmasq sends them (it turns a configured T1 of 2 into 3)
    assert_eq!(
        (v["lease_secs"].as_u64(), v["t2_secs"].as_u64()),
        (Some(120), Some(4))
    );
    let t1 = v["t1_secs"].as_u64().unwrap();
    assert!((2..=3).contains(&t1), "{v}");
    assert!(
        bed.log("dnsmasq")
            .contains(&format!("option: 58 T1  {t1}s")),
        "{}",
        bed.log("dnsmasq")
    );
    assert_eq!(v["server_id"], "192.168.111.1");
    assert!(
        bed.pod_addrs().contains(&address.to_string()),
        "{:?}",
        bed.pod_addrs()
    );
    assert!(
        bed.pod
            .ip(&["-4", "route"])
            .unwrap()
            .contains("default via 192.168.111.1 dev net1")
    );
    assert!(
        bed.log("dnsmasq").contains("00:70:6f:64:31")
            || bed.log("dnsmasq").contains("DHCPACK(sw0)"),
        "{}",
        bed.log("dnsmasq")
    );

    // 2. the same client id again, held 7 s (T1 of 3 s: two renewals), then released
    let acks_before = bed.log("dnsmasq").matches("DHCPACK(sw0)").count();
    let out = rdmactl(&[
        "dhcp",
        "lease",
        "--netns",
        &ns,
        "--ifname",
        "net1",
        "--json",
        "--client-id",
        "0070:6f64:31",
        "--hold",
        "7",
        "--release",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v2: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v2["address"].as_str().unwrap(),
        address,
        "same client id, same address"
    );
    let log = bed.log("dnsmasq");
    let acks = log.matches("DHCPACK(sw0)").count() - acks_before;
    assert!(
        acks >= 3,
        "acquisition plus renewals while held, got {acks}:\n{log}"
    );
    let ip = address.split('/').next().unwrap();
    assert!(log.contains(&format!("DHCPRELEASE(sw0) {ip}")), "{log}");
    assert!(
        bed.pod_addrs().is_empty(),
        "released address removed: {:?}",
        bed.pod_addrs()
    );
}

#[test]
fn dhcp_lease_fails_cleanly_without_a_server_or_interface() {
    if !testbed::require!(Need::Root, Need::Netns) {
        return;
    }
    let bed = LeafPod::new();
    let ns = bed.pod.name().to_string();
    let out = rdmactl(&[
        "dhcp",
        "lease",
        "--netns",
        &ns,
        "--ifname",
        "net1",
        "--timeout",
        "2",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("rdmactl: acquire a lease: no answer") && err.contains("net1"),
        "{err}"
    );
    let out = rdmactl(&["dhcp", "lease", "--netns", &ns, "--ifname", "nope0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("look up link on nope0"), "{err}");
    let out = rdmactl(&[
        "dhcp",
        "lease",
        "--netns",
        &ns,
        "--ifname",
        "net1",
        "--client-id",
        "zz",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid client identifier"));
}
