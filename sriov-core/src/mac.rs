//! Ethernet MAC addresses.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a MAC address did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address {input:?}: expected six hex octets like aa:bb:cc:dd:ee:ff")]
pub struct MacAddressError {
    /// The text that was given.
    pub input: String,
}

/// A 48-bit Ethernet address, printed lower case with colons as sysfs prints `address`.
///
/// ```
/// use sriov_core::MacAddress;
/// let mac: MacAddress = "F6:0C:D4:E3:E2:53".parse().unwrap();
/// assert_eq!(mac.to_string(), "f6:0c:d4:e3:e2:53");
/// assert!(mac.is_unicast() && mac.is_locally_administered());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    /// The all-zero address (an unset VF admin MAC).
    pub const ZERO: MacAddress = MacAddress([0; 6]);

    /// The octets.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// True for 00:00:00:00:00:00.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    /// True when the group bit is clear.
    pub fn is_unicast(&self) -> bool {
        self.0[0] & 1 == 0
    }

    /// True when the locally-administered bit is set.
    pub fn is_locally_administered(&self) -> bool {
        self.0[0] & 2 != 0
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

impl fmt::Debug for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddress({self})")
    }
}

impl FromStr for MacAddress {
    type Err = MacAddressError;

    /// Parses six two-digit hex octets separated by `:` or `-`.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = || MacAddressError {
            input: input.to_string(),
        };
        let sep = if input.contains('-') { '-' } else { ':' };
        let mut out = [0u8; 6];
        let mut parts = input.split(sep);
        for octet in out.iter_mut() {
            let part = parts.next().ok_or_else(err)?;
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err());
            }
            *octet = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddress(out))
    }
}

impl Serialize for MacAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MacAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "aa:bb:cc:dd:ee:f",
            "aa:bb:cc:dd:ee:gg",
            "aa-bb:cc:dd:ee:ff",
            "+a:bb:cc:dd:ee:ff",
        ] {
            assert!(bad.parse::<MacAddress>().is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trip(octets: [u8; 6]) {
            let mac = MacAddress(octets);
            prop_assert_eq!(mac.to_string().parse::<MacAddress>().unwrap(), mac);
        }
    }
}
