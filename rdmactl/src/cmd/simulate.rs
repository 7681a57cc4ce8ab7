//! `rdmactl simulate`.

use clap::Args;

use super::CmdError;

/// Arguments of `rdmactl simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {}

/// Runs `rdmactl simulate`.
pub fn run(_args: SimulateArgs) -> Result<(), CmdError> {
    Err("not built yet".into())
}
