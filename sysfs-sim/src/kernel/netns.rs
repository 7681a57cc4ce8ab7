//! Network namespaces: finding one by its file, creating one as `ip netns add` does, and
//! deleting one as the kernel does when its last user goes.

use sriov_core::Netns;

use super::Errno;
use crate::model::{HOST_NS, Model, Namespace, NetdevKind, NsId};

impl Model {
    /// The namespace `ns` names: ENOENT when no namespace has that file.
    pub fn ns_id(&self, ns: &Netns) -> Result<NsId, Errno> {
        match ns {
            Netns::Host => Ok(HOST_NS),
            Netns::Path(p) => self.ns_by_path(p).ok_or(libc::ENOENT),
        }
    }

    /// Creates a network namespace as `ip netns add <name>` does, with its own `lo`: EINVAL for
    /// an empty name or one with a `/`, EEXIST when it exists.
    pub fn add_netns(&mut self, name: &str) -> Result<Netns, Errno> {
        let netns = Netns::named(name);
        let Netns::Path(path) = &netns else {
            return Err(libc::EINVAL);
        };
        if name.is_empty() || name.contains('/') {
            return Err(libc::EINVAL);
        }
        if self.ns_by_path(path).is_some() {
            return Err(libc::EEXIST);
        }
        let id = self.next_ns;
        self.next_ns += 1;
        self.namespaces.insert(
            id,
            Namespace {
                path: Some(path.clone()),
                routes: Vec::new(),
            },
        );
        self.add_loopback(id);
        Ok(netns)
    }

    /// Adds a namespace whose file is `path` (one made by someone else, such as a container
    /// runtime's `/var/run/netns/cni-...` or `/proc/<pid>/ns/net`), with its own `lo`: EINVAL
    /// for a relative path, EEXIST when a namespace has that file.
    pub fn attach_netns(&mut self, path: &std::path::Path) -> Result<Netns, Errno> {
        if !path.is_absolute() {
            return Err(libc::EINVAL);
        }
        if self.ns_by_path(path).is_some() {
            return Err(libc::EEXIST);
        }
        let id = self.next_ns;
        self.next_ns += 1;
        self.namespaces.insert(
            id,
            Namespace {
                path: Some(path.to_path_buf()),
                routes: Vec::new(),
            },
        );
        self.add_loopback(id);
        Ok(Netns::Path(path.to_path_buf()))
    }

    /// Deletes a namespace as the kernel does when its last user goes
    /// (`default_device_exit_net`): physical (PCI) netdevs return to the host, down and without
    /// addresses, renamed `dev<N>` if their name is taken there; virtual ones (and both ends of
    /// a veth) are destroyed; in exclusive mode its RDMA devices return to the host. ENOENT for
    /// a missing namespace, EINVAL for the host's.
    pub fn del_netns(&mut self, ns: &Netns) -> Result<(), Errno> {
        let id = self.ns_id(ns)?;
        if id == HOST_NS {
            return Err(libc::EINVAL);
        }
        let members: Vec<u32> = self
            .netdevs
            .values()
            .filter(|d| d.ns == id)
            .map(|d| d.ifindex)
            .collect();
        for ifindex in members {
            let Some(dev) = self.netdevs.get(&ifindex).cloned() else {
                continue;
            };
            match dev.kind {
                NetdevKind::Pci(_) => {
                    // with every `dev<N>` taken the kernel BUG()s here; the simulator keeps the
                    // name
                    let name = if self.netdev_by_name(HOST_NS, &dev.name).is_some() {
                        self.alloc_name(HOST_NS, "dev%d").ok()
                    } else {
                        Some(dev.name.clone())
                    };
                    if let Some(d) = self.netdevs.get_mut(&ifindex) {
                        d.ns = HOST_NS;
                        d.admin_up = false;
                        d.addresses.clear();
                        if let Some(name) = name {
                            d.name = name;
                        }
                    }
                }
                NetdevKind::Veth { peer } => {
                    self.netdevs.remove(&ifindex);
                    self.netdevs.remove(&peer);
                }
                NetdevKind::Loopback => {
                    self.netdevs.remove(&ifindex);
                }
            }
        }
        self.rdma_netns_deleted(id);
        self.namespaces.remove(&id);
        Ok(())
    }
}
