//! Network namespaces and veth pairs for tests, made with iproute2 and removed on drop.

use std::io;
use std::path::PathBuf;
use std::process::Command;

/// A named network namespace (`ip netns add`), deleted when dropped. Links inside it (veth ends,
/// macvlans) go with it.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a namespace named `<prefix><pid>-<n>` with `lo` up.
    pub fn new(prefix: &str) -> io::Result<Self> {
        let name = crate::unique_name(prefix);
        run(Command::new("ip").args(["netns", "add", &name]))?;
        let ns = Netns { name };
        run(Command::new("ip").args(["-n", &ns.name, "link", "set", "lo", "up"]))?;
        Ok(ns)
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bind-mounted namespace file, `/var/run/netns/<name>`.
    pub fn path(&self) -> PathBuf {
        PathBuf::from("/var/run/netns").join(&self.name)
    }

    /// A command that runs `program` inside the namespace (`ip netns exec`, which execs, so the
    /// child's PID is the program's PID).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Runs `ip -n <ns> <args>` and fails with its stderr when it fails.
    pub fn ip(&self, args: &[&str]) -> io::Result<String> {
        run(Command::new("ip").args(["-n", &self.name]).args(args))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Creates a veth pair with one end `a_name` in `a` and the other `b_name` in `b`, both up.
pub fn veth_pair(a: &Netns, a_name: &str, b: &Netns, b_name: &str) -> io::Result<()> {
    run(Command::new("ip").args([
        "link", "add", a_name, "netns", &a.name, "type", "veth", "peer", "name", b_name, "netns",
        &b.name,
    ]))?;
    a.ip(&["link", "set", a_name, "up"])?;
    b.ip(&["link", "set", b_name, "up"])?;
    Ok(())
}

/// Runs a command, returning its stdout, or an error carrying its stderr.
pub(crate) fn run(cmd: &mut Command) -> io::Result<String> {
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{:?} failed ({}): {}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
