//! Our client against real servers in network namespaces: dnsmasq and ISC dhcpd. A lease, a
//! renewal with a short lease (unicast from the leased address), and a RELEASE the server logs.
//! Needs root; skips (or fails with RDMA_SRIOV_REQUIRE_PEERS=1) without it or the servers.

mod client_peers;

use std::time::Duration;

use client_peers::needs;
use dhcp_codec::ClientId;
use dhcp_codec::Time;
use dhcp_ipam::client::{Client, ClientConfig, Event, State};
use dhcp_ipam::transport::{Interface, Session};
use testbed::dhcp::{Dnsmasq, LeafPod, POD_IF};

fn session(bed: &LeafPod, seed: u64) -> Session {
    session_with(bed, seed, false)
}

fn session_with(bed: &LeafPod, seed: u64, broadcast_flag: bool) -> Session {
    let pod = bed.pod_path();
    let iface = Interface::lookup(Some(&pod), POD_IF).expect("net1 in the pod");
    let mut cfg = ClientConfig::new(
        iface.hwaddr(),
        ClientId::for_pod_interface("interop", POD_IF),
    )
    .quick_start();
    cfg.renew_retransmit_min = Duration::from_secs(2);
    cfg.broadcast_flag = broadcast_flag;
    let client = Client::new(cfg, seed, Time::now());
    Session::new(client, iface)
}

fn count(log: &str, word: &str) -> usize {
    log.matches(word).count()
}

#[test]
fn client_against_dnsmasq_lease_renew_release() {
    if !testbed::require!(needs = needs("dnsmasq")) {
        return;
    }
    let bed = LeafPod::new();
    let _server = bed.dnsmasq(Dnsmasq {
        lease_secs: 120,
        t1_t2: Some((3, 6)),
        ..Dnsmasq::default()
    });
    let mut s = session(&bed, 1);
    let lease = s
        .acquire(Duration::from_secs(20))
        .expect("lease from dnsmasq");
    assert_eq!(lease.server_id.to_string(), "192.168.111.1");
    assert_eq!(lease.address.prefix_len(), 24);
    assert_eq!(
        (lease.lease_secs, lease.t1_secs, lease.t2_secs),
        (120, 3, 6)
    );
    assert_eq!(
        lease.dns_servers,
        vec!["192.168.111.53".parse::<std::net::Ipv4Addr>().unwrap()]
    );
    assert_eq!(bed.pod_addrs(), vec![lease.address.to_string()]);
    assert!(
        bed.pod_routes()
            .contains("default via 192.168.111.1 dev net1"),
        "{}",
        bed.pod_routes()
    );

    // T1 is 3 s: hold long enough for at least one renewal, unicast from the address
    s.hold(Duration::from_secs(5)).expect("hold");
    let renewed = s
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Renewed(_)))
        .count();
    assert!(renewed >= 1, "no renewal: {:?}", s.events());
    assert_eq!(s.client().state(), State::Bound);
    let log = bed.log("dnsmasq");
    assert!(count(&log, "DHCPACK(sw0)") >= 2, "{log}");
    assert_eq!(bed.pod_addrs(), vec![lease.address.to_string()]);

    s.release().expect("release");
    assert!(
        bed.wait_log("dnsmasq", 5, |l| l
            .contains(&format!("DHCPRELEASE(sw0) {}", lease.ip()))),
        "dnsmasq did not see the RELEASE:\n{}",
        bed.log("dnsmasq")
    );
    assert!(bed.pod_addrs().is_empty(), "address removed after RELEASE");
}

#[test]
fn client_against_dhcpd_lease_renew_release() {
    if !testbed::require!(needs = needs("dhcpd")) {
        return;
    }
    let bed = LeafPod::new();
    // an 8 s lease: T1 at 4 s from the defaults (dhcpd sends no 58/59)
    let _server = bed.dhcpd(8, "");
    let mut s = session(&bed, 2);
    let lease = s
        .acquire(Duration::from_secs(20))
        .expect("lease from dhcpd");
    assert_eq!(lease.server_id.to_string(), "192.168.111.1");
    assert_eq!((lease.lease_secs, lease.t1_secs, lease.t2_secs), (8, 4, 7));
    assert_eq!(bed.pod_addrs(), vec![lease.address.to_string()]);

    s.hold(Duration::from_secs(10)).expect("hold");
    let renewed = s
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Renewed(_)))
        .count();
    assert!(
        renewed >= 2,
        "expected renewals every ~4 s: {:?}",
        s.events()
    );
    assert!(
        !s.events().iter().any(|e| matches!(e, Event::Drop { .. })),
        "the lease never lapsed: {:?}",
        s.events()
    );
    let log = bed.log("dhcpd");
    assert!(
        log.contains(&format!("DHCPREQUEST for {} from", lease.ip())),
        "{log}"
    );

    s.release().expect("release");
    assert!(
        bed.wait_log("dhcpd", 5, |l| l
            .contains(&format!("DHCPRELEASE of {} from", lease.ip()))),
        "dhcpd did not see the RELEASE:\n{}",
        bed.log("dhcpd")
    );
    assert!(bed.pod_addrs().is_empty());
}

#[test]
fn client_declines_an_address_in_use_dnsmasq() {
    if !testbed::require!(needs = needs("dnsmasq")) {
        return;
    }
    let bed = LeafPod::new();
    let pod = bed.pod_path();
    let iface = Interface::lookup(Some(&pod), POD_IF).expect("net1");
    // dnsmasq reserves .77 for our MAC, but the leaf itself already uses .77
    bed.leaf
        .ip(&["addr", "add", "192.168.111.77/24", "dev", "sw0"])
        .unwrap();
    let leaf_mac = bed.leaf.ip(&["-o", "link", "show", "sw0"]).unwrap();
    let reservation = format!("--dhcp-host={},192.168.111.77", iface.hwaddr());
    let _server = bed.dnsmasq(Dnsmasq {
        lease_secs: 120,
        extra: vec![reservation],
        ..Dnsmasq::default()
    });
    // Broadcast flag: a unicast OFFER to .77 would never leave the leaf, which owns .77.
    let mut s = session_with(&bed, 3, true).with_arp_check(Duration::from_millis(500));
    // After the DECLINE the client waits 10 s before trying again: no lease within 4 s.
    let r = s.acquire(Duration::from_secs(4));
    assert!(r.is_err(), "{r:?}");
    assert_eq!(
        s.declined().len(),
        1,
        "{:?}\n{}",
        s.events(),
        bed.log("dnsmasq")
    );
    let (addr, mac) = s.declined()[0];
    assert_eq!(addr.to_string(), "192.168.111.77");
    let mac = dhcp_codec::HwAddr::mac(mac).to_string();
    assert!(
        leaf_mac.contains(&mac),
        "conflict from the leaf's sw0 ({mac}): {leaf_mac}"
    );
    assert!(
        bed.wait_log("dnsmasq", 5, |l| l
            .contains("DHCPDECLINE(sw0) 192.168.111.77")),
        "{}",
        bed.log("dnsmasq")
    );
    assert!(
        bed.pod_addrs().is_empty(),
        "a declined address is never configured"
    );
}

#[test]
fn client_against_kea_lease_renew_release() {
    if !testbed::require!(needs = needs("kea-dhcp4")) {
        return;
    }
    let bed = LeafPod::new();
    let _server = bed.kea(8);
    let mut s = session(&bed, 4);
    let lease = s.acquire(Duration::from_secs(20)).expect("lease from Kea");
    assert_eq!(lease.server_id.to_string(), "192.168.111.1");
    assert_eq!((lease.lease_secs, lease.t1_secs, lease.t2_secs), (8, 4, 7));
    assert_eq!(bed.pod_addrs(), vec![lease.address.to_string()]);
    s.hold(Duration::from_secs(6)).expect("hold");
    assert!(
        s.events().iter().any(|e| matches!(e, Event::Renewed(_))),
        "no renewal: {:?}",
        s.events()
    );
    s.release().expect("release");
    assert!(
        bed.wait_log("kea", 5, |l| l
            .lines()
            .any(|line| line.contains("DHCP4_RELEASE ")
                && line.contains(&format!("address {} ", lease.ip())))),
        "Kea did not see the RELEASE:\n{}",
        bed.log("kea")
    );
    assert!(bed.pod_addrs().is_empty());
}
