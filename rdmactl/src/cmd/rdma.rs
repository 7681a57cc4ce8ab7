//! `rdmactl rdma netns-mode [--root DIR] [shared|exclusive]`: shows or sets the RDMA
//! subsystem's network-namespace mode (`rdma system show netns`, `rdma system set netns`) of
//! the node at `--root`: a simulated host's (`rdmactl sim start`) through its proxy, the
//! kernel's over RDMA netlink on `/`. The kernel's rule holds: the mode can change only while
//! no network namespace other than the initial one exists, and the error names those that do
//! (`sriov_core::rdma_ops::change_netns_mode`; the rule itself is the simulator's or the
//! kernel's).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use sriov_core::node::{Backends, HostRoot};
use sriov_core::rdma_ops::change_netns_mode;
use sriov_core::{Named, RdmaNetnsMode};

use super::CmdError;

/// `rdmactl rdma ...`.
#[derive(Debug, Subcommand)]
pub enum RdmaCommand {
    /// Show the RDMA netns mode, or set it (only while no other network namespace exists).
    NetnsMode(NetnsModeArgs),
}

/// Arguments of `rdmactl rdma netns-mode`.
#[derive(Debug, Args)]
pub struct NetnsModeArgs {
    /// The node's root: a simulated host's directory, or `/` for this machine's kernel.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// The mode to set, `shared` or `exclusive`; without it, the current mode is printed.
    pub mode: Option<RdmaNetnsMode>,
}

/// Runs `rdmactl rdma ...`.
pub fn run(command: RdmaCommand) -> Result<(), CmdError> {
    match command {
        RdmaCommand::NetnsMode(args) => netns_mode(args),
    }
}

/// Shows (`netns shared`, as `rdma system show` words it) or sets the mode.
fn netns_mode(args: NetnsModeArgs) -> Result<(), CmdError> {
    let backends = Backends::open(&HostRoot::new(&args.root))?;
    match args.mode {
        None => {
            let mode = Named(&backends.rdma).netns_mode()?;
            println!("netns {mode}");
        }
        Some(mode) => {
            change_netns_mode(&backends.rdma, mode)?;
            println!("netns {mode}");
        }
    }
    Ok(())
}
