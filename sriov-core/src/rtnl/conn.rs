//! The socket layer: one `NETLINK_ROUTE` socket, bound in the namespace of the thread that
//! opened it, sending requests framed by [`wire`] and collecting the replies.

use std::io;

use netlink_packet_core::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use super::error::errno;
use super::wire::{self, Reply};

/// An rtnetlink socket.
pub(crate) struct Conn {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Conn {
    /// Opens a socket in the calling thread's network namespace.
    pub(crate) fn open() -> io::Result<Conn> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        Ok(Conn {
            sock,
            seq: 0,
            buf: Vec::with_capacity(1 << 15),
        })
    }

    /// Receives one whole datagram into `self.buf`, however large (peeks at its size first).
    fn recv_datagram(&mut self) -> io::Result<()> {
        loop {
            self.buf.clear();
            let size = match self
                .sock
                .recv(&mut self.buf, libc::MSG_PEEK | libc::MSG_TRUNC)
            {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => other?,
            };
            self.buf.clear();
            self.buf.reserve(size);
            match self.sock.recv(&mut self.buf, 0) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => other?,
            };
            return Ok(());
        }
    }

    /// Sends `msg` and collects the messages answering it until the request is complete: the
    /// end of a dump, or the kernel's acknowledgement. A failure returns the kernel's errno.
    fn exchange(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        what: &'static str,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let request = wire::encode(msg, flags, self.seq);
        self.sock.send(&request, 0)?;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut out = Vec::new();
        loop {
            self.recv_datagram()?;
            for reply in wire::decode(&self.buf, self.seq, what)? {
                match reply {
                    Reply::Message(m) => out.push(m),
                    Reply::Failed(e) => return Err(errno(e)),
                    Reply::Done if dump => return Ok(out),
                    Reply::Ack if !dump => return Ok(out),
                    _ => {}
                }
            }
        }
    }

    /// A dump request: every object of a kind.
    pub(crate) fn dump(
        &mut self,
        msg: RouteNetlinkMessage,
        what: &'static str,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
        self.exchange(msg, NLM_F_REQUEST | NLM_F_DUMP, what)
    }

    /// A request answered by messages and an acknowledgement (`extra` adds `NLM_F_CREATE`,
    /// `NLM_F_EXCL`...).
    pub(crate) fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        extra: u16,
        what: &'static str,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
        self.exchange(msg, NLM_F_REQUEST | NLM_F_ACK | extra, what)
    }
}
