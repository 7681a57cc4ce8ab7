//! Client configuration: identity, what to ask for, and the retransmission policy.

use std::time::Duration;

use dhcp_codec::{ClientId, HwAddr, code};

/// Exponential backoff with jitter: `initial`, doubled after each try up to `max`, each plus or
/// minus a uniformly random `jitter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first interval.
    pub initial: Duration,
    /// The largest interval.
    pub max: Duration,
    /// Random spread added to or taken from each interval.
    pub jitter: Duration,
}

impl Backoff {
    /// RFC 2131 4.1: about 4, 8, 16, 32, 64 s, each plus or minus 1 s.
    pub const RFC2131: Backoff = Backoff {
        initial: Duration::from_secs(4),
        max: Duration::from_secs(64),
        jitter: Duration::from_secs(1),
    };

    /// The interval before retry `attempt` (0-based), without jitter.
    pub fn base(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// How a [`Client`](super::Client) identifies itself and paces its messages.
///
/// ```
/// use std::time::Duration;
/// use dhcp_ipam::client::ClientConfig;
/// use dhcp_codec::{ClientId, HwAddr};
///
/// let mac = [2, 0, 0, 0, 0, 1];
/// let cfg = ClientConfig::new(HwAddr::mac(mac), ClientId::from_mac(mac));
/// assert_eq!(cfg.init_delay, (Duration::from_secs(1), Duration::from_secs(10)));
/// let quick = cfg.quick_start();
/// assert!(quick.init_delay.1 < Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// The hardware address (`chaddr`).
    pub chaddr: HwAddr,
    /// The client identifier (option 61), sent identically in every message.
    pub client_id: ClientId,
    /// Host name to send (option 12), if any.
    pub hostname: Option<String>,
    /// Parameter request list (option 55), sent in DISCOVER and every REQUEST.
    pub parameter_request_list: Vec<u8>,
    /// Lease time to ask for (option 51 in DISCOVER/REQUEST), if any.
    pub requested_lease_secs: Option<u32>,
    /// Set the broadcast flag in messages sent before the client has an address.
    pub broadcast_flag: bool,
    /// Random wait before the first DISCOVER, between these bounds (RFC 2131: 1 to 10 s).
    pub init_delay: (Duration, Duration),
    /// Retransmission of DISCOVER, and of REQUEST in REQUESTING and REBOOTING.
    pub backoff: Backoff,
    /// REQUEST transmissions in REQUESTING before starting over in INIT.
    pub request_attempts: u32,
    /// REQUEST transmissions in REBOOTING before giving up on the old address (INIT).
    pub reboot_attempts: u32,
    /// Lower bound of the wait between REQUESTs in RENEWING and REBINDING (RFC 2131: 60 s).
    pub renew_retransmit_min: Duration,
    /// Wait after a DECLINE before starting over (RFC 2131: at least 10 s).
    pub decline_wait: Duration,
    /// Largest fraction of T1 and T2 taken off at random, so that clients started together do
    /// not renew together.
    pub timer_fuzz: f64,
}

impl ClientConfig {
    /// RFC 2131 behaviour: 1-10 s before the first DISCOVER, 4-64 s backoff, 60 s minimum
    /// between renewals, 10 s after a DECLINE. Asks for mask, routers, DNS, domain, lease
    /// time, server id, T1, T2 and classless routes.
    pub fn new(chaddr: HwAddr, client_id: ClientId) -> Self {
        ClientConfig {
            chaddr,
            client_id,
            hostname: None,
            parameter_request_list: vec![
                code::SUBNET_MASK,
                code::ROUTER,
                code::DNS,
                code::DOMAIN_NAME,
                code::LEASE_TIME,
                code::SERVER_ID,
                code::RENEWAL_TIME,
                code::REBINDING_TIME,
                code::CLASSLESS_ROUTES,
            ],
            requested_lease_secs: None,
            broadcast_flag: false,
            init_delay: (Duration::from_secs(1), Duration::from_secs(10)),
            backoff: Backoff::RFC2131,
            request_attempts: 4,
            reboot_attempts: 2,
            renew_retransmit_min: Duration::from_secs(60),
            decline_wait: Duration::from_secs(10),
            timer_fuzz: 0.03,
        }
    }

    /// For a pod interface being set up while a CNI ADD waits: at most 100 ms before the first
    /// DISCOVER and a 1-16 s backoff (+-0.25 s). Everything else as [`new`](Self::new).
    pub fn quick_start(mut self) -> Self {
        self.init_delay = (Duration::ZERO, Duration::from_millis(100));
        self.backoff = Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(16),
            jitter: Duration::from_millis(250),
        };
        self
    }
}
