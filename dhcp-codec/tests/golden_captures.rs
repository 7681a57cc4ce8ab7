//! The codec on packets captured from real peers (see `captures/README.md`): udhcpc's
//! requests and the replies of dnsmasq, ISC dhcpd and Kea decode to what each is known to send,
//! and re-encode to messages that decode the same.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use dhcp_codec::{Message, MessageType, Op};

fn capture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/captures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 111, 1);

fn exchange(server: &str) -> Vec<Message> {
    ["discover", "offer", "request", "ack", "release"]
        .iter()
        .enumerate()
        .map(|(i, t)| Message::parse(&capture(&format!("{server}-{}-{t}.bin", i + 1))).unwrap())
        .collect()
}

fn check_exchange(server: &str) -> Vec<Message> {
    let m = exchange(server);
    let types: Vec<_> = m.iter().map(|m| m.message_type).collect();
    assert_eq!(
        types,
        [
            MessageType::Discover,
            MessageType::Offer,
            MessageType::Request,
            MessageType::Ack,
            MessageType::Release
        ]
    );
    let xid = m[0].xid;
    assert!(
        m[..4].iter().all(|x| x.xid == xid),
        "one transaction for DORA"
    );
    let chaddr = m[0].chaddr;
    assert!(m.iter().all(|x| x.chaddr == chaddr));
    assert_eq!(chaddr.as_bytes().len(), 6);
    // udhcpc: client id type 1 + MAC in every request, RELEASE included
    for r in [&m[0], &m[2], &m[4]] {
        assert_eq!(r.op, Op::Request);
        let id = r.options.client_id.as_ref().expect("udhcpc sends 61");
        assert_eq!(id.as_bytes()[0], 1);
        assert_eq!(&id.as_bytes()[1..], chaddr.as_bytes());
    }
    let (offer, req, ack, rel) = (&m[1], &m[2], &m[3], &m[4]);
    for reply in [offer, ack] {
        assert_eq!(reply.op, Op::Reply);
        assert_eq!(reply.options.server_id, Some(SERVER));
        assert_eq!(reply.options.lease_time, Some(600));
        assert_eq!(
            reply.options.subnet_mask,
            Some(Ipv4Addr::new(255, 255, 255, 0))
        );
        assert_eq!(reply.options.routers, vec![SERVER]);
        let o = reply.yiaddr.octets();
        assert_eq!(&o[..3], &[192, 168, 111]);
        assert!((10..=250).contains(&o[3]));
    }
    assert_eq!(offer.yiaddr, ack.yiaddr);
    assert_eq!(req.options.requested_ip, Some(offer.yiaddr));
    assert_eq!(req.options.server_id, Some(SERVER));
    assert_eq!(rel.ciaddr, ack.yiaddr);
    assert_eq!(rel.options.server_id, Some(SERVER));
    // every message re-encodes (padded to 300) to one that decodes the same
    for (i, msg) in m.iter().enumerate() {
        let bytes = msg.emit().unwrap();
        assert!(bytes.len() >= 300, "{server} #{i}");
        assert_eq!(&Message::parse(&bytes).unwrap(), msg, "{server} #{i}");
    }
    m
}

#[test]
fn dnsmasq_exchange() {
    let m = check_exchange("dnsmasq");
    // only dnsmasq sends T1/T2
    assert_eq!(
        (m[3].options.renewal_time, m[3].options.rebinding_time),
        (Some(300), Some(525))
    );
    assert_eq!(m[3].options.client_id, None);
}

#[test]
fn dhcpd_exchange() {
    let m = check_exchange("dhcpd");
    assert_eq!(
        (m[3].options.renewal_time, m[3].options.rebinding_time),
        (None, None)
    );
    assert_eq!(m[3].options.client_id, None);
}

#[test]
fn kea_exchange() {
    let m = check_exchange("kea");
    // only Kea echoes the client identifier; its replies are not padded to 300 bytes
    assert_eq!(m[3].options.client_id, m[2].options.client_id);
    assert_eq!(capture("kea-4-ack.bin").len(), 277);
}

#[test]
fn every_truncation_of_a_real_packet_fails_cleanly() {
    for name in ["dnsmasq-4-ack.bin", "dhcpd-2-offer.bin", "kea-4-ack.bin"] {
        let full = capture(name);
        // The options end at End; anything cut before it is either rejected or decodes to a
        // prefix of the options, never a panic.
        for n in 0..full.len() {
            let _ = Message::parse(&full[..n]);
        }
        assert!(Message::parse(&full[..239]).is_err());
    }
}
