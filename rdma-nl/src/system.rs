//! The RDMA subsystem's settings: `RDMA_NLDEV_CMD_SYS_GET` (`rdma system show`) parsed into a
//! [`System`], and `RDMA_NLDEV_CMD_SYS_SET` of `RDMA_NLDEV_SYS_ATTR_NETNS_MODE` (`rdma system
//! set netns shared|exclusive`).
//!
//! On the wire the mode is a `u8`, 1 for shared and 0 for exclusive (the kernel's
//! `ib_devices_shared_netns`); the kernel refuses a change with `EBUSY` while any namespace
//! other than the initial one exists, and any value above 1 with `EINVAL`.
//!
//! ```
//! use rdma_nl::system::{self, NetnsMode};
//! use rdma_nl::wire::Attr;
//!
//! let request = system::set_netns_mode(NetnsMode::Exclusive);
//! assert_eq!(request.message.attrs, vec![Attr::NetnsMode(0)]);
//! assert_eq!(NetnsMode::from_wire(1), NetnsMode::Shared);
//! ```

use std::fmt;

use crate::Error;
use crate::wire::{Attr, Command, Message, Request};

/// The RDMA subsystem's network-namespace mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NetnsMode {
    /// Every device visible in every namespace (1, the kernel's default).
    Shared,
    /// Each device in one namespace (0).
    Exclusive,
    /// A value the kernel may add.
    Other(u8),
}

impl NetnsMode {
    /// The mode of `RDMA_NLDEV_SYS_ATTR_NETNS_MODE` value `v`.
    pub fn from_wire(v: u8) -> NetnsMode {
        match v {
            0 => NetnsMode::Exclusive,
            1 => NetnsMode::Shared,
            other => NetnsMode::Other(other),
        }
    }

    /// The attribute's value.
    pub fn to_wire(self) -> u8 {
        match self {
            NetnsMode::Exclusive => 0,
            NetnsMode::Shared => 1,
            NetnsMode::Other(v) => v,
        }
    }
}

impl fmt::Display for NetnsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetnsMode::Shared => f.write_str("shared"),
            NetnsMode::Exclusive => f.write_str("exclusive"),
            NetnsMode::Other(v) => write!(f, "mode {v}"),
        }
    }
}

/// The subsystem's settings as `RDMA_NLDEV_CMD_SYS_GET` answers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct System {
    /// The netns mode.
    pub netns_mode: NetnsMode,
    /// Whether verbs memory is copied on fork (kernels from 5.12 say), when the kernel says.
    pub copy_on_fork: Option<bool>,
}

/// `RDMA_NLDEV_CMD_SYS_GET`.
pub fn get() -> Request {
    Request::acked(Command::SysGet, Vec::new(), "RDMA_NLDEV_CMD_SYS_GET")
}

/// `RDMA_NLDEV_CMD_SYS_SET` of the netns mode.
pub fn set_netns_mode(mode: NetnsMode) -> Request {
    Request::acked(
        Command::SysSet,
        vec![Attr::NetnsMode(mode.to_wire())],
        "RDMA_NLDEV_CMD_SYS_SET netns",
    )
}

/// The settings a `RDMA_NLDEV_CMD_SYS_GET` answer holds; `request` names the request in
/// errors (an answer without the mode is [`Error::MissingAttribute`]).
pub fn parse(message: &Message, request: &'static str) -> Result<System, Error> {
    let netns_mode = message
        .find(|a| match a {
            Attr::NetnsMode(m) => Some(NetnsMode::from_wire(*m)),
            _ => None,
        })
        .ok_or(Error::MissingAttribute {
            request,
            attr: "RDMA_NLDEV_SYS_ATTR_NETNS_MODE",
        })?;
    Ok(System {
        netns_mode,
        copy_on_fork: message.find(|a| match a {
            Attr::CopyOnFork(c) => Some(*c != 0),
            _ => None,
        }),
    })
}
