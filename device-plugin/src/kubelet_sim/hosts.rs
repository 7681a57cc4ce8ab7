//! Simulated hosts for daemon tests: the presets (kept here, in one place, so a change of the
//! preset API touches only this file) and [`RenderedHost`], a simulated host rendered to a
//! directory that a separate process reads as `--root DIR`.
//!
//! A rendered tree is a snapshot: to show a change, change the [`SimHost`] and
//! [`RenderedHost::render`] again. Each render goes to a new directory and `DIR/sys` is switched
//! to it with one atomic `rename` of a symbolic link, so a reader never sees a half-written
//! tree; the render before stays in place for readers still in it.

use std::path::{Path, PathBuf};

use sriov_core::{NetOps, Netns};
use sysfs_sim::{BuildError, SimHost};

use super::SimError;

/// The reference worker node: one dual-port ConnectX-5 (`ens2f0`, `ens2f1`), 8 VFs of
/// `ens2f0` enabled, NUMA node 0.
pub fn reference(seed: u64) -> Result<SimHost, BuildError> {
    sysfs_sim::Preset::Reference.build(seed)
}

/// The large host: 8 PFs with 127 VFs each (1,016), on two NUMA nodes.
pub fn large(seed: u64) -> Result<SimHost, BuildError> {
    sysfs_sim::Preset::Large.build(seed)
}

/// The netdev names of every PF of `host`, in PCI order.
pub fn pf_netdevs(host: &SimHost) -> Result<Vec<String>, SimError> {
    Ok(sriov_core::discover(&host.sysfs())?
        .into_iter()
        .filter_map(|pf| pf.netdev)
        .collect())
}

/// Brings every PF netdev of `host` up, as a node's network configuration does (a fresh
/// simulated host has them administratively down, so every VF's physical link is down).
pub fn bring_pfs_up(host: &SimHost) -> Result<(), SimError> {
    let net = host.net_ops();
    for name in pf_netdevs(host)? {
        net.set_link_up(&Netns::Host, &name, true)
            .map_err(|source| SimError::Io {
                op: "set link up",
                path: PathBuf::from(name),
                source,
            })?;
    }
    Ok(())
}

/// A simulated host rendered under a root directory.
#[derive(Debug)]
pub struct RenderedHost {
    host: SimHost,
    root: PathBuf,
    generation: u64,
}

const RENDERS: &str = ".sysfs-renders";

impl RenderedHost {
    /// Renders `host` under `root` (`root/sys` reads like `/sys`).
    pub fn new(host: SimHost, root: &Path) -> Result<Self, SimError> {
        let mut this = RenderedHost {
            host,
            root: root.to_path_buf(),
            generation: 0,
        };
        this.render()?;
        Ok(this)
    }

    /// The simulated host (change it, then [`Self::render`]).
    pub fn host(&self) -> &SimHost {
        &self.host
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Renders the host's current state and switches `root/sys` to it atomically.
    pub fn render(&mut self) -> Result<(), SimError> {
        let io = |op, path: &Path| {
            let path = path.to_path_buf();
            move |source| SimError::Io { op, path, source }
        };
        self.generation += 1;
        let dir = self.root.join(RENDERS).join(self.generation.to_string());
        self.host
            .render(&dir, &Netns::Host)
            .map_err(io("render simulated host to", &dir))?;
        let link = self.root.join("sys");
        let tmp = self.root.join(".sys.next");
        let _ = std::fs::remove_file(&tmp);
        let target = Path::new(RENDERS)
            .join(self.generation.to_string())
            .join("sys");
        std::os::unix::fs::symlink(&target, &tmp).map_err(io("symlink", &tmp))?;
        std::fs::rename(&tmp, &link).map_err(io("rename over", &link))?;
        if self.generation > 2 {
            let old = self
                .root
                .join(RENDERS)
                .join((self.generation - 2).to_string());
            std::fs::remove_dir_all(&old).map_err(io("remove old render", &old))?;
        }
        Ok(())
    }
}
