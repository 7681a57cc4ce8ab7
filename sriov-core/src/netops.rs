//! The `NetOps` host trait: links per network namespace and the PF's VF table, the operations
//! `ip link` and `ip addr` perform over rtnetlink. Errors are `std::io::Error` with the kernel's
//! errno (EEXIST on a name clash, ENODEV for a missing link, EBUSY renaming an up link...).

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{LinkState, MacAddress, TxRate, VfState, VlanConfig};

/// A network namespace, named the way `ip netns` and CNI runtimes name them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Netns {
    /// The host's (initial) namespace.
    Host,
    /// A namespace file: `/var/run/netns/<name>`, `/proc/<pid>/ns/net`, a CNI `CNI_NETNS`.
    Path(PathBuf),
}

impl Netns {
    /// The namespace `ip netns add <name>` creates: `/var/run/netns/<name>`.
    pub fn named(name: &str) -> Netns {
        Netns::Path(PathBuf::from("/var/run/netns").join(name))
    }
}

impl fmt::Display for Netns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Netns::Host => f.write_str("host"),
            Netns::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// An address with its prefix length, `192.168.111.10/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IpPrefix {
    /// The address (host bits kept).
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix_len: u8,
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// A route in a namespace's main table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Route {
    /// Destination; `None` is the default route.
    pub dst: Option<IpPrefix>,
    /// Next hop.
    pub gateway: Option<IpAddr>,
    /// Output link.
    pub dev: String,
}

/// What `ip link show` reports of one link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInfo {
    /// Interface index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Hardware address (none for links without one, such as some tunnels).
    pub mac: Option<MacAddress>,
    /// MTU.
    pub mtu: u32,
    /// Administratively up (`IFF_UP`).
    pub admin_up: bool,
    /// Operationally up (carrier and admin up).
    pub oper_up: bool,
}

/// One VF as the PF's VF table reports it (`ip link show <pf>`, `IFLA_VFINFO_LIST`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VfInfo {
    /// VF index.
    pub index: u32,
    /// Its configured state.
    pub state: VfState,
}

/// Link, address and VF-table operations by namespace. See the module docs for errno.
pub trait NetOps: Send + Sync {
    /// Every link in `ns`.
    fn links(&self, ns: &Netns) -> io::Result<Vec<LinkInfo>>;

    /// One link by name (ENODEV when absent).
    fn link(&self, ns: &Netns, name: &str) -> io::Result<LinkInfo> {
        self.links(ns)?
            .into_iter()
            .find(|l| l.name == name)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENODEV))
    }

    /// Renames a link (EEXIST if the name is taken, EBUSY if the link is up).
    fn rename_link(&self, ns: &Netns, name: &str, new_name: &str) -> io::Result<()>;
    /// Sets the link's MAC address.
    fn set_link_mac(&self, ns: &Netns, name: &str, mac: MacAddress) -> io::Result<()>;
    /// Sets the link's MTU.
    fn set_link_mtu(&self, ns: &Netns, name: &str, mtu: u32) -> io::Result<()>;
    /// Brings the link up or down.
    fn set_link_up(&self, ns: &Netns, name: &str, up: bool) -> io::Result<()>;
    /// Moves a link to another namespace (EEXIST if the name is taken there).
    fn move_link(&self, ns: &Netns, name: &str, target: &Netns) -> io::Result<()>;

    /// The addresses on a link.
    fn addresses(&self, ns: &Netns, name: &str) -> io::Result<Vec<IpPrefix>>;
    /// Adds an address to a link (EEXIST if present).
    fn add_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()>;
    /// Removes an address from a link (EADDRNOTAVAIL if absent).
    fn del_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()>;
    /// The main table's routes.
    fn routes(&self, ns: &Netns) -> io::Result<Vec<Route>>;
    /// Adds a route (EEXIST if present).
    fn add_route(&self, ns: &Netns, route: &Route) -> io::Result<()>;

    /// The VF table of the PF netdev `pf` (in the host namespace).
    fn vfs(&self, pf: &str) -> io::Result<Vec<VfInfo>>;
    /// Sets a VF's admin MAC.
    fn set_vf_mac(&self, pf: &str, vf: u32, mac: MacAddress) -> io::Result<()>;
    /// Sets a VF's VLAN, QoS and protocol (VLAN 0 clears).
    fn set_vf_vlan(&self, pf: &str, vf: u32, vlan: VlanConfig) -> io::Result<()>;
    /// Turns spoof checking on or off.
    fn set_vf_spoofchk(&self, pf: &str, vf: u32, on: bool) -> io::Result<()>;
    /// Turns trust on or off.
    fn set_vf_trust(&self, pf: &str, vf: u32, on: bool) -> io::Result<()>;
    /// Sets the link state policy.
    fn set_vf_link_state(&self, pf: &str, vf: u32, state: LinkState) -> io::Result<()>;
    /// Sets transmit rate limits.
    fn set_vf_rate(&self, pf: &str, vf: u32, rate: TxRate) -> io::Result<()>;
}

/// Forwards every call, so `&backend`, `Arc<backend>` and `Box<dyn NetOps>` are backends too.
macro_rules! forward_net_ops {
    ($($ty:ty),+) => {$(
        impl<T: NetOps + ?Sized> NetOps for $ty {
            fn links(&self, ns: &Netns) -> io::Result<Vec<LinkInfo>> {
                (**self).links(ns)
            }
            fn link(&self, ns: &Netns, name: &str) -> io::Result<LinkInfo> {
                (**self).link(ns, name)
            }
            fn rename_link(&self, ns: &Netns, name: &str, new_name: &str) -> io::Result<()> {
                (**self).rename_link(ns, name, new_name)
            }
            fn set_link_mac(&self, ns: &Netns, name: &str, mac: MacAddress) -> io::Result<()> {
                (**self).set_link_mac(ns, name, mac)
            }
            fn set_link_mtu(&self, ns: &Netns, name: &str, mtu: u32) -> io::Result<()> {
                (**self).set_link_mtu(ns, name, mtu)
            }
            fn set_link_up(&self, ns: &Netns, name: &str, up: bool) -> io::Result<()> {
                (**self).set_link_up(ns, name, up)
            }
            fn move_link(&self, ns: &Netns, name: &str, target: &Netns) -> io::Result<()> {
                (**self).move_link(ns, name, target)
            }
            fn addresses(&self, ns: &Netns, name: &str) -> io::Result<Vec<IpPrefix>> {
                (**self).addresses(ns, name)
            }
            fn add_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()> {
                (**self).add_address(ns, name, addr)
            }
            fn del_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()> {
                (**self).del_address(ns, name, addr)
            }
            fn routes(&self, ns: &Netns) -> io::Result<Vec<Route>> {
                (**self).routes(ns)
            }
            fn add_route(&self, ns: &Netns, route: &Route) -> io::Result<()> {
                (**self).add_route(ns, route)
            }
            fn vfs(&self, pf: &str) -> io::Result<Vec<VfInfo>> {
                (**self).vfs(pf)
            }
            fn set_vf_mac(&self, pf: &str, vf: u32, mac: MacAddress) -> io::Result<()> {
                (**self).set_vf_mac(pf, vf, mac)
            }
            fn set_vf_vlan(&self, pf: &str, vf: u32, vlan: VlanConfig) -> io::Result<()> {
                (**self).set_vf_vlan(pf, vf, vlan)
            }
            fn set_vf_spoofchk(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
                (**self).set_vf_spoofchk(pf, vf, on)
            }
            fn set_vf_trust(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
                (**self).set_vf_trust(pf, vf, on)
            }
            fn set_vf_link_state(&self, pf: &str, vf: u32, state: LinkState) -> io::Result<()> {
                (**self).set_vf_link_state(pf, vf, state)
            }
            fn set_vf_rate(&self, pf: &str, vf: u32, rate: TxRate) -> io::Result<()> {
                (**self).set_vf_rate(pf, vf, rate)
            }
        }
    )+};
}

forward_net_ops!(&T, std::sync::Arc<T>, Box<T>);
