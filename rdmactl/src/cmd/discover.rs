//! `rdmactl discover [--root DIR] [--json]`: SR-IOV PFs and their VFs; with `--json`, each
//! VF's RDMA device and PF-side configuration (the PF's VF table, read through the node's
//! netlink backend: a simulated host's when DIR holds one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;
use sriov_core::node::{Backends, HostRoot};
use sriov_core::{FsSysfs, PciAddress, PhysicalFunction, Sysfs, VfState};

use super::CmdError;

/// Arguments of `rdmactl discover`.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The directory holding `sys/` (a host's `/`, or a rendered or captured tree).
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The JSON shape of one PF.
#[derive(Debug, Serialize)]
pub struct PfJson {
    pci: String,
    netdev: Option<String>,
    vendor: String,
    device: String,
    driver: Option<String>,
    numa_node: Option<u32>,
    total_vfs: u32,
    num_vfs: u32,
    offset: Option<u16>,
    stride: Option<u16>,
    vf_device: Option<String>,
    drivers_autoprobe: Option<bool>,
    rdma: Option<RdmaJson>,
    vfs: Vec<VfJson>,
}

/// The JSON shape of one VF.
#[derive(Debug, Serialize)]
pub struct VfJson {
    index: u32,
    pci: String,
    netdev: Option<String>,
    driver: Option<String>,
    rdma: Option<RdmaJson>,
    config: Option<VfConfigJson>,
}

/// The JSON shape of a VF's PF-side configuration (`null` when the VF table cannot be read).
#[derive(Debug, Clone, Serialize)]
pub struct VfConfigJson {
    mac: String,
    vlan: u16,
    qos: u8,
    proto: String,
    spoofchk: bool,
    trust: bool,
    link_state: String,
    min_tx_rate: u32,
    max_tx_rate: u32,
}

impl From<&VfState> for VfConfigJson {
    fn from(s: &VfState) -> Self {
        VfConfigJson {
            mac: s.mac.to_string(),
            vlan: s.vlan.id().get(),
            qos: s.vlan.qos().get(),
            proto: s.vlan.proto().to_string(),
            spoofchk: s.spoofchk,
            trust: s.trust,
            link_state: s.link_state.to_string(),
            min_tx_rate: s.rate.min_mbps(),
            max_tx_rate: s.rate.max_mbps(),
        }
    }
}

/// The VF tables of the PFs, by PF and VF index.
pub type ConfigIndex = BTreeMap<PciAddress, BTreeMap<u32, VfState>>;

/// Reads the VF table of every PF through `net` (PFs whose table cannot be read are left out).
pub fn config_index(net: &dyn sriov_core::NetOps, pfs: &[PhysicalFunction]) -> ConfigIndex {
    pfs.iter()
        .filter_map(|pf| Some((pf.pci, sriov_core::discovery::vf_configs(net, pf)?)))
        .collect()
}

/// The JSON shape of a function's RDMA device (`null` when it has none).
#[derive(Debug, Clone, Serialize)]
pub struct RdmaJson {
    device: String,
    node_guid: Option<String>,
    port_state: Option<String>,
    link_layer: Option<String>,
    char_devices: Vec<String>,
}

/// RDMA devices by PCI function, as `discover --json` prints them.
pub type RdmaIndex = BTreeMap<PciAddress, RdmaJson>;

/// Reads the RDMA devices of a view and indexes them by PCI function (the first device of a
/// function wins; mlx5 functions have one).
pub fn rdma_index(fs: &dyn Sysfs) -> Result<RdmaIndex, CmdError> {
    let mut out = RdmaIndex::new();
    for dev in rdma_dev::discover_rdma(fs)? {
        let Some(pci) = dev.pci else { continue };
        let port = dev.first_port();
        out.entry(pci).or_insert_with(|| RdmaJson {
            device: dev.name.clone(),
            node_guid: dev.node_guid.map(|g| g.to_string()),
            port_state: port
                .and_then(|p| p.state.as_ref())
                .map(|s| s.name().to_string()),
            link_layer: port
                .and_then(|p| p.link_layer.as_ref())
                .map(ToString::to_string),
            char_devices: dev
                .char_devices
                .iter()
                .map(|c| c.path().display().to_string())
                .collect(),
        });
    }
    Ok(out)
}

impl From<&PhysicalFunction> for PfJson {
    fn from(pf: &PhysicalFunction) -> Self {
        PfJson {
            pci: pf.pci.to_string(),
            netdev: pf.netdev.clone(),
            vendor: format!("0x{:04x}", pf.vendor),
            device: format!("0x{:04x}", pf.device),
            driver: pf.driver.clone(),
            numa_node: pf.numa_node,
            total_vfs: pf.total_vfs,
            num_vfs: pf.num_vfs,
            offset: pf.offset,
            stride: pf.stride,
            vf_device: pf.vf_device.map(|d| format!("0x{d:04x}")),
            drivers_autoprobe: pf.drivers_autoprobe,
            rdma: None,
            vfs: pf
                .vfs
                .iter()
                .map(|vf| VfJson {
                    index: vf.index,
                    pci: vf.pci.to_string(),
                    netdev: vf.netdev.clone(),
                    driver: vf.driver.clone(),
                    rdma: None,
                    config: None,
                })
                .collect(),
        }
    }
}

impl PfJson {
    /// The PF's JSON with the `rdma` keys of the PF and its VFs filled from `rdma`, and each
    /// VF's `config` from `configs`.
    pub fn with_details(pf: &PhysicalFunction, rdma: &RdmaIndex, configs: &ConfigIndex) -> Self {
        let mut json = PfJson::from(pf);
        json.rdma = rdma.get(&pf.pci).cloned();
        let table = configs.get(&pf.pci);
        for (vf_json, vf) in json.vfs.iter_mut().zip(&pf.vfs) {
            vf_json.rdma = rdma.get(&vf.pci).cloned();
            vf_json.config = table.and_then(|t| t.get(&vf.index)).map(VfConfigJson::from);
        }
        json
    }
}

/// Discovers the PFs under `root`, with errors that name the root.
pub fn discover_root(root: &Path) -> Result<Vec<PhysicalFunction>, CmdError> {
    if !root.is_dir() {
        return Err(format!("root {}: not a directory", root.display()).into());
    }
    let fs = FsSysfs::new(root);
    discover_with(&fs).map_err(|e| {
        format!(
            "discover under {}: {}",
            root.display(),
            super::one_line(&*e)
        )
        .into()
    })
}

/// Discovers the PFs through any [`Sysfs`].
pub fn discover_with(fs: &dyn Sysfs) -> Result<Vec<PhysicalFunction>, CmdError> {
    Ok(sriov_core::discover(fs)?)
}

/// Prints PFs as a table.
pub fn print_table(pfs: &[PhysicalFunction], root: &Path) {
    if pfs.is_empty() {
        println!("no SR-IOV capable PFs under {}", root.join("sys").display());
        return;
    }
    println!(
        "{:<13} {:<14} {:<10} {:<10} {:<5} {:>7}",
        "PF", "NETDEV", "ID", "DRIVER", "NUMA", "VFS"
    );
    for pf in pfs {
        println!(
            "{:<13} {:<14} {:<10} {:<10} {:<5} {:>7}",
            pf.pci.to_string(),
            pf.netdev.as_deref().unwrap_or("-"),
            format!("{:04x}:{:04x}", pf.vendor, pf.device),
            pf.driver.as_deref().unwrap_or("-"),
            pf.numa_node
                .map_or_else(|| "-".to_string(), |n| n.to_string()),
            format!("{}/{}", pf.num_vfs, pf.total_vfs),
        );
        for vf in &pf.vfs {
            println!(
                "  vf {:<4} {:<13} {:<14} {}",
                vf.index,
                vf.pci.to_string(),
                vf.netdev.as_deref().unwrap_or("-"),
                vf.driver.as_deref().unwrap_or("-"),
            );
        }
    }
}

/// Prints PFs as the documented JSON object, each PF and VF with its `rdma` object (or
/// `null`), each VF with its `config` (or `null`).
pub fn print_json(
    pfs: &[PhysicalFunction],
    rdma: &RdmaIndex,
    configs: &ConfigIndex,
) -> Result<(), CmdError> {
    #[derive(Serialize)]
    struct Out {
        pfs: Vec<PfJson>,
    }
    let out = Out {
        pfs: pfs
            .iter()
            .map(|pf| PfJson::with_details(pf, rdma, configs))
            .collect(),
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Runs `rdmactl discover`.
pub fn run(args: DiscoverArgs) -> Result<(), CmdError> {
    let pfs = discover_root(&args.root)?;
    if args.json {
        let rdma = rdma_index(&FsSysfs::new(&args.root)).map_err(|e| {
            format!(
                "RDMA discovery under {}: {}",
                args.root.display(),
                super::one_line(&*e)
            )
        })?;
        let backends = Backends::open(&HostRoot::new(&args.root))
            .map_err(|e| format!("open the backends of {}: {e}", args.root.display()))?;
        let configs = config_index(&*backends.net, &pfs);
        print_json(&pfs, &rdma, &configs)
    } else {
        print_table(&pfs, &args.root);
        Ok(())
    }
}
