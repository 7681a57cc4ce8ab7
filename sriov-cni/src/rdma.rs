//! The `rdma` plugin's logic (chained after `sriov`): the VF's one RDMA device moved into the
//! pod's namespace, and back on DEL, with a state file under `<hostRoot>/var/lib/cni/rdma/`
//! naming the device and the namespace, written before the move. Only [`sriov_core::RdmaOps`]
//! touches RDMA: on a simulated host its proxy, on a kernel its RDMA-netlink backend.
//!
//! ```
//! # #[cfg(feature = "sim")] {
//! use sriov_cni::rdma::{RdmaAttach, RdmaPlugin, VfChoice};
//! use sriov_core::{Netns, RdmaNetnsMode, RdmaOps};
//! let sim = sysfs_sim::Preset::Reference.build(1).unwrap();
//! let host = sriov_cni::Host::simulated(&sim);
//! host.rdma.set_netns_mode(RdmaNetnsMode::Exclusive).unwrap();
//! let pod = sim.add_netns("pod1").unwrap();
//! let dir = tempfile::tempdir().unwrap();
//! let plugin = RdmaPlugin::new(&host, dir.path());
//! let key = "sriov-rdma-c1-net1";
//! let att = RdmaAttach { key: key.into(), netns: pod.clone(), vf: VfChoice::Pci("0000:3b:00.2".parse().unwrap()) };
//! let dev = plugin.add(&att).unwrap();
//! assert_eq!(host.rdma.devices(&pod).unwrap(), [dev.clone()]);
//! plugin.del(key, None).unwrap();
//! assert!(host.rdma.devices(&Netns::Host).unwrap().contains(&dev));
//! plugin.del(key, None).unwrap(); // idempotent
//! # }
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sriov_core::sysfs::paths;
use sriov_core::{MacAddress, Named, Netns, PciAddress, RdmaNetnsMode, discover};

use crate::error::{Error, Result};
use crate::host::Host;

/// Which VF's RDMA device to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VfChoice {
    /// The VF at this address (`deviceID`).
    Pci(PciAddress),
    /// The VF whose admin MAC in its PF's VF table is this (the prevResult's interface).
    AdminMac(MacAddress),
}

/// One ADD of the `rdma` plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdmaAttach {
    /// The state file's name: `<network>-<containerID>-<ifname>`.
    pub key: String,
    /// The pod's namespace.
    pub netns: Netns,
    /// The VF.
    pub vf: VfChoice,
}

/// The state file (rdma-cni's keys, plus the namespace so DEL works without `CNI_NETNS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RdmaState {
    /// Format version.
    pub version: String,
    /// The VF.
    #[serde(rename = "deviceID")]
    pub device_id: String,
    /// The RDMA device's name in the host.
    pub sandbox_rdma_dev_name: String,
    /// Its name in the pod (the same: moves keep names).
    pub container_rdma_dev_name: String,
    /// The pod's namespace.
    pub netns: Netns,
}

/// The `rdma` plugin's operations on one host.
#[derive(Debug)]
pub struct RdmaPlugin<'a> {
    host: &'a Host,
    state_dir: PathBuf,
}

impl<'a> RdmaPlugin<'a> {
    /// The plugin on `host`, its state files in `state_dir` (`HostRoot::rdma_state_dir`).
    pub fn new(host: &'a Host, state_dir: impl Into<PathBuf>) -> Self {
        RdmaPlugin {
            host,
            state_dir: state_dir.into(),
        }
    }

    fn state_path(&self, key: &str) -> PathBuf {
        self.state_dir.join(key)
    }

    fn find_vf(&self, choice: &VfChoice) -> Result<PciAddress> {
        let mac = match choice {
            VfChoice::Pci(pci) => return Ok(*pci),
            VfChoice::AdminMac(mac) => *mac,
        };
        let pfs = discover(&*self.host.sysfs).map_err(Error::Node)?;
        let net = Named(&*self.host.net);
        let mut found = Vec::new();
        for pf in &pfs {
            let Some(netdev) = &pf.netdev else { continue };
            for entry in net.vfs(netdev)? {
                if entry.state.mac == mac
                    && let Some(vf) = pf.vfs.iter().find(|v| v.index == entry.index)
                {
                    found.push(vf.pci);
                }
            }
        }
        match found.as_slice() {
            [one] => Ok(*one),
            _ => Err(Error::VfByMac {
                mac,
                count: found.len(),
            }),
        }
    }

    fn device_of(&self, pci: PciAddress) -> Result<String> {
        let dir = paths::pci_attr(&pci, "infiniband");
        let mut names = match self.host.sysfs.read_dir(&dir) {
            Ok(names) => names,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Vec::new(),
            Err(source) => return Err(Error::Sysfs { path: dir, source }),
        };
        if names.len() != 1 {
            return Err(Error::RdmaDeviceCount {
                pci,
                count: names.len(),
            });
        }
        Ok(names.remove(0))
    }

    /// ADD: checks the mode is exclusive, finds the VF and its one RDMA device, records it,
    /// moves it into the pod. Returns the device's name. If the move fails the state file is
    /// removed.
    pub fn add(&self, att: &RdmaAttach) -> Result<String> {
        let rdma = Named(&*self.host.rdma);
        let mode = rdma.netns_mode()?;
        if mode != RdmaNetnsMode::Exclusive {
            return Err(Error::RdmaModeNotExclusive { mode });
        }
        let pci = self.find_vf(&att.vf)?;
        let dev = self.device_of(pci)?;
        let state = RdmaState {
            version: "1.0".into(),
            device_id: pci.to_string(),
            sandbox_rdma_dev_name: dev.clone(),
            container_rdma_dev_name: dev.clone(),
            netns: att.netns.clone(),
        };
        let path = self.state_path(&att.key);
        self.write_state(&path, &state)?;
        if let Err(e) = rdma.move_device(&Netns::Host, &dev, &att.netns) {
            let _ = state_files::remove(&path);
            return Err(e.into());
        }
        Ok(dev)
    }

    fn write_state(&self, path: &Path, state: &RdmaState) -> Result<()> {
        let what = || format!("write RDMA state {}", path.display());
        state_files::create_private_dir(&self.state_dir).map_err(|source| Error::State {
            what: what(),
            source,
        })?;
        let bytes = serde_json::to_vec(state).map_err(|e| Error::RdmaStateCorrupt {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        state_files::write_atomic(path, &bytes).map_err(|source| Error::State {
            what: what(),
            source,
        })
    }

    /// The state of attachment `key`, if any.
    pub fn state(&self, key: &str) -> Result<Option<RdmaState>> {
        let path = self.state_path(key);
        let bytes = state_files::read(&path).map_err(|source| Error::State {
            what: format!("read RDMA state {}", path.display()),
            source,
        })?;
        bytes
            .map(|b| {
                serde_json::from_slice(&b).map_err(|e| Error::RdmaStateCorrupt {
                    path: path.clone(),
                    detail: e.to_string(),
                })
            })
            .transpose()
    }

    /// DEL: moves the recorded device back to the host from the recorded namespace (or
    /// `netns`, when given and different), or finds it already there (its namespace died),
    /// then drops the state file. No state file: success.
    pub fn del(&self, key: &str, netns: Option<&Netns>) -> Result<()> {
        let Some(state) = self.state(key)? else {
            return Ok(());
        };
        let rdma = Named(&*self.host.rdma);
        let dev = &state.sandbox_rdma_dev_name;
        let at_home = rdma.devices(&Netns::Host)?.iter().any(|d| d == dev);
        if !at_home {
            let candidates = [Some(&state.netns), netns];
            let from = candidates.into_iter().flatten().find(|ns| {
                self.host.namespaces.exists(ns)
                    && rdma
                        .devices(ns)
                        .map(|ds| ds.iter().any(|d| d == dev))
                        .unwrap_or(false)
            });
            if let Some(from) = from {
                rdma.move_device(from, dev, &Netns::Host)?;
            }
            // else: not visible anywhere we can name; the kernel returns it to the host when
            // its namespace dies, so there is nothing left to do but forget it
        }
        let path = self.state_path(key);
        state_files::remove(&path).map_err(|source| Error::State {
            what: format!("remove RDMA state {}", path.display()),
            source,
        })
    }

    /// CHECK: the recorded device is in the pod's namespace.
    pub fn check(&self, key: &str, netns: &Netns) -> Result<()> {
        let state = self.state(key)?.ok_or_else(|| Error::RdmaStateCorrupt {
            path: self.state_path(key),
            detail: "no state for this attachment".into(),
        })?;
        let rdma = Named(&*self.host.rdma);
        if !rdma
            .devices(netns)?
            .contains(&state.container_rdma_dev_name)
        {
            return Err(Error::RdmaNotInPod {
                device: state.container_rdma_dev_name,
                netns: netns.clone(),
            });
        }
        Ok(())
    }
}
