//! Discovery of RDMA devices from `/sys/class/infiniband`: identity (GUIDs, firmware, HCA
//! type, board), the PCI function, each port's state, link layer and netdevs (see
//! [`mapping`](crate::mapping)), and the character devices.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sriov_core::{PciAddress, Sysfs};

use crate::attrs::{Gid, Guid, LinkLayer, NodeType, PhysState, PortState, parse_decimal};
use crate::chardev::{CharDevice, char_devices_of};
use crate::error::{Error, Result};
use crate::mapping::{MapContext, PortNetdev, port_netdevs};
use crate::read::{link_pci, list_opt, natural_sort, parse_opt, text_lenient, text_opt};

/// `/sys/class/infiniband`.
pub const CLASS_INFINIBAND: &str = "/sys/class/infiniband";

/// `/sys/class/infiniband/<name>`.
pub fn device_dir(name: &str) -> PathBuf {
    Path::new(CLASS_INFINIBAND).join(name)
}

/// One port of an RDMA device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RdmaPort {
    /// Port number (from 1).
    pub number: u32,
    /// Logical state.
    pub state: Option<PortState>,
    /// Physical state.
    pub phys_state: Option<PhysState>,
    /// Link layer.
    pub link_layer: Option<LinkLayer>,
    /// `rate`, as printed (`25 Gb/sec (1X EDR)`).
    pub rate: Option<String>,
    /// `gids/0`, when set.
    pub gid0: Option<Gid>,
    /// Its netdevs, by the `ibdev2netdev` rules.
    pub netdevs: Vec<PortNetdev>,
}

impl RdmaPort {
    /// True when the port is ACTIVE.
    pub fn is_active(&self) -> bool {
        self.state == Some(PortState::Active)
    }
}

/// An RDMA device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RdmaDevice {
    /// Its name (`mlx5_0`).
    pub name: String,
    /// The PCI function it belongs to (its `device` link).
    pub pci: Option<PciAddress>,
    /// `node_type`.
    pub node_type: Option<NodeType>,
    /// `node_guid`.
    pub node_guid: Option<Guid>,
    /// `sys_image_guid`.
    pub sys_image_guid: Option<Guid>,
    /// `fw_ver`.
    pub fw_ver: Option<String>,
    /// `hca_type` (`MT4119`).
    pub hca_type: Option<String>,
    /// `board_id` (the PSID).
    pub board_id: Option<String>,
    /// Ports, by number.
    pub ports: Vec<RdmaPort>,
    /// `uverbs`, `umad`, `issm` devices.
    pub char_devices: Vec<CharDevice>,
}

impl RdmaDevice {
    /// Port 1, where most code looks.
    pub fn first_port(&self) -> Option<&RdmaPort> {
        self.ports.first()
    }
}

/// The names in `/sys/class/infiniband` in this namespace's view, in natural order
/// (`mlx5_2` before `mlx5_10`); empty when the class does not exist.
pub fn device_names(fs: &dyn Sysfs) -> Result<Vec<String>> {
    let mut names = list_opt(fs, Path::new(CLASS_INFINIBAND))?.unwrap_or_default();
    natural_sort(&mut names);
    Ok(names)
}

/// The port numbers of a device, sorted.
pub fn port_numbers(fs: &dyn Sysfs, name: &str) -> Result<Vec<u32>> {
    let mut ports: Vec<u32> = list_opt(fs, &device_dir(name).join("ports"))?
        .unwrap_or_default()
        .iter()
        .filter_map(|p| parse_decimal(p).ok())
        .collect();
    ports.sort_unstable();
    Ok(ports)
}

fn read_port(fs: &dyn Sysfs, ctx: &mut MapContext, name: &str, number: u32) -> Result<RdmaPort> {
    let dir = device_dir(name).join("ports").join(number.to_string());
    let link_layer: Option<LinkLayer> = parse_opt(fs, &dir.join("link_layer"))?;
    let gid0 = text_lenient(fs, &dir.join("gids/0"))
        .map(|t| {
            t.parse::<Gid>().map_err(|source| Error::ParseAttr {
                path: dir.join("gids/0"),
                source,
            })
        })
        .transpose()?
        .filter(|g| !g.is_zero());
    let netdevs = port_netdevs(fs, ctx, name, number, link_layer.as_ref())?;
    Ok(RdmaPort {
        number,
        state: parse_opt(fs, &dir.join("state"))?,
        phys_state: parse_opt(fs, &dir.join("phys_state"))?,
        link_layer,
        rate: text_opt(fs, &dir.join("rate"))?,
        gid0,
        netdevs,
    })
}

/// Reads one device by name, sharing `ctx` with other reads.
pub fn read_device_with(fs: &dyn Sysfs, ctx: &mut MapContext, name: &str) -> Result<RdmaDevice> {
    let dir = device_dir(name);
    let pci = link_pci(fs, &dir.join("device"))?;
    let mut ports = Vec::new();
    for number in port_numbers(fs, name)? {
        ports.push(read_port(fs, ctx, name, number)?);
    }
    Ok(RdmaDevice {
        name: name.to_string(),
        pci,
        node_type: parse_opt(fs, &dir.join("node_type"))?,
        node_guid: parse_opt(fs, &dir.join("node_guid"))?,
        sys_image_guid: parse_opt(fs, &dir.join("sys_image_guid"))?,
        fw_ver: text_opt(fs, &dir.join("fw_ver"))?,
        hca_type: text_opt(fs, &dir.join("hca_type"))?,
        board_id: text_opt(fs, &dir.join("board_id"))?,
        ports,
        char_devices: char_devices_of(fs, name)?,
    })
}

/// Reads one device by name.
pub fn read_device(fs: &dyn Sysfs, name: &str) -> Result<RdmaDevice> {
    read_device_with(fs, &mut MapContext::new(), name)
}

/// Every RDMA device this namespace's view shows, in natural name order.
///
/// ```
/// let host = sysfs_sim::Preset::Reference.build(1).unwrap();
/// let devs = rdma_dev::discover_rdma(&host.sysfs()).unwrap();
/// // two PFs register first, then PF0's 8 VFs
/// assert_eq!(devs.len(), 10);
/// assert_eq!(devs[0].name, "mlx5_0");
/// assert_eq!(devs[0].pci.unwrap().to_string(), "0000:3b:00.0");
/// assert_eq!(devs[0].ports[0].netdevs[0].name, "ens2f0");
/// ```
pub fn discover_rdma(fs: &dyn Sysfs) -> Result<Vec<RdmaDevice>> {
    let mut ctx = MapContext::new();
    device_names(fs)?
        .iter()
        .map(|name| read_device_with(fs, &mut ctx, name))
        .collect()
}

/// The RDMA devices of PCI function `pci` in this view: the names under
/// `/sys/bus/pci/devices/<pci>/infiniband/`, sorted.
pub fn devices_of_function(fs: &dyn Sysfs, pci: PciAddress) -> Result<Vec<String>> {
    let dir = sriov_core::sysfs::paths::pci_device(&pci).join("infiniband");
    let mut names = list_opt(fs, &dir)?.unwrap_or_default();
    natural_sort(&mut names);
    Ok(names)
}

/// The one RDMA device of PCI function `pci` (as the RDMA CNI requires: exactly one).
pub fn device_of_function(fs: &dyn Sysfs, pci: PciAddress) -> Result<String> {
    let mut names = devices_of_function(fs, pci)?;
    match names.len() {
        0 => Err(Error::NoRdmaDevice { pci }),
        1 => Ok(names.remove(0)),
        _ => Err(Error::SeveralRdmaDevices { pci, names }),
    }
}
