//! The simulator's [`NetOps`]: the link, address, route and VF-table operations of rtnetlink.
//! Each is a thin call into the kernel model's rule of the same name (`kernel/links.rs`,
//! `addrs.rs`, `routes.rs`, `sriov.rs`), which checks in the kernel's order and answers its
//! errno; this layer checks injected faults, logs the operation and marks the projection stale.
//!
//! What the rules model was checked against the real kernel by `sriov-core/tests/netops_conformance.rs`
//! (the same test bodies run here and on veth pairs through rtnetlink): the IFLA_IFNAME policy
//! (ERANGE over 15 bytes), `dev_change_name()` as in Linux 6.1 (EBUSY for an up link, checked
//! first; `%d` patterns), MTU limits and IPv4/IPv6 turned off below 68/1280, loopback's
//! 127.0.0.1/8 and ::1/128, EUI-64 link-local addresses on ready links, IPv6 flushed on down,
//! the kernel's prefix routes, route checks (ENETDOWN, ENETUNREACH, EHOSTUNREACH, host bits) and
//! one route per destination and metric. Not modelled: IPv6 DAD, route metrics other than the
//! defaults, secondary-address promotion.

use std::io;

use sriov_core::{
    IpPrefix, LinkInfo, LinkState, MacAddress, NetOps, Netns, Route, TxRate, VfInfo, VlanConfig,
};

use crate::host::SimHost;
use crate::kernel::{AdminState, VfSetting, io_error};
use crate::op_log::Op;

/// Netlink on a simulated host: each operation is logged ([`crate::Op`]), can be failed by an
/// injected fault, and otherwise does what the kernel model's rule of the same name does.
#[derive(Clone, Debug)]
pub struct SimNetOps {
    host: SimHost,
}

impl SimNetOps {
    pub(crate) fn new(host: SimHost) -> Self {
        SimNetOps { host }
    }

    /// Creates a veth pair: `a` in `ns_a`, `b` in `ns_b` (as `ip link add a type veth peer
    /// name b netns ...`); see [`crate::model::Model::add_veth`].
    pub fn add_veth(&self, ns_a: &Netns, a: &str, ns_b: &Netns, b: &str) -> io::Result<()> {
        let op = Op::AddVeth {
            ns: ns_a.clone(),
            name: a.to_string(),
            peer_ns: ns_b.clone(),
            peer: b.to_string(),
        };
        self.execute(op, |m| m.add_veth(ns_a, a, ns_b, b))
    }

    fn execute(
        &self,
        op: Op,
        perform: impl FnOnce(&mut crate::model::Model) -> Result<(), crate::kernel::Errno>,
    ) -> io::Result<()> {
        self.host
            .lock()
            .execute(op, |state| perform(&mut state.model))
    }

    fn set_vf(&self, op: Op, pf: &str, vf: u32, setting: VfSetting) -> io::Result<()> {
        self.execute(op, |m| m.set_vf(pf, vf, setting))
    }
}

// Reads that apply addrconf (`addresses`, `routes`) leave the projection as it is: the only
// addresses addrconf adds are link-local ones, which no sysfs file shows (the RDMA GID table
// leaves them out).
impl NetOps for SimNetOps {
    fn links(&self, ns: &Netns) -> io::Result<Vec<LinkInfo>> {
        self.host.lock().model.links(ns).map_err(io_error)
    }

    fn rename_link(&self, ns: &Netns, name: &str, new_name: &str) -> io::Result<()> {
        let op = Op::RenameLink {
            ns: ns.clone(),
            from: name.to_string(),
            to: new_name.to_string(),
        };
        self.execute(op, |m| m.rename_link(ns, name, new_name))
    }

    fn set_link_mac(&self, ns: &Netns, name: &str, mac: MacAddress) -> io::Result<()> {
        let op = Op::SetLinkMac {
            ns: ns.clone(),
            link: name.to_string(),
            mac,
        };
        self.execute(op, |m| m.set_link_mac(ns, name, mac))
    }

    fn set_link_mtu(&self, ns: &Netns, name: &str, mtu: u32) -> io::Result<()> {
        let op = Op::SetLinkMtu {
            ns: ns.clone(),
            link: name.to_string(),
            mtu,
        };
        self.execute(op, |m| m.set_link_mtu(ns, name, mtu))
    }

    fn set_link_up(&self, ns: &Netns, name: &str, up: bool) -> io::Result<()> {
        let state = AdminState::from_up(up);
        let op = Op::SetLinkAdmin {
            ns: ns.clone(),
            link: name.to_string(),
            state,
        };
        self.execute(op, |m| m.set_link_admin(ns, name, state))
    }

    fn move_link(&self, ns: &Netns, name: &str, target: &Netns) -> io::Result<()> {
        let op = Op::MoveLink {
            ns: ns.clone(),
            link: name.to_string(),
            to: target.clone(),
        };
        self.execute(op, |m| m.move_link(ns, name, target))
    }

    fn addresses(&self, ns: &Netns, name: &str) -> io::Result<Vec<IpPrefix>> {
        self.host.lock().model.addresses(ns, name).map_err(io_error)
    }

    fn add_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()> {
        let op = Op::AddAddress {
            ns: ns.clone(),
            link: name.to_string(),
            addr,
        };
        self.execute(op, |m| m.add_address(ns, name, addr))
    }

    fn del_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()> {
        let op = Op::DelAddress {
            ns: ns.clone(),
            link: name.to_string(),
            addr,
        };
        self.execute(op, |m| m.del_address(ns, name, addr))
    }

    fn routes(&self, ns: &Netns) -> io::Result<Vec<Route>> {
        self.host.lock().model.routes(ns).map_err(io_error)
    }

    fn add_route(&self, ns: &Netns, route: &Route) -> io::Result<()> {
        let op = Op::AddRoute {
            ns: ns.clone(),
            route: route.clone(),
        };
        self.execute(op, |m| m.add_route(ns, route))
    }

    fn vfs(&self, pf: &str) -> io::Result<Vec<VfInfo>> {
        self.host.lock().model.vf_infos(pf).map_err(io_error)
    }

    fn set_vf_mac(&self, pf: &str, vf: u32, mac: MacAddress) -> io::Result<()> {
        let op = Op::SetVfMac {
            pf: pf.to_string(),
            vf,
            mac,
        };
        self.set_vf(op, pf, vf, VfSetting::Mac(mac))
    }

    fn set_vf_vlan(&self, pf: &str, vf: u32, vlan: VlanConfig) -> io::Result<()> {
        let op = Op::SetVfVlan {
            pf: pf.to_string(),
            vf,
            vlan,
        };
        self.set_vf(op, pf, vf, VfSetting::Vlan(vlan))
    }

    fn set_vf_spoofchk(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
        let op = Op::SetVfSpoofchk {
            pf: pf.to_string(),
            vf,
            spoofchk: on,
        };
        self.set_vf(op, pf, vf, VfSetting::Spoofchk(on))
    }

    fn set_vf_trust(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
        let op = Op::SetVfTrust {
            pf: pf.to_string(),
            vf,
            trust: on,
        };
        self.set_vf(op, pf, vf, VfSetting::Trust(on))
    }

    fn set_vf_link_state(&self, pf: &str, vf: u32, state: LinkState) -> io::Result<()> {
        let op = Op::SetVfLinkState {
            pf: pf.to_string(),
            vf,
            state,
        };
        self.set_vf(op, pf, vf, VfSetting::LinkState(state))
    }

    fn set_vf_rate(&self, pf: &str, vf: u32, rate: TxRate) -> io::Result<()> {
        let op = Op::SetVfRate {
            pf: pf.to_string(),
            vf,
            rate,
        };
        self.set_vf(op, pf, vf, VfSetting::Rate(rate))
    }
}
