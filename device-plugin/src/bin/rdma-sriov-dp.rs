//! `rdma-sriov-dp`: the kubelet device plugin for SR-IOV VFs with RDMA (the seed's
//! `rdma/vhca`), with health from the host's real state.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use device_plugin::RegistrationMode;
use device_plugin::sriov_dp::daemon::{DaemonOptions, run};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Registration {
    /// The plugin watcher when `--plugins-registry` exists, else `Register` on kubelet.sock.
    Auto,
    /// `Register` on `<plugin-dir>/kubelet.sock`.
    Kubelet,
    /// A socket in `--plugins-registry` answering the kubelet's plugin watcher.
    PluginWatcher,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// The kubelet device plugin for SR-IOV VFs with RDMA.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The configuration: `{"mode":"sriov","pfNetdevices":["ens2f0"]}`, `{"mode":"hca"}`, or a
    /// sriov-network-device-plugin `resourceList`. Re-read when it changes.
    #[arg(long, default_value = "/k8s-rdma-sriov-dev-plugin/config.json")]
    config: PathBuf,
    /// The host root whose `sys/` is read (a rendered simulated host works).
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// The kubelet's plugin directory [default: <root>/var/lib/kubelet/device-plugins].
    #[arg(long)]
    plugin_dir: Option<PathBuf>,
    /// The kubelet's plugin-watcher directory [default: <root>/var/lib/kubelet/plugins_registry].
    #[arg(long)]
    plugins_registry: Option<PathBuf>,
    /// How to register with the kubelet.
    #[arg(long, value_enum, default_value = "auto")]
    registration: Registration,
    /// The node's VF ledger [default: <root>/var/lib/cni/sriov/vf-ledger.json].
    #[arg(long)]
    ledger: Option<PathBuf>,
    /// Where device-info files go [default: <root>/var/run/k8s.cni.cncf.io/devinfo/dp].
    #[arg(long)]
    devinfo_dir: Option<PathBuf>,
    /// The resource prefix of the seed's resource (default `rdma`) and of `resourceList`
    /// entries without `resourcePrefix` (default `intel.com`).
    #[arg(long)]
    resource_prefix: Option<String>,
    /// How often the host is looked at, in milliseconds.
    #[arg(long, default_value_t = 200)]
    poll_interval_ms: u64,
    /// Log level.
    #[arg(long, value_enum, default_value = "info")]
    log_level: LogLevel,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let level = match args.log_level {
        LogLevel::Error => "error",
        LogLevel::Warn => "warn",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
        LogLevel::Trace => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    let mut options = DaemonOptions::under_root(&args.root);
    options.config = args.config;
    if let Some(dir) = args.plugin_dir {
        options.plugin_dir = dir;
    }
    let registry = args
        .plugins_registry
        .unwrap_or_else(|| args.root.join("var/lib/kubelet/plugins_registry"));
    options.registration = match args.registration {
        Registration::Auto => RegistrationMode::Auto {
            registry_dir: registry,
        },
        Registration::Kubelet => RegistrationMode::Kubelet,
        Registration::PluginWatcher => RegistrationMode::PluginWatcher {
            registry_dir: registry,
        },
    };
    if let Some(ledger) = args.ledger {
        options.ledger = ledger;
    }
    if let Some(dir) = args.devinfo_dir {
        options.devinfo_dir = dir;
    }
    options.prefix = args.resource_prefix;
    options.poll_interval = Duration::from_millis(args.poll_interval_ms.max(10));
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
