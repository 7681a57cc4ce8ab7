//! Our DHCP server (in-process, its socket in a "leaf" network namespace) against real clients
//! in a "pod" namespace joined by a veth pair: udhcpc, dhclient, dhcpcd, and perfdhcp acting as
//! a relay. Needs root; skips with a reason otherwise (fails under RDMA_SRIOV_REQUIRE_PEERS=1).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use dhcp_server::leasefile::bound_leases;
use dhcp_server::{
    ClientKey, LeaseFile, RecordState, ServeConfig, ServerConfig, ServerHandle, Timers, UdpServer,
};
use testbed::dhcp::{LeafPod, POD_IF, udhcpc_hook, udhcpc_once};
use testbed::{ChildGuard, Need, Netns};

const CONF: &str = "\
authoritative;
default-lease-time 600;
max-lease-time 7200;
subnet 192.168.111.0 netmask 255.255.255.0 {
  range 192.168.111.10 192.168.111.250;
  option routers 192.168.111.1;
}
subnet 10.20.0.0 netmask 255.255.255.0 {
  range 10.20.0.100 10.20.0.199;
  option routers 10.20.0.1;
}
host pinned { hardware ethernet 02:00:00:00:01:99; fixed-address 192.168.111.5; }
";

/// The leaf/pod bed of `testbed::dhcp` with what these tests do on it: our server on the leaf.
struct Bed {
    net: LeafPod,
}

impl std::ops::Deref for Bed {
    type Target = LeafPod;
    fn deref(&self) -> &LeafPod {
        &self.net
    }
}

impl Bed {
    fn new() -> Bed {
        Bed {
            net: LeafPod::new(),
        }
    }

    /// leaf[sw0], pod[net1] and a third host's eth0 in namespace `other` on one bridge.
    fn bridged() -> (Bed, Netns) {
        let (net, other) = LeafPod::bridged();
        (Bed { net }, other)
    }

    fn leases(&self) -> PathBuf {
        self.dir.path().join("dhcpd.leases")
    }

    fn serve(&self, lease_file: bool) -> ServerHandle {
        let conf = ServerConfig::parse(CONF, "test.conf").unwrap();
        UdpServer::bind(ServeConfig {
            netns: Some(self.leaf.path()),
            ifname: "sw0".into(),
            config: conf,
            lease_file: lease_file.then(|| self.leases()),
            timers: Timers::default(),
        })
        .unwrap()
        .spawn()
        .unwrap()
    }

    fn set_mac(&self, mac: &str) {
        self.pod.ip(&["link", "set", "net1", "down"]).unwrap();
        self.pod
            .ip(&["link", "set", "net1", "address", mac])
            .unwrap();
        self.pod.ip(&["link", "set", "net1", "up"]).unwrap();
    }

    fn pod_addr(&self) -> Option<Ipv4Addr> {
        self.pod_addrs()
            .first()
            .and_then(|a| a.split('/').next())
            .and_then(|a| a.parse().ok())
    }

    /// One udhcpc exchange in the pod: a lease from our server, with its router and lease time.
    fn udhcpc_once(&self) -> Ipv4Addr {
        self.pod
            .ip(&["-4", "addr", "flush", "dev", "net1"])
            .unwrap();
        let lease = udhcpc_once(&self.pod, POD_IF, self.dir.path()).unwrap();
        assert_eq!(lease.router, "192.168.111.1", "router option: {lease:?}");
        assert_eq!(lease.lease_secs, 600, "lease time: {lease:?}");
        assert_eq!(self.pod_addr(), Some(lease.ip));
        lease.ip
    }
}

fn in_range(a: Ipv4Addr) -> bool {
    (Ipv4Addr::new(192, 168, 111, 10)..=Ipv4Addr::new(192, 168, 111, 250)).contains(&a)
}

#[test]
fn udhcpc_gets_a_lease_and_its_release_frees_it() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("udhcpc")) {
        return;
    }
    let bed = Bed::new();
    bed.set_mac("02:00:00:00:01:01");
    let server = bed.serve(true);
    let ip = bed.udhcpc_once();
    assert!(in_range(ip), "{ip}");
    // udhcpc does not set the broadcast flag: the OFFER and ACK were unicast to the new address
    // at its MAC, through the neighbour entry the server put in place
    let neigh = bed.leaf.ip(&["neigh", "show", "dev", "sw0"]).unwrap();
    assert!(
        neigh
            .lines()
            .any(|l| l.starts_with(&format!("{ip} ")) && l.contains("02:00:00:00:01:01")),
        "{neigh}"
    );
    // the same client asking again gets the same address
    assert_eq!(bed.udhcpc_once(), ip);

    // udhcpc -R releases on SIGTERM (not with -q), unicast from the leased address
    bed.pod.ip(&["-4", "addr", "flush", "dev", "net1"]).unwrap();
    let hook = udhcpc_hook(bed.dir.path()).unwrap();
    let child = bed
        .pod
        .command("udhcpc")
        .args(["-i", "net1", "-f", "-R", "-t", "5", "-T", "1", "-s"])
        .arg(&hook)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut guard = ChildGuard::new(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while bed.pod_addr().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(bed.pod_addr(), Some(ip));
    guard.stop_with(nix::sys::signal::Signal::SIGTERM).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let stats = server.stop().unwrap();
    assert_eq!(stats.releases, 1, "{stats:?}");
    assert!(stats.acks >= 3, "{stats:?}");
    // the release is in the lease file: nothing bound any more
    assert!(bound_leases(&bed.leases()).unwrap().is_empty());
}

#[test]
fn udhcpc_declines_an_address_in_use_and_gets_another() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("udhcpc")) {
        return;
    }
    let (bed, other) = Bed::bridged();
    bed.set_mac("02:00:00:00:04:01");
    // Another host on the segment already uses the first address of the range: udhcpc -a
    // probes the offered address by ARP, gets an answer and sends a DECLINE.
    other
        .ip(&["addr", "add", "192.168.111.10/24", "dev", "eth0"])
        .unwrap();
    let server = bed.serve(true);
    bed.pod.ip(&["-4", "addr", "flush", "dev", "net1"]).unwrap();
    let hook = udhcpc_hook(bed.dir.path()).unwrap();
    let out = bed
        .pod
        .command("udhcpc")
        .args([
            "-i", "net1", "-n", "-q", "-f", "-a", "-t", "5", "-T", "1", "-s",
        ])
        .arg(&hook)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "udhcpc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ip = bed.pod_addr().expect("udhcpc configured net1");
    assert_ne!(ip, Ipv4Addr::new(192, 168, 111, 10));
    assert!(in_range(ip), "{ip}");
    let stats = server.stop().unwrap();
    assert_eq!(stats.declines, 1, "{stats:?}");
    // the declined address is on file, out of use, owned by nobody
    let (_f, recs) = LeaseFile::open(bed.leases()).unwrap();
    assert!(
        recs.iter().any(|r| r.ip == Ipv4Addr::new(192, 168, 111, 10)
            && r.state == RecordState::Declined
            && r.client.is_none()),
        "{recs:?}"
    );
}

#[test]
fn the_servers_own_addresses_are_never_offered() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("udhcpc")) {
        return;
    }
    let bed = Bed::new();
    bed.set_mac("02:00:00:00:05:01");
    // the leaf itself holds the first address of the range
    bed.leaf
        .ip(&["addr", "add", "192.168.111.10/24", "dev", "sw0"])
        .unwrap();
    let server = bed.serve(false);
    let ip = bed.udhcpc_once();
    assert_eq!(ip, Ipv4Addr::new(192, 168, 111, 11));
    server.stop().unwrap();
}

#[test]
fn reservation_by_hardware_ethernet_is_honoured() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("udhcpc")) {
        return;
    }
    let bed = Bed::new();
    bed.set_mac("02:00:00:00:01:99");
    let server = bed.serve(false);
    assert_eq!(bed.udhcpc_once(), Ipv4Addr::new(192, 168, 111, 5));
    server.stop().unwrap();
}

#[test]
fn leases_survive_a_server_restart() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("udhcpc")) {
        return;
    }
    let bed = Bed::new();
    bed.set_mac("02:00:00:00:01:01");
    let server = bed.serve(true);
    let first = bed.udhcpc_once();
    server.stop().unwrap();
    assert_eq!(
        bound_leases(&bed.leases()).unwrap(),
        // udhcpc sends option 61 (type 1 + MAC): the lease is keyed on it
        vec![(first, ClientKey::ClientId(vec![1, 2, 0, 0, 0, 1, 1].into()))]
    );

    // a new server process reads the lease file: another client never gets `first`
    let server = bed.serve(true);
    bed.set_mac("02:00:00:00:01:02");
    let second = bed.udhcpc_once();
    assert_ne!(second, first);
    // and the first client gets its address back
    bed.set_mac("02:00:00:00:01:01");
    assert_eq!(bed.udhcpc_once(), first);
    server.stop().unwrap();
    let mut bound = bound_leases(&bed.leases()).unwrap();
    bound.sort();
    assert_eq!(bound.len(), 2, "{bound:?}");
}

#[test]
fn dhclient_gets_a_lease() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("dhclient")) {
        return;
    }
    let bed = Bed::new();
    bed.set_mac("02:00:00:00:02:01");
    let server = bed.serve(true);
    // Our own script: dhclient-script would touch the host's /etc/resolv.conf.
    let script = bed.dir.path().join("dhclient-script.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ncase \"$reason\" in BOUND|RENEW|REBOOT)\n\
         ip addr add \"$new_ip_address/24\" dev \"$interface\"\n\
         echo \"$new_ip_address $new_routers $new_dhcp_lease_time\" > \"$(dirname \"$0\")/dhclient.out\" ;;\nesac\nexit 0\n",
    )
    .unwrap();
    let mut perm = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&script, perm).unwrap();
    let lf = bed.dir.path().join("dhclient.leases");
    let pf = bed.dir.path().join("dhclient.pid");
    // One dhclient run: bound (or failed) within 30 s, then stopped by its pid file (`-x`:
    // no release). Returns the address, routers and lease time its script saw.
    let run = |bed: &Bed| -> (Ipv4Addr, String) {
        let _ = std::fs::remove_file(bed.dir.path().join("dhclient.out"));
        bed.pod.ip(&["-4", "addr", "flush", "dev", "net1"]).unwrap();
        let out = bed
            .pod
            .command("timeout")
            .args(["30", "dhclient", "-4", "-1", "-v", "-sf"])
            .arg(&script)
            .arg("-lf")
            .arg(&lf)
            .arg("-pf")
            .arg(&pf)
            .arg("net1")
            .output()
            .unwrap();
        // dhclient daemonizes once bound
        let _ = bed
            .pod
            .command("dhclient")
            .arg("-x")
            .arg("-lf")
            .arg(&lf)
            .arg("-pf")
            .arg(&pf)
            .arg("net1")
            .output();
        assert!(
            out.status.success(),
            "dhclient: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = std::fs::read_to_string(bed.dir.path().join("dhclient.out")).unwrap();
        let (ip, rest) = got.trim().split_once(' ').unwrap();
        (ip.parse().unwrap(), rest.to_string())
    };
    let (ip, rest) = run(&bed);
    assert!(in_range(ip), "{ip}");
    assert_eq!(rest, "192.168.111.1 600");
    let stats = server.stop().unwrap();
    assert_eq!((stats.offers, stats.naks), (1, 0), "{stats:?}");
    assert_eq!(
        bound_leases(&bed.leases()).unwrap(),
        vec![(ip, ClientKey::mac([2, 0, 0, 0, 2, 1]))]
    );

    // A restarted server, and dhclient starting from its lease file: INIT-REBOOT (a REQUEST
    // for the old address, no DISCOVER) is ACKed from the server's lease file.
    let server = bed.serve(true);
    let (again, _) = run(&bed);
    let stats = server.stop().unwrap();
    assert_eq!(again, ip);
    assert_eq!(stats.offers, 0, "{stats:?}");
    assert!(stats.acks >= 1, "{stats:?}");
}

#[test]
fn dhcpcd_gets_a_lease() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("dhcpcd")) {
        return;
    }
    let bed = Bed::new();
    bed.set_mac("02:00:00:00:03:01");
    let server = bed.serve(true);
    // -1 oneshot, -B foreground, -A no ARP probe, -L no IPv4LL, empty config, no hooks
    let out = bed
        .pod
        .command("timeout")
        .args([
            "30",
            "dhcpcd",
            "-4",
            "-1",
            "-B",
            "-A",
            "-L",
            "-f",
            "/dev/null",
            "-c",
            "/bin/true",
            "net1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dhcpcd: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ip = bed.pod_addr().expect("dhcpcd configured net1");
    assert!(in_range(ip), "{ip}");
    server.stop().unwrap();
    let bound = bound_leases(&bed.leases()).unwrap();
    assert_eq!(bound.len(), 1, "{bound:?}");
    assert_eq!(bound[0].0, ip);
    // with an empty config dhcpcd sends no option 61: the lease is keyed on chaddr
    assert_eq!(bound[0].1, ClientKey::mac([2, 0, 0, 0, 3, 1]));
}

/// Runs perfdhcp from the pod namespace as a relay (giaddr = its own address, replies to it on
/// port 67) and returns its stdout.
fn perfdhcp(bed: &Bed, local: &str, clients: u32, requests: u32) -> String {
    let out = bed
        .pod
        .command("timeout")
        .args(["60", "perfdhcp", "-4", "-l", local])
        .args(["-R", &clients.to_string(), "-n", &requests.to_string()])
        .args(["-r", "200", "-W", "500000", "192.168.111.1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("sent packets"),
        "perfdhcp: {stdout}\n{stderr}"
    );
    stdout
}

/// `received packets: N` of the DISCOVER-OFFER and REQUEST-ACK exchanges.
fn received(report: &str) -> Vec<u64> {
    report
        .lines()
        .filter_map(|l| l.trim().strip_prefix("received packets: "))
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

#[test]
fn perfdhcp_relay_gets_leases_from_the_giaddr_subnet() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("perfdhcp")) {
        return;
    }
    let bed = Bed::new();
    // The relay sits on 10.20.0.0/24, a second subnet of the leaf's interface.
    bed.leaf
        .ip(&["addr", "add", "10.20.0.1/24", "dev", "sw0"])
        .unwrap();
    bed.pod
        .ip(&["addr", "add", "10.20.0.2/24", "dev", "net1"])
        .unwrap();
    bed.pod
        .ip(&["route", "add", "192.168.111.0/24", "via", "10.20.0.1"])
        .unwrap();
    let server = bed.serve(true);
    let report = perfdhcp(&bed, "10.20.0.2", 20, 20);
    let stats = server.stop().unwrap();
    let got = received(&report);
    assert_eq!(got, vec![20, 20], "{report}");
    assert_eq!(stats.acks, 20, "{stats:?}");
    let bound = bound_leases(&bed.leases()).unwrap();
    assert_eq!(bound.len(), 20);
    for (ip, _) in &bound {
        assert!(
            (Ipv4Addr::new(10, 20, 0, 100)..=Ipv4Addr::new(10, 20, 0, 199)).contains(ip),
            "{ip} is not from the relay's subnet"
        );
    }
    let mut ips: Vec<_> = bound.iter().map(|(ip, _)| *ip).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 20, "an address went to two clients");
}
