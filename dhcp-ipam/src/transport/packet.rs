//! The link-layer transport for a client without an address: an `AF_PACKET` datagram socket
//! bound to one interface, carrying IPv4/UDP packets built here (source 0.0.0.0:68, destination
//! 255.255.255.255:67, Ethernet broadcast), and receiving whatever UDP reaches port 68 on that
//! interface, broadcast or unicast to the hardware address. A classic BPF filter keeps every
//! other packet out of the socket.
//!
//! UDP checksums of received packets are not verified: veth leaves them unfilled
//! (CHECKSUM_PARTIAL) when a packet socket sees them.

use std::io;
use std::mem::MaybeUninit;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use socket2::{Domain, SockFilter, Socket, Type};

use super::raw::{as_uninit, link_addr};
use dhcp_codec::{CLIENT_PORT, SERVER_PORT};

const ETH_P_IP: u16 = 0x0800;

/// An `AF_PACKET` socket for DHCP on one interface. Open it in the interface's namespace.
#[derive(Debug)]
pub struct PacketSocket {
    sock: Socket,
    ifindex: u32,
    ip_id: u16,
}

/// The BPF program: IPv4, UDP, not a fragment, destination port 68.
fn dhcp_client_filter() -> [SockFilter; 9] {
    [
        SockFilter::new(0x30, 0, 0, 9),      // ldb [9]        protocol
        SockFilter::new(0x15, 0, 6, 17),     // jeq #17 ? next : drop
        SockFilter::new(0x28, 0, 0, 6),      // ldh [6]        flags + fragment offset
        SockFilter::new(0x45, 4, 0, 0x1fff), // jset #0x1fff ? drop : next
        SockFilter::new(0xb1, 0, 0, 0),      // ldxb 4*([0]&0xf)  header length
        SockFilter::new(0x48, 0, 0, 2),      // ldh [x+2]      UDP destination port
        SockFilter::new(0x15, 0, 1, CLIENT_PORT as u32), // jeq #68 ? accept : drop
        SockFilter::new(0x06, 0, 0, 0x0004_0000), // accept
        SockFilter::new(0x06, 0, 0, 0),      // drop
    ]
}

impl PacketSocket {
    /// Opens the socket on interface `ifindex` of the calling thread's namespace. The filter is
    /// attached before the socket is bound, so nothing else is ever queued on it.
    pub fn open(ifindex: u32) -> io::Result<PacketSocket> {
        // Protocol 0: receives nothing until bound below.
        let sock = Socket::new(Domain::PACKET, Type::DGRAM, None)?;
        sock.attach_filter(&dhcp_client_filter())?;
        sock.bind(&link_addr(ifindex, ETH_P_IP, None))?;
        sock.set_nonblocking(true)?;
        Ok(PacketSocket {
            sock,
            ifindex,
            ip_id: 0,
        })
    }

    /// Sends a DHCP payload from `src`:68 to 255.255.255.255:67 as a link-layer broadcast.
    pub fn send_broadcast(&mut self, src: Ipv4Addr, payload: &[u8]) -> io::Result<()> {
        self.ip_id = self.ip_id.wrapping_add(1);
        let packet = build_udp(
            src,
            Ipv4Addr::BROADCAST,
            CLIENT_PORT,
            SERVER_PORT,
            self.ip_id,
            payload,
        );
        self.sock
            .send_to(&packet, &link_addr(self.ifindex, ETH_P_IP, Some([0xff; 6])))?;
        Ok(())
    }

    /// Receives one DHCP payload sent to port 68, if one is queued (the socket is
    /// non-blocking: `Ok(None)` when nothing is there). Packets that are not well-formed
    /// IPv4/UDP are skipped.
    pub fn try_recv(
        &self,
        buf: &mut Vec<u8>,
    ) -> io::Result<Option<(Ipv4Addr, std::ops::Range<usize>)>> {
        loop {
            buf.resize(2048, 0);
            // SAFETY-free: socket2 takes MaybeUninit; a zeroed Vec is initialised memory.
            let uninit: &mut [MaybeUninit<u8>] = as_uninit(buf);
            let n = match self.sock.recv(uninit) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            buf.truncate(n);
            if let Some((src, range)) = parse_udp(buf, CLIENT_PORT) {
                return Ok(Some((src, range)));
            }
        }
    }
}

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.sock.as_raw_fd()
    }
}

/// The Internet checksum (RFC 1071) of `data`, starting from `sum`.
fn checksum(data: &[u8], mut sum: u32) -> u16 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 packet (TTL 64, no options) carrying a UDP datagram with its checksum.
pub(crate) fn build_udp(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    id: u16,
    payload: &[u8],
) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut p = Vec::with_capacity(total);
    p.extend_from_slice(&[0x45, 0x10]);
    p.extend_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0, 0, 64, 17, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let ip_sum = checksum(&p[..20], 0);
    p[10..12].copy_from_slice(&ip_sum.to_be_bytes());
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&(udp_len as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    // pseudo header: src, dst, zero, protocol, UDP length
    let mut pseudo = 0u32;
    for w in src.octets().chunks(2).chain(dst.octets().chunks(2)) {
        pseudo += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    pseudo += 17 + udp_len as u32;
    let mut udp_sum = checksum(&p[20..], pseudo);
    if udp_sum == 0 {
        udp_sum = 0xffff;
    }
    p[26..28].copy_from_slice(&udp_sum.to_be_bytes());
    p
}

/// Checks an IPv4 packet carrying UDP to `dport` and returns its source address and the range
/// of the UDP payload. Lengths are checked against the buffer, never trusted.
pub(crate) fn parse_udp(p: &[u8], dport: u16) -> Option<(Ipv4Addr, std::ops::Range<usize>)> {
    let first = *p.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 || p.len() < ihl + 8 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
    if total < ihl + 8 || total > p.len() || p[9] != 17 {
        return None;
    }
    if u16::from_be_bytes([p[6], p[7]]) & 0x3fff != 0 {
        return None; // a fragment (or more to come)
    }
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let udp = &p[ihl..total];
    if u16::from_be_bytes([udp[2], udp[3]]) != dport {
        return None;
    }
    let ulen = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
    if ulen < 8 || ulen > udp.len() {
        return None;
    }
    Some((src, ihl + 8..ihl + ulen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_packets_parse_back_and_checksum_to_zero() {
        let payload = vec![7u8; 301];
        let p = build_udp(
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            67,
            68,
            9,
            &payload,
        );
        assert_eq!(p.len(), 20 + 8 + 301);
        assert_eq!(checksum(&p[..20], 0), 0, "IP header checksum verifies");
        let (src, r) = parse_udp(&p, 68).unwrap();
        assert_eq!(src, Ipv4Addr::UNSPECIFIED);
        assert_eq!(&p[r], &payload[..]);
        assert!(parse_udp(&p, 67).is_none(), "other port");
    }

    #[test]
    fn parse_rejects_truncated_and_lying_lengths() {
        let p = build_udp(
            Ipv4Addr::new(1, 2, 3, 4),
            Ipv4Addr::BROADCAST,
            67,
            68,
            1,
            &[1; 40],
        );
        for n in 0..p.len() {
            assert!(parse_udp(&p[..n], 68).is_none(), "truncated to {n}");
        }
        let mut lying = p.clone();
        lying[24..26].copy_from_slice(&500u16.to_be_bytes()); // UDP length past the end
        assert!(parse_udp(&lying, 68).is_none());
        let mut frag = p.clone();
        frag[6] = 0x20; // more fragments
        assert!(parse_udp(&frag, 68).is_none());
        let mut tcp = p;
        tcp[9] = 6;
        assert!(parse_udp(&tcp, 68).is_none());
    }
}
