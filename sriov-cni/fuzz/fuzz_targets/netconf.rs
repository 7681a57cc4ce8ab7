//! The `sriov` and `rdma` netconf parsers on arbitrary bytes: never a panic; an accepted
//! configuration only holds values the kernel takes (checked VLAN, QoS, rates, unicast MAC),
//! and every refusal has code 6 or 7. The first byte splits off a CNI_ARGS `MAC=` value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sriov_cni::netconf::{RdmaConf, SriovConf};

fuzz_target!(|data: &[u8]| {
    let (mac, json) = match data.split_first() {
        Some((&n, rest)) if (n as usize) <= rest.len() => rest.split_at(n as usize),
        _ => (&[][..], data),
    };
    let mac = std::str::from_utf8(mac).ok().filter(|m| !m.is_empty());
    match SriovConf::parse(json, mac) {
        Ok(conf) => {
            if let Some(m) = conf.vf.mac {
                assert!(m.is_unicast());
            }
            if let Some(rate) = conf.vf.rate {
                assert!(rate.max_mbps() == 0 || rate.min_mbps() <= rate.max_mbps());
            }
            if let Some(root) = &conf.host_root {
                assert!(root.starts_with('/'));
            }
        }
        Err(e) => assert!(matches!(e.cni_code().code(), 6 | 7)),
    }
    if let Err(e) = RdmaConf::parse(json) {
        assert!(matches!(e.cni_code().code(), 6 | 7));
    }
});
