//! Host-trait failures that say what failed: [`Named`] wraps a [`NetOps`] or [`RdmaOps`] and
//! gives every call's error the operation, its arguments and its target ([`HostError`]), once,
//! at the trait boundary, instead of at every call site.
//!
//! The traits themselves return `std::io::Error` with the kernel's errno, which is what
//! backends and simulators must reproduce; callers that report to a person go through
//! [`Named`]:
//!
//! ```no_run
//! use sriov_core::rtnl::RtnlNetOps;
//! use sriov_core::{Named, VlanConfig, VlanProto};
//!
//! let net = Named(RtnlNetOps::new()?);
//! let vlan = VlanConfig::new(111, 0, VlanProto::Dot1Q)?;
//! if let Err(e) = net.set_vf_vlan("ens2f0", 3, vlan) {
//!     // set VF vlan of ens2f0 vf 3 to vlan 111 qos 0 proto 802.1q: Operation not supported (os error 95)
//!     eprintln!("{e}");
//!     assert_eq!(e.errno(), Some(libc::EOPNOTSUPP));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What such an error says:
//!
//! ```
//! use sriov_core::{HostError, HostOp, HostTarget, Netns, VlanConfig, VlanProto};
//! let err = HostError {
//!     op: HostOp::SetVfVlan(VlanConfig::new(111, 0, VlanProto::Dot1Q).unwrap()),
//!     target: HostTarget::Vf { pf: "ens2f0".into(), index: 3 },
//!     source: std::io::Error::from_raw_os_error(libc::EOPNOTSUPP),
//! };
//! assert_eq!(
//!     err.to_string(),
//!     "set VF vlan of ens2f0 vf 3 to vlan 111 qos 0 proto 802.1q: Operation not supported (os error 95)"
//! );
//! let err = HostError {
//!     op: HostOp::MoveLink(Netns::named("pod1")),
//!     target: HostTarget::Link { ns: Netns::Host, name: "ens2f0v3".into() },
//!     source: std::io::Error::from_raw_os_error(libc::EEXIST),
//! };
//! assert_eq!(err.to_string(), "move link ens2f0v3 to /var/run/netns/pod1: File exists (os error 17)");
//! ```

use std::fmt;
use std::io;

use crate::{
    IpPrefix, LinkInfo, LinkState, MacAddress, NetOps, Netns, RdmaNetnsMode, RdmaOps, Route,
    TxRate, VfInfo, VlanConfig,
};

/// A host-trait operation, with the value it sets where it sets one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostOp {
    /// [`NetOps::links`].
    ListLinks,
    /// [`NetOps::link`].
    GetLink,
    /// [`NetOps::rename_link`] to this name.
    RenameLink(String),
    /// [`NetOps::set_link_mac`].
    SetLinkMac(MacAddress),
    /// [`NetOps::set_link_mtu`].
    SetLinkMtu(u32),
    /// [`NetOps::set_link_up`] with `true`.
    SetLinkUp,
    /// [`NetOps::set_link_up`] with `false`.
    SetLinkDown,
    /// [`NetOps::move_link`] to this namespace.
    MoveLink(Netns),
    /// [`NetOps::addresses`].
    ListAddresses,
    /// [`NetOps::add_address`].
    AddAddress(IpPrefix),
    /// [`NetOps::del_address`].
    DeleteAddress(IpPrefix),
    /// [`NetOps::routes`].
    ListRoutes,
    /// [`NetOps::add_route`] (boxed: a route is the largest value an operation carries).
    AddRoute(Box<Route>),
    /// [`NetOps::vfs`].
    ReadVfTable,
    /// [`NetOps::set_vf_mac`].
    SetVfMac(MacAddress),
    /// [`NetOps::set_vf_vlan`].
    SetVfVlan(VlanConfig),
    /// [`NetOps::set_vf_spoofchk`].
    SetVfSpoofchk(bool),
    /// [`NetOps::set_vf_trust`].
    SetVfTrust(bool),
    /// [`NetOps::set_vf_link_state`].
    SetVfLinkState(LinkState),
    /// [`NetOps::set_vf_rate`].
    SetVfRate(TxRate),
    /// [`RdmaOps::netns_mode`].
    ReadRdmaNetnsMode,
    /// [`RdmaOps::set_netns_mode`].
    SetRdmaNetnsMode(RdmaNetnsMode),
    /// [`RdmaOps::devices`].
    ListRdmaDevices,
    /// [`RdmaOps::move_device`] to this namespace.
    MoveRdmaDevice(Netns),
    /// [`RdmaOps::other_namespaces`].
    ListNamespaces,
}

impl HostOp {
    /// What was done, as a verb phrase (`set VF vlan of`).
    fn action(&self) -> &'static str {
        match self {
            HostOp::ListLinks => "list links in",
            HostOp::GetLink => "look up link",
            HostOp::RenameLink(_) => "rename link",
            HostOp::SetLinkMac(_) => "set MAC of",
            HostOp::SetLinkMtu(_) => "set MTU of",
            HostOp::SetLinkUp => "set up",
            HostOp::SetLinkDown => "set down",
            HostOp::MoveLink(_) => "move link",
            HostOp::ListAddresses => "list addresses of",
            HostOp::AddAddress(_) => "add address to",
            HostOp::DeleteAddress(_) => "delete address from",
            HostOp::ListRoutes => "list routes in",
            HostOp::AddRoute(_) => "add route in",
            HostOp::ReadVfTable => "read VF table of",
            HostOp::SetVfMac(_) => "set VF MAC of",
            HostOp::SetVfVlan(_) => "set VF vlan of",
            HostOp::SetVfSpoofchk(_) => "set VF spoofchk of",
            HostOp::SetVfTrust(_) => "set VF trust of",
            HostOp::SetVfLinkState(_) => "set VF link state of",
            HostOp::SetVfRate(_) => "set VF rate of",
            HostOp::ReadRdmaNetnsMode => "read the RDMA netns mode of",
            HostOp::SetRdmaNetnsMode(_) => "set the RDMA netns mode of",
            HostOp::ListRdmaDevices => "list RDMA devices in",
            HostOp::MoveRdmaDevice(_) => "move RDMA device",
            HostOp::ListNamespaces => "list the network namespaces of",
        }
    }

    /// Writes ` to <value>` for operations that set something.
    fn fmt_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostOp::RenameLink(name) => write!(f, " to {name}"),
            HostOp::SetLinkMac(mac) | HostOp::SetVfMac(mac) => write!(f, " to {mac}"),
            HostOp::SetLinkMtu(mtu) => write!(f, " to {mtu}"),
            HostOp::MoveLink(ns) | HostOp::MoveRdmaDevice(ns) => write!(f, " to {ns}"),
            HostOp::AddAddress(p) | HostOp::DeleteAddress(p) => write!(f, ": {p}"),
            HostOp::AddRoute(r) => {
                match r.dst {
                    Some(dst) => write!(f, ": {dst}")?,
                    None => f.write_str(": default")?,
                }
                if let Some(gw) = r.gateway {
                    write!(f, " via {gw}")?;
                }
                write!(f, " dev {}", r.dev)
            }
            HostOp::SetVfVlan(v) => write!(
                f,
                " to vlan {} qos {} proto {}",
                v.id().get(),
                v.qos().get(),
                v.proto()
            ),
            HostOp::SetVfSpoofchk(on) | HostOp::SetVfTrust(on) => {
                f.write_str(if *on { " to on" } else { " to off" })
            }
            HostOp::SetVfLinkState(s) => write!(f, " to {s}"),
            HostOp::SetVfRate(r) => write!(f, " to min {} max {} Mbps", r.min_mbps(), r.max_mbps()),
            HostOp::SetRdmaNetnsMode(m) => write!(f, " to {m}"),
            HostOp::ListLinks
            | HostOp::GetLink
            | HostOp::SetLinkUp
            | HostOp::SetLinkDown
            | HostOp::ListAddresses
            | HostOp::ListRoutes
            | HostOp::ReadVfTable
            | HostOp::ReadRdmaNetnsMode
            | HostOp::ListRdmaDevices
            | HostOp::ListNamespaces => Ok(()),
        }
    }
}

/// What a host operation was applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostTarget {
    /// A network namespace (listing links or routes).
    Netns(Netns),
    /// A link by name in a namespace.
    Link {
        /// Its namespace.
        ns: Netns,
        /// Its name there.
        name: String,
    },
    /// A PF netdev (its VF table).
    Pf(String),
    /// One VF of a PF's table.
    Vf {
        /// The PF's netdev.
        pf: String,
        /// The VF's index.
        index: u32,
    },
    /// The RDMA subsystem (its netns mode).
    RdmaSubsystem,
    /// An RDMA device in a namespace.
    RdmaDevice {
        /// The namespace it is in.
        ns: Netns,
        /// Its name (`mlx5_5`).
        name: String,
    },
}

impl HostTarget {
    fn link(ns: &Netns, name: &str) -> Self {
        HostTarget::Link {
            ns: ns.clone(),
            name: name.to_string(),
        }
    }

    fn vf(pf: &str, index: u32) -> Self {
        HostTarget::Vf {
            pf: pf.to_string(),
            index,
        }
    }
}

impl fmt::Display for HostTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostTarget::Netns(ns) => write!(f, "namespace {ns}"),
            HostTarget::Link {
                ns: Netns::Host,
                name,
            } => f.write_str(name),
            HostTarget::Link { ns, name } => write!(f, "{name} in {ns}"),
            HostTarget::Pf(pf) => f.write_str(pf),
            HostTarget::Vf { pf, index } => write!(f, "{pf} vf {index}"),
            HostTarget::RdmaSubsystem => f.write_str("the RDMA subsystem"),
            HostTarget::RdmaDevice { ns, name } => write!(f, "{name} in {ns}"),
        }
    }
}

/// A host-trait call that failed: the operation, what it was applied to, and the error with the
/// kernel's errno.
#[derive(Debug, thiserror::Error)]
pub struct HostError {
    /// The operation, with the value it was setting.
    pub op: HostOp,
    /// What it was applied to.
    pub target: HostTarget,
    /// The backend's error.
    #[source]
    pub source: io::Error,
}

impl HostError {
    /// The kernel's errno, when the failure carries one: the `io::Error`'s own, or (with the
    /// `netlink` feature) that of the RDMA-netlink error it wraps (`EPROTONOSUPPORT` for a
    /// kernel without RDMA netlink).
    pub fn errno(&self) -> Option<i32> {
        #[cfg(feature = "netlink")]
        return rdma_nl::errno_of(&self.source);
        #[cfg(not(feature = "netlink"))]
        return self.source.raw_os_error();
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op.action(), self.target)?;
        self.op.fmt_value(f)?;
        write!(f, ": {}", self.source)
    }
}

/// A host backend whose calls fail with a [`HostError`] naming the operation and its target.
/// Wraps anything implementing [`NetOps`] or [`RdmaOps`] (a reference, an `Arc`, a box): the
/// methods are the traits', one for one.
#[derive(Debug, Clone, Copy)]
pub struct Named<T>(pub T);

/// `result` with its error named.
fn named<T>(result: io::Result<T>, op: HostOp, target: HostTarget) -> Result<T, HostError> {
    result.map_err(|source| HostError { op, target, source })
}

impl<N: NetOps> Named<N> {
    /// [`NetOps::links`].
    pub fn links(&self, ns: &Netns) -> Result<Vec<LinkInfo>, HostError> {
        named(
            self.0.links(ns),
            HostOp::ListLinks,
            HostTarget::Netns(ns.clone()),
        )
    }

    /// [`NetOps::link`].
    pub fn link(&self, ns: &Netns, name: &str) -> Result<LinkInfo, HostError> {
        named(
            self.0.link(ns, name),
            HostOp::GetLink,
            HostTarget::link(ns, name),
        )
    }

    /// [`NetOps::rename_link`].
    pub fn rename_link(&self, ns: &Netns, name: &str, new_name: &str) -> Result<(), HostError> {
        named(
            self.0.rename_link(ns, name, new_name),
            HostOp::RenameLink(new_name.to_string()),
            HostTarget::link(ns, name),
        )
    }

    /// [`NetOps::set_link_mac`].
    pub fn set_link_mac(&self, ns: &Netns, name: &str, mac: MacAddress) -> Result<(), HostError> {
        named(
            self.0.set_link_mac(ns, name, mac),
            HostOp::SetLinkMac(mac),
            HostTarget::link(ns, name),
        )
    }

    /// [`NetOps::set_link_mtu`].
    pub fn set_link_mtu(&self, ns: &Netns, name: &str, mtu: u32) -> Result<(), HostError> {
        named(
            self.0.set_link_mtu(ns, name, mtu),
            HostOp::SetLinkMtu(mtu),
            HostTarget::link(ns, name),
        )
    }

    /// [`NetOps::set_link_up`].
    pub fn set_link_up(&self, ns: &Netns, name: &str, up: bool) -> Result<(), HostError> {
        let op = if up {
            HostOp::SetLinkUp
        } else {
            HostOp::SetLinkDown
        };
        named(
            self.0.set_link_up(ns, name, up),
            op,
            HostTarget::link(ns, name),
        )
    }

    /// [`NetOps::move_link`].
    pub fn move_link(&self, ns: &Netns, name: &str, target: &Netns) -> Result<(), HostError> {
        named(
            self.0.move_link(ns, name, target),
            HostOp::MoveLink(target.clone()),
            HostTarget::link(ns, name),
        )
    }

    /// [`NetOps::addresses`].
    pub fn addresses(&self, ns: &Netns, name: &str) -> Result<Vec<IpPrefix>, HostError> {
        named(
            self.0.addresses(ns, name),
            HostOp::ListAddresses,
            HostTarget::link(ns, name),
        )
    }

    /// [`NetOps::add_address`].
    pub fn add_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> Result<(), HostError> {
        named(
            self.0.add_address(ns, name, addr),
            HostOp::AddAddress(addr),
            HostTarget::link(ns, name),
        )
    }

    /// [`NetOps::del_address`].
    pub fn del_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> Result<(), HostError> {
        named(
            self.0.del_address(ns, name, addr),
            HostOp::DeleteAddress(addr),
            HostTarget::link(ns, name),
        )
    }

    /// [`NetOps::routes`].
    pub fn routes(&self, ns: &Netns) -> Result<Vec<Route>, HostError> {
        named(
            self.0.routes(ns),
            HostOp::ListRoutes,
            HostTarget::Netns(ns.clone()),
        )
    }

    /// [`NetOps::add_route`].
    pub fn add_route(&self, ns: &Netns, route: &Route) -> Result<(), HostError> {
        named(
            self.0.add_route(ns, route),
            HostOp::AddRoute(Box::new(route.clone())),
            HostTarget::Netns(ns.clone()),
        )
    }

    /// [`NetOps::vfs`].
    pub fn vfs(&self, pf: &str) -> Result<Vec<VfInfo>, HostError> {
        named(
            self.0.vfs(pf),
            HostOp::ReadVfTable,
            HostTarget::Pf(pf.to_string()),
        )
    }

    /// [`NetOps::set_vf_mac`].
    pub fn set_vf_mac(&self, pf: &str, vf: u32, mac: MacAddress) -> Result<(), HostError> {
        named(
            self.0.set_vf_mac(pf, vf, mac),
            HostOp::SetVfMac(mac),
            HostTarget::vf(pf, vf),
        )
    }

    /// [`NetOps::set_vf_vlan`].
    pub fn set_vf_vlan(&self, pf: &str, vf: u32, vlan: VlanConfig) -> Result<(), HostError> {
        named(
            self.0.set_vf_vlan(pf, vf, vlan),
            HostOp::SetVfVlan(vlan),
            HostTarget::vf(pf, vf),
        )
    }

    /// [`NetOps::set_vf_spoofchk`].
    pub fn set_vf_spoofchk(&self, pf: &str, vf: u32, on: bool) -> Result<(), HostError> {
        named(
            self.0.set_vf_spoofchk(pf, vf, on),
            HostOp::SetVfSpoofchk(on),
            HostTarget::vf(pf, vf),
        )
    }

    /// [`NetOps::set_vf_trust`].
    pub fn set_vf_trust(&self, pf: &str, vf: u32, on: bool) -> Result<(), HostError> {
        named(
            self.0.set_vf_trust(pf, vf, on),
            HostOp::SetVfTrust(on),
            HostTarget::vf(pf, vf),
        )
    }

    /// [`NetOps::set_vf_link_state`].
    pub fn set_vf_link_state(&self, pf: &str, vf: u32, state: LinkState) -> Result<(), HostError> {
        named(
            self.0.set_vf_link_state(pf, vf, state),
            HostOp::SetVfLinkState(state),
            HostTarget::vf(pf, vf),
        )
    }

    /// [`NetOps::set_vf_rate`].
    pub fn set_vf_rate(&self, pf: &str, vf: u32, rate: TxRate) -> Result<(), HostError> {
        named(
            self.0.set_vf_rate(pf, vf, rate),
            HostOp::SetVfRate(rate),
            HostTarget::vf(pf, vf),
        )
    }
}

impl<R: RdmaOps> Named<R> {
    /// [`RdmaOps::netns_mode`].
    pub fn netns_mode(&self) -> Result<RdmaNetnsMode, HostError> {
        named(
            self.0.netns_mode(),
            HostOp::ReadRdmaNetnsMode,
            HostTarget::RdmaSubsystem,
        )
    }

    /// [`RdmaOps::set_netns_mode`].
    pub fn set_netns_mode(&self, mode: RdmaNetnsMode) -> Result<(), HostError> {
        named(
            self.0.set_netns_mode(mode),
            HostOp::SetRdmaNetnsMode(mode),
            HostTarget::RdmaSubsystem,
        )
    }

    /// [`RdmaOps::devices`].
    pub fn devices(&self, ns: &Netns) -> Result<Vec<String>, HostError> {
        named(
            self.0.devices(ns),
            HostOp::ListRdmaDevices,
            HostTarget::Netns(ns.clone()),
        )
    }

    /// [`RdmaOps::move_device`].
    pub fn move_device(&self, from: &Netns, ibdev: &str, to: &Netns) -> Result<(), HostError> {
        named(
            self.0.move_device(from, ibdev, to),
            HostOp::MoveRdmaDevice(to.clone()),
            HostTarget::RdmaDevice {
                ns: from.clone(),
                name: ibdev.to_string(),
            },
        )
    }

    /// [`RdmaOps::other_namespaces`].
    pub fn other_namespaces(&self) -> Result<Vec<Netns>, HostError> {
        named(
            self.0.other_namespaces(),
            HostOp::ListNamespaces,
            HostTarget::RdmaSubsystem,
        )
    }
}
