//! Transports that carry a [`Client`](crate::client::Client)'s messages inside a pod's
//! network namespace, and the address configuration that follows its events.
//!
//! - [`in_netns`]: run code in a namespace entered by file descriptor on a dedicated thread
//!   (`rtnl_ns::NetnsFile::run`); sockets made there keep working from any thread.
//! - [`PacketSocket`]: before the client has an address (INIT, SELECTING, REQUESTING,
//!   INIT-REBOOT, REBOOTING, DECLINE): IPv4/UDP built by hand, source 0.0.0.0, link-layer
//!   broadcast.
//! - [`UdpSocket`]: with an address (RENEWING, REBINDING, RELEASE): UDP from the leased address,
//!   unicast to the server or broadcast.
//! - [`ClientSockets`]: the two, opened when a message needs them and closed when the client
//!   is idle, so thousands of bound leases hold no file descriptor at all.
//! - [`arp`]: conflict probes before an address is used (a conflict means DECLINE).
//! - [`configure`]: applies a lease to an interface over rtnetlink (`rtnl-ns`): the address with
//!   the lease's lifetime, and its routes.
//! - [`Session`]: a blocking driver of one client over these, for command-line runs.

pub mod arp;
pub mod configure;
mod packet;
mod raw;
mod session;
mod udp;

use std::net::Ipv4Addr;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

pub use packet::PacketSocket;
pub use session::Session;
pub use udp::UdpSocket;

use rtnl_ns::{Handle, NetnsFile};

use crate::client::{Destination, Transmit};
use crate::error::Error;
use dhcp_codec::{HwAddr, Message, Op};

/// Runs `f` in the network namespace `netns` (a file such as `/var/run/netns/pod1` or
/// `/proc/<pid>/ns/net`), or in the caller's namespace when `None`, and returns its result.
///
/// The namespace is entered by `rtnl-ns` ([`NetnsFile::run`]) on a new thread that ends with
/// `f`, so no thread of the caller ever changes namespace; a caller already in that namespace
/// runs `f` itself. Failing to open or enter the namespace is [`Error::EnterNetns`].
///
/// ```
/// // Without a namespace the closure runs on the calling thread.
/// let n = dhcp_ipam::transport::in_netns(None, || Ok(2 + 2)).unwrap();
/// assert_eq!(n, 4);
/// ```
pub fn in_netns<T, F>(netns: Option<&Path>, f: F) -> Result<T, Error>
where
    T: Send,
    F: FnOnce() -> Result<T, Error> + Send,
{
    let Some(path) = netns else {
        return f();
    };
    // opening and entering are the only failures of `open` and `run`
    let enter_err = |e: rtnl_ns::Error| Error::EnterNetns {
        path: path.to_path_buf(),
        source: e.into(),
    };
    NetnsFile::open(path)
        .and_then(|ns| ns.run(f))
        .map_err(enter_err)?
}

/// A failed rtnetlink request on interface `ifname` as [`Error::Netlink`], the kernel's errno
/// kept in its source.
pub(crate) fn netlink_err(op: impl Into<String>, ifname: &str, e: rtnl_ns::Error) -> Error {
    Error::Netlink {
        op: op.into(),
        ifname: ifname.to_string(),
        source: e.into(),
    }
}

/// An interface in a network namespace, looked up once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// The namespace file, or `None` for the caller's namespace.
    pub netns: Option<PathBuf>,
    /// The interface name inside the namespace.
    pub name: String,
    /// Its index inside the namespace.
    pub index: u32,
    /// Its MAC address.
    pub mac: [u8; 6],
}

impl Interface {
    /// Looks up `name` in `netns` over rtnetlink.
    pub fn lookup(netns: Option<&Path>, name: &str) -> Result<Interface, Error> {
        let link = in_netns(netns, || {
            let mut rtnl = Handle::open().map_err(|e| netlink_err("open rtnetlink", name, e))?;
            rtnl.link_by_name(name)
                .map_err(|e| netlink_err("look up link", name, e))
        })?;
        let mac = link.mac.ok_or_else(|| Error::Netlink {
            op: "read the hardware address".into(),
            ifname: name.to_string(),
            source: std::io::Error::other("not an Ethernet interface (no 6-byte address)"),
        })?;
        Ok(Interface {
            netns: netns.map(Path::to_path_buf),
            name: name.to_string(),
            index: link.index,
            mac,
        })
    }

    /// The interface's hardware address as `chaddr`.
    pub fn hwaddr(&self) -> HwAddr {
        HwAddr::mac(self.mac)
    }

    fn socket_err(&self, op: impl Into<String>, source: std::io::Error) -> Error {
        Error::Socket {
            op: op.into(),
            ifname: self.name.clone(),
            source,
        }
    }
}

/// The sockets one client needs, each opened (in the interface's namespace) when a message
/// first needs it.
#[derive(Debug)]
pub struct ClientSockets {
    iface: Interface,
    packet: Option<PacketSocket>,
    udp: Option<UdpSocket>,
    buf: Vec<u8>,
}

impl ClientSockets {
    /// No socket open yet.
    pub fn new(iface: Interface) -> Self {
        ClientSockets {
            iface,
            packet: None,
            udp: None,
            buf: Vec::with_capacity(2048),
        }
    }

    /// The interface.
    pub fn interface(&self) -> &Interface {
        &self.iface
    }

    /// Sends `t` the way its destination says: through the packet socket from 0.0.0.0, or over
    /// UDP from the leased address.
    pub fn send(&mut self, t: &Transmit) -> Result<(), Error> {
        let what = t.message.message_type;
        let payload = t.message.emit()?;
        match t.destination {
            Destination::Broadcast => {
                let sock = self.packet()?;
                sock.send_broadcast(Ipv4Addr::UNSPECIFIED, &payload)
                    .map_err(|e| self.iface.socket_err(format!("send {what}"), e))
            }
            Destination::BroadcastFrom { from } => {
                let sock = self.udp(from)?;
                sock.send(Ipv4Addr::BROADCAST, &payload).map_err(|e| {
                    self.iface
                        .socket_err(format!("broadcast {what} from {from}"), e)
                })
            }
            Destination::Unicast { from, to } => {
                let sock = self.udp(from)?;
                sock.send(to, &payload).map_err(|e| {
                    self.iface
                        .socket_err(format!("send {what} from {from} to {to}"), e)
                })
            }
        }
    }

    /// The next well-formed DHCP reply queued on an open socket, if any (never blocks).
    /// Malformed packets are skipped.
    pub fn try_recv(&mut self) -> Result<Option<Message>, Error> {
        if let Some(p) = &self.packet {
            while let Some((_, range)) = p
                .try_recv(&mut self.buf)
                .map_err(|e| self.iface.socket_err("receive on packet socket", e))?
            {
                if let Ok(m) = Message::parse(&self.buf[range])
                    && m.op == Op::Reply
                {
                    return Ok(Some(m));
                }
            }
        }
        if let Some(u) = &self.udp {
            while u
                .try_recv(&mut self.buf)
                .map_err(|e| self.iface.socket_err("receive on UDP socket", e))?
                .is_some()
            {
                if let Ok(m) = Message::parse(&self.buf)
                    && m.op == Op::Reply
                {
                    return Ok(Some(m));
                }
            }
        }
        Ok(None)
    }

    /// The open sockets, for `poll(2)`.
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        let mut v = Vec::with_capacity(2);
        if let Some(p) = &self.packet {
            v.push(p.as_fd());
        }
        if let Some(u) = &self.udp {
            v.push(u.as_fd());
        }
        v
    }

    /// True when a socket is open.
    pub fn is_open(&self) -> bool {
        self.packet.is_some() || self.udp.is_some()
    }

    /// Closes every socket (the client is idle: BOUND or stopped).
    pub fn close(&mut self) {
        self.packet = None;
        self.udp = None;
    }

    /// Waits until a socket is readable or `timeout` has passed.
    pub fn wait(&self, timeout: std::time::Duration) -> Result<(), Error> {
        let fds = self.fds();
        if fds.is_empty() {
            std::thread::sleep(timeout);
            return Ok(());
        }
        let mut pfds: Vec<nix::poll::PollFd<'_>> = fds
            .iter()
            .map(|fd| nix::poll::PollFd::new(*fd, nix::poll::PollFlags::POLLIN))
            .collect();
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        match nix::poll::poll(&mut pfds, nix::poll::PollTimeout::from(ms)) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
            Err(e) => Err(self.iface.socket_err("poll", e.into())),
        }
    }

    fn packet(&mut self) -> Result<&mut PacketSocket, Error> {
        if self.packet.is_none() {
            // Once an address is held, replies come over UDP; the two never need to be open
            // together.
            self.udp = None;
            let index = self.iface.index;
            let sock = in_netns(self.iface.netns.as_deref(), || {
                PacketSocket::open(index)
                    .map_err(|e| self.iface.socket_err("open packet socket", e))
            })?;
            self.packet = Some(sock);
        }
        self.packet.as_mut().ok_or_else(|| {
            self.iface
                .socket_err("open packet socket", std::io::Error::other("not open"))
        })
    }

    fn udp(&mut self, from: Ipv4Addr) -> Result<&UdpSocket, Error> {
        if self.udp.as_ref().is_none_or(|u| u.address() != from) {
            self.packet = None;
            let name = self.iface.name.clone();
            let sock = in_netns(self.iface.netns.as_deref(), || {
                UdpSocket::open(&name, from).map_err(|e| {
                    self.iface
                        .socket_err(format!("open UDP socket on {from}:68"), e)
                })
            })?;
            self.udp = Some(sock);
        }
        self.udp.as_ref().ok_or_else(|| {
            self.iface
                .socket_err("open UDP socket", std::io::Error::other("not open"))
        })
    }
}
