//! Property tests of the `dhcpd.conf` parser: no input panics, every error names the file and
//! a line that exists, and generated valid configurations parse to what was written.

use std::net::Ipv4Addr;

use dhcp_server::ServerConfig;
use proptest::prelude::*;

/// Text built from dhcpd.conf's own vocabulary, so the parser gets past the first token.
fn confish() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("subnet"),
        Just("netmask"),
        Just("range"),
        Just("host"),
        Just("option"),
        Just("routers"),
        Just("domain-name"),
        Just("domain-name-servers"),
        Just("subnet-mask"),
        Just("hardware"),
        Just("ethernet"),
        Just("fixed-address"),
        Just("authoritative"),
        Just("not"),
        Just("default-lease-time"),
        Just("max-lease-time"),
        Just("10.0.0.0"),
        Just("10.0.0.5"),
        Just("255.255.255.0"),
        Just("255.0.0.0"),
        Just("02:00:00:00:00:01"),
        Just("600"),
        Just("{"),
        Just("}"),
        Just(";"),
        Just(","),
        Just("\"x\""),
        Just("#c\n"),
        Just("\n"),
        Just("\""),
        Just("4294967296"),
    ];
    proptest::collection::vec(word, 0..60).prop_map(|w| w.join(" "))
}

fn check_error(text: &str) {
    if let Err(e) = ServerConfig::parse(text, "/x/fuzz.conf") {
        let msg = e.to_string();
        let rest = msg
            .strip_prefix("/x/fuzz.conf:")
            .unwrap_or_else(|| panic!("error does not name the file: {msg}"));
        let line: usize = rest
            .split(':')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("error does not name a line: {msg}"));
        assert!(
            line >= 1 && line <= text.lines().count().max(1),
            "line {line} out of range: {msg}"
        );
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check_error(&text);
    }

    #[test]
    fn config_like_text_never_panics(text in confish()) {
        check_error(&text);
    }

    #[test]
    fn generated_configs_parse_back(
        net in 1u8..200,
        lo in 2u8..100,
        n in 1u8..100,
        lease in 1u32..100_000,
        routers in proptest::collection::vec(1u8..255, 0..3),
        hosts in proptest::collection::vec((any::<[u8; 6]>(), 101u8..255), 0..4),
        auth in any::<bool>(),
    ) {
        let mut text = String::new();
        if auth {
            text.push_str("authoritative;\n");
        }
        text.push_str(&format!("subnet 10.{net}.0.0 netmask 255.255.255.0 {{\n"));
        text.push_str(&format!("  range 10.{net}.0.{lo} 10.{net}.0.{};\n", lo + n - 1));
        text.push_str(&format!("  default-lease-time {lease};\n"));
        if !routers.is_empty() {
            let list: Vec<String> = routers.iter().map(|r| format!("10.{net}.0.{r}")).collect();
            text.push_str(&format!("  option routers {};\n", list.join(", ")));
        }
        text.push_str("}\n");
        let mut hosts = hosts;
        hosts.sort_by_key(|h| h.1);
        hosts.dedup_by_key(|h| h.1);
        hosts.sort_by_key(|h| h.0);
        hosts.dedup_by_key(|h| h.0);
        for (i, (mac, last)) in hosts.iter().enumerate() {
            let mac: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
            text.push_str(&format!(
                "host h{i} {{ hardware ethernet {}; fixed-address 10.{net}.0.{last}; }} # pod {i}\n",
                mac.join(":")
            ));
        }
        let c = ServerConfig::parse(&text, "gen.conf").unwrap();
        prop_assert_eq!(c.authoritative, auth);
        prop_assert_eq!(c.subnets.len(), 1);
        let s = &c.subnets[0];
        prop_assert_eq!(s.network, Ipv4Addr::new(10, net, 0, 0));
        prop_assert_eq!(s.ranges[0].len(), u64::from(n));
        prop_assert_eq!(s.default_lease_time, lease);
        prop_assert_eq!(s.options.routers.as_ref().map(Vec::len).unwrap_or(0), routers.len());
        prop_assert_eq!(c.hosts.len(), hosts.len());
        for (h, (mac, last)) in c.hosts.iter().zip(&hosts) {
            prop_assert_eq!(h.hardware_ethernet, Some(*mac));
            prop_assert_eq!(&h.fixed_addresses, &vec![Ipv4Addr::new(10, net, 0, *last)]);
        }
    }
}
