//! Both halves of the crate together: our client (in a "pod" namespace) against our server (in
//! a "leaf" namespace): lease, renewals of a short lease, RELEASE counted by the server. Needs
//! root; skips (or fails with RDMA_SRIOV_REQUIRE_PEERS=1) without it.

mod client_peers;

use std::time::Duration;

use dhcp_codec::ClientId;
use dhcp_codec::Time;
use dhcp_ipam::client::{Client, ClientConfig, Event};
use dhcp_ipam::transport::{Interface, Session};
use dhcp_server::{ServeConfig, ServerConfig, Timers, UdpServer};
use testbed::Need;
use testbed::dhcp::{LeafPod, POD_IF};

const CONF: &str = "\
authoritative;
default-lease-time 8;
max-lease-time 8;
subnet 192.168.111.0 netmask 255.255.255.0 {
  range 192.168.111.10 192.168.111.250;
  option routers 192.168.111.1;
  option domain-name-servers 192.168.111.53;
  option domain-name \"pods.example\";
}
";

#[test]
fn our_client_against_our_server() {
    if !testbed::require!(Need::Root, Need::Netns) {
        return;
    }
    let bed = LeafPod::new();
    let server = UdpServer::bind(ServeConfig {
        netns: Some(bed.leaf.path()),
        ifname: "sw0".into(),
        config: ServerConfig::parse(CONF, "own.conf").unwrap(),
        lease_file: Some(bed.dir.path().join("own.leases")),
        timers: Timers::default(),
    })
    .unwrap()
    .spawn()
    .unwrap();

    let pod = bed.pod_path();
    let iface = Interface::lookup(Some(&pod), POD_IF).unwrap();
    let mut cfg =
        ClientConfig::new(iface.hwaddr(), ClientId::for_pod_interface("own", POD_IF)).quick_start();
    cfg.renew_retransmit_min = Duration::from_secs(2);
    let mut s = Session::new(Client::new(cfg, 5, Time::now()), iface)
        .with_arp_check(Duration::from_millis(100));
    let lease = s
        .acquire(Duration::from_secs(20))
        .expect("lease from our server");
    assert_eq!(lease.server_id.to_string(), "192.168.111.1");
    assert_eq!((lease.lease_secs, lease.t1_secs, lease.t2_secs), (8, 4, 7));
    assert_eq!(lease.domain_name.as_deref(), Some("pods.example"));
    assert_eq!(bed.pod_addrs(), vec![lease.address.to_string()]);

    s.hold(Duration::from_secs(10)).unwrap();
    let renewed = s
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Renewed(_)))
        .count();
    assert!(renewed >= 2, "{:?}", s.events());
    assert!(
        !s.events().iter().any(|e| matches!(e, Event::Drop { .. })),
        "{:?}",
        s.events()
    );
    s.release().unwrap();
    assert!(bed.pod_addrs().is_empty());
    std::thread::sleep(Duration::from_millis(300));
    let stats = server.stop().unwrap();
    assert_eq!(stats.releases, 1, "{stats:?}");
    assert!(stats.acks >= 3, "{stats:?}");
    assert_eq!(stats.naks, 0, "{stats:?}");
}
