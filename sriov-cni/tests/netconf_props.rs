//! Property tests of the netconf parser: any JSON value in any key never panics and is either
//! accepted with values the kernel takes, or refused with code 7 naming a key of the config
//! (6 for a configuration that is not an object); valid configurations round-trip their values.

use proptest::prelude::*;
use serde_json::{Value, json};
use sriov_cni::Error;
use sriov_cni::netconf::SriovConf;

const KEYS: &[&str] = &[
    "deviceID",
    "vlan",
    "vlanQoS",
    "vlanProto",
    "mac",
    "spoofchk",
    "trust",
    "link_state",
    "min_tx_rate",
    "max_tx_rate",
    "logLevel",
    "logFile",
    "hostRoot",
    "ipam",
    "runtimeConfig",
];

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u32..5000).prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-z0-9:./]{0,20}".prop_map(Value::from),
        prop::sample::select(vec![
            "on",
            "off",
            "auto",
            "enable",
            "802.1ad",
            "0000:3b:00.2",
            "02:00:00:00:00:01",
            "debug",
            "/srv",
            "host-local"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map(
                prop::sample::select(vec!["type", "deviceID", "mac"]).prop_map(String::from),
                inner,
                0..3
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_values_are_accepted_sanely_or_refused_by_key(
        entries in prop::collection::vec((prop::sample::select(KEYS), any_json()), 0..8),
        mac in prop::option::of("[0-9a-f:]{0,20}"),
    ) {
        let map: serde_json::Map<String, Value> =
            entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let bytes = serde_json::to_vec(&Value::Object(map)).unwrap();
        match SriovConf::parse(&bytes, mac.as_deref()) {
            Ok(conf) => {
                if let Some(m) = conf.vf.mac { prop_assert!(m.is_unicast()); }
                if let Some(v) = conf.vf.vlan { prop_assert!(v.id().get() <= 4094 && v.qos().get() <= 7); }
            }
            Err(Error::InvalidKey { key, .. }) => {
                let known = KEYS.contains(&key)
                    || ["runtimeConfig.deviceID", "runtimeConfig.mac", "CNI_ARGS MAC", "ipam.type"].contains(&key);
                prop_assert!(known, "unknown key {}", key);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    #[test]
    fn valid_values_are_kept(vlan in 1u32..4095, qos in 0u32..8, min in 0u32..1000, extra in 0u32..1000) {
        let conf = json!({"deviceID": "0000:3b:00.2", "vlan": vlan, "vlanQoS": qos,
            "min_tx_rate": min, "max_tx_rate": min + extra + 1});
        let c = SriovConf::parse(conf.to_string().as_bytes(), None).unwrap();
        let v = c.vf.vlan.unwrap();
        prop_assert_eq!((u32::from(v.id().get()), u32::from(v.qos().get())), (vlan, qos));
        let r = c.vf.rate.unwrap();
        prop_assert_eq!((r.min_mbps(), r.max_mbps()), (min, min + extra + 1));
    }
}
