//! The simulator's [`RdmaOps`] (the RDMA netns mode, moving devices between namespaces): thin
//! calls into the kernel model's rules (`kernel/rdma.rs`) that check faults and log each
//! operation; and the character devices a host's `/dev/infiniband` holds.

use std::io;
use std::path::{Path, PathBuf};

use sriov_core::{Netns, RdmaNetnsMode, RdmaOps};

use crate::host::SimHost;
use crate::kernel::io_error;
use crate::op_log::Op;
use crate::rdma::RDMA_CM_DEV;
use crate::rdma_project::{issm_dev, umad_dev, uverbs_dev};

/// A character device under `/dev/infiniband`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DevNode {
    /// Its path, `/dev/infiniband/uverbs3`.
    pub path: PathBuf,
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
    /// The RDMA device it belongs to (`None` for `rdma_cm`).
    pub ibdev: Option<String>,
}

/// RDMA netlink on a simulated host.
///
/// ```
/// use sriov_core::{Netns, RdmaNetnsMode, RdmaOps};
/// let host = sysfs_sim::Preset::Reference.build(1).unwrap();
/// let rdma = host.rdma_ops();
/// // moving needs exclusive mode, which must be set before any other namespace exists
/// let pod = host.add_netns("pod").unwrap();
/// let err = rdma.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap_err();
/// assert_eq!(err.raw_os_error(), Some(libc::EBUSY));
/// host.del_netns(&pod).unwrap();
/// rdma.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap();
/// let pod = host.add_netns("pod").unwrap();
/// rdma.move_device(&Netns::Host, "mlx5_5", &pod).unwrap();
/// assert_eq!(rdma.devices(&pod).unwrap(), ["mlx5_5"]);
/// // the namespace goes, the device comes back
/// host.del_netns(&pod).unwrap();
/// assert!(rdma.devices(&Netns::Host).unwrap().contains(&"mlx5_5".to_string()));
/// ```
#[derive(Clone, Debug)]
pub struct SimRdmaOps {
    host: SimHost,
}

impl SimHost {
    /// RDMA netlink operations on this host.
    pub fn rdma_ops(&self) -> SimRdmaOps {
        SimRdmaOps { host: self.clone() }
    }

    /// Every character device of the RDMA subsystem, as devtmpfs shows them in
    /// `/dev/infiniband` (the same in every namespace): `uverbsN`, `umadN`, `issmN` per device
    /// and `rdma_cm`, sorted by path.
    pub fn rdma_dev_nodes(&self) -> Vec<DevNode> {
        let inner = self.lock();
        let model = &inner.model;
        let mut out = Vec::new();
        for dev in model.rdma.devices.values() {
            let entries = [
                (format!("uverbs{}", dev.uverbs), uverbs_dev(dev.uverbs)),
                (format!("umad{}", dev.umad), umad_dev(dev.umad)),
                (format!("issm{}", dev.umad), issm_dev(dev.umad)),
            ];
            for (name, (major, minor)) in entries {
                out.push(DevNode {
                    path: Path::new("/dev/infiniband").join(name),
                    major,
                    minor,
                    ibdev: Some(dev.name.clone()),
                });
            }
        }
        if model.functions.keys().any(|pci| model.is_mlx5(*pci)) {
            out.push(DevNode {
                path: PathBuf::from("/dev/infiniband/rdma_cm"),
                major: RDMA_CM_DEV.0,
                minor: RDMA_CM_DEV.1,
                ibdev: None,
            });
        }
        out.sort();
        out
    }

    /// Writes each of [`Self::rdma_dev_nodes`] as an empty plain file under `dir`
    /// (`dir/dev/infiniband/uverbs0`, ...): stand-ins for a reader that only checks that the
    /// node exists (libibverbs listing devices), never real device nodes. Returns the files.
    pub fn render_rdma_dev_stubs(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let nodes = self.rdma_dev_nodes();
        let base = dir.join("dev/infiniband");
        std::fs::create_dir_all(&base)?;
        let mut out = Vec::with_capacity(nodes.len());
        for node in nodes {
            let Some(name) = node.path.file_name() else {
                continue;
            };
            let path = base.join(name);
            std::fs::write(&path, b"")?;
            out.push(path);
        }
        Ok(out)
    }
}

impl SimRdmaOps {
    /// Opening `/dev/infiniband/uverbsN` from a process in `ns`; see
    /// [`crate::model::Model::rdma_open_uverbs`] (ENODEV, EPERM).
    pub fn open_uverbs(&self, ns: &Netns, uverbs: &str) -> io::Result<()> {
        self.host
            .lock()
            .model
            .rdma_open_uverbs(ns, uverbs)
            .map_err(io_error)
    }
}

impl RdmaOps for SimRdmaOps {
    fn netns_mode(&self) -> io::Result<RdmaNetnsMode> {
        Ok(self.host.lock().model.rdma.netns_mode)
    }

    fn set_netns_mode(&self, mode: RdmaNetnsMode) -> io::Result<()> {
        self.host.lock().execute(Op::SetRdmaNetnsMode(mode), |s| {
            s.model.rdma_set_netns_mode(mode)
        })
    }

    fn devices(&self, ns: &Netns) -> io::Result<Vec<String>> {
        self.host.lock().model.rdma_devices(ns).map_err(io_error)
    }

    fn move_device(&self, from: &Netns, ibdev: &str, to: &Netns) -> io::Result<()> {
        let op = Op::MoveRdmaDevice {
            from: from.clone(),
            ibdev: ibdev.to_string(),
            to: to.clone(),
        };
        self.host
            .lock()
            .execute(op, |s| s.model.rdma_move(from, ibdev, to))
    }

    fn other_namespaces(&self) -> io::Result<Vec<Netns>> {
        let mut namespaces = self.host.namespaces();
        namespaces.sort_by_key(ToString::to_string);
        Ok(namespaces)
    }
}
