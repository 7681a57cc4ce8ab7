//! Lease persistence: one JSON file per managed interface in a directory, written atomically
//! (temporary file, fsync, rename, fsync of the directory), so a crash leaves either the old
//! record or the new one, never a torn file.
//!
//! A record says which interface is managed (namespace, name, client identity) and, when there
//! is one, the lease it holds. After a restart the renewal manager resumes each record:
//! renewals go on from the stored lease, INIT-REBOOT where it has lapsed, INIT where there was
//! none.
//!
//! ```
//! use dhcp_ipam::store::{LeaseStore, LeaseRecord};
//! use dhcp_ipam::codec::{ClientId, HwAddr};
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
//! };
//! store.save(&rec).unwrap();
//! assert_eq!(store.load("c0ffee/net1").unwrap(), Some(rec));
//! store.remove("c0ffee/net1").unwrap();
//! assert_eq!(store.load("c0ffee/net1").unwrap(), None);
//! ```

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::client::Lease;
use crate::codec::{ClientId, HwAddr};
use crate::error::Error;

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
    /// The lease held, if any.
    pub lease: Option<Lease>,
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
    /// The store in `dir`, created when missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<LeaseStore, Error> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|source| Error::LeaseFile {
            op: "create directory",
            path: dir.clone(),
            source,
        })?;
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
        let tmp = path.with_extension("json.tmp");
        let data = serde_json::to_vec_pretty(rec).map_err(|source| Error::LeaseFormat {
            path: path.clone(),
            source,
        })?;
        let io = |op: &'static str, p: &Path| {
            let p = p.to_path_buf();
            move |source| Error::LeaseFile {
                op,
                path: p,
                source,
            }
        };
        let mut f = File::create(&tmp).map_err(io("write", &tmp))?;
        f.write_all(&data).map_err(io("write", &tmp))?;
        f.sync_all().map_err(io("sync", &tmp))?;
        drop(f);
        fs::rename(&tmp, &path).map_err(io("rename", &path))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io("sync directory", &self.dir))
    }

    /// The record for `key`, if any.
    pub fn load(&self, key: &str) -> Result<Option<LeaseRecord>, Error> {
        let path = self.path_of(key)?;
        match fs::read(&path) {
            Ok(data) => read_record(&path, &data).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::LeaseFile {
                op: "read",
                path,
                source,
            }),
        }
    }

    /// Removes `key`'s record; a missing one is not an error.
    pub fn remove(&self, key: &str) -> Result<(), Error> {
        let path = self.path_of(key)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(Error::LeaseFile {
                op: "remove",
                path,
                source,
            }),
        }
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
            match fs::read(&path) {
                Ok(data) => match read_record(&path, &data) {
                    Ok(r) => recs.push(r),
                    Err(e) => errs.push(e),
                },
                Err(source) => errs.push(Error::LeaseFile {
                    op: "read",
                    path,
                    source,
                }),
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
