//! `rdmactl dhcp serve` (not built yet: issue 5).

use clap::Args;

use super::CmdError;

/// Arguments of `rdmactl dhcp serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {}

/// Runs `rdmactl dhcp serve`.
pub fn run(_args: ServeArgs) -> Result<(), CmdError> {
    Err("rdmactl dhcp serve is not built yet".into())
}
