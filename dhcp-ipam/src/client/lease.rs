//! A lease as the client holds it: the address and its configuration, who granted it, and when
//! each of its timers falls.

use std::net::Ipv4Addr;
use std::time::Duration;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use dhcp_codec::Time;
use dhcp_codec::{ClientId, HwAddr, INFINITE_LEASE, Message, Route};

/// A lease acquired by the client. Serializable: this is what lease persistence stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The leased address with the subnet's prefix length (host bits kept: `10.0.0.5/24`).
    pub address: Ipv4Net,
    /// The routers to use: the gateways of option 121's default routes when option 121 is
    /// present (RFC 3442: then option 3 is ignored), else option 3.
    pub routers: Vec<Ipv4Addr>,
    /// Classless static routes (option 121), empty when the server sent none.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// DNS servers (option 6).
    #[serde(default)]
    pub dns_servers: Vec<Ipv4Addr>,
    /// Domain name (option 15).
    #[serde(default)]
    pub domain_name: Option<String>,
    /// The server that granted the lease (option 54).
    pub server_id: Ipv4Addr,
    /// Lease time in seconds (option 51); [`INFINITE_LEASE`] is infinite.
    pub lease_secs: u32,
    /// T1 in seconds, from option 58 or 0.5 x the lease.
    pub t1_secs: u32,
    /// T2 in seconds, from option 59 or 0.875 x the lease.
    pub t2_secs: u32,
    /// When the REQUEST that obtained (or last extended) the lease was first sent: the lease
    /// counts from here.
    pub acquired_at: Time,
    /// When to start renewing (T1 less a random fuzz).
    pub renew_at: Time,
    /// When to start rebinding (T2 less a random fuzz).
    pub rebind_at: Time,
    /// The client identifier the lease was obtained with; every later message, RELEASE
    /// included, carries exactly this.
    pub client_id: ClientId,
    /// The hardware address the lease was obtained with.
    pub chaddr: HwAddr,
}

/// How T1 and T2 were fuzzed, as fractions of their value subtracted (0 = none).
pub(crate) struct Fuzz {
    pub t1: f64,
    pub t2: f64,
}

impl Lease {
    /// The lease from a DHCPACK, counted from `requested_at`. `fallback_lease_secs` is used
    /// when the ACK carries no option 51 (the OFFER's value). `None` when the ACK has no usable
    /// address or lease time.
    pub(crate) fn from_ack(
        ack: &Message,
        requested_at: Time,
        fallback_lease_secs: Option<u32>,
        fallback_server: Option<Ipv4Addr>,
        client_id: &ClientId,
        chaddr: HwAddr,
        fuzz: Fuzz,
    ) -> Option<Lease> {
        let o = &ack.options;
        let addr = ack.yiaddr;
        if addr.is_unspecified() || addr.is_broadcast() || addr.is_multicast() {
            return None;
        }
        let lease_secs = o.lease_time.or(fallback_lease_secs)?;
        if lease_secs == 0 {
            return None;
        }
        let server_id = o.server_id.or(fallback_server)?;
        let prefix_len = o
            .subnet_mask
            .and_then(|m| ipnet::ipv4_mask_to_prefix(m).ok())
            .unwrap_or_else(|| natural_prefix(addr));
        let address = Ipv4Net::new(addr, prefix_len).ok()?;
        let (t1_secs, t2_secs) = timers(lease_secs, o.renewal_time, o.rebinding_time);
        let (renew_at, rebind_at) = if lease_secs == INFINITE_LEASE {
            (Time::from_millis(u64::MAX), Time::from_millis(u64::MAX))
        } else {
            let t1 = fuzzed(t1_secs, fuzz.t1);
            let t2 = fuzzed(t2_secs, fuzz.t2).max(t1);
            (requested_at + t1, requested_at + t2)
        };
        Some(Lease {
            address,
            routers: o.effective_routers(),
            routes: o.classless_routes.clone(),
            dns_servers: o.dns_servers.clone(),
            domain_name: o.domain_name.clone(),
            server_id,
            lease_secs,
            t1_secs,
            t2_secs,
            acquired_at: requested_at,
            renew_at,
            rebind_at,
            client_id: client_id.clone(),
            chaddr,
        })
    }

    /// The leased address.
    pub fn ip(&self) -> Ipv4Addr {
        self.address.addr()
    }

    /// True for an infinite lease (no renewals, no expiry).
    pub fn is_infinite(&self) -> bool {
        self.lease_secs == INFINITE_LEASE
    }

    /// When the lease expires (`None` for an infinite lease). The address must not be used at
    /// or after this time.
    pub fn expires_at(&self) -> Option<Time> {
        (!self.is_infinite())
            .then(|| self.acquired_at + Duration::from_secs(u64::from(self.lease_secs)))
    }

    /// The lease with its times moved from the clock of reading `from` to the clock of reading
    /// `to` (see [`ClockStamp::rebase`](crate::clock::ClockStamp::rebase)).
    pub fn rebased(
        mut self,
        from: &crate::clock::ClockStamp,
        to: &crate::clock::ClockStamp,
    ) -> Lease {
        self.acquired_at = from.rebase(self.acquired_at, to);
        self.renew_at = from.rebase(self.renew_at, to);
        self.rebind_at = from.rebase(self.rebind_at, to);
        self
    }

    /// True when the lease has expired at `now`.
    pub fn is_expired(&self, now: Time) -> bool {
        self.expires_at().is_some_and(|e| now >= e)
    }

    /// Seconds of the lease left at `now` (`u32::MAX` for an infinite lease).
    pub fn remaining_secs(&self, now: Time) -> u32 {
        match self.expires_at() {
            None => INFINITE_LEASE,
            Some(e) => u32::try_from((e - now).as_secs()).unwrap_or(u32::MAX),
        }
    }

    /// The first router, if any (see [`routers`](Self::routers)).
    pub fn router(&self) -> Option<Ipv4Addr> {
        self.routers.first().copied()
    }
}

/// T1 and T2 from options 58/59 when they are consistent (T1 <= T2 < lease), else the RFC 2131
/// defaults 0.5 and 0.875 of the lease.
pub(crate) fn timers(lease: u32, t1: Option<u32>, t2: Option<u32>) -> (u32, u32) {
    if lease == INFINITE_LEASE {
        return (INFINITE_LEASE, INFINITE_LEASE);
    }
    let d1 = lease / 2;
    let d2 = (u64::from(lease) * 7 / 8) as u32;
    match (t1, t2) {
        (Some(a), Some(b)) if a <= b && b < lease => (a, b),
        (Some(a), None) if a < d2 => (a, d2),
        (None, Some(b)) if b < lease && d1 <= b => (d1, b),
        _ => (d1, d2),
    }
}

fn fuzzed(secs: u32, fraction: f64) -> Duration {
    let ms = u64::from(secs) * 1000;
    let cut = (ms as f64 * fraction.clamp(0.0, 0.5)) as u64;
    Duration::from_millis(ms - cut.min(ms))
}

/// The classful prefix length of an address (used only when a server sends no subnet mask).
fn natural_prefix(a: Ipv4Addr) -> u8 {
    match a.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_follow_options_when_consistent() {
        assert_eq!(timers(600, None, None), (300, 525));
        assert_eq!(timers(600, Some(100), Some(200)), (100, 200));
        // inconsistent: T2 beyond the lease, T1 after T2
        assert_eq!(timers(600, Some(100), Some(700)), (300, 525));
        assert_eq!(timers(600, Some(300), Some(200)), (300, 525));
        assert_eq!(timers(600, Some(100), None), (100, 525));
        assert_eq!(
            timers(INFINITE_LEASE, Some(1), Some(2)),
            (INFINITE_LEASE, INFINITE_LEASE)
        );
    }

    #[test]
    fn fuzz_only_shortens() {
        assert_eq!(fuzzed(100, 0.0), Duration::from_secs(100));
        assert_eq!(fuzzed(100, 0.05), Duration::from_secs(95));
        assert_eq!(fuzzed(100, 9.0), Duration::from_secs(50));
    }
}
