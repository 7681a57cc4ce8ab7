//! The attach/detach engine: ADD, DEL, CHECK, GC and reconcile of SR-IOV VFs over the host
//! traits ([`Host`]) and the node's ledger ([`Ledger`]).
//!
//! Every ADD is a sequence of stages ([`AttachStage`]): the ledger record of the attachment,
//! holding the VF's original state ([`SavedVfState`]: its PF-side VF table entry, host name,
//! MAC and MTU) and the pod's namespace, is written before the first change, and each stage
//! is recorded before it starts. Each stage's undo compares the host with the saved state and
//! changes only what differs, so it is idempotent and safe to run for a stage that had barely
//! begun. DEL, the next ADD of the VF and [`Engine::reconcile`] all run the same undos from the
//! record, newest stage first, so a process killed at any instant leaves a state from which the
//! VF is put back exactly:
//!
//! 1. `pf-config`: VLAN/QoS/proto, admin MAC (retried on EBUSY, read back), rates, spoofchk,
//!    trust, link state, in the anchor's order. Undo: the saved entry, field by field, reversed.
//! 2. `netdev`: link down, moved into a temporary namespace, renamed to the pod's ifname there
//!    (so a host VF called `eth0` works), moved into the pod, the effective MAC set, link up.
//!    Undo: the netdev found where it is (the host under any name, including `dev<N>` after its
//!    namespace died, or the pod under its ifname), down, renamed to a transit name, moved to
//!    the host, renamed to its saved name, its MAC and MTU put back.
//! 3. `ipam`: IPAM ADD after link up. Undo: IPAM DEL.
//! 4. `attached`.
//!
//! A VF the ledger gives to another attachment is refused while that attachment's namespace
//! exists; when it is gone, the record is reclaimed (its undos run first). A DEL only ever acts
//! on the record of its own attachment, so a late DEL of an old owner never touches the VF of
//! a new one. ADD and DEL of one VF are serialised by a per-VF lock ([`VfLocking`]).
//!
//! The engine reads no clock and draws no random number: run on a `sysfs-sim` host with an
//! in-memory [`sriov_core::pool::VfPool`] ledger and [`VfLocking::Exclusive`], it is
//! deterministic (see the crate README for an example).

use std::path::PathBuf;
use std::time::Duration;

use cni_types::{Interface, Result100};
use serde::Serialize;
use sriov_core::discovery::{function_netdev, lookup_vf};
use sriov_core::ledger::Ledger;
use sriov_core::pool::{Allocation, AttachStage, AttachmentIntent, Owner, SavedVfState, Selector};
use sriov_core::sysfs::paths;
use sriov_core::{MacAddress, Named, Netns, PciAddress, VfConfig, VfState};
use state_files::FileLock;

use crate::error::{Error, Result};
use crate::host::Host;
use crate::ipam::{Ipam, NoIpam};

/// How ADD and DEL of one VF are kept apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VfLocking {
    /// A `flock` on `<dir>/<pci>.lock` per VF (the plugins: `HostRoot::vf_lock_dir`), held
    /// for the whole operation; processes and threads wait for each other.
    Files(PathBuf),
    /// No lock: the caller guarantees that this engine is the only one using its ledger (an
    /// in-memory simulation or benchmark).
    Exclusive,
}

/// How often an EBUSY from setting a VF's admin MAC is retried (i40e/iavf apply it
/// asynchronously and answer EBUSY meanwhile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all.
    pub attempts: u32,
    /// Pause between attempts (zero in simulations: no clock is read).
    pub delay: Duration,
}

impl RetryPolicy {
    /// The anchor's: 20 attempts, 100 ms apart.
    pub const ANCHOR: RetryPolicy = RetryPolicy {
        attempts: 20,
        delay: Duration::from_millis(100),
    };
}

/// The engine's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// Per-VF locking.
    pub locking: VfLocking,
    /// Admin-MAC retries.
    pub mac_retry: RetryPolicy,
}

impl EngineOptions {
    /// For a simulation: no locks, retries without pauses.
    pub fn exclusive() -> Self {
        EngineOptions {
            locking: VfLocking::Exclusive,
            mac_retry: RetryPolicy {
                attempts: 20,
                delay: Duration::ZERO,
            },
        }
    }

    /// For a node: lock files in `lock_dir`, the anchor's retries.
    pub fn node(lock_dir: impl Into<PathBuf>) -> Self {
        EngineOptions {
            locking: VfLocking::Files(lock_dir.into()),
            mac_retry: RetryPolicy::ANCHOR,
        }
    }
}

/// One ADD.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachRequest {
    /// The attachment (container ID and the pod's interface name).
    pub owner: Owner,
    /// The pod's namespace.
    pub netns: Netns,
    /// The VF (`deviceID`).
    pub vf: PciAddress,
    /// The PF-side configuration to apply; its MAC is also set on the netdev.
    pub config: VfConfig,
}

/// What ADD made.
#[derive(Debug, Clone, PartialEq)]
pub struct Attached {
    /// The VF.
    pub pci: PciAddress,
    /// Its netdev's name in the pod.
    pub ifname: String,
    /// Its netdev's MAC in the pod.
    pub mac: Option<MacAddress>,
    /// The pod's namespace.
    pub netns: Netns,
    /// What IPAM returned.
    pub ipam: Result100,
}

impl Attached {
    /// The CNI result: `interfaces[0]` with name, MAC, sandbox and `pciID`, IPAM's addresses
    /// on it, IPAM's routes and DNS.
    pub fn result(&self) -> Result100 {
        let mut r = self.ipam.clone();
        if r.cni_version.is_empty() {
            r.cni_version = Result100::new().cni_version;
        }
        r.interfaces = vec![Interface {
            name: self.ifname.clone(),
            mac: self.mac.map(|m| m.to_string()).unwrap_or_default(),
            sandbox: self.netns.to_string(),
            pci_id: self.pci.to_string(),
            ..Interface::default()
        }];
        for ip in &mut r.ips {
            ip.interface = Some(0);
        }
        r
    }
}

/// What DEL did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelOutcome {
    /// The attachment held this VF; it is back in the host as it was, and free.
    Released(PciAddress),
    /// The ledger records nothing for the attachment (DEL repeated, or ADD never got far).
    NothingHeld,
}

/// Whether [`Engine::reconcile`] acts or only reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcileMode {
    /// Put VFs back.
    Apply,
    /// Report what would be done.
    DryRun,
}

/// Why reconcile puts a VF back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ReconcileReason {
    /// The attachment's namespace no longer exists.
    NetnsGone {
        /// The namespace.
        netns: String,
    },
    /// An ADD stopped before it completed (its process died) and nobody holds the VF's lock.
    AddInterrupted {
        /// The stage it had begun.
        stage: String,
    },
}

/// One thing reconcile did (or would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileAction {
    /// The VF.
    pub pci: String,
    /// The attachment that held it.
    pub owner: String,
    /// Why.
    pub reason: ReconcileReason,
    /// `restored`, `planned` (dry run) or the error that stopped it.
    pub outcome: String,
}

/// A held per-VF lock.
#[derive(Debug)]
enum VfGuard {
    File(#[allow(dead_code)] FileLock),
    Exclusive,
}

/// Where a VF is and what it belongs to.
#[derive(Debug, Clone)]
struct VfPlace {
    pf_netdev: String,
    index: u32,
    host_netdev: Option<String>,
}

/// The attach/detach engine. See the module docs.
pub struct Engine<L> {
    host: Host,
    ledger: L,
    options: EngineOptions,
}

impl<L> std::fmt::Debug for Engine<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The name a VF's netdev has on its way back to the host (`sr0000-3b-00.5`, 14 bytes): no
/// host link has it, and a later DEL finds it there if one died part way.
pub fn transit_name(pci: PciAddress) -> String {
    format!("sr{}", pci.to_string().replace(':', "-"))
}

fn temp_hint(pci: PciAddress) -> String {
    pci.to_string().replace([':', '.'], "-")
}

impl<L: Ledger> Engine<L> {
    /// An engine on `host` keeping its records in `ledger`.
    pub fn new(host: Host, ledger: L, options: EngineOptions) -> Self {
        Engine {
            host,
            ledger,
            options,
        }
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The ledger.
    pub fn ledger_mut(&mut self) -> &mut L {
        &mut self.ledger
    }

    /// The host and the ledger back (a simulation that "crashes" the engine keeps them).
    pub fn into_parts(self) -> (Host, L) {
        (self.host, self.ledger)
    }

    fn lock_path(dir: &std::path::Path, pci: PciAddress) -> PathBuf {
        dir.join(format!("{pci}.lock"))
    }

    fn lock_vf(&self, pci: PciAddress) -> Result<VfGuard> {
        match &self.options.locking {
            VfLocking::Exclusive => Ok(VfGuard::Exclusive),
            VfLocking::Files(dir) => {
                let what = || format!("lock VF {pci}");
                state_files::create_private_dir(dir).map_err(|source| Error::State {
                    what: what(),
                    source,
                })?;
                FileLock::exclusive(&Self::lock_path(dir, pci))
                    .map(VfGuard::File)
                    .map_err(|source| Error::State {
                        what: what(),
                        source,
                    })
            }
        }
    }

    fn try_lock_vf(&self, pci: PciAddress) -> Result<Option<VfGuard>> {
        match &self.options.locking {
            VfLocking::Exclusive => Ok(Some(VfGuard::Exclusive)),
            VfLocking::Files(dir) => {
                let what = || format!("lock VF {pci}");
                state_files::create_private_dir(dir).map_err(|source| Error::State {
                    what: what(),
                    source,
                })?;
                FileLock::try_exclusive(&Self::lock_path(dir, pci))
                    .map(|l| l.map(VfGuard::File))
                    .map_err(|source| Error::State {
                        what: what(),
                        source,
                    })
            }
        }
    }

    fn locate(&self, pci: PciAddress) -> Result<VfPlace> {
        let found =
            lookup_vf(&*self.host.sysfs, pci).map_err(|source| Error::Device { pci, source })?;
        let pf_netdev = found.pf.netdev.clone().ok_or(Error::PfWithoutNetdev {
            pf: found.pf.pci,
            vf: pci,
        })?;
        Ok(VfPlace {
            pf_netdev,
            index: found.vf.index,
            host_netdev: found.vf.netdev,
        })
    }

    fn vf_state(&self, pf: &str, index: u32) -> Result<VfState> {
        Named(&*self.host.net)
            .vfs(pf)?
            .into_iter()
            .find(|v| v.index == index)
            .map(|v| v.state)
            .ok_or_else(|| Error::NotInVfTable {
                pf: pf.to_string(),
                index,
            })
    }

    fn record_of_vf(&mut self, pci: PciAddress) -> Result<Option<Allocation>> {
        Ok(self.ledger.transact(|p| Ok(p.allocation(pci).cloned()))?)
    }

    /// ADD: attaches `req.vf` to `req.owner` in `req.netns` (see the module docs). On any
    /// failure everything done so far is undone; if the undo fails too, the error says so and
    /// the record stays for DEL or reconcile.
    pub fn add(&mut self, req: &AttachRequest, ipam: &mut dyn Ipam) -> Result<Attached> {
        let _lock = self.lock_vf(req.vf)?;
        let mut place = self.locate(req.vf)?;
        if let Some(prev) = self.record_of_vf(req.vf)? {
            if prev.owner != req.owner {
                match &prev.intent {
                    Some(intent) if !self.host.namespaces.exists(&intent.netns) => {}
                    other => {
                        return Err(Error::VfInUse {
                            pci: req.vf,
                            owner: prev.owner.clone(),
                            netns: other
                                .as_ref()
                                .map_or("unknown".into(), |i| i.netns.to_string()),
                        });
                    }
                }
                // its namespace is gone: put the VF back as that owner found it, then reuse
                self.undo(&prev, &mut NoIpam)?;
            } else {
                // this attachment's own earlier ADD that did not finish (or a repeated ADD)
                self.undo(&prev, ipam)?;
            }
            let owner = prev.owner.clone();
            self.ledger.transact(|p| p.release(req.vf, &owner))?;
            place = self.locate(req.vf)?;
        }
        let host_name = place
            .host_netdev
            .clone()
            .ok_or(Error::NoNetdev { pci: req.vf })?;
        let state = self.vf_state(&place.pf_netdev, place.index)?;
        let link = Named(&*self.host.net).link(&Netns::Host, &host_name)?;
        let saved = SavedVfState {
            pf_netdev: place.pf_netdev.clone(),
            vf_index: place.index,
            vf_state: state,
            host_ifname: Some(host_name.clone()),
            mtu: Some(link.mtu),
            netdev_mac: link.mac,
        };
        let intent = AttachmentIntent {
            netns: req.netns.clone(),
            stage: AttachStage::PfConfig,
        };
        let mut record = Allocation {
            pci: req.vf,
            owner: req.owner.clone(),
            saved: Some(Box::new(saved.clone())),
            intent: Some(intent.clone()),
        };
        // the state to restore is durable before anything changes
        self.ledger.transact(|p| {
            p.allocate(Selector::Pci(req.vf), &req.owner)?;
            p.set_saved(req.vf, &req.owner, saved)?;
            p.set_intent(req.vf, &req.owner, intent)
        })?;
        match self.attach_stages(req, &place, &host_name, &mut record, ipam) {
            Ok(attached) => Ok(attached),
            Err(cause) => {
                let undone = self.undo(&record, ipam).and_then(|()| {
                    self.ledger
                        .transact(|p| p.release(req.vf, &req.owner))
                        .map(drop)
                        .map_err(Error::from)
                });
                match undone {
                    Ok(()) => Err(cause),
                    Err(undo) => Err(Error::Rollback {
                        cause: Box::new(cause),
                        undo: Box::new(undo),
                    }),
                }
            }
        }
    }

    fn advance(&mut self, record: &mut Allocation, stage: AttachStage) -> Result<()> {
        let Some(intent) = &record.intent else {
            return Ok(());
        };
        let next = AttachmentIntent {
            netns: intent.netns.clone(),
            stage,
        };
        let (pci, owner) = (record.pci, record.owner.clone());
        let stored = next.clone();
        self.ledger
            .transact(|p| p.set_intent(pci, &owner, stored))?;
        record.intent = Some(next);
        Ok(())
    }

    fn attach_stages(
        &mut self,
        req: &AttachRequest,
        place: &VfPlace,
        host_name: &str,
        record: &mut Allocation,
        ipam: &mut dyn Ipam,
    ) -> Result<Attached> {
        self.apply_pf_config(&place.pf_netdev, place.index, &req.config)?;
        self.advance(record, AttachStage::Netdev)?;
        self.move_into_pod(req, host_name)?;
        let ifname = req.owner.ifname();
        let mac = Named(&*self.host.net).link(&req.netns, ifname)?.mac;
        self.advance(record, AttachStage::Ipam)?;
        let ipam_result = ipam.add(&req.owner, &req.netns)?;
        self.advance(record, AttachStage::Attached)?;
        Ok(Attached {
            pci: req.vf,
            ifname: ifname.to_string(),
            mac,
            netns: req.netns.clone(),
            ipam: ipam_result,
        })
    }

    fn set_vf_mac_checked(&self, pf: &str, index: u32, mac: MacAddress) -> Result<()> {
        let net = Named(&*self.host.net);
        let policy = self.options.mac_retry;
        let mut attempt = 1;
        loop {
            match net.set_vf_mac(pf, index, mac) {
                Ok(()) => break,
                Err(e) if e.errno() == Some(libc::EBUSY) && attempt < policy.attempts => {
                    attempt += 1;
                    if !policy.delay.is_zero() {
                        std::thread::sleep(policy.delay);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        let read = self.vf_state(pf, index)?.mac;
        if read != mac {
            return Err(Error::MacReadBack {
                pf: pf.to_string(),
                index,
                want: mac,
                read,
            });
        }
        Ok(())
    }

    /// PF-side configuration, in the anchor's order.
    fn apply_pf_config(&self, pf: &str, index: u32, c: &VfConfig) -> Result<()> {
        let net = Named(&*self.host.net);
        if let Some(vlan) = c.vlan {
            net.set_vf_vlan(pf, index, vlan)?;
        }
        if let Some(mac) = c.mac {
            self.set_vf_mac_checked(pf, index, mac)?;
        }
        if let Some(rate) = c.rate {
            net.set_vf_rate(pf, index, rate)?;
        }
        if let Some(on) = c.spoofchk {
            net.set_vf_spoofchk(pf, index, on)?;
        }
        if let Some(on) = c.trust {
            net.set_vf_trust(pf, index, on)?;
        }
        if let Some(state) = c.link_state {
            net.set_vf_link_state(pf, index, state)?;
        }
        Ok(())
    }

    fn move_into_pod(&self, req: &AttachRequest, host_name: &str) -> Result<()> {
        let net = Named(&*self.host.net);
        let ifname = req.owner.ifname();
        let temp = self
            .host
            .namespaces
            .create_temporary(&temp_hint(req.vf))
            .map_err(|source| Error::TempNetns {
                pci: req.vf,
                source,
            })?;
        let tmp = temp.netns().clone();
        net.set_link_up(&Netns::Host, host_name, false)?;
        net.move_link(&Netns::Host, host_name, &tmp)?;
        if host_name != ifname {
            net.rename_link(&tmp, host_name, ifname)?;
        }
        net.move_link(&tmp, ifname, &req.netns)?;
        drop(temp);
        if let Some(mac) = req.config.mac {
            net.set_link_mac(&req.netns, ifname, mac)?;
        }
        net.set_link_up(&req.netns, ifname, true)?;
        Ok(())
    }

    /// Runs the undos of `record`, newest stage first.
    fn undo(&mut self, record: &Allocation, ipam: &mut dyn Ipam) -> Result<()> {
        let Some(saved) = record.saved.as_deref() else {
            return Ok(()); // nothing was changed before the original state was recorded
        };
        let (netns, stage) = match &record.intent {
            Some(i) => (Some(&i.netns), i.stage),
            None => (None, AttachStage::Attached),
        };
        if stage >= AttachStage::Ipam
            && let Some(ns) = netns
        {
            ipam.del(&record.owner, ns)?;
        }
        if stage >= AttachStage::Netdev {
            self.return_netdev(record.pci, saved, netns, record.owner.ifname())?;
        }
        self.restore_pf(saved)
    }

    fn return_netdev(
        &self,
        pci: PciAddress,
        saved: &SavedVfState,
        netns: Option<&Netns>,
        ifname: &str,
    ) -> Result<()> {
        let net = Named(&*self.host.net);
        // a netlink call first: a simulated host's proxy finishes the deletion of namespaces
        // whose files are gone before it answers (returning their VFs, as the kernel has
        // already done on a real node), so sysfs below shows where the netdev is now
        net.links(&Netns::Host)?;
        let dir = paths::pci_device(&pci);
        let in_host = function_netdev(&*self.host.sysfs, &dir)
            .map_err(|source| Error::Device { pci, source })?;
        let not_found = || Error::NetdevNotFound {
            pci,
            netns: netns.map_or("no namespace".into(), |n| n.to_string()),
            ifname: ifname.to_string(),
        };
        let name = match in_host {
            Some(name) => name,
            None => {
                let Some(pod) = netns.filter(|ns| self.host.namespaces.exists(ns)) else {
                    return Err(not_found());
                };
                // under its ifname, or under the transit name if a DEL died moving it out
                let transit = transit_name(pci);
                let mut found = None;
                for name in [ifname, transit.as_str()] {
                    match net.link(pod, name) {
                        Ok(link) => {
                            found = Some(link);
                            break;
                        }
                        Err(e) if e.errno() == Some(libc::ENODEV) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                let Some(link) = found else {
                    return Err(not_found());
                };
                if link.admin_up {
                    net.set_link_up(pod, &link.name, false)?;
                }
                if link.name != transit {
                    net.rename_link(pod, &link.name, &transit)?;
                }
                net.move_link(pod, &transit, &Netns::Host)?;
                transit
            }
        };
        let host_name = saved.host_ifname.as_deref().unwrap_or(&name);
        let link = net.link(&Netns::Host, &name)?;
        if name != host_name {
            if link.admin_up {
                net.set_link_up(&Netns::Host, &name, false)?;
            }
            net.rename_link(&Netns::Host, &name, host_name)?;
        }
        if let Some(mac) = saved.netdev_mac
            && link.mac != Some(mac)
        {
            net.set_link_mac(&Netns::Host, host_name, mac)?;
        }
        if let Some(mtu) = saved.mtu
            && link.mtu != mtu
        {
            net.set_link_mtu(&Netns::Host, host_name, mtu)?;
        }
        Ok(())
    }

    /// Puts the saved VF table entry back, in the reverse of the anchor's order, changing only
    /// what differs.
    fn restore_pf(&self, saved: &SavedVfState) -> Result<()> {
        let net = Named(&*self.host.net);
        let (pf, index) = (saved.pf_netdev.as_str(), saved.vf_index);
        let now = self.vf_state(pf, index)?;
        let want = saved.vf_state;
        if now.link_state != want.link_state {
            net.set_vf_link_state(pf, index, want.link_state)?;
        }
        if now.trust != want.trust {
            net.set_vf_trust(pf, index, want.trust)?;
        }
        if now.spoofchk != want.spoofchk {
            net.set_vf_spoofchk(pf, index, want.spoofchk)?;
        }
        if now.rate != want.rate {
            net.set_vf_rate(pf, index, want.rate)?;
        }
        if now.mac != want.mac {
            self.set_vf_mac_checked(pf, index, want.mac)?;
        }
        if now.vlan != want.vlan {
            net.set_vf_vlan(pf, index, want.vlan)?;
        }
        Ok(())
    }

    /// DEL: puts back the VF `owner` holds (PF-side config, netdev name, MAC and MTU in the
    /// host) wherever its netdev is, and frees it. Idempotent: no record is success. The pod's
    /// namespace is the one recorded at ADD, so an empty `CNI_NETNS` does not matter.
    pub fn del(&mut self, owner: &Owner, ipam: &mut dyn Ipam) -> Result<DelOutcome> {
        let Some(pci) = self
            .ledger
            .transact(|p| Ok(p.held_by(owner).map(|a| a.pci)))?
        else {
            return Ok(DelOutcome::NothingHeld);
        };
        let _lock = self.lock_vf(pci)?;
        let Some(record) = self
            .ledger
            .transact(|p| Ok(p.held_by(owner).filter(|a| a.pci == pci).cloned()))?
        else {
            return Ok(DelOutcome::NothingHeld);
        };
        self.undo(&record, ipam)?;
        self.ledger.transact(|p| p.release(pci, owner))?;
        Ok(DelOutcome::Released(pci))
    }

    /// CHECK: the VF `owner` holds is attached in `netns` under its ifname, with `mac` when
    /// given, and its PF-side config matches `config`.
    pub fn check(
        &mut self,
        owner: &Owner,
        netns: &Netns,
        mac: Option<MacAddress>,
        config: &VfConfig,
    ) -> Result<()> {
        let failed = |what: String| Error::CheckFailed {
            owner: owner.clone(),
            what,
        };
        let record = self
            .ledger
            .transact(|p| Ok(p.held_by(owner).cloned()))?
            .ok_or_else(|| failed("the ledger records no VF for it".into()))?;
        match &record.intent {
            Some(i) if i.stage == AttachStage::Attached && i.netns == *netns => {}
            Some(i) => {
                return Err(failed(format!(
                    "VF {} is at stage {} in {}, not attached in {netns}",
                    record.pci, i.stage, i.netns
                )));
            }
            None => {
                return Err(failed(format!(
                    "VF {} has no attachment record",
                    record.pci
                )));
            }
        }
        let link = Named(&*self.host.net)
            .link(netns, owner.ifname())
            .map_err(|e| failed(format!("no link {} in {netns}: {e}", owner.ifname())))?;
        if let Some(mac) = mac
            && link.mac != Some(mac)
        {
            return Err(failed(format!(
                "{} has MAC {:?}, the result says {mac}",
                owner.ifname(),
                link.mac.map(|m| m.to_string())
            )));
        }
        let saved = record
            .saved
            .as_deref()
            .ok_or_else(|| failed("no saved state".into()))?;
        let now = self.vf_state(&saved.pf_netdev, saved.vf_index)?;
        if config.apply_to(now) != now {
            return Err(failed(format!(
                "the PF-side config of {} vf {} differs from what ADD set",
                saved.pf_netdev, saved.vf_index
            )));
        }
        Ok(())
    }

    /// Puts back and frees one record if it still belongs to `owner` (under the VF's lock,
    /// already held).
    fn release_record(&mut self, pci: PciAddress, owner: &Owner) -> Result<bool> {
        let Some(record) = self
            .ledger
            .transact(|p| Ok(p.allocation(pci).filter(|a| a.owner == *owner).cloned()))?
        else {
            return Ok(false);
        };
        self.undo(&record, &mut NoIpam)?;
        self.ledger.transact(|p| p.release(pci, owner))?;
        Ok(true)
    }

    /// GC: every attachment with a record whose owner is not in `valid` is put back and
    /// freed; returns the VFs freed. (IPAM is not run: the runtime sends GC to the IPAM
    /// plugin's own configuration.)
    pub fn gc(&mut self, valid: &[Owner]) -> Result<Vec<PciAddress>> {
        let mut freed = Vec::new();
        for a in self.ledger.snapshot()? {
            if a.intent.is_none() || valid.contains(&a.owner) {
                continue;
            }
            let _lock = self.lock_vf(a.pci)?;
            if self.release_record(a.pci, &a.owner)? {
                freed.push(a.pci);
            }
        }
        Ok(freed)
    }

    /// Reconcile: every VF recorded for an attachment whose namespace is gone, or whose ADD
    /// stopped part way (its lock free), is put back and freed. A VF whose lock is held (an
    /// ADD or DEL running) is left alone. A second run finds nothing.
    pub fn reconcile(&mut self, mode: ReconcileMode) -> Result<Vec<ReconcileAction>> {
        let mut actions = Vec::new();
        for a in self.ledger.snapshot()? {
            let Some(intent) = a.intent.clone() else {
                continue;
            };
            let Some(_lock) = self.try_lock_vf(a.pci)? else {
                continue;
            };
            let reason = if !self.host.namespaces.exists(&intent.netns) {
                ReconcileReason::NetnsGone {
                    netns: intent.netns.to_string(),
                }
            } else if intent.stage < AttachStage::Attached {
                ReconcileReason::AddInterrupted {
                    stage: intent.stage.to_string(),
                }
            } else {
                continue;
            };
            let outcome = match mode {
                ReconcileMode::DryRun => "planned".to_string(),
                ReconcileMode::Apply => match self.release_record(a.pci, &a.owner) {
                    Ok(true) => "restored".to_string(),
                    Ok(false) => continue,
                    Err(e) => format!("failed: {e}"),
                },
            };
            actions.push(ReconcileAction {
                pci: a.pci.to_string(),
                owner: a.owner.to_string(),
                reason,
                outcome,
            });
        }
        Ok(actions)
    }
}
