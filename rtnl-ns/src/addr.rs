//! Address messages (`RTM_GETADDR`, `RTM_NEWADDR`, `RTM_DELADDR`) built and read, with no I/O.
//!
//! An address can carry lifetimes (`ip addr add ... valid_lft 300 preferred_lft 300`): the
//! kernel itself removes it when its valid lifetime runs out, so an address leased by DHCP does
//! not outlive its lease even when the process that configured it is gone.
//!
//! ```
//! use rtnl_ns::addr::{self, Lifetime, Lifetimes, NewAddress};
//! use rtnl_ns::netlink_packet_route::RouteNetlinkMessage;
//! use rtnl_ns::Prefix;
//!
//! let p = Prefix::new([192, 168, 111, 10], 24);
//! let new = NewAddress { lifetimes: Lifetimes::both(300), ..NewAddress::new(5, p) };
//! let request = addr::replace(&new);
//! let RouteNetlinkMessage::NewAddress(msg) = &request.message else { unreachable!() };
//! let back = addr::parse(msg).unwrap();
//! assert_eq!((back.index, back.prefix, back.valid), (5, p, Lifetime::Seconds(300)));
//! ```

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope, CacheInfo};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::Prefix;
use crate::wire::Request;

/// `INFINITY_LIFE_TIME`: the kernel's "forever".
const INFINITY: u32 = u32::MAX;

/// How long an address stays valid (or preferred).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifetime {
    /// No end (`forever`): the kernel's `INFINITY_LIFE_TIME`.
    Forever,
    /// This many seconds from now (at most `u32::MAX - 1`; the kernel reads `u32::MAX` as
    /// forever).
    Seconds(u32),
}

impl Lifetime {
    fn to_kernel(self) -> u32 {
        match self {
            Lifetime::Forever => INFINITY,
            Lifetime::Seconds(s) => s.min(INFINITY - 1),
        }
    }

    fn from_kernel(v: u32) -> Lifetime {
        if v == INFINITY {
            Lifetime::Forever
        } else {
            Lifetime::Seconds(v)
        }
    }
}

/// An address's valid and preferred lifetimes (`valid_lft`, `preferred_lft`). The kernel
/// refuses (`EINVAL`) a preferred lifetime longer than the valid one, and a valid one of 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lifetimes {
    /// Until the kernel deletes the address.
    pub valid: Lifetime,
    /// Until the address is deprecated (no longer chosen as a source).
    pub preferred: Lifetime,
}

impl Lifetimes {
    /// A permanent address (no `IFA_CACHEINFO` is sent).
    pub const FOREVER: Lifetimes = Lifetimes {
        valid: Lifetime::Forever,
        preferred: Lifetime::Forever,
    };

    /// Valid and preferred for `secs` seconds, as a DHCP client sets a lease's address.
    pub fn both(secs: u32) -> Lifetimes {
        Lifetimes {
            valid: Lifetime::Seconds(secs),
            preferred: Lifetime::Seconds(secs),
        }
    }
}

/// An address to put on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NewAddress {
    /// The link's index.
    pub index: u32,
    /// The address and prefix length.
    pub prefix: Prefix,
    /// `broadcast <addr>` (`IFA_BROADCAST`, IPv4 only); `None` sends none, as `ip addr add`
    /// does without `brd`.
    pub broadcast: Option<Ipv4Addr>,
    /// Its lifetimes.
    pub lifetimes: Lifetimes,
}

impl NewAddress {
    /// `prefix` on link `index`: no broadcast address, permanent.
    pub fn new(index: u32, prefix: Prefix) -> NewAddress {
        NewAddress {
            index,
            prefix,
            broadcast: None,
            lifetimes: Lifetimes::FOREVER,
        }
    }
}

/// An address as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address {
    /// The link's index.
    pub index: u32,
    /// The address (`IFA_LOCAL` when present, else `IFA_ADDRESS`) and prefix length.
    pub prefix: Prefix,
    /// The valid lifetime left.
    pub valid: Lifetime,
}

fn family(addr: IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// The message for `p` on link `index`, with both `IFA_LOCAL` and `IFA_ADDRESS` set (as
/// `ip addr` sends them): the kernel matches a deletion on both, so a `/16` never deletes a `/24`.
fn message(index: u32, p: Prefix, broadcast: Option<Ipv4Addr>) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = family(p.address);
    msg.header.prefix_len = p.len;
    msg.header.index = index;
    msg.header.scope = AddressScope::Universe;
    msg.attributes.push(AddressAttribute::Local(p.address));
    if let Some(b) = broadcast {
        msg.attributes.push(AddressAttribute::Broadcast(b));
    }
    msg.attributes.push(AddressAttribute::Address(p.address));
    msg
}

fn new_address(a: &NewAddress) -> RouteNetlinkMessage {
    let mut msg = message(a.index, a.prefix, a.broadcast);
    if a.lifetimes != Lifetimes::FOREVER {
        let mut ci = CacheInfo::default();
        ci.ifa_valid = a.lifetimes.valid.to_kernel();
        ci.ifa_preferred = a.lifetimes.preferred.to_kernel();
        msg.attributes.push(AddressAttribute::CacheInfo(ci));
    }
    RouteNetlinkMessage::NewAddress(msg)
}

/// `RTM_GETADDR` dump of every address in the namespace, both families.
pub fn dump() -> Request {
    Request::dump(
        RouteNetlinkMessage::GetAddress(AddressMessage::default()),
        "RTM_GETADDR dump",
    )
}

/// `RTM_NEWADDR` adding `a` (`ip addr add`: `EEXIST` when the link has it).
pub fn add(a: &NewAddress) -> Request {
    Request::acked(new_address(a), NLM_F_CREATE | NLM_F_EXCL, "RTM_NEWADDR")
}

/// `RTM_NEWADDR` adding `a` or updating it (broadcast, lifetimes) when the link has it
/// (`ip addr replace`).
pub fn replace(a: &NewAddress) -> Request {
    Request::acked(
        new_address(a),
        NLM_F_CREATE | NLM_F_REPLACE,
        "RTM_NEWADDR replace",
    )
}

/// `RTM_DELADDR` removing `p` from link `index` (`EADDRNOTAVAIL` when it has no such address).
pub fn del(index: u32, p: Prefix) -> Request {
    Request::acked(
        RouteNetlinkMessage::DelAddress(message(index, p, None)),
        0,
        "RTM_DELADDR",
    )
}

/// The address one `RTM_NEWADDR` reports: `IFA_LOCAL` when present (the local end of an IPv4
/// point-to-point address), else `IFA_ADDRESS` (IPv6 sends only that); the valid lifetime from
/// `IFA_CACHEINFO` (forever without one). `None` for a message with neither address.
pub fn parse(msg: &AddressMessage) -> Option<Address> {
    let mut local = None;
    let mut address = None;
    let mut valid = Lifetime::Forever;
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Local(a) => local = Some(*a),
            AddressAttribute::Address(a) => address = Some(*a),
            AddressAttribute::CacheInfo(ci) => valid = Lifetime::from_kernel(ci.ifa_valid),
            _ => {}
        }
    }
    Some(Address {
        index: msg.header.index,
        prefix: Prefix::new(local.or(address)?, msg.header.prefix_len),
        valid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire;
    use netlink_packet_core::Emitable;
    use proptest::prelude::*;

    fn body(request: &Request) -> Vec<u8> {
        let (RouteNetlinkMessage::NewAddress(m) | RouteNetlinkMessage::DelAddress(m)) =
            &request.message
        else {
            panic!("not an address message")
        };
        let mut buf = vec![0; m.buffer_len()];
        m.emit(&mut buf);
        buf
    }

    #[test]
    fn add_carries_local_and_address_like_iproute2() {
        let p = Prefix::new([10, 1, 2, 3], 24);
        // `ip addr add 10.1.2.3/24 dev vc` (ifindex 2), iproute2 6.1, captured with
        // `strace -e write=3`: ifaddrmsg{AF_INET, 24, 0, RT_SCOPE_UNIVERSE, 2}, IFA_LOCAL, IFA_ADDRESS
        assert_eq!(
            body(&add(&NewAddress::new(2, p))),
            [
                2, 24, 0, 0, 2, 0, 0, 0, 8, 0, 2, 0, 10, 1, 2, 3, 8, 0, 1, 0, 10, 1, 2, 3
            ]
        );
    }

    #[test]
    fn parse_prefers_local_and_reads_the_lifetime() {
        let mut m = AddressMessage::default();
        m.header.index = 2;
        m.header.prefix_len = 32;
        let mut ci = CacheInfo::default();
        ci.ifa_valid = 120;
        ci.ifa_preferred = 60;
        m.attributes = vec![
            AddressAttribute::Address("10.0.0.2".parse().unwrap()),
            AddressAttribute::Local("10.0.0.1".parse().unwrap()),
            AddressAttribute::CacheInfo(ci),
        ];
        let a = parse(&m).unwrap();
        assert_eq!(a.prefix, Prefix::new([10, 0, 0, 1], 32));
        assert_eq!(a.valid, Lifetime::Seconds(120));
        m.attributes.clear();
        assert_eq!(parse(&m), None);
    }

    #[test]
    fn lifetimes_clamp_below_the_kernels_infinity() {
        assert_eq!(Lifetime::Seconds(u32::MAX).to_kernel(), u32::MAX - 1);
        assert_eq!(Lifetime::Forever.to_kernel(), u32::MAX);
        assert_eq!(Lifetime::from_kernel(u32::MAX), Lifetime::Forever);
    }

    fn lifetime() -> impl Strategy<Value = Lifetime> {
        prop_oneof![
            Just(Lifetime::Forever),
            (0u32..u32::MAX).prop_map(Lifetime::Seconds)
        ]
    }

    proptest! {
        /// What `add` and `replace` build, framed and decoded, reads back as the address,
        /// its valid lifetime and its broadcast address.
        #[test]
        fn new_addresses_round_trip_through_bytes(
            index in 1u32..,
            v4: [u8; 4],
            v6: [u8; 16],
            six: bool,
            len in 0u8..=32,
            broadcast: Option<[u8; 4]>,
            valid in lifetime(),
            preferred in lifetime(),
            seq: u32,
        ) {
            let address = if six { IpAddr::from(v6) } else { IpAddr::from(v4) };
            let new = NewAddress {
                index,
                prefix: Prefix::new(address, len),
                broadcast: broadcast.map(Ipv4Addr::from),
                lifetimes: Lifetimes { valid, preferred },
            };
            for request in [add(&new), replace(&new)] {
                let replies = wire::decode(&request.encode(seq), seq, "test").unwrap();
                let [wire::Reply::Message(RouteNetlinkMessage::NewAddress(back))] = &replies[..] else {
                    panic!("one NewAddress expected: {replies:?}")
                };
                prop_assert_eq!(parse(back), Some(Address { index, prefix: new.prefix, valid }));
                let sent_broadcast = back.attributes.iter().find_map(|a| match a {
                    AddressAttribute::Broadcast(b) => Some(*b),
                    _ => None,
                });
                prop_assert_eq!(sent_broadcast, new.broadcast);
            }
        }
    }
}
