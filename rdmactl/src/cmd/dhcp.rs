//! `rdmactl dhcp lease|serve`: a DHCP client run and the leaf switch's DHCP server.

use clap::Subcommand;

use super::CmdError;

/// DHCP client and server runs.
#[derive(Debug, Subcommand)]
pub enum DhcpCommand {
    /// Acquire a lease on an interface in a network namespace.
    Lease(super::dhcp_lease::LeaseArgs),
    /// Serve DHCP on an interface in a network namespace until SIGTERM or SIGINT.
    Serve(super::dhcp_serve::ServeArgs),
}

/// Runs a `dhcp` subcommand.
pub fn run(command: DhcpCommand) -> Result<(), CmdError> {
    match command {
        DhcpCommand::Lease(args) => super::dhcp_lease::run(args),
        DhcpCommand::Serve(args) => super::dhcp_serve::run(args),
    }
}
