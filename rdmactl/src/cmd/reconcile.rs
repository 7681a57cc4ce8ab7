//! `rdmactl reconcile --root DIR [--dry-run] [--json]`: puts back every VF the node's ledger
//! records for an attachment whose namespace is gone or whose ADD stopped part way, with the
//! engine of `sriov-cni` (which decides); this prints one line (or JSON object) per action.
//! A second run does nothing.

use std::path::PathBuf;

use clap::Args;
use sriov_cni::engine::{ReconcileAction, ReconcileMode, ReconcileReason};
use sriov_core::node::HostRoot;

use super::CmdError;

/// Arguments of `rdmactl reconcile`.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The node's host root (`/` on a real node).
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// Report what would be done, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// One JSON object per action instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

fn line(a: &ReconcileAction) -> String {
    let why = match &a.reason {
        ReconcileReason::NetnsGone { netns } => format!("netns {netns} is gone"),
        ReconcileReason::AddInterrupted { stage } => format!("ADD stopped at stage {stage}"),
    };
    format!("{} {}: {why}: {}", a.pci, a.owner, a.outcome)
}

/// Runs `rdmactl reconcile`.
pub fn run(args: ReconcileArgs) -> Result<(), CmdError> {
    let root = HostRoot::new(&args.root);
    let mut engine = sriov_cni::plugin::node_engine(&root)?;
    let mode = if args.dry_run {
        ReconcileMode::DryRun
    } else {
        ReconcileMode::Apply
    };
    for action in engine.reconcile(mode)? {
        if args.json {
            println!("{}", serde_json::to_string(&action)?);
        } else {
            println!("{}", line(&action));
        }
    }
    Ok(())
}
