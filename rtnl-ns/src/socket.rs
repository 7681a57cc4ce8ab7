//! The socket layer: one `NETLINK_ROUTE` socket, bound in the namespace of the thread that
//! opened it, sending requests framed by [`wire`](crate::wire) and collecting the replies.
//! It never looks inside a message.

use std::io;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use crate::Error;
use crate::error::SocketOp;
use crate::wire::{self, Reply, Request};

/// An rtnetlink socket. It stays in the namespace it was opened in, whichever thread uses it.
#[derive(Debug)]
pub struct RtnlSocket {
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

impl RtnlSocket {
    /// Opens a socket in the calling thread's network namespace.
    pub fn open() -> Result<RtnlSocket, Error> {
        let open = || -> io::Result<Socket> {
            let mut sock = Socket::new(NETLINK_ROUTE)?;
            sock.bind_auto()?;
            sock.connect(&SocketAddr::new(0, 0))?;
            Ok(sock)
        };
        let sock = open().map_err(|source| Error::Socket {
            op: SocketOp::Open,
            source,
        })?;
        Ok(RtnlSocket {
            sock,
            seq: 0,
            buf: Vec::with_capacity(1 << 15),
        })
    }

    /// Receives one whole datagram into `self.buf`, however large: its size is peeked first
    /// (`MSG_PEEK | MSG_TRUNC`), so a dump of many links is never cut.
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
    /// a dump, the kernel's acknowledgement, or (for a request that asks for neither) the
    /// first message. A refusal is [`Error::Kernel`] with the kernel's errno.
    pub fn exchange(&mut self, request: &Request) -> Result<Vec<RouteNetlinkMessage>, Error> {
        self.seq = self.seq.wrapping_add(1);
        let bytes = request.encode(self.seq);
        restarting(|| self.sock.send(&bytes, 0)).map_err(|source| Error::Socket {
            op: SocketOp::Send {
                request: request.name,
            },
            source,
        })?;
        let dump = request.is_dump();
        let acked = request.is_acked();
        let mut out = Vec::new();
        loop {
            self.recv_datagram().map_err(|source| Error::Socket {
                op: SocketOp::Receive {
                    request: request.name,
                },
                source,
            })?;
            for reply in wire::decode(&self.buf, self.seq, request.name)? {
                match reply {
                    Reply::Message(m) => {
                        out.push(m);
                        if !dump && !acked {
                            return Ok(out);
                        }
                    }
                    Reply::Failed(errno) => {
                        return Err(Error::Kernel {
                            request: request.name,
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
