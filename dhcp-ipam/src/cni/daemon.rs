//! The node daemon of the `rdma-dhcp` IPAM plugin: one process, one event loop, every lease
//! of the node.
//!
//! - Requests arrive on a unix socket, one JSON line per connection ([`DaemonRequest`]).
//!   An ADD creates a [`Client`] for the pod interface (client id `0x00` +
//!   `<container id>/<ifname>`, the interface's MAC as chaddr) and answers once it is bound, or
//!   with code 11 when the timeout passes.
//! - One [`RenewalManager`] wakes the clients; their sockets are opened in the pod's
//!   namespace only while an exchange is in progress, and one `poll(2)` waits on all of them,
//!   the listening socket and the next deadline. No thread per lease.
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
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{DaemonRequest, DaemonResponse, ListEntry, lease_key};
use crate::client::{Client, ClientConfig, DropReason, Event, Lease, Output};
use crate::codec::ClientId;
use crate::error::Error;
use crate::manager::RenewalManager;
use crate::store::{LeaseRecord, LeaseStore};
use crate::time::Time;
use crate::transport::arp::ArpProbe;
use crate::transport::configure::{apply_lease, refresh_lifetime, remove_lease};
use crate::transport::{ClientSockets, Interface, in_netns, netlink_err};
use rtnl_ns::Handle;

/// CNI error codes the daemon answers with.
mod code {
    pub const IO: u32 = 5;
    pub const INVALID_CONFIG: u32 = 7;
    pub const TRY_AGAIN: u32 = 11;
    pub const INTERNAL: u32 = 999;
}

/// Where the daemon listens and keeps its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    /// The unix socket (a stale file there is replaced).
    pub socket: PathBuf,
    /// The lease store directory.
    pub state_dir: PathBuf,
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
    mgr: RenewalManager,
    leases: HashMap<String, Managed>,
    /// Keys whose sockets are open.
    active: HashSet<String>,
    seq: u64,
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
    /// Binds the socket, opens the store and resumes every stored lease.
    pub fn start(cfg: &DaemonConfig) -> Result<Daemon, Error> {
        let store = LeaseStore::open(&cfg.state_dir)?;
        if let Some(dir) = cfg.socket.parent() {
            std::fs::create_dir_all(dir).map_err(|e| socket_err(dir, "create directory", e))?;
        }
        match std::fs::remove_file(&cfg.socket) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(socket_err(&cfg.socket, "remove stale socket", e)),
        }
        let listener =
            UnixListener::bind(&cfg.socket).map_err(|e| socket_err(&cfg.socket, "bind", e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| socket_err(&cfg.socket, "configure", e))?;
        let mut d = Daemon {
            listener,
            socket: cfg.socket.clone(),
            store,
            mgr: RenewalManager::new(),
            leases: HashMap::new(),
            active: HashSet::new(),
            seq: 0,
        };
        d.resume(Time::now())?;
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
        for rec in records {
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
        let now = Time::now();
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
        let wait = deadline - now;
        let readable = self.poll(wait)?;
        let now = Time::now();
        self.check_probes(now);
        if readable.listener {
            self.accept(now);
        }
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
        let mut probes = 0;
        for m in self.leases.values() {
            if let Some(p) = &m.probe {
                fds.push(PollFd::new(p.probe.as_fd(), PollFlags::POLLIN));
                probes += 1;
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
        let mut ready_keys: Vec<String> = fds[1 + probes..]
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
                if let Err(e) = self.store.save(&m.record) {
                    tracing::error!("{key}: {e}");
                }
                if let Some(iface) = &iface {
                    if let Err(e) = refresh_lifetime(iface, &lease, now) {
                        tracing::warn!("{key}: {e}");
                    }
                }
            }
            Event::Drop { address, reason } => {
                let old = m.record.lease.take();
                if let Err(e) = self.store.save(&m.record) {
                    tracing::error!("{key}: {e}");
                }
                if let (Some(iface), Some(old)) = (&iface, old) {
                    if let Err(e) = remove_lease(iface, &old) {
                        tracing::warn!("{key}: {e}");
                    }
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
                apply_lease(&iface, &lease, now, true)
            } else {
                refresh_lifetime(&iface, &lease, now).map(drop)
            };
            if let Err(e) = r {
                tracing::warn!("{key}: {e}");
            }
        }
        m.configure_on_bound = false;
        if let Some(w) = m.waiter.take() {
            respond(w.stream, &DaemonResponse::with_lease(lease));
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
                    crate::codec::HwAddr::mac(mac)
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
                    respond(
                        w.stream,
                        &DaemonResponse::error(
                            code::TRY_AGAIN,
                            format!("{key}: no DHCP lease on {} yet", m.record.ifname),
                        ),
                    );
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
            if let Err(e) = self.serve(now, stream) {
                tracing::warn!("request on {}: {e}", self.socket.display());
            }
        }
    }

    fn serve(&mut self, now: Time, stream: UnixStream) -> std::io::Result<()> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.set_write_timeout(Some(Duration::from_secs(2)))?;
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line)?;
        let req: DaemonRequest = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                respond(
                    stream,
                    &DaemonResponse::error(code::INVALID_CONFIG, format!("bad request: {e}")),
                );
                return Ok(());
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
                respond(stream, &r);
            }
            DaemonRequest::Check {
                container_id,
                netns,
                ifname,
            } => {
                let r = self.check(&lease_key(&container_id, &ifname), &netns, &ifname);
                respond(stream, &r);
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
                respond(stream, &DaemonResponse::ok());
            }
            DaemonRequest::Status => respond(stream, &DaemonResponse::ok()),
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
                respond(stream, &r);
            }
        }
        Ok(())
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
            if holds && m.record.netns.as_deref() == Some(netns.as_path()) {
                if let Some(l) = m.record.lease.clone() {
                    respond(stream, &DaemonResponse::with_lease(l));
                    return;
                }
            }
            if self.mgr.get(&key).is_some() && m.record.netns.as_deref() == Some(netns.as_path()) {
                // Still acquiring: this request waits instead of the earlier one.
                if let Some(old) = m.waiter.replace(Waiter { stream, deadline }) {
                    respond(
                        old.stream,
                        &DaemonResponse::error(code::TRY_AGAIN, "superseded by a newer ADD"),
                    );
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
                respond(stream, &DaemonResponse::error(code::IO, e.to_string()));
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
        };
        if let Err(e) = self.store.save(&record) {
            respond(stream, &DaemonResponse::error(code::IO, e.to_string()));
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
        if let Some(mut m) = self.leases.remove(key) {
            if let Some(w) = m.waiter.take() {
                respond(
                    w.stream,
                    &DaemonResponse::error(code::TRY_AGAIN, "deleted while acquiring"),
                );
            }
        }
        match self.store.remove(key) {
            Ok(()) => DaemonResponse::ok(),
            Err(e) => DaemonResponse::error(code::IO, e.to_string()),
        }
    }

    fn check(&self, key: &str, netns: &Path, ifname: &str) -> DaemonResponse {
        let Some(m) = self.leases.get(key) else {
            return DaemonResponse::error(code::INTERNAL, format!("{key}: no lease known"));
        };
        let state = self.mgr.get(key).map(Client::state);
        let Some(lease) = m
            .record
            .lease
            .clone()
            .filter(|_| state.is_some_and(|s| s.holds_lease()))
        else {
            return DaemonResponse::error(
                code::INTERNAL,
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
                code::INTERNAL,
                format!("{key}: leased address {} is not on {ifname}", lease.address),
            ),
            Err(e) => DaemonResponse::error(code::INTERNAL, e.to_string()),
        }
    }
}

struct Readable {
    listener: bool,
    keys: Vec<String>,
}

fn respond(mut stream: UnixStream, r: &DaemonResponse) {
    let mut line = serde_json::to_vec(r).unwrap_or_else(|_| b"{\"ok\":false}".to_vec());
    line.push(b'\n');
    if let Err(e) = stream.write_all(&line) {
        tracing::warn!("answer a request: {e}");
    }
}

/// The lease of `key` as this daemon's store holds it (for tools and tests).
pub fn stored_lease(state_dir: &Path, key: &str) -> Result<Option<Lease>, Error> {
    Ok(LeaseStore::open(state_dir)?
        .load(key)?
        .and_then(|r| r.lease))
}
