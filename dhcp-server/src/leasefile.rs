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
//! - All of it is [`state_files`]' ([`Journal`], [`FileLock`]): files `0600`, and a journal that
//!   is a link, belongs to another user or can be written by others is refused.
//!
//! ```
//! use dhcp_server::{ClientKey, LeaseFile, LeaseRecord, RecordState};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("leases");
//! let rec = LeaseRecord {
//!     ip: "10.0.0.9".parse().unwrap(),
//!     state: RecordState::Bound,
//!     client: Some(ClientKey::mac([2, 0, 0, 0, 0, 1])),
//!     starts: dhcp_codec::Time::from_secs(100),
//!     ends: dhcp_codec::Time::from_secs(700),
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
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use state_files::{FileLock, Journal};

use crate::alloc::LeaseRecord;
use crate::error::Error;

/// An open lease file, locked for this process.
#[derive(Debug)]
pub struct LeaseFile {
    journal: Journal,
    _lock: FileLock,
    /// Lines appended since the last compaction.
    appended: usize,
    /// Records in the file right after the last compaction.
    compacted: usize,
    buf: Vec<u8>,
}

fn journal_err(op: &'static str) -> impl FnOnce(state_files::Error) -> Error {
    move |source| Error::Journal { op, source }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

impl LeaseFile {
    /// Opens (creating it `0600` if missing) and locks the lease file at `path`, reads its
    /// records (the latest record of each address, in file order), and compacts it. The file and
    /// its directory must be trusted (see [`state_files::read`]): a journal another user could
    /// have written is refused, not replayed.
    pub fn open(path: impl AsRef<Path>) -> Result<(LeaseFile, Vec<LeaseRecord>), Error> {
        let path = path.as_ref().to_path_buf();
        let lock = FileLock::try_exclusive(&with_suffix(&path, ".lock"))
            .map_err(journal_err("lock"))?
            .ok_or_else(|| Error::ServerLeaseLocked { path: path.clone() })?;
        let (journal, text) = Journal::open(&path).map_err(journal_err("open"))?;
        let records = parse_journal(&text, &path)?;
        let mut file = LeaseFile {
            journal,
            _lock: lock,
            appended: 0,
            compacted: 0,
            buf: Vec::new(),
        };
        file.compact(&records)?;
        Ok((file, records))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.journal.path()
    }

    fn encode(&mut self, records: &[LeaseRecord]) -> Result<(), Error> {
        self.buf.clear();
        for r in records {
            serde_json::to_writer(&mut self.buf, r).map_err(|source| Error::EncodeRecord {
                path: self.journal.path().to_path_buf(),
                source,
            })?;
            self.buf.push(b'\n');
        }
        Ok(())
    }

    /// Appends `records` with a single write. Not durable until [`LeaseFile::sync`].
    pub fn append(&mut self, records: &[LeaseRecord]) -> Result<(), Error> {
        if records.is_empty() {
            return Ok(());
        }
        self.encode(records)?;
        self.journal
            .append(&self.buf)
            .map_err(journal_err("append to"))?;
        self.appended += records.len();
        Ok(())
    }

    /// Makes everything appended so far durable (`fdatasync`, and the directory if the last
    /// compaction could not sync it).
    pub fn sync(&mut self) -> Result<(), Error> {
        self.journal.sync().map_err(journal_err("sync"))
    }

    /// True when the journal has grown well past what a compaction would leave.
    pub fn should_compact(&self) -> bool {
        self.appended > 1024 && self.appended > 2 * self.compacted
    }

    /// Replaces the file with exactly `records` (atomically: temp file, sync, rename, sync the
    /// directory; a failed directory sync is retried at the next [`LeaseFile::sync`]).
    pub fn compact(&mut self, records: &[LeaseRecord]) -> Result<(), Error> {
        self.encode(records)?;
        self.journal
            .replace(&self.buf)
            .map_err(journal_err("compact"))?;
        if self.journal.dir_sync_pending() {
            tracing::warn!(
                path = %self.journal.path().display(),
                "the compacted lease file's directory could not be synced; retried at the next sync"
            );
        }
        self.appended = 0;
        self.compacted = records.len();
        Ok(())
    }
}

/// The records of the lease file at `path` (the latest of each address, in file order), read
/// without taking its lock or compacting it: for tools looking at a running server's file. A
/// missing file has none.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// assert!(dhcp_server::leasefile::read_records(&dir.path().join("leases")).unwrap().is_empty());
/// ```
pub fn read_records(path: &Path) -> Result<Vec<LeaseRecord>, Error> {
    match state_files::read(path).map_err(journal_err("read"))? {
        Some(text) => parse_journal(&text, path),
        None => Ok(Vec::new()),
    }
}

/// The addresses bound in the lease file at `path` and the client holding each, in file order
/// ([`read_records`] without the free, offered and declined ones).
pub fn bound_leases(path: &Path) -> Result<Vec<(Ipv4Addr, crate::ClientKey)>, Error> {
    Ok(read_records(path)?
        .into_iter()
        .filter(|r| r.state == crate::RecordState::Bound)
        .filter_map(|r| Some((r.ip, r.client?)))
        .collect())
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
    use std::fs::OpenOptions;
    use std::io::Write;

    use super::*;
    use crate::{ClientKey, RecordState};
    use dhcp_codec::Time;

    fn rec(ip: u8, state: RecordState, ends: u64) -> LeaseRecord {
        LeaseRecord {
            ip: Ipv4Addr::new(10, 0, 0, ip),
            state,
            client: Some(ClientKey::mac([2, 0, 0, 0, 0, ip])),
            starts: Time::from_secs(1),
            ends: Time::from_secs(ends),
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
