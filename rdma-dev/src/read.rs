//! Reading sysfs through a [`Sysfs`] with errors that name the path: optional attributes
//! (ENOENT is "absent"), attributes the kernel may refuse to read (EINVAL for unused GID
//! entries), typed values.

use std::path::Path;
use std::str::FromStr;

use sriov_core::{PciAddress, Sysfs, attr};

use crate::attrs::{ParseError, attr_value};
use crate::error::{Error, Result};

/// Reads an attribute that may be absent: `Ok(None)` on ENOENT.
pub(crate) fn text_opt(fs: &dyn Sysfs, path: &Path) -> Result<Option<String>> {
    Ok(attr::read_optional(fs, path)?.map(|text| attr_value(&text).to_string()))
}

/// Reads an attribute whose read may fail by design (unused `gid_attrs` entries: EINVAL;
/// `phys_port_name` without support: EOPNOTSUPP): any failure is "no value".
pub(crate) fn text_lenient(fs: &dyn Sysfs, path: &Path) -> Option<String> {
    fs.read(path).ok().map(|t| attr_value(&t).to_string())
}

/// Reads and parses an attribute that may be absent.
pub(crate) fn parse_opt<T: FromStr<Err = ParseError>>(
    fs: &dyn Sysfs,
    path: &Path,
) -> Result<Option<T>> {
    text_opt(fs, path)?
        .map(|t| {
            t.parse().map_err(|source| Error::ParseAttr {
                path: path.to_path_buf(),
                source,
            })
        })
        .transpose()
}

/// Lists a directory that may be absent.
pub(crate) fn list_opt(fs: &dyn Sysfs, path: &Path) -> Result<Option<Vec<String>>> {
    Ok(attr::list_optional(fs, path)?)
}

/// The last component of a link's target; `Ok(None)` when the link is absent, or when a
/// plain directory or file stands where a link was expected (partial captures: EINVAL).
pub(crate) fn link_name(fs: &dyn Sysfs, path: &Path) -> Result<Option<String>> {
    match attr::link_basename(fs, path) {
        Err(sriov_core::Error::ReadLink { source, .. })
            if source.raw_os_error() == Some(libc::EINVAL) =>
        {
            Ok(None)
        }
        other => Ok(other?),
    }
}

/// The PCI function a `device` link points at; `Ok(None)` when absent or not a PCI function.
pub(crate) fn link_pci(fs: &dyn Sysfs, path: &Path) -> Result<Option<PciAddress>> {
    Ok(link_name(fs, path)?.and_then(|n| n.parse().ok()))
}

/// Sorts names by their trailing number, then by text (`mlx5_2` before `mlx5_10`).
pub(crate) fn natural_sort(names: &mut [String]) {
    names.sort_by(|a, b| natural_key(a).cmp(&natural_key(b)));
}

fn natural_key(s: &str) -> (&str, u64, &str) {
    let digits = s.len() - s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (stem, num) = s.split_at(s.len() - digits);
    (stem, num.parse().unwrap_or(0), s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v: Vec<String> = ["mlx5_10", "mlx5_2", "mlx4_0", "mlx5_1", "rocep59s0f0"]
            .map(String::from)
            .to_vec();
        natural_sort(&mut v);
        assert_eq!(v, ["mlx4_0", "mlx5_1", "mlx5_2", "mlx5_10", "rocep59s0f0"]);
    }
}
