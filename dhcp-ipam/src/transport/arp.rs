//! Address conflict detection before an offered address is used (RFC 2131 4.4.1, RFC 5227
//! probes): an ARP request "who has A? tell 0.0.0.0" is broadcast from the interface, and any
//! ARP packet from another hardware address that claims A (a reply, a request sent from A, or
//! another host's probe for A) is a conflict: the client then declines the address.

use std::io;
use std::mem::MaybeUninit;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use socket2::{Domain, Socket, Type};

use super::raw::link_addr;
use crate::error::Error;
use crate::transport::{Interface, in_netns};

const ETH_P_ARP: u16 = 0x0806;

/// One conflict probe in flight: the socket it listens on and what it is looking for.
#[derive(Debug)]
pub struct ArpProbe {
    sock: Socket,
    addr: Ipv4Addr,
    mac: [u8; 6],
}

/// An ARP probe for `target` from `mac` (sender address 0.0.0.0).
pub(crate) fn probe_packet(mac: [u8; 6], target: Ipv4Addr) -> [u8; 28] {
    let mut p = [0u8; 28];
    p[0..2].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    p[2..4].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    p[4] = 6;
    p[5] = 4;
    p[6..8].copy_from_slice(&1u16.to_be_bytes()); // request
    p[8..14].copy_from_slice(&mac);
    // sender IP 0.0.0.0, target MAC zero
    p[24..28].copy_from_slice(&target.octets());
    p
}

/// The hardware address of another host claiming `addr` in the ARP packet `p`, if any.
pub(crate) fn conflict_in(p: &[u8], addr: Ipv4Addr, ours: [u8; 6]) -> Option<[u8; 6]> {
    if p.len() < 28 || p[0..2] != [0, 1] || p[2..4] != [8, 0] || p[4] != 6 || p[5] != 4 {
        return None;
    }
    let mut sha = [0u8; 6];
    sha.copy_from_slice(&p[8..14]);
    if sha == ours {
        return None;
    }
    let spa = Ipv4Addr::new(p[14], p[15], p[16], p[17]);
    let tpa = Ipv4Addr::new(p[24], p[25], p[26], p[27]);
    let op = u16::from_be_bytes([p[6], p[7]]);
    let claims = spa == addr || (op == 1 && spa.is_unspecified() && tpa == addr);
    claims.then_some(sha)
}

impl ArpProbe {
    /// Opens an ARP socket on the interface (in its namespace) and broadcasts one probe for
    /// `addr`.
    pub fn start(iface: &Interface, addr: Ipv4Addr) -> Result<ArpProbe, Error> {
        let index = iface.index;
        let mac = iface.mac;
        let err = |op: &str, e: io::Error| Error::Socket {
            op: format!("{op} (ARP probe for {addr})"),
            ifname: iface.name.clone(),
            source: e,
        };
        let sock = in_netns(iface.netns.as_deref(), || {
            let s = Socket::new(Domain::PACKET, Type::DGRAM, None)
                .map_err(|e| err("open ARP socket", e))?;
            s.bind(&link_addr(index, ETH_P_ARP, None))
                .map_err(|e| err("bind ARP socket", e))?;
            s.set_nonblocking(true)
                .map_err(|e| err("configure ARP socket", e))?;
            Ok(s)
        })?;
        sock.send_to(
            &probe_packet(mac, addr),
            &link_addr(index, ETH_P_ARP, Some([0xff; 6])),
        )
        .map_err(|e| err("send ARP probe", e))?;
        Ok(ArpProbe { sock, addr, mac })
    }

    /// The address probed.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// Reads every queued ARP packet; the MAC of a host that claims the address, if one did.
    pub fn conflict(&mut self) -> io::Result<Option<[u8; 6]>> {
        let mut buf = [MaybeUninit::<u8>::uninit(); 128];
        loop {
            match self.sock.recv(&mut buf) {
                Ok(n) => {
                    let n = n.min(buf.len());
                    // SAFETY-free copy: the first n bytes were written by recv.
                    let bytes: Vec<u8> = buf[..n].iter().map(read_init).collect();
                    if let Some(mac) = conflict_in(&bytes, self.addr, self.mac) {
                        return Ok(Some(mac));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits up to `wait` for a conflict; the conflicting MAC if one showed up.
    pub fn wait(mut self, wait: Duration) -> io::Result<Option<[u8; 6]>> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            if let Some(m) = self.conflict()? {
                return Ok(Some(m));
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let mut fds = [nix::poll::PollFd::new(
                self.sock.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(ms)) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[allow(unsafe_code)]
fn read_init(b: &MaybeUninit<u8>) -> u8 {
    // SAFETY: only called on the bytes recv reported as written.
    unsafe { b.assume_init() }
}

impl AsFd for ArpProbe {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const THEIRS: [u8; 6] = [2, 0, 0, 0, 0, 2];
    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);

    fn packet(op: u16, sha: [u8; 6], spa: Ipv4Addr, tpa: Ipv4Addr) -> [u8; 28] {
        let mut p = probe_packet(sha, tpa);
        p[6..8].copy_from_slice(&op.to_be_bytes());
        p[14..18].copy_from_slice(&spa.octets());
        p
    }

    #[test]
    fn probe_layout() {
        let p = probe_packet(OURS, A);
        assert_eq!(&p[..8], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(&p[8..14], &OURS);
        assert_eq!(&p[14..18], &[0, 0, 0, 0]);
        assert_eq!(&p[24..28], &A.octets());
    }

    #[test]
    fn what_counts_as_a_conflict() {
        let other = Ipv4Addr::new(10, 0, 0, 9);
        // a reply from the holder
        assert_eq!(
            conflict_in(&packet(2, THEIRS, A, other), A, OURS),
            Some(THEIRS)
        );
        // the holder asking about someone else
        assert_eq!(
            conflict_in(&packet(1, THEIRS, A, other), A, OURS),
            Some(THEIRS)
        );
        // another host probing for the same address
        assert_eq!(
            conflict_in(&packet(1, THEIRS, Ipv4Addr::UNSPECIFIED, A), A, OURS),
            Some(THEIRS)
        );
        // our own probe, other addresses, short packets: no conflict
        assert_eq!(conflict_in(&probe_packet(OURS, A), A, OURS), None);
        assert_eq!(conflict_in(&packet(2, THEIRS, other, A), A, OURS), None);
        assert_eq!(
            conflict_in(&packet(2, THEIRS, A, other)[..27], A, OURS),
            None
        );
    }
}
