//! `rdmactl dhcp lease`: acquire a DHCP lease on an interface of a network namespace, configure
//! it there, print it, optionally keep it renewed for a while and release it at the end.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use dhcp_codec::ClientId;
use dhcp_codec::Time;
use dhcp_ipam::client::{Client, ClientConfig, Event, Lease};
use dhcp_ipam::transport::{Interface, Session};
use serde::Serialize;

use super::CmdError;

/// Arguments of `rdmactl dhcp lease`.
#[derive(Debug, Args)]
pub struct LeaseArgs {
    /// Network namespace: a name under /var/run/netns, or a path to a namespace file.
    #[arg(long)]
    pub netns: String,
    /// Interface inside the namespace.
    #[arg(long)]
    pub ifname: String,
    /// Client identifier (option 61) as hex bytes, type byte first (`01aabbccddeeff` or
    /// `01:aa:bb:cc:dd:ee:ff`). Default: type 1 and the interface's MAC.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Keep the lease renewed for this many seconds after acquiring it.
    #[arg(long)]
    pub hold: Option<u64>,
    /// Release the lease at the end (DHCPRELEASE, address removed).
    #[arg(long)]
    pub release: bool,
    /// Print the lease as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Give up acquiring after this many seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
}

/// The lease as printed.
#[derive(Debug, Serialize)]
struct Printed {
    address: String,
    router: Option<String>,
    dns: Vec<String>,
    lease_secs: u32,
    t1_secs: u32,
    t2_secs: u32,
    server_id: String,
}

impl From<&Lease> for Printed {
    fn from(l: &Lease) -> Self {
        Printed {
            address: l.address.to_string(),
            router: l.router().map(|r| r.to_string()),
            dns: l.dns_servers.iter().map(|d| d.to_string()).collect(),
            lease_secs: l.lease_secs,
            t1_secs: l.t1_secs,
            t2_secs: l.t2_secs,
            server_id: l.server_id.to_string(),
        }
    }
}

fn netns_path(arg: &str) -> PathBuf {
    if arg.contains('/') {
        PathBuf::from(arg)
    } else {
        PathBuf::from("/var/run/netns").join(arg)
    }
}

fn print(lease: &Lease, json: bool) -> Result<(), CmdError> {
    let p = Printed::from(lease);
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string(&p)?)?;
    } else {
        writeln!(out, "address    {}", p.address)?;
        writeln!(out, "router     {}", p.router.as_deref().unwrap_or("-"))?;
        writeln!(out, "dns        {}", p.dns.join(" "))?;
        writeln!(
            out,
            "lease      {} s (T1 {} s, T2 {} s)",
            p.lease_secs, p.t1_secs, p.t2_secs
        )?;
        writeln!(out, "server     {}", p.server_id)?;
    }
    out.flush()?;
    Ok(())
}

/// Runs `rdmactl dhcp lease`.
pub fn run(args: LeaseArgs) -> Result<(), CmdError> {
    let netns = netns_path(&args.netns);
    let iface = Interface::lookup(Some(&netns), &args.ifname)?;
    let client_id = match &args.client_id {
        Some(hex) => hex.parse::<ClientId>()?,
        None => ClientId::from_mac(iface.mac),
    };
    let config = ClientConfig::new(iface.hwaddr(), client_id).quick_start();
    let seed = u64::from(std::process::id()) ^ Time::now().as_millis();
    let client = Client::new(config, seed, Time::now());
    // Probe each new address by ARP first: a conflict means DHCPDECLINE and another try.
    let mut session = Session::new(client, iface).with_arp_check(Duration::from_millis(200));

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| format!("install handler for signal {signal}: {e}"))?;
    }

    let lease = session.acquire(Duration::from_secs(args.timeout))?;
    print(&lease, args.json)?;

    if let Some(secs) = args.hold {
        let until = Instant::now() + Duration::from_secs(secs);
        // In steps of a second, so SIGTERM/SIGINT end the hold promptly.
        while !stop.load(Ordering::Relaxed) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            session.hold(left.min(Duration::from_secs(1)))?;
        }
        for e in session.events() {
            if let Event::Drop { address, reason } = e {
                eprintln!("rdmactl: lease of {address} dropped while held: {reason:?}");
            }
        }
    }

    if args.release {
        if session.lease().is_some() {
            session.release()?;
        } else {
            return Err("no lease left to release".into());
        }
    } else {
        session.stop();
    }
    Ok(())
}
