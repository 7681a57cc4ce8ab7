//! The log of what was done to a simulated host: every mutating operation with its typed
//! arguments and its outcome, the recording side of the test double. A test takes a
//! [`LogMark`] before the code under test runs and reads [`SimHost::ops_since`] after it.
//!
//! [`SimHost::ops_since`]: crate::SimHost::ops_since

use std::fmt;
use std::path::PathBuf;

use sriov_core::{
    IpPrefix, LinkState, MacAddress, Netns, RdmaNetnsMode, Route, TxRate, VlanConfig,
};

use crate::faults::FaultOp;
use crate::kernel::{AdminState, Errno};

/// One mutating operation done to a simulated host, with its arguments as the caller gave
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// `Sysfs::write` of `value` to the attribute at `path` (as given, before links resolve).
    WriteAttr {
        /// The path written to.
        path: PathBuf,
        /// The text written.
        value: String,
    },
    /// `ip netns add <name>`.
    AddNetns {
        /// The namespace's name.
        name: String,
    },
    /// A namespace made by someone else (a container runtime) becoming known to the host.
    AttachNetns {
        /// Its file.
        path: PathBuf,
    },
    /// Deleting a namespace (its last user gone).
    DelNetns {
        /// The namespace.
        ns: Netns,
    },
    /// `ip link add <name> type veth peer name <peer> netns <peer_ns>`.
    AddVeth {
        /// The first end's namespace.
        ns: Netns,
        /// The first end's name.
        name: String,
        /// The peer's namespace.
        peer_ns: Netns,
        /// The peer's name.
        peer: String,
    },
    /// `NetOps::rename_link`.
    RenameLink {
        /// The link's namespace.
        ns: Netns,
        /// Its name before.
        from: String,
        /// The name asked for.
        to: String,
    },
    /// `NetOps::set_link_mac`.
    SetLinkMac {
        /// The link's namespace.
        ns: Netns,
        /// The link.
        link: String,
        /// The MAC.
        mac: MacAddress,
    },
    /// `NetOps::set_link_mtu`.
    SetLinkMtu {
        /// The link's namespace.
        ns: Netns,
        /// The link.
        link: String,
        /// The MTU.
        mtu: u32,
    },
    /// `NetOps::set_link_up`.
    SetLinkAdmin {
        /// The link's namespace.
        ns: Netns,
        /// The link.
        link: String,
        /// Up or down.
        state: AdminState,
    },
    /// `NetOps::move_link`.
    MoveLink {
        /// The namespace it was in.
        ns: Netns,
        /// The link.
        link: String,
        /// The namespace it goes to.
        to: Netns,
    },
    /// `NetOps::add_address`.
    AddAddress {
        /// The link's namespace.
        ns: Netns,
        /// The link.
        link: String,
        /// The address.
        addr: IpPrefix,
    },
    /// `NetOps::del_address`.
    DelAddress {
        /// The link's namespace.
        ns: Netns,
        /// The link.
        link: String,
        /// The address.
        addr: IpPrefix,
    },
    /// `NetOps::add_route`.
    AddRoute {
        /// The namespace.
        ns: Netns,
        /// The route.
        route: Route,
    },
    /// `NetOps::set_vf_mac`.
    SetVfMac {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        vf: u32,
        /// The admin MAC.
        mac: MacAddress,
    },
    /// `NetOps::set_vf_vlan`.
    SetVfVlan {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        vf: u32,
        /// VLAN, QoS and protocol.
        vlan: VlanConfig,
    },
    /// `NetOps::set_vf_spoofchk`.
    SetVfSpoofchk {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        vf: u32,
        /// Spoof checking on.
        spoofchk: bool,
    },
    /// `NetOps::set_vf_trust`.
    SetVfTrust {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        vf: u32,
        /// Trusted.
        trust: bool,
    },
    /// `NetOps::set_vf_link_state`.
    SetVfLinkState {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        vf: u32,
        /// The link state policy.
        state: LinkState,
    },
    /// `NetOps::set_vf_rate`.
    SetVfRate {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        vf: u32,
        /// The rate limits.
        rate: TxRate,
    },
    /// `RdmaOps::set_netns_mode`.
    SetRdmaNetnsMode(RdmaNetnsMode),
    /// `RdmaOps::move_device`.
    MoveRdmaDevice {
        /// The namespace the request was issued from.
        from: Netns,
        /// The RDMA device.
        ibdev: String,
        /// The namespace it goes to.
        to: Netns,
    },
}

impl Op {
    /// Where a [`crate::Fault`] can hit this operation: its fault operation and the target a
    /// fault's [`crate::Target`] matches (the sysfs path, the link name, `<pf>/vf<N>`, the RDMA
    /// device, `system`); `None` for operations faults do not reach (namespaces).
    pub(crate) fn fault_point(&self) -> Option<(FaultOp, String)> {
        let vf = |pf: &str, vf: &u32| (FaultOp::SetVf, format!("{pf}/vf{vf}"));
        Some(match self {
            Op::WriteAttr { path, .. } => (FaultOp::Write, path.to_string_lossy().into_owned()),
            Op::AddNetns { .. } | Op::AttachNetns { .. } | Op::DelNetns { .. } => return None,
            Op::AddVeth { name, .. } => (FaultOp::AddLink, name.clone()),
            Op::RenameLink { from, .. } => (FaultOp::RenameLink, from.clone()),
            Op::SetLinkMac { link, .. } => (FaultOp::SetLinkMac, link.clone()),
            Op::SetLinkMtu { link, .. } => (FaultOp::SetLinkMtu, link.clone()),
            Op::SetLinkAdmin { link, .. } => (FaultOp::SetLinkUp, link.clone()),
            Op::MoveLink { link, .. } => (FaultOp::MoveLink, link.clone()),
            Op::AddAddress { link, .. } | Op::DelAddress { link, .. } => {
                (FaultOp::Address, link.clone())
            }
            Op::AddRoute { route, .. } => (FaultOp::Route, route.dev.clone()),
            Op::SetVfMac { pf, vf: i, .. }
            | Op::SetVfVlan { pf, vf: i, .. }
            | Op::SetVfSpoofchk { pf, vf: i, .. }
            | Op::SetVfTrust { pf, vf: i, .. }
            | Op::SetVfLinkState { pf, vf: i, .. }
            | Op::SetVfRate { pf, vf: i, .. } => vf(pf, i),
            Op::SetRdmaNetnsMode(_) => (FaultOp::RdmaNetnsMode, "system".to_string()),
            Op::MoveRdmaDevice { ibdev, .. } => (FaultOp::RdmaMove, ibdev.clone()),
        })
    }
}

/// The directory `ip netns` keeps its namespaces in.
const NETNS_DIR: &str = "/var/run/netns";

/// A namespace as `ip ... netns <ns>` takes it: its name for one of `ip netns`'s, pid 1 for
/// the host's, otherwise its file.
struct NsArg<'a>(&'a Netns);

impl fmt::Display for NsArg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Netns::Host => f.write_str("1"),
            Netns::Path(p) => match p.strip_prefix(NETNS_DIR) {
                Ok(name) => write!(f, "{}", name.display()),
                Err(_) => write!(f, "{}", p.display()),
            },
        }
    }
}

/// Prints the operation as the command that does it (`ip link set ens2f0 vf 3 vlan 111`),
/// prefixed with `ip netns exec <name>` when it is issued in another namespace.
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on_off = |on: bool| if on { "on" } else { "off" };
        let exec = |f: &mut fmt::Formatter<'_>, ns: &Netns| match ns {
            Netns::Host => Ok(()),
            Netns::Path(_) => write!(f, "ip netns exec {} ", NsArg(ns)),
        };
        match self {
            Op::WriteAttr { path, value } => {
                write!(f, "echo {:?} > {}", value, path.display())
            }
            Op::AddNetns { name } => write!(f, "ip netns add {name}"),
            Op::AttachNetns { path } => write!(f, "ip netns attach {}", path.display()),
            Op::DelNetns { ns } => write!(f, "ip netns del {}", NsArg(ns)),
            Op::AddVeth {
                ns,
                name,
                peer_ns,
                peer,
            } => {
                exec(f, ns)?;
                write!(
                    f,
                    "ip link add {name} type veth peer name {peer} netns {}",
                    NsArg(peer_ns)
                )
            }
            Op::RenameLink { ns, from, to } => {
                exec(f, ns)?;
                write!(f, "ip link set {from} name {to}")
            }
            Op::SetLinkMac { ns, link, mac } => {
                exec(f, ns)?;
                write!(f, "ip link set {link} address {mac}")
            }
            Op::SetLinkMtu { ns, link, mtu } => {
                exec(f, ns)?;
                write!(f, "ip link set {link} mtu {mtu}")
            }
            Op::SetLinkAdmin { ns, link, state } => {
                exec(f, ns)?;
                let state = match state {
                    AdminState::Up => "up",
                    AdminState::Down => "down",
                };
                write!(f, "ip link set {link} {state}")
            }
            Op::MoveLink { ns, link, to } => {
                exec(f, ns)?;
                write!(f, "ip link set {link} netns {}", NsArg(to))
            }
            Op::AddAddress { ns, link, addr } => {
                exec(f, ns)?;
                write!(f, "ip addr add {addr} dev {link}")
            }
            Op::DelAddress { ns, link, addr } => {
                exec(f, ns)?;
                write!(f, "ip addr del {addr} dev {link}")
            }
            Op::AddRoute { ns, route } => {
                exec(f, ns)?;
                let dst = route
                    .dst
                    .map_or_else(|| "default".to_string(), |d| d.to_string());
                write!(f, "ip route add {dst}")?;
                if let Some(gw) = route.gateway {
                    write!(f, " via {gw}")?;
                }
                write!(f, " dev {}", route.dev)
            }
            Op::SetVfMac { pf, vf, mac } => write!(f, "ip link set {pf} vf {vf} mac {mac}"),
            Op::SetVfVlan { pf, vf, vlan } => write!(
                f,
                "ip link set {pf} vf {vf} vlan {} qos {} proto {}",
                vlan.id().get(),
                vlan.qos().get(),
                vlan.proto()
            ),
            Op::SetVfSpoofchk { pf, vf, spoofchk } => {
                write!(f, "ip link set {pf} vf {vf} spoofchk {}", on_off(*spoofchk))
            }
            Op::SetVfTrust { pf, vf, trust } => {
                write!(f, "ip link set {pf} vf {vf} trust {}", on_off(*trust))
            }
            Op::SetVfLinkState { pf, vf, state } => {
                write!(f, "ip link set {pf} vf {vf} state {state}")
            }
            Op::SetVfRate { pf, vf, rate } => write!(
                f,
                "ip link set {pf} vf {vf} min_tx_rate {} max_tx_rate {}",
                rate.min_mbps(),
                rate.max_mbps()
            ),
            Op::SetRdmaNetnsMode(mode) => write!(f, "rdma system set netns {mode}"),
            Op::MoveRdmaDevice { from, ibdev, to } => {
                exec(f, from)?;
                write!(f, "rdma dev set {ibdev} netns {}", NsArg(to))
            }
        }
    }
}

/// One operation and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRecord {
    /// What was done.
    pub op: Op,
    /// The errno it failed with (an injected fault's or the kernel's); `None` when it
    /// succeeded.
    pub errno: Option<Errno>,
}

impl OpRecord {
    /// A record of `op` succeeding (what a test expects most of the time).
    pub fn ok(op: Op) -> Self {
        OpRecord { op, errno: None }
    }
}

/// A position in a host's operation log (see [`crate::SimHost::log_mark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogMark(pub(crate) usize);
