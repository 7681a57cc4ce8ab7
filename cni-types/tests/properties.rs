//! Property tests: `parse(emit(x)) == x` for every result version, configurations, errors,
//! `CNI_ARGS` and versions; lossless conversions where the specification promises them; the
//! skeleton never panics and always answers with exit 0/1 and JSON.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use cni_types::args::CniArgs;
use cni_types::config::{Ipam, NetConf, NetConfList};
use cni_types::result::*;
use cni_types::skel::Command;
use cni_types::testing::{self, Env};
use cni_types::version::Version;
use cni_types::{CniError, ErrorCode};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn v4() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}
fn v6() -> impl Strategy<Value = Ipv6Addr> {
    any::<u128>().prop_map(Ipv6Addr::from)
}
fn net4() -> impl Strategy<Value = IpNet> {
    (v4(), 0u8..=32).prop_map(|(a, p)| IpNet::V4(Ipv4Net::new(a, p).unwrap()))
}
fn net6() -> impl Strategy<Value = IpNet> {
    (v6(), 0u8..=128).prop_map(|(a, p)| IpNet::V6(Ipv6Net::new(a, p).unwrap()))
}
fn net() -> impl Strategy<Value = IpNet> {
    prop_oneof![net4(), net6()]
}
fn addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![v4().prop_map(IpAddr::V4), v6().prop_map(IpAddr::V6)]
}
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_./:-]{0,12}"
}
fn dns() -> impl Strategy<Value = Dns> {
    (
        prop::collection::vec(text(), 0..3),
        text(),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(text(), 0..3),
    )
        .prop_map(|(nameservers, domain, search, options)| Dns {
            nameservers,
            domain,
            search,
            options,
        })
}
fn route_with(dst: impl Strategy<Value = IpNet>, full: bool) -> impl Strategy<Value = Route> {
    (
        dst,
        prop::option::of(addr()),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<u8>()),
    )
        .prop_map(move |(dst, gw, mtu, advmss, priority, table, scope)| {
            if full {
                Route {
                    dst,
                    gw,
                    mtu,
                    advmss,
                    priority,
                    table,
                    scope,
                }
            } else {
                Route::new(dst, gw)
            }
        })
}
fn interface(full: bool) -> impl Strategy<Value = Interface> {
    (
        text(),
        text(),
        prop::option::of(any::<u32>()),
        text(),
        text(),
        text(),
    )
        .prop_map(move |(name, mac, mtu, sandbox, socket_path, pci_id)| {
            if full {
                Interface {
                    name,
                    mac,
                    mtu,
                    sandbox,
                    socket_path,
                    pci_id,
                }
            } else {
                Interface {
                    name,
                    mac,
                    sandbox,
                    ..Default::default()
                }
            }
        })
}
fn ipconfig() -> impl Strategy<Value = IpConfig> {
    (prop::option::of(0u32..8), net(), prop::option::of(addr())).prop_map(
        |(interface, address, gateway)| IpConfig {
            interface,
            address,
            gateway,
        },
    )
}
fn result100(version: &'static str, full: bool) -> impl Strategy<Value = Result100> {
    (
        prop::collection::vec(interface(full), 0..3),
        prop::collection::vec(ipconfig(), 0..4),
        prop::collection::vec(route_with(net(), full), 0..4),
        dns(),
    )
        .prop_map(move |(interfaces, ips, routes, dns)| Result100 {
            cni_version: version.into(),
            interfaces,
            ips,
            routes,
            dns,
        })
}
fn result040(version: &'static str) -> impl Strategy<Value = Result040> {
    result100("1.0.0", false).prop_map(move |r| {
        match AnyResult::V100(r).convert_to(version).unwrap() {
            AnyResult::V040(r) => r,
            _ => unreachable!(),
        }
    })
}
fn ip020(dst: fn() -> BoxedStrategy<IpNet>) -> impl Strategy<Value = IpConfig020> {
    (
        dst(),
        prop::option::of(addr()),
        prop::collection::vec(route_with(dst(), false), 0..3),
    )
        .prop_map(|(ip, gateway, routes)| IpConfig020 {
            ip,
            gateway,
            routes,
        })
}
fn result020(version: &'static str) -> impl Strategy<Value = Result020> {
    (
        prop::option::of(ip020(|| net4().boxed())),
        prop::option::of(ip020(|| net6().boxed())),
        dns(),
    )
        .prop_filter("0.2.0 needs an address", |(a, b, _)| {
            a.is_some() || b.is_some()
        })
        .prop_map(move |(ip4, ip6, dns)| Result020 {
            cni_version: version.into(),
            ip4,
            ip6,
            dns,
        })
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        text().prop_map(Value::String),
    ]
}
fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
fn extra_keys(reserved: &'static [&'static str]) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("x[a-zA-Z]{0,6}", json_value(), 0..4).prop_map(move |m| {
        m.into_iter()
            .filter(|(k, _)| !reserved.contains(&k.as_str()))
            .collect()
    })
}
fn netconf() -> impl Strategy<Value = NetConf> {
    (
        prop::option::of(prop::sample::select(cni_types::version::ALL)),
        "[a-z][a-z0-9-]{0,8}",
        "[a-z][a-z0-9-]{0,8}",
        prop::option::of(prop::collection::btree_map(
            "[a-zA-Z]{1,8}",
            any::<bool>(),
            0..3,
        )),
        prop::option::of(("[a-z-]{1,8}", extra_keys(&[]))),
        prop::option::of(dns()),
        prop::option::of(extra_keys(&[])),
        prop::option::of(result100("1.0.0", true)),
        extra_keys(&[]),
    )
        .prop_map(
            |(v, name, ty, capabilities, ipam, dns, runtime_config, prev, extra)| NetConf {
                cni_version: v.map(str::to_string),
                name,
                plugin_type: ty,
                capabilities,
                ipam: ipam.map(|(t, extra)| Ipam {
                    plugin_type: t,
                    extra,
                }),
                dns,
                runtime_config,
                prev_result: prev.map(|r| AnyResult::V100(r).to_value()),
                args: None,
                extra,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn result100_round_trips(r in result100("1.1.0", true), v in prop::sample::select(vec!["1.0.0", "1.1.0"])) {
        let r = Result100 { cni_version: v.into(), ..r };
        let any = AnyResult::V100(r);
        prop_assert_eq!(AnyResult::parse(&any.emit()).unwrap(), any);
    }

    #[test]
    fn result040_round_trips(r in result040("0.4.0"), v in prop::sample::select(vec!["0.3.0", "0.3.1", "0.4.0"])) {
        let any = AnyResult::V040(Result040 { cni_version: v.into(), ..r });
        prop_assert_eq!(AnyResult::parse(&any.emit()).unwrap(), any);
    }

    #[test]
    fn result020_round_trips(r in result020("0.2.0"), v in prop::sample::select(vec!["0.1.0", "0.2.0"])) {
        let any = AnyResult::V020(Result020 { cni_version: v.into(), ..r });
        prop_assert_eq!(AnyResult::parse(&any.emit()).unwrap(), any);
    }

    /// 1.0.0 <-> 1.1.0 changes only the version.
    #[test]
    fn v1_versions_convert_losslessly(r in result100("1.1.0", true)) {
        let any = AnyResult::V100(r);
        let down = any.convert_to("1.0.0").unwrap();
        prop_assert_eq!(down.convert_to("1.1.0").unwrap(), any);
    }

    /// 0.4.0 -> 1.x -> 0.4.0 is lossless (the version field is derived from the family).
    #[test]
    fn v040_up_then_down_is_lossless(r in result040("0.4.0"), up in prop::sample::select(vec!["1.0.0", "1.1.0"])) {
        let any = AnyResult::V040(r);
        prop_assert_eq!(any.convert_to(up).unwrap().convert_to("0.4.0").unwrap(), any);
    }

    /// 0.2.0 -> 0.4.0 / 1.x -> 0.2.0 is lossless.
    #[test]
    fn v020_up_then_down_is_lossless(r in result020("0.2.0"), up in prop::sample::select(vec!["0.3.1", "0.4.0", "1.0.0", "1.1.0"])) {
        let any = AnyResult::V020(r);
        prop_assert_eq!(any.convert_to(up).unwrap().convert_to("0.2.0").unwrap(), any);
    }

    /// A 1.x result without 1.1.0-only fields survives 1.x -> 0.4.0 -> 1.x.
    #[test]
    fn v100_down_then_up_is_lossless_without_1_1_fields(r in result100("1.0.0", false)) {
        let any = AnyResult::V100(r);
        prop_assert_eq!(any.convert_to("0.4.0").unwrap().convert_to("1.0.0").unwrap(), any);
    }

    /// Down-conversion to 0.2.0 keeps the first address of each family, or fails exactly
    /// when there is none.
    #[test]
    fn v020_keeps_first_address_per_family(r in result100("1.1.0", true)) {
        let first4 = r.ips.iter().find(|i| matches!(i.address, IpNet::V4(_))).map(|i| i.address);
        let first6 = r.ips.iter().find(|i| matches!(i.address, IpNet::V6(_))).map(|i| i.address);
        match AnyResult::V100(r).convert_to("0.2.0") {
            Ok(AnyResult::V020(old)) => {
                prop_assert_eq!(old.ip4.map(|c| c.ip), first4);
                prop_assert_eq!(old.ip6.map(|c| c.ip), first6);
            }
            Ok(_) => prop_assert!(false, "wrong layout"),
            Err(e) => {
                prop_assert!(first4.is_none() && first6.is_none());
                prop_assert_eq!(e.to_string(), "cannot convert: no valid IP addresses");
            }
        }
    }

    #[test]
    fn netconf_round_trips(c in netconf()) {
        prop_assert_eq!(NetConf::parse(&c.emit()).unwrap(), c);
    }

    #[test]
    fn netconflist_round_trips(
        plugins in prop::collection::vec(netconf(), 1..4),
        versions in prop::option::of(prop::collection::vec(prop::sample::select(cni_types::version::ALL), 0..3)),
        v in prop::option::of(prop::sample::select(cni_types::version::ALL)),
        flags in any::<(bool, bool, bool)>(),
        extra in extra_keys(&["cniVersion", "cniVersions", "name", "disableCheck", "disableGC", "loadOnlyInlinedPlugins", "plugins"]),
    ) {
        let list = NetConfList {
            cni_version: v.map(str::to_string),
            cni_versions: versions.map(|vs| vs.into_iter().map(str::to_string).collect()),
            name: "net".into(),
            disable_check: flags.0,
            disable_gc: flags.1,
            load_only_inlined_plugins: flags.2,
            plugins,
            extra,
        };
        prop_assert_eq!(NetConfList::parse(&list.emit()).unwrap(), list);
    }

    #[test]
    fn errors_round_trip(code in any::<u32>(), msg in ".{0,20}", details in ".{0,20}", v in prop::option::of(text())) {
        let e = CniError { cni_version: v, code: ErrorCode::from(code), msg, details };
        prop_assert_eq!(CniError::parse(&e.emit()).unwrap(), e.clone());
        prop_assert_eq!(e.code.code(), code);
    }

    #[test]
    fn cni_args_round_trip(pairs in prop::collection::vec(("[A-Za-z_][A-Za-z0-9_]{0,8}", "[^;=]{0,10}"), 1..5)) {
        let args = CniArgs { pairs };
        prop_assert_eq!(CniArgs::parse(&args.emit()).unwrap(), args);
    }

    #[test]
    fn versions_round_trip(a in any::<u32>(), b in any::<u32>(), c in any::<u32>()) {
        let v = Version::new(a, b, c);
        prop_assert_eq!(Version::parse(&v.to_string()).unwrap(), v);
    }

    /// Whatever the environment and stdin, the skeleton answers with 0 or 1, and stdout is
    /// empty or one JSON document.
    #[test]
    fn skeleton_never_panics(
        cmd in prop::sample::select(vec!["ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION", "", "x"]),
        cid in ".{0,8}", ifname in ".{0,17}", args in ".{0,12}",
        stdin in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
            netconf().prop_map(|c| c.emit()),
        ],
    ) {
        let env = Env::for_command(Command::Add)
            .with("CNI_COMMAND", cmd)
            .with("CNI_CONTAINERID", cid)
            .with("CNI_IFNAME", ifname)
            .with("CNI_ARGS", args);
        let mut p = common::Recorder::default();
        let out = testing::run(&mut p, &env, &stdin);
        prop_assert!(out.exit_code == 0 || out.exit_code == 1);
        if !out.stdout.is_empty() {
            let v: Value = out.stdout_json().unwrap();
            if out.exit_code == 1 {
                prop_assert!(v.get("code").is_some());
            }
        }
    }
}

// ------------------------------------------------------------ interface names

/// `IFNAMSIZ`, `include/uapi/linux/if.h`.
const REF_IFNAMSIZ: usize = 16;

/// `isspace()` of the kernel: the `_S` bit of `_ctype[]` in `lib/ctype.c`, whose rows set it
/// in `_C,_C|_S,_C|_S,_C|_S,_C|_S,_C|_S,_C,_C /* 8-15 */`, `_S|_SP,... /* 32-39 */` and
/// `_S|_SP,... /* 160-175 */`, and nowhere else (128-159 are all 0).
fn ref_isspace(c: u8) -> bool {
    (9..=13).contains(&c) || c == 32 || c == 160
}

/// `strnlen(s, count)` of `lib/string.c`.
fn ref_strnlen(s: &[u8], count: usize) -> usize {
    s.iter().take(count).take_while(|&&c| c != 0).count()
}

/// `dev_valid_name()` of `net/core/dev.c`, line by line, on the buffer the kernel reads:
/// a C string, so it ends at the first NUL.
fn ref_dev_valid_name(buf: &[u8]) -> bool {
    let name = &buf[..ref_strnlen(buf, usize::MAX)];
    if name.is_empty() {
        return false; // *name == '\0'
    }
    if ref_strnlen(name, REF_IFNAMSIZ) == REF_IFNAMSIZ {
        return false;
    }
    if name == b"." || name == b".." {
        return false; // !strcmp(name, ".") || !strcmp(name, "..")
    }
    for &c in name {
        if c == b'/' || c == b':' || ref_isspace(c) {
            return false;
        }
    }
    true
}

/// Valid UTF-8 names, biased towards the bytes and lengths the rule is about.
fn ifname_candidate() -> impl Strategy<Value = String> {
    let interesting = prop::sample::select(vec![
        'a', 'Z', '0', '-', '_', '.', '#', '@', '/', ':', ' ', '\t', '\n', '\u{0b}', '\u{0c}',
        '\r', '\0', '\u{1c}', '\u{7f}', '\u{85}', '\u{a0}', 'à', 'é', 'Ġ', '\u{820}', '\u{2028}',
        '\u{3000}', '😀',
    ]);
    prop_oneof![
        ".{0,18}",
        prop::collection::vec(prop_oneof![3 => interesting, 1 => any::<char>()], 0..18)
            .prop_map(|cs| cs.into_iter().collect()),
        prop::sample::select(vec![
            ".",
            "..",
            "...",
            "",
            "0123456789abcde",
            "0123456789abcdef"
        ])
        .prop_map(str::to_string),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The rule accepts exactly what `dev_valid_name()` accepts, NUL-free names only (a NUL
    /// would make the kernel read a shorter name than the one given).
    #[test]
    fn interface_names_follow_dev_valid_name(name in ifname_candidate()) {
        let kernel = !name.as_bytes().contains(&0) && ref_dev_valid_name(name.as_bytes());
        prop_assert_eq!(cni_types::validate::is_valid_interface_name(&name), kernel, "{:?}", name);
        prop_assert_eq!(cni_types::validate::is_valid_interface_name_bytes(name.as_bytes()), kernel);
        let checked = cni_types::validate::interface_name(&name);
        prop_assert_eq!(checked.is_ok(), kernel);
        if let Err(e) = checked {
            prop_assert_eq!(e.code, ErrorCode::InvalidEnvironment);
        }
    }
}

/// Found by the `config` fuzz target: a plugin's own float must come back bit for bit.
#[test]
fn unknown_float_keys_survive_exactly() {
    let input = br#"{"cniVersion":"1.1.0","name":"eth0","dns":777777777777777777777777777777777777777777777777777777777777777777777777777777777777777777777777777777777}"#;
    let list = NetConfList::parse(input).unwrap();
    assert_eq!(NetConfList::parse(&list.emit()).unwrap(), list);
}
