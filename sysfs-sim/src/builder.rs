//! Building simulated hosts: NICs on PCI slots, their SR-IOV capability, drivers, NUMA nodes,
//! link state and netdev naming.

use sriov_core::{MacAddress, PciAddress};

use crate::host::SimHost;
use crate::model::{
    FunctionKind, Model, NamingScheme, NicFunction, PciFunction, SriovCap, splitmix,
};
use crate::nic_model::{NicModel, VfLayout};

/// Why a host could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Two functions at one address.
    #[error("PCI address {0} used twice")]
    AddressInUse(PciAddress),
    /// The NIC's functions or VFs do not fit on its bus.
    #[error("NIC at {0}: its functions or VFs run past the last routing ID")]
    NoRoom(PciAddress),
    /// Two PFs with one netdev name.
    #[error("netdev name {0:?} used twice")]
    NameInUse(String),
    /// Not a valid interface name.
    #[error("invalid netdev name {0:?}")]
    BadName(String),
    /// Enabling VFs at build time failed with this errno.
    #[error("enabling {count} VFs on {pf}: errno {errno}")]
    EnableVfs {
        /// The PF.
        pf: PciAddress,
        /// VFs asked for.
        count: u32,
        /// The kernel's answer.
        errno: i32,
    },
    /// Binding the PF driver at build time failed with this errno.
    #[error("binding {driver} to {pci}: errno {errno}")]
    BindDriver {
        /// The PF.
        pci: PciAddress,
        /// The driver.
        driver: String,
        /// The kernel's answer.
        errno: i32,
    },
    /// A preset name that is none of [`crate::Preset::ALL`].
    #[error("unknown preset {0:?} (known: {known})", known = crate::presets::known_names())]
    UnknownPreset(String),
}

/// One NIC card: a model, its first function's address, and its ports (one PF each).
#[derive(Debug, Clone)]
pub struct NicSpec {
    model: NicModel,
    first: PciAddress,
    ports: u8,
    names: Vec<String>,
    total_vfs: u32,
    numa_node: Option<u32>,
    driver_bound: bool,
    autoprobe: bool,
    link_up: bool,
    sriov: bool,
    driver_vf_limit: Option<u32>,
    enable_vfs: Vec<u32>,
    vf_layout: Option<VfLayout>,
    vf_device: Option<u16>,
}

impl NicSpec {
    /// A one-port NIC of `model` at `first`, SR-IOV capable with the model's default
    /// `sriov_totalvfs`, driver bound, autoprobe on, link up, NUMA node 0, names `ens<N>f<port>`.
    pub fn new(model: NicModel, first: PciAddress) -> Self {
        let total_vfs = model.default_total_vfs;
        NicSpec {
            model,
            first,
            ports: 1,
            names: Vec::new(),
            total_vfs,
            numa_node: Some(0),
            driver_bound: true,
            autoprobe: true,
            link_up: true,
            sriov: true,
            driver_vf_limit: None,
            enable_vfs: Vec::new(),
            vf_layout: None,
            vf_device: None,
        }
    }

    /// Number of ports (PFs at consecutive function numbers).
    pub fn ports(mut self, ports: u8) -> Self {
        self.ports = ports.max(1);
        self
    }

    /// The PFs' netdev names, port by port.
    pub fn names<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.names = names.into_iter().map(Into::into).collect();
        self
    }

    /// `sriov_totalvfs` of each PF.
    pub fn total_vfs(mut self, total: u32) -> Self {
        self.total_vfs = total;
        self
    }

    /// NUMA node (`None`: the platform does not say, `numa_node` reads -1).
    pub fn numa_node(mut self, node: Option<u32>) -> Self {
        self.numa_node = node;
        self
    }

    /// Whether the PF driver is bound.
    pub fn driver_bound(mut self, bound: bool) -> Self {
        self.driver_bound = bound;
        self
    }

    /// `sriov_drivers_autoprobe`.
    pub fn autoprobe(mut self, on: bool) -> Self {
        self.autoprobe = on;
        self
    }

    /// The physical link of every port.
    pub fn link_up(mut self, up: bool) -> Self {
        self.link_up = up;
        self
    }

    /// Whether the PFs have an SR-IOV capability at all.
    pub fn sriov(mut self, on: bool) -> Self {
        self.sriov = on;
        self
    }

    /// Overrides the model's VF routing-ID layout: `VfLayout::Interleaved { offset, stride }`
    /// sets `sriov_offset` and `sriov_stride` of every port.
    pub fn vf_layout(mut self, layout: VfLayout) -> Self {
        self.vf_layout = Some(layout);
        self
    }

    /// Overrides the VFs' device ID (`sriov_vf_device`).
    pub fn vf_device(mut self, device: u16) -> Self {
        self.vf_device = Some(device);
        self
    }

    /// The driver enables at most this many VFs per PF.
    pub fn driver_vf_limit(mut self, limit: Option<u32>) -> Self {
        self.driver_vf_limit = limit;
        self
    }

    /// VFs to enable on each port at build time (through `sriov_numvfs`, as a device plugin
    /// would); missing ports get none.
    pub fn enable_vfs<I: IntoIterator<Item = u32>>(mut self, per_port: I) -> Self {
        self.enable_vfs = per_port.into_iter().collect();
        self
    }
}

/// Builds a [`SimHost`].
///
/// ```
/// use sysfs_sim::{HostBuilder, NicModel, NicSpec};
/// let host = HostBuilder::new(7)
///     .nic(NicSpec::new(NicModel::connectx5(), "0000:3b:00.0".parse().unwrap())
///         .ports(2)
///         .names(["ens2f0", "ens2f1"])
///         .total_vfs(8)
///         .enable_vfs([4]))
///     .build()
///     .unwrap();
/// let pfs = sriov_core::discover(&host.sysfs()).unwrap();
/// assert_eq!(pfs.len(), 2);
/// assert_eq!(pfs[0].vfs.len(), 4);
/// assert_eq!(pfs[0].vfs[3].netdev.as_deref(), Some("ens2f0v3"));
/// ```
#[derive(Debug, Clone)]
pub struct HostBuilder {
    seed: u64,
    naming: NamingScheme,
    rdma_naming: crate::rdma::RdmaNaming,
    nics: Vec<NicSpec>,
}

impl HostBuilder {
    /// An empty host whose generated identifiers (MACs, faults) follow from `seed`.
    pub fn new(seed: u64) -> Self {
        HostBuilder {
            seed,
            naming: NamingScheme::Systemd,
            rdma_naming: crate::rdma::RdmaNaming::Kernel,
            nics: Vec::new(),
        }
    }

    /// How VF netdevs are named.
    pub fn naming(mut self, naming: NamingScheme) -> Self {
        self.naming = naming;
        self
    }

    /// How RDMA devices are named (`mlx5_N` by default).
    pub fn rdma_naming(mut self, naming: crate::rdma::RdmaNaming) -> Self {
        self.rdma_naming = naming;
        self
    }

    /// Adds a NIC.
    pub fn nic(mut self, nic: NicSpec) -> Self {
        self.nics.push(nic);
        self
    }

    /// Builds the host: lays out the functions, binds drivers, creates PF netdevs, then enables
    /// the requested VFs through the kernel model.
    pub fn build(self) -> Result<SimHost, BuildError> {
        let mut model = Model::new(self.seed, self.naming);
        model.rdma.naming = self.rdma_naming;
        let mut enable = Vec::new();
        for (card, nic) in self.nics.iter().enumerate() {
            add_nic(&mut model, card, nic, &mut enable)?;
        }
        for (pf, count) in enable {
            model
                .write_sriov_numvfs(pf, &count.to_string())
                .map_err(|errno| BuildError::EnableVfs { pf, count, errno })?;
        }
        Ok(SimHost::from_model(model))
    }
}

fn add_nic(
    model: &mut Model,
    card: usize,
    nic: &NicSpec,
    enable: &mut Vec<(PciAddress, u32)>,
) -> Result<(), BuildError> {
    let bus = nic.first.bus();
    let root_port = PciAddress::new(nic.first.domain(), bus.wrapping_sub(1), 0, 0)
        .ok_or(BuildError::NoRoom(nic.first))?;
    let root = format!("pci{:04x}:{:02x}", root_port.domain(), root_port.bus());
    model
        .functions
        .entry(root_port)
        .or_insert_with(|| PciFunction {
            pci: root_port,
            vendor: 0x8086,
            device: 0x2030,
            subsystem_vendor: 0x8086,
            subsystem_device: 0x0000,
            class: 0x060400,
            numa_node: nic.numa_node,
            parent: root.clone(),
            driver: Some("pcieport".into()),
            kind: FunctionKind::Bridge,
        });
    let parent = format!("{root}/{root_port}");
    let ports = u16::from(nic.ports);
    for port in 0..nic.ports {
        let rid = nic
            .first
            .routing_id()
            .checked_add(u16::from(port))
            .ok_or(BuildError::NoRoom(nic.first))?;
        let pci = PciAddress::from_routing_id(nic.first.domain(), rid);
        if model.functions.contains_key(&pci) {
            return Err(BuildError::AddressInUse(pci));
        }
        let name = nic
            .names
            .get(port as usize)
            .cloned()
            .unwrap_or_else(|| format!("ens{}f{port}", 1 + card));
        if !crate::kernel::valid_ifname(&name) {
            return Err(BuildError::BadName(name));
        }
        if model.netdevs.values().any(|d| d.name == name) {
            return Err(BuildError::NameInUse(name));
        }
        let (offset, stride) = match nic.vf_layout.unwrap_or(nic.model.vf_layout) {
            VfLayout::Contiguous => {
                let total = u16::try_from(nic.total_vfs).map_err(|_| BuildError::NoRoom(pci))?;
                let offset = (ports - u16::from(port))
                    .checked_add(u16::from(port) * total)
                    .ok_or(BuildError::NoRoom(pci))?;
                (offset, 1)
            }
            VfLayout::Interleaved { offset, stride } => (offset, stride),
        };
        if nic.sriov && nic.total_vfs > 0 {
            let last = u16::try_from(nic.total_vfs - 1).map_err(|_| BuildError::NoRoom(pci))?;
            if pci.vf_address(offset, stride, last).is_none() {
                return Err(BuildError::NoRoom(pci));
            }
        }
        let mac_bits =
            splitmix(model.seed ^ u64::from(pci.routing_id()) ^ (u64::from(pci.domain()) << 16));
        let b = mac_bits.to_le_bytes();
        // a vendor-style OUI for Mellanox (b8:59:9f) or Intel (b4:96:91)
        let oui = if nic.model.vendor == 0x15b3 {
            [0xb8, 0x59, 0x9f]
        } else {
            [0xb4, 0x96, 0x91]
        };
        let mac = MacAddress([oui[0], oui[1], oui[2], b[0], b[1], b[2]]);
        model.functions.insert(
            pci,
            PciFunction {
                pci,
                vendor: nic.model.vendor,
                device: nic.model.device,
                subsystem_vendor: nic.model.vendor,
                subsystem_device: nic.model.subsystem_device,
                class: 0x020000,
                numa_node: nic.numa_node,
                parent: parent.clone(),
                driver: None,
                kind: FunctionKind::Nic(Box::new(NicFunction {
                    model: nic.model.clone(),
                    port,
                    ifname: name,
                    mac,
                    link_up: nic.link_up,
                    sriov: nic.sriov.then(|| SriovCap {
                        total_vfs: nic.total_vfs,
                        offset,
                        stride,
                        vf_device: nic.vf_device.unwrap_or(nic.model.vf_device),
                        num_vfs: 0,
                        autoprobe: nic.autoprobe,
                        driver_vf_limit: nic.driver_vf_limit,
                        vf_table: Vec::new(),
                    }),
                })),
            },
        );
        if nic.driver_bound {
            model
                .probe(pci, &nic.model.driver)
                .map_err(|errno| BuildError::BindDriver {
                    pci,
                    driver: nic.model.driver.clone(),
                    errno,
                })?;
        }
        if let Some(&count) = nic.enable_vfs.get(port as usize)
            && count > 0
        {
            enable.push((pci, count));
        }
    }
    Ok(())
}
