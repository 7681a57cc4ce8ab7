//! `rdma-dhcp`: the CNI IPAM plugin (run by the container runtime with `CNI_COMMAND` set) and,
//! as `rdma-dhcp daemon [--socket PATH] [--state-dir DIR] [--allow-uid UID]...`, the node
//! daemon that owns the leases (serving root, and each uid given with `--allow-uid`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use dhcp_ipam::cni::daemon::{Daemon, DaemonConfig};
use dhcp_ipam::cni::plugin::RdmaDhcp;
use dhcp_ipam::cni::{DEFAULT_SOCKET, DEFAULT_STATE_DIR};

const USAGE: &str = "usage: rdma-dhcp daemon [--socket PATH] [--state-dir DIR] [--allow-uid UID]...\n\
    (without arguments: the CNI IPAM plugin, driven by CNI_COMMAND)";

fn daemon(args: &[String]) -> ExitCode {
    let mut cfg = DaemonConfig::new(DEFAULT_SOCKET, DEFAULT_STATE_DIR);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let target = match a.as_str() {
            "--socket" => &mut cfg.socket,
            "--state-dir" => &mut cfg.state_dir,
            "--allow-uid" => {
                match it.next().map(|v| v.parse::<u32>()) {
                    Some(Ok(uid)) => cfg.allowed_uids.push(uid),
                    _ => {
                        eprintln!("rdma-dhcp: --allow-uid needs a numeric uid\n{USAGE}");
                        return ExitCode::from(2);
                    }
                }
                continue;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("rdma-dhcp: unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        };
        match it.next() {
            Some(v) => *target = PathBuf::from(v),
            None => {
                eprintln!("rdma-dhcp: {a} needs a value\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("RDMA_DHCP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(signal, stop.clone()) {
            eprintln!("rdma-dhcp: install handler for signal {signal}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let mut d = match Daemon::start(&cfg) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("rdma-dhcp: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "serving on {} ({} leases resumed from {})",
        cfg.socket.display(),
        d.len(),
        cfg.state_dir.display()
    );
    match d.run(&stop) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rdma-dhcp: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("daemon") {
        return daemon(&args[1..]);
    }
    cni_types::skel::run(RdmaDhcp)
}
