//! Typed values of RDMA sysfs attributes, each a `parse`/`emit` pair ([`FromStr`] and
//! [`Display`](fmt::Display)) that round-trips the kernel's text exactly: GUIDs, GIDs, `dev`
//! numbers, link-layer addresses, port and physical states, link layers and node types.
//! Parsers take the value without its trailing newline (see [`attr_value`]) and never panic.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why an attribute value did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {input:?}: {reason}")]
pub struct ParseError {
    /// What was being parsed (`GUID`, `port state`...).
    pub what: &'static str,
    /// The text given (cut to 64 characters).
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl ParseError {
    fn new(what: &'static str, input: &str, reason: &'static str) -> Self {
        ParseError {
            what,
            input: input.chars().take(64).collect(),
            reason,
        }
    }
}

/// The value of an attribute as read: without the trailing newline the kernel prints (and
/// without the extra ones some captured trees carry).
///
/// ```
/// assert_eq!(rdma_dev::attrs::attr_value("4: ACTIVE\n"), "4: ACTIVE");
/// assert_eq!(rdma_dev::attrs::attr_value("InfiniBand\n\n"), "InfiniBand");
/// ```
pub fn attr_value(text: &str) -> &str {
    text.trim_end_matches('\n')
}

/// Parses `n` groups of exactly four hex digits separated by `:` into bytes.
fn hex_groups<const N: usize>(what: &'static str, s: &str) -> Result<[u8; N], ParseError> {
    let mut out = [0u8; N];
    let groups = N / 2;
    let mut count = 0;
    for (i, group) in s.split(':').enumerate() {
        if i >= groups {
            return Err(ParseError::new(what, s, "too many groups"));
        }
        if group.len() != 4 || !group.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseError::new(what, s, "each group must be 4 hex digits"));
        }
        let v = u16::from_str_radix(group, 16)
            .map_err(|_| ParseError::new(what, s, "each group must be 4 hex digits"))?;
        out[2 * i..2 * i + 2].copy_from_slice(&v.to_be_bytes());
        count += 1;
    }
    if count != groups {
        return Err(ParseError::new(what, s, "too few groups"));
    }
    Ok(out)
}

fn fmt_hex_groups(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for (i, pair) in bytes.chunks(2).enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write!(
            f,
            "{:02x}{:02x}",
            pair[0],
            pair.get(1).copied().unwrap_or(0)
        )?;
    }
    Ok(())
}

/// A 64-bit GUID (`node_guid`, `sys_image_guid`), printed `b859:9f03:00d4:e6ea`.
///
/// ```
/// use rdma_dev::attrs::Guid;
/// let g: Guid = "b859:9f03:00d4:e6ea".parse().unwrap();
/// assert_eq!(g.0, 0xb859_9f03_00d4_e6ea);
/// assert_eq!(g.to_string(), "b859:9f03:00d4:e6ea");
/// assert_eq!(g.to_hex(), "b8599f0300d4e6ea"); // as ibv_devices prints it
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(pub u64);

impl Guid {
    /// Sixteen hex digits without separators, as `ibv_devices` prints a GUID.
    pub fn to_hex(&self) -> String {
        format!("{:016x}", self.0)
    }

    /// True for the all-zero GUID (an mlx5 VF without an assigned GUID).
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }
}

impl FromStr for Guid {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        hex_groups::<8>("GUID", s).map(|b| Guid(u64::from_be_bytes(b)))
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_hex_groups(f, &self.0.to_be_bytes())
    }
}

impl Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A 128-bit GID (`ports/N/gids/K`), printed as eight groups of four hex digits, zeros kept.
///
/// ```
/// use rdma_dev::attrs::Gid;
/// let g: Gid = "fe80:0000:0000:0000:ba59:9fff:fed4:e6ea".parse().unwrap();
/// assert_eq!(g.interface_id(), [0xba, 0x59, 0x9f, 0xff, 0xfe, 0xd4, 0xe6, 0xea]);
/// assert!(!g.is_zero());
/// assert_eq!(g.to_string(), "fe80:0000:0000:0000:ba59:9fff:fed4:e6ea");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gid(pub [u8; 16]);

impl Gid {
    /// True for the all-zero GID, which unused table entries print.
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|b| *b == 0)
    }

    /// The low 8 bytes: the port GUID on InfiniBand, the EUI-64 on RoCE.
    pub fn interface_id(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out.copy_from_slice(&self.0[8..]);
        out
    }
}

impl FromStr for Gid {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        hex_groups::<16>("GID", s).map(Gid)
    }
}

impl fmt::Display for Gid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_hex_groups(f, &self.0)
    }
}

impl Serialize for Gid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A character device number as sysfs `dev` prints it, `231:192`.
///
/// ```
/// use rdma_dev::attrs::DevNumber;
/// let d: DevNumber = "231:192".parse().unwrap();
/// assert_eq!((d.major, d.minor), (231, 192));
/// assert!("231".parse::<DevNumber>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DevNumber {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

fn decimal(what: &'static str, whole: &str, s: &str) -> Result<u32, ParseError> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(what, whole, "expected decimal numbers"));
    }
    s.parse()
        .map_err(|_| ParseError::new(what, whole, "number out of range"))
}

impl FromStr for DevNumber {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (major, minor) = s
            .split_once(':')
            .ok_or_else(|| ParseError::new("device number", s, "expected MAJOR:MINOR"))?;
        Ok(DevNumber {
            major: decimal("device number", s, major)?,
            minor: decimal("device number", s, minor)?,
        })
    }
}

impl fmt::Display for DevNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

/// A link-layer address as `/sys/class/net/<if>/address` prints it: bytes as two lower-case hex
/// digits joined by `:` (6 bytes for Ethernet, 20 for IPoIB).
///
/// ```
/// use rdma_dev::attrs::HwAddr;
/// let a: HwAddr = "80:00:00:48:fe:80:00:00:00:00:00:00:00:02:c9:03:00:f9:bf:a1".parse().unwrap();
/// assert_eq!(a.0.len(), 20);
/// assert_eq!(a.ipoib_guid(), Some([0x00, 0x02, 0xc9, 0x03, 0x00, 0xf9, 0xbf, 0xa1]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HwAddr(pub Vec<u8>);

impl HwAddr {
    /// The port GUID an IPoIB address ends with (its last 8 bytes); `None` unless the address
    /// has IPoIB's 20 bytes.
    pub fn ipoib_guid(&self) -> Option<[u8; 8]> {
        if self.0.len() != 20 {
            return None;
        }
        let mut out = [0u8; 8];
        out.copy_from_slice(&self.0[12..]);
        Some(out)
    }
}

impl FromStr for HwAddr {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = Vec::new();
        for part in s.split(':') {
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ParseError::new(
                    "hardware address",
                    s,
                    "each byte must be 2 hex digits",
                ));
            }
            if bytes.len() == 32 {
                return Err(ParseError::new(
                    "hardware address",
                    s,
                    "longer than 32 bytes",
                ));
            }
            bytes.push(
                u8::from_str_radix(part, 16)
                    .map_err(|_| ParseError::new("hardware address", s, "not hex"))?,
            );
        }
        Ok(HwAddr(bytes))
    }
}

impl fmt::Display for HwAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Splits `"4: ACTIVE"` into its code and name.
fn coded<'a>(what: &'static str, s: &'a str) -> Result<(u8, &'a str), ParseError> {
    let (code, name) = s
        .split_once(": ")
        .ok_or_else(|| ParseError::new(what, s, "expected \"<code>: <name>\""))?;
    if code.is_empty() || code.len() > 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(
            what,
            s,
            "code must be a small decimal number",
        ));
    }
    let code = code
        .parse()
        .map_err(|_| ParseError::new(what, s, "code out of range"))?;
    Ok((code, name))
}

macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal, { $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $text:literal; )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A code this crate does not name, with the kernel's text.
            Other(u8, String),
        }

        impl $name {
            /// The numeric code the kernel prints first.
            pub fn code(&self) -> u8 {
                match self {
                    $( $name::$variant => $code, )*
                    $name::Other(code, _) => *code,
                }
            }

            /// The name the kernel prints after the code.
            pub fn name(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )*
                    $name::Other(_, text) => text,
                }
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            /// Parses `"<code>: <name>"`; the code decides (the name is kept only for codes
            /// this crate does not know).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let (code, text) = coded($what, s)?;
                Ok(match code {
                    $( $code => $name::$variant, )*
                    other => $name::Other(other, text.to_string()),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}: {}", self.code(), self.name())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }
    };
}

coded_enum!(
    /// A port's logical state (`ports/N/state`, `"4: ACTIVE"`).
    ///
    /// ```
    /// use rdma_dev::attrs::PortState;
    /// assert_eq!("4: ACTIVE".parse::<PortState>().unwrap(), PortState::Active);
    /// assert_eq!(PortState::Down.to_string(), "1: DOWN");
    /// ```
    PortState, "port state", {
        /// 0: NOP.
        Nop = 0, "NOP";
        /// 1: DOWN.
        Down = 1, "DOWN";
        /// 2: INIT.
        Init = 2, "INIT";
        /// 3: ARMED.
        Armed = 3, "ARMED";
        /// 4: ACTIVE.
        Active = 4, "ACTIVE";
        /// 5: ACTIVE_DEFER.
        ActiveDefer = 5, "ACTIVE_DEFER";
    }
);

coded_enum!(
    /// A port's physical state (`ports/N/phys_state`, `"5: LinkUp"`).
    ///
    /// ```
    /// use rdma_dev::attrs::PhysState;
    /// assert_eq!("5: LinkUp".parse::<PhysState>().unwrap(), PhysState::LinkUp);
    /// assert_eq!(PhysState::Disabled.to_string(), "3: Disabled");
    /// ```
    PhysState, "physical port state", {
        /// 1: Sleep.
        Sleep = 1, "Sleep";
        /// 2: Polling.
        Polling = 2, "Polling";
        /// 3: Disabled.
        Disabled = 3, "Disabled";
        /// 4: PortConfigurationTraining.
        PortConfigurationTraining = 4, "PortConfigurationTraining";
        /// 5: LinkUp.
        LinkUp = 5, "LinkUp";
        /// 6: LinkErrorRecovery.
        LinkErrorRecovery = 6, "LinkErrorRecovery";
        /// 7: Phy Test.
        PhyTest = 7, "Phy Test";
    }
);

coded_enum!(
    /// A device's node type (`node_type`, `"1: CA"`).
    ///
    /// ```
    /// use rdma_dev::attrs::NodeType;
    /// assert_eq!("1: CA".parse::<NodeType>().unwrap(), NodeType::Ca);
    /// ```
    NodeType, "node type", {
        /// 1: CA (a channel adapter: every HCA and RoCE NIC).
        Ca = 1, "CA";
        /// 2: switch.
        Switch = 2, "switch";
        /// 3: router.
        Router = 3, "router";
        /// 4: RNIC (iWARP).
        Rnic = 4, "RNIC";
        /// 5: usNIC.
        Usnic = 5, "usNIC";
        /// 6: usNIC UDP.
        UsnicUdp = 6, "usNIC UDP";
        /// 7: unspecified.
        Unspecified = 7, "unspecified";
    }
);

/// A port's link layer (`ports/N/link_layer`).
///
/// ```
/// use rdma_dev::attrs::LinkLayer;
/// assert_eq!("Ethernet".parse::<LinkLayer>().unwrap(), LinkLayer::Ethernet);
/// assert_eq!("InfiniBand".parse::<LinkLayer>().unwrap().to_string(), "InfiniBand");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkLayer {
    /// RoCE.
    Ethernet,
    /// Native InfiniBand.
    InfiniBand,
    /// Another link layer (`Unknown` for iWARP devices, for instance).
    Other(String),
}

impl FromStr for LinkLayer {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Ethernet" => Ok(LinkLayer::Ethernet),
            "InfiniBand" => Ok(LinkLayer::InfiniBand),
            "" => Err(ParseError::new("link layer", s, "empty")),
            other if other.chars().any(char::is_control) => {
                Err(ParseError::new("link layer", s, "control characters"))
            }
            other => Ok(LinkLayer::Other(other.to_string())),
        }
    }
}

impl fmt::Display for LinkLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkLayer::Ethernet => "Ethernet",
            LinkLayer::InfiniBand => "InfiniBand",
            LinkLayer::Other(s) => s,
        })
    }
}

impl Serialize for LinkLayer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A hex number printed with `0x` (`lid`, `sm_lid`, netdev `dev_id`).
///
/// ```
/// assert_eq!(rdma_dev::attrs::parse_hex_u16("0x3a4").unwrap(), 0x3a4);
/// assert!(rdma_dev::attrs::parse_hex_u16("3a4").is_err());
/// ```
pub fn parse_hex_u16(s: &str) -> Result<u16, ParseError> {
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| ParseError::new("hex number", s, "missing 0x"))?;
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ParseError::new("hex number", s, "expected 1-4 hex digits"));
    }
    u16::from_str_radix(digits, 16).map_err(|_| ParseError::new("hex number", s, "not hex"))
}

/// A small decimal number (`dev_port`, `port`, netdev `type`).
pub fn parse_decimal(s: &str) -> Result<u32, ParseError> {
    decimal("decimal number", s, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kernel_texts_parse() {
        assert_eq!(
            "0002:c903:00f9:bfa0".parse::<Guid>().unwrap(),
            Guid(0x0002_c903_00f9_bfa0)
        );
        let zero: Gid = "0000:0000:0000:0000:0000:0000:0000:0000".parse().unwrap();
        assert!(zero.is_zero());
        assert_eq!(
            "3: Disabled".parse::<PhysState>().unwrap(),
            PhysState::Disabled
        );
        // a hand-edited fixture prints a port state in phys_state: the code decides
        assert_eq!(
            "4: ACTIVE".parse::<PhysState>().unwrap(),
            PhysState::PortConfigurationTraining
        );
        assert_eq!(
            "9: FUTURE".parse::<PortState>().unwrap(),
            PortState::Other(9, "FUTURE".into())
        );
        assert_eq!(parse_hex_u16("0x0").unwrap(), 0);
        assert_eq!(parse_decimal("32").unwrap(), 32);
    }

    #[test]
    fn bad_texts_are_typed_errors() {
        for bad in [
            "",
            "b859:9f03:00d4",
            "b859:9f03:00d4:e6ea:0000",
            "b8599f0300d4e6ea",
            "b859:9f03:00d4:e6eg",
            "b859:9f03:00d4:e6e",
            "+859:9f03:00d4:e6ea",
        ] {
            assert!(bad.parse::<Guid>().is_err(), "{bad:?}");
        }
        for bad in [
            "",
            "231",
            "231:",
            ":1",
            "231:-1",
            "231:1:2",
            "99999999999:0",
        ] {
            assert!(bad.parse::<DevNumber>().is_err(), "{bad:?}");
        }
        for bad in ["", "ACTIVE", "4:ACTIVE", "x: ACTIVE", "1234: X", "-1: X"] {
            assert!(bad.parse::<PortState>().is_err(), "{bad:?}");
        }
        for bad in ["", "0:1", "000:11", "zz", "0:"] {
            assert!(bad.parse::<HwAddr>().is_err(), "{bad:?}");
        }
        assert!("".parse::<LinkLayer>().is_err());
        assert!(parse_hex_u16("0x10000").is_err());
    }

    proptest! {
        #[test]
        fn guid_round_trips(v: u64) {
            let text = Guid(v).to_string();
            prop_assert_eq!(text.parse::<Guid>().unwrap(), Guid(v));
            prop_assert_eq!(Guid(v).to_hex().len(), 16);
        }

        #[test]
        fn gid_round_trips(b: [u8; 16]) {
            prop_assert_eq!(Gid(b).to_string().parse::<Gid>().unwrap(), Gid(b));
        }

        #[test]
        fn dev_number_round_trips(major: u32, minor: u32) {
            let d = DevNumber { major, minor };
            prop_assert_eq!(d.to_string().parse::<DevNumber>().unwrap(), d);
        }

        #[test]
        fn hwaddr_round_trips(bytes in proptest::collection::vec(any::<u8>(), 1..=32)) {
            let a = HwAddr(bytes);
            prop_assert_eq!(a.to_string().parse::<HwAddr>().unwrap(), a);
        }

        #[test]
        fn coded_states_round_trip(code: u8, name in "[A-Za-z_ ]{1,20}") {
            let text = format!("{code}: {name}");
            let s: PortState = text.parse().unwrap();
            prop_assert_eq!(s.code(), code);
            let again: PortState = s.to_string().parse().unwrap();
            prop_assert_eq!(again, s);
            let p: PhysState = text.parse().unwrap();
            prop_assert_eq!(p.code(), code);
        }

        #[test]
        fn parsers_never_panic(text in "\\PC{0,80}") {
            let _ = text.parse::<Guid>();
            let _ = text.parse::<Gid>();
            let _ = text.parse::<DevNumber>();
            let _ = text.parse::<HwAddr>();
            let _ = text.parse::<PortState>();
            let _ = text.parse::<PhysState>();
            let _ = text.parse::<NodeType>();
            let _ = text.parse::<LinkLayer>();
            let _ = parse_hex_u16(&text);
            let _ = parse_decimal(&text);
        }
    }
}
