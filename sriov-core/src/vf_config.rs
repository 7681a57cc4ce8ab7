//! VF configuration as the PF's VF table holds it (`ip link set <pf> vf N ...`): admin MAC, VLAN
//! with QoS and protocol, spoof checking, trust, link state and transmit rates. Every value is
//! checked when built, so an invalid configuration never reaches the kernel.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::MacAddress;

/// Why a VF configuration value is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VfConfigError {
    /// VLAN IDs are 0 (untagged) to 4094.
    #[error("VLAN ID {0} out of range 0-4094")]
    VlanOutOfRange(u32),
    /// 802.1p priorities are 0 to 7.
    #[error("VLAN QoS {0} out of range 0-7")]
    QosOutOfRange(u32),
    /// A QoS or an 802.1ad protocol needs a non-zero VLAN.
    #[error("VLAN QoS {qos} or protocol {proto} given without a VLAN ID")]
    VlanSettingsWithoutVlan {
        /// The QoS given.
        qos: u8,
        /// The protocol given.
        proto: VlanProto,
    },
    /// Only `802.1q` and `802.1ad`.
    #[error("unknown VLAN protocol {0:?}: expected 802.1q or 802.1ad")]
    UnknownVlanProto(String),
    /// Only `auto`, `enable` and `disable`.
    #[error("unknown VF link state {0:?}: expected auto, enable or disable")]
    UnknownLinkState(String),
    /// Only `on` and `off`.
    #[error("expected on or off, got {0:?}")]
    NotOnOff(String),
    /// `min_tx_rate` above a non-zero `max_tx_rate`.
    #[error("min_tx_rate {min} Mbps is above max_tx_rate {max} Mbps")]
    RateMinAboveMax {
        /// Minimum in Mbps.
        min: u32,
        /// Maximum in Mbps.
        max: u32,
    },
    /// A VF admin MAC must be unicast.
    #[error("MAC {0} is a multicast address")]
    MulticastMac(MacAddress),
}

/// A VLAN ID, 0 (no VLAN) to 4094.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(try_from = "u32", into = "u32")]
pub struct VlanId(u16);

impl VlanId {
    /// No VLAN.
    pub const NONE: VlanId = VlanId(0);

    /// A checked VLAN ID.
    pub fn new(id: u32) -> Result<Self, VfConfigError> {
        if id > 4094 {
            return Err(VfConfigError::VlanOutOfRange(id));
        }
        Ok(VlanId(id as u16))
    }

    /// The number.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u32> for VlanId {
    type Error = VfConfigError;
    fn try_from(v: u32) -> Result<Self, Self::Error> {
        VlanId::new(v)
    }
}

impl From<VlanId> for u32 {
    fn from(v: VlanId) -> u32 {
        u32::from(v.0)
    }
}

/// An 802.1p priority, 0 to 7.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(try_from = "u32", into = "u32")]
pub struct VlanQos(u8);

impl VlanQos {
    /// A checked priority.
    pub fn new(qos: u32) -> Result<Self, VfConfigError> {
        if qos > 7 {
            return Err(VfConfigError::QosOutOfRange(qos));
        }
        Ok(VlanQos(qos as u8))
    }

    /// The number.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u32> for VlanQos {
    type Error = VfConfigError;
    fn try_from(v: u32) -> Result<Self, Self::Error> {
        VlanQos::new(v)
    }
}

impl From<VlanQos> for u32 {
    fn from(v: VlanQos) -> u32 {
        u32::from(v.0)
    }
}

/// The VLAN tag protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum VlanProto {
    /// 802.1Q (ethertype 0x8100), the default.
    #[default]
    #[serde(rename = "802.1q")]
    Dot1Q,
    /// 802.1ad, QinQ (ethertype 0x88a8).
    #[serde(rename = "802.1ad")]
    Dot1Ad,
}

impl VlanProto {
    /// The ethertype the kernel uses (`ETH_P_8021Q`, `ETH_P_8021AD`).
    pub fn ethertype(self) -> u16 {
        match self {
            VlanProto::Dot1Q => 0x8100,
            VlanProto::Dot1Ad => 0x88a8,
        }
    }
}

impl fmt::Display for VlanProto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VlanProto::Dot1Q => "802.1q",
            VlanProto::Dot1Ad => "802.1ad",
        })
    }
}

impl FromStr for VlanProto {
    type Err = VfConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "802.1q" => Ok(VlanProto::Dot1Q),
            "802.1ad" => Ok(VlanProto::Dot1Ad),
            _ => Err(VfConfigError::UnknownVlanProto(s.to_string())),
        }
    }
}

/// A VF's VLAN setting: ID, priority and protocol. ID 0 means no VLAN, and then the priority
/// must be 0 and the protocol 802.1Q.
///
/// ```
/// use sriov_core::{VlanConfig, VlanProto};
/// let v = VlanConfig::new(111, 3, VlanProto::Dot1Q).unwrap();
/// assert_eq!(v.id().get(), 111);
/// assert!(VlanConfig::new(0, 3, VlanProto::Dot1Q).is_err());
/// assert!(VlanConfig::new(4095, 0, VlanProto::Dot1Q).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "RawVlan", into = "RawVlan")]
pub struct VlanConfig {
    id: VlanId,
    qos: VlanQos,
    proto: VlanProto,
}

#[derive(Serialize, Deserialize)]
struct RawVlan {
    id: u32,
    qos: u32,
    proto: VlanProto,
}

impl TryFrom<RawVlan> for VlanConfig {
    type Error = VfConfigError;
    fn try_from(r: RawVlan) -> Result<Self, Self::Error> {
        VlanConfig::new(r.id, r.qos, r.proto)
    }
}

impl From<VlanConfig> for RawVlan {
    fn from(v: VlanConfig) -> RawVlan {
        RawVlan {
            id: v.id.into(),
            qos: v.qos.into(),
            proto: v.proto,
        }
    }
}

impl VlanConfig {
    /// No VLAN.
    pub const NONE: VlanConfig = VlanConfig {
        id: VlanId(0),
        qos: VlanQos(0),
        proto: VlanProto::Dot1Q,
    };

    /// A checked VLAN setting.
    pub fn new(id: u32, qos: u32, proto: VlanProto) -> Result<Self, VfConfigError> {
        let id = VlanId::new(id)?;
        let qos = VlanQos::new(qos)?;
        if id.get() == 0 && (qos.get() != 0 || proto != VlanProto::Dot1Q) {
            return Err(VfConfigError::VlanSettingsWithoutVlan {
                qos: qos.get(),
                proto,
            });
        }
        Ok(VlanConfig { id, qos, proto })
    }

    /// The VLAN ID (0: none).
    pub fn id(&self) -> VlanId {
        self.id
    }

    /// The priority.
    pub fn qos(&self) -> VlanQos {
        self.qos
    }

    /// The protocol.
    pub fn proto(&self) -> VlanProto {
        self.proto
    }
}

/// A VF's link state policy (`IFLA_VF_LINK_STATE`).
///
/// ```
/// use sriov_core::LinkState;
/// assert_eq!(LinkState::from_kernel(1), LinkState::Enable);
/// // a value a newer kernel may report is kept, not refused
/// assert_eq!(LinkState::from_kernel(7), LinkState::Other(7));
/// assert_eq!(LinkState::Other(7).to_kernel(), 7);
/// assert!("other".parse::<LinkState>().is_err()); // configs name the three policies only
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LinkState {
    /// Follow the PF's physical link (the default; kernel value 0).
    #[default]
    Auto,
    /// Always up (1).
    Enable,
    /// Always down (2).
    Disable,
    /// A value this crate does not know, as the kernel reported it (restored as read).
    Other(u32),
}

impl LinkState {
    /// The policy for the kernel's value (`IFLA_VF_LINK_STATE_*`).
    pub fn from_kernel(value: u32) -> LinkState {
        match value {
            0 => LinkState::Auto,
            1 => LinkState::Enable,
            2 => LinkState::Disable,
            other => LinkState::Other(other),
        }
    }

    /// The kernel's value for the policy.
    pub fn to_kernel(self) -> u32 {
        match self {
            LinkState::Auto => 0,
            LinkState::Enable => 1,
            LinkState::Disable => 2,
            LinkState::Other(value) => value,
        }
    }
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkState::Auto => f.write_str("auto"),
            LinkState::Enable => f.write_str("enable"),
            LinkState::Disable => f.write_str("disable"),
            LinkState::Other(value) => write!(f, "link state {value}"),
        }
    }
}

impl FromStr for LinkState {
    type Err = VfConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(LinkState::Auto),
            "enable" => Ok(LinkState::Enable),
            "disable" => Ok(LinkState::Disable),
            _ => Err(VfConfigError::UnknownLinkState(s.to_string())),
        }
    }
}

/// Parses the `on`/`off` values the SR-IOV CNI config uses for `spoofchk` and `trust`.
pub fn parse_on_off(s: &str) -> Result<bool, VfConfigError> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(VfConfigError::NotOnOff(s.to_string())),
    }
}

/// Transmit rate limits in Mbps; 0 means no limit. A non-zero maximum must not be below the
/// minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "RawRate", into = "RawRate")]
pub struct TxRate {
    min_mbps: u32,
    max_mbps: u32,
}

#[derive(Serialize, Deserialize)]
struct RawRate {
    min_mbps: u32,
    max_mbps: u32,
}

impl TryFrom<RawRate> for TxRate {
    type Error = VfConfigError;
    fn try_from(r: RawRate) -> Result<Self, Self::Error> {
        TxRate::new(r.min_mbps, r.max_mbps)
    }
}

impl From<TxRate> for RawRate {
    fn from(r: TxRate) -> RawRate {
        RawRate {
            min_mbps: r.min_mbps,
            max_mbps: r.max_mbps,
        }
    }
}

impl TxRate {
    /// No limits.
    pub const UNLIMITED: TxRate = TxRate {
        min_mbps: 0,
        max_mbps: 0,
    };

    /// Checked limits.
    pub fn new(min_mbps: u32, max_mbps: u32) -> Result<Self, VfConfigError> {
        if max_mbps != 0 && min_mbps > max_mbps {
            return Err(VfConfigError::RateMinAboveMax {
                min: min_mbps,
                max: max_mbps,
            });
        }
        Ok(TxRate { min_mbps, max_mbps })
    }

    /// Minimum guaranteed rate.
    pub fn min_mbps(&self) -> u32 {
        self.min_mbps
    }

    /// Maximum rate (0: unlimited).
    pub fn max_mbps(&self) -> u32 {
        self.max_mbps
    }
}

/// The whole state of one VF in its PF's VF table, as read back (`ip link show <pf>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct VfState {
    /// Admin MAC (zero when unset).
    pub mac: MacAddress,
    /// VLAN, QoS and protocol.
    pub vlan: VlanConfig,
    /// Source MAC spoof checking.
    pub spoofchk: bool,
    /// Trusted (may change its MAC, enter promiscuous mode).
    pub trust: bool,
    /// Link state policy.
    pub link_state: LinkState,
    /// Transmit rate limits.
    pub rate: TxRate,
}

/// A requested change to a VF: each field that is `Some` is applied, the rest left alone.
///
/// ```
/// use sriov_core::{VfConfig, VlanConfig, VlanProto, LinkState};
/// let cfg = VfConfig {
///     vlan: Some(VlanConfig::new(111, 0, VlanProto::Dot1Q).unwrap()),
///     spoofchk: Some(true),
///     link_state: Some(LinkState::Enable),
///     ..VfConfig::default()
/// };
/// cfg.validate().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VfConfig {
    /// Admin MAC.
    pub mac: Option<MacAddress>,
    /// VLAN.
    pub vlan: Option<VlanConfig>,
    /// Spoof checking.
    pub spoofchk: Option<bool>,
    /// Trust.
    pub trust: Option<bool>,
    /// Link state policy.
    pub link_state: Option<LinkState>,
    /// Rate limits.
    pub rate: Option<TxRate>,
}

impl VfConfig {
    /// Checks what the types cannot: the admin MAC must be unicast.
    pub fn validate(&self) -> Result<(), VfConfigError> {
        if let Some(mac) = self.mac
            && !mac.is_unicast()
        {
            return Err(VfConfigError::MulticastMac(mac));
        }
        Ok(())
    }

    /// `state` with this configuration applied.
    pub fn apply_to(&self, mut state: VfState) -> VfState {
        if let Some(mac) = self.mac {
            state.mac = mac;
        }
        if let Some(vlan) = self.vlan {
            state.vlan = vlan;
        }
        if let Some(v) = self.spoofchk {
            state.spoofchk = v;
        }
        if let Some(v) = self.trust {
            state.trust = v;
        }
        if let Some(v) = self.link_state {
            state.link_state = v;
        }
        if let Some(v) = self.rate {
            state.rate = v;
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges_are_enforced() {
        assert_eq!(VlanId::new(4095), Err(VfConfigError::VlanOutOfRange(4095)));
        assert_eq!(VlanQos::new(8), Err(VfConfigError::QosOutOfRange(8)));
        assert!(VlanConfig::new(0, 0, VlanProto::Dot1Ad).is_err());
        assert!(VlanConfig::new(4094, 7, VlanProto::Dot1Ad).is_ok());
        assert!(TxRate::new(100, 50).is_err());
        assert!(TxRate::new(100, 0).is_ok());
        assert!("802.1AD".parse::<VlanProto>().is_ok());
        assert!("802.1x".parse::<VlanProto>().is_err());
        assert!("on ".parse::<LinkState>().is_err());
        assert_eq!(parse_on_off("on"), Ok(true));
        assert!(parse_on_off("yes").is_err());
    }

    #[test]
    fn multicast_admin_mac_is_rejected() {
        let cfg = VfConfig {
            mac: Some("01:00:5e:00:00:01".parse().unwrap()),
            ..Default::default()
        };
        assert!(matches!(
            cfg.validate(),
            Err(VfConfigError::MulticastMac(_))
        ));
    }

    #[test]
    fn serde_rejects_out_of_range_values() {
        assert!(
            serde_json::from_str::<VlanConfig>(r#"{"id":5000,"qos":0,"proto":"802.1q"}"#).is_err()
        );
        assert!(serde_json::from_str::<TxRate>(r#"{"min_mbps":10,"max_mbps":5}"#).is_err());
        let v: VlanConfig =
            serde_json::from_str(r#"{"id":111,"qos":2,"proto":"802.1ad"}"#).unwrap();
        assert_eq!(v.proto(), VlanProto::Dot1Ad);
    }

    proptest! {
        #[test]
        fn vlan_accepts_exactly_the_valid_range(id in 0u32..5000, qos in 0u32..10, ad: bool) {
            let proto = if ad { VlanProto::Dot1Ad } else { VlanProto::Dot1Q };
            let valid = id <= 4094 && qos <= 7 && (id != 0 || (qos == 0 && !ad));
            prop_assert_eq!(VlanConfig::new(id, qos, proto).is_ok(), valid);
        }

        #[test]
        fn state_serde_round_trip(mac: [u8; 6], id in 0u32..=4094, qos in 0u32..=7, s: bool, t: bool, min in 0u32..1000, extra in 0u32..1000) {
            let vlan = if id == 0 { VlanConfig::NONE } else { VlanConfig::new(id, qos, VlanProto::Dot1Q).unwrap() };
            let state = VfState { mac: MacAddress(mac), vlan, spoofchk: s, trust: t, link_state: LinkState::Disable, rate: TxRate::new(min, min + extra).unwrap() };
            let text = serde_json::to_string(&state).unwrap();
            prop_assert_eq!(serde_json::from_str::<VfState>(&text).unwrap(), state);
        }
    }
}
