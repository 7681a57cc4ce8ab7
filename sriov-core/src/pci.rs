//! PCI addresses (`dddd:bb:dd.f`) and routing-ID arithmetic for SR-IOV.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a PCI address did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid PCI address {input:?}: {reason}")]
pub struct PciAddressError {
    /// The text that was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A PCI function address: domain, bus, device (0-31) and function (0-7), printed the way the
/// kernel names functions in sysfs, `0000:3b:00.2`.
///
/// ```
/// use sriov_core::PciAddress;
/// let pf: PciAddress = "0000:3b:00.0".parse().unwrap();
/// // ConnectX-5 PF0: VFs start at offset 2, stride 1
/// assert_eq!(pf.vf_address(2, 1, 0).unwrap().to_string(), "0000:3b:00.2");
/// assert_eq!(pf.vf_address(2, 1, 7).unwrap().to_string(), "0000:3b:01.1");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PciAddress {
    domain: u32,
    bus: u8,
    device: u8,
    function: u8,
}

impl PciAddress {
    /// Builds an address; `None` when device > 31 or function > 7.
    pub const fn new(domain: u32, bus: u8, device: u8, function: u8) -> Option<Self> {
        if device > 31 || function > 7 {
            return None;
        }
        Some(PciAddress {
            domain,
            bus,
            device,
            function,
        })
    }

    /// The PCI domain (segment).
    pub const fn domain(&self) -> u32 {
        self.domain
    }

    /// The bus number.
    pub const fn bus(&self) -> u8 {
        self.bus
    }

    /// The device number, 0-31.
    pub const fn device(&self) -> u8 {
        self.device
    }

    /// The function number, 0-7.
    pub const fn function(&self) -> u8 {
        self.function
    }

    /// The 16-bit routing ID, `bus << 8 | device << 3 | function`.
    pub const fn routing_id(&self) -> u16 {
        ((self.bus as u16) << 8) | ((self.device as u16) << 3) | self.function as u16
    }

    /// The address with routing ID `rid` in `domain`.
    pub const fn from_routing_id(domain: u32, rid: u16) -> Self {
        PciAddress {
            domain,
            bus: (rid >> 8) as u8,
            device: ((rid >> 3) & 0x1f) as u8,
            function: (rid & 0x7) as u8,
        }
    }

    /// The address of VF `index` of this PF, from the PF's SR-IOV `offset` and `stride`:
    /// `RID(VF i) = RID(PF) + offset + stride * i`. `None` when it passes the last routing ID.
    pub fn vf_address(&self, offset: u16, stride: u16, index: u16) -> Option<Self> {
        let rid =
            u32::from(self.routing_id()) + u32::from(offset) + u32::from(stride) * u32::from(index);
        u16::try_from(rid)
            .ok()
            .map(|rid| Self::from_routing_id(self.domain, rid))
    }

    /// The VF index that `vf` has under this PF with `offset` and `stride`, if it is one of them.
    pub fn vf_index_of(&self, offset: u16, stride: u16, vf: &PciAddress) -> Option<u16> {
        if vf.domain != self.domain || stride == 0 {
            return None;
        }
        let first = u32::from(self.routing_id()) + u32::from(offset);
        let delta = u32::from(vf.routing_id()).checked_sub(first)?;
        (delta % u32::from(stride) == 0).then(|| u16::try_from(delta / u32::from(stride)).ok())?
    }
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04x}:{:02x}:{:02x}.{:x}",
            self.domain, self.bus, self.device, self.function
        )
    }
}

impl fmt::Debug for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PciAddress({self})")
    }
}

fn hex_field(text: &str, max_len: usize) -> Option<u32> {
    if text.is_empty() || text.len() > max_len || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

impl FromStr for PciAddress {
    type Err = PciAddressError;

    /// Parses `dddd:bb:dd.f` (domain of 4 to 8 hex digits) or the short `bb:dd.f` (domain 0).
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| PciAddressError {
            input: input.to_string(),
            reason,
        };
        let (rest, function) = input
            .rsplit_once('.')
            .ok_or_else(|| err("missing '.' before the function"))?;
        let function = match function.as_bytes() {
            [d @ b'0'..=b'7'] => d - b'0',
            _ => return Err(err("function must be one digit 0-7")),
        };
        let mut parts = rest.split(':').collect::<Vec<_>>();
        let domain = match parts.len() {
            3 => {
                let d = parts.remove(0);
                if d.len() < 4 {
                    return Err(err("domain must have at least 4 hex digits"));
                }
                hex_field(d, 8).ok_or_else(|| err("domain is not 4-8 hex digits"))?
            }
            2 => 0,
            _ => return Err(err("expected dddd:bb:dd.f")),
        };
        if parts[0].len() != 2 || parts[1].len() != 2 {
            return Err(err("bus and device must be two hex digits each"));
        }
        let bus = hex_field(parts[0], 2).ok_or_else(|| err("bus is not hex"))? as u8;
        let device = hex_field(parts[1], 2).ok_or_else(|| err("device is not hex"))?;
        if device > 31 {
            return Err(err("device must be 00-1f"));
        }
        Ok(PciAddress {
            domain,
            bus,
            device: device as u8,
            function,
        })
    }
}

impl Serialize for PciAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PciAddress {
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
    fn parses_and_formats() {
        let a: PciAddress = "0000:3b:00.1".parse().unwrap();
        assert_eq!(
            (a.domain(), a.bus(), a.device(), a.function()),
            (0, 0x3b, 0, 1)
        );
        assert_eq!(a.to_string(), "0000:3b:00.1");
        assert_eq!(
            "3B:1F.7".parse::<PciAddress>().unwrap().to_string(),
            "0000:3b:1f.7"
        );
        assert_eq!(
            "10000:00:01.0".parse::<PciAddress>().unwrap().to_string(),
            "10000:00:01.0"
        );
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "0000:3b:00",
            "0000:3b:00.8",
            "0000:3b:20.0",
            "000:3b:00.0",
            "0000:3b:0.0",
            "zz:00.0",
            "0000:3b:00.0 ",
            "0000:3b:00.-1",
            "0000:+b:00.0",
            "1:2:3:4.0",
            "0000:3b:00.00",
        ] {
            assert!(bad.parse::<PciAddress>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn second_port_vfs_of_a_dual_port_connectx() {
        // PF1 0000:3b:00.1 with 8 VFs per PF has offset 9: VFs from 3b:01.2
        let pf1: PciAddress = "0000:3b:00.1".parse().unwrap();
        assert_eq!(pf1.vf_address(9, 1, 0).unwrap().to_string(), "0000:3b:01.2");
    }

    #[test]
    fn i350_non_unit_stride() {
        let pf: PciAddress = "0000:45:00.0".parse().unwrap();
        let vfs: Vec<String> = (0..3)
            .map(|i| pf.vf_address(128, 4, i).unwrap().to_string())
            .collect();
        assert_eq!(vfs, ["0000:45:10.0", "0000:45:10.4", "0000:45:11.0"]);
        assert_eq!(
            pf.vf_index_of(128, 4, &"0000:45:11.0".parse().unwrap()),
            Some(2)
        );
        assert_eq!(
            pf.vf_index_of(128, 4, &"0000:45:10.1".parse().unwrap()),
            None
        );
    }

    #[test]
    fn vf_past_the_last_routing_id_is_none() {
        let pf: PciAddress = "0000:ff:1f.0".parse().unwrap();
        assert_eq!(pf.vf_address(8, 1, 0), None);
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(domain in 0u32..=0xffff_ffff, rid: u16) {
            let a = PciAddress::from_routing_id(domain, rid);
            prop_assert_eq!(a.to_string().parse::<PciAddress>().unwrap(), a);
            prop_assert_eq!(a.routing_id(), rid);
        }

        #[test]
        fn vf_index_inverts_vf_address(rid: u16, offset in 1u16..512, stride in 1u16..8, index in 0u16..256) {
            let pf = PciAddress::from_routing_id(0, rid);
            if let Some(vf) = pf.vf_address(offset, stride, index) {
                prop_assert_eq!(pf.vf_index_of(offset, stride, &vf), Some(index));
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = s.parse::<PciAddress>();
        }
    }
}
