//! `rdmactl discover [--root DIR] [--json]`: SR-IOV PFs and their VFs.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;
use sriov_core::{FsSysfs, PhysicalFunction, Sysfs};

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
    vfs: Vec<VfJson>,
}

/// The JSON shape of one VF.
#[derive(Debug, Serialize)]
pub struct VfJson {
    index: u32,
    pci: String,
    netdev: Option<String>,
    driver: Option<String>,
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
            vfs: pf
                .vfs
                .iter()
                .map(|vf| VfJson {
                    index: vf.index,
                    pci: vf.pci.to_string(),
                    netdev: vf.netdev.clone(),
                    driver: vf.driver.clone(),
                })
                .collect(),
        }
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

/// Prints PFs as the documented JSON object.
pub fn print_json(pfs: &[PhysicalFunction]) -> Result<(), CmdError> {
    #[derive(Serialize)]
    struct Out {
        pfs: Vec<PfJson>,
    }
    let out = Out {
        pfs: pfs.iter().map(PfJson::from).collect(),
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Runs `rdmactl discover`.
pub fn run(args: DiscoverArgs) -> Result<(), CmdError> {
    let pfs = discover_root(&args.root)?;
    if args.json {
        print_json(&pfs)
    } else {
        print_table(&pfs, &args.root);
        Ok(())
    }
}
