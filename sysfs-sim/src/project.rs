//! The projection of the model onto a sysfs tree: every attribute as the kernel prints it and
//! every link as the kernel lays it out, relative, so a rendered copy reads like `/sys`.

use sriov_core::PciAddress;

use crate::model::{FunctionKind, Model, Netdev, NetdevKind, PciFunction};
use crate::tree::{ALL_NS, File, Node, SysfsTree, Value, WriteHook};

/// `../` repeated `n` times.
pub(crate) fn up(n: usize) -> String {
    "../".repeat(n)
}

/// Number of components of an absolute path below `/sys` (`/sys/devices/a` -> 2).
pub(crate) fn depth_below_sys(path: &str) -> usize {
    path.trim_start_matches('/')
        .split('/')
        .filter(|c| !c.is_empty())
        .count()
        .saturating_sub(1)
}

/// The directory of a PCI function under `/sys/devices`.
pub fn function_dir(f: &PciFunction) -> String {
    format!("/sys/devices/{}/{}", f.parent, f.pci)
}

/// The kernel's `modalias` of a PCI function.
pub fn modalias(f: &PciFunction) -> String {
    format!(
        "pci:v{:08X}d{:08X}sv{:08X}sd{:08X}bc{:02X}sc{:02X}i{:02X}",
        f.vendor,
        f.device,
        f.subsystem_vendor,
        f.subsystem_device,
        (f.class >> 16) & 0xff,
        (f.class >> 8) & 0xff,
        f.class & 0xff
    )
}

fn writable_attr(v: &mut SysfsTree, path: &str, text: String, hook: WriteHook) {
    v.insert(
        path,
        ALL_NS,
        Node::File(File {
            value: Value::Text(text),
            readable: true,
            write: Some(hook),
        }),
    );
}

fn write_only_attr(v: &mut SysfsTree, path: &str, hook: WriteHook) {
    v.insert(
        path,
        ALL_NS,
        Node::File(File {
            value: Value::Text(String::new()),
            readable: false,
            write: Some(hook),
        }),
    );
}

/// Builds the whole tree, every namespace's entries tagged with it.
pub fn project(model: &Model) -> SysfsTree {
    let mut v = SysfsTree::new();
    for dir in [
        "/sys/bus/pci/devices",
        "/sys/bus/pci/drivers",
        "/sys/class/net",
        "/sys/devices/virtual/net",
        "/sys/kernel",
    ] {
        v.mkdir_p(dir);
    }
    v.file("/sys/bus/pci/drivers_autoprobe", "1\n");
    for name in model.driver_names() {
        let d = format!("/sys/bus/pci/drivers/{name}");
        write_only_attr(
            &mut v,
            &format!("{d}/bind"),
            WriteHook::DriverBind(name.clone()),
        );
        write_only_attr(
            &mut v,
            &format!("{d}/unbind"),
            WriteHook::DriverUnbind(name.clone()),
        );
    }
    for f in model.functions.values() {
        project_function(&mut v, model, f);
    }
    for dev in model.netdevs.values() {
        project_netdev(&mut v, model, dev);
    }
    crate::rdma_project::project_rdma(&mut v, model);
    v
}

fn project_function(v: &mut SysfsTree, model: &Model, f: &PciFunction) {
    let dir = function_dir(f);
    let depth = depth_below_sys(&dir);
    let bus_target = format!("{}devices/{}/{}", up(3), f.parent, f.pci);
    v.link(&format!("/sys/bus/pci/devices/{}", f.pci), bus_target);
    v.file(&format!("{dir}/vendor"), format!("0x{:04x}\n", f.vendor));
    v.file(&format!("{dir}/device"), format!("0x{:04x}\n", f.device));
    v.file(
        &format!("{dir}/subsystem_vendor"),
        format!("0x{:04x}\n", f.subsystem_vendor),
    );
    v.file(
        &format!("{dir}/subsystem_device"),
        format!("0x{:04x}\n", f.subsystem_device),
    );
    v.file(&format!("{dir}/class"), format!("0x{:06x}\n", f.class));
    v.file(&format!("{dir}/revision"), "0x00\n");
    let numa = f
        .numa_node
        .map_or_else(|| "-1".to_string(), |n| n.to_string());
    v.file(&format!("{dir}/numa_node"), format!("{numa}\n"));
    let alias = modalias(f);
    v.file(&format!("{dir}/modalias"), format!("{alias}\n"));
    v.file(
        &format!("{dir}/enable"),
        if f.driver.is_some() { "1\n" } else { "0\n" },
    );
    v.file(&format!("{dir}/driver_override"), "(null)\n");
    let mut uevent = String::new();
    if let Some(d) = &f.driver {
        uevent.push_str(&format!("DRIVER={d}\n"));
    }
    uevent.push_str(&format!(
        "PCI_CLASS={:X}\nPCI_ID={:04X}:{:04X}\nPCI_SUBSYS_ID={:04X}:{:04X}\nPCI_SLOT_NAME={}\nMODALIAS={alias}\n",
        f.class, f.vendor, f.device, f.subsystem_vendor, f.subsystem_device, f.pci
    ));
    v.file(&format!("{dir}/uevent"), uevent);
    v.link(&format!("{dir}/subsystem"), format!("{}bus/pci", up(depth)));
    if let Some(d) = &f.driver {
        v.link(
            &format!("{dir}/driver"),
            format!("{}bus/pci/drivers/{d}", up(depth)),
        );
        v.link(
            &format!("/sys/bus/pci/drivers/{d}/{}", f.pci),
            format!("{}devices/{}/{}", up(4), f.parent, f.pci),
        );
    }
    match &f.kind {
        FunctionKind::Bridge => {}
        FunctionKind::Nic(nic) => {
            if let Some(s) = &nic.sriov {
                v.file(
                    &format!("{dir}/sriov_totalvfs"),
                    format!("{}\n", s.total_vfs),
                );
                writable_attr(
                    v,
                    &format!("{dir}/sriov_numvfs"),
                    format!("{}\n", s.num_vfs),
                    WriteHook::SriovNumvfs(f.pci),
                );
                v.file(&format!("{dir}/sriov_offset"), format!("{}\n", s.offset));
                v.file(&format!("{dir}/sriov_stride"), format!("{}\n", s.stride));
                v.file(
                    &format!("{dir}/sriov_vf_device"),
                    format!("{:x}\n", s.vf_device),
                );
                v.file(&format!("{dir}/sriov_vf_total_msix"), "0\n");
                writable_attr(
                    v,
                    &format!("{dir}/sriov_drivers_autoprobe"),
                    format!("{}\n", u8::from(s.autoprobe)),
                    WriteHook::SriovAutoprobe(f.pci),
                );
                for i in 0..s.num_vfs {
                    if let Some(vf) = vf_of(model, f.pci, i) {
                        v.link(&format!("{dir}/virtfn{i}"), format!("../{vf}"));
                    }
                }
            }
        }
        FunctionKind::Vf { pf, .. } => {
            v.link(&format!("{dir}/physfn"), format!("../{pf}"));
        }
    }
}

fn vf_of(model: &Model, pf: PciAddress, index: u32) -> Option<PciAddress> {
    let s = model.nic(pf)?.sriov.as_ref()?;
    pf.vf_address(s.offset, s.stride, u16::try_from(index).ok()?)
}

fn project_netdev(v: &mut SysfsTree, model: &Model, dev: &Netdev) {
    let ns = dev.ns;
    let (dir, class_target) = match &dev.kind {
        NetdevKind::Pci(pci) => {
            let Some(f) = model.functions.get(pci) else {
                return;
            };
            let dir = format!("{}/net/{}", function_dir(f), dev.name);
            let target = format!("../../devices/{}/{}/net/{}", f.parent, f.pci, dev.name);
            (dir, target)
        }
        _ => (
            format!("/sys/devices/virtual/net/{}", dev.name),
            format!("../../devices/virtual/net/{}", dev.name),
        ),
    };
    let depth = depth_below_sys(&dir);
    v.insert(&dir, ns, Node::Dir(Default::default()));
    v.insert(
        &format!("/sys/class/net/{}", dev.name),
        ns,
        Node::Link(class_target.into()),
    );
    let mut attr = |name: &str, value: Value| {
        v.insert(
            &format!("{dir}/{name}"),
            ns,
            Node::File(File {
                value,
                readable: true,
                write: None,
            }),
        );
    };
    let text = |s: String| Value::Text(s);
    let loopback = dev.kind == NetdevKind::Loopback;
    let carrier = model.carrier(dev);
    let oper = model.oper_up(dev);
    attr("address", text(format!("{}\n", dev.mac)));
    attr("addr_len", text("6\n".into()));
    attr(
        "broadcast",
        text(if loopback {
            "00:00:00:00:00:00\n".into()
        } else {
            "ff:ff:ff:ff:ff:ff\n".into()
        }),
    );
    attr(
        "type",
        text(if loopback {
            "772\n".into()
        } else {
            "1\n".into()
        }),
    );
    attr("mtu", text(format!("{}\n", dev.mtu)));
    attr("ifindex", text(format!("{}\n", dev.ifindex)));
    let iflink = match dev.kind {
        NetdevKind::Veth { peer } => peer,
        _ => dev.ifindex,
    };
    attr("iflink", text(format!("{iflink}\n")));
    attr("dev_port", text(format!("{}\n", dev.dev_port)));
    attr("dev_id", text("0x0\n".into()));
    attr("tx_queue_len", text("1000\n".into()));
    let operstate = if loopback {
        "unknown"
    } else if oper {
        "up"
    } else {
        "down"
    };
    attr("operstate", text(format!("{operstate}\n")));
    let flags = if loopback { 0x8 } else { 0x1002 } | u32::from(dev.admin_up);
    attr("flags", text(format!("0x{flags:x}\n")));
    if dev.admin_up {
        attr("carrier", text(format!("{}\n", u8::from(carrier))));
        let speed = match &dev.kind {
            NetdevKind::Pci(pci) if carrier => speed_of(model, *pci).to_string(),
            NetdevKind::Veth { .. } => "10000".into(),
            _ => "-1".into(),
        };
        if !loopback {
            attr("speed", text(format!("{speed}\n")));
            attr(
                "duplex",
                text(if carrier {
                    "full\n".into()
                } else {
                    "unknown\n".into()
                }),
            );
        }
    } else {
        attr("carrier", Value::Errno(libc::EINVAL));
        if !loopback {
            attr("speed", Value::Errno(libc::EINVAL));
            attr("duplex", Value::Errno(libc::EINVAL));
        }
    }
    if let Some(port) = &dev.phys_port_name {
        attr("phys_port_name", text(format!("{port}\n")));
    }
    // `device` points at the PCI function: from <fn>/net/<if>/ that is ../../../<fn>
    if let NetdevKind::Pci(pci) = dev.kind {
        v.insert(
            &format!("{dir}/device"),
            ns,
            Node::Link(format!("../../../{pci}").into()),
        );
    }
    v.insert(
        &format!("{dir}/subsystem"),
        ns,
        Node::Link(format!("{}class/net", up(depth)).into()),
    );
}

fn speed_of(model: &Model, pci: PciAddress) -> u32 {
    match model.functions.get(&pci).map(|f| &f.kind) {
        Some(FunctionKind::Nic(nic)) => nic.model.speed_mbps,
        Some(FunctionKind::Vf { pf, .. }) => model.nic(*pf).map_or(0, |n| n.model.speed_mbps),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_components_below_sys() {
        assert_eq!(
            depth_below_sys("/sys/devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0"),
            4
        );
        assert_eq!(up(2), "../../");
    }
}
