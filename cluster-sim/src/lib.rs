//! The seed's Kubernetes cluster in one process: the `deploy/` manifests a user applies to a
//! real cluster, run on simulated nodes (each a `sysfs-sim` reference host with a kubelet
//! model, the device plugin's logic, the CNI stack and the `rdma-dhcp` daemon's clients) behind
//! leaf switches whose DHCP servers (`dhcp-server`'s engine) sit on simulated L2 segments, in
//! virtual time, every random choice from one seed, with faults and invariant checks after
//! every event.
//!
//! ```no_run
//! let opts = cluster_sim::Options::seed_defaults(1);
//! let report = cluster_sim::run(opts).unwrap();
//! print!("{}", report.text(cluster_sim::report::Detail::EveryPod));
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod cluster;
pub mod cni_stack;
pub mod deploy;
pub mod dhcp;
mod error;
pub mod faults;
pub mod invariants;
pub mod kubelet;
pub mod node;
pub mod plot;
pub mod report;
mod sim;

use std::path::PathBuf;

pub use error::{Error, Result};
pub use faults::{FaultKind, FaultPlan};
pub use sim::Phase;

/// A deliberately broken engine variant, to show that the invariant checks catch it. It has an
/// effect only when the crate is built with the `defect-injection` feature (its tests do);
/// otherwise the engine is the real one whatever is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// The SR-IOV DEL does not restore the PF-side config of the VF.
    SkipRestore,
    /// The kubelet's device manager hands out a VF another pod holds when none is free.
    DoubleAllocate,
    /// The IPAM DEL does not release the pod's lease.
    LeaseNotReleased,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The seed of every random choice.
    pub seed: u64,
    /// The manifests (default: the project's `deploy/`).
    pub manifests: Vec<deploy::ManifestFile>,
    /// The cluster.
    pub cluster: cluster::ClusterSpec,
    /// Pods of the test Deployment (default: its `replicas`).
    pub pods: Option<u32>,
    /// Faults to inject.
    pub faults: FaultPlan,
    /// Virtual seconds the pods run (renewing their leases) before the Deployment is deleted.
    pub steady_secs: u64,
    /// Where the nodes' host roots go (default: a temporary directory in `/dev/shm`, removed
    /// at the end).
    pub state_dir: Option<PathBuf>,
    /// A broken engine variant (tests).
    pub defect: Option<Defect>,
}

impl Options {
    /// The seed's cluster, the project's manifests, no faults, 900 s of steady state (three
    /// renewals of the leafs' 600 s leases).
    pub fn seed_defaults(seed: u64) -> Options {
        Options {
            seed,
            manifests: deploy::project_manifests(),
            cluster: cluster::ClusterSpec::seed(),
            pods: None,
            faults: FaultPlan::None,
            steady_secs: 900,
            state_dir: None,
            defect: None,
        }
    }
}

/// Runs the simulation: start-up, scheduling, attach, steady state, teardown. An invariant
/// that does not hold ends the run with [`Error::Violation`].
pub fn run(opts: Options) -> Result<report::Report> {
    sim::Simulation::new(opts)?.run()
}

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
