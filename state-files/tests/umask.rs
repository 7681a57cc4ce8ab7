//! Modes are explicit whatever the umask: this binary runs one test, under umask 000 (the
//! umask is per process, so no other test may share it).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

#[test]
fn everything_is_private_under_umask_000() {
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("var/lib/rdma-dhcp");
    state_files::create_private_dir(&state).unwrap();
    assert_eq!(mode(&state), 0o700);
    assert_eq!(
        mode(&tmp.path().join("var/lib")),
        0o700,
        "created parents too"
    );

    let file = state.join("lease.json");
    state_files::write_atomic(&file, b"{}").unwrap();
    assert_eq!(mode(&file), 0o600);

    let (_journal, _) = state_files::Journal::open(&state.join("leases.jsonl")).unwrap();
    assert_eq!(mode(&state.join("leases.jsonl")), 0o600);

    let _lock = state_files::FileLock::exclusive(&state.join("lock")).unwrap();
    assert_eq!(mode(&state.join("lock")), 0o600);

    let _listener = state_files::bind_private_socket(&state.join("daemon.sock")).unwrap();
    assert_eq!(mode(&state.join("daemon.sock")), 0o600);

    // an existing directory others can write is refused, and left as it is
    let loose = tmp.path().join("loose");
    std::fs::create_dir(&loose).unwrap();
    assert_eq!(mode(&loose), 0o777, "created under umask 000");
    let err = state_files::create_private_dir(&loose).unwrap_err();
    assert!(
        matches!(
            err,
            state_files::Error::WritableByOthers { mode: 0o777, .. }
        ),
        "{err}"
    );
    assert_eq!(mode(&loose), 0o777);
}
