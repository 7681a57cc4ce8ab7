//! Validation of the identifiers a runtime passes: container ID, interface name, network name.
//! Each failure is the [`CniError`] (code, message) the reference library gives, so runtimes
//! that compare them see the same thing.
//!
//! The interface-name rule is the kernel's, not the reference library's: a name is valid
//! exactly when Linux's `dev_valid_name()` (`net/core/dev.c`) accepts it, so a name this
//! crate lets through is one that `RTM_NEWLINK` will not refuse with `EINVAL`, and the other
//! crates of the workspace (the kernel model, the device-plugin configuration checker) can use
//! [`is_valid_interface_name`] as their one rule. See [`interface_name`] for the rule and for
//! where it differs from the reference library.
//!
//! ```
//! use cni_types::validate;
//!
//! assert!(validate::container_id("a51debf7e1eb").is_ok());
//! assert_eq!(validate::interface_name("test name").unwrap_err().code.code(), 4);
//! assert_eq!(validate::network_name("te%%st").unwrap_err().code.code(), 7);
//! assert!(validate::is_valid_interface_name("net#1"));
//! assert!(!validate::is_valid_interface_name("vlan:5"));
//! ```

use crate::{CniError, ErrorCode};

/// The kernel's `IFNAMSIZ` (`include/uapi/linux/if.h`): an interface name and its
/// terminating NUL fit in 16 bytes.
pub const IFNAMSIZ: usize = 16;

/// Longest interface name in bytes: `IFNAMSIZ - 1`, since `dev_valid_name()` refuses a name
/// whose `strnlen(name, IFNAMSIZ)` reaches `IFNAMSIZ`.
pub const MAX_IFNAME_LEN: usize = IFNAMSIZ - 1;

/// True when `s` matches `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`.
pub fn is_valid_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// Checks a container ID: empty is code 3 `missing containerID`, other characters code 4.
pub fn container_id(id: &str) -> Result<(), CniError> {
    if id.is_empty() {
        return Err(CniError::new(
            ErrorCode::UnknownContainer,
            "missing containerID",
        ));
    }
    if !is_valid_identifier(id) {
        return Err(CniError::new(
            ErrorCode::InvalidEnvironment,
            "invalid characters in containerID",
        )
        .with_details(id));
    }
    Ok(())
}

/// True when the kernel's `isspace()` marks byte `b` as space.
///
/// The kernel classifies bytes with its own table (`lib/ctype.c`, `_ctype[]`, ISO 8859-1),
/// not the C library's locale: the bytes with `_S` set are `\t`, `\n`, `\v`, `\f`, `\r`
/// (9-13), the space (32) and 0xA0 (160, Latin-1's no-break space). Nothing else above 0x7F
/// is space (0x85 is not). 0xA0 is also a UTF-8 continuation byte, so the kernel refuses
/// names such as `"à"` (`C3 A0`) or `"Ġ"` (`C4 A0`), while it accepts `"\u{3000}"`
/// (`E3 80 80`) and `"\u{2028}"` (`E2 80 A8`), which Unicode calls white space.
pub fn is_kernel_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0xa0)
}

/// Why the kernel would refuse an interface name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IfnameFault {
    /// No bytes.
    Empty,
    /// A NUL byte at this offset: the kernel reads a C string, which would end there.
    Nul(usize),
    /// `IFNAMSIZ` bytes or more.
    TooLong,
    /// `.` or `..`.
    Dots,
    /// `/`, `:` or an ASCII space byte.
    Forbidden,
    /// Byte 0xA0 (a space to the kernel, part of a multi-byte character) at this offset.
    Latin1Space(usize),
}

fn ifname_fault(name: &[u8]) -> Option<IfnameFault> {
    if name.is_empty() {
        return Some(IfnameFault::Empty);
    }
    if let Some(at) = name.iter().position(|&b| b == 0) {
        return Some(IfnameFault::Nul(at));
    }
    if name.len() > MAX_IFNAME_LEN {
        return Some(IfnameFault::TooLong);
    }
    if name == b"." || name == b".." {
        return Some(IfnameFault::Dots);
    }
    name.iter()
        .position(|&b| b == b'/' || b == b':' || is_kernel_space(b))
        .map(|at| match name[at] {
            0xa0 => IfnameFault::Latin1Space(at),
            _ => IfnameFault::Forbidden,
        })
}

/// True when the kernel accepts `name` as a network interface name: the rule of Linux's
/// `dev_valid_name()` (`net/core/dev.c`) on the name's bytes.
///
/// - not empty, and at most [`MAX_IFNAME_LEN`] (15) bytes: strictly fewer than [`IFNAMSIZ`];
/// - not `.` or `..` (`...` is fine);
/// - no `/`, no `:` and no byte the kernel's `isspace()` marks ([`is_kernel_space`]:
///   `\t \n \v \f \r`, space, and 0xA0, which UTF-8 uses inside characters such as `à`);
/// - no NUL: the kernel reads a C string, so a NUL would end the name early and the kernel
///   would create or look up another one.
///
/// Anything else goes, `#`, `@`, `-`, non-ASCII letters such as `é` included.
///
/// ```
/// use cni_types::validate::is_valid_interface_name;
///
/// assert!(is_valid_interface_name("eth0"));
/// assert!(is_valid_interface_name("a#b"));
/// assert!(is_valid_interface_name("0123456789abcde")); // 15 bytes
/// assert!(!is_valid_interface_name("0123456789abcdef")); // 16
/// assert!(!is_valid_interface_name(".."));
/// assert!(!is_valid_interface_name("à")); // C3 A0: 0xA0 is a space to the kernel
/// assert!(is_valid_interface_name("é")); // C3 A9
/// ```
pub fn is_valid_interface_name(name: &str) -> bool {
    is_valid_interface_name_bytes(name.as_bytes())
}

/// [`is_valid_interface_name`] on bytes, such as an `IFLA_IFNAME` attribute without its
/// terminating NUL (any NUL in `name` is refused).
pub fn is_valid_interface_name_bytes(name: &[u8]) -> bool {
    ifname_fault(name).is_none()
}

/// Checks an interface name with the kernel's rule ([`is_valid_interface_name`]); every
/// failure is code 4 (invalid environment) with the reference library's message:
///
/// | name | `msg` | `details` |
/// | --- | --- | --- |
/// | empty | `interface name is empty` | |
/// | 16 bytes or more | `interface name is too long` | `interface name should be less than 16 characters` |
/// | `.`, `..` | `interface name is . or ..` | |
/// | `/`, `:`, ASCII white space | `interface name contains / or : or whitespace characters` | |
/// | byte 0xA0 (`à`, `Ġ`, U+00A0 ...) | the same | `byte 0xa0 at offset N is a space to the kernel's isspace()` |
/// | a NUL byte | `interface name contains a NUL byte` (ours: the reference library has no such case) | `at offset N` |
///
/// Where the reference library (`ValidateInterfaceName`, which asks Go's `unicode.IsSpace`
/// about each character) differs from the kernel, this follows the kernel: `à` and every
/// character with a 0xA0 byte are refused, while U+0085, U+2028 or U+3000 are accepted.
pub fn interface_name(name: &str) -> Result<(), CniError> {
    let err = |msg: &str| CniError::new(ErrorCode::InvalidEnvironment, msg);
    let forbidden = "interface name contains / or : or whitespace characters";
    match ifname_fault(name.as_bytes()) {
        None => Ok(()),
        Some(IfnameFault::Empty) => Err(err("interface name is empty")),
        Some(IfnameFault::Nul(at)) => {
            Err(err("interface name contains a NUL byte").with_details(format!("at offset {at}")))
        }
        Some(IfnameFault::TooLong) => Err(err("interface name is too long").with_details(format!(
            "interface name should be less than {IFNAMSIZ} characters"
        ))),
        Some(IfnameFault::Dots) => Err(err("interface name is . or ..")),
        Some(IfnameFault::Forbidden) => Err(err(forbidden)),
        Some(IfnameFault::Latin1Space(at)) => Err(err(forbidden).with_details(format!(
            "byte 0xa0 at offset {at} is a space to the kernel's isspace()"
        ))),
    }
}

/// Checks a network name: empty is `missing network name`, other characters
/// `invalid characters found in network name` (both code 7).
pub fn network_name(name: &str) -> Result<(), CniError> {
    if name.is_empty() {
        return Err(CniError::new(
            ErrorCode::InvalidNetworkConfig,
            "missing network name",
        ));
    }
    if !is_valid_identifier(name) {
        return Err(CniError::new(
            ErrorCode::InvalidNetworkConfig,
            "invalid characters found in network name",
        )
        .with_details(name));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_space_bytes_are_the_ctype_table_ones() {
        let space: Vec<u8> = (0..=255u8).filter(|&b| is_kernel_space(b)).collect();
        assert_eq!(space, [9, 10, 11, 12, 13, 32, 160]);
    }

    #[test]
    fn names_where_the_kernel_and_go_differ() {
        // Go's unicode.IsSpace accepts these as letters; the kernel sees a 0xA0 byte.
        for name in ["à", "Ġ", "x\u{a0}"] {
            let e = interface_name(name).unwrap_err();
            assert_eq!(
                e.msg,
                "interface name contains / or : or whitespace characters"
            );
            assert!(e.details.starts_with("byte 0xa0 at offset"), "{name}");
        }
        // Go calls these white space; the kernel does not.
        for name in ["a\u{85}", "\u{2028}", "\u{3000}x", "a\u{1c}b"] {
            assert!(interface_name(name).is_ok(), "{name:?}");
        }
        assert!(interface_name("net#1").is_ok());
        assert!(interface_name("...").is_ok());
    }

    #[test]
    fn a_nul_is_refused_wherever_it_is() {
        for name in ["\0", "eth\0", "\0eth0", "a\0b"] {
            let e = interface_name(name).unwrap_err();
            assert_eq!(
                (e.code, e.msg.as_str()),
                (
                    ErrorCode::InvalidEnvironment,
                    "interface name contains a NUL byte"
                )
            );
            assert!(!is_valid_interface_name(name));
        }
        assert_eq!(interface_name("ab\0").unwrap_err().details, "at offset 2");
    }

    #[test]
    fn length_counts_bytes() {
        assert!(is_valid_interface_name("ééééééé")); // 14 bytes
        assert!(!is_valid_interface_name("éééééééé")); // 16 bytes, 8 characters
        assert_eq!("0123456789abcde".len(), MAX_IFNAME_LEN);
    }
}
