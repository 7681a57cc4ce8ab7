//! [`Handle`]: what `rdma dev`, `rdma link`, `rdma dev set <dev> netns <ns>`, `rdma system
//! show` and `rdma system set netns` do, as methods, on a socket opened for the first request
//! (so a kernel without RDMA netlink is refused naming that request).

use std::os::fd::AsRawFd;

use rtnl_ns::NetnsFile;

use crate::device::{self, Device};
use crate::port::{self, Port};
use crate::system::{self, NetnsMode, System};
use crate::wire::{Message, Request};
use crate::{Error, RdmaSocket};

/// RDMA netlink operations in the namespace of the thread that makes the first request.
#[derive(Debug, Default)]
pub struct Handle {
    socket: Option<RdmaSocket>,
}

impl Handle {
    /// A handle; its socket is opened by the first request, in the calling thread's namespace.
    pub fn new() -> Handle {
        Handle::default()
    }

    /// Sends `request` and returns the messages answering it.
    pub fn exchange(&mut self, request: &Request) -> Result<Vec<Message>, Error> {
        let socket = match &mut self.socket {
            Some(socket) => socket,
            None => self.socket.insert(RdmaSocket::open(request.name)?),
        };
        socket.exchange(request)
    }

    /// Every device visible in the namespace, in the kernel's order.
    pub fn devices(&mut self) -> Result<Vec<Device>, Error> {
        let request = device::dump();
        self.exchange(&request)?
            .iter()
            .map(|m| device::parse(m, request.name))
            .collect()
    }

    /// The device named `name` ([`Error::NoSuchDevice`] when none is visible).
    pub fn device_by_name(&mut self, name: &str) -> Result<Device, Error> {
        self.devices()?
            .into_iter()
            .find(|d| d.name == name)
            .ok_or_else(|| Error::NoSuchDevice {
                request: device::dump().name,
                name: name.to_string(),
            })
    }

    /// Every port of every device visible in the namespace.
    pub fn ports(&mut self) -> Result<Vec<Port>, Error> {
        let request = port::dump();
        self.exchange(&request)?
            .iter()
            .map(|m| port::parse(m, request.name))
            .collect()
    }

    /// Moves device `index` to the namespace of `to` (the kernel holds the descriptor's
    /// namespace while it moves the device; the file may be closed afterwards).
    pub fn set_netns(&mut self, index: u32, to: &NetnsFile) -> Result<(), Error> {
        self.exchange(&device::set_netns(index, to.as_raw_fd()))
            .map(drop)
    }

    /// The subsystem's settings.
    pub fn system(&mut self) -> Result<System, Error> {
        let request = system::get();
        let answer = self.exchange(&request)?;
        let first = answer.first().ok_or(Error::MissingReply {
            request: request.name,
        })?;
        system::parse(first, request.name)
    }

    /// The netns mode, one the crate knows ([`Error::UnknownNetnsMode`] otherwise).
    pub fn netns_mode(&mut self) -> Result<NetnsMode, Error> {
        match self.system()?.netns_mode {
            NetnsMode::Other(value) => Err(Error::UnknownNetnsMode {
                request: system::get().name,
                value,
            }),
            known => Ok(known),
        }
    }

    /// Sets the netns mode (`EBUSY` while a namespace other than the initial one exists).
    pub fn set_netns_mode(&mut self, mode: NetnsMode) -> Result<(), Error> {
        self.exchange(&system::set_netns_mode(mode)).map(drop)
    }
}

/// Runs `work` with a [`Handle`] inside namespace `ns`: on the caller when it already is
/// there, else on a thread of its own that entered it (`rtnl-ns`'s [`NetnsFile::run`]).
///
/// ```no_run
/// use rdma_nl::{in_netns, NetnsFile};
///
/// let pod = NetnsFile::open("/var/run/netns/pod1")?;
/// let host = NetnsFile::own()?;
/// // move mlx5_3 from the host to the pod
/// in_netns(&host, |rdma| {
///     let dev = rdma.device_by_name("mlx5_3")?;
///     rdma.set_netns(dev.index, &pod)
/// })?;
/// # Ok::<(), rdma_nl::Error>(())
/// ```
pub fn in_netns<T, F>(ns: &NetnsFile, work: F) -> Result<T, Error>
where
    T: Send,
    F: FnOnce(&mut Handle) -> Result<T, Error> + Send,
{
    ns.run(|| work(&mut Handle::new()))?
}
