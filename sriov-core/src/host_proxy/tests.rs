//! Round trips of every request and reply through their lines, and the parser on arbitrary
//! bytes.

use std::net::IpAddr;
use std::path::PathBuf;

use proptest::prelude::*;

use super::*;
use crate::{
    EntryKind, IpPrefix, LinkInfo, LinkState, MacAddress, RdmaNetnsMode, Route, TxRate, VfInfo,
    VfState, VlanConfig, VlanProto,
};

fn netns() -> impl Strategy<Value = Netns> {
    prop_oneof![
        Just(Netns::Host),
        "[a-z0-9/._-]{1,40}".prop_map(|p| Netns::Path(PathBuf::from(format!("/{p}")))),
    ]
}

fn name() -> impl Strategy<Value = String> {
    // any text: the protocol carries what the caller gave, the backend judges it
    ".{0,20}"
}

fn mac() -> impl Strategy<Value = MacAddress> {
    any::<[u8; 6]>().prop_map(MacAddress)
}

fn vlan() -> impl Strategy<Value = VlanConfig> {
    (1u32..=4094, 0u32..=7, any::<bool>()).prop_map(|(id, qos, ad)| {
        let proto = if ad {
            VlanProto::Dot1Ad
        } else {
            VlanProto::Dot1Q
        };
        VlanConfig::new(id, qos, proto).unwrap()
    })
}

fn rate() -> impl Strategy<Value = TxRate> {
    (0u32..10_000, 0u32..10_000).prop_map(|(min, extra)| TxRate::new(min, min + extra).unwrap())
}

fn link_state() -> impl Strategy<Value = LinkState> {
    prop_oneof![
        Just(LinkState::Auto),
        Just(LinkState::Enable),
        Just(LinkState::Disable)
    ]
}

fn prefix() -> impl Strategy<Value = IpPrefix> {
    prop_oneof![
        (any::<[u8; 4]>(), 0u8..=32).prop_map(|(a, l)| IpPrefix {
            addr: IpAddr::from(a),
            prefix_len: l
        }),
        (any::<[u8; 16]>(), 0u8..=128).prop_map(|(a, l)| IpPrefix {
            addr: IpAddr::from(a),
            prefix_len: l
        }),
    ]
}

fn route() -> impl Strategy<Value = Route> {
    (
        proptest::option::of(prefix()),
        proptest::option::of(any::<[u8; 4]>()),
        name(),
    )
        .prop_map(|(dst, gw, dev)| Route {
            dst,
            gateway: gw.map(IpAddr::from),
            dev,
        })
}

fn path() -> impl Strategy<Value = PathBuf> {
    "(/[a-z0-9:._-]{1,12}){0,8}".prop_map(PathBuf::from)
}

fn mode() -> impl Strategy<Value = RdmaNetnsMode> {
    prop_oneof![Just(RdmaNetnsMode::Shared), Just(RdmaNetnsMode::Exclusive)]
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        netns().prop_map(|ns| Request::Links { ns }),
        (netns(), name()).prop_map(|(ns, name)| Request::Link { ns, name }),
        (netns(), name(), name()).prop_map(|(ns, name, new_name)| Request::RenameLink {
            ns,
            name,
            new_name
        }),
        (netns(), name(), mac()).prop_map(|(ns, name, mac)| Request::SetLinkMac { ns, name, mac }),
        (netns(), name(), any::<u32>()).prop_map(|(ns, name, mtu)| Request::SetLinkMtu {
            ns,
            name,
            mtu
        }),
        (netns(), name(), any::<bool>()).prop_map(|(ns, name, up)| Request::SetLinkUp {
            ns,
            name,
            up
        }),
        (netns(), name(), netns()).prop_map(|(ns, name, target)| Request::MoveLink {
            ns,
            name,
            target
        }),
        (netns(), name()).prop_map(|(ns, name)| Request::Addresses { ns, name }),
        (netns(), name(), prefix()).prop_map(|(ns, name, addr)| Request::AddAddress {
            ns,
            name,
            addr
        }),
        (netns(), name(), prefix()).prop_map(|(ns, name, addr)| Request::DelAddress {
            ns,
            name,
            addr
        }),
        netns().prop_map(|ns| Request::Routes { ns }),
        (netns(), route()).prop_map(|(ns, route)| Request::AddRoute { ns, route }),
        name().prop_map(|pf| Request::Vfs { pf }),
        (name(), any::<u32>(), mac()).prop_map(|(pf, vf, mac)| Request::SetVfMac { pf, vf, mac }),
        (name(), any::<u32>(), vlan()).prop_map(|(pf, vf, vlan)| Request::SetVfVlan {
            pf,
            vf,
            vlan
        }),
        (name(), any::<u32>(), any::<bool>()).prop_map(|(pf, vf, on)| Request::SetVfSpoofchk {
            pf,
            vf,
            on
        }),
        (name(), any::<u32>(), any::<bool>()).prop_map(|(pf, vf, on)| Request::SetVfTrust {
            pf,
            vf,
            on
        }),
        (name(), any::<u32>(), link_state())
            .prop_map(|(pf, vf, state)| { Request::SetVfLinkState { pf, vf, state } }),
        (name(), any::<u32>(), rate()).prop_map(|(pf, vf, rate)| Request::SetVfRate {
            pf,
            vf,
            rate
        }),
        Just(Request::RdmaNetnsMode),
        mode().prop_map(|mode| Request::SetRdmaNetnsMode { mode }),
        netns().prop_map(|ns| Request::RdmaDevices { ns }),
        Just(Request::OtherNamespaces),
        (netns(), name(), netns()).prop_map(|(from, ibdev, to)| Request::MoveRdmaDevice {
            from,
            ibdev,
            to
        }),
        (netns(), path()).prop_map(|(ns, path)| Request::Read { ns, path }),
        (netns(), path(), name()).prop_map(|(ns, path, value)| Request::Write { ns, path, value }),
        (netns(), path()).prop_map(|(ns, path)| Request::ReadLink { ns, path }),
        (netns(), path()).prop_map(|(ns, path)| Request::ReadDir { ns, path }),
        (netns(), path()).prop_map(|(ns, path)| Request::EntryKind { ns, path }),
    ]
}

fn link_info() -> impl Strategy<Value = LinkInfo> {
    (
        any::<u32>(),
        name(),
        proptest::option::of(mac()),
        any::<u32>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(index, name, mac, mtu, admin_up, oper_up)| LinkInfo {
            index,
            name,
            mac,
            mtu,
            admin_up,
            oper_up,
        })
}

fn vf_info() -> impl Strategy<Value = VfInfo> {
    (
        any::<u32>(),
        mac(),
        vlan(),
        any::<bool>(),
        any::<bool>(),
        link_state(),
        rate(),
    )
        .prop_map(
            |(index, mac, vlan, spoofchk, trust, link_state, rate)| VfInfo {
                index,
                state: VfState {
                    mac,
                    vlan,
                    spoofchk,
                    trust,
                    link_state,
                    rate,
                },
            },
        )
}

fn reply() -> impl Strategy<Value = Reply> {
    let answer = prop_oneof![
        Just(Answer::Done),
        proptest::collection::vec(link_info(), 0..4).prop_map(Answer::Links),
        link_info().prop_map(Answer::Link),
        proptest::collection::vec(prefix(), 0..4).prop_map(Answer::Addresses),
        proptest::collection::vec(route(), 0..4).prop_map(Answer::Routes),
        proptest::collection::vec(vf_info(), 0..4).prop_map(Answer::Vfs),
        mode().prop_map(Answer::NetnsMode),
        proptest::collection::vec(name(), 0..4).prop_map(Answer::Names),
        ".*".prop_map(Answer::Text),
        path().prop_map(Answer::Target),
        prop_oneof![
            Just(EntryKind::Dir),
            Just(EntryKind::File),
            Just(EntryKind::Link)
        ]
        .prop_map(Answer::Kind),
    ];
    let kind = prop_oneof![
        Just(WireErrorKind::NotFound),
        Just(WireErrorKind::InvalidInput),
        Just(WireErrorKind::InvalidData),
        Just(WireErrorKind::Other),
    ];
    let error = (proptest::option::of(1i32..200), kind, ".*").prop_map(|(errno, kind, message)| {
        WireError {
            errno,
            kind,
            message,
        }
    });
    prop_oneof![answer.prop_map(Reply::Ok), error.prop_map(Reply::Err)]
}

proptest! {
    #[test]
    fn every_request_round_trips(req in request()) {
        let line = req.emit_line().unwrap();
        prop_assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1, "one line");
        prop_assert_eq!(Request::parse_line(&line).unwrap(), req);
    }

    #[test]
    fn every_reply_round_trips(reply in reply()) {
        let line = reply.emit_line().unwrap();
        prop_assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1, "one line");
        prop_assert_eq!(Reply::parse_line(&line).unwrap(), reply);
    }

    #[test]
    fn the_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Request::parse_line(&bytes);
        let _ = Reply::parse_line(&bytes);
    }

    #[test]
    fn an_errno_survives_the_wire(errno in 1i32..134) {
        let err = std::io::Error::from_raw_os_error(errno);
        let line = Reply::Err(WireError::from_io(&err)).emit_line().unwrap();
        let Reply::Err(back) = Reply::parse_line(&line).unwrap() else { panic!("not an error") };
        let back = back.into_io("read");
        prop_assert_eq!(back.raw_os_error(), Some(errno));
        prop_assert_eq!(back.kind(), err.kind());
    }
}
