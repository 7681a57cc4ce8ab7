//! Running netlink work inside a network namespace: on a thread of its own that enters the
//! namespace with `setns` on an open namespace file and ends with the work, so no caller's
//! thread ever changes namespace.

use std::io;
use std::os::fd::BorrowedFd;

use nix::sched::{CloneFlags, setns};

use super::conn::Conn;

/// Runs `work` with an rtnetlink socket opened inside the namespace `ns` refers to.
pub(crate) fn run_in<T: Send>(
    ns: BorrowedFd<'_>,
    work: impl FnOnce(&mut Conn) -> io::Result<T> + Send,
) -> io::Result<T> {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("rtnl-netns".into())
            .spawn_scoped(scope, move || {
                setns(ns, CloneFlags::CLONE_NEWNET)?;
                let mut conn = Conn::open()?;
                work(&mut conn)
            })?;
        worker
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("rtnetlink namespace thread panicked")))
    })
}
