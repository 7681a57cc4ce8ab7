use std::net::Ipv4Addr;

use proptest::prelude::*;

use super::*;

fn sample() -> Message {
    let mut m = Message::new_request(
        MessageType::Request,
        0xdead_beef,
        HwAddr::mac([2, 1, 2, 3, 4, 5]),
    );
    m.secs = 3;
    m.broadcast = true;
    m.options.requested_ip = Some(Ipv4Addr::new(192, 168, 111, 10));
    m.options.server_id = Some(Ipv4Addr::new(192, 168, 111, 1));
    m.options.client_id = Some(ClientId::for_pod_interface("abc", "net1"));
    m.options.parameter_request_list = vec![1, 3, 6, 15, 51, 54, 58, 59, 121];
    m.options.hostname = Some("pod-a".into());
    m
}

/// A header with the cookie and the given option bytes.
fn raw(op: u8, opts: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; HEADER_LEN];
    b[0] = op;
    b[1] = 1;
    b[2] = 6;
    b[4..8].copy_from_slice(&42u32.to_be_bytes());
    b[28..34].copy_from_slice(&[2, 0, 0, 0, 0, 7]);
    b.extend_from_slice(&MAGIC_COOKIE);
    b.extend_from_slice(opts);
    b
}

#[test]
fn emit_pads_to_300_and_round_trips() {
    let m = sample();
    let bytes = m.emit().unwrap();
    assert_eq!(bytes.len(), MIN_MESSAGE_LEN);
    assert_eq!(&bytes[HEADER_LEN..HEADER_LEN + 4], &MAGIC_COOKIE);
    assert_eq!(bytes[10] & 0x80, 0x80, "broadcast flag on the wire");
    assert_eq!(Message::parse(&bytes).unwrap(), m);
}

#[test]
fn reply_round_trips_every_typed_option() {
    let req = sample();
    let mut m = Message::new_reply(&req, MessageType::Ack);
    m.yiaddr = Ipv4Addr::new(10, 1, 2, 3);
    let o = &mut m.options;
    o.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
    o.routers = vec![Ipv4Addr::new(10, 1, 2, 1), Ipv4Addr::new(10, 1, 2, 254)];
    o.dns_servers = vec![Ipv4Addr::new(10, 0, 0, 53)];
    o.domain_name = Some("cluster.example".into());
    o.broadcast_addr = Some(Ipv4Addr::new(10, 1, 2, 255));
    o.lease_time = Some(600);
    o.server_id = Some(Ipv4Addr::new(10, 1, 2, 1));
    o.renewal_time = Some(300);
    o.rebinding_time = Some(525);
    o.max_message_size = Some(1500);
    o.message = Some("ok".into());
    o.client_id = req.options.client_id.clone();
    o.classless_routes = vec![
        Route {
            dest: "10.20.0.0/16".parse().unwrap(),
            gateway: Ipv4Addr::new(10, 1, 2, 9),
        },
        Route {
            dest: "0.0.0.0/0".parse().unwrap(),
            gateway: Ipv4Addr::new(10, 1, 2, 1),
        },
    ];
    o.relay_agent_info = Some(vec![1, 3, b'e', b't', b'h']);
    o.other.insert(119, vec![3, b'f', b'o', b'o', 0]);
    let bytes = m.emit().unwrap();
    let back = Message::parse(&bytes).unwrap();
    assert_eq!(back, m);
    // Relay agent information is the last option before End.
    let end = bytes.iter().rposition(|b| *b == code::END).unwrap();
    assert_eq!(&bytes[end - 7..end], &[82, 5, 1, 3, b'e', b't', b'h']);
}

#[test]
fn classless_routes_take_precedence_over_routers() {
    let mut o = Options {
        routers: vec![Ipv4Addr::new(1, 1, 1, 1)],
        ..Options::default()
    };
    assert_eq!(o.effective_routers(), vec![Ipv4Addr::new(1, 1, 1, 1)]);
    o.classless_routes = vec![Route {
        dest: "0.0.0.0/0".parse().unwrap(),
        gateway: Ipv4Addr::new(9, 9, 9, 9),
    }];
    assert_eq!(o.effective_routers(), vec![Ipv4Addr::new(9, 9, 9, 9)]);
    o.classless_routes = vec![Route {
        dest: "10.0.0.0/8".parse().unwrap(),
        gateway: Ipv4Addr::new(9, 9, 9, 9),
    }];
    assert!(
        o.effective_routers().is_empty(),
        "121 without a default route: no router at all"
    );
}

#[test]
fn rejects_short_and_malformed_headers() {
    assert!(matches!(Message::parse(&[]), Err(Error::Decode { .. })));
    assert!(matches!(
        Message::parse(&[1; 239]),
        Err(Error::Decode { .. })
    ));
    let mut b = raw(1, &[53, 1, 1, 255]);
    b[0] = 3;
    assert!(matches!(Message::parse(&b), Err(Error::Decode { .. })));
    let mut b = raw(1, &[53, 1, 1, 255]);
    b[2] = 17;
    assert!(matches!(Message::parse(&b), Err(Error::Decode { .. })));
    let mut b = raw(1, &[53, 1, 1, 255]);
    b[HEADER_LEN] = 0;
    assert!(matches!(Message::parse(&b), Err(Error::Decode { .. })));
    // no message type: BOOTP
    assert!(matches!(
        Message::parse(&raw(1, &[255])),
        Err(Error::Decode { .. })
    ));
    assert!(Message::parse(&raw(1, &[53, 1, 1, 255])).is_ok());
}

#[test]
fn never_trusts_option_lengths() {
    // length runs past the end
    let e = Message::parse(&raw(2, &[53, 1, 2, 51, 200, 0, 0])).unwrap_err();
    assert!(matches!(e, Error::MalformedOption { code: 51, .. }), "{e}");
    // no length byte
    let e = Message::parse(&raw(2, &[53, 1, 2, 51])).unwrap_err();
    assert!(matches!(e, Error::MalformedOption { code: 51, .. }), "{e}");
    // wrong fixed lengths
    for (code, len) in [
        (51u8, 3u8),
        (54, 5),
        (1, 2),
        (53, 2),
        (58, 8),
        (57, 1),
        (50, 0),
    ] {
        let mut opts = vec![53, 1, 2, code, len];
        opts.extend(std::iter::repeat_n(1, len as usize));
        opts.push(255);
        let e = Message::parse(&raw(2, &opts)).unwrap_err();
        assert!(
            matches!(e, Error::MalformedOption { code: c, .. } if c == code),
            "{code}: {e}"
        );
    }
    // routers not a multiple of 4
    let e = Message::parse(&raw(2, &[53, 1, 2, 3, 6, 1, 2, 3, 4, 5, 6, 255])).unwrap_err();
    assert!(matches!(e, Error::MalformedOption { code: 3, .. }));
    // client id of one byte
    let e = Message::parse(&raw(1, &[53, 1, 1, 61, 1, 1, 255])).unwrap_err();
    assert!(matches!(e, Error::MalformedOption { code: 61, .. }));
    // 121: prefix over 32, truncated route, missing router
    for bad in [
        &[33u8, 10, 0, 0, 0, 1, 1, 1, 1][..],
        &[24, 10, 0][..],
        &[8, 10, 1, 1][..],
    ] {
        let mut opts = vec![53, 1, 5, 121, bad.len() as u8];
        opts.extend_from_slice(bad);
        let e = Message::parse(&raw(2, &opts)).unwrap_err();
        assert!(
            matches!(e, Error::MalformedOption { code: 121, .. }),
            "{bad:?}: {e}"
        );
    }
}

#[test]
fn concatenates_split_options_rfc3396() {
    // client id split in two pieces, DNS split across non-adjacent pieces
    let opts = [
        53, 1, 1, 61, 3, 0, b'a', b'b', 6, 4, 8, 8, 8, 8, 61, 2, b'c', b'd', 6, 4, 1, 1, 1, 1, 255,
    ];
    let m = Message::parse(&raw(1, &opts)).unwrap();
    assert_eq!(
        m.options.client_id.unwrap().as_bytes(),
        &[0, b'a', b'b', b'c', b'd']
    );
    assert_eq!(
        m.options.dns_servers,
        vec![Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(1, 1, 1, 1)]
    );
}

#[test]
fn text_options_tolerate_trailing_nul_and_bad_utf8() {
    let opts = [
        53, 1, 2, 15, 5, b'l', b'a', b'b', 0, 0, 12, 3, b'a', 0xff, b'b', 255,
    ];
    let m = Message::parse(&raw(2, &opts)).unwrap();
    assert_eq!(m.options.domain_name.as_deref(), Some("lab"));
    assert_eq!(m.options.hostname.as_deref(), Some("a\u{fffd}b"));
}

#[test]
fn unknown_and_pad_options_kept_raw_and_missing_end_tolerated() {
    let opts = [0, 0, 53, 1, 2, 0, 200, 2, 7, 7, 43, 0];
    let m = Message::parse(&raw(2, &opts)).unwrap();
    assert_eq!(m.options.other.get(&200), Some(&vec![7, 7]));
    assert_eq!(m.options.other.get(&43), Some(&vec![]));
    assert_eq!(m.message_type, MessageType::Offer);
}

#[test]
fn long_values_split_on_emit() {
    let mut m = sample();
    m.options.other.insert(224, vec![0xab; 600]);
    let bytes = m.emit().unwrap();
    assert_eq!(Message::parse(&bytes).unwrap(), m);
}

#[test]
fn emit_refuses_oversized_fields() {
    let mut m = sample();
    m.sname = Some(vec![b'x'; 64]);
    assert!(matches!(m.emit(), Err(Error::Encode { .. })));
    let mut m = sample();
    m.options.hostname = Some("x".repeat(256));
    assert!(matches!(m.emit(), Err(Error::Encode { .. })));
    let mut m = sample();
    m.options.other.insert(224, vec![0; 1400]);
    assert!(matches!(m.emit(), Err(Error::Encode { .. })));
    let mut m = sample();
    m.options.other.insert(51, vec![0; 4]);
    assert!(matches!(m.emit(), Err(Error::Encode { .. })));
}

fn arb_addr() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn arb_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[a-z0-9.-]{1,40}")
}

prop_compose! {
    fn arb_message()(
        op in prop_oneof![Just(Op::Request), Just(Op::Reply)],
        t in 1u8..=8,
        xid in any::<u32>(), secs in any::<u16>(), broadcast in any::<bool>(), hops in any::<u8>(),
        addrs in proptest::array::uniform4(arb_addr()),
        mac in any::<[u8; 6]>(),
        mask in proptest::option::of(arb_addr()),
        routers in proptest::collection::vec(arb_addr(), 0..4),
        dns in proptest::collection::vec(arb_addr(), 0..4),
        hostname in arb_text(), domain in arb_text(),
        requested in proptest::option::of(arb_addr()),
        lease in proptest::option::of(any::<u32>()),
        t1 in proptest::option::of(any::<u32>()),
        server in proptest::option::of(arb_addr()),
        prl in proptest::collection::vec(1u8..=254, 0..12),
        cid in proptest::option::of(proptest::collection::vec(any::<u8>(), 2..80)),
        routes in proptest::collection::vec((arb_addr(), 0u8..=32, arb_addr()), 0..4),
    ) -> Message {
        let mut m = Message::new_request(MessageType::from_code(t), xid, HwAddr::mac(mac));
        m.op = op; m.secs = secs; m.broadcast = broadcast; m.hops = hops;
        m.ciaddr = addrs[0]; m.yiaddr = addrs[1]; m.siaddr = addrs[2]; m.giaddr = addrs[3];
        let o = &mut m.options;
        o.subnet_mask = mask; o.routers = routers; o.dns_servers = dns;
        o.hostname = hostname; o.domain_name = domain; o.requested_ip = requested;
        o.lease_time = lease; o.renewal_time = t1; o.server_id = server;
        o.parameter_request_list = prl;
        o.client_id = cid.map(|c| ClientId::new(c).unwrap());
        o.classless_routes = routes.into_iter().map(|(a, p, gw)| Route {
            dest: ipnet::Ipv4Net::new(a, p).unwrap().trunc(), gateway: gw }).collect();
        m
    }
}

proptest! {
    #[test]
    fn emit_then_parse_is_identity(m in arb_message()) {
        let bytes = m.emit().unwrap();
        prop_assert!(bytes.len() >= MIN_MESSAGE_LEN);
        prop_assert_eq!(Message::parse(&bytes).unwrap(), m);
    }

    #[test]
    fn parse_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = Message::parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_random_options(opts in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(m) = Message::parse(&raw(2, &opts)) {
            // whatever parses re-emits and parses to the same message
            if let Ok(bytes) = m.emit() {
                prop_assert_eq!(Message::parse(&bytes).unwrap(), m);
            }
        }
    }
}
