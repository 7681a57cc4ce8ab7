//! `rdmactl sim`: simulated hosts. `render` writes one's sysfs to disk; `start` runs one shared
//! by every process of the machine at a root directory (a live FUSE `DIR/sys`, the host-ops
//! proxy, optionally real veth netdevs), `stop` removes it. The daemon itself is `sim serve`,
//! which `start` runs; the library (`sysfs_sim::shared::daemon`) does the work.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use sriov_core::Netns;
use sysfs_sim::shared::daemon::{self, DaemonConfig, DaemonRecord};
use sysfs_sim::shared::{FabricConfig, HostNetns};

use super::CmdError;

/// Simulated hosts.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Render a preset host so that `rdmactl discover --root DIR` (or any sysfs reader) reads it.
    Render(RenderArgs),
    /// Start a simulated host at DIR shared by every process: DIR/sys live (FUSE), its netlink,
    /// VF tables and RDMA served at DIR/run/sysfs-sim/host.sock; returns when it is ready.
    Start(StartArgs),
    /// Stop the simulated host at DIR and remove everything it made.
    Stop(StopArgs),
    /// The daemon `start` runs (not for direct use).
    #[command(hide = true)]
    Serve(ServeArgs),
}

/// Arguments of `rdmactl sim render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The preset: reference (the seed's worker node), large (8 PFs x 127 VFs) or mixed.
    #[arg(long, default_value = "reference")]
    pub preset: String,
    /// Output directory (created; must be empty if it exists). `DIR/sys` is the tree.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the host's generated identifiers (MACs).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write `DIR/dev/infiniband/*` (uverbsN, umadN, issmN, rdma_cm) as empty plain files:
    /// stand-ins for readers that only check that the nodes exist.
    #[arg(long)]
    pub dev_stubs: bool,
}

/// Arguments of `rdmactl sim start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The preset: reference, large or mixed.
    #[arg(long, default_value = "reference")]
    pub preset: String,
    /// The host root (an existing directory): programs given `--root DIR` or
    /// `RDMA_SRIOV_HOST_ROOT=DIR` use this host.
    #[arg(long)]
    pub root: PathBuf,
    /// Seed of the host's generated identifiers (MACs).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Make each PF and VF netdev a real veth (root only), its peer in the fabric namespace on
    /// the bridge of its VLAN.
    #[arg(long)]
    pub veth: bool,
    /// The fabric namespace (created; with --veth).
    #[arg(long, default_value = "sim-fabric", requires = "veth")]
    pub fabric: String,
    /// Put the netdevs in a namespace of this name, created and removed with the host, instead
    /// of this process's namespace (with --veth).
    #[arg(long, requires = "veth")]
    pub host_netns: Option<String>,
    /// VLANs whose bridges `br<VLAN>` are made up front, comma-separated (with --veth).
    #[arg(long, value_delimiter = ',', requires = "veth")]
    pub vlans: Vec<u16>,
}

/// Arguments of `rdmactl sim stop`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// The host root given to `sim start`.
    #[arg(long)]
    pub root: PathBuf,
}

/// Arguments of `rdmactl sim serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The daemon's configuration (JSON, as `sim start` writes it).
    #[arg(long)]
    pub config: String,
}

/// Runs a `sim` subcommand.
pub fn run(command: SimCommand) -> Result<(), CmdError> {
    match command {
        SimCommand::Render(args) => render(args),
        SimCommand::Start(args) => start(args),
        SimCommand::Stop(args) => stop(args),
        SimCommand::Serve(args) => serve(args),
    }
}

fn render(args: RenderArgs) -> Result<(), CmdError> {
    let preset: sysfs_sim::Preset = args.preset.parse()?;
    let host = preset.build(args.seed)?;
    if let Ok(mut entries) = std::fs::read_dir(&args.out)
        && entries.next().is_some()
    {
        return Err(format!("render to {}: directory is not empty", args.out.display()).into());
    }
    host.render(&args.out, &Netns::Host)
        .map_err(|e| format!("render to {}: {e}", args.out.display()))?;
    if args.dev_stubs {
        host.render_rdma_dev_stubs(&args.out)
            .map_err(|e| format!("render /dev stubs to {}: {e}", args.out.display()))?;
    }
    println!(
        "rendered preset {} to {}",
        args.preset,
        args.out.join("sys").display()
    );
    Ok(())
}

fn start(args: StartArgs) -> Result<(), CmdError> {
    // the name is checked here, so that a typo is one line from this process
    let _: sysfs_sim::Preset = args.preset.parse()?;
    let root = std::path::absolute(&args.root)
        .map_err(|e| format!("root {}: {e}", args.root.display()))?;
    let fabric = args.veth.then(|| FabricConfig {
        fabric_netns: args.fabric.clone(),
        host_netns: args
            .host_netns
            .clone()
            .map_or(HostNetns::Caller, HostNetns::Named),
        vlans: args.vlans.clone(),
    });
    let config = DaemonConfig {
        root,
        preset: args.preset.clone(),
        seed: args.seed,
        fabric,
    };
    let exe = std::env::current_exe().map_err(|e| format!("find rdmactl's executable: {e}"))?;
    let mut command = std::process::Command::new(exe);
    command.args(["sim", "serve", "--config", &config.to_arg()?]);
    let record = daemon::start(command, &config)?;
    print_started(&record);
    Ok(())
}

fn print_started(record: &DaemonRecord) {
    println!(
        "simulated host {} (pid {}) ready at {}",
        record.config.preset,
        record.pid,
        record.config.root.display()
    );
    println!("  sysfs   {}", record.mountpoint.display());
    println!("  socket  {}", record.socket.display());
    if let Some(fabric) = &record.fabric {
        println!(
            "  fabric  namespace {}, bridges {}",
            fabric.fabric_netns.name,
            fabric
                .bridges
                .iter()
                .map(|v| format!("br{v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        if let Some(host) = &fabric.host_netns {
            println!("  netdevs in namespace {}", host.name);
        }
    }
}

fn stop(args: StopArgs) -> Result<(), CmdError> {
    let root = std::path::absolute(&args.root)
        .map_err(|e| format!("root {}: {e}", args.root.display()))?;
    let report = daemon::stop(&root)?;
    match report.stopped_pid {
        Some(pid) => println!("stopped simulated host (pid {pid}) at {}", root.display()),
        None => println!(
            "simulated host at {} was not running; cleaned up",
            root.display()
        ),
    }
    for what in report.removed_leftovers {
        println!("  removed leftover {what}");
    }
    Ok(())
}

fn serve(args: ServeArgs) -> Result<(), CmdError> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let config = DaemonConfig::from_arg(&args.config)?;
    let result = daemon::run(&config, |_| {
        daemon::announce(Ok(()));
        daemon::detach_stdout();
    });
    if let Err(e) = &result {
        daemon::announce(Err(e));
    }
    Ok(result?)
}
