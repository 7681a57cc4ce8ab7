//! Where the daemon's time comes from: a clock that never jumps and counts time asleep
//! (`CLOCK_BOOTTIME`), so a change of the wall clock neither expires nor extends a lease.
//!
//! Leases are kept on that clock. Stored with a [`ClockStamp`] (both clocks read at the same
//! instant, and the boot they belong to), a lease is re-based when it is loaded: within the same
//! boot the monotonic clock goes on where it was, so the lease's timers are unchanged whatever
//! the wall clock did; after a reboot the monotonic clock starts again, and the wall time that
//! passed (never less than zero) is all there is to go by.
//!
//! ```
//! use dhcp_ipam::clock::ClockStamp;
//! use dhcp_codec::Time;
//! let saved = ClockStamp { boot_id: Some("b1".into()), monotonic: Time::from_secs(1_000), wall: Time::from_secs(1_700_000_000) };
//! // same boot, 60 s later, but the wall clock was moved a day ahead meanwhile
//! let now = ClockStamp { boot_id: Some("b1".into()), monotonic: Time::from_secs(1_060), wall: Time::from_secs(1_700_086_460) };
//! let expiry = Time::from_secs(1_600);
//! assert_eq!(saved.rebase(expiry, &now), expiry); // the lease still has 540 s
//! // after a reboot the monotonic clock restarted at 5 s; the wall clock says 60 s passed
//! let rebooted = ClockStamp { boot_id: Some("b2".into()), monotonic: Time::from_secs(5), wall: Time::from_secs(1_700_000_060) };
//! assert_eq!(saved.rebase(expiry, &rebooted), Time::from_secs(545)); // 540 s left
//! ```

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use dhcp_codec::Time;

/// A source of time for the daemon (tests give it a clock of their own).
pub trait Clock: Send + Sync {
    /// Now, on the monotonic clock that counts time asleep: what every timer of the daemon is
    /// measured on.
    fn now(&self) -> Time;
    /// Both clocks read at one instant, to store beside a lease.
    fn stamp(&self) -> ClockStamp;
}

/// The two clocks read at one instant, and the boot the monotonic reading belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockStamp {
    /// `/proc/sys/kernel/random/boot_id`: monotonic readings compare only within one boot.
    pub boot_id: Option<String>,
    /// The monotonic clock ([`Clock::now`]).
    pub monotonic: Time,
    /// The wall clock, since the Unix epoch.
    pub wall: Time,
}

impl ClockStamp {
    /// A reading for records written before stamps existed, whose times were wall-clock times:
    /// their monotonic and wall readings are the same.
    pub const WALL_CLOCK_TIMES: ClockStamp = ClockStamp {
        boot_id: None,
        monotonic: Time::ZERO,
        wall: Time::ZERO,
    };

    /// How long has passed from this reading to `now`: on the monotonic clock within one
    /// boot, else on the wall clock (zero if it went backwards).
    pub fn elapsed_until(&self, now: &ClockStamp) -> std::time::Duration {
        match (&self.boot_id, &now.boot_id) {
            (Some(a), Some(b)) if a == b => now.monotonic.saturating_since(self.monotonic),
            _ => now.wall.saturating_since(self.wall),
        }
    }

    /// `t`, a time on the monotonic clock of this reading, on the monotonic clock of `now`:
    /// the same distance from the present as it had when this reading was taken, less the
    /// time that passed since. `Time::from_millis(u64::MAX)` (never) stays never.
    pub fn rebase(&self, t: Time, now: &ClockStamp) -> Time {
        if t.as_millis() == u64::MAX {
            return t;
        }
        let elapsed = self.elapsed_until(now);
        if t >= self.monotonic {
            let ahead = t.saturating_since(self.monotonic);
            match ahead.checked_sub(elapsed) {
                Some(left) => now.monotonic + left,
                None => Time::from_millis(
                    now.monotonic
                        .as_millis()
                        .saturating_sub(duration_ms(elapsed - ahead)),
                ),
            }
        } else {
            let behind = self.monotonic.saturating_since(t) + elapsed;
            Time::from_millis(
                now.monotonic
                    .as_millis()
                    .saturating_sub(duration_ms(behind)),
            )
        }
    }
}

fn duration_ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The machine's clocks: `CLOCK_BOOTTIME` and the wall clock, with this boot's ID.
#[derive(Debug, Clone)]
pub struct SystemClock {
    boot_id: Option<String>,
}

impl SystemClock {
    /// Reads this boot's ID once.
    pub fn new() -> Self {
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        SystemClock { boot_id }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Time {
        // CLOCK_BOOTTIME cannot fail on Linux for a valid clock id; a zero reading would only
        // make every timer fire early, never late.
        nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)
            .map(|ts| {
                Time::from_millis(
                    u64::try_from(ts.tv_sec()).unwrap_or(0) * 1000
                        + u64::try_from(ts.tv_nsec()).unwrap_or(0) / 1_000_000,
                )
            })
            .unwrap_or(Time::ZERO)
    }

    fn stamp(&self) -> ClockStamp {
        ClockStamp {
            boot_id: self.boot_id.clone(),
            monotonic: self.now(),
            wall: Time::from_system(SystemTime::now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(boot: &str, mono: u64, wall: u64) -> ClockStamp {
        ClockStamp {
            boot_id: Some(boot.into()),
            monotonic: Time::from_secs(mono),
            wall: Time::from_secs(wall),
        }
    }

    #[test]
    fn within_one_boot_a_wall_clock_jump_changes_nothing() {
        let saved = stamp("a", 100, 10_000);
        for wall_now in [0, 9_000, 10_050, 99_999_999] {
            let now = stamp("a", 150, wall_now);
            assert_eq!(
                saved.rebase(Time::from_secs(700), &now),
                Time::from_secs(700)
            );
            assert_eq!(saved.rebase(Time::from_secs(40), &now), Time::from_secs(40));
        }
    }

    #[test]
    fn across_a_reboot_the_wall_time_passed_counts() {
        let saved = stamp("a", 100, 10_000);
        let now = stamp("b", 3, 10_030);
        // 600 s ahead at save, 30 s passed: 570 s ahead now
        assert_eq!(
            saved.rebase(Time::from_secs(700), &now),
            Time::from_secs(573)
        );
        // a wall clock that went backwards counts as no time passed
        let back = stamp("b", 3, 9_000);
        assert_eq!(
            saved.rebase(Time::from_secs(700), &back),
            Time::from_secs(603)
        );
        // times already past stay past, without underflow
        assert_eq!(saved.rebase(Time::from_secs(0), &now), Time::ZERO);
        // never stays never
        let never = Time::from_millis(u64::MAX);
        assert_eq!(saved.rebase(never, &now), never);
    }

    #[test]
    fn records_in_wall_time_are_moved_to_the_monotonic_clock() {
        let now = stamp("b", 50, 1_000_000);
        let expiry_wall = Time::from_secs(1_000_600);
        assert_eq!(
            ClockStamp::WALL_CLOCK_TIMES.rebase(expiry_wall, &now),
            Time::from_secs(650)
        );
    }

    #[test]
    fn the_system_clock_is_monotonic_and_has_a_boot_id() {
        let c = SystemClock::new();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        assert!(c.stamp().boot_id.is_some());
    }
}
