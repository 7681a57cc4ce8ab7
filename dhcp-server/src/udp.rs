//! The server on the wire: a UDP socket on port 67 bound to one interface inside a network
//! namespace, answering clients on the segment and relays.
//!
//! The namespace is entered by file descriptor (`setns`) on a dedicated short-lived thread that
//! creates the socket and reads the interface's address; the socket stays in that namespace
//! whichever thread uses it afterwards, and the calling thread's namespace never changes.
//!
//! Each turn of the loop reads up to [`BATCH`] waiting packets, answers them through the
//! [`Engine`], appends the batch's lease changes to the [`LeaseFile`] and syncs it once (group
//! commit), and only then sends the replies: an ACK never leaves before its lease is durable.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use dhcp_server::{ServeConfig, ServerConfig, UdpServer};
//!
//! let config = ServerConfig::load("/etc/dhcp/dhcpd.conf")?;
//! let mut server = UdpServer::bind(ServeConfig {
//!     netns: Some("/var/run/netns/leaf1".into()),
//!     ifname: "sw0".into(),
//!     config,
//!     lease_file: Some("/var/lib/dhcp-ipam/leaf1.leases".into()),
//!     timers: Default::default(),
//! })?;
//! let stop = AtomicBool::new(false); // set it from a signal handler
//! server.run(&stop)?;
//! # Ok::<(), dhcp_server::Error>(())
//! ```

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use nix::sys::socket::MsgFlags;
use socket2::{Domain, Protocol, Socket, Type};

use crate::alloc::Timers;
use crate::config::ServerConfig;
use crate::engine::{Destination, Engine, Reply, Stats};
use crate::error::Error;
use crate::leasefile::LeaseFile;
use dhcp_codec::Time;
use dhcp_codec::{CLIENT_PORT, Message, MessageType, SERVER_PORT};

/// Most packets handled per turn (and per lease file sync).
pub const BATCH: usize = 128;

/// How long the loop waits for a packet before it checks the stop flag and expires leases.
const POLL: Duration = Duration::from_millis(200);

/// What [`UdpServer::bind`] needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The network namespace file to serve in (`/var/run/netns/NAME`); `None`: the caller's.
    pub netns: Option<PathBuf>,
    /// The interface to serve on. Its first IPv4 address on a configured subnet is the server
    /// identifier.
    pub ifname: String,
    /// The parsed `dhcpd.conf`.
    pub config: ServerConfig,
    /// The lease file; `None` keeps leases in memory only.
    pub lease_file: Option<PathBuf>,
    /// Offer and decline hold times.
    pub timers: Timers,
}

/// The current wall-clock time: the server's leases are kept in wall time, as a lease file
/// must mean the same to the next process (and the next boot).
pub fn now() -> Time {
    Time::from_system(SystemTime::now())
}

/// Runs `f` in the network namespace `netns` (a file such as `/var/run/netns/leaf`), or in the
/// caller's namespace when `None`; see [`rtnl_ns::NetnsFile::run`].
fn in_netns<T: Send>(
    netns: Option<&Path>,
    f: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<T, Error> {
    let Some(path) = netns else {
        return f();
    };
    rtnl_ns::NetnsFile::open(path)
        .and_then(|ns| ns.run(f))
        .map_err(|e| Error::EnterNetns {
            path: path.to_path_buf(),
            source: e.into(),
        })?
}

/// The IPv4 addresses of `ifname` in the calling thread's network namespace.
pub fn interface_addrs(ifname: &str) -> Result<Vec<Ipv4Addr>, Error> {
    let addrs = nix::ifaddrs::getifaddrs().map_err(|e| Error::Socket {
        op: "list interface addresses".into(),
        ifname: ifname.into(),
        source: e.into(),
    })?;
    Ok(addrs
        .filter(|a| a.interface_name == ifname)
        .filter_map(|a| a.address.and_then(|s| s.as_sockaddr_in().map(|s| s.ip())))
        .collect())
}

/// Every IPv4 address of every interface in the calling thread's network namespace.
pub fn local_addrs() -> Result<Vec<Ipv4Addr>, Error> {
    let addrs = nix::ifaddrs::getifaddrs().map_err(|e| Error::Socket {
        op: "list interface addresses".into(),
        ifname: "*".into(),
        source: e.into(),
    })?;
    Ok(addrs
        .filter_map(|a| a.address.and_then(|s| s.as_sockaddr_in().map(|s| s.ip())))
        .collect())
}

fn open_socket(ifname: &str) -> Result<UdpSocket, Error> {
    let err = |op: &str| {
        let op = op.to_string();
        let ifname = ifname.to_string();
        move |source| Error::Socket { op, ifname, source }
    };
    let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(err("open UDP socket"))?;
    sock.set_reuse_address(true)
        .map_err(err("set SO_REUSEADDR"))?;
    sock.set_broadcast(true).map_err(err("set SO_BROADCAST"))?;
    sock.bind_device(Some(ifname.as_bytes()))
        .map_err(err("bind to device"))?;
    // Bursts of thousands of clients (or perfdhcp) must not overflow the default buffer.
    let _ = sock.set_recv_buffer_size(4 << 20);
    let _ = sock.set_send_buffer_size(4 << 20);
    sock.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, SERVER_PORT).into())
        .map_err(err("bind 0.0.0.0:67"))?;
    sock.set_read_timeout(Some(POLL))
        .map_err(err("set receive timeout"))?;
    Ok(sock.into())
}

/// `ATF_COM` from `<net/if_arp.h>`: the entry is complete (has a hardware address).
const ATF_COM: libc::c_int = 0x02;

/// Puts `ip -> mac` in the ARP table of `ifname` (`SIOCSARP`, not permanent), so a unicast
/// datagram reaches a client that has no address yet and so answers no ARP request. This is
/// what RFC 2131 4.1 asks of a server, and what dnsmasq does.
fn set_neighbour(
    sock: &UdpSocket,
    ifname: &str,
    ip: Ipv4Addr,
    mac: [u8; 6],
) -> std::io::Result<()> {
    let mut pa = [0 as libc::c_char; 14];
    // sockaddr_in after the family: port (2 bytes), then the address in network order.
    for (d, b) in pa[2..6].iter_mut().zip(ip.octets()) {
        *d = b as libc::c_char;
    }
    let mut ha = [0 as libc::c_char; 14];
    for (d, b) in ha.iter_mut().zip(mac) {
        *d = b as libc::c_char;
    }
    let mut dev = [0 as libc::c_char; 16];
    for (d, b) in dev.iter_mut().zip(ifname.bytes().take(15)) {
        *d = b as libc::c_char;
    }
    let req = libc::arpreq {
        arp_pa: libc::sockaddr {
            sa_family: libc::AF_INET as libc::sa_family_t,
            sa_data: pa,
        },
        arp_ha: libc::sockaddr {
            sa_family: libc::ARPHRD_ETHER,
            sa_data: ha,
        },
        arp_flags: ATF_COM,
        arp_netmask: libc::sockaddr {
            sa_family: 0,
            sa_data: [0; 14],
        },
        arp_dev: dev,
    };
    ioctl_set_arp(sock.as_raw_fd(), &req)
}

#[allow(unsafe_code)]
fn ioctl_set_arp(fd: std::os::fd::RawFd, req: &libc::arpreq) -> std::io::Result<()> {
    // SAFETY: `fd` is an open socket owned by the caller for the duration of the call, and
    // `req` points to a fully initialized `arpreq` that the kernel only reads.
    let rc = unsafe { libc::ioctl(fd, libc::SIOCSARP as _, req as *const libc::arpreq) };
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A DHCP server bound to an interface. See the [module docs](self).
#[derive(Debug)]
pub struct UdpServer {
    socket: UdpSocket,
    engine: Engine,
    leases: Option<LeaseFile>,
    ifname: String,
}

impl UdpServer {
    /// Opens the lease file (restoring its leases), enters the namespace, binds the socket and
    /// picks the server identifier.
    pub fn bind(cfg: ServeConfig) -> Result<UdpServer, Error> {
        let ifname = cfg.ifname.clone();
        let (socket, addrs, local) = in_netns(cfg.netns.as_deref(), move || {
            let socket = open_socket(&ifname)?;
            Ok((socket, interface_addrs(&ifname)?, local_addrs()?))
        })?;
        let server_id = addrs
            .iter()
            .copied()
            .find(|a| cfg.config.subnet_of(*a).is_some())
            .ok_or_else(|| Error::ServerInterface {
                ifname: cfg.ifname.clone(),
                reason: if addrs.is_empty() {
                    "the interface has no IPv4 address".into()
                } else {
                    format!(
                        "none of its addresses ({addrs:?}) is on a subnet of {}",
                        cfg.config.file.display()
                    )
                },
            })?;
        let mut engine = Engine::new(&cfg.config, server_id, cfg.timers)?;
        let mut leases = None;
        if let Some(path) = &cfg.lease_file {
            let (mut file, records) = LeaseFile::open(path)?;
            let now = now();
            let alloc = engine.allocator_mut();
            let mut skipped = 0usize;
            for r in &records {
                if !alloc.restore(r, now) {
                    skipped += 1;
                }
            }
            if skipped > 0 {
                tracing::warn!(
                    skipped,
                    "lease records for addresses outside every range were dropped"
                );
            }
            file.compact(&alloc.records())?;
            tracing::info!(
                path = %path.display(),
                restored = records.len() - skipped,
                bound = alloc.bound_count(),
                "lease file loaded"
            );
            leases = Some(file);
        }
        // Never hand out an address this host has itself (on any interface of the namespace).
        for addr in local {
            if engine.allocator_mut().exclude(addr) {
                tracing::info!(%addr, "a local address is in a range: excluded");
            }
        }
        Ok(UdpServer {
            socket,
            engine,
            leases,
            ifname: cfg.ifname,
        })
    }

    /// The server identifier (the interface address it answers from).
    pub fn server_id(&self) -> Ipv4Addr {
        self.engine.server_id()
    }

    /// The protocol engine (for its allocator and counters).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Serves until `stop` is set (checked at least every 200 ms). Returns the counters.
    pub fn run(&mut self, stop: &AtomicBool) -> Result<Stats, Error> {
        let mut buf = vec![0u8; 4096];
        let mut out = Vec::with_capacity(600);
        let mut replies: Vec<Reply> = Vec::with_capacity(BATCH);
        let mut failures = 0u32;
        while !stop.load(Ordering::Relaxed) {
            replies.clear();
            let now = now();
            match self.socket.recv(&mut buf) {
                Ok(n) => self.answer(&buf[..n], now, &mut replies),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    self.idle(now)?;
                    continue;
                }
                Err(source) => {
                    // Transient trouble (the link flapping, ENOBUFS) is ridden out; a socket
                    // that keeps failing for 5 s ends the server.
                    failures += 1;
                    if failures >= 25 {
                        return Err(Error::Socket {
                            op: "receive".into(),
                            ifname: self.ifname.clone(),
                            source,
                        });
                    }
                    tracing::warn!(ifname = %self.ifname, "receive failed: {source}");
                    std::thread::sleep(POLL);
                    continue;
                }
            }
            failures = 0;
            for _ in 1..BATCH {
                match nix::sys::socket::recv(
                    self.socket.as_raw_fd(),
                    &mut buf,
                    MsgFlags::MSG_DONTWAIT,
                ) {
                    Ok(n) => self.answer(&buf[..n], now, &mut replies),
                    Err(_) => break,
                }
            }
            let durable = self.persist();
            for reply in &replies {
                if !durable && reply.message.message_type == MessageType::Ack {
                    continue; // never promise a lease that is not on disk
                }
                self.send(reply, &mut out);
            }
        }
        let stats = self.engine.stats();
        tracing::info!(?stats, "server stopped");
        Ok(stats)
    }

    fn answer(&mut self, packet: &[u8], now: Time, replies: &mut Vec<Reply>) {
        match Message::parse(packet) {
            Ok(msg) => {
                if let Some(reply) = self.engine.handle(&msg, now) {
                    replies.push(reply);
                }
            }
            Err(e) => tracing::debug!("dropping packet: {e}"),
        }
    }

    /// Writes and syncs the batch's lease changes. False when that failed.
    fn persist(&mut self) -> bool {
        let changes = self.engine.allocator_mut().take_changes();
        let Some(file) = self.leases.as_mut() else {
            return true;
        };
        if changes.is_empty() {
            return true;
        }
        match file.append(&changes).and_then(|()| file.sync()) {
            Ok(()) => {
                // Under sustained load the loop never idles: keep the journal bounded here too.
                if file.should_compact()
                    && let Err(e) = file.compact(&self.engine.allocator().records())
                {
                    tracing::warn!("lease file not compacted: {e}");
                }
                true
            }
            Err(e) => {
                tracing::error!("lease file not updated, ACKs withheld: {e}");
                false
            }
        }
    }

    fn idle(&mut self, now: Time) -> Result<(), Error> {
        self.engine.allocator_mut().expire(now);
        if let Some(file) = self.leases.as_mut()
            && file.should_compact()
        {
            file.compact(&self.engine.allocator().records())?;
        }
        Ok(())
    }

    fn send(&self, reply: &Reply, out: &mut Vec<u8>) {
        if let Err(e) = reply.message.emit_into(out) {
            tracing::warn!("cannot encode {}: {e}", reply.message.message_type);
            return;
        }
        let broadcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT);
        let to = match reply.destination {
            Destination::Unicast(a) => a,
            Destination::Broadcast => broadcast,
            Destination::Client { addr, mac } => {
                match set_neighbour(&self.socket, &self.ifname, *addr.ip(), mac) {
                    Ok(()) => addr,
                    Err(e) => {
                        tracing::debug!(%addr, "no neighbour entry ({e}): broadcasting");
                        broadcast
                    }
                }
            }
        };
        if let Err(e) = self.socket.send_to(out, to) {
            tracing::debug!(%to, "send {}: {e}", reply.message.message_type);
        }
    }

    /// Runs the server on a new thread; stop it with [`ServerHandle::stop`].
    pub fn spawn(mut self) -> Result<ServerHandle, Error> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let ifname = self.ifname.clone();
        let thread = std::thread::Builder::new()
            .name("dhcp-server".into())
            .spawn(move || self.run(&flag))
            .map_err(|source| Error::Socket {
                op: "start server thread".into(),
                ifname,
                source,
            })?;
        Ok(ServerHandle { stop, thread })
    }
}

/// A server running on its own thread.
#[derive(Debug)]
pub struct ServerHandle {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<Stats, Error>>,
}

impl ServerHandle {
    /// Stops the server and waits for it; returns its counters.
    pub fn stop(self) -> Result<Stats, Error> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_else(|_| {
            Err(Error::ServerInterface {
                ifname: String::new(),
                reason: "server thread panicked".into(),
            })
        })
    }
}
