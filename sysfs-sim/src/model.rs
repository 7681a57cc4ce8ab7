//! The simulated kernel's state: PCI functions, netdevs and network namespaces. This is the
//! source of truth; the sysfs tree is a projection of it (see `project.rs`), rebuilt after every
//! change. The whole state serializes, so a simulated host can be saved to a file and shared.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sriov_core::{IpPrefix, MacAddress, PciAddress, Route, VfState};

use crate::nic_model::NicModel;

/// A network namespace's number in the model. The host (initial) namespace is [`HOST_NS`].
pub type NsId = u32;

/// The host's namespace.
pub const HOST_NS: NsId = 0;

/// How VF netdevs are named when their driver probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum NamingScheme {
    /// systemd's predictable names: a VF is `<PF name>v<index>` (`ens2f0v3`).
    #[default]
    Systemd,
    /// The kernel's own names, `eth<N>` with the lowest free N, as without udev.
    Kernel,
}

/// A PCI function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PciFunction {
    /// Address.
    pub pci: PciAddress,
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// Subsystem vendor ID.
    pub subsystem_vendor: u16,
    /// Subsystem device ID.
    pub subsystem_device: u16,
    /// Class code (24 bits).
    pub class: u32,
    /// NUMA node (`None` prints -1).
    pub numa_node: Option<u32>,
    /// Path of the parent under `/sys/devices`, e.g. `pci0000:3a/0000:3a:00.0`.
    pub parent: String,
    /// Bound driver.
    pub driver: Option<String>,
    /// What the function is.
    pub kind: FunctionKind,
}

/// What a PCI function is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FunctionKind {
    /// A PCI bridge or root port (no netdev).
    Bridge,
    /// A NIC physical function.
    Nic(Box<NicFunction>),
    /// A virtual function of `pf`.
    Vf {
        /// Its PF.
        pf: PciAddress,
        /// Its index.
        index: u32,
    },
}

/// A NIC port's physical function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NicFunction {
    /// The NIC model.
    pub model: NicModel,
    /// Port number on the card (0-based).
    pub port: u8,
    /// The predictable name udev gives the PF's netdev (`ens2f0`).
    pub ifname: String,
    /// The PF's permanent MAC.
    pub mac: MacAddress,
    /// The physical link (cable and peer) is up.
    pub link_up: bool,
    /// SR-IOV capability, if the function has one.
    pub sriov: Option<SriovCap>,
}

/// A PF's SR-IOV capability and VF table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SriovCap {
    /// `sriov_totalvfs`.
    pub total_vfs: u32,
    /// `sriov_offset`.
    pub offset: u16,
    /// `sriov_stride`.
    pub stride: u16,
    /// `sriov_vf_device`.
    pub vf_device: u16,
    /// `sriov_numvfs`.
    pub num_vfs: u32,
    /// `sriov_drivers_autoprobe`.
    pub autoprobe: bool,
    /// The driver enables at most this many VFs (resources), whatever is asked.
    pub driver_vf_limit: Option<u32>,
    /// The PF's VF table (admin MAC, VLAN, ...), one entry per enabled VF.
    pub vf_table: Vec<VfState>,
}

/// What kind of netdev.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetdevKind {
    /// The loopback of a namespace.
    Loopback,
    /// The netdev of a PCI function (PF or VF).
    Pci(PciAddress),
    /// One end of a veth pair; the peer's ifindex.
    Veth {
        /// The other end.
        peer: u32,
    },
}

/// A network device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Netdev {
    /// Interface index (unique in the host).
    pub ifindex: u32,
    /// Name, unique in its namespace.
    pub name: String,
    /// Its namespace.
    pub ns: NsId,
    /// Current MAC.
    pub mac: MacAddress,
    /// MTU.
    pub mtu: u32,
    /// Administratively up.
    pub admin_up: bool,
    /// Kind.
    pub kind: NetdevKind,
    /// Addresses.
    pub addresses: Vec<IpPrefix>,
    /// `dev_port`.
    pub dev_port: u32,
    /// `phys_port_name`, where the driver reports one (PF uplinks: `p0`).
    pub phys_port_name: Option<String>,
}

/// A network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    /// Its file (`/var/run/netns/<name>`); none for the host's.
    pub path: Option<PathBuf>,
    /// Main routing table.
    pub routes: Vec<Route>,
}

/// The whole simulated kernel state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// PCI functions by address.
    pub functions: BTreeMap<PciAddress, PciFunction>,
    /// Netdevs by ifindex.
    pub netdevs: BTreeMap<u32, Netdev>,
    /// Namespaces by id.
    pub namespaces: BTreeMap<NsId, Namespace>,
    /// Next ifindex to hand out.
    pub next_ifindex: u32,
    /// Next namespace id.
    pub next_ns: NsId,
    /// VF netdev naming.
    pub naming: NamingScheme,
    /// Seed of the host's deterministic randomness (MACs, faults).
    pub seed: u64,
    /// Counter mixed into generated MACs.
    pub mac_counter: u64,
    /// The RDMA subsystem: registered devices, naming, netns mode (see `rdma.rs`).
    #[serde(default)]
    pub rdma: crate::rdma::RdmaState,
}

impl Model {
    /// An empty host with a host namespace holding `lo`.
    pub fn new(seed: u64, naming: NamingScheme) -> Self {
        let mut m = Model {
            functions: BTreeMap::new(),
            netdevs: BTreeMap::new(),
            namespaces: BTreeMap::new(),
            next_ifindex: 1,
            next_ns: 1,
            naming,
            seed,
            mac_counter: 0,
            rdma: crate::rdma::RdmaState::default(),
        };
        m.namespaces.insert(
            HOST_NS,
            Namespace {
                path: None,
                routes: Vec::new(),
            },
        );
        m.add_loopback(HOST_NS);
        m
    }

    /// Adds the loopback of namespace `ns`.
    pub fn add_loopback(&mut self, ns: NsId) {
        let ifindex = self.take_ifindex();
        self.netdevs.insert(
            ifindex,
            Netdev {
                ifindex,
                name: "lo".into(),
                ns,
                mac: MacAddress::ZERO,
                mtu: 65536,
                admin_up: false,
                kind: NetdevKind::Loopback,
                addresses: Vec::new(),
                dev_port: 0,
                phys_port_name: None,
            },
        );
    }

    /// Hands out the next ifindex.
    pub fn take_ifindex(&mut self) -> u32 {
        let i = self.next_ifindex;
        self.next_ifindex += 1;
        i
    }

    /// A deterministic, locally administered unicast MAC (as mlx5 gives VFs without an admin MAC).
    pub fn next_random_mac(&mut self) -> MacAddress {
        self.mac_counter += 1;
        let x = splitmix(self.seed ^ self.mac_counter.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let b = x.to_le_bytes();
        MacAddress([(b[0] & 0xfe) | 0x02, b[1], b[2], b[3], b[4], b[5]])
    }

    /// The namespace whose file is `path`.
    pub fn ns_by_path(&self, path: &std::path::Path) -> Option<NsId> {
        self.namespaces
            .iter()
            .find(|(_, n)| n.path.as_deref() == Some(path))
            .map(|(id, _)| *id)
    }

    /// The netdev named `name` in `ns`.
    pub fn netdev_by_name(&self, ns: NsId, name: &str) -> Option<&Netdev> {
        self.netdevs.values().find(|d| d.ns == ns && d.name == name)
    }

    /// The ifindex of the netdev named `name` in `ns`.
    pub fn ifindex_by_name(&self, ns: NsId, name: &str) -> Option<u32> {
        self.netdev_by_name(ns, name).map(|d| d.ifindex)
    }

    /// The netdev of PCI function `pci`, wherever it is.
    pub fn netdev_of(&self, pci: PciAddress) -> Option<&Netdev> {
        self.netdevs
            .values()
            .find(|d| d.kind == NetdevKind::Pci(pci))
    }

    /// The NIC part of a PF.
    pub fn nic(&self, pci: PciAddress) -> Option<&NicFunction> {
        match &self.functions.get(&pci)?.kind {
            FunctionKind::Nic(nic) => Some(nic),
            _ => None,
        }
    }

    /// The NIC part of a PF, mutably.
    pub fn nic_mut(&mut self, pci: PciAddress) -> Option<&mut NicFunction> {
        match &mut self.functions.get_mut(&pci)?.kind {
            FunctionKind::Nic(nic) => Some(nic),
            _ => None,
        }
    }

    /// Whether a netdev has carrier: a PF follows its physical link; a VF follows its VF-table
    /// link state (`auto`: the PF's link); loopback and veth ends are always on (a veth end
    /// needs its peer up).
    pub fn carrier(&self, dev: &Netdev) -> bool {
        match &dev.kind {
            NetdevKind::Loopback => true,
            NetdevKind::Veth { peer } => self.netdevs.get(peer).is_some_and(|p| p.admin_up),
            NetdevKind::Pci(pci) => match self.functions.get(pci).map(|f| &f.kind) {
                Some(FunctionKind::Nic(nic)) => nic.link_up,
                Some(FunctionKind::Vf { pf, index }) => {
                    let Some(nic) = self.nic(*pf) else {
                        return false;
                    };
                    let state = nic
                        .sriov
                        .as_ref()
                        .and_then(|s| s.vf_table.get(*index as usize));
                    match state.map(|s| s.link_state) {
                        Some(sriov_core::LinkState::Enable) => true,
                        Some(sriov_core::LinkState::Disable) => false,
                        _ => nic.link_up,
                    }
                }
                _ => false,
            },
        }
    }

    /// Operationally up: admin up and carrier.
    pub fn oper_up(&self, dev: &Netdev) -> bool {
        dev.admin_up && self.carrier(dev)
    }
}

/// SplitMix64: a tiny, well-known mixing function for deterministic identifiers.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
