//! One set of `NetOps` test bodies, run against the simulator (`sysfs_sim::SimNetOps`) and
//! against the real kernel (`sriov_core::rtnl::RtnlNetOps` on veth pairs in network namespaces
//! made for each test). Each body states what the kernel does; when the simulator and the kernel
//! disagree, one of the two runs fails, and the simulator is what gets fixed.
//!
//! A fixture gives every body the same world: the backend's host namespace (for the real kernel,
//! a namespace of the test's own, so nothing touches the machine's links) and two namespaces `a`
//! and `b`, each with `lo` up, joined by a veth pair `va` (in `a`) - `vb` (in `b`), both down.
//!
//! The real-kernel runs need root and network namespaces; without them they print a SKIP line
//! (or fail under `RDMA_SRIOV_REQUIRE_PEERS=1`). The kernel applies some changes asynchronously
//! (carrier, operational state, IPv6 link-local addresses), so bodies wait for those with
//! [`eventually`], which returns at once on the simulator; no body asserts on time.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::io;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use sriov_core::rtnl::RtnlNetOps;
use sriov_core::{
    IpPrefix, LinkState, MacAddress, NetOps, Netns, Route, TxRate, VlanConfig, VlanProto,
};
use sysfs_sim::{HostBuilder, SimHost, SimNetOps};
use testbed::Need;

/// What a body needs from a backend.
trait Fixture {
    /// The backend under test.
    fn net(&self) -> &dyn NetOps;
    /// Namespace `a` (holds `va`).
    fn a(&self) -> Netns;
    /// Namespace `b` (holds `vb`).
    fn b(&self) -> Netns;
    /// Creates a veth pair, `x` in `nx` and `y` in `ny`, both down.
    fn veth(&self, nx: &Netns, x: &str, ny: &Netns, y: &str);
    /// Whether the kernel lets an up link be renamed (Linux 6.2 and later).
    fn live_rename(&self) -> bool;
}

// ---------------------------------------------------------------------------------------------
// the simulator

struct SimFixture {
    _host: SimHost,
    net: SimNetOps,
    a: Netns,
    b: Netns,
}

impl SimFixture {
    fn new() -> Self {
        let host = HostBuilder::new(7).build().unwrap();
        let net = host.net_ops();
        let a = host.add_netns("a").unwrap();
        let b = host.add_netns("b").unwrap();
        for ns in [&Netns::Host, &a, &b] {
            net.set_link_up(ns, "lo", true).unwrap();
        }
        net.add_veth(&a, "va", &b, "vb").unwrap();
        SimFixture {
            _host: host,
            net,
            a,
            b,
        }
    }
}

impl Fixture for SimFixture {
    fn net(&self) -> &dyn NetOps {
        &self.net
    }
    fn a(&self) -> Netns {
        self.a.clone()
    }
    fn b(&self) -> Netns {
        self.b.clone()
    }
    fn veth(&self, nx: &Netns, x: &str, ny: &Netns, y: &str) {
        self.net.add_veth(nx, x, ny, y).unwrap();
    }
    fn live_rename(&self) -> bool {
        // the simulator models the kernel CI runs (Debian 12, Linux 6.1): EBUSY
        false
    }
}

// ---------------------------------------------------------------------------------------------
// the real kernel

struct KernelFixture {
    net: RtnlNetOps,
    host: testbed::Netns,
    a: testbed::Netns,
    b: testbed::Netns,
}

impl KernelFixture {
    fn new(test: &str) -> Option<Self> {
        if !testbed::require(test, &[Need::Root, Need::Netns]) {
            return None;
        }
        let host = testbed::Netns::new("cfh").unwrap();
        let a = testbed::Netns::new("cfa").unwrap();
        let b = testbed::Netns::new("cfb").unwrap();
        let net = RtnlNetOps::with_host_netns(&host.path()).unwrap();
        let f = KernelFixture { net, host, a, b };
        f.veth(&f.a(), "va", &f.b(), "vb");
        Some(f)
    }

    fn testbed_ns(&self, ns: &Netns) -> &testbed::Netns {
        match ns {
            Netns::Host => &self.host,
            Netns::Path(p) if *p == self.a.path() => &self.a,
            Netns::Path(p) if *p == self.b.path() => &self.b,
            other => panic!("not a fixture namespace: {other}"),
        }
    }
}

impl Fixture for KernelFixture {
    fn net(&self) -> &dyn NetOps {
        &self.net
    }
    fn a(&self) -> Netns {
        Netns::Path(self.a.path())
    }
    fn b(&self) -> Netns {
        Netns::Path(self.b.path())
    }
    fn veth(&self, nx: &Netns, x: &str, ny: &Netns, y: &str) {
        let (tx, ty) = (self.testbed_ns(nx), self.testbed_ns(ny));
        testbed::veth_pair(tx, x, ty, y).unwrap();
        tx.ip(&["link", "set", x, "down"]).unwrap();
        ty.ip(&["link", "set", y, "down"]).unwrap();
    }
    fn live_rename(&self) -> bool {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let mut parts = release
            .trim()
            .split(['.', '-'])
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        (major, minor) >= (6, 2)
    }
}

// ---------------------------------------------------------------------------------------------
// helpers

fn errno<T: Debug>(r: io::Result<T>) -> Option<i32> {
    match r {
        Ok(_) => None,
        Err(e) => Some(
            e.raw_os_error()
                .unwrap_or_else(|| panic!("no errno in {e}")),
        ),
    }
}

fn p(s: &str) -> IpPrefix {
    let (a, l) = s.split_once('/').unwrap();
    IpPrefix {
        addr: a.parse().unwrap(),
        prefix_len: l.parse().unwrap(),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn mac(s: &str) -> MacAddress {
    s.parse().unwrap()
}

fn names(net: &dyn NetOps, ns: &Netns) -> BTreeSet<String> {
    net.links(ns).unwrap().into_iter().map(|l| l.name).collect()
}

fn set<T: Ord>(items: impl IntoIterator<Item = T>) -> BTreeSet<T> {
    items.into_iter().collect()
}

fn addrs(net: &dyn NetOps, ns: &Netns, link: &str) -> BTreeSet<IpPrefix> {
    set(net.addresses(ns, link).unwrap())
}

fn route_set(net: &dyn NetOps, ns: &Netns) -> BTreeSet<(Option<IpPrefix>, Option<IpAddr>, String)> {
    set(net
        .routes(ns)
        .unwrap()
        .into_iter()
        .map(|r| (r.dst, r.gateway, r.dev)))
}

fn route(dst: Option<&str>, gw: Option<&str>, dev: &str) -> Route {
    Route {
        dst: dst.map(p),
        gateway: gw.map(ip),
        dev: dev.into(),
    }
}

fn key(r: &Route) -> (Option<IpPrefix>, Option<IpAddr>, String) {
    (r.dst, r.gateway, r.dev.clone())
}

/// The kernel's EUI-64 link-local address for `mac` (`addr_gen_mode` eui64, the default).
fn link_local(mac: MacAddress) -> IpPrefix {
    let m = mac.octets();
    let addr = std::net::Ipv6Addr::from([
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        m[0] ^ 2,
        m[1],
        m[2],
        0xff,
        0xfe,
        m[3],
        m[4],
        m[5],
    ]);
    IpPrefix {
        addr: IpAddr::V6(addr),
        prefix_len: 64,
    }
}

/// Waits until `get()` returns `want` (the kernel applies carrier changes and IPv6
/// autoconfiguration asynchronously), then asserts it. Immediate on the simulator.
fn eventually<T: PartialEq + Debug>(what: &str, want: T, get: impl Fn() -> T) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = get();
        if got == want {
            return;
        }
        if Instant::now() > deadline {
            assert_eq!(got, want, "{what}");
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Brings `va` and `vb` up and waits for both to be operationally up.
fn both_up(f: &dyn Fixture) {
    let net = f.net();
    net.set_link_up(&f.a(), "va", true).unwrap();
    net.set_link_up(&f.b(), "vb", true).unwrap();
    eventually("va running", true, || {
        net.link(&f.a(), "va").unwrap().oper_up
    });
    eventually("vb running", true, || {
        net.link(&f.b(), "vb").unwrap().oper_up
    });
}

// ---------------------------------------------------------------------------------------------
// the bodies

fn links_are_listed_per_namespace(f: &dyn Fixture) {
    let net = f.net();
    let (a, b) = (f.a(), f.b());
    assert_eq!(names(net, &a), set(["lo".to_string(), "va".to_string()]));
    assert_eq!(names(net, &b), set(["lo".to_string(), "vb".to_string()]));
    assert_eq!(names(net, &Netns::Host), set(["lo".to_string()]));
    net.move_link(&a, "va", &b).unwrap();
    assert_eq!(names(net, &a), set(["lo".to_string()]));
    assert_eq!(
        names(net, &b),
        set(["lo".to_string(), "va".to_string(), "vb".to_string()])
    );
    assert_eq!(errno(net.link(&a, "va")), Some(libc::ENODEV));
    assert_eq!(net.link(&b, "va").unwrap().name, "va");
}

fn link_attributes(f: &dyn Fixture) {
    let net = f.net();
    let lo = net.link(&f.a(), "lo").unwrap();
    assert_eq!(
        lo.mac,
        Some(MacAddress::ZERO),
        "loopback reports 00:00:00:00:00:00"
    );
    assert_eq!(lo.mtu, 65536);
    assert!(lo.admin_up && lo.oper_up, "{lo:?}");
    let va = net.link(&f.a(), "va").unwrap();
    let m = va.mac.unwrap();
    assert!(
        m.is_unicast() && m.is_locally_administered() && !m.is_zero(),
        "{m}"
    );
    assert_eq!(va.mtu, 1500);
    assert!(!va.admin_up && !va.oper_up);
    let listed = net.links(&f.a()).unwrap();
    assert!(listed.contains(&va), "{listed:?}");
}

fn oper_state_follows_the_peer(f: &dyn Fixture) {
    let net = f.net();
    let (a, b) = (f.a(), f.b());
    net.set_link_up(&a, "va", true).unwrap();
    let va = net.link(&a, "va").unwrap();
    assert!(va.admin_up && !va.oper_up, "peer down: no carrier {va:?}");
    net.set_link_up(&b, "vb", true).unwrap();
    eventually("va running once vb is up", true, || {
        net.link(&a, "va").unwrap().oper_up
    });
    net.set_link_up(&b, "vb", false).unwrap();
    eventually("va loses carrier with vb down", false, || {
        net.link(&a, "va").unwrap().oper_up
    });
    assert!(net.link(&a, "va").unwrap().admin_up);
}

fn rename_onto_an_existing_name_is_eexist(f: &dyn Fixture) {
    let net = f.net();
    let a = f.a();
    assert_eq!(errno(net.rename_link(&a, "va", "lo")), Some(libc::EEXIST));
    f.veth(&a, "vc", &f.b(), "vd");
    assert_eq!(errno(net.rename_link(&a, "va", "vc")), Some(libc::EEXIST));
    // renaming to its own name is a no-op
    assert_eq!(errno(net.rename_link(&a, "va", "va")), None);
    // a name taken in another namespace is free here
    assert_eq!(errno(net.rename_link(&a, "va", "vb")), None);
    assert_eq!(names(net, &a), set(["lo", "vb", "vc"].map(String::from)));
}

fn rename_validates_names(f: &dyn Fixture) {
    let net = f.net();
    let a = f.a();
    for bad in ["", "a/b", "a b", "a:b", ".", "..", "tab\there"] {
        assert_eq!(
            errno(net.rename_link(&a, "va", bad)),
            Some(libc::EINVAL),
            "rename to {bad:?}"
        );
    }
    // 16 bytes: longer than IFNAMSIZ - 1. The netlink policy on IFLA_IFNAME refuses it.
    assert_eq!(
        errno(net.rename_link(&a, "va", "sixteen-bytes-xx")),
        Some(libc::ERANGE)
    );
    // 15 bytes is fine
    net.rename_link(&a, "va", "fifteen-bytes-x").unwrap();
    assert!(names(net, &a).contains("fifteen-bytes-x"));
}

fn rename_of_an_up_link(f: &dyn Fixture) {
    let net = f.net();
    let a = f.a();
    net.set_link_up(&a, "va", true).unwrap();
    // before 6.2 an up link is refused before its new name is even looked at
    let (same, taken, invalid) = if f.live_rename() {
        (None, Some(libc::EEXIST), Some(libc::EINVAL))
    } else {
        (Some(libc::EBUSY), Some(libc::EBUSY), Some(libc::EBUSY))
    };
    assert_eq!(errno(net.rename_link(&a, "va", "va")), same);
    assert_eq!(errno(net.rename_link(&a, "va", "lo")), taken);
    assert_eq!(errno(net.rename_link(&a, "va", "a/b")), invalid);
    // too long is refused by the netlink policy, before any of that
    assert_eq!(
        errno(net.rename_link(&a, "va", "sixteen-bytes-xx")),
        Some(libc::ERANGE)
    );
    let got = errno(net.rename_link(&a, "va", "net1"));
    if f.live_rename() {
        assert_eq!(got, None, "Linux >= 6.2 renames an up link");
        assert!(net.link(&a, "net1").unwrap().admin_up);
    } else {
        assert_eq!(got, Some(libc::EBUSY));
        net.set_link_up(&a, "va", false).unwrap();
        net.rename_link(&a, "va", "net1").unwrap();
    }
    assert_eq!(errno(net.link(&a, "va")), Some(libc::ENODEV));
}

fn missing_links_are_enodev(f: &dyn Fixture) {
    let net = f.net();
    let a = f.a();
    let missing = "nosuch0";
    let enodev = Some(libc::ENODEV);
    assert_eq!(errno(net.link(&a, missing)), enodev);
    assert_eq!(errno(net.link(&a, "averyveryverylongname")), enodev);
    assert_eq!(errno(net.rename_link(&a, missing, "x")), enodev);
    assert_eq!(
        errno(net.set_link_mac(&a, missing, mac("02:00:00:00:00:01"))),
        enodev
    );
    assert_eq!(errno(net.set_link_mtu(&a, missing, 1500)), enodev);
    assert_eq!(errno(net.set_link_up(&a, missing, true)), enodev);
    assert_eq!(errno(net.move_link(&a, missing, &f.b())), enodev);
    assert_eq!(errno(net.addresses(&a, missing)), enodev);
    assert_eq!(
        errno(net.add_address(&a, missing, p("10.0.0.1/24"))),
        enodev
    );
    assert_eq!(
        errno(net.del_address(&a, missing, p("10.0.0.1/24"))),
        enodev
    );
    assert_eq!(
        errno(net.add_route(&a, &route(Some("10.0.0.0/24"), None, missing))),
        enodev
    );
    // the link exists, but in another namespace
    assert_eq!(errno(net.set_link_up(&a, "vb", true)), enodev);
}

fn missing_namespace_is_enoent(f: &dyn Fixture) {
    let net = f.net();
    let gone = Netns::named("rdma-sriov-no-such-netns");
    assert_eq!(errno(net.links(&gone)), Some(libc::ENOENT));
    assert_eq!(
        errno(net.set_link_up(&gone, "lo", true)),
        Some(libc::ENOENT)
    );
    assert_eq!(
        errno(net.move_link(&f.a(), "va", &gone)),
        Some(libc::ENOENT)
    );
    assert!(
        net.link(&f.a(), "va").is_ok(),
        "a failed move leaves the link"
    );
}

fn move_into_a_namespace_that_has_the_name_is_eexist(f: &dyn Fixture) {
    let net = f.net();
    let (a, b) = (f.a(), f.b());
    net.rename_link(&b, "vb", "va").unwrap();
    assert_eq!(errno(net.move_link(&a, "va", &b)), Some(libc::EEXIST));
    assert!(net.link(&a, "va").is_ok());
    // moving to the namespace it is in is a no-op
    assert_eq!(errno(net.move_link(&a, "va", &a)), None);
    // after a rename the move goes through
    net.rename_link(&a, "va", "net1").unwrap();
    net.move_link(&a, "net1", &b).unwrap();
    assert_eq!(names(net, &b), set(["lo", "net1", "va"].map(String::from)));
}

fn loopback_cannot_move(f: &dyn Fixture) {
    let net = f.net();
    assert_eq!(
        errno(net.move_link(&f.a(), "lo", &f.b())),
        Some(libc::EINVAL)
    );
}

fn a_moved_link_is_down_and_loses_its_addresses(f: &dyn Fixture) {
    let net = f.net();
    let (a, b) = (f.a(), f.b());
    both_up(f);
    net.add_address(&a, "va", p("10.1.0.1/24")).unwrap();
    net.add_address(&a, "va", p("fd00:1::1/64")).unwrap();
    net.add_route(&a, &route(Some("10.2.0.0/16"), Some("10.1.0.254"), "va"))
        .unwrap();
    net.move_link(&a, "va", &b).unwrap();
    let moved = net.link(&b, "va").unwrap();
    assert!(!moved.admin_up && !moved.oper_up, "{moved:?}");
    assert_eq!(addrs(net, &b, "va"), set([]));
    assert!(
        route_set(net, &a).iter().all(|(_, _, dev)| dev != "va"),
        "routes through va leave with it: {:?}",
        route_set(net, &a)
    );
    assert!(route_set(net, &b).iter().all(|(_, _, dev)| dev != "va"));
    // its peer lost carrier
    eventually("vb without carrier", false, || {
        net.link(&b, "vb").unwrap().oper_up
    });
}

fn mtu_bounds(f: &dyn Fixture) {
    let net = f.net();
    let a = f.a();
    for (mtu, want) in [
        (67, Some(libc::EINVAL)),
        (68, None),
        (9000, None),
        (65535, None),
        (65536, Some(libc::EINVAL)),
        (u32::MAX, Some(libc::EINVAL)),
    ] {
        assert_eq!(errno(net.set_link_mtu(&a, "va", mtu)), want, "mtu {mtu}");
        if want.is_none() {
            assert_eq!(net.link(&a, "va").unwrap().mtu, mtu);
        }
    }
    assert_eq!(net.link(&a, "va").unwrap().mtu, 65535);
    // an up link changes MTU too
    net.set_link_up(&a, "va", true).unwrap();
    assert_eq!(errno(net.set_link_mtu(&a, "va", 1400)), None);
    assert_eq!(net.link(&a, "va").unwrap().mtu, 1400);
}

fn mac_rules(f: &dyn Fixture) {
    let net = f.net();
    let a = f.a();
    let good = mac("02:aa:bb:cc:dd:01");
    net.set_link_mac(&a, "va", good).unwrap();
    assert_eq!(net.link(&a, "va").unwrap().mac, Some(good));
    for bad in [
        "01:00:5e:00:00:01",
        "ff:ff:ff:ff:ff:ff",
        "00:00:00:00:00:00",
    ] {
        assert_eq!(
            errno(net.set_link_mac(&a, "va", mac(bad))),
            Some(libc::EADDRNOTAVAIL),
            "{bad}"
        );
    }
    assert_eq!(net.link(&a, "va").unwrap().mac, Some(good));
    // a veth changes its address while up; its link-local address stays the old one
    both_up(f);
    eventually(
        "link-local of the first MAC",
        set([link_local(good)]),
        || addrs(net, &a, "va"),
    );
    let other = mac("02:aa:bb:cc:dd:02");
    assert_eq!(errno(net.set_link_mac(&a, "va", other)), None);
    assert_eq!(net.link(&a, "va").unwrap().mac, Some(other));
    assert_eq!(addrs(net, &a, "va"), set([link_local(good)]));
    // loopback takes an address too (its ops use eth_mac_addr), with the same checks
    assert_eq!(
        errno(net.set_link_mac(&a, "lo", mac("01:00:00:00:00:01"))),
        Some(libc::EADDRNOTAVAIL)
    );
    assert_eq!(errno(net.set_link_mac(&a, "lo", good)), None);
    assert_eq!(net.link(&a, "lo").unwrap().mac, Some(good));
}

fn ipv4_address_rules(f: &dyn Fixture) {
    let net = f.net();
    let a = f.a();
    net.add_address(&a, "va", p("10.1.0.1/24")).unwrap();
    assert_eq!(
        errno(net.add_address(&a, "va", p("10.1.0.1/24"))),
        Some(libc::EEXIST)
    );
    // the same address with another prefix length is another address
    assert_eq!(errno(net.add_address(&a, "va", p("10.1.0.1/16"))), None);
    // the same address on another link is allowed
    f.veth(&a, "vc", &f.b(), "vd");
    assert_eq!(errno(net.add_address(&a, "vc", p("10.1.0.1/24"))), None);
    assert_eq!(
        addrs(net, &a, "va"),
        set([p("10.1.0.1/24"), p("10.1.0.1/16")])
    );
    assert_eq!(
        errno(net.add_address(&a, "va", p("10.1.0.9/33"))),
        Some(libc::EINVAL)
    );
    assert_eq!(
        errno(net.del_address(&a, "va", p("10.9.9.9/24"))),
        Some(libc::EADDRNOTAVAIL)
    );
    // the prefix length must match too
    assert_eq!(
        errno(net.del_address(&a, "va", p("10.1.0.1/8"))),
        Some(libc::EADDRNOTAVAIL)
    );
    net.del_address(&a, "va", p("10.1.0.1/16")).unwrap();
    assert_eq!(addrs(net, &a, "va"), set([p("10.1.0.1/24")]));
    assert_eq!(addrs(net, &a, "vc"), set([p("10.1.0.1/24")]));
    // IPv4 addresses stay on a link that goes down
    both_up(f);
    net.set_link_up(&a, "va", false).unwrap();
    assert_eq!(addrs(net, &a, "va"), set([p("10.1.0.1/24")]));
}

fn ipv6_address_rules(f: &dyn Fixture) {
    let net = f.net();
    let a = f.a();
    net.add_address(&a, "va", p("fd00:1::1/64")).unwrap();
    assert_eq!(
        errno(net.add_address(&a, "va", p("fd00:1::1/64"))),
        Some(libc::EEXIST)
    );
    // unlike IPv4, the same IPv6 address with another prefix length is the same address
    assert_eq!(
        errno(net.add_address(&a, "va", p("fd00:1::1/48"))),
        Some(libc::EEXIST)
    );
    assert_eq!(
        errno(net.add_address(&a, "va", p("fd00:1::2/129"))),
        Some(libc::EINVAL)
    );
    assert_eq!(
        errno(net.del_address(&a, "va", p("fd00:1::1/48"))),
        Some(libc::EADDRNOTAVAIL)
    );
    assert_eq!(addrs(net, &a, "va"), set([p("fd00:1::1/64")]));
    // IPv6 addresses are flushed when the link goes down (keep_addr_on_down is off)
    both_up(f);
    net.set_link_up(&a, "va", false).unwrap();
    assert_eq!(addrs(net, &a, "va"), set([]));
    net.del_address(&a, "va", p("fd00:1::1/64"))
        .expect_err("already flushed");
}

fn loopback_and_link_local_addresses(f: &dyn Fixture) {
    let net = f.net();
    let (a, b) = (f.a(), f.b());
    // lo is up in every fixture namespace
    assert_eq!(addrs(net, &a, "lo"), set([p("127.0.0.1/8"), p("::1/128")]));
    // a link that was never up has no addresses
    assert_eq!(addrs(net, &a, "va"), set([]));
    // up without carrier: no link-local address yet
    net.set_link_up(&a, "va", true).unwrap();
    assert_eq!(addrs(net, &a, "va"), set([]));
    net.set_link_up(&b, "vb", true).unwrap();
    let va_mac = net.link(&a, "va").unwrap().mac.unwrap();
    eventually("va's link-local address", set([link_local(va_mac)]), || {
        addrs(net, &a, "va")
    });
    // carrier loss keeps it; going down removes it
    net.set_link_up(&b, "vb", false).unwrap();
    eventually("va without carrier", false, || {
        net.link(&a, "va").unwrap().oper_up
    });
    assert_eq!(addrs(net, &a, "va"), set([link_local(va_mac)]));
    net.set_link_up(&a, "va", false).unwrap();
    assert_eq!(addrs(net, &a, "va"), set([]));
    // lo down drops ::1 but keeps 127.0.0.1
    net.set_link_up(&a, "lo", false).unwrap();
    assert_eq!(addrs(net, &a, "lo"), set([p("127.0.0.1/8")]));
    net.set_link_up(&a, "lo", true).unwrap();
    assert_eq!(addrs(net, &a, "lo"), set([p("127.0.0.1/8"), p("::1/128")]));
}

fn connected_routes_follow_addresses_and_link_state(f: &dyn Fixture) {
    let net = f.net();
    let a = f.a();
    assert_eq!(
        route_set(net, &a),
        set([]),
        "lo's routes are in the local table"
    );
    net.add_address(&a, "va", p("10.1.0.1/24")).unwrap();
    assert_eq!(
        route_set(net, &a),
        set([]),
        "no prefix route while va is down"
    );
    both_up(f);
    let va_mac = net.link(&a, "va").unwrap().mac.unwrap();
    eventually(
        "prefix routes of va",
        set([
            key(&route(Some("10.1.0.0/24"), None, "va")),
            key(&route(Some("fe80::/64"), None, "va")),
        ]),
        || route_set(net, &a),
    );
    assert!(addrs(net, &a, "va").contains(&link_local(va_mac)));
    // a /32 has no prefix route; an IPv6 /64 has one
    net.add_address(&a, "va", p("10.5.0.1/32")).unwrap();
    net.add_address(&a, "va", p("fd00:1::1/64")).unwrap();
    eventually(
        "prefix routes with fd00:1::/64",
        set([
            key(&route(Some("10.1.0.0/24"), None, "va")),
            key(&route(Some("fe80::/64"), None, "va")),
            key(&route(Some("fd00:1::/64"), None, "va")),
        ]),
        || route_set(net, &a),
    );
    // deleting the address deletes its prefix route
    net.del_address(&a, "va", p("10.1.0.1/24")).unwrap();
    assert!(!route_set(net, &a).contains(&key(&route(Some("10.1.0.0/24"), None, "va"))));
    // down: every route through the link goes
    net.set_link_up(&a, "va", false).unwrap();
    assert_eq!(route_set(net, &a), set([]));
}

fn route_add_rules(f: &dyn Fixture) {
    let net = f.net();
    let a = f.a();
    net.add_address(&a, "va", p("10.1.0.1/24")).unwrap();
    let via = route(Some("10.2.0.0/16"), Some("10.1.0.254"), "va");
    // a down link has no prefix route: its gateways are unreachable, and on-link routes refused
    assert_eq!(errno(net.add_route(&a, &via)), Some(libc::ENETUNREACH));
    assert_eq!(
        errno(net.add_route(&a, &route(Some("10.7.0.0/16"), None, "va"))),
        Some(libc::ENETDOWN)
    );
    both_up(f);
    net.add_route(&a, &via).unwrap();
    assert!(route_set(net, &a).contains(&key(&via)));
    assert_eq!(errno(net.add_route(&a, &via)), Some(libc::EEXIST));
    // the same destination through another link is the same route (same metric)
    f.veth(&a, "vc", &f.b(), "vd");
    net.set_link_up(&a, "vc", true).unwrap();
    assert_eq!(
        errno(net.add_route(&a, &route(Some("10.2.0.0/16"), None, "vc"))),
        Some(libc::EEXIST)
    );
    // a gateway with no route to it
    assert_eq!(
        errno(net.add_route(&a, &route(Some("10.3.0.0/16"), Some("10.9.9.9"), "va"))),
        Some(libc::ENETUNREACH)
    );
    // a gateway on another link's prefix: the next-hop lookup is bound to the output link
    net.add_address(&a, "vc", p("10.8.0.1/24")).unwrap();
    assert_eq!(
        errno(net.add_route(&a, &route(Some("10.3.0.0/16"), Some("10.8.0.9"), "va"))),
        Some(libc::ENETUNREACH)
    );
    // a gateway that is the link's own address is fine
    net.add_route(&a, &route(Some("10.3.0.0/16"), Some("10.1.0.1"), "va"))
        .unwrap();
    // IPv6: a global gateway with no route to it; a down link refuses any IPv6 route
    assert_eq!(
        errno(net.add_route(&a, &route(Some("fd00:3::/64"), Some("fd00:4::1"), "va"))),
        Some(libc::EHOSTUNREACH)
    );
    f.veth(&a, "ve", &f.b(), "vg");
    for r in [
        route(Some("fd00:3::/64"), Some("fe80::1"), "ve"),
        route(Some("fd00:3::/64"), None, "ve"),
    ] {
        assert_eq!(errno(net.add_route(&a, &r)), Some(libc::ENETDOWN), "{r:?}");
    }
    // host bits in an IPv4 destination
    assert_eq!(
        errno(net.add_route(&a, &route(Some("10.4.0.1/16"), None, "va"))),
        Some(libc::EINVAL)
    );
    // families must agree
    assert_eq!(
        errno(net.add_route(&a, &route(Some("10.4.0.0/16"), Some("fe80::1"), "va"))),
        Some(libc::EINVAL)
    );
    // a default route through the gateway
    let default = route(None, Some("10.1.0.254"), "va");
    net.add_route(&a, &default).unwrap();
    assert!(route_set(net, &a).contains(&key(&default)));
    // on-link route without gateway
    let onlink = route(Some("10.6.0.0/16"), None, "va");
    net.add_route(&a, &onlink).unwrap();
    assert!(route_set(net, &a).contains(&key(&onlink)));
    // IPv6 through a link-local gateway
    let v6 = route(Some("fd00:9::/64"), Some("fe80::1"), "va");
    net.add_route(&a, &v6).unwrap();
    assert!(route_set(net, &a).contains(&key(&v6)));
    assert_eq!(errno(net.add_route(&a, &v6)), Some(libc::EEXIST));
    // going down takes the static routes through va with it
    net.set_link_up(&a, "va", false).unwrap();
    assert!(
        route_set(net, &a).iter().all(|(_, _, dev)| dev != "va"),
        "{:?}",
        route_set(net, &a)
    );
}

fn rename_with_a_pattern_takes_the_first_free_number(f: &dyn Fixture) {
    let net = f.net();
    let a = f.a();
    f.veth(&a, "vc", &f.b(), "vd");
    net.rename_link(&a, "va", "net%d").unwrap();
    net.rename_link(&a, "vc", "net%d").unwrap();
    assert_eq!(
        names(net, &a),
        set(["lo", "net0", "net1"].map(String::from))
    );
    // one %d and nothing else
    for bad in ["net%s", "n%d%d", "net%"] {
        assert_eq!(
            errno(net.rename_link(&a, "net0", bad)),
            Some(libc::EINVAL),
            "{bad}"
        );
    }
    // the link's own name counts as taken
    net.rename_link(&a, "net0", "net%d").unwrap();
    assert_eq!(
        names(net, &a),
        set(["lo", "net1", "net2"].map(String::from))
    );
    // the number may sit inside the name
    net.rename_link(&a, "net1", "a%dz").unwrap();
    assert!(names(net, &a).contains("a0z"));
}

fn small_mtus_turn_ip_off(f: &dyn Fixture) {
    let net = f.net();
    let a = f.a();
    both_up(f);
    let va_mac = net.link(&a, "va").unwrap().mac.unwrap();
    net.add_address(&a, "va", p("10.1.0.1/24")).unwrap();
    net.add_address(&a, "va", p("fd00:1::1/64")).unwrap();
    eventually(
        "addresses of va",
        set([p("10.1.0.1/24"), p("fd00:1::1/64"), link_local(va_mac)]),
        || addrs(net, &a, "va"),
    );
    // below the IPv6 minimum (1280) IPv6 goes: its addresses and routes, and no new ones
    net.set_link_mtu(&a, "va", 1200).unwrap();
    assert_eq!(addrs(net, &a, "va"), set([p("10.1.0.1/24")]));
    assert_eq!(
        route_set(net, &a),
        set([key(&route(Some("10.1.0.0/24"), None, "va"))])
    );
    assert_eq!(
        errno(net.add_address(&a, "va", p("fd00:1::1/64"))),
        Some(libc::EINVAL)
    );
    // back above it, the link-local address returns; the manual one does not
    net.set_link_mtu(&a, "va", 1500).unwrap();
    eventually(
        "link-local address back",
        set([p("10.1.0.1/24"), link_local(va_mac)]),
        || addrs(net, &a, "va"),
    );
    // loopback: any MTU up to INT_MAX; below 68 it loses IPv4, below 1280 IPv6
    assert_eq!(errno(net.set_link_mtu(&a, "lo", i32::MAX as u32)), None);
    assert_eq!(
        errno(net.set_link_mtu(&a, "lo", i32::MAX as u32 + 1)),
        Some(libc::EINVAL)
    );
    assert_eq!(addrs(net, &a, "lo"), set([p("127.0.0.1/8"), p("::1/128")]));
    net.set_link_mtu(&a, "lo", 1000).unwrap();
    assert_eq!(addrs(net, &a, "lo"), set([p("127.0.0.1/8")]));
    net.set_link_mtu(&a, "lo", 0).unwrap();
    assert_eq!(net.link(&a, "lo").unwrap().mtu, 0);
    assert_eq!(addrs(net, &a, "lo"), set([]));
    // without IPv4 on the link there is nowhere to put an IPv4 address
    assert_eq!(
        errno(net.add_address(&a, "lo", p("10.9.0.1/32"))),
        Some(libc::ENOBUFS)
    );
}

fn vf_table_on_a_link_without_sriov(f: &dyn Fixture) {
    let net = f.net();
    // a veth in the backend's host namespace stands for a PF without SR-IOV
    f.veth(&Netns::Host, "pf0", &f.a(), "pf0peer");
    assert_eq!(net.vfs("pf0").unwrap(), vec![], "no IFLA_VFINFO_LIST");
    let eopnotsupp = Some(libc::EOPNOTSUPP);
    let vlan = VlanConfig::new(111, 2, VlanProto::Dot1Ad).unwrap();
    assert_eq!(
        errno(net.set_vf_mac("pf0", 0, mac("02:00:00:00:00:01"))),
        eopnotsupp
    );
    assert_eq!(errno(net.set_vf_vlan("pf0", 0, vlan)), eopnotsupp);
    assert_eq!(errno(net.set_vf_spoofchk("pf0", 0, true)), eopnotsupp);
    assert_eq!(errno(net.set_vf_trust("pf0", 0, true)), eopnotsupp);
    assert_eq!(
        errno(net.set_vf_link_state("pf0", 0, LinkState::Enable)),
        eopnotsupp
    );
    assert_eq!(
        errno(net.set_vf_rate("pf0", 0, TxRate::new(10, 100).unwrap())),
        eopnotsupp
    );
    // the VF table is the host namespace's: a PF name elsewhere is unknown
    assert_eq!(errno(net.vfs("va")), Some(libc::ENODEV));
    assert_eq!(errno(net.set_vf_trust("va", 0, true)), Some(libc::ENODEV));
    assert_eq!(errno(net.vfs("nosuch0")), Some(libc::ENODEV));
}

// ---------------------------------------------------------------------------------------------
// the real backend's own promises

fn own_netns() -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata("/proc/thread-self/ns/net").unwrap();
    (m.dev(), m.ino())
}

/// Work in other namespaces runs on threads of its own: the caller's namespace never changes,
/// and `Netns::Host` stays the namespace the backend was made with.
#[test]
fn rtnl_never_moves_the_calling_thread() {
    let Some(f) = KernelFixture::new("rtnl_never_moves_the_calling_thread") else {
        return;
    };
    let before = own_netns();
    let net = f.net();
    both_up(&f);
    net.add_address(&f.a(), "va", p("10.1.0.1/24")).unwrap();
    net.move_link(&f.a(), "va", &Netns::Host).unwrap();
    net.rename_link(&Netns::Host, "va", "moved0").unwrap();
    assert_eq!(own_netns(), before);
    assert!(names(net, &Netns::Host).contains("moved0"));
    // the fixture's host namespace is not this process's: nothing leaked into ours
    let ours = RtnlNetOps::new().unwrap();
    assert!(!names(&ours, &Netns::Host).contains("moved0"));
    // many threads at once, each in its own namespace pair
    std::thread::scope(|s| {
        for ns in [f.a(), f.b(), Netns::Host] {
            s.spawn(move || {
                for _ in 0..20 {
                    assert!(net.links(&ns).unwrap().iter().any(|l| l.name == "lo"));
                }
            });
        }
    });
    assert_eq!(own_netns(), before);
}

// ---------------------------------------------------------------------------------------------
// every body, on both backends

macro_rules! conformance {
    ($($body:ident),* $(,)?) => {
        mod sim {
            $(
                #[test]
                fn $body() {
                    super::$body(&super::SimFixture::new());
                }
            )*
        }
        mod kernel {
            $(
                #[test]
                fn $body() {
                    if let Some(f) = super::KernelFixture::new(concat!("kernel::", stringify!($body))) {
                        super::$body(&f);
                    }
                }
            )*
        }
    };
}

conformance!(
    links_are_listed_per_namespace,
    link_attributes,
    oper_state_follows_the_peer,
    rename_onto_an_existing_name_is_eexist,
    rename_validates_names,
    rename_of_an_up_link,
    rename_with_a_pattern_takes_the_first_free_number,
    small_mtus_turn_ip_off,
    missing_links_are_enodev,
    missing_namespace_is_enoent,
    move_into_a_namespace_that_has_the_name_is_eexist,
    loopback_cannot_move,
    a_moved_link_is_down_and_loses_its_addresses,
    mtu_bounds,
    mac_rules,
    ipv4_address_rules,
    ipv6_address_rules,
    loopback_and_link_local_addresses,
    connected_routes_follow_addresses_and_link_state,
    route_add_rules,
    vf_table_on_a_link_without_sriov,
);
