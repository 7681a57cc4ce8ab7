//! Running code inside a network namespace: the namespace file is opened, and a dedicated
//! thread enters it with `setns(2)` and runs the closure. Sockets created there stay in that
//! namespace for their whole life, so the caller's threads use them afterwards without ever
//! changing namespace themselves.

use std::fs::File;
use std::path::Path;

use crate::error::Error;

/// Runs `f` in the network namespace `netns` (a file such as `/var/run/netns/pod1` or
/// `/proc/<pid>/ns/net`), or in the caller's namespace when `None`, and returns its result.
///
/// The namespace is entered on a new thread that ends with `f`, so no thread of the caller ever
/// changes namespace.
///
/// ```
/// // Without a namespace the closure runs on the calling thread.
/// let n = dhcp_ipam::transport::in_netns(None, || Ok(2 + 2)).unwrap();
/// assert_eq!(n, 4);
/// ```
pub fn in_netns<T, F>(netns: Option<&Path>, f: F) -> Result<T, Error>
where
    T: Send,
    F: FnOnce() -> Result<T, Error> + Send,
{
    let Some(path) = netns else {
        return f();
    };
    let file = File::open(path).map_err(|source| Error::EnterNetns {
        path: path.to_path_buf(),
        source,
    })?;
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("dhcp-netns".into())
            .spawn_scoped(scope, move || {
                nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
                    Error::EnterNetns {
                        path: path.to_path_buf(),
                        source: std::io::Error::from(e),
                    }
                })?;
                f()
            })
            .map_err(|source| Error::EnterNetns {
                path: path.to_path_buf(),
                source,
            })?;
        handle.join().unwrap_or_else(|_| {
            Err(Error::EnterNetns {
                path: path.to_path_buf(),
                source: std::io::Error::other("the namespace thread panicked"),
            })
        })
    })
}
