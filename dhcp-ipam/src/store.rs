//! Lease persistence: one JSON file per managed interface in a private directory (`0700`),
//! written atomically with [`state_files`] (temporary file, fsync, rename, fsync of the
//! directory; files `0600`), so a crash leaves either the old record or the new one, never a torn
//! file. A record that is a symbolic link, belongs to another user or can be written by others
//! is refused, not read: a local user cannot plant a lease a root daemon would act on.
//!
//! Each record carries the [`ClockStamp`] it was saved at, so that its lease's timers, kept on
//! the monotonic clock, can be re-based when it is loaded ([`LeaseRecord::rebased`]).
//!
//! A record says which interface is managed (namespace, name, client identity) and, when there
//! is one, the lease it holds. After a restart the renewal manager resumes each record:
//! renewals go on from the stored lease, INIT-REBOOT where it has lapsed, INIT where there was
//! none.
//!
//! ```
//! use dhcp_ipam::store::{LeaseStore, LeaseRecord};
//! use dhcp_codec::{ClientId, HwAddr};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = LeaseStore::open(dir.path()).unwrap();
//! let rec = LeaseRecord {
//!     key: "c0ffee/net1".into(),
//!     netns: Some("/var/run/netns/pod".into()),
//!     ifname: "net1".into(),
//!     client_id: ClientId::for_pod_interface("c0ffee", "net1"),
//!     chaddr: HwAddr::mac([2, 0, 0, 0, 0, 1]),
//!     hostname: None,
//!     lease: None,
//!     saved_at: None,
//! };
//! store.save(&rec).unwrap();
//! assert_eq!(store.load("c0ffee/net1").unwrap(), Some(rec));
//! store.remove("c0ffee/net1").unwrap();
//! assert_eq!(store.load("c0ffee/net1").unwrap(), None);
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::client::Lease;
use crate::clock::ClockStamp;
use crate::error::Error;
use dhcp_codec::{ClientId, HwAddr};

/// What is stored for one managed interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// The record's key (for the IPAM plugin: `<container id>/<ifname>`).
    pub key: String,
    /// The network namespace file of the interface (`None`: the daemon's own namespace).
    pub netns: Option<PathBuf>,
    /// The interface name inside the namespace.
    pub ifname: String,
    /// The client identifier every message of this interface carries.
    pub client_id: ClientId,
    /// The hardware address the client uses as `chaddr`.
    pub chaddr: HwAddr,
    /// Host name sent to the server, if any.
    #[serde(default)]
    pub hostname: Option<String>,
    /// The lease held, if any, its times on the monotonic clock of `saved_at`.
    pub lease: Option<Lease>,
    /// The clocks when the record was saved (`None`: a record whose times are wall-clock
    /// times, as written before stamps existed).
    #[serde(default)]
    pub saved_at: Option<ClockStamp>,
}

impl LeaseRecord {
    /// The record with its lease's times moved to the clock of reading `now`.
    pub fn rebased(mut self, now: &ClockStamp) -> LeaseRecord {
        let from = self.saved_at.take().unwrap_or(ClockStamp::WALL_CLOCK_TIMES);
        self.lease = self.lease.map(|l| l.rebased(&from, now));
        self.saved_at = Some(now.clone());
        self
    }
}

/// A directory of [`LeaseRecord`]s.
#[derive(Debug, Clone)]
pub struct LeaseStore {
    dir: PathBuf,
}

/// The file name for a key: bytes outside `[A-Za-z0-9_.-]` written as `%XX`, then `.json`.
fn file_name(key: &str) -> Result<String, Error> {
    if key.is_empty() {
        return Err(Error::InvalidLeaseKey {
            key: key.into(),
            reason: "empty",
        });
    }
    let mut s = String::with_capacity(key.len() + 5);
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-') || (b == b'.' && !s.is_empty()) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    if s.len() > 250 {
        return Err(Error::InvalidLeaseKey {
            key: key.into(),
            reason: "too long for a file name",
        });
    }
    s.push_str(".json");
    Ok(s)
}

impl LeaseStore {
    /// The store in `dir`, created `0700` when missing (an existing directory must belong to
    /// this process's user and not be writable by others).
    pub fn open(dir: impl Into<PathBuf>) -> Result<LeaseStore, Error> {
        let dir = dir.into();
        state_files::create_private_dir(&dir)
            .map_err(|source| Error::LeaseStore { op: "open", source })?;
        Ok(LeaseStore { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds `key`'s record.
    pub fn path_of(&self, key: &str) -> Result<PathBuf, Error> {
        Ok(self.dir.join(file_name(key)?))
    }

    /// Writes `rec` atomically, replacing any earlier record for its key.
    pub fn save(&self, rec: &LeaseRecord) -> Result<(), Error> {
        let path = self.path_of(&rec.key)?;
        let data = serde_json::to_vec_pretty(rec).map_err(|source| Error::LeaseFormat {
            path: path.clone(),
            source,
        })?;
        state_files::write_atomic(&path, &data)
            .map_err(|source| Error::LeaseStore { op: "save", source })
    }

    /// The record for `key`, if any.
    pub fn load(&self, key: &str) -> Result<Option<LeaseRecord>, Error> {
        let path = self.path_of(key)?;
        match state_files::read(&path) {
            Ok(Some(data)) => read_record(&path, &data).map(Some),
            Ok(None) => Ok(None),
            Err(source) => Err(Error::LeaseStore { op: "load", source }),
        }
    }

    /// Removes `key`'s record; a missing one is not an error.
    pub fn remove(&self, key: &str) -> Result<(), Error> {
        let path = self.path_of(key)?;
        state_files::remove(&path).map_err(|source| Error::LeaseStore {
            op: "remove",
            source,
        })
    }

    /// Every record, sorted by key, and an error for each file that could not be read (a
    /// damaged file does not hide the others). Leftover temporary files are removed.
    pub fn load_all(&self) -> Result<(Vec<LeaseRecord>, Vec<Error>), Error> {
        let rd = fs::read_dir(&self.dir).map_err(|source| Error::LeaseFile {
            op: "list",
            path: self.dir.clone(),
            source,
        })?;
        let mut recs = Vec::new();
        let mut errs = Vec::new();
        for entry in rd {
            let entry = match entry {
                Ok(e) => e,
                Err(source) => {
                    errs.push(Error::LeaseFile {
                        op: "list",
                        path: self.dir.clone(),
                        source,
                    });
                    continue;
                }
            };
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".json.tmp") {
                let _ = fs::remove_file(&path);
                continue;
            }
            if !name.ends_with(".json") {
                continue;
            }
            match state_files::read(&path) {
                Ok(Some(data)) => match read_record(&path, &data) {
                    Ok(r) => recs.push(r),
                    Err(e) => errs.push(e),
                },
                Ok(None) => {}
                Err(source) => errs.push(Error::LeaseStore { op: "load", source }),
            }
        }
        recs.sort_by(|a, b| a.key.cmp(&b.key));
        Ok((recs, errs))
    }
}

fn read_record(path: &Path, data: &[u8]) -> Result<LeaseRecord, Error> {
    serde_json::from_slice(data).map_err(|source| Error::LeaseFormat {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert_eq!(file_name("abc/net1").unwrap(), "abc%2Fnet1.json");
        assert_eq!(file_name("..").unwrap(), "%2E..json");
        assert_eq!(file_name(".x").unwrap(), "%2Ex.json");
        assert_ne!(file_name("a/b").unwrap(), file_name("a%2Fb").unwrap());
        assert!(file_name("").is_err());
        assert!(file_name(&"x".repeat(300)).is_err());
    }

    #[test]
    fn damaged_files_are_reported_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let store = LeaseStore::open(dir.path()).unwrap();
        let rec = LeaseRecord {
            key: "k".into(),
            netns: None,
            ifname: "eth0".into(),
            client_id: ClientId::from_mac([2, 0, 0, 0, 0, 1]),
            chaddr: HwAddr::mac([2, 0, 0, 0, 0, 1]),
            hostname: None,
            lease: None,
            saved_at: None,
        };
        store.save(&rec).unwrap();
        fs::write(dir.path().join("bad.json"), b"{ not json").unwrap();
        fs::write(dir.path().join("half.json.tmp"), b"{").unwrap();
        let (recs, errs) = store.load_all().unwrap();
        assert_eq!(recs, vec![rec]);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].to_string().contains("bad.json"), "{}", errs[0]);
        assert!(!dir.path().join("half.json.tmp").exists());
    }
}
