use std::net::Ipv4Addr;
use std::time::Duration;

use super::*;
use dhcp_codec::{ClientId, HwAddr, Route};

const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 20);

fn cfg() -> ClientConfig {
    let mut c = ClientConfig::new(HwAddr::mac(MAC), ClientId::for_pod_interface("cid", "net1"));
    c.timer_fuzz = 0.0;
    c
}

fn drain(c: &mut Client) -> Vec<Output> {
    std::iter::from_fn(|| c.poll_output()).collect()
}

fn transmits(out: &[Output]) -> Vec<&Transmit> {
    out.iter()
        .filter_map(|o| match o {
            Output::Transmit(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn reply(to: &Message, t: MessageType, lease: u32) -> Message {
    let mut r = Message::new_reply(to, t);
    r.yiaddr = ADDR;
    r.options.server_id = Some(SERVER);
    r.options.lease_time = Some(lease);
    r.options.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
    r.options.routers = vec![SERVER];
    r
}

/// Runs DORA at t0 with a lease of `lease` seconds; returns the client in BOUND and the time.
fn bound(lease: u32) -> (Client, Time) {
    let t0 = Time::from_secs(1_000_000);
    let mut c = Client::new(cfg(), 7, t0);
    let t = c.poll_timeout().unwrap();
    assert!(t >= t0 + Duration::from_secs(1) && t <= t0 + Duration::from_secs(10));
    c.handle_timeout(t);
    let out = drain(&mut c);
    let discover = transmits(&out)[0].message.clone();
    assert_eq!(discover.message_type, MessageType::Discover);
    c.handle_message(t, &reply(&discover, MessageType::Offer, lease));
    let out = drain(&mut c);
    let req = &transmits(&out)[0];
    assert_eq!(req.destination, Destination::Broadcast);
    assert_eq!(req.message.options.requested_ip, Some(ADDR));
    assert_eq!(req.message.options.server_id, Some(SERVER));
    assert_eq!(req.message.ciaddr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(req.message.xid, discover.xid);
    let ack = reply(&req.message, MessageType::Ack, lease);
    c.handle_message(t, &ack);
    let out = drain(&mut c);
    assert!(matches!(&out[..], [Output::Event(Event::Bound(l))] if l.ip() == ADDR));
    assert_eq!(c.state(), State::Bound);
    (c, t)
}

#[test]
fn dora_then_bound_with_default_timers() {
    let (c, t) = bound(600);
    let l = c.lease().unwrap();
    assert_eq!(l.address.to_string(), "10.0.0.20/24");
    assert_eq!((l.t1_secs, l.t2_secs), (300, 525));
    assert_eq!(l.renew_at, t + Duration::from_secs(300));
    assert_eq!(l.expires_at(), Some(t + Duration::from_secs(600)));
    assert_eq!(c.poll_timeout(), Some(l.renew_at));
}

#[test]
fn every_message_carries_the_same_client_id_and_prl() {
    let (mut c, t) = bound(600);
    let id = c.config().client_id.clone();
    c.handle_timeout(t + Duration::from_secs(300));
    let out = drain(&mut c);
    let renew = transmits(&out)[0];
    assert_eq!(renew.message.options.client_id.as_ref(), Some(&id));
    assert_eq!(
        renew.message.options.parameter_request_list,
        c.config().parameter_request_list
    );
    c.release(t + Duration::from_secs(301)).unwrap();
    let out = drain(&mut c);
    assert_eq!(
        transmits(&out)[0].message.options.client_id.as_ref(),
        Some(&id)
    );
}

#[test]
fn renewing_unicasts_without_50_54_then_rebinding_broadcasts() {
    let (mut c, t) = bound(1000);
    c.handle_timeout(t + Duration::from_secs(499));
    assert!(drain(&mut c).is_empty(), "nothing before T1");
    c.handle_timeout(t + Duration::from_secs(500));
    let out = drain(&mut c);
    let r = transmits(&out)[0];
    assert_eq!(c.state(), State::Renewing);
    assert_eq!(
        r.destination,
        Destination::Unicast {
            from: ADDR,
            to: SERVER
        }
    );
    assert_eq!(r.message.ciaddr, ADDR);
    assert_eq!(r.message.options.requested_ip, None);
    assert_eq!(r.message.options.server_id, None);
    // retransmit after half the time to T2 (875 - 500 = 375 -> 187.5 s)
    let next = c.poll_timeout().unwrap();
    assert_eq!(next, t + Duration::from_millis(500_000 + 187_500));
    c.handle_timeout(next);
    let out = drain(&mut c);
    assert_eq!(
        transmits(&out)[0].message.xid,
        r.message.xid,
        "retransmission keeps the xid"
    );
    // ... then 60 s floor, capped at T2
    let mut now = next;
    while c.state() == State::Renewing {
        now = c.poll_timeout().unwrap();
        assert!(now <= t + Duration::from_secs(875));
        c.handle_timeout(now);
        drain(&mut c);
    }
    assert_eq!(now, t + Duration::from_secs(875));
    assert_eq!(c.state(), State::Rebinding);
    c.handle_timeout(now);
    let out = drain(&mut c);
    assert!(
        out.is_empty(),
        "the first rebinding REQUEST was sent on entering: {out:?}"
    );
}

#[test]
fn rebinding_request_is_broadcast_from_the_lease_and_expiry_drops_it() {
    let (mut c, t) = bound(1000);
    let mut rebind_sends = 0;
    let now = loop {
        let now = c.poll_timeout().unwrap();
        c.handle_timeout(now);
        let out = drain(&mut c);
        for t in transmits(&out) {
            if let Destination::BroadcastFrom { from } = t.destination {
                assert_eq!(from, ADDR);
                assert_eq!(t.message.ciaddr, ADDR);
                rebind_sends += 1;
            }
        }
        if let Some(Output::Event(Event::Drop { address, reason })) = out.first() {
            assert_eq!((*address, *reason), (ADDR, DropReason::Expired));
            break now;
        }
    };
    assert_eq!(
        now,
        t + Duration::from_secs(1000),
        "dropped exactly at expiry"
    );
    assert!(rebind_sends >= 2);
    assert_eq!(c.state(), State::Init);
    assert!(c.lease().is_none());
}

#[test]
fn renewal_ack_extends_from_the_request_time() {
    let (mut c, t) = bound(600);
    let t1 = t + Duration::from_secs(300);
    c.handle_timeout(t1);
    let out = drain(&mut c);
    let req = transmits(&out)[0].message.clone();
    let later = t1 + Duration::from_secs(2);
    c.handle_message(later, &reply(&req, MessageType::Ack, 600));
    let out = drain(&mut c);
    assert!(matches!(&out[..], [Output::Event(Event::Renewed(l))] if l.acquired_at == t1));
    assert_eq!(c.state(), State::Bound);
    assert_eq!(c.poll_timeout(), Some(t1 + Duration::from_secs(300)));
    // a duplicate of the same ACK changes nothing
    c.handle_message(later, &reply(&req, MessageType::Ack, 600));
    assert!(drain(&mut c).is_empty());
}

#[test]
fn nak_while_renewing_drops_the_address_at_once() {
    let (mut c, t) = bound(600);
    c.handle_timeout(t + Duration::from_secs(300));
    let out = drain(&mut c);
    let req = transmits(&out)[0].message.clone();
    let mut nak = Message::new_reply(&req, MessageType::Nak);
    nak.options.server_id = Some(SERVER);
    nak.options.message = Some("wrong network".into());
    c.handle_message(t + Duration::from_secs(301), &nak);
    let out = drain(&mut c);
    assert_eq!(
        out[0],
        Output::Event(Event::Drop {
            address: ADDR,
            reason: DropReason::Nak
        })
    );
    assert!(
        matches!(&out[1], Output::Event(Event::Nak { message: Some(m), .. }) if m == "wrong network")
    );
    assert_eq!(c.state(), State::Init);
}

#[test]
fn nak_in_requesting_restarts_and_foreign_replies_are_ignored() {
    let t0 = Time::from_secs(5);
    let mut c = Client::new(cfg(), 1, t0);
    let t = c.poll_timeout().unwrap();
    c.handle_timeout(t);
    let d = transmits(&drain(&mut c))[0].message.clone();
    // wrong xid, wrong chaddr, wrong echoed client id, a request instead of a reply: ignored
    let mut o = reply(&d, MessageType::Offer, 60);
    o.xid ^= 1;
    c.handle_message(t, &o);
    let mut o = reply(&d, MessageType::Offer, 60);
    o.chaddr = HwAddr::mac([2, 0, 0, 0, 0, 2]);
    c.handle_message(t, &o);
    let mut o = reply(&d, MessageType::Offer, 60);
    o.options.client_id = Some(ClientId::from_mac([9; 6]));
    c.handle_message(t, &o);
    let mut o = reply(&d, MessageType::Offer, 60);
    o.op = dhcp_codec::Op::Request;
    c.handle_message(t, &o);
    assert_eq!(c.state(), State::Selecting);
    assert!(drain(&mut c).is_empty());
    // a NAK while selecting is ignored too
    c.handle_message(t, &reply(&d, MessageType::Nak, 60));
    assert_eq!(c.state(), State::Selecting);
    c.handle_message(t, &reply(&d, MessageType::Offer, 60));
    let req = transmits(&drain(&mut c))[0].message.clone();
    // NAK from another server than the one selected: ignored
    let mut nak = Message::new_reply(&req, MessageType::Nak);
    nak.options.server_id = Some(Ipv4Addr::new(10, 0, 0, 99));
    c.handle_message(t, &nak);
    assert_eq!(c.state(), State::Requesting);
    nak.options.server_id = Some(SERVER);
    c.handle_message(t, &nak);
    assert_eq!(c.state(), State::Init);
}

#[test]
fn discover_backoff_doubles_with_jitter() {
    let t0 = Time::from_secs(0);
    let mut c = Client::new(cfg(), 3, t0);
    let mut t = c.poll_timeout().unwrap();
    let mut gaps = Vec::new();
    for _ in 0..7 {
        c.handle_timeout(t);
        assert_eq!(transmits(&drain(&mut c)).len(), 1);
        let next = c.poll_timeout().unwrap();
        gaps.push((next - t).as_millis() as i64);
        t = next;
    }
    for (gap, base) in gaps
        .iter()
        .zip([4_000i64, 8_000, 16_000, 32_000, 64_000, 64_000, 64_000])
    {
        assert!((gap - base).abs() <= 1000, "gap {gap} vs {base}");
    }
}

#[test]
fn requesting_gives_up_after_attempts() {
    let mut c = Client::new(cfg(), 3, Time::ZERO);
    let t = c.poll_timeout().unwrap();
    c.handle_timeout(t);
    let d = transmits(&drain(&mut c))[0].message.clone();
    c.handle_message(t, &reply(&d, MessageType::Offer, 60));
    let mut sends = transmits(&drain(&mut c)).len();
    while c.state() == State::Requesting {
        let t = c.poll_timeout().unwrap();
        c.handle_timeout(t);
        sends += transmits(&drain(&mut c)).len();
    }
    assert_eq!(sends, 4);
    assert_eq!(c.state(), State::Init);
}

#[test]
fn release_is_unicast_from_the_address_without_50_51_55() {
    let (mut c, t) = bound(600);
    c.release(t + Duration::from_secs(10)).unwrap();
    let out = drain(&mut c);
    let r = transmits(&out)[0];
    assert_eq!(r.message.message_type, MessageType::Release);
    assert_eq!(
        r.destination,
        Destination::Unicast {
            from: ADDR,
            to: SERVER
        }
    );
    assert_eq!(r.message.ciaddr, ADDR);
    let o = &r.message.options;
    assert_eq!(o.server_id, Some(SERVER));
    assert_eq!(o.client_id.as_ref(), Some(&c.config().client_id));
    assert_eq!((o.requested_ip, o.lease_time), (None, None));
    assert!(o.parameter_request_list.is_empty());
    assert_eq!(
        out[1],
        Output::Event(Event::Drop {
            address: ADDR,
            reason: DropReason::Released
        })
    );
    assert_eq!(c.state(), State::Stopped);
    assert_eq!(c.poll_timeout(), None);
    assert!(c.release(t).is_err(), "nothing left to release");
}

#[test]
fn decline_carries_50_and_54_and_waits_10s() {
    let (mut c, t) = bound(600);
    c.decline(t).unwrap();
    let out = drain(&mut c);
    let d = transmits(&out)[0];
    assert_eq!(d.message.message_type, MessageType::Decline);
    assert_eq!(d.destination, Destination::Broadcast);
    assert_eq!(d.message.ciaddr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(d.message.options.requested_ip, Some(ADDR));
    assert_eq!(d.message.options.server_id, Some(SERVER));
    assert_eq!(
        out[1],
        Output::Event(Event::Drop {
            address: ADDR,
            reason: DropReason::Declined
        })
    );
    assert_eq!(c.state(), State::Init);
    assert!(c.poll_timeout().unwrap() >= t + Duration::from_secs(10));
}

#[test]
fn resume_picks_the_state_from_the_clock() {
    let (c, t) = bound(1000);
    let lease = c.lease().unwrap().clone();
    let r = Client::resume(cfg(), lease.clone(), 9, t + Duration::from_secs(100));
    assert_eq!(r.state(), State::Bound);
    assert_eq!(r.poll_timeout(), Some(lease.renew_at));
    let mut r = Client::resume(cfg(), lease.clone(), 9, t + Duration::from_secs(600));
    assert_eq!(r.state(), State::Renewing);
    r.handle_timeout(t + Duration::from_secs(600));
    let out = drain(&mut r);
    assert!(matches!(
        transmits(&out)[0].destination,
        Destination::Unicast { .. }
    ));
    let r = Client::resume(cfg(), lease.clone(), 9, t + Duration::from_secs(900));
    assert_eq!(r.state(), State::Rebinding);
    // lapsed: INIT-REBOOT, a broadcast REQUEST with 50 and without 54, from 0.0.0.0
    let mut r = Client::resume(cfg(), lease.clone(), 9, t + Duration::from_secs(1000));
    assert_eq!(r.state(), State::InitReboot);
    let now = t + Duration::from_secs(1000);
    r.handle_timeout(now);
    let out = drain(&mut r);
    let req = &transmits(&out)[0];
    assert_eq!(r.state(), State::Rebooting);
    assert_eq!(req.destination, Destination::Broadcast);
    assert_eq!(req.message.ciaddr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(req.message.options.requested_ip, Some(ADDR));
    assert_eq!(req.message.options.server_id, None);
    r.handle_message(now, &reply(&req.message, MessageType::Ack, 1000));
    assert!(matches!(&drain(&mut r)[..], [Output::Event(Event::Bound(l))] if l.ip() == ADDR));
    assert_eq!(r.state(), State::Bound);
}

#[test]
fn rebooting_without_answer_falls_back_to_discover_with_hint() {
    let (c, t) = bound(100);
    let lease = c.lease().unwrap().clone();
    let now = t + Duration::from_secs(5000);
    let mut r = Client::resume(cfg(), lease, 9, now);
    let mut seen = Vec::new();
    for _ in 0..4 {
        let at = r.poll_timeout().unwrap();
        r.handle_timeout(at);
        seen.extend(drain(&mut r));
    }
    let types: Vec<_> = transmits(&seen)
        .iter()
        .map(|t| t.message.message_type)
        .collect();
    assert_eq!(
        &types[..3],
        &[
            MessageType::Request,
            MessageType::Request,
            MessageType::Discover
        ]
    );
    assert_eq!(transmits(&seen)[2].message.options.requested_ip, Some(ADDR));
}

#[test]
fn classless_routes_override_option_3_in_the_lease() {
    let t0 = Time::ZERO;
    let mut c = Client::new(cfg(), 1, t0);
    let t = c.poll_timeout().unwrap();
    c.handle_timeout(t);
    let d = transmits(&drain(&mut c))[0].message.clone();
    c.handle_message(t, &reply(&d, MessageType::Offer, 60));
    let req = transmits(&drain(&mut c))[0].message.clone();
    let mut ack = reply(&req, MessageType::Ack, 60);
    ack.options.classless_routes = vec![
        Route {
            dest: "0.0.0.0/0".parse().unwrap(),
            gateway: Ipv4Addr::new(10, 0, 0, 254),
        },
        Route {
            dest: "172.16.0.0/12".parse().unwrap(),
            gateway: Ipv4Addr::new(10, 0, 0, 253),
        },
    ];
    c.handle_message(t, &ack);
    let l = c.lease().unwrap();
    assert_eq!(l.router(), Some(Ipv4Addr::new(10, 0, 0, 254)));
    assert_eq!(l.routes.len(), 2);
}

#[test]
fn late_ack_after_expiry_does_not_revive_the_address() {
    let (mut c, t) = bound(100);
    let t1 = t + Duration::from_secs(50);
    c.handle_timeout(t1);
    let req = transmits(&drain(&mut c))[0].message.clone();
    // the answer arrives after the lease lapsed, without the owner having called handle_timeout
    let late = t + Duration::from_secs(100);
    c.handle_message(late, &reply(&req, MessageType::Ack, 100));
    let out = drain(&mut c);
    assert_eq!(
        out[0],
        Output::Event(Event::Drop {
            address: ADDR,
            reason: DropReason::Expired
        })
    );
    assert_eq!(out.len(), 1);
    assert_eq!(c.state(), State::Init);
}

#[test]
fn infinite_lease_never_renews() {
    let (c, _) = bound(dhcp_codec::INFINITE_LEASE);
    assert_eq!(c.poll_timeout(), None);
    assert_eq!(c.lease().unwrap().expires_at(), None);
}

#[test]
fn same_seed_same_behaviour() {
    let run = |seed| {
        let mut c = Client::new(cfg(), seed, Time::ZERO);
        let mut v = Vec::new();
        for _ in 0..5 {
            let t = c.poll_timeout().unwrap();
            c.handle_timeout(t);
            v.push((t, transmits(&drain(&mut c))[0].message.xid));
        }
        v
    };
    assert_eq!(run(11), run(11));
    assert_ne!(run(11), run(12));
}
