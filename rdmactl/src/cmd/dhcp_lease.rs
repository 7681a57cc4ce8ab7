//! `rdmactl dhcp lease` (not built yet: issue 5).

use clap::Args;

use super::CmdError;

/// Arguments of `rdmactl dhcp lease`.
#[derive(Debug, Args)]
pub struct LeaseArgs {}

/// Runs `rdmactl dhcp lease`.
pub fn run(_args: LeaseArgs) -> Result<(), CmdError> {
    Err("rdmactl dhcp lease is not built yet".into())
}
