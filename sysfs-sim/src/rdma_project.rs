//! The RDMA part of the sysfs projection: `class/infiniband/<dev>` with its attributes and port,
//! `infiniband_verbs/uverbsN`, `infiniband_mad/{umadN,issmN}`, the classes' `abi_version`,
//! and `rdma_cm`'s misc device, laid out and printed as the kernel does.
//!
//! Quirks kept: unused `gids/K` print the all-zero GID while unused `gid_attrs/ndevs/K` and
//! `gid_attrs/types/K` fail with EINVAL; the port's state follows its netdev's operational state
//! (ACTIVE/LinkUp when up and running, DOWN/Disabled otherwise); `gid_attrs/ndevs/0` names the
//! netdev as it is called now, wherever it is; in exclusive mode a device's directory and class
//! link are visible only in its namespace.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use sriov_core::{MacAddress, PciAddress, RdmaNetnsMode};

use crate::model::{FunctionKind, Model, Netdev, NetdevKind, PciFunction};
use crate::project::{depth_below_sys, function_dir, up};
use crate::rdma::{
    IB_MAJOR, RDMA_CM_DEV, RdmaDevice, UMAD_DYNAMIC_MAJOR, UMAD_FIXED_MINORS, UVERBS_BASE_MINOR,
    UVERBS_DYNAMIC_MAJOR, UVERBS_FIXED_MINORS,
};
use crate::tree::{ALL_NS, File, Node, SysfsTree, Value};

/// `dev` of `uverbsN`.
pub fn uverbs_dev(n: u32) -> (u32, u32) {
    if n < UVERBS_FIXED_MINORS {
        (IB_MAJOR, UVERBS_BASE_MINOR + n)
    } else {
        (UVERBS_DYNAMIC_MAJOR, n - UVERBS_FIXED_MINORS)
    }
}

/// `dev` of `umadN`.
pub fn umad_dev(n: u32) -> (u32, u32) {
    if n < UMAD_FIXED_MINORS {
        (IB_MAJOR, n)
    } else {
        (UMAD_DYNAMIC_MAJOR, 2 * (n - UMAD_FIXED_MINORS))
    }
}

/// `dev` of `issmN`.
pub fn issm_dev(n: u32) -> (u32, u32) {
    if n < UMAD_FIXED_MINORS {
        (IB_MAJOR, UMAD_FIXED_MINORS + n)
    } else {
        (UMAD_DYNAMIC_MAJOR, 2 * (n - UMAD_FIXED_MINORS) + 1)
    }
}

/// A GUID as sysfs prints it: four groups of four hex digits.
pub fn format_guid(guid: u64) -> String {
    let b = guid.to_be_bytes();
    format!(
        "{:02x}{:02x}:{:02x}{:02x}:{:02x}{:02x}:{:02x}{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]
    )
}

/// A GID as sysfs prints it: eight groups of four hex digits, zeros kept.
pub fn format_gid(gid: &[u8; 16]) -> String {
    gid.chunks(2)
        .map(|c| format!("{:02x}{:02x}", c[0], c[1]))
        .collect::<Vec<_>>()
        .join(":")
}

/// The default RoCE GID of a MAC: `fe80::` and the modified EUI-64 (U/L bit flipped, `ff:fe`
/// in the middle).
pub fn default_gid(mac: MacAddress) -> [u8; 16] {
    let m = mac.0;
    let mut g = [0u8; 16];
    g[0] = 0xfe;
    g[1] = 0x80;
    g[8..16].copy_from_slice(&[m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]);
    g
}

/// The RoCE GID table of a port whose netdev is `dev`: the default GID as RoCE v1 and v2, then
/// each IPv4 address (IPv4-mapped) and each global IPv6 address as v1 and v2.
pub fn gid_table(dev: &Netdev) -> Vec<([u8; 16], &'static str)> {
    let mut out = Vec::new();
    let dflt = default_gid(dev.mac);
    out.push((dflt, "IB/RoCE v1"));
    out.push((dflt, "RoCE v2"));
    for a in &dev.addresses {
        let gid = match a.addr {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) if !is_link_local(&v6) => v6.octets(),
            IpAddr::V6(_) => continue,
        };
        out.push((gid, "IB/RoCE v1"));
        out.push((gid, "RoCE v2"));
    }
    out
}

fn is_link_local(a: &Ipv6Addr) -> bool {
    (a.segments()[0] & 0xffc0) == 0xfe80
}

/// The `rate` text of a RoCE port at `speed_mbps`, as mlx5 translates Ethernet speeds.
pub fn rate_text(speed_mbps: u32) -> String {
    match speed_mbps {
        0..=10_000 => "10 Gb/sec (1X QDR)",
        10_001..=25_000 => "25 Gb/sec (1X EDR)",
        25_001..=40_000 => "40 Gb/sec (4X QDR)",
        40_001..=50_000 => "50 Gb/sec (1X HDR)",
        50_001..=100_000 => "100 Gb/sec (4X EDR)",
        100_001..=200_000 => "200 Gb/sec (4X HDR)",
        _ => "400 Gb/sec (4X NDR)",
    }
    .to_string()
}

fn put(v: &mut SysfsTree, path: &str, tag: u32, value: Value) {
    v.insert(
        path,
        tag,
        Node::File(File {
            value,
            readable: true,
            write: None,
        }),
    );
}

fn text(v: &mut SysfsTree, path: &str, tag: u32, t: impl Into<String>) {
    put(v, path, tag, Value::Text(t.into()));
}

fn link(v: &mut SysfsTree, path: &str, tag: u32, target: String) {
    v.insert(path, tag, Node::Link(target.into()));
}

/// Adds the RDMA subsystem's entries to the tree.
pub fn project_rdma(v: &mut SysfsTree, model: &Model) {
    let loaded = model.functions.keys().any(|pci| model.is_mlx5(*pci));
    if !loaded && model.rdma.devices.is_empty() {
        return;
    }
    v.mkdir_p("/sys/class/infiniband");
    text(v, "/sys/class/infiniband_verbs/abi_version", ALL_NS, "6\n");
    text(v, "/sys/class/infiniband_mad/abi_version", ALL_NS, "5\n");
    let (major, minor) = RDMA_CM_DEV;
    text(
        v,
        "/sys/devices/virtual/misc/rdma_cm/dev",
        ALL_NS,
        format!("{major}:{minor}\n"),
    );
    text(
        v,
        "/sys/devices/virtual/misc/rdma_cm/uevent",
        ALL_NS,
        format!("MAJOR={major}\nMINOR={minor}\nDEVNAME=infiniband/rdma_cm\n"),
    );
    link(
        v,
        "/sys/class/misc/rdma_cm",
        ALL_NS,
        "../../devices/virtual/misc/rdma_cm".into(),
    );
    let netdevs: HashMap<PciAddress, &Netdev> = model
        .netdevs
        .values()
        .filter_map(|d| match d.kind {
            NetdevKind::Pci(pci) => Some((pci, d)),
            _ => None,
        })
        .collect();
    for dev in model.rdma.devices.values() {
        let Some(f) = model.functions.get(&dev.pci) else {
            continue;
        };
        let tag = match model.rdma.netns_mode {
            RdmaNetnsMode::Shared => ALL_NS,
            RdmaNetnsMode::Exclusive => dev.ns,
        };
        project_device(v, model, f, dev, tag, netdevs.get(&dev.pci).copied());
        project_char_devices(v, f, dev);
    }
}

fn project_device(
    v: &mut SysfsTree,
    model: &Model,
    f: &PciFunction,
    dev: &RdmaDevice,
    tag: u32,
    netdev: Option<&Netdev>,
) {
    let fdir = function_dir(f);
    let dir = format!("{fdir}/infiniband/{}", dev.name);
    let depth = depth_below_sys(&dir);
    link(
        v,
        &format!("/sys/class/infiniband/{}", dev.name),
        tag,
        format!(
            "../../devices/{}/{}/infiniband/{}",
            f.parent, f.pci, dev.name
        ),
    );
    // the device's directory is built apart with short paths, then grafted in one insert
    let mut d = SysfsTree::new();
    let (model_name, board_id) = match &f.kind {
        FunctionKind::Nic(nic) => (nic.model.name.clone(), nic.model.board_id.clone()),
        FunctionKind::Vf { pf, .. } => model.nic(*pf).map_or_else(Default::default, |n| {
            (
                format!("{} Virtual Function", n.model.name),
                n.model.board_id.clone(),
            )
        }),
        FunctionKind::Bridge => Default::default(),
    };
    let attrs = [
        ("node_type", "1: CA\n".to_string()),
        ("node_guid", format!("{}\n", format_guid(dev.node_guid))),
        (
            "sys_image_guid",
            format!("{}\n", format_guid(dev.sys_image_guid)),
        ),
        ("fw_ver", format!("{}\n", dev.fw_ver)),
        ("hca_type", format!("MT{}\n", f.device)),
        ("board_id", format!("{board_id}\n")),
        ("hw_rev", "0x0\n".to_string()),
        (
            "node_desc",
            format!("MT{} {model_name} Mellanox Technologies\n", f.device),
        ),
        ("uevent", format!("NAME={}\n", dev.name)),
    ];
    for (name, value) in attrs {
        text(&mut d, &format!("/{name}"), tag, value);
    }
    link(&mut d, "/device", tag, format!("../../../{}", f.pci));
    link(
        &mut d,
        "/subsystem",
        tag,
        format!("{}class/infiniband", up(depth)),
    );

    let active = netdev.is_some_and(|n| model.oper_up(n));
    let (state, phys) = if active {
        ("4: ACTIVE", "5: LinkUp")
    } else {
        ("1: DOWN", "3: Disabled")
    };
    let speed = match &f.kind {
        FunctionKind::Nic(nic) => nic.model.speed_mbps,
        FunctionKind::Vf { pf, .. } => model.nic(*pf).map_or(0, |n| n.model.speed_mbps),
        FunctionKind::Bridge => 0,
    };
    let port_attrs = [
        ("state", format!("{state}\n")),
        ("phys_state", format!("{phys}\n")),
        ("link_layer", "Ethernet\n".to_string()),
        ("rate", format!("{}\n", rate_text(speed))),
        ("lid", "0x0\n".to_string()),
        ("sm_lid", "0x0\n".to_string()),
        ("sm_sl", "0\n".to_string()),
        ("lid_mask_count", "0\n".to_string()),
        ("cap_mask", "0x04010000\n".to_string()),
        ("pkeys/0", "0xffff\n".to_string()),
    ];
    for (name, value) in port_attrs {
        text(&mut d, &format!("/ports/1/{name}"), tag, value);
    }
    let table = netdev.map(gid_table).unwrap_or_default();
    let zero = format_gid(&[0; 16]);
    for k in 0..model.rdma.gid_table_len as usize {
        let gid = format!("/ports/1/gids/{k}");
        let ndev = format!("/ports/1/gid_attrs/ndevs/{k}");
        let kind_path = format!("/ports/1/gid_attrs/types/{k}");
        match (table.get(k), netdev) {
            (Some((g, kind)), Some(nd)) => {
                text(&mut d, &gid, tag, format!("{}\n", format_gid(g)));
                text(&mut d, &ndev, tag, format!("{}\n", nd.name));
                text(&mut d, &kind_path, tag, format!("{kind}\n"));
            }
            _ => {
                text(&mut d, &gid, tag, format!("{zero}\n"));
                put(&mut d, &ndev, tag, Value::Errno(libc::EINVAL));
                put(&mut d, &kind_path, tag, Value::Errno(libc::EINVAL));
            }
        }
    }
    v.insert(&dir, tag, Node::Dir(d.root().clone()));
}

fn char_device(
    v: &mut SysfsTree,
    f: &PciFunction,
    class: &str,
    name: &str,
    (major, minor): (u32, u32),
    extra: &[(&str, String)],
) {
    let dir = format!("{}/{class}/{name}", function_dir(f));
    let depth = depth_below_sys(&dir);
    let mut d = SysfsTree::new();
    text(&mut d, "/dev", ALL_NS, format!("{major}:{minor}\n"));
    text(
        &mut d,
        "/uevent",
        ALL_NS,
        format!("MAJOR={major}\nMINOR={minor}\nDEVNAME=infiniband/{name}\n"),
    );
    for (attr, value) in extra {
        text(&mut d, &format!("/{attr}"), ALL_NS, value.clone());
    }
    link(&mut d, "/device", ALL_NS, format!("../../../{}", f.pci));
    link(
        &mut d,
        "/subsystem",
        ALL_NS,
        format!("{}class/{class}", up(depth)),
    );
    v.insert(&dir, ALL_NS, Node::Dir(d.root().clone()));
    link(
        v,
        &format!("/sys/class/{class}/{name}"),
        ALL_NS,
        format!("../../devices/{}/{}/{class}/{name}", f.parent, f.pci),
    );
}

fn project_char_devices(v: &mut SysfsTree, f: &PciFunction, dev: &RdmaDevice) {
    let ibdev = format!("{}\n", dev.name);
    char_device(
        v,
        f,
        "infiniband_verbs",
        &format!("uverbs{}", dev.uverbs),
        uverbs_dev(dev.uverbs),
        &[("ibdev", ibdev.clone()), ("abi_version", "1\n".into())],
    );
    let mad = [("ibdev", ibdev), ("port", "1\n".to_string())];
    char_device(
        v,
        f,
        "infiniband_mad",
        &format!("umad{}", dev.umad),
        umad_dev(dev.umad),
        &mad,
    );
    char_device(
        v,
        f,
        "infiniband_mad",
        &format!("issm{}", dev.umad),
        issm_dev(dev.umad),
        &mad,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_the_kernel() {
        assert_eq!(format_guid(0xb859_9f03_00d4_e6ea), "b859:9f03:00d4:e6ea");
        let gid = default_gid(MacAddress([0xb8, 0x59, 0x9f, 0xd4, 0xe6, 0xea]));
        assert_eq!(format_gid(&gid), "fe80:0000:0000:0000:ba59:9fff:fed4:e6ea");
        assert_eq!(uverbs_dev(0), (231, 192));
        assert_eq!(uverbs_dev(31), (231, 223));
        assert_eq!(uverbs_dev(32), (UVERBS_DYNAMIC_MAJOR, 0));
        assert_eq!(umad_dev(3), (231, 3));
        assert_eq!(issm_dev(3), (231, 67));
        assert_eq!(rate_text(25_000), "25 Gb/sec (1X EDR)");
        assert_eq!(rate_text(100_000), "100 Gb/sec (4X EDR)");
    }
}
