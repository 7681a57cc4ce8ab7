//! Watching a directory with inotify for files appearing and disappearing: how a plugin learns
//! within milliseconds that the kubelet restarted (it deletes every socket in the plugin
//! directory and creates a new `kubelet.sock`), instead of polling every 5 s.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use inotify::{EventMask, EventStream, Inotify, WatchMask};
use tokio_stream::StreamExt;

use crate::error::{Error, Result};

/// A change in the watched directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirEvent {
    /// A file of this name appeared (created or moved in).
    Created(OsString),
    /// A file of this name went away (deleted or moved out).
    Removed(OsString),
    /// The directory itself was deleted or moved; the watch is gone.
    DirGone,
    /// The kernel's event queue overflowed: events were lost, look at the directory again.
    Overflow,
}

/// An inotify watch on one directory.
pub struct DirWatcher {
    dir: PathBuf,
    events: EventStream<Vec<u8>>,
}

impl std::fmt::Debug for DirWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirWatcher")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl DirWatcher {
    /// Watches `dir` (which must exist). Events that happen after this returns are seen.
    pub fn new(dir: &Path) -> Result<Self> {
        let err = |source| Error::Watch {
            dir: dir.to_path_buf(),
            source,
        };
        let inotify = Inotify::init().map_err(err)?;
        inotify
            .watches()
            .add(
                dir,
                WatchMask::CREATE
                    | WatchMask::DELETE
                    | WatchMask::MOVED_FROM
                    | WatchMask::MOVED_TO
                    | WatchMask::DELETE_SELF
                    | WatchMask::MOVE_SELF
                    | WatchMask::ONLYDIR,
            )
            .map_err(err)?;
        let events = inotify.into_event_stream(vec![0u8; 4096]).map_err(err)?;
        Ok(DirWatcher {
            dir: dir.to_path_buf(),
            events,
        })
    }

    /// The watched directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The next change. After [`DirEvent::DirGone`] no more events come.
    pub async fn next(&mut self) -> Result<DirEvent> {
        loop {
            let Some(event) = self.events.next().await else {
                return Ok(DirEvent::DirGone);
            };
            let event = event.map_err(|source| Error::Watch {
                dir: self.dir.clone(),
                source,
            })?;
            let mask = event.mask;
            if mask.contains(EventMask::Q_OVERFLOW) {
                return Ok(DirEvent::Overflow);
            }
            if mask.intersects(EventMask::DELETE_SELF | EventMask::MOVE_SELF | EventMask::IGNORED) {
                return Ok(DirEvent::DirGone);
            }
            let Some(name) = event.name else { continue };
            if mask.intersects(EventMask::CREATE | EventMask::MOVED_TO) {
                return Ok(DirEvent::Created(name));
            }
            if mask.intersects(EventMask::DELETE | EventMask::MOVED_FROM) {
                return Ok(DirEvent::Removed(name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sees_creation_removal_and_the_directory_going() {
        let dir = tempfile::tempdir().unwrap();
        let watched = dir.path().join("plugins");
        std::fs::create_dir(&watched).unwrap();
        let mut w = DirWatcher::new(&watched).unwrap();
        std::fs::write(watched.join("kubelet.sock"), "").unwrap();
        assert_eq!(
            w.next().await.unwrap(),
            DirEvent::Created("kubelet.sock".into())
        );
        std::fs::remove_file(watched.join("kubelet.sock")).unwrap();
        assert_eq!(
            w.next().await.unwrap(),
            DirEvent::Removed("kubelet.sock".into())
        );
        std::fs::remove_dir(&watched).unwrap();
        assert_eq!(w.next().await.unwrap(), DirEvent::DirGone);
    }
}
