//! The server: answers [`Request`]s from any host backend. [`answer`] is one call, with no I/O;
//! [`ProxyServer`] accepts connections on a unix listener and serves each on a thread of its
//! own, one request line at a time, until it is stopped.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use super::NamespacedSysfs;
use super::wire::{Answer, MAX_REQUEST_LINE, Reply, Request, WireError, WireErrorKind};
use crate::{NetOps, RdmaOps};

/// Everything a server needs of the host it serves: its netlink, its RDMA netlink, and the
/// sysfs of each of its namespaces.
pub trait ProxiedHost: NetOps + RdmaOps + NamespacedSysfs {}

impl<T: NetOps + RdmaOps + NamespacedSysfs + ?Sized> ProxiedHost for T {}

/// Runs one request on `host` and returns its reply (the backend's error with its errno).
///
/// ```
/// use sriov_core::host_proxy::{answer, Answer, NamespacedSysfs, Reply, Request};
/// # use sriov_core::*;
/// # use std::{io, path::{Path, PathBuf}};
/// # struct Nothing;
/// # fn enodev<T>() -> io::Result<T> { Err(io::Error::from_raw_os_error(libc::ENODEV)) }
/// # impl NetOps for Nothing {
/// #     fn links(&self, _: &Netns) -> io::Result<Vec<LinkInfo>> { Ok(vec![]) }
/// #     fn rename_link(&self, _: &Netns, _: &str, _: &str) -> io::Result<()> { enodev() }
/// #     fn set_link_mac(&self, _: &Netns, _: &str, _: MacAddress) -> io::Result<()> { enodev() }
/// #     fn set_link_mtu(&self, _: &Netns, _: &str, _: u32) -> io::Result<()> { enodev() }
/// #     fn set_link_up(&self, _: &Netns, _: &str, _: bool) -> io::Result<()> { enodev() }
/// #     fn move_link(&self, _: &Netns, _: &str, _: &Netns) -> io::Result<()> { enodev() }
/// #     fn addresses(&self, _: &Netns, _: &str) -> io::Result<Vec<IpPrefix>> { enodev() }
/// #     fn add_address(&self, _: &Netns, _: &str, _: IpPrefix) -> io::Result<()> { enodev() }
/// #     fn del_address(&self, _: &Netns, _: &str, _: IpPrefix) -> io::Result<()> { enodev() }
/// #     fn routes(&self, _: &Netns) -> io::Result<Vec<Route>> { Ok(vec![]) }
/// #     fn add_route(&self, _: &Netns, _: &Route) -> io::Result<()> { enodev() }
/// #     fn vfs(&self, _: &str) -> io::Result<Vec<VfInfo>> { enodev() }
/// #     fn set_vf_mac(&self, _: &str, _: u32, _: MacAddress) -> io::Result<()> { enodev() }
/// #     fn set_vf_vlan(&self, _: &str, _: u32, _: VlanConfig) -> io::Result<()> { enodev() }
/// #     fn set_vf_spoofchk(&self, _: &str, _: u32, _: bool) -> io::Result<()> { enodev() }
/// #     fn set_vf_trust(&self, _: &str, _: u32, _: bool) -> io::Result<()> { enodev() }
/// #     fn set_vf_link_state(&self, _: &str, _: u32, _: LinkState) -> io::Result<()> { enodev() }
/// #     fn set_vf_rate(&self, _: &str, _: u32, _: TxRate) -> io::Result<()> { enodev() }
/// # }
/// # impl RdmaOps for Nothing {
/// #     fn netns_mode(&self) -> io::Result<RdmaNetnsMode> { Ok(RdmaNetnsMode::Shared) }
/// #     fn set_netns_mode(&self, _: RdmaNetnsMode) -> io::Result<()> { Ok(()) }
/// #     fn devices(&self, _: &Netns) -> io::Result<Vec<String>> { Ok(vec![]) }
/// #     fn move_device(&self, _: &Netns, _: &str, _: &Netns) -> io::Result<()> { enodev() }
/// # }
/// # impl NamespacedSysfs for Nothing {
/// #     fn sysfs_for(&self, _: &Netns) -> io::Result<Box<dyn Sysfs>> { Ok(Box::new(FsSysfs::new("/nonexistent"))) }
/// # }
/// // `Nothing` is a host with no links that answers ENODEV to every change
/// let reply = answer(&Nothing, Request::SetVfTrust { pf: "ens2f0".into(), vf: 3, on: true });
/// let Reply::Err(err) = reply else { panic!() };
/// assert_eq!(err.errno, Some(libc::ENODEV));
/// assert_eq!(answer(&Nothing, Request::Links { ns: Netns::Host }), Reply::Ok(Answer::Links(vec![])));
/// ```
pub fn answer<H: ProxiedHost + ?Sized>(host: &H, request: Request) -> Reply {
    Reply::from_result(run(host, request))
}

fn run<H: ProxiedHost + ?Sized>(host: &H, request: Request) -> io::Result<Answer> {
    let done = |r: io::Result<()>| r.map(|()| Answer::Done);
    match request {
        Request::Links { ns } => host.links(&ns).map(Answer::Links),
        Request::Link { ns, name } => host.link(&ns, &name).map(Answer::Link),
        Request::RenameLink { ns, name, new_name } => done(host.rename_link(&ns, &name, &new_name)),
        Request::SetLinkMac { ns, name, mac } => done(host.set_link_mac(&ns, &name, mac)),
        Request::SetLinkMtu { ns, name, mtu } => done(host.set_link_mtu(&ns, &name, mtu)),
        Request::SetLinkUp { ns, name, up } => done(host.set_link_up(&ns, &name, up)),
        Request::MoveLink { ns, name, target } => done(host.move_link(&ns, &name, &target)),
        Request::Addresses { ns, name } => host.addresses(&ns, &name).map(Answer::Addresses),
        Request::AddAddress { ns, name, addr } => done(host.add_address(&ns, &name, addr)),
        Request::DelAddress { ns, name, addr } => done(host.del_address(&ns, &name, addr)),
        Request::Routes { ns } => host.routes(&ns).map(Answer::Routes),
        Request::AddRoute { ns, route } => done(host.add_route(&ns, &route)),
        Request::Vfs { pf } => host.vfs(&pf).map(Answer::Vfs),
        Request::SetVfMac { pf, vf, mac } => done(host.set_vf_mac(&pf, vf, mac)),
        Request::SetVfVlan { pf, vf, vlan } => done(host.set_vf_vlan(&pf, vf, vlan)),
        Request::SetVfSpoofchk { pf, vf, on } => done(host.set_vf_spoofchk(&pf, vf, on)),
        Request::SetVfTrust { pf, vf, on } => done(host.set_vf_trust(&pf, vf, on)),
        Request::SetVfLinkState { pf, vf, state } => done(host.set_vf_link_state(&pf, vf, state)),
        Request::SetVfRate { pf, vf, rate } => done(host.set_vf_rate(&pf, vf, rate)),
        Request::RdmaNetnsMode => host.netns_mode().map(Answer::NetnsMode),
        Request::SetRdmaNetnsMode { mode } => done(host.set_netns_mode(mode)),
        Request::RdmaDevices { ns } => host.devices(&ns).map(Answer::Names),
        Request::MoveRdmaDevice { from, ibdev, to } => done(host.move_device(&from, &ibdev, &to)),
        Request::OtherNamespaces => host
            .other_namespaces()
            .map(|namespaces| Answer::Names(namespaces.iter().map(ToString::to_string).collect())),
        Request::Read { ns, path } => host.sysfs_for(&ns)?.read(&path).map(Answer::Text),
        Request::Write { ns, path, value } => done(host.sysfs_for(&ns)?.write(&path, &value)),
        Request::ReadLink { ns, path } => host.sysfs_for(&ns)?.read_link(&path).map(Answer::Target),
        Request::ReadDir { ns, path } => host.sysfs_for(&ns)?.read_dir(&path).map(Answer::Names),
        Request::EntryKind { ns, path } => host.sysfs_for(&ns)?.entry_kind(&path).map(Answer::Kind),
    }
}

/// The reply to a line that is not a request: no errno (nothing reached the host), the
/// decoder's message.
fn bad_request(err: &super::ProxyError) -> Reply {
    Reply::Err(WireError {
        errno: None,
        kind: WireErrorKind::InvalidInput,
        message: err.to_string(),
    })
}

/// Serves one connection until the client closes it or sends a line that is too long.
/// Malformed lines are answered with an error and the connection goes on.
pub fn serve_connection<H: ProxiedHost + ?Sized>(host: &H, stream: UnixStream) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_REQUEST_LINE as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok(());
        }
        if line.last() != Some(&b'\n') && line.len() <= MAX_REQUEST_LINE {
            // the client closed the connection in the middle of a line
            return Ok(());
        }
        let reply = match Request::parse_line(&line) {
            Ok(request) => answer(host, request),
            Err(e) => {
                let reply = bad_request(&e);
                if matches!(e, super::ProxyError::RequestTooLong { .. }) {
                    writer.write_all(&reply.emit_line().map_err(super::ProxyError::into_io)?)?;
                    return Ok(());
                }
                reply
            }
        };
        let bytes = match reply.emit_line() {
            Ok(bytes) => bytes,
            Err(e) => bad_request(&e)
                .emit_line()
                .map_err(super::ProxyError::into_io)?,
        };
        writer.write_all(&bytes)?;
    }
}

/// A running server: an accept loop on a thread of its own, a thread per connection.
#[derive(Debug)]
pub struct ProxyServer {
    stop: Arc<AtomicBool>,
    listener: UnixListener,
    accept: Option<JoinHandle<()>>,
}

impl ProxyServer {
    /// Starts serving `host` on `listener`.
    ///
    /// ```no_run
    /// # fn host() -> std::sync::Arc<sriov_core::host_proxy::ProxyClient> { unimplemented!() }
    /// use sriov_core::host_proxy::ProxyServer;
    /// let listener = std::os::unix::net::UnixListener::bind("/tmp/host.sock")?;
    /// let server = ProxyServer::spawn(listener, host())?;
    /// // ... clients call ProxyClient::new("/tmp/host.sock")
    /// server.stop();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<H: ProxiedHost + 'static>(
        listener: UnixListener,
        host: Arc<H>,
    ) -> io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let accept_on = listener.try_clone()?;
        let stopping = stop.clone();
        let accept = std::thread::Builder::new()
            .name("host-proxy-accept".into())
            .spawn(move || accept_loop(&accept_on, &host, &stopping))?;
        Ok(ProxyServer {
            stop,
            listener,
            accept: Some(accept),
        })
    }

    /// Stops accepting connections and waits for the accept loop to end (connections being
    /// served finish their current request and end when their client closes them).
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // wakes the blocked accept(2) with EINVAL
        let _ =
            nix::sys::socket::shutdown(self.listener.as_raw_fd(), nix::sys::socket::Shutdown::Both);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

fn accept_loop<H: ProxiedHost + 'static>(
    listener: &UnixListener,
    host: &Arc<H>,
    stop: &AtomicBool,
) {
    loop {
        let accepted = listener.accept();
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match accepted {
            Ok((stream, _)) => {
                let host = host.clone();
                let spawned = std::thread::Builder::new()
                    .name("host-proxy-conn".into())
                    .spawn(move || {
                        if let Err(e) = serve_connection(&*host, stream) {
                            tracing::debug!("host proxy connection ended: {e}");
                        }
                    });
                if let Err(e) = spawned {
                    tracing::warn!("host proxy: cannot start a connection thread: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::warn!("host proxy: accept: {e}");
                // a persistent accept error (EMFILE) must not spin
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
}
