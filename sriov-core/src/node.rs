//! Node state: where a program finds the node it runs on, and which host backends it uses.
//!
//! One rule for every program of the project: each node path (`/sys`, `/var/lib/cni`,
//! `/var/lib/kubelet`, `/var/run/k8s.cni.cncf.io`, `/dev/infiniband`) is taken under the
//! host root ([`HostRoot`]): the netconf key `hostRoot` when a plugin's config has one, else
//! the environment variable `RDMA_SRIOV_HOST_ROOT` (runtimes pass their environment to plugins,
//! and a meta plugin to its delegates), else `/`; daemons and `rdmactl` take `--root DIR`
//! ([`HostRoot::new`]). A simulated node is one directory; with the default, these are the
//! real node's paths.
//!
//! [`Backends::open`] gives the host traits a program must use under a root: the sysfs files
//! under it, and for netlink and RDMA netlink the simulated host's proxy when the root holds
//! one (`<root>/run/sysfs-sim/host.sock`, made by `rdmactl sim start`), else the kernel's.
//!
//! ```
//! use sriov_core::node::{Backends, BackendKind, HostRoot};
//! let dir = tempfile::tempdir().unwrap();
//! let root = HostRoot::new(dir.path());
//! assert_eq!(root.sriov_state_dir(), dir.path().join("var/lib/cni/sriov"));
//! assert_eq!(root.proxy_socket(), dir.path().join("run/sysfs-sim/host.sock"));
//! // no simulated host there: the kernel's backends, sysfs under the root
//! let backends = Backends::open(&root).unwrap();
//! assert_eq!(backends.kind(), &BackendKind::Kernel);
//! assert_eq!(HostRoot::resolve(Some("/srv/node1"), None).unwrap().dir(), std::path::Path::new("/srv/node1"));
//! assert!(HostRoot::resolve(Some("relative/dir"), None).is_err());
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use crate::{Error, Result};
#[cfg(feature = "netlink")]
use crate::{FsSysfs, NetOps, Netns, RdmaOps, Sysfs};

/// The environment variable that gives the host root when a netconf has no `hostRoot`.
pub const HOST_ROOT_ENV: &str = "RDMA_SRIOV_HOST_ROOT";

/// Where a host root came from (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRootSource {
    /// The netconf key `hostRoot`.
    Netconf,
    /// The environment variable [`HOST_ROOT_ENV`].
    Environment,
    /// A program's `--root DIR`.
    CommandLine,
    /// Nothing given: `/`.
    Default,
}

impl fmt::Display for HostRootSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostRootSource::Netconf => "netconf key hostRoot",
            HostRootSource::Environment => HOST_ROOT_ENV,
            HostRootSource::CommandLine => "--root",
            HostRootSource::Default => "default",
        })
    }
}

/// The directory a node's paths are under (`/` on a real node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoot {
    dir: PathBuf,
    source: HostRootSource,
}

impl HostRoot {
    /// The root a daemon or `rdmactl` was given with `--root DIR` (any path, relative ones
    /// from the current directory).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        HostRoot {
            dir: dir.into(),
            source: HostRootSource::CommandLine,
        }
    }

    /// The real node: `/`.
    pub fn system() -> Self {
        HostRoot {
            dir: PathBuf::from("/"),
            source: HostRootSource::Default,
        }
    }

    /// The rule: `netconf` (the config's `hostRoot`) if given, else `env` (the value of
    /// [`HOST_ROOT_ENV`]; empty counts as unset), else `/`. A given value must be an
    /// absolute path: a plugin's working directory is the runtime's, so a relative one would
    /// name a different directory for each caller.
    pub fn resolve(netconf: Option<&str>, env: Option<&str>) -> Result<Self> {
        let (value, source) = match (netconf, env) {
            (Some(v), _) => (v, HostRootSource::Netconf),
            (None, Some(v)) if !v.is_empty() => (v, HostRootSource::Environment),
            _ => return Ok(HostRoot::system()),
        };
        if !Path::new(value).is_absolute() {
            return Err(Error::HostRoot {
                given_by: source,
                value: value.to_string(),
            });
        }
        Ok(HostRoot {
            dir: PathBuf::from(value),
            source,
        })
    }

    /// [`Self::resolve`] with this process's environment.
    pub fn from_env(netconf: Option<&str>) -> Result<Self> {
        let env = std::env::var(HOST_ROOT_ENV).ok();
        Self::resolve(netconf, env.as_deref())
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where it came from.
    pub fn source(&self) -> HostRootSource {
        self.source
    }

    /// `<root>/sys`.
    pub fn sys_dir(&self) -> PathBuf {
        self.dir.join("sys")
    }

    /// `<root>/var/lib/cni/sriov`: the VF ledger, per-VF locks, the SR-IOV plugin's state.
    pub fn sriov_state_dir(&self) -> PathBuf {
        self.dir.join("var/lib/cni/sriov")
    }

    /// `<root>/var/lib/cni/sriov/vf-ledger.json`: the node's VF ledger
    /// ([`crate::ledger::PersistentPool`]), shared by the device plugin and the CNI plugins.
    pub fn vf_ledger(&self) -> PathBuf {
        self.sriov_state_dir().join("vf-ledger.json")
    }

    /// `<root>/var/lib/cni/sriov/pci/vf_lock`: one lock file per VF (`<pci>.lock`), the
    /// anchor's path.
    pub fn vf_lock_dir(&self) -> PathBuf {
        self.sriov_state_dir().join("pci/vf_lock")
    }

    /// `<root>/var/lib/cni/rdma`: the RDMA plugin's state.
    pub fn rdma_state_dir(&self) -> PathBuf {
        self.dir.join("var/lib/cni/rdma")
    }

    /// `<root>/var/lib/kubelet`: device-plugin sockets, pod resources.
    pub fn kubelet_dir(&self) -> PathBuf {
        self.dir.join("var/lib/kubelet")
    }

    /// `<root>/var/run/k8s.cni.cncf.io`: Multus's per-pod device info.
    pub fn multus_dir(&self) -> PathBuf {
        self.dir.join("var/run/k8s.cni.cncf.io")
    }

    /// `path`, a node path (`/var/lib/cni/multus`), taken under the root; a relative `path`
    /// is taken as if it began with `/`.
    ///
    /// ```
    /// use sriov_core::node::HostRoot;
    /// let root = HostRoot::new("/srv/node1");
    /// assert_eq!(root.node_path("/var/lib/cni/multus".as_ref()), std::path::Path::new("/srv/node1/var/lib/cni/multus"));
    /// assert_eq!(HostRoot::system().node_path("/etc/cni".as_ref()), std::path::Path::new("/etc/cni"));
    /// ```
    pub fn node_path(&self, path: &Path) -> PathBuf {
        let relative: PathBuf = path
            .components()
            .filter(|c| {
                !matches!(
                    c,
                    std::path::Component::RootDir | std::path::Component::Prefix(_)
                )
            })
            .collect();
        self.dir.join(relative)
    }

    /// `<root>/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint`: the kubelet's
    /// device-manager checkpoint.
    pub fn kubelet_checkpoint(&self) -> PathBuf {
        self.kubelet_dir()
            .join("device-plugins/kubelet_internal_checkpoint")
    }

    /// `<root>/var/lib/kubelet/pod-resources/kubelet.sock`: the kubelet's pod-resources socket.
    pub fn pod_resources_socket(&self) -> PathBuf {
        self.kubelet_dir().join("pod-resources/kubelet.sock")
    }

    /// `<root>/var/run/k8s.cni.cncf.io/devinfo`: device-info files (`dp/` written by device
    /// plugins, `cni/` by the meta plugin for its delegates).
    pub fn device_info_dir(&self) -> PathBuf {
        self.multus_dir().join("devinfo")
    }

    /// `<root>/dev/infiniband`: the RDMA character devices.
    pub fn dev_infiniband(&self) -> PathBuf {
        self.dir.join("dev/infiniband")
    }

    /// `<root>/run/sysfs-sim`: a simulated host's files (socket, state file, log).
    pub fn sim_dir(&self) -> PathBuf {
        self.dir.join("run/sysfs-sim")
    }

    /// `<root>/run/sysfs-sim/host.sock`: a simulated host's proxy socket.
    pub fn proxy_socket(&self) -> PathBuf {
        self.sim_dir().join("host.sock")
    }

    /// True when the root holds a simulated host's proxy socket.
    pub fn has_simulated_host(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(self.proxy_socket()).is_ok_and(|m| m.file_type().is_socket())
    }
}

/// What [`Backends::open`] chose.
#[cfg(feature = "netlink")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendKind {
    /// The kernel's: rtnetlink, RDMA netlink.
    Kernel,
    /// A simulated host's proxy at this socket.
    Simulated {
        /// The socket.
        socket: PathBuf,
    },
}

/// The host traits a program uses on a node: [`Self::sysfs`] (the files under the root),
/// [`Self::net`] and [`Self::rdma`] (a simulated host's proxy when the root holds one, else the
/// kernel's). Needs the `netlink` feature (the kernel's backend is rtnetlink).
#[cfg(feature = "netlink")]
pub struct Backends {
    /// The sysfs under the root (on a simulated host, its live FUSE mount).
    pub sysfs: FsSysfs,
    /// Links and VF tables.
    pub net: Box<dyn NetOps>,
    /// RDMA netns mode and device moves.
    pub rdma: Box<dyn RdmaOps>,
    kind: BackendKind,
    #[cfg(feature = "host-proxy")]
    proxy: Option<crate::host_proxy::ProxyClient>,
}

#[cfg(feature = "netlink")]
impl fmt::Debug for Backends {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backends")
            .field("sysfs", &self.sysfs)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "netlink")]
impl Backends {
    /// The backends of the node under `root` (see the module docs). Opening the kernel's
    /// netlink backend can fail (no `/proc/self/ns/net`): an [`Error::OpenBackend`].
    pub fn open(root: &HostRoot) -> Result<Self> {
        let sysfs = FsSysfs::new(root.dir());
        #[cfg(feature = "host-proxy")]
        if root.has_simulated_host() {
            let socket = root.proxy_socket();
            let client = crate::host_proxy::ProxyClient::new(&socket);
            return Ok(Backends {
                sysfs,
                net: Box::new(client.clone()),
                rdma: Box::new(client.clone()),
                kind: BackendKind::Simulated { socket },
                proxy: Some(client),
            });
        }
        let net = crate::rtnl::RtnlNetOps::new().map_err(|source| Error::OpenBackend {
            backend: "rtnetlink",
            source,
        })?;
        Ok(Backends {
            sysfs,
            net: Box::new(net),
            rdma: Box::new(crate::rdma_nl::RdmaNetlinkOps::new().map_err(|source| {
                Error::OpenBackend {
                    backend: "RDMA netlink",
                    source,
                }
            })?),
            kind: BackendKind::Kernel,
            #[cfg(feature = "host-proxy")]
            proxy: None,
        })
    }

    /// What was chosen.
    pub fn kind(&self) -> &BackendKind {
        &self.kind
    }

    /// The sysfs a process in namespace `ns` sees. The host's is [`Self::sysfs`]; another
    /// namespace's is read through a simulated host's proxy, and on a real node is an
    /// [`Error::NoNamespaceView`] (it would need a sysfs mounted inside that namespace).
    pub fn sysfs_of(&self, ns: &Netns) -> Result<Box<dyn Sysfs>> {
        #[cfg(feature = "host-proxy")]
        if let Some(proxy) = &self.proxy {
            return Ok(Box::new(proxy.sysfs_of(ns)));
        }
        match ns {
            Netns::Host => Ok(Box::new(self.sysfs.clone())),
            Netns::Path(_) => Err(Error::NoNamespaceView {
                root: self.sysfs.root().to_path_buf(),
                ns: ns.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "netlink")]
    use crate::RdmaNetnsMode;

    #[test]
    fn netconf_wins_then_env_then_slash() {
        let r = HostRoot::resolve(Some("/a"), Some("/b")).unwrap();
        assert_eq!(
            (r.dir(), r.source()),
            (Path::new("/a"), HostRootSource::Netconf)
        );
        let r = HostRoot::resolve(None, Some("/b")).unwrap();
        assert_eq!(
            (r.dir(), r.source()),
            (Path::new("/b"), HostRootSource::Environment)
        );
        for env in [None, Some("")] {
            let r = HostRoot::resolve(None, env).unwrap();
            assert_eq!(
                (r.dir(), r.source()),
                (Path::new("/"), HostRootSource::Default)
            );
        }
        let err = HostRoot::resolve(None, Some("b")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "host root \"b\" from RDMA_SRIOV_HOST_ROOT is not an absolute path"
        );
        assert!(HostRoot::resolve(Some(""), Some("/b")).is_err());
    }

    #[test]
    fn the_default_root_gives_the_anchor_paths() {
        let r = HostRoot::system();
        assert_eq!(r.sys_dir(), Path::new("/sys"));
        assert_eq!(r.sriov_state_dir(), Path::new("/var/lib/cni/sriov"));
        assert_eq!(r.rdma_state_dir(), Path::new("/var/lib/cni/rdma"));
        assert_eq!(r.kubelet_dir(), Path::new("/var/lib/kubelet"));
        assert_eq!(r.multus_dir(), Path::new("/var/run/k8s.cni.cncf.io"));
        assert_eq!(r.dev_infiniband(), Path::new("/dev/infiniband"));
        assert_eq!(r.proxy_socket(), Path::new("/run/sysfs-sim/host.sock"));
    }

    /// True when this kernel refuses `NETLINK_RDMA` sockets (no RDMA netlink).
    #[cfg(feature = "netlink")]
    fn kernel_lacks_rdma_netlink() -> bool {
        matches!(
            rdma_nl::RdmaSocket::open("probe"),
            Err(rdma_nl::Error::NoRdmaNetlink { .. })
        )
    }

    #[cfg(feature = "netlink")]
    #[test]
    fn the_kernel_backend_without_rdma_netlink_says_so_naming_the_operation() {
        if !kernel_lacks_rdma_netlink() {
            eprintln!("SKIP: this kernel has RDMA netlink");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let backends = Backends::open(&HostRoot::new(dir.path())).unwrap();
        let rdma = crate::Named(&backends.rdma);
        let pod = Netns::named("p");
        let errs = [
            rdma.netns_mode().unwrap_err(),
            rdma.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap_err(),
            rdma.devices(&Netns::Host).unwrap_err(),
            // the target namespace is opened first: use one that exists
            rdma.move_device(
                &Netns::Host,
                "mlx5_0",
                &Netns::Path("/proc/self/ns/net".into()),
            )
            .unwrap_err(),
        ];
        let want = [
            "read the RDMA netns mode of the RDMA subsystem: RDMA_NLDEV_CMD_SYS_GET: this kernel has no RDMA netlink",
            "set the RDMA netns mode of the RDMA subsystem to exclusive: RDMA_NLDEV_CMD_SYS_SET netns: this kernel has no RDMA netlink",
            "list RDMA devices in namespace host: RDMA_NLDEV_CMD_GET dump: this kernel has no RDMA netlink",
            "move RDMA device mlx5_0 in host to /proc/self/ns/net: RDMA_NLDEV_CMD_GET dump: this kernel has no RDMA netlink",
        ];
        for (e, want) in errs.iter().zip(want) {
            assert!(e.to_string().starts_with(want), "{e}");
            assert_eq!(e.errno(), Some(libc::EPROTONOSUPPORT), "{e}");
        }
        // a namespace that does not exist is ENOENT before any RDMA request
        let e = rdma.move_device(&Netns::Host, "mlx5_0", &pod).unwrap_err();
        assert_eq!(e.errno(), Some(libc::ENOENT), "{e}");
    }

    #[cfg(feature = "host-proxy")]
    #[cfg(feature = "netlink")]
    #[test]
    fn a_socket_under_the_root_selects_the_proxy() {
        let dir = tempfile::tempdir().unwrap();
        let root = HostRoot::new(dir.path());
        std::fs::create_dir_all(root.sim_dir()).unwrap();
        // a plain file is not a simulated host
        std::fs::write(root.proxy_socket(), b"").unwrap();
        assert_eq!(Backends::open(&root).unwrap().kind(), &BackendKind::Kernel);
        std::fs::remove_file(root.proxy_socket()).unwrap();
        let _listener = std::os::unix::net::UnixListener::bind(root.proxy_socket()).unwrap();
        let backends = Backends::open(&root).unwrap();
        assert_eq!(
            backends.kind(),
            &BackendKind::Simulated {
                socket: root.proxy_socket()
            }
        );
        assert!(backends.sysfs_of(&Netns::named("pod")).is_ok());
    }
}
