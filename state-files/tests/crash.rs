//! Crash drills: whatever step an atomic write stops at, a reader sees the old contents or the
//! new ones in full, and the next write succeeds.

use proptest::prelude::*;
use state_files::fault::{CrashPoint, arm_crash};
use state_files::{Error, Journal, read, write_atomic};

fn crash_point() -> impl Strategy<Value = Option<CrashPoint>> {
    prop_oneof![
        Just(None),
        Just(Some(CrashPoint::BeforeTempWrite)),
        Just(Some(CrashPoint::MidTempWrite)),
        Just(Some(CrashPoint::BeforeRename)),
        Just(Some(CrashPoint::AfterRename)),
    ]
}

proptest! {
    #[test]
    fn a_crash_leaves_old_or_new_never_a_mix(
        writes in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..200), crash_point()), 1..12)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut expected: Option<Vec<u8>> = None;
        for (bytes, crash) in writes {
            if let Some(point) = crash {
                arm_crash(&path, point);
            }
            let outcome = write_atomic(&path, &bytes);
            match crash {
                None => {
                    prop_assert!(outcome.is_ok());
                    expected = Some(bytes);
                }
                Some(point) => {
                    let injected = matches!(outcome, Err(Error::InjectedCrash { point: p, .. }) if p == point);
                    prop_assert!(injected);
                    if point == CrashPoint::AfterRename {
                        expected = Some(bytes);
                    }
                }
            }
            prop_assert_eq!(read(&path).unwrap(), expected.clone());
        }
    }
}

#[test]
fn a_compaction_that_crashes_before_its_rename_keeps_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leases");
    let (mut journal, _) = Journal::open(&path).unwrap();
    journal.append(b"a\nb\n").unwrap();
    journal.sync().unwrap();
    arm_crash(&path, CrashPoint::BeforeRename);
    assert!(matches!(
        journal.replace(b"b\n"),
        Err(Error::InjectedCrash { .. })
    ));
    drop(journal);
    let (_journal, text) = Journal::open(&path).unwrap();
    assert_eq!(text, b"a\nb\n");
}
