//! `rdmactl sim ...`.

use clap::Subcommand;

use super::CmdError;

/// Simulated hosts.
#[derive(Debug, Subcommand)]
pub enum SimCommand {}

/// Runs a `sim` subcommand.
pub fn run(command: SimCommand) -> Result<(), CmdError> {
    match command {}
}
