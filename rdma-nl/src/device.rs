//! RDMA devices: `RDMA_NLDEV_CMD_GET` (one device, or a dump of every device visible in the
//! caller's namespace), `RDMA_NLDEV_CMD_SET` with `RDMA_NLDEV_NET_NS_FD` (move a device to a
//! namespace), and a device message parsed into a [`Device`].
//!
//! ```
//! use rdma_nl::device;
//! use rdma_nl::wire::{Attr, Command};
//!
//! let request = device::set_netns(5, 4);
//! assert_eq!(request.message.command, Command::Set);
//! assert_eq!(request.message.attrs, vec![Attr::DevIndex(5), Attr::NetNsFd(4)]);
//! ```

use std::os::fd::RawFd;

use crate::Error;
use crate::wire::{Attr, Command, Message, Request};

/// One RDMA device as `RDMA_NLDEV_CMD_GET` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Its index (`RDMA_NLDEV_ATTR_DEV_INDEX`), what requests name it by.
    pub index: u32,
    /// Its name (`mlx5_0`).
    pub name: String,
    /// Its number of ports, when the kernel says (`RDMA_NLDEV_ATTR_PORT_INDEX` of a device).
    pub ports: Option<u32>,
    /// Its firmware version, when it has one.
    pub fw_version: Option<String>,
    /// Its node GUID (host byte order), when the kernel says.
    pub node_guid: Option<u64>,
    /// Its protocol (`roce`, `ib`, `iw`...), when the kernel says.
    pub protocol: Option<String>,
}

/// `RDMA_NLDEV_CMD_GET` dump: every device visible in the caller's namespace (what `rdma dev`
/// sends first).
pub fn dump() -> Request {
    Request::dump(Command::Get, "RDMA_NLDEV_CMD_GET dump")
}

/// `RDMA_NLDEV_CMD_GET` of device `index` (what `rdma dev show` sends for each device).
pub fn get(index: u32) -> Request {
    Request::acked(
        Command::Get,
        vec![Attr::DevIndex(index)],
        "RDMA_NLDEV_CMD_GET",
    )
}

/// `RDMA_NLDEV_CMD_SET` of device `index` with `RDMA_NLDEV_NET_NS_FD` `netns_fd`: moves the
/// device to the namespace of that descriptor (`rdma dev set <dev> netns <ns>`). The kernel
/// refuses it with `EOPNOTSUPP` in shared mode.
pub fn set_netns(index: u32, netns_fd: RawFd) -> Request {
    Request::acked(
        Command::Set,
        // a descriptor is never negative; a negative one is sent as the kernel would read it
        vec![Attr::DevIndex(index), Attr::NetNsFd(netns_fd as u32)],
        "RDMA_NLDEV_CMD_SET netns",
    )
}

/// The device a message describes; `request` names the request in errors (a message without
/// an index or a name is [`Error::MissingAttribute`]).
pub fn parse(message: &Message, request: &'static str) -> Result<Device, Error> {
    let missing = |attr| Error::MissingAttribute { request, attr };
    Ok(Device {
        index: message
            .find(|a| match a {
                Attr::DevIndex(i) => Some(*i),
                _ => None,
            })
            .ok_or_else(|| missing("RDMA_NLDEV_ATTR_DEV_INDEX"))?,
        name: message
            .find(|a| match a {
                Attr::DevName(n) => Some(n.clone()),
                _ => None,
            })
            .ok_or_else(|| missing("RDMA_NLDEV_ATTR_DEV_NAME"))?,
        ports: message.find(|a| match a {
            Attr::PortIndex(p) => Some(*p),
            _ => None,
        }),
        fw_version: message.find(|a| match a {
            Attr::FwVersion(v) => Some(v.clone()),
            _ => None,
        }),
        node_guid: message.find(|a| match a {
            Attr::NodeGuid(g) => Some(*g),
            _ => None,
        }),
        protocol: message.find(|a| match a {
            Attr::DevProtocol(p) => Some(p.clone()),
            _ => None,
        }),
    })
}
