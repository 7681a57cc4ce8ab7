//! The socket layer: one `NETLINK_RDMA` socket, bound in the namespace of the thread that
//! opened it, sending requests framed by [`wire`](crate::wire) and collecting the replies. It
//! never looks inside a message.

use std::io;

use netlink_sys::{Socket, SocketAddr};

use crate::Error;
use crate::error::SocketOp;
use crate::wire::{self, Message, NETLINK_RDMA, Reply, Request};

/// A `NETLINK_RDMA` socket. It stays in the namespace it was opened in, whichever thread uses
/// it.
#[derive(Debug)]
pub struct RdmaSocket {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

/// Retries `f` while it fails with `EINTR`.
fn restarting<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// `EPROTONOSUPPORT` means there is no RDMA netlink at all.
fn refused(request: &'static str, source: io::Error, op: SocketOp) -> Error {
    match source.raw_os_error() {
        Some(libc::EPROTONOSUPPORT) => Error::NoRdmaNetlink { request },
        _ => Error::Socket { op, source },
    }
}

impl RdmaSocket {
    /// Opens a socket in the calling thread's network namespace, for `request` (named in the
    /// error: a kernel without RDMA netlink is [`Error::NoRdmaNetlink`]).
    pub fn open(request: &'static str) -> Result<RdmaSocket, Error> {
        let open = || -> io::Result<Socket> {
            let mut sock = Socket::new(NETLINK_RDMA)?;
            sock.bind_auto()?;
            sock.connect(&SocketAddr::new(0, 0))?;
            Ok(sock)
        };
        let sock = open().map_err(|e| refused(request, e, SocketOp::Open { request }))?;
        Ok(RdmaSocket {
            sock,
            seq: 0,
            buf: Vec::with_capacity(1 << 15),
        })
    }

    /// Receives one whole datagram into `self.buf`, however large (its size peeked first).
    fn recv_datagram(&mut self) -> io::Result<()> {
        let size = restarting(|| {
            self.buf.clear();
            self.sock
                .recv(&mut self.buf, libc::MSG_PEEK | libc::MSG_TRUNC)
        })?;
        self.buf.clear();
        self.buf.reserve(size);
        restarting(|| {
            self.buf.clear();
            self.sock.recv(&mut self.buf, 0)
        })?;
        Ok(())
    }

    /// Sends `request` and collects the messages answering it until it is complete: the end of
    /// a dump, or the kernel's acknowledgement. A refusal is [`Error::Kernel`] with the
    /// kernel's errno (`EPROTONOSUPPORT`, [`Error::NoRdmaNetlink`]).
    pub fn exchange(&mut self, request: &Request) -> Result<Vec<Message>, Error> {
        self.seq = self.seq.wrapping_add(1);
        let bytes = request.encode(self.seq);
        let name = request.name;
        restarting(|| self.sock.send(&bytes, 0))
            .map_err(|e| refused(name, e, SocketOp::Send { request: name }))?;
        let dump = request.is_dump();
        let mut out = Vec::new();
        loop {
            self.recv_datagram()
                .map_err(|e| refused(name, e, SocketOp::Receive { request: name }))?;
            for reply in wire::decode(&self.buf, self.seq, name)? {
                match reply {
                    Reply::Message(m) => {
                        out.push(m);
                        if !dump && !request.is_acked() {
                            return Ok(out);
                        }
                    }
                    Reply::Failed(libc::EPROTONOSUPPORT) => {
                        return Err(Error::NoRdmaNetlink { request: name });
                    }
                    Reply::Failed(errno) => {
                        return Err(Error::Kernel {
                            request: name,
                            source: io::Error::from_raw_os_error(errno),
                        });
                    }
                    Reply::Done if dump => return Ok(out),
                    Reply::Ack if !dump => return Ok(out),
                    _ => {}
                }
            }
        }
    }
}
