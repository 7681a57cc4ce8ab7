//! The node daemon of the `rdma-dhcp` IPAM plugin: one process, one event loop, every lease
//! of the node.
//!
//! - Requests arrive on a unix socket, one JSON line per connection ([`DaemonRequest`]). The
//!   socket is `0600` and its directory, like the state directory, `0700`, whatever the umask;
//!   a connection from a user other than root or a configured uid ([`DaemonConfig::allowed_uids`],
//!   checked with `SO_PEERCRED`) is refused with an error naming its uid. Connections are read
//!   and answered without blocking: a client that connects and stalls is dropped after
//!   [`REQUEST_TIMEOUT`] and never holds up other clients or the renewals.
//!   An ADD creates a [`Client`] for the pod interface (client id `0x00` +
//!   `<container id>/<ifname>`, the interface's MAC as chaddr) and answers once it is bound, or
//!   with code 11 when the timeout passes.
//! - One [`RenewalScheduler`] wakes the clients; their sockets are opened in the pod's
//!   namespace only while an exchange is in progress, and one `poll(2)` waits on all of them,
//!   the listening socket and the next deadline. No thread per lease.
//! - Timers run on the monotonic clock of a [`Clock`] (`CLOCK_BOOTTIME`): a jump of the wall
//!   clock neither expires nor extends a lease. Records are stored with both clocks' readings
//!   and re-based when loaded.
//! - Every change is written to the [`LeaseStore`] before it is acted on; on start the daemon
//!   resumes each stored lease (renewals go on; INIT-REBOOT where the lease lapsed while it was
//!   down), so a restart loses nothing.
//! - Addresses: on each renewal the address's kernel lifetime is set to the lease's remaining
//!   time (so it disappears if the lease is not renewed, even with the daemon gone); when a
//!   lease is lost (expiry, NAK) the address and its routes are removed at once, and a lease
//!   acquired again afterwards is configured by the daemon.
//! - DEL sends a RELEASE that servers honour (unicast from the leased address, option 54, the
//!   lease's client id, no option 50) and forgets the lease; DEL of an unknown lease succeeds.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cni_types::ErrorCode;

use super::{DaemonRequest, DaemonResponse, ListEntry, lease_key};
use crate::client::{Client, ClientConfig, DropReason, Event, Lease, Output};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::renewal::RenewalScheduler;
use crate::store::{LeaseRecord, LeaseStore};
use crate::transport::arp::ArpProbe;
use crate::transport::configure::{apply_lease, refresh_lifetime, remove_lease};
use crate::transport::{ClientSockets, Interface, in_netns, netlink_err};
use dhcp_codec::ClientId;
use dhcp_codec::Time;
use rtnl_ns::Handle;

/// The CNI error code of the answer to a connection from a user the daemon does not serve.
pub const PEER_NOT_ALLOWED: u32 = 110;

/// How long a client has, from connecting, to send its request line.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a client has to read its answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest request line accepted.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// Where the daemon listens and keeps its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    /// The unix socket (a stale file there is replaced).
    pub socket: PathBuf,
    /// The lease store directory.
    pub state_dir: PathBuf,
    /// Users besides root whose requests are served (their connections' `SO_PEERCRED`).
    pub allowed_uids: Vec<u32>,
}

impl DaemonConfig {
    /// The daemon at `socket` with its records in `state_dir`, serving root only.
    pub fn new(socket: impl Into<PathBuf>, state_dir: impl Into<PathBuf>) -> Self {
        DaemonConfig {
            socket: socket.into(),
            state_dir: state_dir.into(),
            allowed_uids: Vec::new(),
        }
    }
}

/// A connection whose request line has not fully arrived.
struct Incoming {
    stream: UnixStream,
    received: Vec<u8>,
    deadline: Time,
    /// The connecting process's uid (`SO_PEERCRED`).
    peer_uid: u32,
}

/// An answer not yet fully written.
struct Outgoing {
    stream: UnixStream,
    bytes: Vec<u8>,
    written: usize,
    deadline: Time,
}

struct Waiter {
    stream: UnixStream,
    deadline: Time,
}

/// An ARP probe for a freshly acquired address, answered (or not) before the address is used.
struct Probe {
    probe: ArpProbe,
    deadline: Time,
    lease: Lease,
}

/// How long a new address is probed for by ARP before it is handed out.
pub const ARP_PROBE_WAIT: Duration = Duration::from_millis(200);

struct Managed {
    record: LeaseRecord,
    sockets: Option<ClientSockets>,
    waiter: Option<Waiter>,
    probe: Option<Probe>,
    /// The next BOUND must configure the address (it was lost, or never handed to a plugin).
    configure_on_bound: bool,
}

/// The daemon. See the [module documentation](self).
pub struct Daemon {
    listener: UnixListener,
    socket: PathBuf,
    store: LeaseStore,
    mgr: RenewalScheduler,
    leases: HashMap<String, Managed>,
    /// Keys whose sockets are open.
    active: HashSet<String>,
    seq: u64,
    clock: Arc<dyn Clock>,
    allowed_uids: Vec<u32>,
    incoming: Vec<Incoming>,
    outbox: Vec<Outgoing>,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("socket", &self.socket)
            .field("store", &self.store.dir())
            .field("leases", &self.leases.len())
            .finish()
    }
}

fn socket_err(path: &Path, op: &str, source: std::io::Error) -> Error {
    Error::Socket {
        op: format!("{op} {}", path.display()),
        ifname: "-".into(),
        source,
    }
}

fn state_err(op: &'static str, source: state_files::Error) -> Error {
    Error::LeaseStore { op, source }
}

fn client_config(rec: &LeaseRecord) -> ClientConfig {
    let mut c = ClientConfig::new(rec.chaddr, rec.client_id.clone()).quick_start();
    c.hostname = rec.hostname.clone();
    c
}

fn seed_for(key: &str, now: Time, seq: u64) -> u64 {
    // FNV-1a of the key, mixed with the time and a counter.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^ now.as_millis().rotate_left(17) ^ seq
}

impl Daemon {
    /// Binds the socket, opens the store and resumes every stored lease, on the machine's
    /// clock ([`SystemClock`]).
    pub fn start(cfg: &DaemonConfig) -> Result<Daemon, Error> {
        Self::start_with_clock(cfg, Arc::new(SystemClock::new()))
    }

    /// [`Daemon::start`] with its time from `clock`.
    pub fn start_with_clock(cfg: &DaemonConfig, clock: Arc<dyn Clock>) -> Result<Daemon, Error> {
        let store = LeaseStore::open(&cfg.state_dir)?;
        if let Some(dir) = cfg.socket.parent().filter(|d| !d.as_os_str().is_empty()) {
            state_files::create_private_dir(dir)
                .map_err(|e| state_err("open socket directory", e))?;
        }
        let listener = state_files::bind_private_socket(&cfg.socket)
            .map_err(|e| state_err("bind socket", e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| socket_err(&cfg.socket, "configure", e))?;
        let mut d = Daemon {
            listener,
            socket: cfg.socket.clone(),
            store,
            mgr: RenewalScheduler::new(),
            leases: HashMap::new(),
            active: HashSet::new(),
            seq: 0,
            clock,
            allowed_uids: cfg.allowed_uids.clone(),
            incoming: Vec::new(),
            outbox: Vec::new(),
        };
        let now = d.clock.now();
        d.resume(now)?;
        Ok(d)
    }

    /// Number of managed pod interfaces.
    pub fn len(&self) -> usize {
        self.leases.len()
    }

    /// True when no pod interface is managed.
    pub fn is_empty(&self) -> bool {
        self.leases.is_empty()
    }

    fn resume(&mut self, now: Time) -> Result<(), Error> {
        let (records, errors) = self.store.load_all()?;
        for e in errors {
            tracing::warn!("skipping a lease record: {e}");
        }
        let stamp = self.clock.stamp();
        for rec in records {
            let rec = rec.rebased(&stamp);
            let key = rec.key.clone();
            let iface = Interface::lookup(rec.netns.as_deref(), &rec.ifname);
            let mut m = Managed {
                record: rec,
                sockets: None,
                waiter: None,
                probe: None,
                configure_on_bound: true,
            };
            match iface {
                Ok(iface) => {
                    self.seq += 1;
                    let cfg = client_config(&m.record);
                    let seed = seed_for(&key, now, self.seq);
                    let client = match m.record.lease.clone() {
                        Some(lease) if !lease.is_expired(now) => {
                            m.configure_on_bound = false;
                            Client::resume(cfg, lease, seed, now)
                        }
                        Some(lease) => {
                            // Lapsed while we were down: make sure it is not in use, then ask
                            // for it again (INIT-REBOOT).
                            if let Err(e) = remove_lease(&iface, &lease) {
                                tracing::warn!("{key}: {e}");
                            }
                            Client::resume(cfg, lease, seed, now)
                        }
                        None => Client::new(cfg, seed, now),
                    };
                    tracing::info!("{key}: resumed in {}", client.state());
                    m.sockets = Some(ClientSockets::new(iface));
                    self.mgr.insert(key.clone(), client);
                }
                Err(e) => tracing::warn!("{key}: not resumed: {e}"),
            }
            self.leases.insert(key, m);
        }
        Ok(())
    }

    /// Serves until `stop` is set (SIGTERM/SIGINT in the binary). Leases are kept, not
    /// released: the next start resumes them.
    pub fn run(&mut self, stop: &AtomicBool) -> Result<(), Error> {
        while !stop.load(Ordering::Relaxed) {
            self.step(Duration::from_millis(500))?;
        }
        for key in self.active.drain() {
            if let Some(s) = self.leases.get_mut(&key).and_then(|m| m.sockets.as_mut()) {
                s.close();
            }
        }
        Ok(())
    }

    /// One turn of the loop: timers, then a wait of at most `max_wait` for a request or a
    /// reply, then whatever arrived.
    pub fn step(&mut self, max_wait: Duration) -> Result<(), Error> {
        let now = self.clock.now();
        let mut out = Vec::new();
        self.mgr.handle_timeouts(now, &mut out);
        self.apply(now, out);
        self.expire_waiters(now);

        let mut deadline = now + max_wait;
        if let Some(t) = self.mgr.next_timeout() {
            deadline = deadline.min(t);
        }
        for m in self.leases.values() {
            if let Some(w) = &m.waiter {
                deadline = deadline.min(w.deadline);
            }
            if let Some(p) = &m.probe {
                deadline = deadline.min(p.deadline);
            }
        }
        for c in &self.incoming {
            deadline = deadline.min(c.deadline);
        }
        for o in &self.outbox {
            deadline = deadline.min(o.deadline);
        }
        let wait = deadline - now;
        let readable = self.poll(wait)?;
        let now = self.clock.now();
        self.check_probes(now);
        if readable.listener {
            self.accept(now);
        }
        self.read_requests(now);
        self.write_answers(now);
        for key in readable.keys {
            let mut msgs = Vec::new();
            if let Some(s) = self.leases.get_mut(&key).and_then(|m| m.sockets.as_mut()) {
                loop {
                    match s.try_recv() {
                        Ok(Some(m)) => msgs.push(m),
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!("{key}: {e}");
                            break;
                        }
                    }
                }
            }
            let mut out = Vec::new();
            for m in msgs {
                self.mgr.handle_message(now, &key, &m, &mut out);
            }
            self.apply(now, out);
        }
        Ok(())
    }

    fn poll(&self, wait: Duration) -> Result<Readable, Error> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let mut keys = Vec::new();
        let mut fds = vec![PollFd::new(self.listener.as_fd(), PollFlags::POLLIN)];
        for c in &self.incoming {
            fds.push(PollFd::new(c.stream.as_fd(), PollFlags::POLLIN));
        }
        for o in &self.outbox {
            fds.push(PollFd::new(o.stream.as_fd(), PollFlags::POLLOUT));
        }
        // the fds before the clients' sockets: listener, connections, answers, probes
        let mut before_keys = 1 + self.incoming.len() + self.outbox.len();
        for m in self.leases.values() {
            if let Some(p) = &m.probe {
                fds.push(PollFd::new(p.probe.as_fd(), PollFlags::POLLIN));
                before_keys += 1;
            }
        }
        for key in &self.active {
            if let Some(s) = self.leases.get(key).and_then(|m| m.sockets.as_ref()) {
                for fd in s.fds() {
                    fds.push(PollFd::new(fd, PollFlags::POLLIN));
                    keys.push(key.clone());
                }
            }
        }
        let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(socket_err(&self.socket, "poll", e.into())),
        }
        let ready = |fd: &PollFd<'_>| {
            fd.revents()
                .is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLERR))
        };
        let listener = ready(&fds[0]);
        let mut ready_keys: Vec<String> = fds[before_keys..]
            .iter()
            .zip(keys)
            .filter(|(fd, _)| ready(fd))
            .map(|(_, k)| k)
            .collect();
        ready_keys.dedup();
        Ok(Readable {
            listener,
            keys: ready_keys,
        })
    }

    /// Carries out the clients' outputs: sends, stores, configures, answers waiting ADDs.
    fn apply(&mut self, now: Time, out: Vec<(String, Output)>) {
        for (key, o) in out {
            let Some(m) = self.leases.get_mut(&key) else {
                continue;
            };
            match o {
                Output::Transmit(t) => {
                    let Some(s) = m.sockets.as_mut() else {
                        continue;
                    };
                    match s.send(&t) {
                        Ok(()) => {}
                        Err(e @ Error::EnterNetns { .. }) => {
                            // The pod is gone: stop trying until DEL or GC says so.
                            tracing::warn!("{key}: {e}; stopping its client");
                            if let Some(mut c) = self.mgr.remove(&key) {
                                c.stop();
                            }
                        }
                        Err(e) => tracing::warn!("{key}: {e}"),
                    }
                    if s.is_open() {
                        self.active.insert(key.clone());
                    }
                }
                Output::Event(e) => {
                    self.on_event(now, &key, e);
                }
            }
            // Idle clients hold no socket.
            let idle = self.mgr.get(&key).is_none_or(|c| {
                matches!(
                    c.state(),
                    crate::client::State::Bound | crate::client::State::Stopped
                )
            });
            if idle {
                if let Some(s) = self.leases.get_mut(&key).and_then(|m| m.sockets.as_mut()) {
                    s.close();
                }
                self.active.remove(&key);
            }
        }
    }

    fn on_event(&mut self, now: Time, key: &str, e: Event) {
        let Some(m) = self.leases.get_mut(key) else {
            return;
        };
        let iface = m.sockets.as_ref().map(|s| s.interface().clone());
        match e {
            Event::Bound(lease) => {
                m.record.lease = Some(lease.clone());
                m.record.saved_at = Some(self.clock.stamp());
                if let Err(e) = self.store.save(&m.record) {
                    tracing::error!("{key}: {e}");
                }
                // Probe the address by ARP before it is used or handed out.
                let probe = iface.as_ref().map(|i| ArpProbe::start(i, lease.ip()));
                match probe {
                    Some(Ok(probe)) => {
                        m.probe = Some(Probe {
                            probe,
                            deadline: now + ARP_PROBE_WAIT,
                            lease,
                        });
                    }
                    other => {
                        if let Some(Err(e)) = other {
                            tracing::warn!("{key}: {e}; using the address unprobed");
                        }
                        self.finish_bound(now, key, lease);
                    }
                }
            }
            Event::Renewed(lease) => {
                m.record.lease = Some(lease.clone());
                m.record.saved_at = Some(self.clock.stamp());
                if let Err(e) = self.store.save(&m.record) {
                    tracing::error!("{key}: {e}");
                }
                if let Some(iface) = &iface
                    && let Err(e) = refresh_lifetime(iface, &lease, now)
                {
                    tracing::warn!("{key}: {e}");
                }
            }
            Event::Drop { address, reason } => {
                let old = m.record.lease.take();
                m.record.saved_at = Some(self.clock.stamp());
                if let Err(e) = self.store.save(&m.record) {
                    tracing::error!("{key}: {e}");
                }
                if let (Some(iface), Some(old)) = (&iface, old)
                    && let Err(e) = remove_lease(iface, &old)
                {
                    tracing::warn!("{key}: {e}");
                }
                m.probe = None;
                if reason != DropReason::Released {
                    tracing::warn!("{key}: lost {address} ({reason:?}); acquiring again");
                    // A pending ADD hands the next lease to the plugin instead.
                    m.configure_on_bound = m.waiter.is_none();
                }
            }
            Event::Nak { server, message } => {
                tracing::info!(
                    "{key}: DHCPNAK from {server:?}: {}",
                    message.unwrap_or_default()
                );
            }
        }
    }

    /// Uses a freshly bound lease: configures it when the daemon owns the address (it was lost
    /// and acquired again), or answers the ADD waiting for it.
    fn finish_bound(&mut self, now: Time, key: &str, lease: Lease) {
        let Some(m) = self.leases.get_mut(key) else {
            return;
        };
        if let Some(iface) = m.sockets.as_ref().map(|s| s.interface().clone()) {
            let r = if m.configure_on_bound && m.waiter.is_none() {
                apply_lease(&iface, &lease, now)
            } else {
                refresh_lifetime(&iface, &lease, now).map(drop)
            };
            if let Err(e) = r {
                tracing::warn!("{key}: {e}");
            }
        }
        m.configure_on_bound = false;
        if let Some(w) = m.waiter.take() {
            respond(
                &mut self.outbox,
                w.stream,
                &DaemonResponse::with_lease(lease),
                now,
            );
        }
    }

    /// Declines probed addresses another host answered for; uses the others once their probe
    /// time is over.
    fn check_probes(&mut self, now: Time) {
        let keys: Vec<String> = self
            .leases
            .iter()
            .filter(|(_, m)| m.probe.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            let Some(m) = self.leases.get_mut(&key) else {
                continue;
            };
            let Some(p) = m.probe.as_mut() else { continue };
            let conflict = match p.probe.conflict() {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("{key}: ARP probe: {e}");
                    None
                }
            };
            if let Some(mac) = conflict {
                tracing::warn!(
                    "{key}: {} is in use by {}; declining it",
                    p.lease.ip(),
                    dhcp_codec::HwAddr::mac(mac)
                );
                m.probe = None;
                let mut out = Vec::new();
                if let Err(e) = self.mgr.decline(now, &key, &mut out) {
                    tracing::warn!("{key}: {e}");
                }
                self.apply(now, out);
            } else if now >= p.deadline {
                let lease = p.lease.clone();
                m.probe = None;
                self.finish_bound(now, &key, lease);
            }
        }
    }

    fn expire_waiters(&mut self, now: Time) {
        let expired: Vec<String> = self
            .leases
            .iter()
            .filter(|(_, m)| m.waiter.as_ref().is_some_and(|w| now >= w.deadline))
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            if let Some(mut m) = self.leases.remove(&key) {
                self.mgr.remove(&key);
                self.active.remove(&key);
                if let Err(e) = self.store.remove(&key) {
                    tracing::warn!("{key}: {e}");
                }
                if let Some(w) = m.waiter.take() {
                    let answer = DaemonResponse::error(
                        ErrorCode::TryAgainLater,
                        format!("{key}: no DHCP lease on {} yet", m.record.ifname),
                    );
                    respond(&mut self.outbox, w.stream, &answer, now);
                }
            }
        }
    }

    fn accept(&mut self, now: Time) {
        loop {
            let stream = match self.listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    tracing::warn!("accept on {}: {e}", self.socket.display());
                    return;
                }
            };
            if let Err(e) = stream.set_nonblocking(true) {
                tracing::warn!("configure a connection on {}: {e}", self.socket.display());
                continue;
            }
            let uid = match nix::sys::socket::getsockopt(
                &stream,
                nix::sys::socket::sockopt::PeerCredentials,
            ) {
                Ok(cred) => cred.uid(),
                Err(e) => {
                    tracing::warn!(
                        "read the peer of a connection on {}: {e}",
                        self.socket.display()
                    );
                    continue;
                }
            };
            // a refused client still gets to send its request, so that it reads the refusal
            // instead of a broken pipe
            self.incoming.push(Incoming {
                stream,
                received: Vec::new(),
                deadline: now + REQUEST_TIMEOUT,
                peer_uid: uid,
            });
        }
    }

    /// Reads what has arrived on each connection; serves those whose request line is complete
    /// and drops those that ran out of time, closed early or sent too much.
    fn read_requests(&mut self, now: Time) {
        let mut buf = [0u8; 4096];
        for mut c in std::mem::take(&mut self.incoming) {
            let mut closed = false;
            loop {
                match c.stream.read(&mut buf) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => c.received.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        tracing::warn!("read a request on {}: {e}", self.socket.display());
                        closed = true;
                        break;
                    }
                }
                if c.received.len() > MAX_REQUEST_BYTES {
                    break;
                }
            }
            if let Some(end) = c.received.iter().position(|&b| b == b'\n') {
                if c.peer_uid == 0 || self.allowed_uids.contains(&c.peer_uid) {
                    let line = c.received[..end].to_vec();
                    self.serve(now, c.stream, &line);
                } else {
                    self.refuse(now, c.stream, c.peer_uid);
                }
            } else if c.received.len() > MAX_REQUEST_BYTES {
                let answer = DaemonResponse::error(
                    ErrorCode::InvalidNetworkConfig,
                    format!("request longer than {MAX_REQUEST_BYTES} bytes"),
                );
                respond(&mut self.outbox, c.stream, &answer, now);
            } else if closed {
                tracing::debug!("a client closed its connection before its request was complete");
            } else if now >= c.deadline {
                tracing::warn!(
                    "dropped a connection on {} that sent no request within {} s",
                    self.socket.display(),
                    REQUEST_TIMEOUT.as_secs()
                );
            } else {
                self.incoming.push(c);
            }
        }
    }

    /// Answers a client whose user may not use the daemon.
    fn refuse(&mut self, now: Time, stream: UnixStream, uid: u32) {
        tracing::warn!(
            "refused a request from uid {uid} on {}",
            self.socket.display()
        );
        let answer = DaemonResponse::error(
            ErrorCode::Other(PEER_NOT_ALLOWED),
            format!(
                "uid {uid} may not use the rdma-dhcp daemon (root only, or a uid given with --allow-uid)"
            ),
        );
        respond(&mut self.outbox, stream, &answer, now);
    }

    /// Writes what the clients' sockets take of the pending answers; drops clients that do not
    /// read theirs in time.
    fn write_answers(&mut self, now: Time) {
        for mut o in std::mem::take(&mut self.outbox) {
            match write_some(&mut o) {
                Ok(true) => {}
                Ok(false) if now < o.deadline => self.outbox.push(o),
                Ok(false) => tracing::warn!(
                    "dropped a client on {} that did not read its answer within {} s",
                    self.socket.display(),
                    ANSWER_TIMEOUT.as_secs()
                ),
                Err(e) => tracing::warn!("answer a request: {e}"),
            }
        }
    }

    fn serve(&mut self, now: Time, stream: UnixStream, line: &[u8]) {
        let req: DaemonRequest = match serde_json::from_slice(line) {
            Ok(r) => r,
            Err(e) => {
                let answer = DaemonResponse::error(
                    ErrorCode::InvalidNetworkConfig,
                    format!("bad request: {e}"),
                );
                respond(&mut self.outbox, stream, &answer, now);
                return;
            }
        };
        match req {
            DaemonRequest::Add {
                container_id,
                netns,
                ifname,
                timeout_secs,
            } => self.add(now, stream, &container_id, netns, &ifname, timeout_secs),
            DaemonRequest::Del {
                container_id,
                ifname,
            } => {
                let key = lease_key(&container_id, &ifname);
                let r = self.forget(now, &key);
                respond(&mut self.outbox, stream, &r, now);
            }
            DaemonRequest::Check {
                container_id,
                netns,
                ifname,
            } => {
                let r = self.check(&lease_key(&container_id, &ifname), &netns, &ifname);
                respond(&mut self.outbox, stream, &r, now);
            }
            DaemonRequest::Gc { keep } => {
                let keep: HashSet<String> = keep.into_iter().collect();
                let mut keys: Vec<String> = self.leases.keys().cloned().collect();
                if let Ok((recs, _)) = self.store.load_all() {
                    keys.extend(recs.into_iter().map(|r| r.key));
                }
                keys.sort();
                keys.dedup();
                for key in keys.into_iter().filter(|k| !keep.contains(k)) {
                    let r = self.forget(now, &key);
                    if !r.ok {
                        tracing::warn!("gc {key}: {}", r.msg);
                    }
                }
                respond(&mut self.outbox, stream, &DaemonResponse::ok(), now);
            }
            DaemonRequest::Status => respond(&mut self.outbox, stream, &DaemonResponse::ok(), now),
            DaemonRequest::List => {
                let mut r = DaemonResponse::ok();
                let mut keys: Vec<&String> = self.leases.keys().collect();
                keys.sort();
                r.entries = keys
                    .into_iter()
                    .map(|k| ListEntry {
                        key: k.clone(),
                        state: self
                            .mgr
                            .get(k)
                            .map_or("UNMANAGED", |c| c.state().name())
                            .to_string(),
                        lease: self.leases.get(k).and_then(|m| m.record.lease.clone()),
                    })
                    .collect();
                respond(&mut self.outbox, stream, &r, now);
            }
        }
    }

    fn add(
        &mut self,
        now: Time,
        stream: UnixStream,
        container_id: &str,
        netns: PathBuf,
        ifname: &str,
        timeout_secs: u64,
    ) {
        let key = lease_key(container_id, ifname);
        let deadline = now + Duration::from_secs(timeout_secs.clamp(1, 600));
        if let Some(m) = self.leases.get_mut(&key) {
            let holds = self.mgr.get(&key).is_some_and(|c| c.state().holds_lease());
            if holds
                && m.record.netns.as_deref() == Some(netns.as_path())
                && let Some(l) = m.record.lease.clone()
            {
                respond(
                    &mut self.outbox,
                    stream,
                    &DaemonResponse::with_lease(l),
                    now,
                );
                return;
            }
            if self.mgr.get(&key).is_some() && m.record.netns.as_deref() == Some(netns.as_path()) {
                // Still acquiring: this request waits instead of the earlier one.
                if let Some(old) = m.waiter.replace(Waiter { stream, deadline }) {
                    let answer = DaemonResponse::error(
                        ErrorCode::TryAgainLater,
                        "superseded by a newer ADD",
                    );
                    respond(&mut self.outbox, old.stream, &answer, now);
                }
                return;
            }
            // A stale record (another namespace, or its client stopped): start over.
            self.mgr.remove(&key);
            self.leases.remove(&key);
            self.active.remove(&key);
        }
        let iface = match Interface::lookup(Some(&netns), ifname) {
            Ok(i) => i,
            Err(e) => {
                respond(&mut self.outbox, stream, &DaemonResponse::failure(&e), now);
                return;
            }
        };
        let record = LeaseRecord {
            key: key.clone(),
            netns: Some(netns),
            ifname: ifname.to_string(),
            client_id: ClientId::for_pod_interface(container_id, ifname),
            chaddr: iface.hwaddr(),
            hostname: None,
            lease: None,
            saved_at: Some(self.clock.stamp()),
        };
        if let Err(e) = self.store.save(&record) {
            respond(&mut self.outbox, stream, &DaemonResponse::failure(&e), now);
            return;
        }
        self.seq += 1;
        let client = Client::new(client_config(&record), seed_for(&key, now, self.seq), now);
        self.mgr.insert(key.clone(), client);
        self.leases.insert(
            key,
            Managed {
                record,
                sockets: Some(ClientSockets::new(iface)),
                waiter: Some(Waiter { stream, deadline }),
                probe: None,
                configure_on_bound: false,
            },
        );
    }

    /// Releases (when held) and forgets `key`. Never fails for a missing lease.
    fn forget(&mut self, now: Time, key: &str) -> DaemonResponse {
        let mut out = Vec::new();
        if self.mgr.get(key).is_some_and(|c| c.state().holds_lease()) {
            if let Err(e) = self.mgr.release(now, key, &mut out) {
                tracing::warn!("{key}: {e}");
            }
            self.apply(now, out);
        }
        self.mgr.remove(key);
        self.active.remove(key);
        if let Some(mut m) = self.leases.remove(key)
            && let Some(w) = m.waiter.take()
        {
            let answer = DaemonResponse::error(ErrorCode::TryAgainLater, "deleted while acquiring");
            respond(&mut self.outbox, w.stream, &answer, now);
        }
        match self.store.remove(key) {
            Ok(()) => DaemonResponse::ok(),
            Err(e) => DaemonResponse::failure(&e),
        }
    }

    fn check(&self, key: &str, netns: &Path, ifname: &str) -> DaemonResponse {
        let Some(m) = self.leases.get(key) else {
            return DaemonResponse::error(ErrorCode::Internal, format!("{key}: no lease known"));
        };
        let state = self.mgr.get(key).map(Client::state);
        let Some(lease) = m
            .record
            .lease
            .clone()
            .filter(|_| state.is_some_and(|s| s.holds_lease()))
        else {
            return DaemonResponse::error(
                ErrorCode::Internal,
                format!(
                    "{key}: no lease held (state {})",
                    state.map_or("STOPPED", |s| s.name())
                ),
            );
        };
        let present = in_netns(Some(netns), || {
            let mut rtnl = Handle::open().map_err(|e| netlink_err("open rtnetlink", ifname, e))?;
            let link = rtnl
                .link_by_name(ifname)
                .map_err(|e| netlink_err("look up link", ifname, e))?;
            let addrs = rtnl
                .addresses()
                .map_err(|e| netlink_err("list addresses", ifname, e))?;
            Ok(addrs
                .iter()
                .any(|a| a.index == link.index && a.prefix.address == lease.ip()))
        });
        match present {
            Ok(true) => DaemonResponse::with_lease(lease),
            Ok(false) => DaemonResponse::error(
                ErrorCode::Internal,
                format!("{key}: leased address {} is not on {ifname}", lease.address),
            ),
            Err(e) => DaemonResponse::failure(&e),
        }
    }
}

struct Readable {
    listener: bool,
    keys: Vec<String>,
}

/// Answers `r` on `stream` without blocking: what the socket does not take now is queued in
/// `outbox` and written as the client reads ([`ANSWER_TIMEOUT`] at most).
fn respond(outbox: &mut Vec<Outgoing>, stream: UnixStream, r: &DaemonResponse, now: Time) {
    let mut bytes = match serde_json::to_vec(r) {
        Ok(bytes) => bytes,
        Err(e) => {
            // cannot happen for this type; the client sees the connection close unanswered
            tracing::error!("encode an answer: {e}");
            return;
        }
    };
    bytes.push(b'\n');
    let mut o = Outgoing {
        stream,
        bytes,
        written: 0,
        deadline: now + ANSWER_TIMEOUT,
    };
    match write_some(&mut o) {
        Ok(true) => {}
        Ok(false) => outbox.push(o),
        Err(e) => tracing::warn!("answer a request: {e}"),
    }
}

/// Writes what the socket takes of an answer; `Ok(true)` once all of it is written.
fn write_some(o: &mut Outgoing) -> std::io::Result<bool> {
    while o.written < o.bytes.len() {
        match o.stream.write(&o.bytes[o.written..]) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => o.written += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// The lease of `key` as this daemon's store holds it (for tools and tests).
pub fn stored_lease(state_dir: &Path, key: &str) -> Result<Option<Lease>, Error> {
    Ok(LeaseStore::open(state_dir)?
        .load(key)?
        .and_then(|r| r.lease))
}
