//! `rdmactl discover`.

use clap::Args;

use super::CmdError;

/// Arguments of `rdmactl discover`.
#[derive(Debug, Args)]
pub struct DiscoverArgs {}

/// Runs `rdmactl discover`.
pub fn run(_args: DiscoverArgs) -> Result<(), CmdError> {
    Err("not built yet".into())
}
