//! Whole-file state: read without following links, replace atomically (temporary file, fsync,
//! rename, fsync of the directory), remove.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{EntryKind, Error, FileOp, Result, io_err};
use crate::trust;

/// The mode of every file this crate creates.
pub const FILE_MODE: u32 = 0o600;

/// Opens an existing state file for reading, refusing links, foreign owners and files others
/// can write. `Ok(None)` when there is none.
pub(crate) fn open_existing(path: &Path, options: &mut OpenOptions) -> Result<Option<File>> {
    match options
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(file) => {
            trust::check_open_file(path, &file)?;
            Ok(Some(file))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(Error::Symlink {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(Error::Io {
            op: FileOp::Open,
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Reads a whole state file; `Ok(None)` when it does not exist.
///
/// The file must be trusted: not a symbolic link, a regular file owned by this process's uid,
/// not writable by group or others.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("state.json");
/// assert_eq!(state_files::read(&path).unwrap(), None);
/// state_files::write_atomic(&path, b"{}").unwrap();
/// assert_eq!(state_files::read(&path).unwrap().unwrap(), b"{}");
/// // a link in its place is refused, not followed
/// std::fs::remove_file(&path).unwrap();
/// std::os::unix::fs::symlink("/etc/passwd", &path).unwrap();
/// assert!(matches!(state_files::read(&path), Err(state_files::Error::Symlink { .. })));
/// ```
pub fn read(path: &Path) -> Result<Option<Vec<u8>>> {
    let Some(mut file) = open_existing(path, OpenOptions::new().read(true))? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(io_err(FileOp::Read, path))?;
    Ok(Some(bytes))
}

/// Replaces the file at `path` with `bytes` so that a crash at any instant leaves either the
/// old contents or the new, never a mix: the bytes go to `<path>.tmp` (created `0600`, whatever
/// the umask), which is synced, renamed over `path`, and the directory synced.
///
/// The directory must exist and be trusted (owned by this process's uid, not writable by
/// others: see [`create_private_dir`](crate::create_private_dir)); an existing `path` must be a
/// trusted regular file. Writers of one path must be serialised by the caller (a
/// [`FileLock`](crate::FileLock)), as the temporary file's name is fixed.
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("ledger.json");
/// state_files::write_atomic(&path, b"v1").unwrap();
/// state_files::write_atomic(&path, b"v2").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"v2");
/// assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let (_file, dir_synced) = replace(path, bytes)?;
    dir_synced
}

/// The steps of [`write_atomic`]; returns the new file (open for writing, positioned at its
/// end, so a journal can keep appending to what is now `path`) and the outcome of the final
/// directory sync separately, for callers that can retry it later.
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> Result<(File, Result<()>)> {
    trust::check_parent(path)?;
    trust::check_path(path, EntryKind::File)?;
    let tmp = temp_path(path);
    remove(&tmp)?;
    #[cfg(feature = "fault-injection")]
    if let Some(crash) = crate::fault::take(path, crate::fault::CrashPoint::BeforeTempWrite) {
        return Err(crash);
    }
    let mut file = create_new(&tmp)?;
    #[cfg(feature = "fault-injection")]
    if let Some(crash) = crate::fault::take(path, crate::fault::CrashPoint::MidTempWrite) {
        let _ = file.write_all(&bytes[..bytes.len() / 2]);
        return Err(crash);
    }
    file.write_all(bytes).map_err(io_err(FileOp::Write, &tmp))?;
    file.sync_all().map_err(io_err(FileOp::Sync, &tmp))?;
    #[cfg(feature = "fault-injection")]
    if let Some(crash) = crate::fault::take(path, crate::fault::CrashPoint::BeforeRename) {
        return Err(crash);
    }
    std::fs::rename(&tmp, path).map_err(io_err(FileOp::Rename, path))?;
    let dir_synced = sync_dir_of(path);
    #[cfg(feature = "fault-injection")]
    if let Some(crash) = crate::fault::take(path, crate::fault::CrashPoint::AfterRename) {
        return Err(crash);
    }
    Ok((file, dir_synced))
}

/// Creates a new file `0600` (failing if anything, a link included, is at `path`).
pub(crate) fn create_new(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(io_err(FileOp::CreateTemp, path))?;
    set_file_mode(path, &file)?;
    Ok(file)
}

/// Sets `0600` on an open file (the umask may have taken bits away at creation).
pub(crate) fn set_file_mode(path: &Path, file: &File) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))
        .map_err(io_err(FileOp::SetMode, path))
}

/// `<path>.tmp`.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Syncs the directory holding `path`, making a rename in it durable.
pub(crate) fn sync_dir_of(path: &Path) -> Result<()> {
    let dir = trust::parent_of(path);
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(FileOp::SyncDir, dir))
}

/// Removes a file (a link is removed itself, never followed); a missing one is not an error.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("gone");
/// state_files::remove(&path).unwrap();
/// state_files::write_atomic(&path, b"x").unwrap();
/// state_files::remove(&path).unwrap();
/// assert!(!path.exists());
/// ```
pub fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            op: FileOp::Remove,
            path: path.to_path_buf(),
            source,
        }),
    }
}
