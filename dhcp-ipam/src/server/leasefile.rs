//! The server's lease file: a journal of [`LeaseRecord`]s, one JSON object per line.
//!
//! Crash safety:
//! - Changes are appended with one `write` per batch and made durable with `fdatasync`
//!   ([`LeaseFile::sync`]) before the server sends the ACKs of that batch, so an ACKed lease is
//!   never lost, and after a crash no address can be handed to a second client while the first
//!   still holds it.
//! - A crash can only leave a torn last line (never synced, so never ACKed): it is ignored when
//!   the file is read. Any other unreadable line is an error naming the file and line.
//! - The journal is rewritten ([`LeaseFile::compact`]) into `FILE.tmp`, synced, renamed over
//!   `FILE` and the directory synced: a crash leaves either the old or the new file, whole.
//!   [`LeaseFile::open`] compacts right away, so a torn tail never ends up mid-file.
//! - `FILE.lock` is locked (`flock`) while the file is open: two servers never share one file.
//!
//! ```
//! use dhcp_ipam::server::{ClientKey, LeaseFile, LeaseRecord, RecordState};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("leases");
//! let rec = LeaseRecord {
//!     ip: "10.0.0.9".parse().unwrap(),
//!     state: RecordState::Bound,
//!     client: Some(ClientKey::mac([2, 0, 0, 0, 0, 1])),
//!     starts: 100,
//!     ends: 700,
//! };
//! {
//!     let (mut file, old) = LeaseFile::open(&path).unwrap();
//!     assert!(old.is_empty());
//!     file.append(&[rec.clone()]).unwrap();
//!     file.sync().unwrap();
//! }
//! let (_file, back) = LeaseFile::open(&path).unwrap();
//! assert_eq!(back, vec![rec]);
//! ```

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use super::alloc::LeaseRecord;
use crate::error::Error;

/// An open lease file, locked for this process.
#[derive(Debug)]
pub struct LeaseFile {
    path: PathBuf,
    file: File,
    _lock: Flock<File>,
    /// Lines appended since the last compaction.
    appended: usize,
    /// Records in the file right after the last compaction.
    compacted: usize,
    /// The directory still needs a sync for the last compaction's rename to be durable.
    dir_dirty: bool,
    buf: Vec<u8>,
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::LeaseFile {
        op,
        path: path.to_path_buf(),
        source,
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

impl LeaseFile {
    /// Opens (creating it if missing) and locks the lease file at `path`, reads its records
    /// (the latest record of each address, in file order), and compacts it.
    pub fn open(path: impl AsRef<Path>) -> Result<(LeaseFile, Vec<LeaseRecord>), Error> {
        let path = path.as_ref().to_path_buf();
        let lock_path = with_suffix(&path, ".lock");
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("open lock of", &path))?;
        let lock = Flock::lock(lock_file, FlockArg::LockExclusiveNonblock).map_err(|(_, e)| {
            if e == nix::errno::Errno::EWOULDBLOCK {
                Error::ServerLeaseLocked { path: path.clone() }
            } else {
                Error::LeaseFile {
                    op: "lock",
                    path: path.clone(),
                    source: e.into(),
                }
            }
        })?;
        let records = match File::open(&path) {
            Ok(mut f) => {
                let mut text = Vec::new();
                f.read_to_end(&mut text).map_err(io_err("read", &path))?;
                parse_journal(&text, &path)?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_err("read", &path)(e)),
        };
        let (file, dir_synced) = write_compacted(&path, &records)?;
        let compacted = records.len();
        Ok((
            LeaseFile {
                path,
                file,
                _lock: lock,
                appended: 0,
                compacted,
                dir_dirty: !dir_synced,
                buf: Vec::new(),
            },
            records,
        ))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `records` with a single write. Not durable until [`LeaseFile::sync`].
    pub fn append(&mut self, records: &[LeaseRecord]) -> Result<(), Error> {
        if records.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        for r in records {
            serde_json::to_writer(&mut self.buf, r).map_err(|e| Error::LeaseFile {
                op: "encode record for",
                path: self.path.clone(),
                source: e.into(),
            })?;
            self.buf.push(b'\n');
        }
        self.file
            .write_all(&self.buf)
            .map_err(io_err("append to", &self.path))?;
        self.appended += records.len();
        Ok(())
    }

    /// Makes everything appended so far durable (`fdatasync`, and the directory if the last
    /// compaction could not sync it).
    pub fn sync(&mut self) -> Result<(), Error> {
        self.file.sync_data().map_err(io_err("sync", &self.path))?;
        if self.dir_dirty {
            sync_dir(&self.path)?;
            self.dir_dirty = false;
        }
        Ok(())
    }

    /// True when the journal has grown well past what a compaction would leave.
    pub fn should_compact(&self) -> bool {
        self.appended > 1024 && self.appended > 2 * self.compacted
    }

    /// Replaces the file with exactly `records` (atomically: temp file, sync, rename, sync the
    /// directory).
    pub fn compact(&mut self, records: &[LeaseRecord]) -> Result<(), Error> {
        let (file, dir_synced) = write_compacted(&self.path, records)?;
        self.file = file;
        self.dir_dirty = !dir_synced;
        self.appended = 0;
        self.compacted = records.len();
        Ok(())
    }
}

/// Writes `records` to `path` atomically; returns the new file (positioned at its end, for
/// appending) and whether the directory was synced too.
fn write_compacted(path: &Path, records: &[LeaseRecord]) -> Result<(File, bool), Error> {
    let tmp = with_suffix(path, ".tmp");
    let mut buf = Vec::with_capacity(records.len() * 120);
    for r in records {
        serde_json::to_writer(&mut buf, r).map_err(|e| Error::LeaseFile {
            op: "encode record for",
            path: path.to_path_buf(),
            source: e.into(),
        })?;
        buf.push(b'\n');
    }
    // The handle written here is the one appended to afterwards: once renamed it *is* `path`,
    // so no later failure can leave appends going to a replaced file.
    let mut f = File::create(&tmp).map_err(io_err("create", &tmp))?;
    f.write_all(&buf).map_err(io_err("write", &tmp))?;
    f.sync_all().map_err(io_err("sync", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err("rename into place", path))?;
    let dir_synced = match sync_dir(path) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("{e} (retried at the next sync)");
            false
        }
    };
    Ok((f, dir_synced))
}

/// Syncs the directory holding `path` (makes a rename in it durable).
fn sync_dir(path: &Path) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync directory of", path))
}

/// The latest record of each address, ordered by the line of that record.
pub(crate) fn parse_journal(text: &[u8], path: &Path) -> Result<Vec<LeaseRecord>, Error> {
    let mut latest: HashMap<Ipv4Addr, (usize, LeaseRecord)> = HashMap::new();
    let mut lines = text.split(|&b| b == b'\n').enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let last = lines.peek().is_none();
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<LeaseRecord>(line) {
            Ok(rec) => {
                latest.insert(rec.ip, (i, rec));
            }
            // The last line has no newline: a write torn by a crash. It was never synced, so
            // no client was told about it.
            Err(_) if last => {
                tracing::warn!(path = %path.display(), line = i + 1, "ignoring torn last line");
            }
            Err(e) => {
                return Err(Error::ServerLeaseRecord {
                    path: path.to_path_buf(),
                    line: i + 1,
                    reason: e.to_string(),
                });
            }
        }
    }
    let mut out: Vec<(usize, LeaseRecord)> = latest.into_values().collect();
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{ClientKey, RecordState};

    fn rec(ip: u8, state: RecordState, ends: u64) -> LeaseRecord {
        LeaseRecord {
            ip: Ipv4Addr::new(10, 0, 0, ip),
            state,
            client: Some(ClientKey::mac([2, 0, 0, 0, 0, ip])),
            starts: 1,
            ends,
        }
    }

    #[test]
    fn latest_record_wins_and_torn_tail_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l");
        {
            let (mut f, _) = LeaseFile::open(&path).unwrap();
            f.append(&[
                rec(1, RecordState::Bound, 10),
                rec(2, RecordState::Bound, 10),
            ])
            .unwrap();
            f.append(&[rec(1, RecordState::Free, 5)]).unwrap();
            f.sync().unwrap();
        }
        // a torn write at the end
        let mut raw = OpenOptions::new().append(true).open(&path).unwrap();
        raw.write_all(br#"{"ip":"10.0.0.3","sta"#).unwrap();
        drop(raw);
        let (_f, recs) = LeaseFile::open(&path).unwrap();
        assert_eq!(
            recs,
            vec![rec(2, RecordState::Bound, 10), rec(1, RecordState::Free, 5)]
        );
        // open compacted the file: two lines, no torn tail
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn appends_after_a_compaction_land_in_the_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l");
        {
            let (mut f, _) = LeaseFile::open(&path).unwrap();
            f.append(&[rec(1, RecordState::Bound, 10)]).unwrap();
            f.compact(&[
                rec(1, RecordState::Bound, 10),
                rec(2, RecordState::Bound, 20),
            ])
            .unwrap();
            f.append(&[rec(3, RecordState::Bound, 30)]).unwrap();
            f.sync().unwrap();
            assert!(!dir.path().join("l.tmp").exists());
        }
        let (_f, recs) = LeaseFile::open(&path).unwrap();
        assert_eq!(
            recs,
            vec![
                rec(1, RecordState::Bound, 10),
                rec(2, RecordState::Bound, 20),
                rec(3, RecordState::Bound, 30)
            ]
        );
    }

    #[test]
    fn corrupt_middle_line_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l");
        std::fs::write(
            &path,
            "{\"ip\":\"10.0.0.1\",\"state\":\"bound\",\"starts\":1,\"ends\":2}\nnot json\n{}\n",
        )
        .unwrap();
        let err = LeaseFile::open(&path).unwrap_err().to_string();
        assert!(err.contains(&format!("{}:2:", path.display())), "{err}");
    }

    #[test]
    fn second_opener_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l");
        let (_a, _) = LeaseFile::open(&path).unwrap();
        assert!(matches!(
            LeaseFile::open(&path),
            Err(Error::ServerLeaseLocked { .. })
        ));
    }
}
