//! `rdmactl dhcp serve`: the leaf switch's DHCP server on one interface of a network namespace,
//! configured from a `dhcpd.conf`, until SIGTERM or SIGINT.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Args;
use dhcp_server::{ServeConfig, ServerConfig, Timers, UdpServer};

use super::CmdError;

/// Arguments of `rdmactl dhcp serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Network namespace to serve in: a name under /var/run/netns, or a path to a namespace
    /// file. Omitted: the current namespace.
    #[arg(long)]
    pub netns: Option<String>,
    /// Interface to serve on; its IPv4 address on a configured subnet is the server identifier.
    #[arg(long)]
    pub ifname: String,
    /// The ISC dhcpd.conf (subset: subnet, range, option routers/subnet-mask/
    /// domain-name-servers/domain-name, default/max-lease-time, host, authoritative).
    #[arg(long)]
    pub config: PathBuf,
    /// Lease file, kept across restarts (created if missing). Omitted: leases in memory only.
    #[arg(long)]
    pub leases: Option<PathBuf>,
    /// Seconds an offered address is held for the client's REQUEST.
    #[arg(long, default_value_t = Timers::default().offer_secs)]
    pub offer_secs: u32,
    /// Seconds a declined address stays out of use.
    #[arg(long, default_value_t = Timers::default().decline_secs)]
    pub decline_secs: u32,
}

/// The namespace file for `--netns`: a path if it contains `/`, else `/var/run/netns/NAME`.
fn netns_path(arg: &str) -> PathBuf {
    if arg.contains('/') {
        PathBuf::from(arg)
    } else {
        PathBuf::from("/var/run/netns").join(arg)
    }
}

/// Runs `rdmactl dhcp serve`.
pub fn run(args: ServeArgs) -> Result<(), CmdError> {
    // The server's own log (pool exhausted, lease file trouble, ...) on stderr: warnings by
    // default, more with RUST_LOG (for example RUST_LOG=dhcp_ipam=debug).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let config = ServerConfig::load(&args.config)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| format!("install handler for signal {signal}: {e}"))?;
    }
    let mut server = UdpServer::bind(ServeConfig {
        netns: args.netns.as_deref().map(netns_path),
        ifname: args.ifname.clone(),
        config,
        lease_file: args.leases.clone(),
        timers: Timers {
            offer_secs: args.offer_secs,
            decline_secs: args.decline_secs,
        },
    })?;
    // Status lines go to stderr; a closed stderr must not stop the server.
    let _ = writeln!(
        std::io::stderr(),
        "rdmactl: serving DHCP on {} as {} ({} leases bound{})",
        args.ifname,
        server.server_id(),
        server.engine().allocator().bound_count(),
        args.leases
            .as_ref()
            .map(|p| format!(", lease file {}", p.display()))
            .unwrap_or_default()
    );
    let stats = server.run(&stop)?;
    let _ = writeln!(
        std::io::stderr(),
        "rdmactl: stopped: {} offers, {} acks, {} naks, {} releases, {} declines, {} dropped",
        stats.offers,
        stats.acks,
        stats.naks,
        stats.releases,
        stats.declines,
        stats.dropped
    );
    Ok(())
}
