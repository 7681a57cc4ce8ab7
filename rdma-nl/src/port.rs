//! RDMA ports: `RDMA_NLDEV_CMD_PORT_GET` of one port (what `rdma link` sends) or a dump, a port message parsed
//! into a [`Port`] with its state and, for RoCE and iWARP, its netdev.

use crate::Error;
use crate::wire::{Attr, Command, Message, Request};

/// The netdev a port is bound to (`RDMA_NLDEV_ATTR_NDEV_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortNetdev {
    /// Its ifindex, in the namespace of the device.
    pub index: u32,
    /// Its name.
    pub name: String,
}

/// One port of an RDMA device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// The device's index.
    pub dev_index: u32,
    /// The device's name.
    pub dev_name: String,
    /// The port's number, from 1.
    pub port: u32,
    /// `IB_PORT_*` (4 is ACTIVE), when the kernel says.
    pub state: Option<u8>,
    /// The physical state (5 is LINK_UP), when the kernel says.
    pub phys_state: Option<u8>,
    /// The netdev it is bound to, when it has one.
    pub netdev: Option<PortNetdev>,
}

/// `RDMA_NLDEV_CMD_PORT_GET` dump: every port of every device visible in the caller's
/// namespace.
pub fn dump() -> Request {
    Request::dump(Command::PortGet, "RDMA_NLDEV_CMD_PORT_GET dump")
}

/// `RDMA_NLDEV_CMD_PORT_GET` of port `port` of device `dev_index` (what `rdma link show`
/// sends for each port).
pub fn get(dev_index: u32, port: u32) -> Request {
    Request::acked(
        Command::PortGet,
        vec![Attr::DevIndex(dev_index), Attr::PortIndex(port)],
        "RDMA_NLDEV_CMD_PORT_GET",
    )
}

/// The port a message describes; `request` names the request in errors.
pub fn parse(message: &Message, request: &'static str) -> Result<Port, Error> {
    let missing = |attr| Error::MissingAttribute { request, attr };
    let u32_of = |want: fn(&Attr) -> Option<u32>| message.attrs.iter().find_map(want);
    let string_of =
        |want: fn(&Attr) -> Option<&String>| message.attrs.iter().find_map(want).cloned();
    let netdev = match (
        u32_of(|a| match a {
            Attr::NdevIndex(i) => Some(*i),
            _ => None,
        }),
        string_of(|a| match a {
            Attr::NdevName(n) => Some(n),
            _ => None,
        }),
    ) {
        (Some(index), Some(name)) => Some(PortNetdev { index, name }),
        _ => None,
    };
    Ok(Port {
        dev_index: u32_of(|a| match a {
            Attr::DevIndex(i) => Some(*i),
            _ => None,
        })
        .ok_or_else(|| missing("RDMA_NLDEV_ATTR_DEV_INDEX"))?,
        dev_name: string_of(|a| match a {
            Attr::DevName(n) => Some(n),
            _ => None,
        })
        .ok_or_else(|| missing("RDMA_NLDEV_ATTR_DEV_NAME"))?,
        port: u32_of(|a| match a {
            Attr::PortIndex(p) => Some(*p),
            _ => None,
        })
        .ok_or_else(|| missing("RDMA_NLDEV_ATTR_PORT_INDEX"))?,
        state: message.find(|a| match a {
            Attr::PortState(s) => Some(*s),
            _ => None,
        }),
        phys_state: message.find(|a| match a {
            Attr::PortPhysState(s) => Some(*s),
            _ => None,
        }),
        netdev,
    })
}
