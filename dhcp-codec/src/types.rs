//! Small value types of DHCPv4 messages: message type, client identifier, hardware address,
//! classless static route.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The DHCP message type (option 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageType {
    /// DHCPDISCOVER (1).
    Discover,
    /// DHCPOFFER (2).
    Offer,
    /// DHCPREQUEST (3).
    Request,
    /// DHCPDECLINE (4).
    Decline,
    /// DHCPACK (5).
    Ack,
    /// DHCPNAK (6).
    Nak,
    /// DHCPRELEASE (7).
    Release,
    /// DHCPINFORM (8).
    Inform,
    /// Any other value (lease query and later extensions).
    Other(u8),
}

impl MessageType {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            MessageType::Discover => 1,
            MessageType::Offer => 2,
            MessageType::Request => 3,
            MessageType::Decline => 4,
            MessageType::Ack => 5,
            MessageType::Nak => 6,
            MessageType::Release => 7,
            MessageType::Inform => 8,
            MessageType::Other(n) => n,
        }
    }

    /// The type for a wire value.
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => MessageType::Discover,
            2 => MessageType::Offer,
            3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Ack,
            6 => MessageType::Nak,
            7 => MessageType::Release,
            8 => MessageType::Inform,
            n => MessageType::Other(n),
        }
    }

    /// True for the types a client sends (BOOTREQUEST).
    pub fn is_client_message(self) -> bool {
        matches!(
            self,
            MessageType::Discover
                | MessageType::Request
                | MessageType::Decline
                | MessageType::Release
                | MessageType::Inform
        )
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageType::Discover => f.write_str("DHCPDISCOVER"),
            MessageType::Offer => f.write_str("DHCPOFFER"),
            MessageType::Request => f.write_str("DHCPREQUEST"),
            MessageType::Decline => f.write_str("DHCPDECLINE"),
            MessageType::Ack => f.write_str("DHCPACK"),
            MessageType::Nak => f.write_str("DHCPNAK"),
            MessageType::Release => f.write_str("DHCPRELEASE"),
            MessageType::Inform => f.write_str("DHCPINFORM"),
            MessageType::Other(n) => write!(f, "DHCP message type {n}"),
        }
    }
}

/// A client identifier (option 61): a type byte followed by the value, 2 to 255 bytes in all.
///
/// Servers key leases on it, so it must be the same in every message of a client, RELEASE
/// included. Shown and parsed as lower-case hex (`01:aa:bb:cc:dd:ee:ff` or `01aabbccddeeff`).
///
/// ```
/// use dhcp_codec::ClientId;
///
/// let id = ClientId::from_mac([0x02, 0, 0, 0, 0, 1]);
/// assert_eq!(id.to_string(), "01020000000001");
/// assert_eq!("01:02:00:00:00:00:01".parse::<ClientId>().unwrap(), id);
///
/// // Stable per pod interface: the same inputs give the same identifier.
/// let a = ClientId::for_pod_interface("c0ffee", "net1");
/// assert_eq!(a, ClientId::for_pod_interface("c0ffee", "net1"));
/// assert_ne!(a, ClientId::for_pod_interface("c0ffee", "net2"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(Vec<u8>);

impl ClientId {
    /// A client identifier from raw bytes (type byte first). 2 to 255 bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, Error> {
        if bytes.len() < 2 {
            return Err(Error::InvalidClientId {
                input: hex(&bytes),
                reason: "shorter than 2 bytes",
            });
        }
        if bytes.len() > 255 {
            return Err(Error::InvalidClientId {
                input: hex(&bytes),
                reason: "longer than 255 bytes",
            });
        }
        Ok(ClientId(bytes))
    }

    /// Type 1 (Ethernet) followed by a MAC address, as most clients send.
    pub fn from_mac(mac: [u8; 6]) -> Self {
        let mut v = Vec::with_capacity(7);
        v.push(1);
        v.extend_from_slice(&mac);
        ClientId(v)
    }

    /// Type 0 followed by `<container id>/<ifname>`: stable for one pod interface across
    /// restarts of any process, different for every interface of every pod. Inputs longer than
    /// the option allows are cut (container ids are 64 hex characters, ifnames at most 15).
    pub fn for_pod_interface(container_id: &str, ifname: &str) -> Self {
        let mut v = Vec::with_capacity(2 + container_id.len() + ifname.len());
        v.push(0);
        v.extend_from_slice(container_id.as_bytes());
        v.push(b'/');
        v.extend_from_slice(ifname.as_bytes());
        v.truncate(255);
        ClientId(v)
    }

    /// The bytes, type byte first.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({})", hex(&self.0))
    }
}

impl FromStr for ClientId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bytes = parse_hex(s).ok_or_else(|| Error::InvalidClientId {
            input: s.to_string(),
            reason: "not hex bytes (like 01aabbccddeeff or 01:aa:bb:cc:dd:ee:ff)",
        })?;
        ClientId::new(bytes).map_err(|e| match e {
            Error::InvalidClientId { reason, .. } => Error::InvalidClientId {
                input: s.to_string(),
                reason,
            },
            other => other,
        })
    }
}

impl Serialize for ClientId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for ClientId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Lower-case hex without separators, as client identifiers and hardware addresses are keyed.
///
/// ```
/// assert_eq!(dhcp_codec::hex(&[0x01, 0xab]), "01ab");
/// ```
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Hex bytes, with optional `:` or `-` separators between bytes; `None` for anything else,
/// including no bytes at all.
///
/// ```
/// assert_eq!(dhcp_codec::parse_hex("01:ab"), Some(vec![0x01, 0xab]));
/// assert_eq!(dhcp_codec::parse_hex("01a"), None);
/// assert_eq!(dhcp_codec::parse_hex(""), None);
/// ```
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| *b != b':' && *b != b'-')
        .map(|b| (b as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<Vec<u8>>>()?;
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    Some(digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect())
}

/// A client hardware address (`chaddr`, at most 16 bytes; 6 for Ethernet).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HwAddr {
    bytes: [u8; 16],
    len: u8,
}

impl HwAddr {
    /// An Ethernet MAC address.
    pub fn mac(mac: [u8; 6]) -> Self {
        let mut bytes = [0; 16];
        bytes[..6].copy_from_slice(&mac);
        HwAddr { bytes, len: 6 }
    }

    /// Any hardware address of at most 16 bytes; `None` when longer.
    pub fn from_slice(addr: &[u8]) -> Option<Self> {
        if addr.len() > 16 {
            return None;
        }
        let mut bytes = [0; 16];
        bytes[..addr.len()].copy_from_slice(addr);
        Some(HwAddr {
            bytes,
            len: addr.len() as u8,
        })
    }

    /// The address bytes (`hlen` of them).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The Ethernet MAC, when this is a 6-byte address.
    pub fn as_mac(&self) -> Option<[u8; 6]> {
        (self.len == 6).then(|| {
            let mut m = [0; 6];
            m.copy_from_slice(&self.bytes[..6]);
            m
        })
    }
}

impl fmt::Display for HwAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for HwAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HwAddr({self})")
    }
}

impl FromStr for HwAddr {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        parse_hex(s)
            .and_then(|b| HwAddr::from_slice(&b))
            .ok_or_else(|| Error::Decode {
                reason: format!("invalid hardware address {s:?}"),
            })
    }
}

impl Serialize for HwAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for HwAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A classless static route (option 121, RFC 3442): destination prefix and router.
/// A gateway of 0.0.0.0 means the destination is on-link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Route {
    /// Destination network (host bits zero).
    pub dest: Ipv4Net,
    /// The router, or 0.0.0.0 for on-link.
    pub gateway: Ipv4Addr,
}

impl Route {
    /// True for the default route 0.0.0.0/0.
    pub fn is_default(&self) -> bool {
        self.dest.prefix_len() == 0
    }
}
