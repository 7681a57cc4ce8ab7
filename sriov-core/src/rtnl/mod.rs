//! The real [`NetOps`] backend: rtnetlink, with namespaces entered by file descriptor.
//!
//! [`RtnlNetOps`] speaks `NETLINK_ROUTE` through `netlink-sys`, with messages from
//! `netlink-packet-route`. It is built in two layers, as rust-netlink builds its crates:
//! - pure message building and parsing, public so they can be tested, fuzzed and reused without
//!   a socket or SR-IOV hardware: [`link`], [`vf`] (the PF's VF table), [`addr`], [`route`], and
//!   the framing in [`wire`];
//! - the I/O: a socket per operation, opened on a thread of its own that entered the target
//!   namespace with `setns(2)` on an open namespace file (the calling thread never changes
//!   namespace). When the caller already is in that namespace, the work runs on the caller.
//!
//! [`Netns::Host`] is the namespace the process was in when the backend was made
//! (`/proc/self/ns/net`, opened then); [`Netns::Path`] is a namespace file, opened for each
//! operation. Links move with `IFLA_NET_NS_FD`. The VF table is read from `IFLA_VFINFO_LIST` and
//! written with `IFLA_VF_MAC`, `IFLA_VF_VLAN_LIST` (VLAN, QoS and protocol), `IFLA_VF_SPOOFCHK`,
//! `IFLA_VF_TRUST`, `IFLA_VF_LINK_STATE` and `IFLA_VF_RATE`.
//!
//! Errors are the kernel's: an `io::Error` whose `raw_os_error()` is the errno the kernel
//! answered (`EEXIST`, `ENODEV`, `EOPNOTSUPP`...). A namespace file that does not exist is
//! `ENOENT`. A few requests are refused before reaching the kernel, with the errno `ip` would
//! give, because netlink cannot say them: an empty new name or one with a NUL byte (`EINVAL`:
//! the kernel reads an empty `IFLA_IFNAME` as "no rename"), a route whose destination and gateway
//! families differ (`EINVAL`). Looking a link up by a name no link can have (empty, longer than
//! 15 bytes) is `ENODEV`. Replies this backend cannot decode are `InvalidData` errors wrapping
//! an [`RtnlError`].
//!
//! ```no_run
//! use sriov_core::rtnl::RtnlNetOps;
//! use sriov_core::{NetOps, Netns};
//!
//! let net = RtnlNetOps::new()?;
//! for link in net.links(&Netns::Host)? {
//!     println!("{} {} mtu {} up {}", link.index, link.name, link.mtu, link.oper_up);
//! }
//! let pod = Netns::named("pod1");
//! net.set_link_up(&Netns::Host, "ens2f0v3", false)?;
//! net.move_link(&Netns::Host, "ens2f0v3", &pod)?;
//! net.rename_link(&pod, "ens2f0v3", "net1")?;
//! net.set_link_up(&pod, "net1", true)?;
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod addr;
mod conn;
pub mod create;
mod error;
pub mod link;
mod netns;
pub mod route;
pub mod vf;
pub mod wire;

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;

use self::conn::Conn;
pub use self::error::RtnlError;
use self::error::errno;
use self::link::LinkChange;
use self::vf::VfChange;
use crate::{
    IpPrefix, LinkInfo, LinkState, MacAddress, NetOps, Netns, Route, TxRate, VfInfo, VlanConfig,
};

/// Longest interface name (`IFNAMSIZ - 1`).
const IFNAME_MAX: usize = 15;

/// [`NetOps`] over rtnetlink. Cheap to share: it holds one open file, the host's namespace.
#[derive(Debug)]
pub struct RtnlNetOps {
    host: OwnedFd,
}

/// A namespace file, either the host's (kept open) or one opened for an operation.
enum NsFile<'a> {
    Host(BorrowedFd<'a>),
    Opened(OwnedFd),
}

impl NsFile<'_> {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            NsFile::Host(fd) => *fd,
            NsFile::Opened(fd) => fd.as_fd(),
        }
    }
}

/// True when the calling thread already is in the namespace `fd` refers to (same nsfs inode).
fn caller_is_in(fd: BorrowedFd<'_>) -> bool {
    use nix::sys::stat::{fstat, stat};
    match (fstat(fd), stat("/proc/thread-self/ns/net")) {
        (Ok(target), Ok(own)) => own.st_dev == target.st_dev && own.st_ino == target.st_ino,
        _ => false,
    }
}

impl RtnlNetOps {
    /// A backend whose host namespace is the one this process is in now.
    pub fn new() -> io::Result<Self> {
        Self::with_host_netns(Path::new("/proc/self/ns/net"))
    }

    /// A backend whose [`Netns::Host`] is the namespace file `path` (tests use a namespace of
    /// their own as the "host", so that VF-table calls never touch the machine's links).
    pub fn with_host_netns(path: &Path) -> io::Result<Self> {
        Ok(RtnlNetOps {
            host: File::open(path)?.into(),
        })
    }

    fn open(&self, ns: &Netns) -> io::Result<NsFile<'_>> {
        Ok(match ns {
            Netns::Host => NsFile::Host(self.host.as_fd()),
            Netns::Path(path) => NsFile::Opened(File::open(path)?.into()),
        })
    }

    /// Runs `work` with a socket in `ns`.
    fn run<T: Send>(
        &self,
        ns: &Netns,
        work: impl FnOnce(&mut Conn) -> io::Result<T> + Send,
    ) -> io::Result<T> {
        let file = self.open(ns)?;
        if caller_is_in(file.fd()) {
            return work(&mut Conn::open()?);
        }
        netns::run_in(file.fd(), work)
    }

    /// Applies `change` to the link called `name` in `ns`.
    fn set(&self, ns: &Netns, name: &str, change: LinkChange) -> io::Result<()> {
        self.run(ns, |c| {
            let index = index_of(c, name)?;
            c.request(link::set(index, &change), 0, "RTM_SETLINK")
                .map(drop)
        })
    }

    fn set_vf(&self, pf: &str, vf: u32, change: VfChange) -> io::Result<()> {
        self.set(&Netns::Host, pf, LinkChange::Vf(vf::change(vf, change)))
    }

    /// Creates a veth pair (not a [`NetOps`] call: plugins never make links): `name` in `ns`
    /// with MAC `mac` (a random one when `None`), its peer `peer` in `peer_ns`, both down.
    /// EEXIST when a name is taken.
    pub fn add_veth(
        &self,
        ns: &Netns,
        name: &str,
        mac: Option<MacAddress>,
        peer_ns: &Netns,
        peer: &str,
    ) -> io::Result<()> {
        let peer_file = self.open(peer_ns)?;
        let msg = create::veth(name, mac, peer, peer_file.fd().as_raw_fd());
        self.run(ns, move |c| {
            c.request(msg, NLM_F_CREATE | NLM_F_EXCL, "RTM_NEWLINK veth")
                .map(drop)
        })
    }

    /// Creates a bridge `name` in `ns`, down (EEXIST when the name is taken).
    pub fn add_bridge(&self, ns: &Netns, name: &str) -> io::Result<()> {
        let msg = create::bridge(name);
        self.run(ns, move |c| {
            c.request(msg, NLM_F_CREATE | NLM_F_EXCL, "RTM_NEWLINK bridge")
                .map(drop)
        })
    }

    /// Makes link `name` a port of bridge `bridge` in `ns` (`ip link set <name> master
    /// <bridge>`); ENODEV when either is missing.
    pub fn set_bridge(&self, ns: &Netns, name: &str, bridge: &str) -> io::Result<()> {
        self.run(ns, |c| {
            let index = index_of(c, name)?;
            let controller = index_of(c, bridge)?;
            c.request(
                create::set_controller(index, controller),
                0,
                "RTM_SETLINK master",
            )
            .map(drop)
        })
    }

    /// Deletes link `name` in `ns` (a veth end takes its peer with it); ENODEV when missing.
    pub fn del_link(&self, ns: &Netns, name: &str) -> io::Result<()> {
        self.run(ns, |c| {
            let index = index_of(c, name)?;
            c.request(create::delete(index), 0, "RTM_DELLINK").map(drop)
        })
    }
}

/// True for a name some link could have (what `RTM_GETLINK` by name can find).
fn could_be_ifname(name: &str) -> bool {
    !name.is_empty() && name.len() <= IFNAME_MAX && !name.contains('\0')
}

/// The link called `name`, with its VF table when `vf_table`.
fn get_link(
    c: &mut Conn,
    name: &str,
    vf_table: bool,
) -> io::Result<netlink_packet_route::link::LinkMessage> {
    if !could_be_ifname(name) {
        return Err(errno(libc::ENODEV));
    }
    c.request(link::get_by_name(name, vf_table), 0, "RTM_GETLINK")?
        .into_iter()
        .find_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) => Some(l),
            _ => None,
        })
        .ok_or_else(|| errno(libc::ENODEV))
}

fn index_of(c: &mut Conn, name: &str) -> io::Result<u32> {
    get_link(c, name, false).map(|l| l.header.index)
}

fn all_links(c: &mut Conn) -> io::Result<Vec<LinkInfo>> {
    Ok(c.dump(link::dump(), "RTM_GETLINK dump")?
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) => Some(link::parse(l)),
            _ => None,
        })
        .collect())
}

impl NetOps for RtnlNetOps {
    fn links(&self, ns: &Netns) -> io::Result<Vec<LinkInfo>> {
        self.run(ns, all_links)
    }

    fn link(&self, ns: &Netns, name: &str) -> io::Result<LinkInfo> {
        self.run(ns, |c| get_link(c, name, false).map(|l| link::parse(&l)))
    }

    fn rename_link(&self, ns: &Netns, name: &str, new_name: &str) -> io::Result<()> {
        if new_name.is_empty() || new_name.contains('\0') {
            return Err(errno(libc::EINVAL));
        }
        self.set(ns, name, LinkChange::Rename(new_name.to_string()))
    }

    fn set_link_mac(&self, ns: &Netns, name: &str, mac: MacAddress) -> io::Result<()> {
        self.set(ns, name, LinkChange::Mac(mac))
    }

    fn set_link_mtu(&self, ns: &Netns, name: &str, mtu: u32) -> io::Result<()> {
        self.set(ns, name, LinkChange::Mtu(mtu))
    }

    fn set_link_up(&self, ns: &Netns, name: &str, up: bool) -> io::Result<()> {
        self.set(ns, name, LinkChange::Up(up))
    }

    fn move_link(&self, ns: &Netns, name: &str, target: &Netns) -> io::Result<()> {
        let source = self.open(ns)?;
        let to = self.open(target)?;
        let change = LinkChange::NetnsFd(to.fd().as_raw_fd());
        let work = |c: &mut Conn| {
            let index = index_of(c, name)?;
            c.request(link::set(index, &change), 0, "RTM_SETLINK netns")
                .map(drop)
        };
        if caller_is_in(source.fd()) {
            return work(&mut Conn::open()?);
        }
        netns::run_in(source.fd(), work)
    }

    fn addresses(&self, ns: &Netns, name: &str) -> io::Result<Vec<IpPrefix>> {
        self.run(ns, |c| {
            let index = index_of(c, name)?;
            Ok(c.dump(addr::dump(), "RTM_GETADDR dump")?
                .iter()
                .filter_map(|m| match m {
                    RouteNetlinkMessage::NewAddress(a) => addr::parse(a),
                    _ => None,
                })
                .filter(|(i, _)| *i == index)
                .map(|(_, p)| p)
                .collect())
        })
    }

    fn add_address(&self, ns: &Netns, name: &str, prefix: IpPrefix) -> io::Result<()> {
        self.run(ns, |c| {
            let index = index_of(c, name)?;
            c.request(
                addr::add(index, prefix),
                NLM_F_CREATE | NLM_F_EXCL,
                "RTM_NEWADDR",
            )
            .map(drop)
        })
    }

    fn del_address(&self, ns: &Netns, name: &str, prefix: IpPrefix) -> io::Result<()> {
        self.run(ns, |c| {
            let index = index_of(c, name)?;
            c.request(addr::del(index, prefix), 0, "RTM_DELADDR")
                .map(drop)
        })
    }

    fn routes(&self, ns: &Netns) -> io::Result<Vec<Route>> {
        self.run(ns, |c| {
            let links = all_links(c)?;
            let routes = c.dump(route::dump(), "RTM_GETROUTE dump")?;
            Ok(routes
                .iter()
                .filter_map(|m| match m {
                    RouteNetlinkMessage::NewRoute(r) => route::parse(r),
                    _ => None,
                })
                .filter_map(|r| {
                    let dev = links.iter().find(|l| l.index == r.oif)?.name.clone();
                    Some(Route {
                        dst: r.dst,
                        gateway: r.gateway,
                        dev,
                    })
                })
                .collect())
        })
    }

    fn add_route(&self, ns: &Netns, r: &Route) -> io::Result<()> {
        self.run(ns, |c| {
            let index = index_of(c, &r.dev)?;
            let msg = route::add(r, index).ok_or_else(|| errno(libc::EINVAL))?;
            c.request(msg, NLM_F_CREATE | NLM_F_EXCL, "RTM_NEWROUTE")
                .map(drop)
        })
    }

    fn vfs(&self, pf: &str) -> io::Result<Vec<VfInfo>> {
        self.run(&Netns::Host, |c| {
            let msg = get_link(c, pf, true)?;
            Ok(vf::parse_table(&msg.attributes)?)
        })
    }

    fn set_vf_mac(&self, pf: &str, vf: u32, mac: MacAddress) -> io::Result<()> {
        self.set_vf(pf, vf, VfChange::Mac(mac))
    }

    fn set_vf_vlan(&self, pf: &str, vf: u32, vlan: VlanConfig) -> io::Result<()> {
        self.set_vf(pf, vf, VfChange::Vlan(vlan))
    }

    fn set_vf_spoofchk(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
        self.set_vf(pf, vf, VfChange::SpoofCheck(on))
    }

    fn set_vf_trust(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
        self.set_vf(pf, vf, VfChange::Trust(on))
    }

    fn set_vf_link_state(&self, pf: &str, vf: u32, state: LinkState) -> io::Result<()> {
        self.set_vf(pf, vf, VfChange::LinkState(state))
    }

    fn set_vf_rate(&self, pf: &str, vf: u32, rate: TxRate) -> io::Result<()> {
        self.set_vf(pf, vf, VfChange::Rate(rate))
    }
}
