//! The faults a run can inject (`--faults LIST` or `--faults random`), each at a time drawn
//! from the seed in the window where it matters.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::Error;

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// A node's kubelet restarts: its memory is lost, the checkpoint is read back, the device
    /// plugin registers again.
    KubeletRestart,
    /// A node's device plugin crashes; the DaemonSet restarts it 10 s later.
    DpCrash,
    /// The next CNI ADD is killed at its IPAM step (VF moved, RDMA device moved, no address);
    /// the kubelet tears the sandbox down and retries.
    CniKill,
    /// A node's meta plugin cache (`/var/lib/cni/multus`) is lost.
    MultusCacheLost,
    /// A leaf's DHCP server is down for 180 s across the pods' first renewal (T1).
    DhcpOutage,
    /// A leaf reboots: its DHCP server is gone for 20 s and comes back from its lease file.
    LeafReboot,
    /// A node reboots: VFs re-created, every namespace gone, the files under its root (ledger,
    /// checkpoint) kept; its pods' sandboxes are re-created.
    NodeReboot,
    /// A free VF of a node vanishes (driver unbound) for 30 s.
    VfVanish,
    /// A node's PF loses its link for 5 s.
    PfFlap,
    /// 30% of the frames on a leaf's segment are lost for 60 s.
    PacketLoss,
    /// 50% of the frames on a leaf's segment are delivered twice for 60 s.
    PacketDup,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 11] = [
        FaultKind::KubeletRestart,
        FaultKind::DpCrash,
        FaultKind::CniKill,
        FaultKind::MultusCacheLost,
        FaultKind::DhcpOutage,
        FaultKind::LeafReboot,
        FaultKind::NodeReboot,
        FaultKind::VfVanish,
        FaultKind::PfFlap,
        FaultKind::PacketLoss,
        FaultKind::PacketDup,
    ];

    /// Its `--faults` name.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::KubeletRestart => "kubelet-restart",
            FaultKind::DpCrash => "dp-crash",
            FaultKind::CniKill => "cni-kill",
            FaultKind::MultusCacheLost => "multus-cache-lost",
            FaultKind::DhcpOutage => "dhcp-outage",
            FaultKind::LeafReboot => "leaf-reboot",
            FaultKind::NodeReboot => "node-reboot",
            FaultKind::VfVanish => "vf-vanish",
            FaultKind::PfFlap => "pf-flap",
            FaultKind::PacketLoss => "packet-loss",
            FaultKind::PacketDup => "packet-dup",
        }
    }

    /// Whether it hits a leaf (else a node).
    pub fn on_leaf(self) -> bool {
        matches!(
            self,
            FaultKind::DhcpOutage
                | FaultKind::LeafReboot
                | FaultKind::PacketLoss
                | FaultKind::PacketDup
        )
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FaultKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| Error::UnknownFault {
                given: s.to_string(),
                known: FaultKind::ALL.map(FaultKind::name).join(", "),
            })
    }
}

/// Which faults a run injects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FaultPlan {
    /// None.
    #[default]
    None,
    /// These, each once, at seeded times.
    List(Vec<FaultKind>),
    /// Two to six of any kind, drawn from the seed.
    Random,
}

impl FromStr for FaultPlan {
    type Err = Error;

    /// `random`, `none`, or a comma list of [`FaultKind`] names (`all` for every kind).
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim() {
            "" | "none" => Ok(FaultPlan::None),
            "random" => Ok(FaultPlan::Random),
            "all" => Ok(FaultPlan::List(FaultKind::ALL.to_vec())),
            list => list
                .split(',')
                .map(|k| k.trim().parse())
                .collect::<Result<_, _>>()
                .map(FaultPlan::List),
        }
    }
}
