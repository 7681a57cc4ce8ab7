//! Fault injection: make a chosen operation on a chosen target fail with a chosen errno, once,
//! a number of times, always, on the n-th match, or with a probability drawn from the host's
//! seeded generator, so a failing run replays exactly from its seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The operation a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultOp {
    /// `Sysfs::read`.
    Read,
    /// `Sysfs::write`.
    Write,
    /// `Sysfs::read_link`.
    ReadLink,
    /// `Sysfs::read_dir`.
    ReadDir,
    /// Creating a link (the simulator's `add_veth`).
    AddLink,
    /// `NetOps::rename_link`.
    RenameLink,
    /// `NetOps::set_link_mac`.
    SetLinkMac,
    /// `NetOps::set_link_mtu`.
    SetLinkMtu,
    /// `NetOps::set_link_up`.
    SetLinkUp,
    /// `NetOps::move_link`.
    MoveLink,
    /// `NetOps::add_address` / `del_address`.
    Address,
    /// `NetOps::add_route`.
    Route,
    /// Any `NetOps::set_vf_*`.
    SetVf,
    /// `RdmaOps::set_netns_mode` (target `system`).
    RdmaNetnsMode,
    /// `RdmaOps::move_device` (target: the RDMA device name).
    RdmaMove,
}

/// What a fault matches: the sysfs path for sysfs operations, the link name for link
/// operations, `<pf>/vf<N>` for VF-table operations, the RDMA device name for RDMA moves and
/// `system` for the RDMA netns mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Exactly this.
    Exact(String),
    /// Anything starting with this.
    Prefix(String),
    /// Anything.
    Any,
}

impl Target {
    fn matches(&self, target: &str) -> bool {
        match self {
            Target::Exact(t) => t == target,
            Target::Prefix(p) => target.starts_with(p.as_str()),
            Target::Any => true,
        }
    }
}

/// When a matching fault fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// The first match only.
    Once,
    /// Every match.
    Always,
    /// The first `n` matches.
    Times(u32),
    /// Only the `n`-th match (1-based).
    Nth(u32),
    /// Each match with this probability, from the seeded generator.
    Probability(f64),
}

/// A fault to inject.
///
/// ```
/// use sysfs_sim::{Fault, FaultOp, Target, Trigger};
/// // the next write to PF0's sriov_numvfs fails with EBUSY
/// let fault = Fault::new(FaultOp::Write, Target::Exact("/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs".into()), libc::EBUSY, Trigger::Once);
/// # let _ = fault;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// Operation.
    pub op: FaultOp,
    /// Target.
    pub target: Target,
    /// The errno returned.
    pub errno: i32,
    /// When.
    pub trigger: Trigger,
}

impl Fault {
    /// A fault.
    pub fn new(op: FaultOp, target: Target, errno: i32, trigger: Trigger) -> Self {
        Fault {
            op,
            target,
            errno,
            trigger,
        }
    }
}

#[derive(Debug, Clone)]
struct Rule {
    fault: Fault,
    matched: u32,
}

/// The faults of a host.
#[derive(Debug, Clone)]
pub struct Faults {
    rules: Vec<Rule>,
    rng: ChaCha8Rng,
}

impl Faults {
    /// No faults; probabilities drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        Faults {
            rules: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// Adds a fault.
    pub fn add(&mut self, fault: Fault) {
        self.rules.push(Rule { fault, matched: 0 });
    }

    /// Removes every fault.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The errno to fail `op` on `target` with, if a fault fires (the first matching rule that
    /// fires wins; spent rules are dropped).
    pub fn check(&mut self, op: FaultOp, target: &str) -> Option<i32> {
        let mut fired = None;
        for rule in self.rules.iter_mut() {
            if rule.fault.op != op || !rule.fault.target.matches(target) {
                continue;
            }
            rule.matched += 1;
            let fire = match rule.fault.trigger {
                Trigger::Once => rule.matched == 1,
                Trigger::Always => true,
                Trigger::Times(n) => rule.matched <= n,
                Trigger::Nth(n) => rule.matched == n,
                Trigger::Probability(p) => self.rng.random_bool(p.clamp(0.0, 1.0)),
            };
            if fire {
                fired = Some(rule.fault.errno);
                break;
            }
        }
        self.rules.retain(|r| match r.fault.trigger {
            Trigger::Once => r.matched < 1,
            Trigger::Times(n) | Trigger::Nth(n) => r.matched < n,
            _ => true,
        });
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_fire_as_documented() {
        let mut f = Faults::new(1);
        f.add(Fault::new(
            FaultOp::Read,
            Target::Prefix("/sys/a".into()),
            5,
            Trigger::Times(2),
        ));
        f.add(Fault::new(FaultOp::Write, Target::Any, 16, Trigger::Nth(3)));
        assert_eq!(f.check(FaultOp::Read, "/sys/b"), None);
        assert_eq!(f.check(FaultOp::Read, "/sys/a/x"), Some(5));
        assert_eq!(f.check(FaultOp::Read, "/sys/a/y"), Some(5));
        assert_eq!(f.check(FaultOp::Read, "/sys/a/z"), None);
        let writes: Vec<_> = (0..4).map(|_| f.check(FaultOp::Write, "w")).collect();
        assert_eq!(writes, [None, None, Some(16), None]);
    }

    #[test]
    fn probability_is_deterministic_per_seed() {
        let run = |seed| {
            let mut f = Faults::new(seed);
            f.add(Fault::new(
                FaultOp::Read,
                Target::Any,
                5,
                Trigger::Probability(0.5),
            ));
            (0..64)
                .map(|_| f.check(FaultOp::Read, "x").is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        assert!(run(7).iter().any(|b| *b) && run(7).iter().any(|b| !*b));
    }
}
