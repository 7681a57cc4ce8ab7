//! Append-only journals: records appended in batches, made durable with `fdatasync`, and
//! rewritten atomically when they have grown (compaction).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::atomic::{self, FILE_MODE, open_existing, set_file_mode};
use crate::error::{FileOp, Result, io_err};
use crate::trust;

/// An open journal file. One process writes it at a time: hold a
/// [`FileLock`](crate::FileLock) beside it.
///
/// ```
/// use state_files::Journal;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("leases");
/// let (mut journal, old) = Journal::open(&path).unwrap();
/// assert!(old.is_empty());
/// journal.append(b"{\"ip\":\"10.0.0.9\"}\n").unwrap();
/// journal.sync().unwrap(); // durable from here on
/// journal.replace(b"{\"ip\":\"10.0.0.10\"}\n").unwrap(); // compaction
/// journal.append(b"{\"ip\":\"10.0.0.11\"}\n").unwrap();
/// journal.sync().unwrap();
/// drop(journal);
/// let (_journal, text) = Journal::open(&path).unwrap();
/// assert_eq!(text, b"{\"ip\":\"10.0.0.10\"}\n{\"ip\":\"10.0.0.11\"}\n");
/// ```
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// A compaction's rename is not yet durable: its directory sync failed and is retried at
    /// the next [`Journal::sync`].
    dir_sync_pending: bool,
}

impl Journal {
    /// Opens the journal at `path` for appending (creating it `0600` when missing) and returns
    /// its contents so far. The directory and an existing file must be trusted (see
    /// [`read`](crate::read)).
    pub fn open(path: &Path) -> Result<(Journal, Vec<u8>)> {
        trust::check_parent(path)?;
        let mut options = OpenOptions::new();
        options.read(true).append(true);
        let (mut file, created) = match open_existing(path, &mut options)? {
            Some(file) => (file, false),
            None => {
                let file = OpenOptions::new()
                    .read(true)
                    .append(true)
                    .create_new(true)
                    .mode(FILE_MODE)
                    .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                    .open(path)
                    .map_err(io_err(FileOp::Open, path))?;
                set_file_mode(path, &file)?;
                (file, true)
            }
        };
        let mut text = Vec::new();
        file.read_to_end(&mut text)
            .map_err(io_err(FileOp::Read, path))?;
        let journal = Journal {
            path: path.to_path_buf(),
            file,
            dir_sync_pending: created,
        };
        Ok((journal, text))
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `bytes` in one write. Not durable until [`Journal::sync`].
    pub fn append(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .write_all(bytes)
            .map_err(io_err(FileOp::Write, &self.path))
    }

    /// Makes everything appended so far durable (`fdatasync`), and a compaction's rename or the
    /// file's creation if their directory sync is still pending.
    pub fn sync(&mut self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(io_err(FileOp::Sync, &self.path))?;
        if self.dir_sync_pending {
            atomic::sync_dir_of(&self.path)?;
            self.dir_sync_pending = false;
        }
        Ok(())
    }

    /// Replaces the whole journal with `bytes` atomically (see
    /// [`write_atomic`](crate::write_atomic)); later appends go to the new file. A failed
    /// directory sync at the end does not fail the compaction (the new file is complete either
    /// way): it is retried by the next [`Journal::sync`] and reported by
    /// [`Journal::dir_sync_pending`].
    pub fn replace(&mut self, bytes: &[u8]) -> Result<()> {
        let (file, dir_synced) = atomic::replace(&self.path, bytes)?;
        // The handle written is the one appended to from now on: once renamed it *is* the
        // journal, so no later failure can leave appends going to a replaced file.
        self.file = file;
        self.dir_sync_pending = dir_synced.is_err();
        Ok(())
    }

    /// True while a rename of [`Journal::replace`] may not be durable yet.
    pub fn dir_sync_pending(&self) -> bool {
        self.dir_sync_pending
    }
}
