//! The handle and the namespace runner on the real kernel: a veth pair `va` - `vb` between two
//! namespaces made for each test (`testbed::Netns`, deleted on drop with what is in them).
//! Needs root and iproute2; without them each test prints a SKIP line (and fails when
//! `RDMA_SRIOV_REQUIRE_PRIVILEGED=1`). The kernel applies some changes asynchronously (an
//! address expiring), so those are awaited with a deadline; nothing asserts on time.

use std::net::{IpAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use rtnl_ns::addr::{Lifetime, Lifetimes, NewAddress};
use rtnl_ns::link::{AdminState, LinkSet};
use rtnl_ns::netlink_packet_route::route::RouteProtocol;
use rtnl_ns::{Error, Handle, NetnsFile, Prefix, Route};
use testbed::Need;

struct Pair {
    a: testbed::Netns,
    b: testbed::Netns,
}

impl Pair {
    /// Two namespaces joined by `va` (in `a`) - `vb` (in `b`), both up; `None` (with a SKIP
    /// line) when the machine cannot make them.
    fn new(test: &str) -> Option<Pair> {
        if !testbed::require(test, &[Need::Root, Need::Netns]) {
            return None;
        }
        let a = testbed::Netns::new("rna").unwrap();
        let b = testbed::Netns::new("rnb").unwrap();
        testbed::veth_pair(&a, "va", &b, "vb").unwrap();
        Some(Pair { a, b })
    }

    fn a(&self) -> NetnsFile {
        NetnsFile::open(self.a.path()).unwrap()
    }

    fn b(&self) -> NetnsFile {
        NetnsFile::open(self.b.path()).unwrap()
    }
}

fn own_netns() -> (u64, u64) {
    let m = std::fs::metadata("/proc/thread-self/ns/net").unwrap();
    (m.dev(), m.ino())
}

fn errno<T: std::fmt::Debug>(r: Result<T, Error>) -> Option<i32> {
    let e = r.unwrap_err();
    let errno = e.errno();
    // the io::Error a caller converts to carries the same errno
    assert_eq!(std::io::Error::from(e).raw_os_error(), errno);
    errno
}

fn set(change: impl FnOnce(&mut LinkSet)) -> LinkSet {
    let mut s = LinkSet::default();
    change(&mut s);
    s
}

fn p(s: &str) -> Prefix {
    let (a, l) = s.split_once('/').unwrap();
    Prefix::new(a.parse::<IpAddr>().unwrap(), l.parse().unwrap())
}

#[test]
fn links_are_looked_up_listed_and_set() {
    let Some(pair) = Pair::new("links_are_looked_up_listed_and_set") else {
        return;
    };
    pair.a()
        .run_rtnl(|h| {
            let va = h.link_by_name("va")?;
            assert_eq!((va.name.as_str(), va.mtu), ("va", 1500));
            assert!(va.mac.is_some() && va.admin_up);
            let names: Vec<String> = h.links()?.into_iter().map(|l| l.name).collect();
            assert_eq!(names.len(), 2, "{names:?}");
            assert!(names.contains(&"lo".into()) && names.contains(&"va".into()));

            // one request: down, new MAC, new MTU; then the rename of the down link
            let mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
            h.set_link(
                va.index,
                &set(|s| {
                    s.state = Some(AdminState::Down);
                    s.mac = Some(mac);
                    s.mtu = Some(9000);
                }),
            )?;
            h.set_link(va.index, &set(|s| s.name = Some("net1".into())))?;
            let net1 = h.link_by_name("net1")?;
            assert_eq!(net1.index, va.index);
            assert_eq!(
                (net1.mac, net1.mtu, net1.admin_up),
                (Some(mac), 9000, false)
            );
            h.set_link(va.index, &set(|s| s.state = Some(AdminState::Up)))?;
            assert!(h.link_by_name("net1")?.admin_up);

            // the kernel's errno comes back
            assert_eq!(errno(h.link_by_name("va")), Some(libc::ENODEV));
            assert_eq!(errno(h.link_by_name("")), Some(libc::ENODEV));
            h.set_link(net1.index, &set(|s| s.state = Some(AdminState::Down)))?;
            let onto_lo = set(|s| s.name = Some("lo".into()));
            assert_eq!(errno(h.set_link(net1.index, &onto_lo)), Some(libc::EEXIST));
            let too_small = set(|s| s.mtu = Some(10));
            assert_eq!(
                errno(h.set_link(net1.index, &too_small)),
                Some(libc::EINVAL)
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_link_moves_by_namespace_fd_and_is_renamed_in_the_same_request() {
    let Some(pair) = Pair::new("a_link_moves_by_namespace_fd") else {
        return;
    };
    let before = own_netns();
    let (a, b) = (pair.a(), pair.b());
    a.run_rtnl(|h| {
        let va = h.link_by_name("va")?;
        h.set_link(va.index, &set(|s| s.state = Some(AdminState::Down)))?;
        let to_b = set(|s| {
            s.name = Some("net1".into());
            s.netns_fd = Some(b.as_raw_fd());
        });
        h.set_link(va.index, &to_b)
    })
    .unwrap();
    let in_a = a.run_rtnl(|h| h.links()).unwrap();
    assert!(in_a.iter().all(|l| l.name == "lo"), "{in_a:?}");
    let in_b: Vec<String> = b
        .run_rtnl(|h| h.links())
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert!(
        in_b.contains(&"net1".into()) && in_b.contains(&"vb".into()),
        "{in_b:?}"
    );
    assert_eq!(own_netns(), before);
}

#[test]
fn addresses_carry_lifetimes_and_the_kernel_expires_them() {
    let Some(pair) = Pair::new("addresses_carry_lifetimes") else {
        return;
    };
    pair.a()
        .run_rtnl(|h| {
            let index = h.link_by_name("va")?.index;
            let on_va = |h: &mut Handle| -> Result<Vec<_>, Error> {
                Ok(h.addresses()?
                    .into_iter()
                    .filter(|a| a.index == index && a.prefix.address.is_ipv4())
                    .collect())
            };
            let lease = NewAddress {
                broadcast: Some([10, 1, 2, 255].into()),
                lifetimes: Lifetimes::both(300),
                ..NewAddress::new(index, p("10.1.2.3/24"))
            };
            h.add_address(&lease)?;
            let [got] = &on_va(h)?[..] else {
                panic!("one address expected")
            };
            assert_eq!(got.prefix, p("10.1.2.3/24"));
            assert!(
                matches!(got.valid, Lifetime::Seconds(s) if s > 0 && s <= 300),
                "{got:?}"
            );
            assert_eq!(errno(h.add_address(&lease)), Some(libc::EEXIST));

            // replace updates the lifetime in place; without lifetimes it becomes permanent
            h.replace_address(&NewAddress {
                lifetimes: Lifetimes::both(3600),
                ..lease
            })?;
            assert!(
                matches!(on_va(h)?[..], [a] if matches!(a.valid, Lifetime::Seconds(s) if s > 300))
            );
            h.replace_address(&NewAddress::new(index, lease.prefix))?;
            assert!(matches!(on_va(h)?[..], [a] if a.valid == Lifetime::Forever));

            h.del_address(index, lease.prefix)?;
            assert!(on_va(h)?.is_empty());
            assert_eq!(
                errno(h.del_address(index, lease.prefix)),
                Some(libc::EADDRNOTAVAIL)
            );

            // a lease that runs out: the kernel removes the address itself
            h.add_address(&NewAddress {
                lifetimes: Lifetimes::both(1),
                ..NewAddress::new(index, p("10.1.2.4/24"))
            })?;
            let deadline = Instant::now() + Duration::from_secs(30);
            while !on_va(h)?.is_empty() {
                assert!(Instant::now() < deadline, "the address never expired");
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn routes_are_added_replaced_listed_and_deleted() {
    let Some(pair) = Pair::new("routes_are_added_replaced_listed_and_deleted") else {
        return;
    };
    pair.a()
        .run_rtnl(|h| {
            let oif = h.link_by_name("va")?.index;
            h.add_address(&NewAddress::new(oif, p("10.1.2.3/24")))?;
            let gateway = Some(IpAddr::from([10, 1, 2, 1]));
            let via = Route {
                dst: Some(p("10.9.0.0/16")),
                gateway,
                oif,
            };
            let default = Route {
                dst: None,
                gateway,
                oif,
            };
            h.add_route(&via, RouteProtocol::Boot)?;
            assert_eq!(
                errno(h.add_route(&via, RouteProtocol::Boot)),
                Some(libc::EEXIST)
            );
            h.replace_route(&default, RouteProtocol::Dhcp)?;
            h.replace_route(&default, RouteProtocol::Dhcp)?;
            let routes = h.routes()?;
            assert!(
                routes.contains(&via) && routes.contains(&default),
                "{routes:?}"
            );
            // the prefix route of the address, installed by the kernel
            assert!(routes.contains(&Route {
                dst: Some(p("10.1.2.0/24")),
                gateway: None,
                oif
            }));

            // a delete naming another protocol does not match
            assert_eq!(
                errno(h.del_route(&via, RouteProtocol::Dhcp)),
                Some(libc::ESRCH)
            );
            h.del_route(&via, RouteProtocol::Unspec)?;
            h.del_route(&default, RouteProtocol::Dhcp)?;
            let routes = h.routes()?;
            assert!(
                !routes.contains(&via) && !routes.contains(&default),
                "{routes:?}"
            );
            assert_eq!(
                errno(h.del_route(&via, RouteProtocol::Unspec)),
                Some(libc::ESRCH)
            );

            let mixed = Route {
                dst: Some(p("fd00::/64")),
                ..via
            };
            assert_eq!(
                errno(h.add_route(&mixed, RouteProtocol::Boot)),
                Some(libc::EINVAL)
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn work_runs_in_the_namespace_and_never_moves_the_caller() {
    let Some(pair) = Pair::new("work_runs_in_the_namespace") else {
        return;
    };
    let before = own_netns();
    let caller = std::thread::current().id();
    // the process's own namespace: the caller is in it, the work runs right here
    let own = NetnsFile::own().unwrap();
    assert!(own.contains_caller());
    assert_eq!(own.run(|| std::thread::current().id()).unwrap(), caller);

    let a = pair.a();
    assert!(!a.contains_caller());
    pair.a
        .ip(&["addr", "add", "10.1.2.3/24", "dev", "va"])
        .unwrap();
    // any work: a UDP socket bound to an address only namespace `a` has
    let (sock, worker) = a
        .run(|| {
            (
                UdpSocket::bind("10.1.2.3:0"),
                (std::thread::current().id(), own_netns()),
            )
        })
        .unwrap();
    assert_ne!(worker.0, caller);
    assert_ne!(worker.1, before);
    let sock = sock.unwrap();
    // used from the caller's thread, it still lives in `a`
    assert_eq!(sock.local_addr().unwrap().ip(), IpAddr::from([10, 1, 2, 3]));
    assert!(UdpSocket::bind("10.1.2.3:0").is_err());
    assert_eq!(own_netns(), before);

    // many threads at once, each in its own namespace
    let b = pair.b();
    std::thread::scope(|s| {
        for ns in [&a, &b, &own] {
            s.spawn(move || {
                for _ in 0..20 {
                    let links = ns.run_rtnl(|h| h.links()).unwrap();
                    assert!(links.iter().any(|l| l.name == "lo"));
                }
            });
        }
    });
    assert_eq!(own_netns(), before);
}

#[test]
fn namespace_failures_name_the_file_and_keep_the_errno() {
    let missing = "/var/run/netns/rtnl-ns-test-no-such-namespace";
    let e = NetnsFile::open(missing).unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENOENT));
    assert!(e.to_string().contains(missing), "{e}");
    // a file that is no network namespace: setns refuses it
    let not_netns = NetnsFile::open("/proc/self/status").unwrap();
    let e = not_netns.run(|| ()).unwrap_err();
    assert!(matches!(e, Error::EnterNetns { .. }), "{e}");
    assert_eq!(e.errno(), Some(libc::EINVAL));
    assert!(e.to_string().contains("/proc/self/status"), "{e}");
}
