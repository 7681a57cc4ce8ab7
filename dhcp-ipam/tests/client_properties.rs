//! Property tests of the client state machine over virtual days against a simulated server on a
//! faulty network: packet loss, duplication, reordering (random delays), NAKs, address
//! conflicts (DECLINE) and a server that is replaced mid-run. Deterministic from the seeds
//! proptest draws.
//!
//! Invariants checked at every step:
//! - the address is never in use after the lease expires, by the client's clock or by the
//!   granting server's database;
//! - every message carries the configured client identifier, and every RELEASE carries the
//!   lease's, with ciaddr, option 54, and no 50/51/55, unicast from the address;
//! - renewal REQUESTs (ciaddr set) go out only in RENEWING/REBINDING, at or after T1 and before
//!   expiry, unicast to the granting server before T2 and broadcast after;
//! - messages sent without an address are broadcast with ciaddr 0.0.0.0;
//! - on a perfect network with one server, one lease is held the whole run.

mod client_sim;

use std::net::Ipv4Addr;
use std::time::Duration;

use client_sim::{Faults, Net, SimServer, mac};
use dhcp_codec::Time;
use dhcp_codec::{ClientId, Message, MessageType};
use dhcp_ipam::client::{
    Client, ClientConfig, Destination, DropReason, Event, Lease, Output, State,
};
use proptest::prelude::*;
use rand::Rng;

#[derive(Debug, Clone)]
struct Scenario {
    seed: u64,
    lease_secs: u32,
    t1_t2: Option<(u32, u32)>,
    faults: Faults,
    nak_rate: f64,
    decline_rate: f64,
    server_change_after: Option<Duration>,
    hours: u64,
}

#[derive(Debug, Default)]
struct Stats {
    bounds: u32,
    renewals_acked: u32,
    drops: Vec<DropReason>,
    drops_before_release: Vec<DropReason>,
    sent: u32,
    held_ms: u64,
}

fn run(s: &Scenario) -> Result<Stats, TestCaseError> {
    let t0 = Time::from_secs(1_700_000_000);
    let end = t0 + Duration::from_secs(s.hours * 3600);
    let chaddr = mac(s.seed as u32);
    let client_id = ClientId::for_pod_interface(&format!("pod{}", s.seed), "net1");
    let cfg = ClientConfig::new(chaddr, client_id.clone());
    let mut client = Client::new(cfg, s.seed, t0);
    let mut net = Net::new(s.seed ^ 0x5eed, s.faults);

    let mut servers = vec![SimServer::new(Ipv4Addr::new(10, 0, 0, 1), s.lease_secs)];
    let mut second = SimServer::new(
        Ipv4Addr::new(10, 0, 0, 2),
        s.lease_secs.saturating_mul(2).min(7200),
    );
    second.authoritative = true;
    servers.push(second);
    for srv in &mut servers {
        srv.t1_t2 = s.t1_t2;
        srv.nak_rate = s.nak_rate;
    }
    let mut active = 0usize;
    let change_at = s.server_change_after.map(|d| t0 + d);

    let mut held: Option<Lease> = None;
    let mut last_decline: Option<Time> = None;
    let mut stats = Stats::default();
    let mut now = t0;
    let mut last_step = t0;

    loop {
        // next event
        let mut next = end;
        for t in [
            client.poll_timeout(),
            net.next_delivery(),
            change_at.filter(|_| active == 0),
        ]
        .into_iter()
        .flatten()
        {
            next = next.min(t.max(now));
        }
        if let Some(l) = &held {
            stats.held_ms += (next - last_step).as_millis() as u64;
            let _ = l;
        }
        last_step = next;
        now = next;
        if now >= end {
            break;
        }
        if change_at.is_some_and(|c| now >= c) && active == 0 {
            active = 1;
        }
        // deliveries
        while let Some(p) = net.pop_due(now) {
            let msg = Message::parse(&p.bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if p.to_server {
                let target = match p.destination {
                    Some(Destination::Unicast { to, .. }) => servers
                        .iter()
                        .position(|x| x.id == to)
                        .filter(|i| *i == active),
                    _ => Some(active),
                };
                let Some(i) = target else { continue };
                let mut rng = net.rng.clone();
                let answer = servers[i].handle(now, &msg, &mut rng);
                net.rng = rng;
                if let Some(a) = answer {
                    net.send(now, &a, false, None);
                }
            } else {
                client.handle_message(now, &msg);
                drain(
                    &mut client,
                    now,
                    &mut held,
                    &mut net,
                    &servers,
                    &client_id,
                    s,
                    &mut stats,
                    &mut last_decline,
                )?;
            }
        }
        client.handle_timeout(now);
        drain(
            &mut client,
            now,
            &mut held,
            &mut net,
            &servers,
            &client_id,
            s,
            &mut stats,
            &mut last_decline,
        )?;

        // the address is never used after expiry, by our clock or the granting server's
        if let Some(l) = &held {
            let exp = l.expires_at().expect("finite leases in these runs");
            prop_assert!(
                now < exp,
                "address {} used at {now} after expiry {exp}",
                l.ip()
            );
            let srv = servers
                .iter()
                .find(|x| x.id == l.server_id)
                .expect("granting server");
            let server_exp = srv.expiry_of(&client_id, l.ip());
            prop_assert!(
                server_exp.is_some_and(|e| now < e),
                "address {} in use at {now} but the server's binding is {server_exp:?}",
                l.ip()
            );
            prop_assert!(client.state().holds_lease());
        }
    }

    // release at the end, if bound
    stats.drops_before_release = stats.drops.clone();
    if held.is_some() && client.state().holds_lease() {
        let granted_by = held.as_ref().map(|l| l.server_id);
        client
            .release(now)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        drain(
            &mut client,
            now,
            &mut held,
            &mut net,
            &servers,
            &client_id,
            s,
            &mut stats,
            &mut last_decline,
        )?;
        prop_assert!(held.is_none(), "RELEASE drops the address");
        // deliver everything left, on a now perfect network
        while let Some(t) = net.next_delivery() {
            let p = net.pop_due(t).expect("due");
            if !p.to_server {
                continue;
            }
            let msg = Message::parse(&p.bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if let Some(Destination::Unicast { to, .. }) = p.destination
                && let Some(i) = servers.iter().position(|x| x.id == to)
            {
                let mut rng = net.rng.clone();
                servers[i].handle(t, &msg, &mut rng);
            }
        }
        if s.faults.loss == 0.0 {
            let srv = servers
                .iter()
                .find(|x| Some(x.id) == granted_by)
                .expect("server");
            prop_assert!(
                srv.releases
                    .iter()
                    .any(|(_, m)| m.options.client_id.as_ref() == Some(&client_id)),
                "the granting server saw the RELEASE"
            );
        }
    }
    Ok(stats)
}

#[allow(clippy::too_many_arguments)]
fn drain(
    client: &mut Client,
    now: Time,
    held: &mut Option<Lease>,
    net: &mut Net,
    servers: &[SimServer],
    client_id: &ClientId,
    s: &Scenario,
    stats: &mut Stats,
    last_decline: &mut Option<Time>,
) -> Result<(), TestCaseError> {
    let _ = servers;
    while let Some(o) = client.poll_output() {
        match o {
            Output::Transmit(t) => {
                stats.sent += 1;
                let m = &t.message;
                prop_assert_eq!(
                    m.options.client_id.as_ref(),
                    Some(client_id),
                    "client id in {}",
                    m.message_type
                );
                match m.message_type {
                    MessageType::Release => {
                        let l = held
                            .as_ref()
                            .expect("RELEASE only while holding the address");
                        prop_assert_eq!(m.ciaddr, l.ip());
                        prop_assert_eq!(m.options.server_id, Some(l.server_id));
                        prop_assert_eq!(m.options.client_id.as_ref(), Some(&l.client_id));
                        prop_assert!(
                            m.options.requested_ip.is_none() && m.options.lease_time.is_none()
                        );
                        prop_assert!(m.options.parameter_request_list.is_empty());
                        prop_assert_eq!(
                            t.destination,
                            Destination::Unicast {
                                from: l.ip(),
                                to: l.server_id
                            }
                        );
                    }
                    MessageType::Request if !m.ciaddr.is_unspecified() => {
                        let l = held
                            .as_ref()
                            .expect("renewals only while holding the address");
                        prop_assert!(matches!(client.state(), State::Renewing | State::Rebinding));
                        prop_assert_eq!(m.ciaddr, l.ip());
                        prop_assert!(
                            now >= l.renew_at,
                            "renewal at {now} before T1 {}",
                            l.renew_at
                        );
                        prop_assert!(now < l.expires_at().expect("finite"));
                        prop_assert!(
                            m.options.requested_ip.is_none() && m.options.server_id.is_none()
                        );
                        match t.destination {
                            Destination::Unicast { from, to } => {
                                prop_assert!(now < l.rebind_at);
                                prop_assert_eq!((from, to), (l.ip(), l.server_id));
                            }
                            Destination::BroadcastFrom { from } => {
                                prop_assert!(now >= l.rebind_at, "broadcast before T2");
                                prop_assert_eq!(from, l.ip());
                            }
                            Destination::Broadcast => prop_assert!(false, "renewal from 0.0.0.0"),
                        }
                    }
                    MessageType::Discover | MessageType::Request | MessageType::Decline => {
                        prop_assert_eq!(t.destination, Destination::Broadcast);
                        prop_assert!(m.ciaddr.is_unspecified());
                        if m.message_type != MessageType::Decline {
                            prop_assert!(
                                held.is_none(),
                                "{} while holding an address",
                                m.message_type
                            );
                        }
                        if m.message_type == MessageType::Discover
                            && let Some(d) = last_decline
                        {
                            prop_assert!(
                                now >= *d + Duration::from_secs(10),
                                "DISCOVER too soon after DECLINE"
                            );
                        }
                        if m.message_type == MessageType::Decline {
                            prop_assert!(
                                m.options.requested_ip.is_some() && m.options.server_id.is_some()
                            );
                        }
                    }
                    other => prop_assert!(false, "client sent {}", other),
                }
                net.send(now, &t.message, true, Some(t.destination));
            }
            Output::Event(Event::Bound(l)) => {
                prop_assert!(
                    held.is_none(),
                    "Bound while holding {:?}",
                    held.as_ref().map(|l| l.ip())
                );
                stats.bounds += 1;
                *held = Some(l);
                if s.decline_rate > 0.0 && net.rng.random_bool(s.decline_rate) {
                    client
                        .decline(now)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    *last_decline = Some(now);
                }
            }
            Output::Event(Event::Renewed(l)) => {
                let h = held.as_ref().expect("Renewed while holding");
                prop_assert_eq!(h.ip(), l.ip());
                prop_assert!(
                    l.expires_at() >= h.expires_at(),
                    "a renewal never shortens the lease"
                );
                stats.renewals_acked += 1;
                *held = Some(l);
            }
            Output::Event(Event::Drop { address, reason }) => {
                prop_assert_eq!(held.as_ref().map(|l| l.ip()), Some(address));
                stats.drops.push(reason);
                *held = None;
            }
            Output::Event(Event::Nak { .. }) => {}
        }
    }
    Ok(())
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        any::<u64>(),
        60u32..=3600,
        any::<bool>(),
        prop_oneof![Just(0.0), 0.0..0.35f64],
        prop_oneof![Just(0.0), 0.0..0.2f64],
        0u64..=3000,
        prop_oneof![Just(0.0), 0.0..0.08f64],
        prop_oneof![Just(0.0), 0.0..0.3f64],
        proptest::option::of(600u64..86_400),
        24u64..=72,
    )
        .prop_map(
            |(seed, lease, t12, loss, dup, delay, nak, decline, change, hours)| Scenario {
                seed,
                lease_secs: lease,
                t1_t2: t12.then_some((lease / 4, lease / 2)),
                faults: Faults {
                    loss,
                    dup,
                    max_delay: Duration::from_millis(delay),
                },
                nak_rate: nak,
                decline_rate: decline,
                server_change_after: change.map(Duration::from_secs),
                hours,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn client_invariants_hold_over_virtual_days(s in scenario()) {
        let stats = run(&s)?;
        // over a day some DORA gets through unless the network loses more than a third
        prop_assert!(stats.bounds >= 1, "never bound: {s:?} {stats:?}");
    }
}

#[test]
fn perfect_network_holds_one_lease_for_three_days() {
    for (seed, lease, t12) in [
        (1u64, 60u32, None),
        (2, 600, Some((100, 300))),
        (3, 3600, None),
    ] {
        let s = Scenario {
            seed,
            lease_secs: lease,
            t1_t2: t12,
            faults: Faults {
                loss: 0.0,
                dup: 0.0,
                max_delay: Duration::from_millis(5),
            },
            nak_rate: 0.0,
            decline_rate: 0.0,
            server_change_after: None,
            hours: 72,
        };
        let stats = run(&s).unwrap();
        assert_eq!(stats.bounds, 1, "{stats:?}");
        assert!(stats.drops_before_release.is_empty(), "{stats:?}");
        assert_eq!(stats.drops, vec![DropReason::Released]);
        let t1 = t12.map_or(lease / 2, |(a, _)| a);
        // one renewal per (fuzzed) T1 over 72 h
        let expected = 72 * 3600 / t1;
        assert!(
            stats.renewals_acked >= expected - 1,
            "{} renewals, expected about {expected}",
            stats.renewals_acked
        );
        assert!(
            stats.renewals_acked <= expected * 104 / 100 + 1,
            "{} renewals, expected about {expected}",
            stats.renewals_acked
        );
    }
}

#[test]
fn changed_server_rebinding_gets_a_nak_then_a_new_lease() {
    let s = Scenario {
        seed: 99,
        lease_secs: 600,
        t1_t2: None,
        faults: Faults {
            loss: 0.0,
            dup: 0.0,
            max_delay: Duration::from_millis(5),
        },
        nak_rate: 0.0,
        decline_rate: 0.0,
        server_change_after: Some(Duration::from_secs(3600)),
        hours: 4,
    };
    let stats = run(&s).unwrap();
    // the new server does not know the lease: NAK while renewing/rebinding, then DORA with it
    assert_eq!(stats.drops_before_release, vec![DropReason::Nak]);
    assert_eq!(stats.bounds, 2);
}
