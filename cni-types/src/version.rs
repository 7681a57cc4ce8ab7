//! CNI specification versions: parsing, comparison, the result-layout family of a version, and
//! the `VERSION` command's output.
//!
//! Versions are compared numerically (`0.10.0 > 0.4.0`). A missing or empty version means
//! `0.1.0`, as the specification says for configurations without `cniVersion`.
//!
//! ```
//! use cni_types::version::{Version, VersionInfo};
//!
//! let v: Version = "1.0".parse()?;
//! assert_eq!(v.to_string(), "1.0.0");
//! assert!(Version::parse("0.4.0")? > Version::parse("0.3.1")?);
//!
//! let info = VersionInfo::parse(br#"{"cniVersion":"0.2.0"}"#)?;
//! assert_eq!(info.supported_versions, ["0.1.0", "0.2.0"]);
//! # Ok::<(), cni_types::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The newest specification version this crate implements.
pub const CURRENT: &str = "1.1.0";

/// Every released specification version, oldest first.
pub const ALL: &[&str] = &[
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
];

/// A `major.minor.patch` specification version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major part.
    pub major: u32,
    /// Minor part.
    pub minor: u32,
    /// Patch part.
    pub patch: u32,
}

impl Version {
    /// Builds a version from its parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Parses `"1.2.3"`, `"1.2"` (`1.2.0`), `"1"` (`1.0.0`) or `""` (`0.1.0`). More than three
    /// parts, or a part that is not a decimal number, is an error.
    pub fn parse(input: &str) -> Result<Self, Error> {
        if input.is_empty() {
            return Ok(Version::new(0, 1, 0));
        }
        let parts: Vec<&str> = input.split('.').collect();
        if parts.len() > 3 {
            return Err(Error::ParseVersion {
                input: input.to_string(),
                reason: "too many parts".to_string(),
            });
        }
        let names = ["major", "minor", "micro"];
        let mut nums = [0u32; 3];
        for (i, part) in parts.iter().enumerate() {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::ParseVersion {
                    input: input.to_string(),
                    reason: format!(
                        "failed to convert {} version part {:?}: invalid syntax",
                        names[i], part
                    ),
                });
            }
            nums[i] = part.parse().map_err(|_| Error::ParseVersion {
                input: input.to_string(),
                reason: format!(
                    "failed to convert {} version part {:?}: value out of range",
                    names[i], part
                ),
            })?;
        }
        Ok(Version::new(nums[0], nums[1], nums[2]))
    }

    /// The result layout this version uses, or `None` for a version no release defined.
    pub fn family(&self) -> Option<Family> {
        Family::of(&self.to_string())
    }
}

impl FromStr for Version {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Version::parse(s)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// True when `a >= b`; errors when either does not parse.
pub fn greater_than_or_equal(a: &str, b: &str) -> Result<bool, Error> {
    Ok(Version::parse(a)? >= Version::parse(b)?)
}

/// True when `a > b`; errors when either does not parse.
pub fn greater_than(a: &str, b: &str) -> Result<bool, Error> {
    Ok(Version::parse(a)? > Version::parse(b)?)
}

/// The released versions from `from` (inclusive) on, oldest first.
///
/// ```
/// assert_eq!(cni_types::version::starting_from("0.3.1"), ["0.3.1", "0.4.0", "1.0.0", "1.1.0"]);
/// ```
pub fn starting_from(from: &str) -> Vec<&'static str> {
    let Ok(from) = Version::parse(from) else {
        return Vec::new();
    };
    ALL.iter()
        .copied()
        .filter(|v| Version::parse(v).is_ok_and(|v| v >= from))
        .collect()
}

/// The three result layouts of the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// 0.1.0 and 0.2.0: `ip4` / `ip6` objects.
    V020,
    /// 0.3.0, 0.3.1 and 0.4.0: `interfaces`, `ips` with `version`, `routes`, `dns`.
    V040,
    /// 1.0.0 and 1.1.0: as 0.4.0 without `ips[].version`, with the 1.1.0 interface and route
    /// fields.
    V100,
}

impl Family {
    /// The family of an exact version string (`""` counts as `0.1.0`).
    pub fn of(version: &str) -> Option<Family> {
        match version {
            "" | "0.1.0" | "0.2.0" => Some(Family::V020),
            "0.3.0" | "0.3.1" | "0.4.0" => Some(Family::V040),
            "1.0.0" | "1.1.0" => Some(Family::V100),
            _ => None,
        }
    }

    /// The versions that use this layout.
    pub fn versions(self) -> &'static [&'static str] {
        match self {
            Family::V020 => &["0.1.0", "0.2.0"],
            Family::V040 => &["0.3.0", "0.3.1", "0.4.0"],
            Family::V100 => &["1.0.0", "1.1.0"],
        }
    }
}

/// The output of the `VERSION` command: `{"cniVersion": ..., "supportedVersions": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// The specification version of this output (the library's [`CURRENT`]).
    #[serde(rename = "cniVersion", default)]
    pub cni_version: String,
    /// The versions the plugin accepts.
    #[serde(rename = "supportedVersions", default)]
    pub supported_versions: Vec<String>,
}

impl VersionInfo {
    /// The `VERSION` output of a plugin supporting `supported`.
    pub fn new<S: AsRef<str>>(supported: &[S]) -> Self {
        VersionInfo {
            cni_version: CURRENT.to_string(),
            supported_versions: supported.iter().map(|s| s.as_ref().to_string()).collect(),
        }
    }

    /// Decodes a plugin's `VERSION` output. `cniVersion` is required; an empty
    /// `supportedVersions` is accepted only from a `0.2.0` plugin (which means 0.1.0 and 0.2.0).
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        let mut info: VersionInfo =
            serde_json::from_slice(json).map_err(|e| Error::VersionInfo(e.to_string()))?;
        if info.cni_version.is_empty() {
            return Err(Error::VersionInfo("missing field cniVersion".into()));
        }
        if info.supported_versions.is_empty() {
            if info.cni_version == "0.2.0" {
                info.supported_versions = vec!["0.1.0".into(), "0.2.0".into()];
            } else {
                return Err(Error::VersionInfo("missing field supportedVersions".into()));
            }
        }
        Ok(info)
    }

    /// Encodes as JSON bytes, what a plugin writes on stdout.
    pub fn emit(&self) -> Vec<u8> {
        self.emit_string().into_bytes()
    }

    /// Encodes as a JSON string, the same text as [`VersionInfo::emit`].
    pub fn emit_string(&self) -> String {
        crate::to_json_string(self)
    }

    /// True when `version` is one of the supported versions (exact string match, as the
    /// reference library reconciles).
    pub fn supports(&self, version: &str) -> bool {
        self.supported_versions.iter().any(|v| v == version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        assert_eq!(Version::parse("1.2.3").unwrap(), Version::new(1, 2, 3));
        assert_eq!(Version::parse("").unwrap(), Version::new(0, 1, 0));
        assert_eq!(Version::parse("1").unwrap(), Version::new(1, 0, 0));
        assert!(Version::parse("0.").is_err());
        assert!(Version::parse("1.0.f").is_err());
        assert!(Version::parse("+1.0.0").is_err());
        assert!(Version::parse("99999999999.0.0").is_err());
    }

    #[test]
    fn families() {
        assert_eq!(Family::of(""), Some(Family::V020));
        assert_eq!(Family::of("0.3.0"), Some(Family::V040));
        assert_eq!(Family::of("1.1.0"), Some(Family::V100));
        assert_eq!(Family::of("1.2.0"), None);
    }
}
