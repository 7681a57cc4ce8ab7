//! The `rdma-dhcp` IPAM plugin and its daemon against ISC dhcpd in network namespaces: ADD
//! returns a result from a real lease, CHECK verifies it, the daemon keeps renewing across a
//! restart of its own, DEL sends a RELEASE dhcpd logs and removes the address. Needs root and
//! dhcpd; skips (or fails with RDMA_SRIOV_REQUIRE_PEERS=1) without them.

mod client_peers;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use client_peers::{Daemon, needs};
use dhcp_ipam::cni::{DaemonRequest, call};
use testbed::dhcp::{LeafPod, POD_IF};

fn conf(socket: &Path, timeout: u64) -> String {
    format!(
        r#"{{"cniVersion":"1.0.0","name":"rdma-net","type":"sriov","ipam":{{"type":"rdma-dhcp","daemonSocketPath":"{}","timeout":{timeout}}}}}"#,
        socket.display()
    )
}

fn plugin(command: &str, netns: &Path, stdin: &str) -> Output {
    client_peers::run_plugin(command, "ctr-0123456789abcdef", netns, POD_IF, stdin)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn list_state(d: &Daemon) -> Vec<String> {
    call(&d.socket, &DaemonRequest::List, Duration::from_secs(5))
        .unwrap()
        .entries
        .into_iter()
        .map(|e| format!("{} {}", e.key, e.state))
        .collect()
}

#[test]
fn ipam_add_check_restart_del_against_dhcpd() {
    if !testbed::require!(needs = needs("dhcpd")) {
        return;
    }
    let bed = LeafPod::new();
    // 12 s leases: T1 at 6 s, so renewals happen within the test
    let _server = bed.dhcpd(12, "");
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start(dir.path(), 1);
    let netns = bed.pod_path();
    let stdin = conf(&daemon.socket, 20);

    // ADD: a result from a real lease
    let out = plugin("ADD", &netns, &stdin);
    assert!(
        out.status.success(),
        "ADD failed: {}\n{}",
        text(&out),
        daemon.log()
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["cniVersion"], "1.0.0");
    assert!(
        result.get("interfaces").is_none(),
        "IPAM results have no interfaces"
    );
    let address = result["ips"][0]["address"].as_str().unwrap().to_string();
    let ip = address.split('/').next().unwrap().to_string();
    assert!(
        address.starts_with("192.168.111.") && address.ends_with("/24"),
        "{result}"
    );
    assert_eq!(result["ips"][0]["gateway"], "192.168.111.1");
    assert_eq!(result["routes"][0]["dst"], "0.0.0.0/0");
    assert_eq!(
        result["dns"]["nameservers"],
        serde_json::json!(["192.168.111.53"])
    );
    assert!(
        bed.log("dhcpd").contains(&format!("DHCPACK on {ip} to")),
        "{}",
        bed.log("dhcpd")
    );

    // A repeated ADD returns the same lease
    let again = plugin("ADD", &netns, &stdin);
    assert!(again.status.success(), "{}", text(&again));
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["ips"][0]["address"], address.as_str());

    // The main plugin would now configure the address; do it as it would (permanent).
    bed.pod
        .ip(&["addr", "add", &address, "dev", POD_IF])
        .unwrap();

    // CHECK with the ADD result as prevResult
    let mut check_conf: serde_json::Value = serde_json::from_str(&stdin).unwrap();
    check_conf["prevResult"] = result.clone();
    let out = plugin("CHECK", &netns, &check_conf.to_string());
    assert!(out.status.success(), "CHECK failed: {}", text(&out));

    // Restart the daemon: the lease is resumed and renewed by the new process
    daemon.stop();
    let requests_before = bed
        .log("dhcpd")
        .matches(&format!("DHCPREQUEST for {ip} "))
        .count();
    let daemon2 = Daemon::start(dir.path(), 2);
    assert!(
        daemon2
            .log()
            .contains("ctr-0123456789abcdef/net1: resumed in"),
        "{}",
        daemon2.log()
    );
    assert!(
        bed.wait_log("dhcpd", 15, |l| l
            .matches(&format!("DHCPREQUEST for {ip} "))
            .count()
            > requests_before),
        "no renewal after the restart:\n{}\n{}",
        bed.log("dhcpd"),
        daemon2.log()
    );
    // the renewal set the address's lifetime to the lease's
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let addr = bed.pod.ip(&["-4", "addr", "show", "dev", POD_IF]).unwrap();
        if addr.contains(&address) && !addr.contains("valid_lft forever") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "lifetime not set: {addr}\n{}",
            daemon2.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(list_state(&daemon2).len(), 1);
    let out = plugin("CHECK", &netns, &check_conf.to_string());
    assert!(
        out.status.success(),
        "CHECK after restart failed: {}",
        text(&out)
    );

    // DEL: RELEASE seen by dhcpd, address gone, record gone; DEL again succeeds
    let out = plugin("DEL", &netns, &stdin);
    assert!(out.status.success(), "DEL failed: {}", text(&out));
    assert!(
        bed.wait_log("dhcpd", 5, |l| l
            .contains(&format!("DHCPRELEASE of {ip} from"))),
        "dhcpd did not see the RELEASE:\n{}\n{}",
        bed.log("dhcpd"),
        daemon2.log()
    );
    assert!(bed.pod_addrs().is_empty(), "{:?}", bed.pod_addrs());
    assert!(list_state(&daemon2).is_empty());
    assert_eq!(std::fs::read_dir(&daemon2.state).unwrap().count(), 0);
    let out = plugin("DEL", &netns, &stdin);
    assert!(out.status.success(), "repeated DEL: {}", text(&out));
}

#[test]
fn ipam_add_fails_with_try_again_without_server_or_daemon() {
    if !testbed::require!(needs = needs("ip")) {
        return;
    }
    let bed = LeafPod::new();
    let dir = tempfile::tempdir().unwrap();
    // no daemon
    let out = plugin(
        "ADD",
        &bed.pod_path(),
        &conf(&dir.path().join("none.sock"), 2),
    );
    assert!(!out.status.success());
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["code"], 11, "{err}");
    // a daemon, but no DHCP server on the link
    let daemon = Daemon::start(dir.path(), 1);
    let out = plugin("ADD", &bed.pod_path(), &conf(&daemon.socket, 2));
    assert!(!out.status.success());
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["code"], 11, "{err}");
    assert!(
        err["msg"].as_str().unwrap().contains("no DHCP lease"),
        "{err}"
    );
    assert!(
        list_state(&daemon).is_empty(),
        "a failed ADD leaves nothing behind"
    );
    // STATUS with the daemon up
    let status_conf = conf(&daemon.socket, 2).replace("\"1.0.0\"", "\"1.1.0\"");
    let out = plugin("STATUS", &bed.pod_path(), &status_conf);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn ipam_daemon_drops_a_lapsed_address_and_configures_the_next_lease() {
    if !testbed::require!(needs = needs("dhcpd")) {
        return;
    }
    let bed = LeafPod::new();
    let server = bed.dhcpd(6, "");
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(dir.path(), 1);
    let netns = bed.pod_path();
    let stdin = conf(&daemon.socket, 20);
    let out = plugin("ADD", &netns, &stdin);
    assert!(
        out.status.success(),
        "ADD failed: {}\n{}",
        text(&out),
        daemon.log()
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let address = result["ips"][0]["address"].as_str().unwrap().to_string();
    bed.pod
        .ip(&["addr", "add", &address, "dev", POD_IF])
        .unwrap();

    // The server goes away: no renewal, no rebinding; at expiry the address must go at once.
    drop(server);
    let wait = |what: &str, secs: u64, pred: &dyn Fn(&[String]) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let addrs = bed.pod_addrs();
            if pred(&addrs) {
                return addrs;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: {addrs:?}\n{}",
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait("address removed at expiry", 12, &|a| a.is_empty());
    assert!(daemon.log().contains("Expired"), "{}", daemon.log());

    // A server comes back (with an empty lease file): the daemon gets a lease again and, since no
    // plugin will run for it, configures the address and default route itself.
    let _server = bed.dhcpd(6, "");
    let addrs = wait("address configured again", 30, &|a| !a.is_empty());
    assert_eq!(addrs.len(), 1);
    assert!(
        bed.pod_routes()
            .contains("default via 192.168.111.1 dev net1"),
        "{}",
        bed.pod_routes()
    );
    let entries = call(&daemon.socket, &DaemonRequest::List, Duration::from_secs(5))
        .unwrap()
        .entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].lease.as_ref().map(|l| l.address.to_string()),
        Some(addrs[0].clone())
    );
}
