//! `rdmactl`: the command line of rdma-sriov.
//!
//! Every failure prints one line, `rdmactl: <what failed>`, and exits non-zero; nothing panics.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Discover and drive SR-IOV NICs, their RDMA devices and DHCP, on real or simulated hosts.
#[derive(Debug, Parser)]
#[command(name = "rdmactl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List SR-IOV capable PFs and their VFs.
    Discover(cmd::discover::DiscoverArgs),
    /// Which netdev each RDMA port belongs to (`mlx5_0 port 1 ==> ens2f0 (Up)`).
    Ibdev2netdev(cmd::ibdev2netdev::Ibdev2NetdevArgs),
    /// Put back every VF recorded for a pod that is gone or an ADD that stopped part way.
    Reconcile(cmd::reconcile::ReconcileArgs),
    /// Simulated hosts: render them to disk.
    #[command(subcommand)]
    Sim(cmd::sim::SimCommand),
    /// Run the reference deployment's worker node on simulated hardware.
    Simulate(cmd::simulate::SimulateArgs),
    /// DHCP client and server runs.
    #[command(subcommand)]
    Dhcp(cmd::dhcp::DhcpCommand),
    /// The RDMA subsystem: its network-namespace mode.
    #[command(subcommand)]
    Rdma(cmd::rdma::RdmaCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Discover(args) => cmd::discover::run(args),
        Command::Ibdev2netdev(args) => cmd::ibdev2netdev::run(args),
        Command::Reconcile(args) => cmd::reconcile::run(args),
        Command::Sim(sim) => cmd::sim::run(sim),
        Command::Simulate(args) => cmd::simulate::run(args),
        Command::Dhcp(dhcp) => cmd::dhcp::run(dhcp),
        Command::Rdma(rdma) => cmd::rdma::run(rdma),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("rdmactl: {}", cmd::one_line(&*err));
            ExitCode::FAILURE
        }
    }
}
