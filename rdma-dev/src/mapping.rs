//! Which netdev belongs to an RDMA port, by the rules of MOFED's `ibdev2netdev`:
//! 1. Ethernet (RoCE): the netdev named in `ports/N/gid_attrs/ndevs/0`;
//! 2. InfiniBand: the IPoIB netdevs (`type` 32) whose 20-byte address ends with the low 8 bytes
//!    of `ports/N/gids/0` (the port GUID);
//! 3. otherwise (old kernels without `gid_attrs`, nothing found): the netdevs of the same PCI
//!    function whose port number, `max(dev_id, dev_port) + 1`, is N.
//!
//! One check is added to the script's rules: a netdev found by name must be visible in this
//! namespace and, when it has a `device` link, belong to the same PCI function; otherwise it
//! is reported as not present (it lives in another namespace, and a local netdev that only
//! shares its name is not taken for it).

use std::path::Path;

use serde::Serialize;
use sriov_core::Sysfs;

use crate::attrs::{Gid, HwAddr, LinkLayer, parse_decimal, parse_hex_u16};
use crate::error::Result;
use crate::read::{list_opt, natural_sort, parse_opt, text_lenient, text_opt};

/// How a port's netdev was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    /// Named by `gid_attrs/ndevs/0` (RoCE).
    GidNdev,
    /// An IPoIB netdev whose address carries the port GUID (InfiniBand).
    IpoibGuid,
    /// A netdev of the same PCI function with the port's number.
    SamePciFunction,
}

/// A netdev of an RDMA port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PortNetdev {
    /// Its name.
    pub name: String,
    /// How it was found.
    pub rule: MatchRule,
    /// Visible in this namespace (and not a namesake of another function's netdev).
    pub present: bool,
    /// Its `operstate` is `up` (false when not present).
    pub up: bool,
}

/// State shared while mapping many ports: the IPoIB netdevs of `/sys/class/net`, read once.
#[derive(Debug, Default)]
pub struct MapContext {
    ipoib: Option<Vec<(String, [u8; 8])>>,
}

impl MapContext {
    /// A fresh context.
    pub fn new() -> Self {
        MapContext::default()
    }

    fn ipoib<'a>(&'a mut self, fs: &dyn Sysfs) -> Result<&'a [(String, [u8; 8])]> {
        if self.ipoib.is_none() {
            let mut found = Vec::new();
            let class = Path::new("/sys/class/net");
            let mut names = list_opt(fs, class)?.unwrap_or_default();
            natural_sort(&mut names);
            for name in names {
                let dir = class.join(&name);
                if text_lenient(fs, &dir.join("type")).as_deref() != Some("32") {
                    continue;
                }
                let addr = text_lenient(fs, &dir.join("address"))
                    .and_then(|a| a.parse::<HwAddr>().ok())
                    .and_then(|a| a.ipoib_guid());
                if let Some(guid) = addr {
                    found.push((name, guid));
                }
            }
            self.ipoib = Some(found);
        }
        Ok(self.ipoib.as_deref().unwrap_or(&[]))
    }
}

/// Looks a netdev up by name in this namespace. It belongs to RDMA device `ibdev` when it is
/// in the device's PCI function's `net/`; one that is not there but has a `device` link of its
/// own, while `ibdev` has one too, is another function's netdev that only shares the name.
/// Virtual netdevs (a bond under RoCE LAG) have no `device` link and are taken as named.
fn check(fs: &dyn Sysfs, ibdev: &str, name: &str, rule: MatchRule) -> Result<PortNetdev> {
    let dir = Path::new("/sys/class/net").join(name);
    let operstate = text_opt(fs, &dir.join("operstate"))?;
    let mut present = operstate.is_some();
    if present {
        let own = Path::new("/sys/class/infiniband")
            .join(ibdev)
            .join("device");
        if fs.entry_kind(&own.join("net").join(name)).is_err() {
            let namesake =
                fs.entry_kind(&own).is_ok() && fs.entry_kind(&dir.join("device")).is_ok();
            present = !namesake;
        }
    }
    Ok(PortNetdev {
        name: name.to_string(),
        rule,
        present,
        up: present && operstate.as_deref() == Some("up"),
    })
}

/// The port number a netdev serves: `max(dev_id, dev_port) + 1` (1 when it says nothing).
fn netdev_port(fs: &dyn Sysfs, dir: &Path) -> u32 {
    let dev_id = text_lenient(fs, &dir.join("dev_id"))
        .and_then(|t| parse_hex_u16(&t).ok())
        .map_or(0, u32::from);
    let dev_port = text_lenient(fs, &dir.join("dev_port"))
        .and_then(|t| parse_decimal(&t).ok())
        .unwrap_or(0);
    dev_id.max(dev_port).saturating_add(1)
}

/// The netdevs of port `port` of RDMA device `ibdev`, by the rules in the module docs. An
/// empty list when none is found. `link_layer` is the port's, when the caller has read it;
/// otherwise `gid_attrs/ndevs/0` is tried first (it names a netdev only on RoCE ports) and the
/// link layer is read only when it does not.
pub fn port_netdevs(
    fs: &dyn Sysfs,
    ctx: &mut MapContext,
    ibdev: &str,
    port: u32,
    link_layer: Option<&LinkLayer>,
) -> Result<Vec<PortNetdev>> {
    let port_dir = Path::new("/sys/class/infiniband")
        .join(ibdev)
        .join("ports")
        .join(port.to_string());
    let read_layer;
    let link_layer = match link_layer {
        Some(l) => Some(l),
        None => {
            if let Some(name) = text_lenient(fs, &port_dir.join("gid_attrs/ndevs/0"))
                && !name.is_empty()
            {
                return Ok(vec![check(fs, ibdev, &name, MatchRule::GidNdev)?]);
            }
            read_layer = parse_opt::<LinkLayer>(fs, &port_dir.join("link_layer"))?;
            read_layer.as_ref()
        }
    };
    if link_layer == Some(&LinkLayer::InfiniBand) {
        let gid0 = text_lenient(fs, &port_dir.join("gids/0")).and_then(|t| t.parse::<Gid>().ok());
        if let Some(gid) = gid0.filter(|g| !g.is_zero()) {
            let guid = gid.interface_id();
            let names: Vec<String> = ctx
                .ipoib(fs)?
                .iter()
                .filter(|(_, g)| *g == guid)
                .map(|(n, _)| n.clone())
                .collect();
            if !names.is_empty() {
                return names
                    .iter()
                    .map(|n| check(fs, ibdev, n, MatchRule::IpoibGuid))
                    .collect();
            }
        }
    } else if let Some(name) = text_lenient(fs, &port_dir.join("gid_attrs/ndevs/0"))
        && !name.is_empty()
    {
        return Ok(vec![check(fs, ibdev, &name, MatchRule::GidNdev)?]);
    }
    // the same PCI function's netdevs with this port number
    let net = Path::new("/sys/class/infiniband")
        .join(ibdev)
        .join("device/net");
    let mut names = list_opt(fs, &net)?.unwrap_or_default();
    natural_sort(&mut names);
    let mut out = Vec::new();
    for name in names {
        if netdev_port(fs, &net.join(&name)) == port {
            out.push(check(fs, ibdev, &name, MatchRule::SamePciFunction)?);
        }
    }
    Ok(out)
}
