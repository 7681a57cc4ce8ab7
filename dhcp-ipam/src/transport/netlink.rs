//! A small synchronous rtnetlink client for what a DHCP client configures: look up a link,
//! add, replace and delete IPv4 addresses (with lease lifetimes, so the kernel itself removes an
//! address whose lease has run out), and routes. Open it inside the namespace it is to act on
//! (see [`in_netns`](super::in_netns)); the socket stays bound to that namespace.

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::Ipv4Net;
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_REPLACE, NLM_F_REQUEST, NetlinkHeader,
    NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope, CacheInfo};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

/// A link as rtnetlink reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Interface index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Hardware address, when it is a 6-byte (Ethernet) one.
    pub mac: Option<[u8; 6]>,
    /// Administratively up.
    pub up: bool,
}

/// An IPv4 address on a link, with its remaining valid lifetime in seconds (`None` for
/// "forever").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrInfo {
    /// The address and prefix length.
    pub net: Ipv4Net,
    /// Seconds of validity left, `None` when permanent.
    pub valid_secs: Option<u32>,
}

/// A route request: destination, optional gateway (none = on-link), output link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// Destination (0.0.0.0/0 for the default route).
    pub dest: Ipv4Net,
    /// Next hop, or `None` for an on-link route.
    pub gateway: Option<Ipv4Addr>,
    /// Output interface index.
    pub oif: u32,
}

/// An rtnetlink socket in the namespace it was opened in.
#[derive(Debug)]
pub struct Rtnl {
    sock: Socket,
    seq: u32,
}

const INFINITY: u32 = u32::MAX;

impl Rtnl {
    /// Opens an rtnetlink socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Rtnl> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        Ok(Rtnl { sock, seq: 0 })
    }

    /// Sends one request and collects the answers until the ACK (or DONE for dumps). A
    /// negative errno answer becomes an `io::Error` with that errno.
    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.sock.send(&buf, 0)?;

        let mut out = Vec::new();
        let mut rx = Vec::with_capacity(1 << 16);
        loop {
            rx.clear();
            let n = self.sock.recv(&mut rx, 0)?.min(rx.len());
            let mut off = 0;
            while off < n {
                let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rx[off..n])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let len = msg.header.length as usize;
                if len == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "zero-length netlink message",
                    ));
                }
                off += (len + 3) & !3;
                if msg.header.sequence_number != self.seq {
                    continue;
                }
                match msg.payload {
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(out),
                            Some(_) => Err(e.to_io()),
                        };
                    }
                    NetlinkPayload::InnerMessage(m) => {
                        out.push(m);
                        if flags & NLM_F_DUMP != NLM_F_DUMP && flags & NLM_F_ACK == 0 {
                            return Ok(out);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The link called `name`.
    pub fn link_by_name(&mut self, name: &str) -> io::Result<LinkInfo> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        let answers = self.request(RouteNetlinkMessage::GetLink(m), NLM_F_REQUEST)?;
        answers
            .into_iter()
            .find_map(|a| match a {
                RouteNetlinkMessage::NewLink(l) => Some(link_info(&l)),
                _ => None,
            })
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENODEV))
    }

    /// The IPv4 addresses on link `index`.
    pub fn addresses(&mut self, index: u32) -> io::Result<Vec<AddrInfo>> {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        let answers = self.request(
            RouteNetlinkMessage::GetAddress(m),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        let mut out = Vec::new();
        for a in answers {
            let RouteNetlinkMessage::NewAddress(a) = a else {
                continue;
            };
            if a.header.index != index || a.header.family != AddressFamily::Inet {
                continue;
            }
            let mut local = None;
            let mut valid = None;
            for attr in &a.attributes {
                match attr {
                    AddressAttribute::Local(IpAddr::V4(ip)) => local = Some(*ip),
                    AddressAttribute::Address(IpAddr::V4(ip)) if local.is_none() => {
                        local = Some(*ip)
                    }
                    AddressAttribute::CacheInfo(ci) => {
                        valid = (ci.ifa_valid != INFINITY).then_some(ci.ifa_valid)
                    }
                    _ => {}
                }
            }
            if let Some(ip) = local
                && let Ok(net) = Ipv4Net::new(ip, a.header.prefix_len)
            {
                out.push(AddrInfo {
                    net,
                    valid_secs: valid,
                });
            }
        }
        Ok(out)
    }

    /// Adds `net` on link `index`, or updates it when present (`ip addr replace`). With
    /// `valid_secs`, the kernel deletes the address when that time has passed (the lease's
    /// remaining time): even if this process dies, the address does not outlive its lease.
    pub fn replace_address(
        &mut self,
        index: u32,
        net: Ipv4Net,
        valid_secs: Option<u32>,
    ) -> io::Result<()> {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        m.header.prefix_len = net.prefix_len();
        m.header.scope = AddressScope::Universe;
        m.header.index = index;
        m.attributes
            .push(AddressAttribute::Local(IpAddr::V4(net.addr())));
        m.attributes
            .push(AddressAttribute::Address(IpAddr::V4(net.addr())));
        if net.prefix_len() < 31 {
            m.attributes
                .push(AddressAttribute::Broadcast(net.broadcast()));
        }
        if let Some(secs) = valid_secs {
            let mut ci = CacheInfo::default();
            ci.ifa_valid = secs.max(1);
            ci.ifa_preferred = secs.max(1);
            m.attributes.push(AddressAttribute::CacheInfo(ci));
        }
        self.request(
            RouteNetlinkMessage::NewAddress(m),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map(drop)
    }

    /// Deletes `net` from link `index`. Deleting an address that is not there succeeds.
    pub fn del_address(&mut self, index: u32, net: Ipv4Net) -> io::Result<()> {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        m.header.prefix_len = net.prefix_len();
        m.header.index = index;
        m.attributes
            .push(AddressAttribute::Local(IpAddr::V4(net.addr())));
        match self.request(
            RouteNetlinkMessage::DelAddress(m),
            NLM_F_REQUEST | NLM_F_ACK,
        ) {
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EADDRNOTAVAIL | libc::ENOENT | libc::ENODEV)
                ) =>
            {
                Ok(())
            }
            other => other.map(drop),
        }
    }

    /// Adds or replaces a route in the main table, marked as installed by DHCP.
    pub fn replace_route(&mut self, r: &RouteSpec) -> io::Result<()> {
        self.request(
            RouteNetlinkMessage::NewRoute(route_message(r)),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map(drop)
    }

    /// Deletes a route; a missing one is not an error.
    pub fn del_route(&mut self, r: &RouteSpec) -> io::Result<()> {
        match self.request(
            RouteNetlinkMessage::DelRoute(route_message(r)),
            NLM_F_REQUEST | NLM_F_ACK,
        ) {
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ESRCH | libc::ENOENT | libc::ENODEV)
                ) =>
            {
                Ok(())
            }
            other => other.map(drop),
        }
    }

    /// The IPv4 routes of the main table through link `index`.
    pub fn routes(&mut self, index: u32) -> io::Result<Vec<RouteSpec>> {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        let answers = self.request(RouteNetlinkMessage::GetRoute(m), NLM_F_REQUEST | NLM_F_DUMP)?;
        let mut out = Vec::new();
        for a in answers {
            let RouteNetlinkMessage::NewRoute(r) = a else {
                continue;
            };
            if r.header.table != RouteHeader::RT_TABLE_MAIN
                || r.header.address_family != AddressFamily::Inet
            {
                continue;
            }
            let mut dest = Ipv4Addr::UNSPECIFIED;
            let mut gateway = None;
            let mut oif = 0;
            for attr in &r.attributes {
                match attr {
                    RouteAttribute::Destination(RouteAddress::Inet(a)) => dest = *a,
                    RouteAttribute::Gateway(RouteAddress::Inet(a)) => gateway = Some(*a),
                    RouteAttribute::Oif(i) => oif = *i,
                    _ => {}
                }
            }
            if oif != index {
                continue;
            }
            if let Ok(dest) = Ipv4Net::new(dest, r.header.destination_prefix_length) {
                out.push(RouteSpec { dest, gateway, oif });
            }
        }
        Ok(out)
    }
}

fn route_message(r: &RouteSpec) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet;
    m.header.destination_prefix_length = r.dest.prefix_len();
    m.header.table = RouteHeader::RT_TABLE_MAIN;
    m.header.protocol = RouteProtocol::Dhcp;
    m.header.scope = if r.gateway.is_some() {
        RouteScope::Universe
    } else {
        RouteScope::Link
    };
    m.header.kind = RouteType::Unicast;
    if r.dest.prefix_len() > 0 {
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::Inet(
                r.dest.network(),
            )));
    }
    if let Some(gw) = r.gateway {
        m.attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(gw)));
    }
    m.attributes.push(RouteAttribute::Oif(r.oif));
    m
}

fn link_info(l: &LinkMessage) -> LinkInfo {
    let mut name = String::new();
    let mut mac = None;
    for a in &l.attributes {
        match a {
            LinkAttribute::IfName(n) => name = n.clone(),
            LinkAttribute::Address(bytes) if bytes.len() == 6 => {
                let mut m = [0u8; 6];
                m.copy_from_slice(bytes);
                mac = Some(m);
            }
            _ => {}
        }
    }
    LinkInfo {
        index: l.header.index,
        name,
        mac,
        up: l.header.flags.contains(LinkFlags::Up),
    }
}
