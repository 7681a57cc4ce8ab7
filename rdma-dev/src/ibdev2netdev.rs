//! `ibdev2netdev`: one line per RDMA port and netdev, `mlx5_0 port 1 ==> ens2f0 (Up)`; the
//! verbose form adds the PCI address, HCA type, board, part name, firmware and port state:
//! `0000:3b:00.0 mlx5_0 (MT4119 - MT_0000000008) ConnectX-5 fw 16.35.2000 port 1 (ACTIVE) ==>
//! ens2f0 (Up)`. It reads only what the lines need, so it stays fast on hosts with a thousand
//! devices.

use std::fmt::Write as _;

use serde::Serialize;
use sriov_core::{PciAddress, Sysfs};

use crate::attrs::PortState;
use crate::device::{device_dir, device_names, port_numbers};
use crate::error::Result;
use crate::ids::part_name;
use crate::mapping::{MapContext, MatchRule, port_netdevs};
use crate::read::{link_pci, parse_opt, text_opt};

/// The verbose fields of a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verbose {
    /// The PCI function.
    pub pci: Option<PciAddress>,
    /// `hca_type`.
    pub hca_type: Option<String>,
    /// `board_id`.
    pub board_id: Option<String>,
    /// The part's name from its PCI device ID (`ConnectX-5`).
    pub part: Option<String>,
    /// `fw_ver`.
    pub fw_ver: Option<String>,
    /// The port's state.
    pub port_state: Option<PortState>,
}

/// One line of `ibdev2netdev`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// The RDMA device.
    pub device: String,
    /// The port.
    pub port: u32,
    /// The netdev, when one was found.
    pub netdev: Option<String>,
    /// How it was found.
    pub rule: Option<MatchRule>,
    /// The netdev is present here and up.
    pub up: bool,
    /// The verbose fields, when asked for.
    pub verbose: Option<Verbose>,
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("?")
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        if let Some(v) = &self.verbose {
            let pci = v.pci.map_or_else(|| "?".to_string(), |p| p.to_string());
            let _ = write!(
                out,
                "{pci} {} ({} - {}) {} fw {} ",
                self.device,
                opt(&v.hca_type),
                opt(&v.board_id),
                opt(&v.part),
                opt(&v.fw_ver)
            );
            let state = v.port_state.as_ref().map_or("?", |s| s.name());
            let _ = write!(out, "port {} ({state}) ", self.port);
        } else {
            let _ = write!(out, "{} port {} ", self.device, self.port);
        }
        let _ = write!(
            out,
            "==> {} ({})",
            self.netdev.as_deref().unwrap_or("none"),
            if self.up { "Up" } else { "Down" }
        );
        f.write_str(&out)
    }
}

/// How much each `ibdev2netdev` line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Detail {
    /// `mlx5_5 port 1 ==> net1 (Up)`, as `ibdev2netdev` prints.
    #[default]
    Brief,
    /// With the PCI address, HCA type, board ID, part, firmware and port state first, as
    /// `ibdev2netdev -v` prints.
    Verbose,
}

/// The `ibdev2netdev` lines of this namespace's view, devices in natural order.
///
/// ```
/// let host = sysfs_sim::Preset::Reference.build(1).unwrap();
/// let lines = rdma_dev::ibdev2netdev(&host.sysfs(), rdma_dev::Detail::Brief).unwrap();
/// assert_eq!(lines[0].to_string(), "mlx5_0 port 1 ==> ens2f0 (Down)"); // admin down
/// assert_eq!(lines[2].to_string(), "mlx5_2 port 1 ==> ens2f0v0 (Down)");
/// ```
pub fn ibdev2netdev(fs: &dyn Sysfs, detail: Detail) -> Result<Vec<Line>> {
    let mut ctx = MapContext::new();
    let mut lines = Vec::new();
    for name in device_names(fs)? {
        let dir = device_dir(&name);
        let identity = if detail == Detail::Verbose {
            let pci = link_pci(fs, &dir.join("device"))?;
            let hca_type = text_opt(fs, &dir.join("hca_type"))?;
            let part = hca_type
                .as_deref()
                .and_then(|t| t.strip_prefix("MT"))
                .and_then(|n| n.parse::<u16>().ok())
                .and_then(part_name)
                .map(str::to_string);
            Some(Verbose {
                pci,
                hca_type,
                board_id: text_opt(fs, &dir.join("board_id"))?,
                part,
                fw_ver: text_opt(fs, &dir.join("fw_ver"))?,
                port_state: None,
            })
        } else {
            None
        };
        for port in port_numbers(fs, &name)? {
            let pdir = dir.join("ports").join(port.to_string());
            let verbose = match &identity {
                Some(v) => Some(Verbose {
                    port_state: parse_opt(fs, &pdir.join("state"))?,
                    ..v.clone()
                }),
                None => None,
            };
            let netdevs = port_netdevs(fs, &mut ctx, &name, port, None)?;
            if netdevs.is_empty() {
                lines.push(Line {
                    device: name.clone(),
                    port,
                    netdev: None,
                    rule: None,
                    up: false,
                    verbose,
                });
                continue;
            }
            for nd in netdevs {
                lines.push(Line {
                    device: name.clone(),
                    port,
                    netdev: Some(nd.name),
                    rule: Some(nd.rule),
                    up: nd.up,
                    verbose: verbose.clone(),
                });
            }
        }
    }
    Ok(lines)
}
