//! The plugin skeleton: what a plugin's `main` calls.
//!
//! [`run`] reads the environment and stdin, validates them as the reference library does,
//! dispatches ADD, DEL, CHECK, STATUS and GC to a [`Plugin`] (answering VERSION itself),
//! converts the ADD result to the configuration's version, prints the result or the error and
//! exits with 0 or 1. [`run_with`] does the same on a given environment and streams and
//! returns the exit code instead of exiting, and never panics; [`crate::testing::run`] wraps it
//! for tests.
//!
//! Validation, in order (each failure printed as a [`CniError`] on stdout, exit code 1):
//! 1. required variables per command (ADD, CHECK: `CNI_COMMAND`, `CNI_CONTAINERID`,
//!    `CNI_NETNS`, `CNI_IFNAME`, `CNI_PATH`; DEL: the same without `CNI_NETNS`; GC, STATUS:
//!    `CNI_COMMAND`, `CNI_PATH`; VERSION: `CNI_COMMAND`), all missing ones reported together
//!    (code 4). Without `CNI_COMMAND` and with an [`Plugin::about`] text, the about text and the
//!    supported versions go to stderr and the exit code is 0;
//! 2. stdin (not read for VERSION): JSON with a valid network `name` (code 6 bad JSON, 7 name);
//! 3. container ID (code 3 empty, 4 bad characters) and interface name (code 4);
//! 4. the configuration's version is one the plugin supports (code 1); CHECK needs >= 0.4.0,
//!    GC and STATUS >= 1.1.0, and a plugin version at least as high (code 1);
//! 5. ADD and DEL refuse a `CNI_NETNS` that is the plugin's own namespace (code 8) unless
//!    `CNI_NETNS_OVERRIDE` is `1`/`true`;
//! 6. the whole configuration parses ([`NetConf`], code 6) and `CNI_ARGS` parses (code 4; with
//!    [`Plugin::cni_args_keys`], unknown keys are refused unless `IgnoreUnknown`).
//!
//! ```no_run
//! use cni_types::skel::{self, Plugin, Request};
//! use cni_types::{CniError, Result100};
//!
//! struct Noop;
//! impl Plugin for Noop {
//!     fn add(&mut self, req: &Request) -> Result<Result100, CniError> {
//!         Ok(req.prev_result()?.unwrap_or_default())
//!     }
//!     fn del(&mut self, _req: &Request) -> Result<(), CniError> { Ok(()) }
//!     fn check(&mut self, _req: &Request) -> Result<(), CniError> { Ok(()) }
//! }
//!
//! fn main() {
//!     skel::run(Noop)
//! }
//! ```

use std::fmt;
use std::io::{Read, Write};
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::args::CniArgs;
use crate::config::NetConf;
use crate::invoke::{self, InvokeArgs};
use crate::result::{AnyResult, Result100};
use crate::version::{self, VersionInfo};
use crate::{CniError, ErrorCode, validate};

/// A CNI command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Attach.
    Add,
    /// Detach.
    Del,
    /// Verify an attachment.
    Check,
    /// Report supported versions.
    Version,
    /// Report readiness (1.1.0).
    Status,
    /// Remove everything not in the valid attachments (1.1.0).
    Gc,
}

impl Command {
    /// Parses the `CNI_COMMAND` value (exact, upper case).
    pub fn parse(s: &str) -> Option<Command> {
        Some(match s {
            "ADD" => Command::Add,
            "DEL" => Command::Del,
            "CHECK" => Command::Check,
            "VERSION" => Command::Version,
            "STATUS" => Command::Status,
            "GC" => Command::Gc,
            _ => return None,
        })
    }

    /// The `CNI_COMMAND` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Add => "ADD",
            Command::Del => "DEL",
            Command::Check => "CHECK",
            Command::Version => "VERSION",
            Command::Status => "STATUS",
            Command::Gc => "GC",
        }
    }

    /// The environment variables this command requires (besides `CNI_COMMAND`).
    pub fn required_env(self) -> &'static [&'static str] {
        match self {
            Command::Add | Command::Check => {
                &["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"]
            }
            Command::Del => &["CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"],
            Command::Gc | Command::Status => &["CNI_PATH"],
            Command::Version => &[],
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One attachment named in a GC request's `cni.dev/valid-attachments`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attachment {
    /// Container ID.
    #[serde(rename = "containerID")]
    pub container_id: String,
    /// Interface name.
    pub ifname: String,
}

/// Key of the valid attachments in a GC configuration.
pub const VALID_ATTACHMENTS_KEY: &str = "cni.dev/valid-attachments";
/// The older key of the same list (still sent by the reference runtime).
pub const LEGACY_ATTACHMENTS_KEY: &str = "cni.dev/attachments";

/// A validated invocation, as the plugin receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The command.
    pub command: Command,
    /// `CNI_CONTAINERID` (empty for GC and STATUS when not given).
    pub container_id: String,
    /// `CNI_NETNS` (may be empty for DEL, GC, STATUS).
    pub netns: String,
    /// `CNI_IFNAME`.
    pub ifname: String,
    /// `CNI_ARGS`, parsed.
    pub args: CniArgs,
    /// `CNI_ARGS` as given.
    pub raw_args: String,
    /// `CNI_PATH`, split on `:`.
    pub path: Vec<PathBuf>,
    /// stdin as read.
    pub stdin: Vec<u8>,
    /// stdin, parsed.
    pub config: NetConf,
    /// For GC: the valid attachments (`cni.dev/valid-attachments`, else
    /// `cni.dev/attachments`); `None` when the configuration names none.
    pub valid_attachments: Option<Vec<Attachment>>,
}

impl Request {
    /// The configuration's version (`0.1.0` when it has none).
    pub fn version(&self) -> &str {
        self.config.version()
    }

    /// The `prevResult`, parsed in the configuration's version and converted to the current
    /// layout with [`AnyResult::into_current_layout`]: a 1.0.0 or 1.1.0 `prevResult` keeps its
    /// `cniVersion`, a 0.x one becomes 1.0.0 (the skeleton converts what ADD returns to the
    /// configuration's version anyway). `None` when there is none. A bad one is code 6.
    pub fn prev_result(&self) -> Result<Option<Result100>, CniError> {
        match self.config.prev_result() {
            Ok(r) => Ok(r.map(AnyResult::into_current_layout)),
            Err(e) => Err(CniError::new(ErrorCode::DecodingFailure, e.to_string())),
        }
    }

    /// Parses stdin into the plugin's own configuration type (code 6 when it does not fit).
    pub fn config_as<T: DeserializeOwned>(&self) -> Result<T, CniError> {
        serde_json::from_slice(&self.stdin).map_err(|e| {
            CniError::new(
                ErrorCode::DecodingFailure,
                format!("error unmarshall network config: {e}"),
            )
        })
    }

    /// The arguments to run another plugin with the same invocation (same command).
    pub fn invoke_args(&self) -> InvokeArgs {
        InvokeArgs {
            command: self.command.as_str().to_string(),
            container_id: self.container_id.clone(),
            netns: self.netns.clone(),
            ifname: self.ifname.clone(),
            args: self.raw_args.clone(),
            path: self.path.clone(),
        }
    }

    /// Runs the plugin `plugin_type` (typically `config.ipam.type`) from `CNI_PATH` with ADD
    /// and this request's stdin, returning its result converted to the current layout with
    /// [`AnyResult::into_current_layout`] (a 1.x result keeps its `cniVersion`).
    pub fn delegate_add(&self, plugin_type: &str) -> Result<Result100, CniError> {
        let mut args = self.invoke_args();
        args.command = "ADD".into();
        invoke::delegate_add(plugin_type, &self.stdin, &args)
            .map(AnyResult::into_current_layout)
            .map_err(CniError::from)
    }

    /// Runs `plugin_type` with CHECK and this request's stdin.
    pub fn delegate_check(&self, plugin_type: &str) -> Result<(), CniError> {
        let mut args = self.invoke_args();
        args.command = "CHECK".into();
        invoke::delegate(plugin_type, &self.stdin, &args).map_err(CniError::from)
    }

    /// Runs `plugin_type` with DEL and this request's stdin.
    pub fn delegate_del(&self, plugin_type: &str) -> Result<(), CniError> {
        let mut args = self.invoke_args();
        args.command = "DEL".into();
        invoke::delegate(plugin_type, &self.stdin, &args).map_err(CniError::from)
    }
}

/// What a plugin implements. The skeleton has already validated the request; methods return
/// the plugin's result or a [`CniError`] that the skeleton prints.
pub trait Plugin {
    /// The versions the plugin accepts (default: every version, 0.1.0 to 1.1.0).
    fn supported_versions(&self) -> Vec<String> {
        version::ALL.iter().map(|v| v.to_string()).collect()
    }

    /// A line printed on stderr when the plugin is run without `CNI_COMMAND` (for example
    /// `"CNI my-plugin v1.0"`); empty prints nothing and reports the missing variable.
    fn about(&self) -> String {
        String::new()
    }

    /// The `CNI_ARGS` keys the plugin understands. `Some(keys)` makes the skeleton refuse
    /// other keys unless `IgnoreUnknown=1`; `None` (the default) accepts any well-formed pair.
    fn cni_args_keys(&self) -> Option<Vec<String>> {
        None
    }

    /// ADD: attach, returning the result in the current layout; the skeleton converts it to
    /// the configuration's version.
    fn add(&mut self, req: &Request) -> Result<Result100, CniError>;

    /// DEL: detach. Must succeed when repeated or when the namespace or state is gone.
    fn del(&mut self, req: &Request) -> Result<(), CniError>;

    /// CHECK: verify the attachment described by the `prevResult`.
    fn check(&mut self, req: &Request) -> Result<(), CniError>;

    /// STATUS: report whether the plugin can serve ADD (default: ready).
    fn status(&mut self, _req: &Request) -> Result<(), CniError> {
        Ok(())
    }

    /// GC: release everything not in `req.valid_attachments` (default: nothing to release).
    fn gc(&mut self, _req: &Request) -> Result<(), CniError> {
        Ok(())
    }
}

/// Runs the plugin on this process's environment, stdin, stdout and stderr, then exits with
/// the code [`run_with`] returns. The only function of this crate that exits.
pub fn run<P: Plugin>(mut plugin: P) -> ! {
    let getenv = |k: &str| std::env::var(k).ok();
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let code = run_with(
        &mut plugin,
        &getenv,
        &mut stdin.lock(),
        &mut stdout.lock(),
        &mut stderr.lock(),
    );
    std::process::exit(code)
}

/// Runs the plugin on the given environment lookup and streams and returns the exit code
/// (0 success, 1 error). Never panics. Tests call it through [`crate::testing::run`].
pub fn run_with<P: Plugin + ?Sized>(
    plugin: &mut P,
    getenv: &dyn Fn(&str) -> Option<String>,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    match dispatch(plugin, getenv, stdin, stderr) {
        Ok(Output::Nothing) => 0,
        Ok(Output::Json(bytes)) => {
            let _ = stdout.write_all(&bytes);
            let _ = stdout.flush();
            0
        }
        Err(e) => {
            let _ = stdout.write_all(&e.emit());
            let _ = stdout.flush();
            1
        }
    }
}

enum Output {
    Nothing,
    Json(Vec<u8>),
}

fn env_err(msg: String) -> CniError {
    CniError::new(ErrorCode::InvalidEnvironment, msg)
}

fn dispatch<P: Plugin + ?Sized>(
    plugin: &mut P,
    getenv: &dyn Fn(&str) -> Option<String>,
    stdin: &mut dyn Read,
    stderr: &mut dyn Write,
) -> Result<Output, CniError> {
    let get = |k: &str| getenv(k).unwrap_or_default();
    let cmd_str = get("CNI_COMMAND");
    let command = Command::parse(&cmd_str);
    let supported = plugin.supported_versions();

    // 1. Required environment, reported together in the reference order.
    let required: &[&str] = command.map(Command::required_env).unwrap_or(&[]);
    let mut missing = Vec::new();
    for name in [
        "CNI_COMMAND",
        "CNI_CONTAINERID",
        "CNI_NETNS",
        "CNI_IFNAME",
        "CNI_ARGS",
        "CNI_PATH",
    ] {
        if get(name).is_empty() && (name == "CNI_COMMAND" || required.contains(&name)) {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        let about = plugin.about();
        if cmd_str.is_empty() && !about.is_empty() {
            let _ = writeln!(stderr, "{about}");
            let _ = writeln!(
                stderr,
                "CNI protocol versions supported: {}",
                supported.join(", ")
            );
            return Ok(Output::Nothing);
        }
        return Err(env_err(format!(
            "required env variables [{}] missing",
            missing.join(",")
        )));
    }

    if command == Some(Command::Version) {
        return Ok(Output::Json(VersionInfo::new(&supported).emit()));
    }

    // 2. stdin.
    let mut input = Vec::new();
    if let Err(e) = stdin.read_to_end(&mut input) {
        return Err(CniError::new(
            ErrorCode::IoFailure,
            format!("error reading from stdin: {e}"),
        ));
    }
    let raw: Value = serde_json::from_slice(&input).map_err(|e| {
        CniError::new(
            ErrorCode::DecodingFailure,
            format!("error unmarshall network config: {e}"),
        )
    })?;
    // From here on errors carry the configuration's version when it has a readable one.
    let conf_version = match raw.get("cniVersion") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        None | Some(Value::Null) => Some("0.1.0".to_string()),
        Some(Value::String(_)) => Some("0.1.0".to_string()),
        Some(_) => None,
    };
    let stamp = |mut e: CniError| {
        if e.cni_version.is_none() {
            e.cni_version = conf_version.clone();
        }
        e
    };
    dispatch_config(plugin, command, &cmd_str, &get, input, raw, &supported).map_err(stamp)
}

fn decode_err(msg: impl fmt::Display) -> CniError {
    CniError::new(ErrorCode::DecodingFailure, msg.to_string())
}

fn dispatch_config<P: Plugin + ?Sized>(
    plugin: &mut P,
    command: Option<Command>,
    cmd_str: &str,
    get: &dyn Fn(&str) -> String,
    input: Vec<u8>,
    raw: Value,
    supported: &[String],
) -> Result<Output, CniError> {
    let name = match &raw {
        Value::Object(m) => match m.get("name") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(decode_err(format!(
                    "error unmarshall network config: invalid type for name: {other}"
                )));
            }
        },
        Value::Null => String::new(),
        _ => {
            return Err(decode_err(
                "error unmarshall network config: expected a JSON object",
            ));
        }
    };
    validate::network_name(&name)?;

    let container_id = get("CNI_CONTAINERID");
    let ifname = get("CNI_IFNAME");
    let lenient = matches!(command, Some(Command::Gc | Command::Status));
    if !lenient || !container_id.is_empty() {
        validate::container_id(&container_id)?;
    }
    if !lenient || !ifname.is_empty() {
        validate::interface_name(&ifname)?;
    }

    let Some(command) = command else {
        return Err(env_err(format!("unknown CNI_COMMAND: {cmd_str}")));
    };

    // The configuration's version, as the reference decoder reads it.
    let config_version = match raw.get("cniVersion") {
        None | Some(Value::Null) => "0.1.0".to_string(),
        Some(Value::String(s)) if s.is_empty() => "0.1.0".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(decode_err(format!("invalid type for cniVersion: {other}")));
        }
    };

    // 4. Version gating.
    let gate = |min: &str, name: &str| -> Result<(), CniError> {
        let ok = version::greater_than_or_equal(&config_version, min).map_err(decode_err)?;
        if !ok {
            return Err(CniError::new(
                ErrorCode::IncompatibleVersion,
                format!("config version does not allow {name}"),
            ));
        }
        for v in supported {
            if version::greater_than_or_equal(v, &config_version).map_err(decode_err)? {
                return Ok(());
            }
        }
        Err(CniError::new(
            ErrorCode::IncompatibleVersion,
            format!("plugin version does not allow {name}"),
        ))
    };
    match command {
        Command::Check => gate("0.4.0", "CHECK")?,
        Command::Gc => gate("1.1.0", "GC")?,
        Command::Status => gate("1.1.0", "STATUS")?,
        _ => {}
    }
    if !supported.contains(&config_version) {
        return Err(
            CniError::new(ErrorCode::IncompatibleVersion, "incompatible CNI versions")
                .with_details(format!(
                    "config is {config_version:?}, plugin supports {}",
                    go_quote_list(supported)
                )),
        );
    }

    // 5. The plugin's own namespace.
    let netns = get("CNI_NETNS");
    if matches!(command, Command::Add | Command::Del) {
        let over = get("CNI_NETNS_OVERRIDE").to_ascii_lowercase();
        if over != "1" && over != "true" && is_own_netns(&netns) {
            return Err(CniError::new(
                ErrorCode::InvalidNetns,
                "plugin's netns and netns from CNI_NETNS should not be the same",
            ));
        }
    }

    // 6. Full configuration and CNI_ARGS.
    let config: NetConf = serde_json::from_value(raw)
        .map_err(|e| decode_err(format!("error unmarshall network config: {e}")))?;
    let raw_args = get("CNI_ARGS");
    let args = CniArgs::parse(&raw_args)
        .map_err(|e| CniError::new(ErrorCode::InvalidEnvironment, e.to_string()))?;
    if let Some(keys) = plugin.cni_args_keys() {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        args.check_known(&keys)
            .map_err(|e| CniError::new(ErrorCode::InvalidEnvironment, e.to_string()))?;
    }
    let valid_attachments = if command == Command::Gc {
        gc_attachments(&config)?
    } else {
        None
    };
    let path = get("CNI_PATH")
        .split(':')
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect();
    let req = Request {
        command,
        container_id: get("CNI_CONTAINERID"),
        netns,
        ifname: get("CNI_IFNAME"),
        args,
        raw_args,
        path,
        stdin: input,
        config,
        valid_attachments,
    };

    match command {
        Command::Add => {
            let result = plugin.add(&req)?;
            let converted = AnyResult::V100(result)
                .convert_to(&config_version)
                .map_err(CniError::from)?;
            Ok(Output::Json(converted.emit()))
        }
        Command::Del => plugin.del(&req).map(|_| Output::Nothing),
        Command::Check => plugin.check(&req).map(|_| Output::Nothing),
        Command::Status => plugin.status(&req).map(|_| Output::Nothing),
        Command::Gc => plugin.gc(&req).map(|_| Output::Nothing),
        Command::Version => Ok(Output::Json(VersionInfo::new(supported).emit())),
    }
}

fn gc_attachments(config: &NetConf) -> Result<Option<Vec<Attachment>>, CniError> {
    let value = config
        .extra
        .get(VALID_ATTACHMENTS_KEY)
        .or_else(|| config.extra.get(LEGACY_ATTACHMENTS_KEY));
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| decode_err(format!("error unmarshall {VALID_ATTACHMENTS_KEY}: {e}"))),
    }
}

/// `["a" "b"]`, as Go prints a quoted string slice.
fn go_quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(" "))
}

/// True when `path` is the network namespace this process is in.
fn is_own_netns(path: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    if path.is_empty() {
        return false;
    }
    match (
        std::fs::metadata(path),
        std::fs::metadata("/proc/self/ns/net"),
    ) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
