//! The kernel's rules, as methods of [`Model`]: what each operation does to the state, with the
//! kernel's checks in the kernel's order and its errno. The views of a host (`SimSysfs`,
//! `SimNetOps`, `SimRdmaOps`) only check faults, call these, log the operation and mark the
//! sysfs projection stale.
//!
//! By subsystem:
//! - `sriov.rs`: `sriov_numvfs`, `sriov_drivers_autoprobe`, enabling and disabling VFs, the PF's
//!   VF table (`ip link set <pf> vf N ...`);
//! - `drivers.rs`: driver probe, `bind`, `unbind`, netdev naming at probe;
//! - `netns.rs`: namespaces by path, creating and deleting them;
//! - `links.rs`: listing, renaming, MAC, MTU, up/down, moving links, veth pairs, the cable;
//! - `addrs.rs`: addresses and addrconf's link-local addresses;
//! - `routes.rs`: the main table, prefix routes and the checks of a route add;
//! - `rdma.rs`: RDMA device registration, the RDMA netns mode and device moves.

use std::io;

use sriov_core::MacAddress;

use crate::model::Model;

mod addrs;
mod drivers;
mod links;
mod netns;
mod rdma;
mod routes;
mod sriov;

pub use links::{AdminState, PhysicalLink};
pub use sriov::VfSetting;

/// An errno value.
pub type Errno = i32;

/// The `io::Error` a host trait returns for `errno`.
pub(crate) fn io_error(errno: Errno) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

/// `kstrtou16(buf, 0, ..)` and friends: an unsigned integer in base 0 (decimal, `0x` hex, `0`
/// octal), an optional leading `+`, at most one trailing newline. EINVAL for anything else,
/// ERANGE above `max`.
pub fn kstrtou(text: &str, max: u64) -> Result<u64, Errno> {
    let s = text.strip_suffix('\n').unwrap_or(text);
    let s = s.strip_prefix('+').unwrap_or(s);
    let bytes = s.as_bytes();
    let (radix, digits) = match bytes {
        [b'0', b'x' | b'X', c, ..] if c.is_ascii_hexdigit() => (16, &s[2..]),
        [b'0', _, ..] => (8, &s[1..]),
        _ => (10, s),
    };
    if digits.is_empty() {
        return Err(libc::EINVAL);
    }
    let mut value: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix).ok_or(libc::EINVAL)?;
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or(libc::ERANGE)?;
    }
    if value > max {
        return Err(libc::ERANGE);
    }
    Ok(value)
}

/// `kstrtobool` (Linux 6.x): by the first character, `y`/`t`/`e`/`1` true and `n`/`f`/`d`/`0`
/// false (either case); `on`/`off` by the first two; EINVAL otherwise.
pub fn kstrtobool(text: &str) -> Result<bool, Errno> {
    let b = text.as_bytes();
    match b {
        [b'y' | b'Y' | b't' | b'T' | b'e' | b'E' | b'1', ..] => Ok(true),
        [b'n' | b'N' | b'f' | b'F' | b'd' | b'D' | b'0', ..] => Ok(false),
        [b'o' | b'O', b'n' | b'N', ..] => Ok(true),
        [b'o' | b'O', b'f' | b'F', ..] => Ok(false),
        _ => Err(libc::EINVAL),
    }
}

/// Checks a netdev name as the kernel's `dev_valid_name()` does (the one rule of the
/// workspace, [`cni_types::validate::is_valid_interface_name`]).
pub fn valid_ifname(name: &str) -> bool {
    cni_types::validate::is_valid_interface_name(name)
}

/// A MAC check as `is_valid_ether_addr`: unicast and not zero.
pub fn valid_ether_addr(mac: MacAddress) -> bool {
    mac.is_unicast() && !mac.is_zero()
}

impl Model {
    /// Runs one rtnetlink request: `change`, then, when it succeeded, the work the kernel's
    /// notifier chain does before the next request is answered (addrconf gives every link that
    /// became ready its link-local address).
    fn rtnl<T>(&mut self, change: impl FnOnce(&mut Self) -> Result<T, Errno>) -> Result<T, Errno> {
        let out = change(self)?;
        self.addrconf();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kstrtou_matches_the_kernel() {
        assert_eq!(kstrtou("8\n", 65535), Ok(8));
        assert_eq!(kstrtou("+8", 65535), Ok(8));
        assert_eq!(kstrtou("0x10", 65535), Ok(16));
        assert_eq!(kstrtou("010", 65535), Ok(8));
        assert_eq!(kstrtou("0", 65535), Ok(0));
        assert_eq!(kstrtou("", 65535), Err(libc::EINVAL));
        assert_eq!(kstrtou("\n", 65535), Err(libc::EINVAL));
        assert_eq!(kstrtou("8\n\n", 65535), Err(libc::EINVAL));
        assert_eq!(kstrtou(" 8", 65535), Err(libc::EINVAL));
        assert_eq!(kstrtou("-1", 65535), Err(libc::EINVAL));
        assert_eq!(kstrtou("09", 65535), Err(libc::EINVAL));
        assert_eq!(kstrtou("65536", 65535), Err(libc::ERANGE));
        assert_eq!(kstrtou("99999999999999999999999", 65535), Err(libc::ERANGE));
    }

    #[test]
    fn kstrtobool_matches_the_kernel() {
        for t in ["1", "y", "Yes", "on", "ON\n", "true", "enable"] {
            assert_eq!(kstrtobool(t), Ok(true), "{t}");
        }
        for t in ["0", "n", "No", "off", "OF", "false", "disable"] {
            assert_eq!(kstrtobool(t), Ok(false), "{t}");
        }
        for t in ["", "2", "o", "x", "\n"] {
            assert_eq!(kstrtobool(t), Err(libc::EINVAL), "{t}");
        }
    }

    #[test]
    fn ifname_rules() {
        assert!(valid_ifname("net1"));
        assert!(valid_ifname("a23456789012345"));
        assert!(valid_ifname("a#b"), "the kernel accepts '#'");
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a:b",
            "a b",
            "a234567890123456",
            "\u{e0}",
        ] {
            assert!(!valid_ifname(bad), "{bad:?}");
        }
    }
}
