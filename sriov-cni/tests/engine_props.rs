//! Property tests of the engine on the simulated reference host: random ADD/DEL/CHECK/GC/
//! reconcile sequences over many pods and the 8 VFs of ens2f0, with a host fault injected
//! before any step, process crashes at every step (the engine and everything in memory
//! dropped after its n-th host operation; the ledger files kept), pod namespaces deleted
//! under their VFs, and the same on several threads with one VF contended. Invariants:
//! - a VF free in the ledger is in the host with its original name, MAC, MTU and PF-side
//!   config;
//! - a VF netdev in a pod is recorded for that pod (no VF in two pods, none unaccounted);
//! - a DEL of an attachment that holds nothing (an old owner) changes nothing on the host;
//! - after DEL of every attachment and a reconcile, every VF is free and as it was.

mod common;

use std::collections::HashSet;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use cni_types::{CniError, ErrorCode, Result100};
use common::*;
use proptest::prelude::*;
use sriov_cni::engine::{AttachRequest, ReconcileMode};
use sriov_cni::ipam::Ipam;
use sriov_cni::{DelOutcome, Engine, EngineOptions, Error, Host, SimNamespaces};
use sriov_core::ledger::{Ledger, PersistentPool};
use sriov_core::pool::Owner;
use sriov_core::sysfs::paths;
use sriov_core::{
    IpPrefix, LinkInfo, LinkState, MacAddress, NetOps, Netns, Route, TxRate, VfConfig, VfInfo,
    VlanConfig, VlanProto,
};
use sysfs_sim::{Fault, FaultOp, SimHost, Target, Trigger};

/// A process that dies after `budget` more host changes: the change that exhausts it and
/// every call after it fail, as calls of a dead process never happen.
#[derive(Debug, Default)]
struct Crash(AtomicI64);

impl Crash {
    fn armed(budget: i64) -> Arc<Self> {
        Arc::new(Crash(AtomicI64::new(budget)))
    }
    fn never() -> Arc<Self> {
        Self::armed(i64::MAX)
    }
    /// Counts one change; true when the process is dead.
    fn tick(&self) -> bool {
        self.0.fetch_sub(1, Ordering::SeqCst) <= 0
    }
    fn dead(&self) -> bool {
        self.0.load(Ordering::SeqCst) < 0
    }
}

fn died<T>() -> io::Result<T> {
    Err(io::Error::from_raw_os_error(libc::ESHUTDOWN))
}

struct CrashingNet {
    inner: sysfs_sim::SimNetOps,
    crash: Arc<Crash>,
}

impl CrashingNet {
    fn change<T>(&self, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        if self.crash.tick() { died() } else { f() }
    }
    fn read<T>(&self, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        if self.crash.dead() { died() } else { f() }
    }
}

impl NetOps for CrashingNet {
    fn links(&self, ns: &Netns) -> io::Result<Vec<LinkInfo>> {
        self.read(|| self.inner.links(ns))
    }
    fn rename_link(&self, ns: &Netns, name: &str, new_name: &str) -> io::Result<()> {
        self.change(|| self.inner.rename_link(ns, name, new_name))
    }
    fn set_link_mac(&self, ns: &Netns, name: &str, mac: MacAddress) -> io::Result<()> {
        self.change(|| self.inner.set_link_mac(ns, name, mac))
    }
    fn set_link_mtu(&self, ns: &Netns, name: &str, mtu: u32) -> io::Result<()> {
        self.change(|| self.inner.set_link_mtu(ns, name, mtu))
    }
    fn set_link_up(&self, ns: &Netns, name: &str, up: bool) -> io::Result<()> {
        self.change(|| self.inner.set_link_up(ns, name, up))
    }
    fn move_link(&self, ns: &Netns, name: &str, target: &Netns) -> io::Result<()> {
        self.change(|| self.inner.move_link(ns, name, target))
    }
    fn addresses(&self, ns: &Netns, name: &str) -> io::Result<Vec<IpPrefix>> {
        self.read(|| self.inner.addresses(ns, name))
    }
    fn add_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()> {
        self.change(|| self.inner.add_address(ns, name, addr))
    }
    fn del_address(&self, ns: &Netns, name: &str, addr: IpPrefix) -> io::Result<()> {
        self.change(|| self.inner.del_address(ns, name, addr))
    }
    fn routes(&self, ns: &Netns) -> io::Result<Vec<Route>> {
        self.read(|| self.inner.routes(ns))
    }
    fn add_route(&self, ns: &Netns, route: &Route) -> io::Result<()> {
        self.change(|| self.inner.add_route(ns, route))
    }
    fn vfs(&self, pf: &str) -> io::Result<Vec<VfInfo>> {
        self.read(|| self.inner.vfs(pf))
    }
    fn set_vf_mac(&self, pf: &str, vf: u32, mac: MacAddress) -> io::Result<()> {
        self.change(|| self.inner.set_vf_mac(pf, vf, mac))
    }
    fn set_vf_vlan(&self, pf: &str, vf: u32, vlan: VlanConfig) -> io::Result<()> {
        self.change(|| self.inner.set_vf_vlan(pf, vf, vlan))
    }
    fn set_vf_spoofchk(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
        self.change(|| self.inner.set_vf_spoofchk(pf, vf, on))
    }
    fn set_vf_trust(&self, pf: &str, vf: u32, on: bool) -> io::Result<()> {
        self.change(|| self.inner.set_vf_trust(pf, vf, on))
    }
    fn set_vf_link_state(&self, pf: &str, vf: u32, state: LinkState) -> io::Result<()> {
        self.change(|| self.inner.set_vf_link_state(pf, vf, state))
    }
    fn set_vf_rate(&self, pf: &str, vf: u32, rate: TxRate) -> io::Result<()> {
        self.change(|| self.inner.set_vf_rate(pf, vf, rate))
    }
}

/// An IPAM that hands out one address per attachment, counts as a host change for crashes
/// and can be told to fail.
struct TestIpam {
    crash: Arc<Crash>,
    fail_add: bool,
}

impl Ipam for TestIpam {
    fn add(&mut self, _owner: &Owner, _netns: &Netns) -> sriov_cni::Result<Result100> {
        if self.crash.tick() || self.fail_add {
            return Err(Error::Ipam {
                plugin: "test".into(),
                command: "ADD",
                source: CniError::new(ErrorCode::Internal, "no address"),
            });
        }
        let mut r = Result100::new();
        r.ips.push(cni_types::IpConfig {
            interface: None,
            address: "10.0.0.5/24".parse().unwrap(),
            gateway: None,
        });
        Ok(r)
    }
    fn del(&mut self, _owner: &Owner, _netns: &Netns) -> sriov_cni::Result<()> {
        if self.crash.tick() {
            return Err(Error::Ipam {
                plugin: "test".into(),
                command: "DEL",
                source: CniError::new(ErrorCode::Internal, "dead"),
            });
        }
        Ok(())
    }
}

fn crashing_engine(
    host: &SimHost,
    dir: &std::path::Path,
    crash: &Arc<Crash>,
) -> Engine<PersistentPool> {
    let ledger = PersistentPool::open(inventory(), dir.join("vf-ledger.json")).unwrap();
    let h = Host {
        sysfs: Box::new(host.sysfs()),
        net: Box::new(CrashingNet {
            inner: host.net_ops(),
            crash: crash.clone(),
        }),
        rdma: Box::new(host.rdma_ops()),
        namespaces: Box::new(SimNamespaces(host.clone())),
    };
    Engine::new(
        h,
        ledger,
        EngineOptions {
            locking: sriov_cni::VfLocking::Files(dir.join("vf_lock")),
            ..EngineOptions::exclusive()
        },
    )
}

#[derive(Debug, Clone)]
enum Step {
    Add {
        pod: u8,
        vf: u8,
        variant: u8,
    },
    Del {
        pod: u8,
        old: bool,
    },
    Check {
        pod: u8,
    },
    Gc {
        keep: u8,
    },
    DeleteNetns {
        pod: u8,
    },
    Reconcile,
    Restart,
    /// The next step runs with this host fault armed (then faults are cleared).
    Fault {
        op: u8,
        nth: u8,
        errno: u8,
    },
    /// An ADD (or DEL) whose process dies after `budget` host changes.
    CrashAdd {
        pod: u8,
        vf: u8,
        budget: u8,
    },
    CrashDel {
        pod: u8,
        budget: u8,
    },
    IpamFails {
        pod: u8,
        vf: u8,
    },
}

const PODS: u8 = 6;

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..PODS, 0..8u8, 0..3u8).prop_map(|(pod, vf, variant)| Step::Add { pod, vf, variant }),
        3 => (0..PODS, any::<bool>()).prop_map(|(pod, old)| Step::Del { pod, old }),
        1 => (0..PODS).prop_map(|pod| Step::Check { pod }),
        1 => any::<u8>().prop_map(|keep| Step::Gc { keep }),
        2 => (0..PODS).prop_map(|pod| Step::DeleteNetns { pod }),
        1 => Just(Step::Reconcile),
        1 => Just(Step::Restart),
        3 => (0..6u8, 1..8u8, 0..3u8).prop_map(|(op, nth, errno)| Step::Fault { op, nth, errno }),
        3 => (0..PODS, 0..8u8, 0..16u8).prop_map(|(pod, vf, budget)| Step::CrashAdd { pod, vf, budget }),
        2 => (0..PODS, 0..12u8).prop_map(|(pod, budget)| Step::CrashDel { pod, budget }),
        1 => (0..PODS, 0..8u8).prop_map(|(pod, vf)| Step::IpamFails { pod, vf }),
    ]
}

fn config(variant: u8) -> VfConfig {
    match variant {
        0 => VfConfig {
            vlan: Some(VlanConfig::new(111, 0, VlanProto::Dot1Q).unwrap()),
            ..VfConfig::default()
        },
        1 => VfConfig {
            vlan: Some(VlanConfig::new(222, 3, VlanProto::Dot1Q).unwrap()),
            mac: Some("02:00:00:00:aa:01".parse().unwrap()),
            spoofchk: Some(true),
            trust: Some(true),
            link_state: Some(LinkState::Enable),
            rate: Some(TxRate::new(10, 1000).unwrap()),
        },
        _ => VfConfig {
            mac: Some("02:00:00:00:bb:02".parse().unwrap()),
            trust: Some(true),
            ..VfConfig::default()
        },
    }
}

fn fault(op: u8, nth: u8, errno: u8) -> Fault {
    let errno = [libc::EBUSY, libc::EIO, libc::EEXIST][errno as usize % 3];
    let (op, target) = match op {
        0 => (FaultOp::SetVf, Target::Any),
        1 => (FaultOp::MoveLink, Target::Any),
        2 => (FaultOp::RenameLink, Target::Any),
        3 => (FaultOp::SetLinkUp, Target::Any),
        4 => (FaultOp::SetLinkMac, Target::Any),
        _ => (
            FaultOp::ReadDir,
            Target::Prefix("/sys/bus/pci/devices/0000:3b".into()),
        ),
    };
    Fault::new(op, target, errno, Trigger::Nth(u32::from(nth)))
}

/// The pods of a run: each slot has a current pod (netns alive or not) and every owner it
/// ever had.
struct World {
    host: SimHost,
    dir: tempfile::TempDir,
    engine: Option<Engine<PersistentPool>>,
    generation: Vec<u32>,
    alive: Vec<bool>,
    owners: Vec<Owner>,
    original: Vec<VfSnapshot>,
}

impl World {
    fn new(seed: u64) -> Self {
        let host = sysfs_sim::Preset::Reference.build(seed).unwrap();
        let original = snapshots(&host);
        let dir = tempfile::tempdir().unwrap();
        let mut w = World {
            engine: None,
            host,
            dir,
            generation: vec![0; PODS as usize],
            alive: vec![false; PODS as usize],
            owners: Vec::new(),
            original,
        };
        w.restart();
        w
    }

    fn restart(&mut self) {
        self.engine = None;
        self.engine = Some(engine(&self.host, self.dir.path()));
    }

    fn engine(&mut self) -> &mut Engine<PersistentPool> {
        if self.engine.is_none() {
            self.restart();
        }
        self.engine.as_mut().unwrap()
    }

    fn netns(&self, pod: u8) -> Netns {
        Netns::named(&format!("pod{pod}g{}", self.generation[pod as usize]))
    }

    fn owner(&self, pod: u8) -> Owner {
        Owner::attachment(&format!("c{pod}g{}", self.generation[pod as usize]), "net1").unwrap()
    }

    /// The pod in slot `pod`, its namespace made if it has none (a new pod after a deletion).
    fn ensure_pod(&mut self, pod: u8) -> (Owner, Netns) {
        if !self.alive[pod as usize] {
            self.generation[pod as usize] += 1;
            self.host
                .add_netns(&format!("pod{pod}g{}", self.generation[pod as usize]))
                .unwrap();
            self.alive[pod as usize] = true;
            let owner = self.owner(pod);
            self.owners.push(owner);
        }
        (self.owner(pod), self.netns(pod))
    }

    fn request(&mut self, pod: u8, vf: u8, variant: u8) -> AttachRequest {
        let (owner, netns) = self.ensure_pod(pod);
        AttachRequest {
            owner,
            netns,
            vf: common::vf(u32::from(vf)),
            config: config(variant),
        }
    }

    fn del_checked(&mut self, owner: &Owner) -> Result<(), TestCaseError> {
        let mark = self.host.log_mark();
        let mut ipam = TestIpam {
            crash: Crash::never(),
            fail_add: false,
        };
        if let Ok(DelOutcome::NothingHeld) = self.engine().del(owner, &mut ipam) {
            prop_assert_eq!(
                self.host.ops_since(mark),
                [],
                "DEL of {} holding nothing changed the host",
                owner
            );
        }
        Ok(())
    }

    fn run(&mut self, step: &Step) -> Result<(), TestCaseError> {
        match *step {
            Step::Add { pod, vf, variant } => {
                let req = self.request(pod, vf, variant);
                let mut ipam = TestIpam {
                    crash: Crash::never(),
                    fail_add: false,
                };
                let _ = self.engine().add(&req, &mut ipam);
            }
            Step::IpamFails { pod, vf } => {
                let req = self.request(pod, vf, 1);
                let mut ipam = TestIpam {
                    crash: Crash::never(),
                    fail_add: true,
                };
                prop_assert!(self.engine().add(&req, &mut ipam).is_err());
            }
            Step::Del { pod, old } => {
                let owner = if old && !self.owners.is_empty() {
                    self.owners[pod as usize % self.owners.len()].clone()
                } else {
                    self.owner(pod)
                };
                self.del_checked(&owner)?;
            }
            Step::Check { pod } => {
                let (owner, netns) = (self.owner(pod), self.netns(pod));
                let _ = self.engine().check(&owner, &netns, None, &config(0));
            }
            Step::Gc { keep } => {
                let valid: Vec<Owner> = (0..PODS)
                    .filter(|p| keep & (1 << p) != 0)
                    .map(|p| self.owner(p))
                    .collect();
                let _ = self.engine().gc(&valid);
            }
            Step::DeleteNetns { pod } => {
                if self.alive[pod as usize] {
                    self.host.del_netns(&self.netns(pod)).unwrap();
                    self.alive[pod as usize] = false;
                }
            }
            Step::Reconcile => {
                let _ = self.engine().reconcile(ReconcileMode::Apply);
            }
            Step::Restart => self.restart(),
            Step::Fault { .. } => {}
            Step::CrashAdd { pod, vf, budget } => {
                let req = self.request(pod, vf, 1);
                let crash = Crash::armed(i64::from(budget));
                let mut e = crashing_engine(&self.host, self.dir.path(), &crash);
                let mut ipam = TestIpam {
                    crash: crash.clone(),
                    fail_add: false,
                };
                let _ = e.add(&req, &mut ipam);
                // the process is gone: its memory with it; the ledger files stay
                drop(e);
                self.restart();
            }
            Step::CrashDel { pod, budget } => {
                let owner = self.owner(pod);
                let crash = Crash::armed(i64::from(budget));
                let mut e = crashing_engine(&self.host, self.dir.path(), &crash);
                let mut ipam = TestIpam {
                    crash: crash.clone(),
                    fail_add: false,
                };
                let _ = e.del(&owner, &mut ipam);
                drop(e);
                self.restart();
            }
        }
        Ok(())
    }

    fn check_invariants(&mut self) -> Result<(), TestCaseError> {
        let records = self.engine().ledger_mut().snapshot().unwrap();
        for i in 0..8u32 {
            let pci = common::vf(i);
            let record = records.iter().find(|a| a.pci == pci);
            if record.is_none() {
                prop_assert_eq!(
                    &snapshot(&self.host, i),
                    &self.original[i as usize],
                    "free VF {} is not as it was",
                    i
                );
            }
            for ns in self.host.namespaces() {
                let fs = self.host.sysfs_in(&ns).unwrap();
                let here =
                    sriov_core::discovery::function_netdev(&fs, &paths::pci_device(&pci)).unwrap();
                if here.is_some() {
                    let recorded = record.and_then(|a| a.intent.as_ref()).map(|i| &i.netns);
                    prop_assert_eq!(recorded, Some(&ns), "VF {} is in {} unrecorded", i, ns);
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), TestCaseError> {
        self.host.clear_faults();
        self.restart();
        for owner in self.owners.clone() {
            let mut ipam = TestIpam {
                crash: Crash::never(),
                fail_add: false,
            };
            self.engine()
                .del(&owner, &mut ipam)
                .map_err(|e| TestCaseError::fail(format!("DEL {owner}: {e}")))?;
        }
        self.engine().reconcile(ReconcileMode::Apply).unwrap();
        prop_assert_eq!(self.engine().ledger_mut().snapshot().unwrap(), []);
        prop_assert_eq!(snapshots(&self.host), self.original.clone());
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_never_leak_or_share_a_vf(seed in 0u64..1000, steps in prop::collection::vec(step(), 1..40)) {
        let mut w = World::new(seed);
        let mut armed = false;
        for step in &steps {
            if let Step::Fault { op, nth, errno } = *step {
                w.host.inject(fault(op, nth, errno));
                armed = true;
                continue;
            }
            w.run(step)?;
            if armed {
                w.host.clear_faults();
                armed = false;
            }
            w.check_invariants()?;
        }
        w.host.clear_faults();
        w.finish()?;
    }

    /// A crash after every possible number of host changes of one ADD, then DEL restores.
    #[test]
    fn a_crash_at_any_step_of_add_is_finished_by_del(budget in 0i64..20, seed in 0u64..100) {
        let mut w = World::new(seed);
        let req = w.request(0, 3, 1);
        let crash = Crash::armed(budget);
        let mut e = crashing_engine(&w.host, w.dir.path(), &crash);
        let mut ipam = TestIpam { crash: crash.clone(), fail_add: false };
        let _ = e.add(&req, &mut ipam);
        drop(e);
        w.restart();
        w.check_invariants()?;
        w.finish()?;
    }
}

/// Several threads, each its own engine (own ledger handle, as separate processes), on one
/// host, contending for two VFs with ADD, DEL and namespace deletions.
#[test]
fn concurrent_operations_on_one_vf() {
    let host = sysfs_sim::Preset::Reference.build(3).unwrap();
    let original = snapshots(&host);
    let dir = tempfile::tempdir().unwrap();
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let host = host.clone();
            let dir = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let mut e = engine(&host, &dir);
                let mut owners = Vec::new();
                for round in 0..15u32 {
                    let name = format!("t{t}r{round}");
                    let netns = host.add_netns(&name).unwrap();
                    let owner = Owner::attachment(&name, "net1").unwrap();
                    owners.push(owner.clone());
                    let req = AttachRequest {
                        owner: owner.clone(),
                        netns: netns.clone(),
                        vf: common::vf(3 + (round % 2)),
                        config: config((round % 3) as u8),
                    };
                    let mut ipam = TestIpam {
                        crash: Crash::never(),
                        fail_add: false,
                    };
                    let added = e.add(&req, &mut ipam);
                    match round % 3 {
                        0 => {
                            host.del_netns(&netns).unwrap();
                        }
                        1 => {
                            e.del(&owner, &mut ipam).unwrap();
                        }
                        _ => {}
                    }
                    if let Err(err) = added {
                        assert!(matches!(err, Error::VfInUse { .. }), "{err}");
                    }
                }
                owners
            })
        })
        .collect();
    let owners: Vec<Owner> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let mut e = engine(&host, dir.path());
    let distinct: HashSet<_> = owners.iter().collect();
    assert_eq!(distinct.len(), owners.len());
    for owner in &owners {
        let mut ipam = TestIpam {
            crash: Crash::never(),
            fail_add: false,
        };
        e.del(owner, &mut ipam).unwrap();
    }
    e.reconcile(ReconcileMode::Apply).unwrap();
    assert_eq!(e.ledger_mut().snapshot().unwrap(), []);
    assert_eq!(snapshots(&host), original);
}
