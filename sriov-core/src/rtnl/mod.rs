//! The real [`NetOps`] backend: rtnetlink through the `rtnl-ns` crate, with namespaces entered
//! by file descriptor (cargo feature `netlink`, on by default).
//!
//! [`RtnlNetOps`] maps each `NetOps` call onto an [`rtnl_ns::Handle`] opened inside the target
//! namespace by [`rtnl_ns::NetnsFile::run_rtnl`]: on a thread of its own that entered the
//! namespace with `setns(2)` on an open namespace file (the calling thread never changes
//! namespace), or on the caller when it already is in that namespace. What is SR-IOV's lives
//! here: [`vf`] builds the PF's VF-table changes and decodes its table into [`VfInfo`]s.
//!
//! [`Netns::Host`] is the namespace the process was in when the backend was made
//! (`/proc/self/ns/net`, opened then); [`Netns::Path`] is a namespace file, opened for each
//! operation. Links move with `IFLA_NET_NS_FD`. The VF table is read from `IFLA_VFINFO_LIST` and
//! written with `IFLA_VF_MAC`, `IFLA_VF_VLAN_LIST` (VLAN, QoS and protocol), `IFLA_VF_SPOOFCHK`,
//! `IFLA_VF_TRUST`, `IFLA_VF_LINK_STATE` and `IFLA_VF_RATE`. Routes are added with protocol
//! `boot`, as `ip route add` adds them.
//!
//! Errors are the kernel's: an `io::Error` whose `raw_os_error()` is the errno the kernel
//! answered (`EEXIST`, `ENODEV`, `EOPNOTSUPP`...). A namespace file that does not exist is
//! `ENOENT`. A few requests are refused before reaching the kernel, with the errno `ip` would
//! give, because netlink cannot say them: an empty new name or one with a NUL byte (`EINVAL`:
//! the kernel reads an empty `IFLA_IFNAME` as "no rename"), a route whose destination and gateway
//! families differ (`EINVAL`). Looking a link up by a name no link can have (empty, longer than
//! 15 bytes) is `ENODEV`. Replies that cannot be decoded are `InvalidData` errors wrapping the
//! [`rtnl_ns::Error`] (or, for a VF table entry no [`VfState`](crate::VfState) can hold, the
//! [`Error::VfTableEntry`](crate::Error::VfTableEntry)).
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

pub mod vf;

use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use rtnl_ns::link::{AdminState, LinkDetail, LinkSet};
use rtnl_ns::netlink_packet_route::route::RouteProtocol;
use rtnl_ns::{Handle, NetnsFile, Prefix};

use self::vf::VfChange;
use crate::{
    IpPrefix, LinkInfo, LinkState, MacAddress, NetOps, Netns, Route, TxRate, VfInfo, VlanConfig,
};

/// [`NetOps`] over rtnetlink. Cheap to share: it holds one open file, the host's namespace.
#[derive(Debug)]
pub struct RtnlNetOps {
    host: NetnsFile,
}

impl RtnlNetOps {
    /// A backend whose host namespace is the one this process is in now.
    pub fn new() -> io::Result<Self> {
        Ok(RtnlNetOps {
            host: NetnsFile::own()?,
        })
    }

    /// A backend whose [`Netns::Host`] is the namespace file `path` (tests use a namespace of
    /// their own as the "host", so that VF-table calls never touch the machine's links).
    pub fn with_host_netns(path: &Path) -> io::Result<Self> {
        Ok(RtnlNetOps {
            host: NetnsFile::open(path)?,
        })
    }

    /// Calls `f` with the namespace file of `ns`: the host's (kept open) or one opened now.
    fn with_ns<T>(&self, ns: &Netns, f: impl FnOnce(&NetnsFile) -> io::Result<T>) -> io::Result<T> {
        match ns {
            Netns::Host => f(&self.host),
            Netns::Path(path) => f(&NetnsFile::open(path)?),
        }
    }

    /// Runs `work` with an rtnetlink handle in `ns`.
    fn run<T: Send>(
        &self,
        ns: &Netns,
        work: impl FnOnce(&mut Handle) -> Result<T, rtnl_ns::Error> + Send,
    ) -> io::Result<T> {
        self.with_ns(ns, |file| Ok(file.run_rtnl(work)?))
    }

    /// Applies `change` to the link called `name` in `ns`.
    fn set(&self, ns: &Netns, name: &str, change: LinkSet) -> io::Result<()> {
        self.run(ns, |h| {
            let index = h.link_by_name(name)?.index;
            h.set_link(index, &change)
        })
    }

    fn set_vf(&self, pf: &str, vf: u32, change: VfChange) -> io::Result<()> {
        let change = LinkSet {
            extra: vec![vf::change(vf, change)],
            ..LinkSet::default()
        };
        self.set(&Netns::Host, pf, change)
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
        self.with_ns(peer_ns, |peer_file| {
            let peer_fd = std::os::fd::AsFd::as_fd(peer_file);
            self.run(ns, move |h| {
                h.add_veth(name, mac.map(|m| m.0), peer, peer_fd)
            })
        })
    }

    /// Creates a bridge `name` in `ns`, down (EEXIST when the name is taken).
    pub fn add_bridge(&self, ns: &Netns, name: &str) -> io::Result<()> {
        self.run(ns, |h| h.add_bridge(name))
    }

    /// Makes link `name` a port of bridge `bridge` in `ns` (`ip link set <name> master
    /// <bridge>`); ENODEV when either is missing.
    pub fn set_bridge(&self, ns: &Netns, name: &str, bridge: &str) -> io::Result<()> {
        self.run(ns, |h| {
            let index = h.link_by_name(name)?.index;
            let controller = h.link_by_name(bridge)?.index;
            h.set_controller(index, controller)
        })
    }

    /// Deletes link `name` in `ns` (a veth end takes its peer with it); ENODEV when missing.
    pub fn del_link(&self, ns: &Netns, name: &str) -> io::Result<()> {
        self.run(ns, |h| {
            let index = h.link_by_name(name)?.index;
            h.delete_link(index)
        })
    }
}

fn link_info(l: rtnl_ns::Link) -> LinkInfo {
    LinkInfo {
        index: l.index,
        name: l.name,
        mac: l.mac.map(MacAddress),
        mtu: l.mtu,
        admin_up: l.admin_up,
        oper_up: l.oper_up,
    }
}

fn prefix(p: IpPrefix) -> Prefix {
    Prefix::new(p.addr, p.prefix_len)
}

fn ip_prefix(p: Prefix) -> IpPrefix {
    IpPrefix {
        addr: p.address,
        prefix_len: p.len,
    }
}

impl NetOps for RtnlNetOps {
    fn links(&self, ns: &Netns) -> io::Result<Vec<LinkInfo>> {
        let links = self.run(ns, Handle::links)?;
        Ok(links.into_iter().map(link_info).collect())
    }

    fn link(&self, ns: &Netns, name: &str) -> io::Result<LinkInfo> {
        self.run(ns, |h| h.link_by_name(name)).map(link_info)
    }

    fn rename_link(&self, ns: &Netns, name: &str, new_name: &str) -> io::Result<()> {
        let change = LinkSet {
            name: Some(new_name.to_string()),
            ..LinkSet::default()
        };
        self.set(ns, name, change)
    }

    fn set_link_mac(&self, ns: &Netns, name: &str, mac: MacAddress) -> io::Result<()> {
        let change = LinkSet {
            mac: Some(mac.octets()),
            ..LinkSet::default()
        };
        self.set(ns, name, change)
    }

    fn set_link_mtu(&self, ns: &Netns, name: &str, mtu: u32) -> io::Result<()> {
        let change = LinkSet {
            mtu: Some(mtu),
            ..LinkSet::default()
        };
        self.set(ns, name, change)
    }

    fn set_link_up(&self, ns: &Netns, name: &str, up: bool) -> io::Result<()> {
        let state = if up { AdminState::Up } else { AdminState::Down };
        let change = LinkSet {
            state: Some(state),
            ..LinkSet::default()
        };
        self.set(ns, name, change)
    }

    fn move_link(&self, ns: &Netns, name: &str, target: &Netns) -> io::Result<()> {
        self.with_ns(target, |to| {
            let change = LinkSet {
                netns_fd: Some(to.as_raw_fd()),
                ..LinkSet::default()
            };
            self.set(ns, name, change)
        })
    }

    fn addresses(&self, ns: &Netns, name: &str) -> io::Result<Vec<IpPrefix>> {
        self.run(ns, |h| {
            let index = h.link_by_name(name)?.index;
            Ok(h.addresses()?
                .into_iter()
                .filter(|a| a.index == index)
                .map(|a| ip_prefix(a.prefix))
                .collect())
        })
    }

    fn add_address(&self, ns: &Netns, name: &str, p: IpPrefix) -> io::Result<()> {
        self.run(ns, |h| {
            let index = h.link_by_name(name)?.index;
            h.add_address(&rtnl_ns::addr::NewAddress::new(index, prefix(p)))
        })
    }

    fn del_address(&self, ns: &Netns, name: &str, p: IpPrefix) -> io::Result<()> {
        self.run(ns, |h| {
            let index = h.link_by_name(name)?.index;
            h.del_address(index, prefix(p))
        })
    }

    fn routes(&self, ns: &Netns) -> io::Result<Vec<Route>> {
        self.run(ns, |h| {
            let links = h.links()?;
            Ok(h.routes()?
                .into_iter()
                .filter_map(|r| {
                    let dev = links.iter().find(|l| l.index == r.oif)?.name.clone();
                    Some(Route {
                        dst: r.dst.map(ip_prefix),
                        gateway: r.gateway,
                        dev,
                    })
                })
                .collect())
        })
    }

    fn add_route(&self, ns: &Netns, r: &Route) -> io::Result<()> {
        self.run(ns, |h| {
            let route = rtnl_ns::Route {
                dst: r.dst.map(prefix),
                gateway: r.gateway,
                oif: h.link_by_name(&r.dev)?.index,
            };
            h.add_route(&route, RouteProtocol::Boot)
        })
    }

    fn vfs(&self, pf: &str) -> io::Result<Vec<VfInfo>> {
        let msg = self.run(&Netns::Host, |h| {
            h.link_message(pf, LinkDetail::WithVfTable)
        })?;
        vf::parse_table(&msg.attributes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
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
