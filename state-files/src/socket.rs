//! Unix sockets that only this process's user can connect to: mode `0600` from the moment the
//! socket file exists, whatever the umask.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;

use nix::sys::socket::{AddressFamily, Backlog, SockFlag, SockType, UnixAddr};
use nix::sys::stat::{Mode, fchmod};

use crate::atomic::FILE_MODE;
use crate::dir::set_mode;
use crate::error::{EntryKind, Error, FileOp, Result};
use crate::trust;

/// Binds a listening unix stream socket at `path` with mode `0600`.
///
/// The mode is set on the socket before `bind` creates the file (Linux takes the new file's
/// mode from the socket's inode), so there is no instant at which another user could connect;
/// it is set again on the path afterwards in case the umask took bits away. A stale socket file
/// of this process's uid at `path` (a previous run that died) is removed first; anything else
/// there (a regular file, a link, another user's socket) is an error, never deleted. The
/// directory must be trusted (see [`create_private_dir`](crate::create_private_dir)).
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("daemon.sock");
/// let listener = state_files::bind_private_socket(&path).unwrap();
/// assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
/// drop(listener);
/// // a restarted daemon finds its old socket file and replaces it
/// let _again = state_files::bind_private_socket(&path).unwrap();
/// ```
pub fn bind_private_socket(path: &Path) -> Result<UnixListener> {
    trust::check_parent(path)?;
    remove_stale_socket(path)?;
    let bind_err = |source: nix::errno::Errno| Error::Io {
        op: FileOp::BindSocket,
        path: path.to_path_buf(),
        source: source.into(),
    };
    let fd: OwnedFd = nix::sys::socket::socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(bind_err)?;
    fchmod(&fd, Mode::from_bits_truncate(FILE_MODE)).map_err(bind_err)?;
    let addr = UnixAddr::new(path).map_err(bind_err)?;
    nix::sys::socket::bind(fd.as_raw_fd(), &addr).map_err(bind_err)?;
    nix::sys::socket::listen(&fd, Backlog::MAXCONN).map_err(bind_err)?;
    set_mode(path, FILE_MODE)?;
    Ok(UnixListener::from(fd))
}

/// Removes a socket file of this process's uid left at `path` by an earlier run (whatever its
/// mode: it is about to be replaced); anything else there is an error, left in place.
fn remove_stale_socket(path: &Path) -> Result<()> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(Error::Io {
                op: FileOp::Inspect,
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if meta.file_type().is_symlink() {
        return Err(Error::Symlink {
            path: path.to_path_buf(),
        });
    }
    if !meta.file_type().is_socket() {
        return Err(Error::WrongKind {
            path: path.to_path_buf(),
            expected: EntryKind::Socket,
        });
    }
    let own = trust::own_uid();
    if meta.uid() != own {
        return Err(Error::ForeignOwner {
            path: path.to_path_buf(),
            owner: meta.uid(),
            expected: own,
        });
    }
    crate::remove(path)
}
