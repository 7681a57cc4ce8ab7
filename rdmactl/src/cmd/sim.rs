//! `rdmactl sim render --preset NAME --out DIR`: write a simulated host's sysfs to disk.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use sriov_core::Netns;

use super::CmdError;

/// Simulated hosts.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Render a preset host so that `rdmactl discover --root DIR` (or any sysfs reader) reads it.
    Render(RenderArgs),
}

/// Arguments of `rdmactl sim render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The preset: reference (the seed's worker node), large (8 PFs x 127 VFs) or mixed.
    #[arg(long, default_value = "reference")]
    pub preset: String,
    /// Output directory (created; must be empty if it exists). `DIR/sys` is the tree.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the host's generated identifiers (MACs).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write `DIR/dev/infiniband/*` (uverbsN, umadN, issmN, rdma_cm) as empty plain files:
    /// stand-ins for readers that only check that the nodes exist.
    #[arg(long)]
    pub dev_stubs: bool,
}

/// Runs a `sim` subcommand.
pub fn run(command: SimCommand) -> Result<(), CmdError> {
    match command {
        SimCommand::Render(args) => render(args),
    }
}

fn render(args: RenderArgs) -> Result<(), CmdError> {
    let preset: sysfs_sim::Preset = args.preset.parse()?;
    let host = preset.build(args.seed)?;
    if let Ok(mut entries) = std::fs::read_dir(&args.out)
        && entries.next().is_some()
    {
        return Err(format!("render to {}: directory is not empty", args.out.display()).into());
    }
    host.render(&args.out, &Netns::Host)
        .map_err(|e| format!("render to {}: {e}", args.out.display()))?;
    if args.dev_stubs {
        host.render_rdma_dev_stubs(&args.out)
            .map_err(|e| format!("render /dev stubs to {}: {e}", args.out.display()))?;
    }
    println!(
        "rendered preset {} to {}",
        args.preset,
        args.out.join("sys").display()
    );
    Ok(())
}
