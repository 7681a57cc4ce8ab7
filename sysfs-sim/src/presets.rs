//! Named hosts ([`Preset`]): the reference deployment's worker node and two larger ones.

use std::fmt;
use std::str::FromStr;

use sriov_core::PciAddress;

use crate::builder::{BuildError, HostBuilder, NicSpec};
use crate::host::SimHost;
use crate::nic_model::NicModel;

/// Function 0 of device 0 on `bus` in domain 0, `0000:<bus>:00.0`: where each preset card's
/// first port sits.
const fn bus_start(bus: u8) -> PciAddress {
    PciAddress::from_routing_id(0, (bus as u16) << 8)
}

/// A named simulated host, as `rdmactl sim render --preset NAME` takes it.
///
/// ```
/// use sysfs_sim::Preset;
/// let preset: Preset = "mixed".parse().unwrap();
/// assert_eq!(preset, Preset::Mixed);
/// assert_eq!(Preset::ALL.map(|p| p.to_string()), ["reference", "large", "mixed"]);
/// assert!("nope".parse::<Preset>().is_err());
/// let pfs = sriov_core::discover(&preset.build(1).unwrap().sysfs()).unwrap();
/// assert_eq!(pfs.len(), 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// The reference deployment's worker node: one dual-port ConnectX-5 (`mlx5_core`, PCI ID
    /// 15b3:1017, VFs 15b3:1018) behind root port `0000:3a:00.0`, NUMA node 0, 8 total VFs per
    /// port, with the 8 VFs of PF0 enabled as the seed's device plugin does. PF1 has none
    /// enabled; its VFs would start at `0000:3b:01.2` (offset 9).
    ///
    /// | function | PCI address | netdev | RDMA device | char devices |
    /// | --- | --- | --- | --- | --- |
    /// | PF0 | `0000:3b:00.0` | `ens2f0` | `mlx5_0` | `uverbs0` `umad0` `issm0` |
    /// | PF1 | `0000:3b:00.1` | `ens2f1` | `mlx5_1` | `uverbs1` `umad1` `issm1` |
    /// | PF0 VF 0 | `0000:3b:00.2` | `ens2f0v0` | `mlx5_2` | `uverbs2` `umad2` `issm2` |
    /// | PF0 VF 1 | `0000:3b:00.3` | `ens2f0v1` | `mlx5_3` | `uverbs3` `umad3` `issm3` |
    /// | PF0 VF 2 | `0000:3b:00.4` | `ens2f0v2` | `mlx5_4` | `uverbs4` `umad4` `issm4` |
    /// | PF0 VF 3 | `0000:3b:00.5` | `ens2f0v3` | `mlx5_5` | `uverbs5` `umad5` `issm5` |
    /// | PF0 VF 4 | `0000:3b:00.6` | `ens2f0v4` | `mlx5_6` | `uverbs6` `umad6` `issm6` |
    /// | PF0 VF 5 | `0000:3b:00.7` | `ens2f0v5` | `mlx5_7` | `uverbs7` `umad7` `issm7` |
    /// | PF0 VF 6 | `0000:3b:01.0` | `ens2f0v6` | `mlx5_8` | `uverbs8` `umad8` `issm8` |
    /// | PF0 VF 7 | `0000:3b:01.1` | `ens2f0v7` | `mlx5_9` | `uverbs9` `umad9` `issm9` |
    ///
    /// VF 3 (`0000:3b:00.5`, `ens2f0v3`, `mlx5_5`) is the seed's `mlx5_5 port 1 ==> net1` once
    /// it is in a pod and renamed. Every netdev starts down. The character devices, under
    /// `/dev/infiniband`, are `uverbsN` (231:192+N), `umadN` (231:N) and `issmN` (231:64+N) of
    /// `mlx5_N`, and `rdma_cm` (10:58).
    ///
    /// MACs: the PFs' are `b8:59:9f:xx:xx:xx` (a Mellanox OUI, the rest drawn from the seed); the
    /// VFs have no admin MAC, so their netdevs get locally administered unicast MACs drawn from
    /// the seed. The same seed gives the same MACs.
    ///
    /// ```
    /// use std::path::Path;
    /// use sriov_core::{NetOps, Netns, Sysfs};
    /// use sysfs_sim::Preset;
    /// let host = Preset::Reference.build(42).unwrap();
    /// let fs = host.sysfs();
    /// let ls = |dir: String| fs.read_dir(Path::new(&dir)).unwrap();
    /// // PCI address, netdev, RDMA device, its uverbs and umad devices, as in the table
    /// let functions = [
    ///     ("0000:3b:00.0", "ens2f0", "mlx5_0", "uverbs0", "umad0"),
    ///     ("0000:3b:00.1", "ens2f1", "mlx5_1", "uverbs1", "umad1"),
    ///     ("0000:3b:00.2", "ens2f0v0", "mlx5_2", "uverbs2", "umad2"),
    ///     ("0000:3b:00.3", "ens2f0v1", "mlx5_3", "uverbs3", "umad3"),
    ///     ("0000:3b:00.4", "ens2f0v2", "mlx5_4", "uverbs4", "umad4"),
    ///     ("0000:3b:00.5", "ens2f0v3", "mlx5_5", "uverbs5", "umad5"),
    ///     ("0000:3b:00.6", "ens2f0v4", "mlx5_6", "uverbs6", "umad6"),
    ///     ("0000:3b:00.7", "ens2f0v5", "mlx5_7", "uverbs7", "umad7"),
    ///     ("0000:3b:01.0", "ens2f0v6", "mlx5_8", "uverbs8", "umad8"),
    ///     ("0000:3b:01.1", "ens2f0v7", "mlx5_9", "uverbs9", "umad9"),
    /// ];
    /// for (pci, netdev, ibdev, uverbs, umad) in functions {
    ///     let dir = format!("/sys/bus/pci/devices/{pci}");
    ///     assert_eq!(ls(format!("{dir}/net")), [netdev]);
    ///     assert_eq!(ls(format!("{dir}/infiniband")), [ibdev]);
    ///     assert_eq!(ls(format!("{dir}/infiniband_verbs")), [uverbs]);
    ///     assert!(ls(format!("{dir}/infiniband_mad")).contains(&umad.to_string()));
    /// }
    /// let pfs = sriov_core::discover(&fs).unwrap();
    /// assert_eq!(pfs[1].vf_address(0).unwrap().to_string(), "0000:3b:01.2");
    /// assert!(host.net_ops().links(&Netns::Host).unwrap().iter().all(|l| !l.admin_up));
    /// let physfn = fs.read_link(Path::new("/sys/bus/pci/devices/0000:3b:00.2/physfn")).unwrap();
    /// assert_eq!(physfn, Path::new("../0000:3b:00.0"));
    /// let nodes: Vec<_> = host.rdma_dev_nodes().into_iter().map(|n| (n.path, n.major, n.minor)).collect();
    /// for n in 0..10u32 {
    ///     let dev = |name: String| Path::new("/dev/infiniband").join(name);
    ///     assert!(nodes.contains(&(dev(format!("uverbs{n}")), 231, 192 + n)));
    ///     assert!(nodes.contains(&(dev(format!("umad{n}")), 231, n)));
    ///     assert!(nodes.contains(&(dev(format!("issm{n}")), 231, 64 + n)));
    /// }
    /// assert!(nodes.contains(&("/dev/infiniband/rdma_cm".into(), 10, 58)));
    /// assert_eq!(nodes.len(), 31);
    /// let mac = |host: &sysfs_sim::SimHost, name: &str| {
    ///     host.net_ops().link(&Netns::Host, name).unwrap().mac.unwrap()
    /// };
    /// assert_eq!(mac(&host, "ens2f1").0[..3], [0xb8, 0x59, 0x9f]);
    /// let vf_mac = mac(&host, "ens2f0v0");
    /// assert!(vf_mac.is_locally_administered() && vf_mac.is_unicast());
    /// assert_eq!(vf_mac, mac(&Preset::Reference.build(42).unwrap(), "ens2f0v0"));
    /// ```
    Reference,
    /// A large host: four dual-port ConnectX-6 Dx cards (first ports at `0000:18:00.0`,
    /// `0000:3b:00.0`, `0000:86:00.0`, `0000:af:00.0`; PFs `ens<card>f0np0`/`ens<card>f1np1`)
    /// on two NUMA nodes, 8 PFs with all 127 VFs enabled on each (1,016 VFs).
    Large,
    /// A mixed host: a ConnectX-5 with VFs, an E810 with VFs, an I350 (offset 128, stride 4)
    /// with VFs, a ConnectX-4 Lx with autoprobe off (VFs without drivers) and a ConnectX-6
    /// whose driver is not bound.
    Mixed,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 3] = [Preset::Reference, Preset::Large, Preset::Mixed];

    /// The preset's name (`reference`, `large`, `mixed`).
    pub fn name(self) -> &'static str {
        match self {
            Preset::Reference => "reference",
            Preset::Large => "large",
            Preset::Mixed => "mixed",
        }
    }

    /// The builder of the preset's host, for changing it before it is built; MACs and other
    /// generated identifiers follow from `seed`.
    pub fn builder(self, seed: u64) -> HostBuilder {
        match self {
            Preset::Reference => reference(seed),
            Preset::Large => large(seed),
            Preset::Mixed => mixed(seed),
        }
    }

    /// Builds the preset's host from `seed`.
    pub fn build(self, seed: u64) -> Result<SimHost, BuildError> {
        self.builder(seed).build()
    }
}

/// The names of [`Preset::ALL`], comma-separated (for error messages).
pub(crate) fn known_names() -> String {
    Preset::ALL.map(Preset::name).join(", ")
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = BuildError;

    /// A preset by its name; [`BuildError::UnknownPreset`] lists the known ones.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| BuildError::UnknownPreset(s.to_string()))
    }
}

fn reference(seed: u64) -> HostBuilder {
    HostBuilder::new(seed).nic(
        NicSpec::new(NicModel::connectx5(), bus_start(0x3b))
            .ports(2)
            .names(["ens2f0", "ens2f1"])
            .total_vfs(8)
            .numa_node(Some(0))
            .enable_vfs([8]),
    )
}

fn large(seed: u64) -> HostBuilder {
    let mut b = HostBuilder::new(seed);
    for (i, bus) in [0x18, 0x3b, 0x86, 0xaf].into_iter().enumerate() {
        b = b.nic(
            NicSpec::new(NicModel::connectx6_dx(), bus_start(bus))
                .ports(2)
                .names([format!("ens{}f0np0", i + 1), format!("ens{}f1np1", i + 1)])
                .total_vfs(127)
                .numa_node(Some(u32::from(i >= 2)))
                .enable_vfs([127, 127]),
        );
    }
    b
}

fn mixed(seed: u64) -> HostBuilder {
    HostBuilder::new(seed)
        .nic(
            NicSpec::new(NicModel::connectx5(), bus_start(0x3b))
                .ports(2)
                .names(["ens2f0", "ens2f1"])
                .enable_vfs([4, 2]),
        )
        .nic(
            NicSpec::new(NicModel::e810(), bus_start(0xa2))
                .names(["enp162s0f0np0"])
                .total_vfs(16)
                .numa_node(Some(1))
                .enable_vfs([3]),
        )
        .nic(
            NicSpec::new(NicModel::i350(), bus_start(0x45))
                .ports(2)
                .names(["ens10f0", "ens10f1"])
                .numa_node(None)
                .enable_vfs([3]),
        )
        .nic(
            NicSpec::new(NicModel::connectx4_lx(), bus_start(0x5e))
                .names(["ens5f0"])
                .autoprobe(false)
                .enable_vfs([2]),
        )
        .nic(
            NicSpec::new(NicModel::connectx6(), bus_start(0xd8))
                .names(["ens7f0"])
                .driver_bound(false),
        )
}
