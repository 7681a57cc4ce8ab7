//! Whole requests (netlink header included) compared byte for byte with what iproute2 sends.
//!
//! Every constant below was captured on Linux 6.18.44 with iproute2 6.1.0 (`ip -V`:
//! `iproute2-6.1.0, libbpf 1.1.2`) by `tests/capture-iproute2.sh`, which runs each command as
//! `strace -f -e trace=sendmsg -e write=3 ip -n <ns> ...` in a namespace of its own holding a veth
//! pair (`veth0` being ifindex 3), then deletes the namespaces. iproute2 numbers its requests
//! from the clock and leaves the port id 0; both sides are compared with the sequence number
//! (bytes 8..12) zeroed, and the port id (bytes 12..16) is 0 in both.

use std::net::IpAddr;

use rtnl_ns::addr::{self, Lifetimes, NewAddress};
use rtnl_ns::link::{self, LinkSet};
use rtnl_ns::netlink_packet_route::route::RouteProtocol;
use rtnl_ns::{Prefix, Request, Route, route};

/// `ip -n <ns> addr add 10.1.2.3/24 dev veth0 valid_lft 300 preferred_lft 300`:
/// `RTM_NEWADDR`, `NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE`, ifaddrmsg
/// {AF_INET, 24, 0, universe, 3}, `IFA_LOCAL`, `IFA_ADDRESS`, `IFA_CACHEINFO` {preferred 300,
/// valid 300, 0, 0}.
const ADDR_ADD_WITH_LIFETIMES: &[u8] = &[
    0x3c, 0x00, 0x00, 0x00, 0x14, 0x00, 0x05, 0x06, 0x67, 0x0c, 0x10, 0x6b, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x18, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x02, 0x00, 0x0a, 0x01, 0x02, 0x03,
    0x08, 0x00, 0x01, 0x00, 0x0a, 0x01, 0x02, 0x03, 0x14, 0x00, 0x06, 0x00, 0x2c, 0x01, 0x00, 0x00,
    0x2c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// `ip -n <ns> addr replace 10.1.2.3/24 broadcast 10.1.2.255 dev veth0 valid_lft 600
/// preferred_lft 600`: `NLM_F_CREATE | NLM_F_REPLACE`, `IFA_LOCAL`, `IFA_BROADCAST`,
/// `IFA_ADDRESS`, `IFA_CACHEINFO` {600, 600, 0, 0}.
const ADDR_REPLACE_WITH_BROADCAST: &[u8] = &[
    0x44, 0x00, 0x00, 0x00, 0x14, 0x00, 0x05, 0x05, 0x67, 0x0c, 0x10, 0x6b, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x18, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x02, 0x00, 0x0a, 0x01, 0x02, 0x03,
    0x08, 0x00, 0x04, 0x00, 0x0a, 0x01, 0x02, 0xff, 0x08, 0x00, 0x01, 0x00, 0x0a, 0x01, 0x02, 0x03,
    0x14, 0x00, 0x06, 0x00, 0x58, 0x02, 0x00, 0x00, 0x58, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
];

/// `ip -n <ns> addr del 10.1.2.3/24 dev veth0`: `RTM_DELADDR`, `IFA_LOCAL`, `IFA_ADDRESS`.
const ADDR_DEL: &[u8] = &[
    0x28, 0x00, 0x00, 0x00, 0x15, 0x00, 0x05, 0x00, 0x67, 0x0c, 0x10, 0x6b, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x18, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x02, 0x00, 0x0a, 0x01, 0x02, 0x03,
    0x08, 0x00, 0x01, 0x00, 0x0a, 0x01, 0x02, 0x03,
];

/// `ip -n <ns> route add 10.9.0.0/16 via 10.1.2.1 dev veth0`: `RTM_NEWROUTE`, rtmsg {AF_INET,
/// 16, 0, 0, main, boot, universe, unicast}, `RTA_DST`, `RTA_GATEWAY`, `RTA_OIF` 3.
const ROUTE_ADD: &[u8] = &[
    0x34, 0x00, 0x00, 0x00, 0x18, 0x00, 0x05, 0x06, 0x67, 0x0c, 0x10, 0x6b, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x10, 0x00, 0x00, 0xfe, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x00,
    0x0a, 0x09, 0x00, 0x00, 0x08, 0x00, 0x05, 0x00, 0x0a, 0x01, 0x02, 0x01, 0x08, 0x00, 0x04, 0x00,
    0x03, 0x00, 0x00, 0x00,
];

/// `ip -n <ns> route replace default via 10.1.2.1 dev veth0 proto dhcp`: no `RTA_DST`,
/// protocol dhcp (16), `NLM_F_CREATE | NLM_F_REPLACE`.
const ROUTE_REPLACE_DEFAULT_DHCP: &[u8] = &[
    0x2c, 0x00, 0x00, 0x00, 0x18, 0x00, 0x05, 0x05, 0x67, 0x0c, 0x10, 0x6b, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0xfe, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x05, 0x00,
    0x0a, 0x01, 0x02, 0x01, 0x08, 0x00, 0x04, 0x00, 0x03, 0x00, 0x00, 0x00,
];

/// `ip -n <ns> route del 10.9.0.0/16 via 10.1.2.1 dev veth0`: `RTM_DELROUTE`, protocol unspec,
/// scope nowhere (any), type unspec.
const ROUTE_DEL: &[u8] = &[
    0x34, 0x00, 0x00, 0x00, 0x19, 0x00, 0x05, 0x00, 0x67, 0x0c, 0x10, 0x6b, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x10, 0x00, 0x00, 0xfe, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x00,
    0x0a, 0x09, 0x00, 0x00, 0x08, 0x00, 0x05, 0x00, 0x0a, 0x01, 0x02, 0x01, 0x08, 0x00, 0x04, 0x00,
    0x03, 0x00, 0x00, 0x00,
];

/// `ip -n <ns> link set dev veth0 name net1 netns <ns2>`: iproute2 sends it as `RTM_NEWLINK`
/// (16) without `NLM_F_CREATE`; ifinfomsg index 3, `IFLA_NET_NS_FD` 4 (the descriptor iproute2
/// had the namespace file open as), then `IFLA_IFNAME` "net1".
const LINK_SET_NAME_AND_NETNS: &[u8] = &[
    0x34, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x00, 0x67, 0x0c, 0x10, 0x6b, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x1c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x09, 0x00, 0x03, 0x00, 0x6e, 0x65, 0x74, 0x31,
    0x00, 0x00, 0x00, 0x00,
];

/// `bytes` with the sequence number zeroed.
fn normalised(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[8..12].fill(0);
    out
}

fn assert_sends(request: &Request, iproute2: &[u8]) {
    assert_eq!(
        normalised(&request.encode(0x1234_5678)),
        normalised(iproute2),
        "{}",
        request.name
    );
}

const VETH0: u32 = 3;

fn veth0_address() -> Prefix {
    Prefix::new([10, 1, 2, 3], 24)
}

fn via(dst: Option<Prefix>) -> Route {
    Route {
        dst,
        gateway: Some(IpAddr::from([10, 1, 2, 1])),
        oif: VETH0,
    }
}

#[test]
fn address_add_with_lifetimes() {
    let new = NewAddress {
        lifetimes: Lifetimes::both(300),
        ..NewAddress::new(VETH0, veth0_address())
    };
    assert_sends(&addr::add(&new), ADDR_ADD_WITH_LIFETIMES);
}

#[test]
fn address_replace_with_broadcast_and_lifetimes() {
    let new = NewAddress {
        broadcast: Some([10, 1, 2, 255].into()),
        lifetimes: Lifetimes::both(600),
        ..NewAddress::new(VETH0, veth0_address())
    };
    assert_sends(&addr::replace(&new), ADDR_REPLACE_WITH_BROADCAST);
}

#[test]
fn address_del() {
    assert_sends(&addr::del(VETH0, veth0_address()), ADDR_DEL);
}

#[test]
fn route_add() {
    let r = via(Some(Prefix::new([10, 9, 0, 0], 16)));
    assert_sends(&route::add(&r, RouteProtocol::Boot).unwrap(), ROUTE_ADD);
}

#[test]
fn route_replace_default_by_dhcp() {
    let request = route::replace(&via(None), RouteProtocol::Dhcp).unwrap();
    assert_sends(&request, ROUTE_REPLACE_DEFAULT_DHCP);
}

#[test]
fn route_del() {
    let r = via(Some(Prefix::new([10, 9, 0, 0], 16)));
    assert_sends(&route::del(&r, RouteProtocol::Unspec).unwrap(), ROUTE_DEL);
}

/// The one deliberate difference from iproute2: we send a change of an existing link as
/// `RTM_SETLINK` (19), the message made for it (iproute2 uses `RTM_NEWLINK` without
/// `NLM_F_CREATE` for every `ip link set`, so that one code path also creates links); the kernel
/// applies both through `do_setlink()`. Everything else is byte for byte the same.
#[test]
fn link_set_name_and_netns_fd() {
    let change = LinkSet {
        name: Some("net1".into()),
        netns_fd: Some(4),
        ..LinkSet::default()
    };
    let ours = normalised(&link::set(VETH0, &change).unwrap().encode(1));
    let iproute2 = normalised(LINK_SET_NAME_AND_NETNS);
    assert_eq!(u16::from_le_bytes([ours[4], ours[5]]), libc::RTM_SETLINK);
    assert_eq!(
        u16::from_le_bytes([iproute2[4], iproute2[5]]),
        libc::RTM_NEWLINK
    );
    assert_eq!(ours[..4], iproute2[..4]);
    assert_eq!(ours[6..], iproute2[6..]);
}
