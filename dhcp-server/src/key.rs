//! What the server keys a lease on: the client identifier (option 61) when the client sends
//! one, else its hardware address (`htype` + `chaddr`), as RFC 2131 4.2 says.

use std::fmt;
use std::str::FromStr;

/// The identity of a client as the server sees it.
///
/// ```
/// use dhcp_server::ClientKey;
/// let by_mac = ClientKey::from_message(None, 1, &[2, 0, 0, 0, 0, 1]).unwrap();
/// let by_id = ClientKey::from_message(Some(&[1, 2, 0, 0, 0, 0, 1]), 1, &[2, 0, 0, 0, 0, 1]).unwrap();
/// assert_ne!(by_mac, by_id); // as in ISC dhcpd and Kea: two different clients
/// assert_eq!(by_mac.to_string(), "hw:1:020000000001");
/// assert_eq!(by_id.to_string().parse::<ClientKey>().unwrap(), by_id);
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClientKey {
    /// Option 61, the whole value (type byte included).
    ClientId(Box<[u8]>),
    /// `htype` and the first `len` bytes of `chaddr`.
    Hardware {
        /// Hardware type (1 = Ethernet).
        htype: u8,
        /// Address length (at most 16).
        len: u8,
        /// The address, zero-padded.
        addr: [u8; 16],
    },
}

/// One write per key (the derived impl makes five, which the allocator's hot path feels).
impl std::hash::Hash for ClientKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            ClientKey::ClientId(id) => {
                state.write_u8(0);
                state.write(id);
            }
            ClientKey::Hardware { htype, len, addr } => {
                let mut word = [0u8; 16];
                word.copy_from_slice(addr);
                // htype and len folded into the (unused for Ethernet) tail bytes' hash input
                let v = u128::from_le_bytes(word)
                    ^ (u128::from(*htype) << 120)
                    ^ (u128::from(*len) << 112)
                    ^ 1;
                state.write_u128(v);
            }
        }
    }
}

impl ClientKey {
    /// The key of a message: its client identifier if it has one (at least 2 bytes, RFC 2132
    /// 9.14), else `htype` and `chaddr`. `None` when neither identifies the client (an empty
    /// or too long hardware address).
    pub fn from_message(client_id: Option<&[u8]>, htype: u8, chaddr: &[u8]) -> Option<ClientKey> {
        if let Some(id) = client_id.filter(|id| id.len() >= 2) {
            return Some(ClientKey::ClientId(id.into()));
        }
        ClientKey::hardware(htype, chaddr)
    }

    /// A key from a hardware address of 1 to 16 bytes.
    pub fn hardware(htype: u8, chaddr: &[u8]) -> Option<ClientKey> {
        if chaddr.is_empty() || chaddr.len() > 16 {
            return None;
        }
        let mut addr = [0u8; 16];
        addr[..chaddr.len()].copy_from_slice(chaddr);
        Some(ClientKey::Hardware {
            htype,
            len: chaddr.len() as u8,
            addr,
        })
    }

    /// An Ethernet key.
    pub fn mac(mac: [u8; 6]) -> ClientKey {
        let mut addr = [0u8; 16];
        addr[..6].copy_from_slice(&mac);
        ClientKey::Hardware {
            htype: 1,
            len: 6,
            addr,
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::ClientId(id) => {
                write!(f, "id:{}", dhcp_codec::hex(id))
            }
            ClientKey::Hardware { htype, len, addr } => {
                let addr = &addr[..usize::from(*len).min(16)];
                write!(f, "hw:{htype}:{}", dhcp_codec::hex(addr))
            }
        }
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The reason a text is not a [`ClientKey`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseClientKeyError(pub String);

impl fmt::Display for ParseClientKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a client key (id:HEX or hw:TYPE:HEX)",
            self.0
        )
    }
}

impl std::error::Error for ParseClientKeyError {}

impl FromStr for ClientKey {
    type Err = ParseClientKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseClientKeyError(s.chars().take(80).collect());
        if let Some(id) = s.strip_prefix("id:") {
            let bytes = dhcp_codec::parse_hex(id).filter(|b| (2..=255).contains(&b.len()));
            return bytes.map(|b| ClientKey::ClientId(b.into())).ok_or_else(bad);
        }
        let rest = s.strip_prefix("hw:").ok_or_else(bad)?;
        let (htype, addr) = rest.split_once(':').ok_or_else(bad)?;
        let htype: u8 = htype.parse().map_err(|_| bad())?;
        let addr = dhcp_codec::parse_hex(addr).ok_or_else(bad)?;
        ClientKey::hardware(htype, &addr).ok_or_else(bad)
    }
}

impl serde::Serialize for ClientKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ClientKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_rejects() {
        for k in [
            ClientKey::mac([1, 2, 3, 4, 5, 6]),
            ClientKey::ClientId(vec![0, 1, 2].into()),
            ClientKey::hardware(32, &[9; 16]).unwrap(),
        ] {
            assert_eq!(k.to_string().parse::<ClientKey>().unwrap(), k);
        }
        for bad in [
            "", "id:", "id:0", "id:00", "hw:1:", "hw:x:00", "hw:1:0g", "xx:1", "hw:1:é0",
        ] {
            assert!(bad.parse::<ClientKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn short_client_id_falls_back_to_chaddr() {
        let k = ClientKey::from_message(Some(&[1]), 1, &[1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(k, ClientKey::mac([1, 2, 3, 4, 5, 6]));
        assert!(ClientKey::from_message(None, 1, &[]).is_none());
    }
}
