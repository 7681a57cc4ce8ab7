//! Typed reads of sysfs attributes. Each parser takes the text exactly as read, accepts what the
//! kernel prints (one trailing newline), and turns anything else into a typed error naming the
//! path; none of them panics on any input.

use std::io;
use std::path::{Path, PathBuf};

use crate::PciAddress;
use crate::error::{AttrErrorKind, Error, Result};
use crate::sysfs::Sysfs;

/// The attribute's value without the kernel's trailing newline.
fn trimmed(text: &str) -> &str {
    text.trim_end_matches('\n').trim()
}

fn parse_err(path: &Path, text: &str, kind: AttrErrorKind) -> Error {
    Error::ParseAttr {
        path: path.to_path_buf(),
        value: trimmed(text).to_string(),
        kind,
    }
}

/// Parses an unsigned decimal attribute (`%u`): `sriov_totalvfs`, `sriov_numvfs`, `mtu`...
///
/// ```
/// use sriov_core::attr::parse_u32;
/// assert_eq!(parse_u32("x".as_ref(), "8\n").unwrap(), 8);
/// assert!(parse_u32("x".as_ref(), "").is_err());
/// assert!(parse_u32("x".as_ref(), "99999999999").is_err());
/// ```
pub fn parse_u32(path: &Path, text: &str) -> Result<u32> {
    let value = trimmed(text);
    if value.is_empty() {
        return Err(parse_err(path, text, AttrErrorKind::Empty));
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(parse_err(path, text, AttrErrorKind::NotANumber));
    }
    value
        .parse::<u32>()
        .map_err(|_| parse_err(path, text, AttrErrorKind::Overflow))
}

/// Parses a `0x`-prefixed hex attribute (`vendor`, `device`: `0x15b3`) into a `u16`.
pub fn parse_hex_u16(path: &Path, text: &str) -> Result<u16> {
    let value = parse_hex_prefixed(path, text)?;
    u16::try_from(value).map_err(|_| parse_err(path, text, AttrErrorKind::Overflow))
}

/// Parses a `0x`-prefixed hex attribute (`class`: `0x020000`) into a `u32`.
pub fn parse_hex_prefixed(path: &Path, text: &str) -> Result<u32> {
    let value = trimmed(text);
    if value.is_empty() {
        return Err(parse_err(path, text, AttrErrorKind::Empty));
    }
    let digits = value
        .strip_prefix("0x")
        .ok_or_else(|| parse_err(path, text, AttrErrorKind::MissingHexPrefix))?;
    parse_hex_digits(path, text, digits)
}

/// Parses a hex attribute printed without a prefix (`sriov_vf_device`: `1018`).
pub fn parse_hex_bare_u16(path: &Path, text: &str) -> Result<u16> {
    let value = trimmed(text);
    if value.is_empty() {
        return Err(parse_err(path, text, AttrErrorKind::Empty));
    }
    let v = parse_hex_digits(path, text, value)?;
    u16::try_from(v).map_err(|_| parse_err(path, text, AttrErrorKind::Overflow))
}

fn parse_hex_digits(path: &Path, text: &str, digits: &str) -> Result<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(parse_err(path, text, AttrErrorKind::NotANumber));
    }
    u32::from_str_radix(digits, 16).map_err(|_| parse_err(path, text, AttrErrorKind::Overflow))
}

/// Parses `numa_node`: a node number, or `-1` when the platform does not say (`None`).
pub fn parse_numa_node(path: &Path, text: &str) -> Result<Option<u32>> {
    let value = trimmed(text);
    if value == "-1" {
        return Ok(None);
    }
    parse_u32(path, text).map(Some)
}

/// Parses a boolean attribute the kernel prints as `0`/`1` (`sriov_drivers_autoprobe`).
pub fn parse_bool01(path: &Path, text: &str) -> Result<bool> {
    match trimmed(text) {
        "1" => Ok(true),
        "0" => Ok(false),
        "" => Err(parse_err(path, text, AttrErrorKind::Empty)),
        _ => Err(parse_err(path, text, AttrErrorKind::Unexpected)),
    }
}

/// Reads an attribute, naming the path in the error.
pub fn read(fs: &dyn Sysfs, path: &Path) -> Result<String> {
    fs.read(path).map_err(|source| Error::ReadAttr {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads an attribute that may be absent: `Ok(None)` on ENOENT.
pub fn read_optional(fs: &dyn Sysfs, path: &Path) -> Result<Option<String>> {
    match fs.read(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::ReadAttr {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Reads and parses an attribute.
pub fn read_with<T>(fs: &dyn Sysfs, path: &Path, parse: fn(&Path, &str) -> Result<T>) -> Result<T> {
    let text = read(fs, path)?;
    parse(path, &text)
}

/// Reads and parses an attribute that may be absent.
pub fn read_optional_with<T>(
    fs: &dyn Sysfs,
    path: &Path,
    parse: fn(&Path, &str) -> Result<T>,
) -> Result<Option<T>> {
    read_optional(fs, path)?
        .map(|text| parse(path, &text))
        .transpose()
}

/// The last component of a link's target (a driver name, a PCI address); `Ok(None)` when the
/// link does not exist.
pub fn link_basename(fs: &dyn Sysfs, path: &Path) -> Result<Option<String>> {
    match fs.read_link(path) {
        Ok(target) => Ok(target.file_name().map(|n| n.to_string_lossy().into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::ReadLink {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The PCI address a link points at (`virtfnN`, `physfn`, `device`); `Ok(None)` when absent.
pub fn link_pci(fs: &dyn Sysfs, path: &Path) -> Result<Option<PciAddress>> {
    let target = match fs.read_link(path) {
        Ok(target) => target,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::ReadLink {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let bad = || Error::BadLinkTarget {
        path: path.to_path_buf(),
        target: target.clone(),
    };
    let name = target.file_name().ok_or_else(bad)?.to_string_lossy();
    name.parse().map(Some).map_err(|_| bad())
}

/// Lists a directory; `Ok(None)` when it does not exist.
pub fn list_optional(fs: &dyn Sysfs, path: &Path) -> Result<Option<Vec<String>>> {
    match fs.read_dir(path) {
        Ok(names) => Ok(Some(names)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::ReadDir {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// `dir/name` as a path.
pub fn join(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p() -> &'static Path {
        Path::new("/sys/x")
    }

    #[test]
    fn kernel_formats_parse() {
        assert_eq!(parse_hex_u16(p(), "0x15b3\n").unwrap(), 0x15b3);
        assert_eq!(parse_hex_prefixed(p(), "0x020000\n").unwrap(), 0x020000);
        assert_eq!(parse_hex_bare_u16(p(), "1018\n").unwrap(), 0x1018);
        assert_eq!(parse_numa_node(p(), "-1\n").unwrap(), None);
        assert_eq!(parse_numa_node(p(), "1\n").unwrap(), Some(1));
        assert!(parse_bool01(p(), "1\n").unwrap());
    }

    #[test]
    fn bad_values_are_typed_errors_naming_the_path() {
        let cases: [(&str, AttrErrorKind); 6] = [
            ("", AttrErrorKind::Empty),
            ("\n", AttrErrorKind::Empty),
            ("eight\n", AttrErrorKind::NotANumber),
            ("-3\n", AttrErrorKind::NotANumber),
            ("4294967296\n", AttrErrorKind::Overflow),
            ("1 2\n", AttrErrorKind::NotANumber),
        ];
        for (text, want) in cases {
            match parse_u32(p(), text) {
                Err(Error::ParseAttr { path, kind, .. }) => {
                    assert_eq!(kind, want, "{text:?}");
                    assert_eq!(path, p());
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_hex_u16(p(), "15b3\n"),
            Err(Error::ParseAttr {
                kind: AttrErrorKind::MissingHexPrefix,
                ..
            })
        ));
        assert!(matches!(
            parse_hex_u16(p(), "0x1015b3\n"),
            Err(Error::ParseAttr {
                kind: AttrErrorKind::Overflow,
                ..
            })
        ));
        assert!(matches!(
            parse_hex_u16(p(), "0x\n"),
            Err(Error::ParseAttr {
                kind: AttrErrorKind::NotANumber,
                ..
            })
        ));
        assert!(matches!(
            parse_numa_node(p(), "-2\n"),
            Err(Error::ParseAttr { .. })
        ));
        assert!(matches!(
            parse_bool01(p(), "yes\n"),
            Err(Error::ParseAttr {
                kind: AttrErrorKind::Unexpected,
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn parsers_never_panic(text in "\\PC{0,24}") {
            let _ = parse_u32(p(), &text);
            let _ = parse_hex_u16(p(), &text);
            let _ = parse_hex_prefixed(p(), &text);
            let _ = parse_hex_bare_u16(p(), &text);
            let _ = parse_numa_node(p(), &text);
            let _ = parse_bool01(p(), &text);
        }

        #[test]
        fn decimal_round_trip(n: u32) {
            prop_assert_eq!(parse_u32(p(), &format!("{n}\n")).unwrap(), n);
        }

        #[test]
        fn hex_round_trip(n: u16) {
            prop_assert_eq!(parse_hex_u16(p(), &format!("0x{n:04x}\n")).unwrap(), n);
            prop_assert_eq!(parse_hex_bare_u16(p(), &format!("{n:x}\n")).unwrap(), n);
        }
    }
}
