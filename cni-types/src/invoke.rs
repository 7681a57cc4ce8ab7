//! Delegation: find a plugin in `CNI_PATH` and run it, as a plugin with IPAM and a runtime do.
//!
//! The plugin gets the six `CNI_*` variables (the rest of the environment is inherited) and the
//! configuration on stdin. Exit status 0 means success and stdout is the result; any other
//! status means failure and stdout is parsed as a [`CniError`] (an empty or unparsable one
//! becomes a code-999 error naming stderr or the output), which comes back as
//! [`Error::Plugin`].
//!
//! The [`Exec`] trait is the seam: [`RawExec`] runs processes; tests can record calls.
//!
//! ```no_run
//! use cni_types::invoke::{self, InvokeArgs};
//!
//! let args = InvokeArgs::new("ADD", "ctr1", "/var/run/netns/ns1", "eth0", &["/usr/lib/cni"]);
//! let conf = br#"{"cniVersion":"1.0.0","name":"n","ipam":{"type":"host-local","subnet":"10.9.0.0/24"}}"#;
//! let result = invoke::delegate_add("host-local", conf, &args)?;
//! println!("{}", String::from_utf8_lossy(&result.emit()));
//! # Ok::<(), cni_types::Error>(())
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::result::AnyResult;
use crate::version::VersionInfo;
use crate::{CniError, Error, ErrorCode};

/// The environment of one plugin invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvokeArgs {
    /// `CNI_COMMAND`.
    pub command: String,
    /// `CNI_CONTAINERID`.
    pub container_id: String,
    /// `CNI_NETNS`.
    pub netns: String,
    /// `CNI_IFNAME`.
    pub ifname: String,
    /// `CNI_ARGS` (`K=V;K2=V2`).
    pub args: String,
    /// `CNI_PATH` directories.
    pub path: Vec<PathBuf>,
}

impl InvokeArgs {
    /// Arguments for `command` on a container interface, without `CNI_ARGS`.
    pub fn new<P: AsRef<Path>>(
        command: &str,
        container_id: &str,
        netns: &str,
        ifname: &str,
        path: &[P],
    ) -> Self {
        InvokeArgs {
            command: command.into(),
            container_id: container_id.into(),
            netns: netns.into(),
            ifname: ifname.into(),
            args: String::new(),
            path: path.iter().map(|p| p.as_ref().to_path_buf()).collect(),
        }
    }

    /// The six variables, always all set (empty when unknown), as the reference runtime does.
    pub fn env(&self) -> Vec<(String, String)> {
        let path = std::env::join_paths(&self.path)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        vec![
            ("CNI_COMMAND".into(), self.command.clone()),
            ("CNI_CONTAINERID".into(), self.container_id.clone()),
            ("CNI_NETNS".into(), self.netns.clone()),
            ("CNI_IFNAME".into(), self.ifname.clone()),
            ("CNI_ARGS".into(), self.args.clone()),
            ("CNI_PATH".into(), path),
        ]
    }
}

/// Runs plugin binaries. Returns stdout on exit status 0, [`Error::Plugin`] otherwise.
pub trait Exec {
    /// Runs `plugin` with `env` added to the environment and `stdin` on its stdin.
    fn exec(&self, plugin: &Path, env: &[(String, String)], stdin: &[u8])
    -> Result<Vec<u8>, Error>;

    /// Finds `plugin` in `paths` (default: [`find_in_path`]).
    fn find(&self, plugin: &str, paths: &[PathBuf]) -> Result<PathBuf, Error> {
        find_in_path(plugin, paths)
    }
}

/// Runs plugins as child processes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawExec;

const TEXT_FILE_BUSY: i32 = 26; // ETXTBSY

impl Exec for RawExec {
    fn exec(
        &self,
        plugin: &Path,
        env: &[(String, String)],
        stdin: &[u8],
    ) -> Result<Vec<u8>, Error> {
        // A binary that was just written may still be open for writing: retry a few times.
        let mut attempt = 0;
        let output = loop {
            match run_child(plugin, env, stdin) {
                Err(e) if e.raw_os_error() == Some(TEXT_FILE_BUSY) && attempt < 5 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(source) => {
                    return Err(Error::ExecPlugin {
                        path: plugin.to_path_buf(),
                        source,
                    });
                }
                Ok(out) => break out,
            }
        };
        if output.status.success() {
            return Ok(output.stdout);
        }
        Err(Error::Plugin {
            path: plugin.to_path_buf(),
            error: plugin_error(&output.status.to_string(), &output.stdout, &output.stderr),
        })
    }
}

fn run_child(
    plugin: &Path,
    env: &[(String, String)],
    stdin: &[u8],
) -> std::io::Result<std::process::Output> {
    let mut child = Command::new(plugin)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pipe = child.stdin.take();
    std::thread::scope(|s| {
        // Feed stdin on its own thread so a plugin that writes before reading cannot block us;
        // a plugin that exits without reading gives EPIPE, which is not our failure.
        if let Some(mut pipe) = pipe {
            s.spawn(move || {
                let _ = pipe.write_all(stdin);
            });
        }
        child.wait_with_output()
    })
}

/// The error a failed plugin reported: its stdout parsed as a [`CniError`], or a code-999
/// error that says what it printed instead.
pub fn plugin_error(status: &str, stdout: &[u8], stderr: &[u8]) -> CniError {
    if stdout.iter().all(u8::is_ascii_whitespace) {
        if stderr.is_empty() {
            return CniError::new(
                ErrorCode::Internal,
                format!("netplugin failed with no error message: {status}"),
            );
        }
        return CniError::new(
            ErrorCode::Internal,
            format!("netplugin failed: {:?}", String::from_utf8_lossy(stderr)),
        );
    }
    match CniError::parse(stdout) {
        Ok(e) => e,
        Err(perr) => CniError::new(
            ErrorCode::Internal,
            format!(
                "netplugin failed but error parsing its diagnostic message {:?}: {perr}",
                String::from_utf8_lossy(stdout)
            ),
        ),
    }
}

/// Refuses a plugin type that is not a plain file name (empty, `.`, `..`, or with a `/`): a
/// configuration must not point outside `CNI_PATH`.
pub fn check_plugin_name(plugin: &str) -> Result<(), Error> {
    if plugin.is_empty() || plugin.contains('/') || plugin == "." || plugin == ".." {
        return Err(Error::InvalidPluginName(plugin.to_string()));
    }
    Ok(())
}

/// Finds `plugin` as a regular file in the first directory of `paths` that has it; the name
/// must pass [`check_plugin_name`].
pub fn find_in_path(plugin: &str, paths: &[PathBuf]) -> Result<PathBuf, Error> {
    check_plugin_name(plugin)?;
    if paths.is_empty() {
        return Err(Error::PluginNotFound {
            plugin: plugin.to_string(),
            paths: Vec::new(),
        });
    }
    paths
        .iter()
        .map(|dir| dir.join(plugin))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::PluginNotFound {
            plugin: plugin.to_string(),
            paths: paths.to_vec(),
        })
}

/// The configuration's `cniVersion` (for reading a result without one), `0.1.0` if none.
fn conf_version(netconf: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct V {
        #[serde(rename = "cniVersion", default)]
        v: Option<String>,
    }
    serde_json::from_slice::<V>(netconf)
        .ok()
        .and_then(|v| v.v)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "0.1.0".to_string())
}

/// Runs `plugin` with ADD (or whatever `args.command` says) and parses its result; a result
/// without `cniVersion` is read in the configuration's version.
pub fn exec_with_result(
    exec: &dyn Exec,
    plugin: &Path,
    netconf: &[u8],
    args: &InvokeArgs,
) -> Result<AnyResult, Error> {
    let out = exec.exec(plugin, &args.env(), netconf)?;
    AnyResult::parse_with_default(&out, &conf_version(netconf)).map_err(|e| Error::PluginOutput {
        path: plugin.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Runs `plugin` for a command without a result (DEL, CHECK, GC, STATUS).
pub fn exec_without_result(
    exec: &dyn Exec,
    plugin: &Path,
    netconf: &[u8],
    args: &InvokeArgs,
) -> Result<(), Error> {
    exec.exec(plugin, &args.env(), netconf).map(|_| ())
}

/// Runs `plugin` with VERSION and decodes its answer.
pub fn exec_version(exec: &dyn Exec, plugin: &Path) -> Result<VersionInfo, Error> {
    let args = InvokeArgs {
        command: "VERSION".into(),
        ..Default::default()
    };
    let out = exec.exec(plugin, &args.env(), br#"{"cniVersion":"1.1.0"}"#)?;
    VersionInfo::parse(&out).map_err(|e| Error::PluginOutput {
        path: plugin.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Finds `plugin_type` in `args.path` and runs it with ADD and `netconf`.
pub fn delegate_add(
    plugin_type: &str,
    netconf: &[u8],
    args: &InvokeArgs,
) -> Result<AnyResult, Error> {
    let path = RawExec.find(plugin_type, &args.path)?;
    let mut args = args.clone();
    args.command = "ADD".into();
    exec_with_result(&RawExec, &path, netconf, &args)
}

/// Finds `plugin_type` in `args.path` and runs it with `args.command` (DEL, CHECK, ...),
/// expecting no result.
pub fn delegate(plugin_type: &str, netconf: &[u8], args: &InvokeArgs) -> Result<(), Error> {
    let path = RawExec.find(plugin_type, &args.path)?;
    exec_without_result(&RawExec, &path, netconf, args)
}
