//! `rdmactl simulate`: the seed's cluster from the `deploy/` manifests on simulated nodes and
//! leafs, in virtual time (the `cluster-sim` crate does the work; this parses flags and prints).

use std::path::PathBuf;

use clap::Args;
use cluster_sim::cluster::ClusterSpec;
use cluster_sim::report::Detail;
use cluster_sim::{FaultPlan, Options};

use super::CmdError;

/// Arguments of `rdmactl simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Seed of every random choice: the same seed prints the same output, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The manifests to run (a directory of YAML files) [default: the project's deploy/].
    #[arg(long)]
    pub manifests: Option<PathBuf>,
    /// Worker nodes (default: the seed's clx-host-021 and clx-host-022), behind as many leafs as
    /// their ranges need.
    #[arg(long)]
    pub nodes: Option<usize>,
    /// VFs per worker's PF ens2f0.
    #[arg(long, default_value_t = 8)]
    pub vfs: u32,
    /// Pods of the test Deployment [default: its replicas, 2].
    #[arg(long)]
    pub pods: Option<u32>,
    /// Faults: a comma list (kubelet-restart, dp-crash, cni-kill, multus-cache-lost,
    /// dhcp-outage, leaf-reboot, node-reboot, vf-vanish, pf-flap, packet-loss, packet-dup),
    /// `all`, or `random`; each at a time drawn from the seed.
    #[arg(long, default_value = "none")]
    pub faults: String,
    /// Virtual seconds the pods run, renewing their leases, before the Deployment is deleted.
    #[arg(long, default_value_t = 900)]
    pub steady: u64,
    /// Print JSON instead of the walk-through.
    #[arg(long)]
    pub json: bool,
    /// Also print each phase's wall time (not part of the seeded output).
    #[arg(long)]
    pub timings: bool,
    /// Draw pods Running per leaf, the attach latencies and the faults into this SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Keep the nodes' host roots here (default: a temporary directory, removed at the end).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

/// Runs `rdmactl simulate`.
pub fn run(args: SimulateArgs) -> Result<(), CmdError> {
    let mut opts = Options::seed_defaults(args.seed);
    if let Some(dir) = &args.manifests {
        opts.manifests = cluster_sim::deploy::read_dir(dir)?;
    }
    if let Some(n) = args.nodes {
        opts.cluster = ClusterSpec::scaled(n, args.vfs)?;
    } else if args.vfs != 8 {
        opts.cluster = ClusterSpec::scaled(2, args.vfs)?;
    }
    opts.pods = args.pods;
    opts.faults = args.faults.parse::<FaultPlan>()?;
    opts.steady_secs = args.steady;
    opts.state_dir = args.state_dir.clone();
    let report = match cluster_sim::run(opts) {
        Ok(r) => r,
        Err(cluster_sim::Error::Violation(v)) => {
            // the seed and the event trail, in full, then a non-zero exit
            eprint!("{v}");
            return Err(format!(
                "simulate: invariant violated: {} (seed {})",
                v.invariant, v.seed
            )
            .into());
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(path) = &args.plot {
        cluster_sim::plot::draw(&report, path)?;
    }
    if args.json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| format!("encode report: {e}"))?;
        println!("{text}");
    } else {
        let detail = if report.pods.len() <= 8 {
            Detail::EveryPod
        } else {
            Detail::Summary
        };
        print!("{}", report.text(detail));
    }
    if args.timings {
        eprint!("{}", report.wall_text());
    }
    Ok(())
}
