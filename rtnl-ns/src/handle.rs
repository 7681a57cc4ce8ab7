//! [`Handle`]: what the workspace does over rtnetlink, as methods over one socket. Each method
//! builds its request with the pure modules, exchanges it, and parses the answer.

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::route::RouteProtocol;

use crate::addr::{self, Address, NewAddress};
use crate::link::{self, Link, LinkDetail, LinkSet};
use crate::route::{self, Route};
use crate::socket::RtnlSocket;
use crate::wire::Request;
use crate::{Error, Prefix};

/// An rtnetlink socket with the operations `ip link`, `ip addr` and `ip route` perform. It acts
/// on the namespace it was opened in (see [`NetnsFile::run_rtnl`](crate::NetnsFile::run_rtnl)).
///
/// ```no_run
/// use rtnl_ns::Handle;
/// use rtnl_ns::addr::{Lifetimes, NewAddress};
/// use rtnl_ns::link::{AdminState, LinkSet};
///
/// let mut rtnl = Handle::open()?;
/// let veth = rtnl.link_by_name("veth0")?;
/// rtnl.set_link(veth.index, &LinkSet { state: Some(AdminState::Up), ..LinkSet::default() })?;
/// let lease = NewAddress {
///     lifetimes: Lifetimes::both(300),
///     ..NewAddress::new(veth.index, rtnl_ns::Prefix::new([10, 1, 2, 3], 24))
/// };
/// rtnl.replace_address(&lease)?;
/// # Ok::<(), rtnl_ns::Error>(())
/// ```
#[derive(Debug)]
pub struct Handle {
    socket: RtnlSocket,
}

impl Handle {
    /// Opens a socket in the calling thread's network namespace.
    pub fn open() -> Result<Handle, Error> {
        Ok(Handle {
            socket: RtnlSocket::open()?,
        })
    }

    /// Sends any request and returns the messages answering it.
    pub fn request(&mut self, request: &Request) -> Result<Vec<RouteNetlinkMessage>, Error> {
        self.socket.exchange(request)
    }

    /// Sends a dump request and keeps what `read` makes of each message.
    fn dump<T>(
        &mut self,
        request: &Request,
        read: impl Fn(&RouteNetlinkMessage) -> Option<T>,
    ) -> Result<Vec<T>, Error> {
        Ok(self.request(request)?.iter().filter_map(read).collect())
    }

    /// Sends a request answered by an acknowledgement only.
    fn acked(&mut self, request: &Request) -> Result<(), Error> {
        self.request(request).map(drop)
    }

    /// The link called `name`, as the kernel's message (with its VF table for
    /// [`LinkDetail::WithVfTable`]). `ENODEV` when there is none.
    pub fn link_message(&mut self, name: &str, detail: LinkDetail) -> Result<LinkMessage, Error> {
        let request = link::get_by_name(name, detail)?;
        self.request(&request)?
            .into_iter()
            .find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })
            .ok_or(Error::MissingReply {
                request: request.name,
            })
    }

    /// The link called `name` (`ENODEV` when there is none).
    pub fn link_by_name(&mut self, name: &str) -> Result<Link, Error> {
        self.link_message(name, LinkDetail::Plain)
            .map(|m| link::parse(&m))
    }

    /// Every link in the namespace.
    pub fn links(&mut self) -> Result<Vec<Link>, Error> {
        self.dump(&link::dump(), |m| match m {
            RouteNetlinkMessage::NewLink(l) => Some(link::parse(l)),
            _ => None,
        })
    }

    /// Applies `change` to link `index` in one request.
    pub fn set_link(&mut self, index: u32, change: &LinkSet) -> Result<(), Error> {
        self.acked(&link::set(index, change)?)
    }

    /// Creates a veth pair: `name` here (with `mac`, or one the kernel picks), its peer `peer` in
    /// the namespace `peer_netns` refers to; both down. EEXIST when a name is taken.
    pub fn add_veth(
        &mut self,
        name: &str,
        mac: Option<[u8; 6]>,
        peer: &str,
        peer_netns: std::os::fd::BorrowedFd<'_>,
    ) -> Result<(), Error> {
        use std::os::fd::AsRawFd;
        self.acked(&crate::create::veth(
            name,
            mac,
            peer,
            peer_netns.as_raw_fd(),
        ))
    }

    /// Creates a bridge `name`, down (EEXIST when the name is taken).
    pub fn add_bridge(&mut self, name: &str) -> Result<(), Error> {
        self.acked(&crate::create::bridge(name))
    }

    /// Makes link `index` a port of bridge `controller` (0: of none).
    pub fn set_controller(&mut self, index: u32, controller: u32) -> Result<(), Error> {
        self.acked(&crate::create::set_controller(index, controller))
    }

    /// Deletes link `index` (a veth end takes its peer with it).
    pub fn delete_link(&mut self, index: u32) -> Result<(), Error> {
        self.acked(&crate::create::delete(index))
    }

    /// Every address in the namespace, both families.
    pub fn addresses(&mut self) -> Result<Vec<Address>, Error> {
        self.dump(&addr::dump(), |m| match m {
            RouteNetlinkMessage::NewAddress(a) => addr::parse(a),
            _ => None,
        })
    }

    /// Adds an address (`EEXIST` when the link has it).
    pub fn add_address(&mut self, address: &NewAddress) -> Result<(), Error> {
        self.acked(&addr::add(address))
    }

    /// Adds an address or updates the one the link has (broadcast, lifetimes).
    pub fn replace_address(&mut self, address: &NewAddress) -> Result<(), Error> {
        self.acked(&addr::replace(address))
    }

    /// Removes `prefix` from link `index` (`EADDRNOTAVAIL` when it has no such address).
    pub fn del_address(&mut self, index: u32, prefix: Prefix) -> Result<(), Error> {
        self.acked(&addr::del(index, prefix))
    }

    /// The main table's unicast routes with one output link, both families.
    pub fn routes(&mut self) -> Result<Vec<Route>, Error> {
        self.dump(&route::dump(), |m| match m {
            RouteNetlinkMessage::NewRoute(r) => route::parse(r),
            _ => None,
        })
    }

    /// Adds a route installed by `protocol` (`EEXIST` when present).
    pub fn add_route(&mut self, r: &Route, protocol: RouteProtocol) -> Result<(), Error> {
        self.acked(&route::add(r, protocol)?)
    }

    /// Adds a route, or replaces the one to the same destination.
    pub fn replace_route(&mut self, r: &Route, protocol: RouteProtocol) -> Result<(), Error> {
        self.acked(&route::replace(r, protocol)?)
    }

    /// Deletes a route (installed by `protocol`, unless `Unspec`); `ESRCH` when there is none.
    pub fn del_route(&mut self, r: &Route, protocol: RouteProtocol) -> Result<(), Error> {
        self.acked(&route::del(r, protocol)?)
    }
}
