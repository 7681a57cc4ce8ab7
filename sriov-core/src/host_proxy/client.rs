//! The client: [`ProxyClient`] implements [`NetOps`], [`RdmaOps`] and (for the host namespace)
//! [`Sysfs`] by sending each call to a server; [`ProxySysfs`] is the sysfs of any namespace.
//!
//! Connections are pooled: a call takes an idle connection (or opens one), sends its request,
//! reads the reply and puts the connection back, so any number of threads can share one client.
//! A process that forks never uses its parent's connections (the pool belongs to the process
//! that filled it). A pooled connection the server has closed is replaced once, when the
//! request could not be sent; a request that was sent is never sent again, so a change is
//! never applied twice.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::wire::{Answer, MAX_REPLY_LINE, Reply, Request};
use super::{NamespacedSysfs, ProxyError};
use crate::{
    EntryKind, IpPrefix, LinkInfo, LinkState, MacAddress, NetOps, Netns, RdmaNetnsMode, RdmaOps,
    Route, Sysfs, TxRate, VfInfo, VlanConfig,
};

/// How long a call waits for its reply before failing with [`ProxyError::Receive`].
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// A connection and its read buffer.
struct Connection {
    reader: BufReader<UnixStream>,
}

/// Idle connections of one process.
struct Pool {
    pid: u32,
    idle: Vec<Connection>,
}

struct ClientShared {
    socket: PathBuf,
    timeout: Duration,
    pool: Mutex<Pool>,
}

/// A host-trait backend whose every call is answered by a server on a unix socket (see the
/// module docs of [`super`]). Cheap to clone: clones share the connection pool.
///
/// ```no_run
/// use sriov_core::host_proxy::ProxyClient;
/// use sriov_core::{NetOps, Netns, Sysfs};
/// let host = ProxyClient::new("/tmp/sim/run/sysfs-sim/host.sock");
/// host.set_link_up(&Netns::Host, "ens2f0v3", true)?;
/// let pod = host.sysfs_of(&Netns::named("pod1"));
/// let names = pod.read_dir("/sys/class/net".as_ref())?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct ProxyClient {
    shared: Arc<ClientShared>,
}

impl std::fmt::Debug for ProxyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyClient")
            .field("socket", &self.shared.socket)
            .finish_non_exhaustive()
    }
}

impl ProxyClient {
    /// A client of the server listening at `socket` (nothing is connected until the first
    /// call).
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Self::with_timeout(socket, DEFAULT_REPLY_TIMEOUT)
    }

    /// A client whose calls wait at most `timeout` for a reply.
    pub fn with_timeout(socket: impl Into<PathBuf>, timeout: Duration) -> Self {
        ProxyClient {
            shared: Arc::new(ClientShared {
                socket: socket.into(),
                timeout,
                pool: Mutex::new(Pool {
                    pid: std::process::id(),
                    idle: Vec::new(),
                }),
            }),
        }
    }

    /// The server's socket.
    pub fn socket(&self) -> &Path {
        &self.shared.socket
    }

    /// The sysfs a process in namespace `ns` sees on the proxied host.
    pub fn sysfs_of(&self, ns: &Netns) -> ProxySysfs {
        ProxySysfs {
            client: self.clone(),
            ns: portable(ns),
        }
    }

    fn pool(&self) -> MutexGuard<'_, Pool> {
        let mut pool = self
            .shared
            .pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let pid = std::process::id();
        if pool.pid != pid {
            // a forked child: its parent's connections are not its own
            pool.idle.clear();
            pool.pid = pid;
        }
        pool
    }

    fn connect(&self) -> Result<Connection, ProxyError> {
        let socket = &self.shared.socket;
        let connect_err = |source| ProxyError::Connect {
            socket: socket.clone(),
            source,
        };
        let stream = UnixStream::connect(socket).map_err(connect_err)?;
        stream
            .set_read_timeout(Some(self.shared.timeout))
            .map_err(connect_err)?;
        Ok(Connection {
            reader: BufReader::new(stream),
        })
    }

    /// Sends `request` and returns the server's answer, or the backend's error as the
    /// `io::Error` it was.
    pub fn call(&self, request: &Request) -> io::Result<Answer> {
        let op = request.op_name();
        let line = request.emit_line().map_err(ProxyError::into_io)?;
        let pooled = self.pool().idle.pop();
        let socket = &self.shared.socket;
        let send_err = |source| ProxyError::Send {
            socket: socket.clone(),
            op,
            source,
        };
        let mut conn = match pooled {
            Some(mut conn) => match conn.reader.get_mut().write_all(&line) {
                Ok(()) => conn,
                // the server closed this idle connection: the request never left
                Err(_) => {
                    let mut fresh = self.connect().map_err(ProxyError::into_io)?;
                    fresh
                        .reader
                        .get_mut()
                        .write_all(&line)
                        .map_err(|e| send_err(e).into_io())?;
                    fresh
                }
            },
            None => {
                let mut fresh = self.connect().map_err(ProxyError::into_io)?;
                fresh
                    .reader
                    .get_mut()
                    .write_all(&line)
                    .map_err(|e| send_err(e).into_io())?;
                fresh
            }
        };
        let reply = read_reply(&mut conn, socket, op).map_err(ProxyError::into_io)?;
        self.pool().idle.push(conn);
        match reply {
            Reply::Ok(answer) => Ok(answer),
            Reply::Err(err) => Err(err.into_io(op)),
        }
    }

    fn expect<T>(
        &self,
        request: Request,
        pick: impl FnOnce(Answer) -> Result<T, Answer>,
    ) -> io::Result<T> {
        let op = request.op_name();
        let answer = self.call(&request)?;
        pick(answer).map_err(|other| {
            ProxyError::UnexpectedAnswer {
                op,
                answer: other.kind_name(),
            }
            .into_io()
        })
    }

    fn done(&self, request: Request) -> io::Result<()> {
        self.expect(request, |a| match a {
            Answer::Done => Ok(()),
            other => Err(other),
        })
    }

    fn names(&self, request: Request) -> io::Result<Vec<String>> {
        self.expect(request, |a| match a {
            Answer::Names(n) => Ok(n),
            other => Err(other),
        })
    }
}

/// Reads one reply line, at most [`MAX_REPLY_LINE`] bytes.
fn read_reply(conn: &mut Connection, socket: &Path, op: &'static str) -> Result<Reply, ProxyError> {
    let mut line = Vec::new();
    let limit = MAX_REPLY_LINE as u64 + 1;
    let read = (&mut conn.reader)
        .take(limit)
        .read_until(b'\n', &mut line)
        .map_err(|source| ProxyError::Receive {
            socket: socket.to_path_buf(),
            op,
            source,
        })?;
    if read == 0 || line.last() != Some(&b'\n') {
        if line.len() > MAX_REPLY_LINE {
            return Err(ProxyError::ReplyTooLong {
                op,
                limit: MAX_REPLY_LINE,
            });
        }
        return Err(ProxyError::Closed {
            socket: socket.to_path_buf(),
            op,
        });
    }
    Reply::parse_line(&line).map_err(|source| ProxyError::DecodeReply { op, source })
}

/// `ns` as the server must see it: `/proc/self/...` and `/proc/thread-self/...` name this
/// process's namespaces only from inside it, so they become `/proc/<pid>/...`.
fn portable(ns: &Netns) -> Netns {
    let Netns::Path(path) = ns else {
        return Netns::Host;
    };
    let pid = std::process::id();
    if let Ok(rest) = path.strip_prefix("/proc/self") {
        return Netns::Path(Path::new(&format!("/proc/{pid}")).join(rest));
    }
    if let Ok(rest) = path.strip_prefix("/proc/thread-self") {
        let tid = nix::unistd::gettid();
        return Netns::Path(Path::new(&format!("/proc/{pid}/task/{tid}")).join(rest));
    }
    ns.clone()
}

impl NetOps for ProxyClient {
    fn links(&self, ns: &Netns) -> io::Result<Vec<LinkInfo>> {
        self.expect(Request::Links { ns: portable(ns) }, |a| match a {
            Answer::Links(l) => Ok(l),
            other => Err(other),
        })
    }

    fn link(&self, ns: &Netns, name: &str) -> io::Result<LinkInfo> {
        let request = Request::Link {
            ns: portable(ns),
            name: name.to_string(),
        };
        self.expect(request, |a| match a {
            Answer::Link(l) => Ok(l),
            other => Err(other),
        })
    }

    fn rename_link(&self, ns: &Netns, name: &str, new_name: &str) -> io::Result<()> {
        self.done(Request::RenameLink {
            ns: portable(ns),
            name: name.to_string(),
            new_name: new_name.to_string(),
        })
    }

    fn set_link_mac(&self, ns: &Netns, name: &str, mac: MacAddress) -> io::Result<()> {
        self.done(Request::SetLinkMac {
            ns: portable(ns),
            name: name.to_string(),
            mac,
        })
    }

    fn set_link_mtu(&self, ns: &Netns, name: &str, mtu: u32) -> io::Result<()> {
        self.done(Request::SetLinkMtu {
            ns: portable(ns),
            name: name.to_string(),
            mtu,
        })
    }

    fn set_link_up(&self, ns: &Netns, name: &str, up: bool) -> io::Result<()> {
        self.done(Request::SetLinkUp {
            ns: portable(ns),
            name: name.to_string(),
            up,
        })
    }

    fn move_link(&self, ns: &Netns, name: &str, target: &Netns) -> io::Result<()> {
        self.done(Request::MoveLink {
            ns: portable(ns),
            name: name.to_string(),
            target: portable(target),
        })
    }

    fn addresses(&self, ns: &Netns, name: &str) -> io::Result<Vec<IpPrefix>> {
        let request = Request::Addresses {
            ns: portable(ns),
            name: name.to_string(),
        };
        self.expect(request, |a| match a {
            Answer::Addresses(l) => Ok(l),
            other => Err(other),
        })
    }

    fn add_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()> {
        self.done(Request::AddAddress {
            ns: portable(ns),
            name: name.to_string(),
            addr,
        })
    }

    fn del_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()> {
        self.done(Request::DelAddress {
            ns: portable(ns),
            name: name.to_string(),
            addr,
        })
    }

    fn routes(&self, ns: &Netns) -> io::Result<Vec<Route>> {
        self.expect(Request::Routes { ns: portable(ns) }, |a| match a {
            Answer::Routes(r) => Ok(r),
            other => Err(other),
        })
    }

    fn add_route(&self, ns: &Netns, route: &Route) -> io::Result<()> {
        self.done(Request::AddRoute {
            ns: portable(ns),
            route: route.clone(),
        })
    }

    fn vfs(&self, pf: &str) -> io::Result<Vec<VfInfo>> {
        let request = Request::Vfs { pf: pf.to_string() };
        self.expect(request, |a| match a {
            Answer::Vfs(v) => Ok(v),
            other => Err(other),
        })
    }

    fn set_vf_mac(&self, pf: &str, vf: u32, mac: MacAddress) -> io::Result<()> {
        self.done(Request::SetVfMac {
            pf: pf.to_string(),
            vf,
            mac,
        })
    }

    fn set_vf_vlan(&self, pf: &str, vf: u32, vlan: VlanConfig) -> io::Result<()> {
        self.done(Request::SetVfVlan {
            pf: pf.to_string(),
            vf,
            vlan,
        })
    }

    fn set_vf_spoofchk(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
        self.done(Request::SetVfSpoofchk {
            pf: pf.to_string(),
            vf,
            on,
        })
    }

    fn set_vf_trust(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
        self.done(Request::SetVfTrust {
            pf: pf.to_string(),
            vf,
            on,
        })
    }

    fn set_vf_link_state(&self, pf: &str, vf: u32, state: LinkState) -> io::Result<()> {
        self.done(Request::SetVfLinkState {
            pf: pf.to_string(),
            vf,
            state,
        })
    }

    fn set_vf_rate(&self, pf: &str, vf: u32, rate: TxRate) -> io::Result<()> {
        self.done(Request::SetVfRate {
            pf: pf.to_string(),
            vf,
            rate,
        })
    }
}

impl RdmaOps for ProxyClient {
    fn netns_mode(&self) -> io::Result<RdmaNetnsMode> {
        self.expect(Request::RdmaNetnsMode, |a| match a {
            Answer::NetnsMode(m) => Ok(m),
            other => Err(other),
        })
    }

    fn set_netns_mode(&self, mode: RdmaNetnsMode) -> io::Result<()> {
        self.done(Request::SetRdmaNetnsMode { mode })
    }

    fn devices(&self, ns: &Netns) -> io::Result<Vec<String>> {
        self.names(Request::RdmaDevices { ns: portable(ns) })
    }

    fn move_device(&self, from: &Netns, ibdev: &str, to: &Netns) -> io::Result<()> {
        self.done(Request::MoveRdmaDevice {
            from: portable(from),
            ibdev: ibdev.to_string(),
            to: portable(to),
        })
    }

    fn other_namespaces(&self) -> io::Result<Vec<Netns>> {
        // the host's namespace is never among them, so every name is a namespace file
        Ok(self
            .names(Request::OtherNamespaces)?
            .into_iter()
            .map(|path| Netns::Path(path.into()))
            .collect())
    }
}

/// The sysfs of one namespace of a proxied host (see [`ProxyClient::sysfs_of`]).
#[derive(Debug, Clone)]
pub struct ProxySysfs {
    client: ProxyClient,
    ns: Netns,
}

impl ProxySysfs {
    /// Whose view this is.
    pub fn netns(&self) -> &Netns {
        &self.ns
    }
}

impl Sysfs for ProxySysfs {
    fn read(&self, path: &Path) -> io::Result<String> {
        let request = Request::Read {
            ns: self.ns.clone(),
            path: path.to_path_buf(),
        };
        self.client.expect(request, |a| match a {
            Answer::Text(t) => Ok(t),
            other => Err(other),
        })
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        self.client.done(Request::Write {
            ns: self.ns.clone(),
            path: path.to_path_buf(),
            value: value.to_string(),
        })
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        let request = Request::ReadLink {
            ns: self.ns.clone(),
            path: path.to_path_buf(),
        };
        self.client.expect(request, |a| match a {
            Answer::Target(t) => Ok(t),
            other => Err(other),
        })
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        self.client.names(Request::ReadDir {
            ns: self.ns.clone(),
            path: path.to_path_buf(),
        })
    }

    fn entry_kind(&self, path: &Path) -> io::Result<EntryKind> {
        let request = Request::EntryKind {
            ns: self.ns.clone(),
            path: path.to_path_buf(),
        };
        self.client.expect(request, |a| match a {
            Answer::Kind(k) => Ok(k),
            other => Err(other),
        })
    }
}

/// The host namespace's sysfs.
impl Sysfs for ProxyClient {
    fn read(&self, path: &Path) -> io::Result<String> {
        self.sysfs_of(&Netns::Host).read(path)
    }
    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        self.sysfs_of(&Netns::Host).write(path, value)
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.sysfs_of(&Netns::Host).read_link(path)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        self.sysfs_of(&Netns::Host).read_dir(path)
    }
    fn entry_kind(&self, path: &Path) -> io::Result<EntryKind> {
        self.sysfs_of(&Netns::Host).entry_kind(path)
    }
}

impl NamespacedSysfs for ProxyClient {
    fn sysfs_for(&self, ns: &Netns) -> io::Result<Box<dyn Sysfs>> {
        Ok(Box::new(self.sysfs_of(ns)))
    }
}
