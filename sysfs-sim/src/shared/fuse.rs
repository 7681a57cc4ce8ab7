//! The host namespace's sysfs of a shared host as a FUSE filesystem, so that `DIR/sys` behaves
//! like a real `/sys` for every process: reads show the state at the instant they are made
//! (attributes and entries are never cached: zero TTLs and direct I/O), writes go through the
//! simulated kernel's handlers and fail with its errno (`echo 2 > .../sriov_numvfs` with VFs
//! enabled: EBUSY), symbolic links are the kernel's relative links, and the permissions are
//! sysfs's (opening a read-only attribute for writing: EACCES, as kernfs answers even root).
//!
//! ```no_run
//! use sysfs_sim::shared::{SharedHost, fuse::SysfsMount};
//! let shared = SharedHost::new(sysfs_sim::Preset::Reference.build(1)?);
//! std::fs::create_dir_all("/tmp/sim/sys")?;
//! let mount = SysfsMount::mount(shared, "/tmp/sim/sys".as_ref())?;
//! let numvfs = std::fs::read_to_string("/tmp/sim/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs")?;
//! assert_eq!(numvfs, "8\n");
//! mount.unmount()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner,
    OpenAccMode, OpenFlags, ReplyAttr, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry,
    ReplyOpen, ReplyWrite, Request, WriteFlags,
};
use sriov_core::{Netns, Sysfs};

use super::{SharedHost, SharedSysfs};
use crate::sysfs::EntryMeta;

/// Nothing is cached by the kernel: every access asks the model.
const TTL: Duration = Duration::ZERO;

/// The sysfs path of the mount's root.
const ROOT: &str = "/sys";

/// Inode numbers by sysfs path, stable for the life of the mount (a path keeps its number
/// when it disappears and comes back).
#[derive(Default)]
struct Inodes {
    paths: Vec<PathBuf>,
    numbers: HashMap<PathBuf, u64>,
}

impl Inodes {
    fn number(&mut self, path: &Path) -> u64 {
        if let Some(n) = self.numbers.get(path) {
            return *n;
        }
        self.paths.push(path.to_path_buf());
        let n = self.paths.len() as u64;
        self.numbers.insert(path.to_path_buf(), n);
        n
    }

    fn path(&self, ino: u64) -> Option<PathBuf> {
        self.paths
            .get(usize::try_from(ino).ok()?.checked_sub(1)?)
            .cloned()
    }
}

/// A directory listing taken at `opendir`.
type Listing = Vec<(u64, FileType, String)>;

/// The filesystem.
struct SysfsFs {
    fs: SharedSysfs,
    inodes: Mutex<Inodes>,
    listings: Mutex<HashMap<u64, Listing>>,
    next_fh: AtomicU64,
    mounted_at: SystemTime,
}

fn errno_of(e: &io::Error) -> Errno {
    Errno::from_i32(e.raw_os_error().unwrap_or(libc::EIO))
}

impl SysfsFs {
    fn inodes(&self) -> MutexGuard<'_, Inodes> {
        self.inodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn listings(&self) -> MutexGuard<'_, HashMap<u64, Listing>> {
        self.listings.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn path_of(&self, ino: INodeNo) -> Result<PathBuf, Errno> {
        self.inodes().path(ino.0).ok_or(Errno::ENOENT)
    }

    fn meta(&self, path: &Path) -> Result<EntryMeta, Errno> {
        self.fs
            .sim_view()
            .and_then(|v| v.entry_meta(path))
            .map_err(|e| errno_of(&e))
    }

    fn attr(&self, ino: u64, path: &Path, meta: EntryMeta) -> FileAttr {
        let (kind, perm, size, nlink) = match meta {
            EntryMeta::Dir => (FileType::Directory, 0o755, 0, 2),
            EntryMeta::Link => {
                let len = self
                    .fs
                    .read_link(path)
                    .map_or(0, |t| t.as_os_str().len() as u64);
                (FileType::Symlink, 0o777, len, 1)
            }
            EntryMeta::File { readable, writable } => {
                let perm = match (readable, writable) {
                    (true, true) => 0o644,
                    (true, false) => 0o444,
                    (false, _) => 0o200,
                };
                // sysfs reports every attribute as one page
                (FileType::RegularFile, perm, 4096, 1)
            }
        };
        FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: 0,
            atime: self.mounted_at,
            mtime: self.mounted_at,
            ctime: self.mounted_at,
            crtime: self.mounted_at,
            kind,
            perm,
            nlink,
            uid: 0,
            gid: 0,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        }
    }

    fn kind_of(meta: EntryMeta) -> FileType {
        match meta {
            EntryMeta::Dir => FileType::Directory,
            EntryMeta::Link => FileType::Symlink,
            EntryMeta::File { .. } => FileType::RegularFile,
        }
    }
}

impl Filesystem for SysfsFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let found = self.path_of(parent).and_then(|dir| {
            let path = dir.join(name);
            let meta = self.meta(&path)?;
            let ino = self.inodes().number(&path);
            Ok(self.attr(ino, &path, meta))
        });
        match found {
            Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self
            .path_of(ino)
            .and_then(|p| Ok(self.attr(ino.0, &p, self.meta(&p)?)))
        {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        _mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        _size: Option<u64>,
        _atime: Option<fuser::TimeOrNow>,
        _mtime: Option<fuser::TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        // a shell's `>` truncates first: sysfs ignores it, and so does this
        self.getattr(_req, ino, None, reply);
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        match self
            .path_of(ino)
            .and_then(|p| self.fs.read_link(&p).map_err(|e| errno_of(&e)))
        {
            Ok(target) => reply.data(target.as_os_str().as_bytes()),
            Err(e) => reply.error(e),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let checked = self
            .path_of(ino)
            .and_then(|p| self.meta(&p))
            .and_then(|meta| {
                let (read, write) = match flags.acc_mode() {
                    OpenAccMode::O_RDONLY => (true, false),
                    OpenAccMode::O_WRONLY => (false, true),
                    OpenAccMode::O_RDWR => (true, true),
                };
                match meta {
                    EntryMeta::Dir if write => Err(Errno::EISDIR),
                    EntryMeta::File { readable, writable }
                        if (read && !readable) || (write && !writable) =>
                    {
                        Err(Errno::EACCES)
                    }
                    _ => Ok(()),
                }
            });
        match checked {
            Ok(()) => reply.opened(FileHandle(0), FopenFlags::FOPEN_DIRECT_IO),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self
            .path_of(ino)
            .and_then(|p| self.fs.read(&p).map_err(|e| errno_of(&e)))
        {
            Ok(text) => {
                let bytes = text.as_bytes();
                let start = usize::try_from(offset).map_or(bytes.len(), |o| o.min(bytes.len()));
                let end = start.saturating_add(size as usize).min(bytes.len());
                reply.data(&bytes[start..end]);
            }
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let written = self.path_of(ino).and_then(|p| {
            // kernfs hands the handler the bytes; every handler here parses text
            let value = std::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
            self.fs.write(&p, value).map_err(|e| errno_of(&e))
        });
        match written {
            Ok(()) => reply.written(u32::try_from(data.len()).unwrap_or(u32::MAX)),
            Err(e) => reply.error(e),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let listed = self.path_of(ino).and_then(|dir| {
            let entries = self
                .fs
                .sim_view()
                .and_then(|v| v.list_with_meta(&dir))
                .map_err(|e| errno_of(&e))?;
            let mut inodes = self.inodes();
            let parent = dir
                .parent()
                .filter(|_| dir != Path::new(ROOT))
                .map_or(ino.0, |p| inodes.number(p));
            let mut listing = vec![
                (ino.0, FileType::Directory, ".".to_string()),
                (parent, FileType::Directory, "..".to_string()),
            ];
            for (name, meta) in entries {
                let n = inodes.number(&dir.join(&name));
                listing.push((n, Self::kind_of(meta), name));
            }
            Ok(listing)
        });
        match listed {
            Ok(listing) => {
                let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
                self.listings().insert(fh, listing);
                reply.opened(FileHandle(fh), FopenFlags::empty());
            }
            Err(e) => reply.error(e),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let listings = self.listings();
        let Some(listing) = listings.get(&fh.0) else {
            reply.error(Errno::EBADF);
            return;
        };
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        for (i, (ino, kind, name)) in listing.iter().enumerate().skip(skip) {
            if reply.add(INodeNo(*ino), (i + 1) as u64, *kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        self.listings().remove(&fh.0);
        reply.ok();
    }

    fn create(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _flags: i32,
        reply: fuser::ReplyCreate,
    ) {
        // kernfs: no new files
        reply.error(Errno::EACCES);
    }

    fn mknod(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EACCES);
    }

    fn mkdir(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EPERM);
    }

    fn unlink(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EPERM);
    }

    fn rmdir(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EPERM);
    }
}

/// A mounted sysfs of a shared host; unmounted when dropped or by [`Self::unmount`].
pub struct SysfsMount {
    session: Option<fuser::BackgroundSession>,
    mountpoint: PathBuf,
}

impl std::fmt::Debug for SysfsMount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SysfsMount")
            .field("mountpoint", &self.mountpoint)
            .finish_non_exhaustive()
    }
}

impl SysfsMount {
    /// Mounts the host namespace's sysfs of `shared` at `mountpoint` (an existing directory,
    /// usually `DIR/sys`). As root the mount is open to every user (`allow_other`), as sysfs
    /// is; otherwise only to the user who mounts it (`fusermount3` does the mounting then).
    pub fn mount(shared: SharedHost, mountpoint: &Path) -> io::Result<SysfsMount> {
        let fs = SysfsFs {
            fs: shared.sysfs_of(&Netns::Host)?,
            inodes: Mutex::new(Inodes::default()),
            listings: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
            mounted_at: SystemTime::now(),
        };
        fs.inodes().number(Path::new(ROOT));
        let mut config = fuser::Config::default();
        config.mount_options = vec![
            fuser::MountOption::FSName("sysfs-sim".into()),
            fuser::MountOption::Subtype("sysfs-sim".into()),
            fuser::MountOption::NoDev,
            fuser::MountOption::NoSuid,
            fuser::MountOption::NoExec,
        ];
        if nix::unistd::geteuid().is_root() {
            config.acl = fuser::SessionACL::All;
        }
        config.n_threads = Some(4);
        let session = fuser::spawn_mount(fs, mountpoint, &config)?;
        Ok(SysfsMount {
            session: Some(session),
            mountpoint: mountpoint.to_path_buf(),
        })
    }

    /// Where it is mounted.
    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// Unmounts it and waits for its threads.
    pub fn unmount(mut self) -> io::Result<()> {
        match self.session.take() {
            Some(session) => session.umount_and_join(),
            None => Ok(()),
        }
    }
}

impl Drop for SysfsMount {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = session.umount_and_join();
        }
    }
}
