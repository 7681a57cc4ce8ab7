//! The real sysfs fixtures in `testbed/fixtures/sysfs` (provenance in the README there).
//!
//! The captures store each symlink as a small file holding the link target (ttar cannot keep
//! links). [`materialize`] copies a fixture into a temporary directory and turns those files
//! back into relative symlinks, so a reader sees the tree the way the kernel presented it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The directory holding the fixtures.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sysfs")
}

/// Copies fixture `name` (for example `procfs-ice-e810-and-ib`) to a new temporary directory,
/// restoring symlinks. The returned directory holds `sys/`.
pub fn materialize(name: &str) -> io::Result<tempfile::TempDir> {
    let src = fixtures_dir().join(name);
    if !src.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no fixture {}", src.display()),
        ));
    }
    let dst = crate::scratch_dir()?;
    copy_tree(&src, dst.path())?;
    Ok(dst)
}

/// True when a captured file stands for a symlink: its whole content is one relative path
/// starting with `../`, without a trailing newline (attribute files end in a newline).
fn link_target(content: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(content).ok()?;
    (text.starts_with("../") && !text.contains('\n') && !text.contains('\0'))
        .then(|| text.to_string())
}

fn copy_tree(src: &Path, dst: &Path) -> io::Result<()> {
    fs::create_dir_all(dst)?;
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&from, &to)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&from)?, &to)?;
        } else {
            let content = fs::read(&from)?;
            match link_target(&content) {
                Some(target) => std::os::unix::fs::symlink(target, &to)?,
                None => {
                    fs::write(&to, &content)?;
                    let mut perms = fs::metadata(&to)?.permissions();
                    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
                    fs::set_permissions(&to, perms)?;
                }
            }
        }
    }
    let mut perms = fs::metadata(dst)?.permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs::set_permissions(dst, perms)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restores_driver_link_of_e810() {
        let dir = materialize("procfs-ice-e810-and-ib").unwrap();
        let driver = dir
            .path()
            .join("sys/devices/pci0000:a2/0000:a2:00.0/driver");
        let target = fs::read_link(&driver).unwrap();
        assert!(target.ends_with("bus/pci/drivers/ice"), "{target:?}");
        // attribute files stay files
        let total = dir
            .path()
            .join("sys/devices/pci0000:a2/0000:a2:00.0/sriov_totalvfs");
        assert_eq!(fs::read_to_string(total).unwrap().trim(), "128");
    }

    #[test]
    fn unknown_fixture_is_an_error() {
        assert!(materialize("no-such").is_err());
    }
}
