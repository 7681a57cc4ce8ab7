//! The UDP transport for a client that holds an address: a socket bound to the leased
//! address, port 68, on the pod interface, for unicast REQUESTs to the server (RENEWING),
//! broadcast ones (REBINDING) and the RELEASE. Servers answer to ciaddr, so the replies come
//! back to this socket.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, BorrowedFd};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::raw::as_uninit;
use dhcp_codec::{CLIENT_PORT, SERVER_PORT};

/// A UDP socket bound to `address`:68 on one interface. Open it in the interface's namespace.
#[derive(Debug)]
pub struct UdpSocket {
    sock: Socket,
    address: Ipv4Addr,
}

impl UdpSocket {
    /// Opens the socket bound to `address`:68 and to interface `ifname` (SO_BINDTODEVICE), with
    /// broadcast allowed. IP_FREEBIND lets it bind even while the address is not (yet) on the
    /// interface; sending from it then fails until the address is configured.
    pub fn open(ifname: &str, address: Ipv4Addr) -> io::Result<UdpSocket> {
        let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        sock.set_reuse_address(true)?;
        sock.set_broadcast(true)?;
        sock.set_freebind_v4(true)?;
        sock.bind_device(Some(ifname.as_bytes()))?;
        sock.bind(&SockAddr::from(SocketAddrV4::new(address, CLIENT_PORT)))?;
        sock.set_nonblocking(true)?;
        Ok(UdpSocket { sock, address })
    }

    /// The address the socket is bound to.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// Sends a DHCP payload to `to`:67 (a server, or 255.255.255.255).
    pub fn send(&self, to: Ipv4Addr, payload: &[u8]) -> io::Result<()> {
        self.sock
            .send_to(payload, &SockAddr::from(SocketAddrV4::new(to, SERVER_PORT)))?;
        Ok(())
    }

    /// Receives one datagram into `buf` if one is queued (`Ok(None)` otherwise).
    pub fn try_recv(&self, buf: &mut Vec<u8>) -> io::Result<Option<Ipv4Addr>> {
        loop {
            buf.resize(2048, 0);
            let uninit = as_uninit(buf);
            match self.sock.recv_from(uninit) {
                Ok((n, from)) => {
                    buf.truncate(n);
                    let src = from
                        .as_socket_ipv4()
                        .map(|a| *a.ip())
                        .unwrap_or(Ipv4Addr::UNSPECIFIED);
                    return Ok(Some(src));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}
