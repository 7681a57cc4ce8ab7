//! An address with its prefix length, the way rtnetlink carries it.

use std::fmt;
use std::net::IpAddr;

/// An IP address and a prefix length (`10.1.2.3/24`), host bits kept: an interface address is
/// `10.1.2.3/24`, its subnet route's destination `10.1.2.0/24`. The length is not checked
/// against the family here; the kernel answers `EINVAL` to `/33`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    /// The address.
    pub address: IpAddr,
    /// How many leading bits name the network.
    pub len: u8,
}

impl Prefix {
    /// `address/len`.
    pub fn new(address: impl Into<IpAddr>, len: u8) -> Prefix {
        Prefix {
            address: address.into(),
            len,
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.address, f)?;
        write!(f, "/{}", self.len)
    }
}
