//! `rdmactl ibdev2netdev [--root DIR] [-v]`: which netdev each RDMA port belongs to, as MOFED's
//! script prints it: `mlx5_0 port 1 ==> ens2f0 (Up)`; `-v` adds the PCI address, HCA type,
//! board, part, firmware and port state. `--netns PATH` prints a pod's view: the sysfs of that
//! namespace of the simulated host at `--root` (read through its proxy).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use rdma_dev::Detail;
use sriov_core::node::{Backends, HostRoot};
use sriov_core::{FsSysfs, Netns, Sysfs};

use super::CmdError;

/// Arguments of `rdmactl ibdev2netdev`.
#[derive(Debug, Args)]
pub struct Ibdev2NetdevArgs {
    /// The directory holding `sys/` (a host's `/`, or a rendered or captured tree).
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// Verbose: PCI address, HCA type, board, part, firmware and port state.
    #[arg(short, long)]
    pub verbose: bool,
    /// Show what a process in this network namespace sees (a namespace file such as
    /// /var/run/netns/pod1); needs a simulated host at --root (`rdmactl sim start`).
    #[arg(long)]
    pub netns: Option<PathBuf>,
}

/// The lines for any [`Sysfs`] view.
pub fn lines_with(fs: &dyn Sysfs, detail: Detail) -> Result<Vec<String>, CmdError> {
    Ok(rdma_dev::ibdev2netdev(fs, detail)?
        .iter()
        .map(ToString::to_string)
        .collect())
}

/// The lines for the tree under `root`, with errors that name the root.
pub fn lines_at(root: &Path, detail: Detail) -> Result<Vec<String>, CmdError> {
    if !root.is_dir() {
        return Err(format!("root {}: not a directory", root.display()).into());
    }
    lines_with(&FsSysfs::new(root), detail).map_err(|e| {
        format!(
            "ibdev2netdev under {}: {}",
            root.display(),
            super::one_line(&*e)
        )
        .into()
    })
}

/// The lines namespace `ns` of the node at `root` sees, with errors that name both.
pub fn lines_in(root: &Path, ns: &Netns, detail: Detail) -> Result<Vec<String>, CmdError> {
    let backends = Backends::open(&HostRoot::new(root))?;
    let fs = backends.sysfs_of(ns)?;
    lines_with(&*fs, detail).map_err(|e| {
        format!(
            "ibdev2netdev in {ns} of {}: {}",
            root.display(),
            super::one_line(&*e)
        )
        .into()
    })
}

/// Runs `rdmactl ibdev2netdev`.
pub fn run(args: Ibdev2NetdevArgs) -> Result<(), CmdError> {
    let detail = if args.verbose {
        Detail::Verbose
    } else {
        Detail::Brief
    };
    let lines = match &args.netns {
        None => lines_at(&args.root, detail)?,
        Some(path) => lines_in(&args.root, &Netns::Path(path.clone()), detail)?,
    };
    if lines.is_empty() {
        eprintln!(
            "rdmactl: no RDMA devices under {}",
            args.root.join("sys/class/infiniband").display()
        );
    }
    let mut out = String::new();
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        // a reader that stopped early (`| head`) is not an error
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("write to stdout: {e}").into()),
    }
}
