//! Crash-safe, private state files for node daemons and CNI plugins.
//!
//! What a node keeps across crashes and restarts (the VF allocation ledger, DHCP lease records,
//! a server's lease journal, plugin caches) needs the same few things, and this crate is their
//! one home:
//! - [`write_atomic`]: replace a file so that a crash at any instant leaves the old contents or
//!   the new, never a torn mix (temporary file, fsync, rename, fsync of the directory);
//! - [`Journal`]: append records in batches, `fdatasync` them, compact atomically;
//! - [`FileLock`]: an exclusive `flock`, released by the kernel if the holder dies;
//! - [`create_private_dir`], [`bind_private_socket`]: directories `0700`, files and sockets
//!   `0600`, whatever the umask;
//! - trust: a state file that is a symbolic link, belongs to another uid, or can be written by
//!   other users is refused (an [`Error`] naming it), never followed or read, so a local user
//!   cannot plant records a root daemon would act on.
//!
//! Crash drills: with the `fault-injection` feature, [`fault::arm_crash`] stops the next
//! atomic write of a path at a chosen step, leaving the files as a kill there would.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let state = dir.path().join("var/lib/cni/sriov");
//! state_files::create_private_dir(&state).unwrap();
//! let ledger = state.join("ledger.json");
//! let _lock = state_files::FileLock::exclusive(&state.join("ledger.lock")).unwrap();
//! state_files::write_atomic(&ledger, br#"{"allocations":[]}"#).unwrap();
//! assert_eq!(state_files::read(&ledger).unwrap().unwrap(), br#"{"allocations":[]}"#);
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod atomic;
mod dir;
mod error;
#[cfg(feature = "fault-injection")]
pub mod fault;
mod journal;
mod lock;
mod socket;
mod trust;

pub use atomic::{FILE_MODE, read, remove, write_atomic};
pub use dir::{DIR_MODE, create_private_dir};
pub use error::{EntryKind, Error, FileOp, Result};
pub use journal::Journal;
pub use lock::FileLock;
pub use socket::bind_private_socket;

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
