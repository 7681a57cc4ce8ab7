//! Time as the client and the renewal manager see it: passed in, never read from a global clock.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A point in time, in milliseconds since an epoch. Real runs use the Unix epoch
/// ([`Time::now`]) so that a lease stored by one process means the same in the next; a
/// simulation may start anywhere.
///
/// ```
/// use std::time::Duration;
/// use dhcp_codec::Time;
///
/// let t = Time::from_secs(100);
/// assert_eq!(t + Duration::from_millis(1500), Time::from_millis(101_500));
/// assert_eq!(Time::from_secs(160) - t, Duration::from_secs(60));
/// assert_eq!(t - Time::from_secs(160), Duration::ZERO); // saturates
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Time(u64);

impl Time {
    /// The epoch.
    pub const ZERO: Time = Time(0);

    /// From milliseconds since the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Time(ms)
    }

    /// From seconds since the epoch.
    pub const fn from_secs(s: u64) -> Self {
        Time(s.saturating_mul(1000))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// The wall clock now, since the Unix epoch (0 if the clock is before it).
    pub fn now() -> Self {
        Time::from_system(SystemTime::now())
    }

    /// A wall-clock time.
    pub fn from_system(t: SystemTime) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        Time(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// The time since `earlier`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Time) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Time {
    type Output = Time;

    fn add(self, d: Duration) -> Time {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Time(self.0.saturating_add(ms))
    }
}

impl Sub<Time> for Time {
    type Output = Duration;

    fn sub(self, earlier: Time) -> Duration {
        self.saturating_since(earlier)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}
