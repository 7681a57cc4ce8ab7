//! Private directories: created `0700` whatever the umask, and existing ones checked.

use std::fs::{DirBuilder, Permissions};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use crate::error::{EntryKind, Error, FileOp, Result, io_err};
use crate::trust;

/// The mode of every directory this crate creates.
pub const DIR_MODE: u32 = 0o700;

/// Makes `dir` (and any missing parents) exist as a private directory of this process.
///
/// Directories it creates get mode `0700` explicitly, whatever the umask. An existing `dir` is
/// left as it is but must be trusted: a real directory (not a link) owned by this process's
/// uid that group and others cannot write (so `/tmp` itself is refused: a file there could be
/// swapped by anyone). Existing parents are not checked (`/var/lib` belongs to the system).
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
/// let tmp = tempfile::tempdir().unwrap();
/// let dir = tmp.path().join("var/lib/cni/sriov");
/// state_files::create_private_dir(&dir).unwrap();
/// let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
/// assert_eq!(mode, 0o700);
/// ```
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty())
        && std::fs::symlink_metadata(parent).is_err()
    {
        create_private_dir(parent)?;
    }
    match DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => set_mode(dir, DIR_MODE),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            trust::check_path(dir, EntryKind::Directory).map(drop)
        }
        Err(source) => Err(Error::Io {
            op: FileOp::CreateDir,
            path: dir.to_path_buf(),
            source,
        }),
    }
}

pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<()> {
    std::fs::set_permissions(path, Permissions::from_mode(mode))
        .map_err(io_err(FileOp::SetMode, path))
}
