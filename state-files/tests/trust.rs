//! What is refused: links, other users' files, files others can write, and what is left alone
//! when refusing.

use std::os::unix::fs::PermissionsExt;

use state_files::{EntryKind, Error, FileLock, Journal, read, write_atomic};

#[test]
fn symbolic_links_are_refused_for_every_kind_of_access() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("target");
    std::fs::write(&target, b"secret").unwrap();
    let link = tmp.path().join("state.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    assert!(matches!(read(&link), Err(Error::Symlink { path }) if path == link));
    assert!(matches!(
        write_atomic(&link, b"x"),
        Err(Error::Symlink { .. })
    ));
    assert!(matches!(Journal::open(&link), Err(Error::Symlink { .. })));
    assert!(matches!(
        FileLock::exclusive(&link),
        Err(Error::Symlink { .. })
    ));
    assert_eq!(
        std::fs::read(&target).unwrap(),
        b"secret",
        "the target is untouched"
    );

    // a directory reached through a link is refused too
    let real_dir = tmp.path().join("real");
    std::fs::create_dir(&real_dir).unwrap();
    let dir_link = tmp.path().join("dir");
    std::os::unix::fs::symlink(&real_dir, &dir_link).unwrap();
    let err = write_atomic(&dir_link.join("f"), b"x").unwrap_err();
    assert!(matches!(err, Error::Symlink { path } if path == dir_link));
    assert!(std::fs::read_dir(&real_dir).unwrap().next().is_none());
}

#[test]
fn files_others_can_write_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("lease.json");
    std::fs::write(&path, b"{}").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let err = read(&path).unwrap_err();
    assert!(
        matches!(err, Error::WritableByOthers { mode: 0o666, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("mode 0666"), "{err}");

    // so is a directory others can write: a file there could be swapped at any time
    let open_dir = tmp.path().join("open");
    std::fs::create_dir(&open_dir).unwrap();
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let err = write_atomic(&open_dir.join("f"), b"x").unwrap_err();
    assert!(matches!(err, Error::WritableByOthers { .. }), "{err}");
}

#[test]
fn a_directory_where_a_file_should_be_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("ledger.json");
    std::fs::create_dir(&path).unwrap();
    let err = write_atomic(&path, b"{}").unwrap_err();
    assert!(
        matches!(
            err,
            Error::WrongKind {
                expected: EntryKind::File,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_missing_directory_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("absent");
    let err = write_atomic(&dir.join("f"), b"x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    assert!(err.to_string().contains("absent"), "{err}");
}

#[test]
fn a_socket_path_holding_a_regular_file_is_refused_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("daemon.sock");
    std::fs::write(&path, b"not a socket").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = state_files::bind_private_socket(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::WrongKind {
                expected: EntryKind::Socket,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"not a socket");
}

#[test]
fn another_users_file_is_refused() {
    if !testbed::require!(testbed::Need::Root) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("lease.json");
    write_atomic(&path, b"{}").unwrap();
    std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
    let err = read(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForeignOwner {
                owner: 65534,
                expected: 0,
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        write_atomic(&path, b"x"),
        Err(Error::ForeignOwner { .. })
    ));
    // and a directory of another user
    let dir = tmp.path().join("theirs");
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::chown(&dir, Some(65534), None).unwrap();
    assert!(matches!(
        state_files::create_private_dir(&dir),
        Err(Error::ForeignOwner { .. })
    ));
}
