//! Test harness for plugin and runtime authors: run a [`Plugin`] in-process and read back what
//! it printed, or record the plugin runs a runtime makes.
//!
//! - [`run`] gives a plugin an [`Env`] (the `CNI_*` variables) and stdin bytes through the
//!   real skeleton ([`skel::run_with`], so every validation rule applies) and returns an
//!   [`Outcome`]: exit code, stdout, stderr, and typed readings of stdout ([`Outcome::result`]
//!   in the version the plugin printed, [`Outcome::error`], [`Outcome::version_info`]).
//!   [`Outcome`] also holds a real process's output (`From<std::process::Output>`), so one
//!   assertion serves both.
//! - [`RecordingExec`] is an [`Exec`] for the conflist runner ([`crate::runtime::CniConfig`])
//!   or [`crate::invoke`] that records every plugin run ([`ExecCall`]) and answers with a
//!   closure: canned outputs, or a real [`RawExec`](crate::invoke::RawExec) run.
//!
//! Nothing here touches the machine: no process runs, no namespace is entered (the default
//! `CNI_NETNS` is a path that names no namespace).
//!
//! ```
//! use cni_types::skel::{Command, Plugin, Request};
//! use cni_types::testing::{self, Env};
//! use cni_types::{AnyResult, CniError, Interface, Result100};
//!
//! /// ADD reports the interface it was asked for.
//! struct Tiny;
//!
//! impl Plugin for Tiny {
//!     fn add(&mut self, req: &Request) -> Result<Result100, CniError> {
//!         let mut result = Result100::new();
//!         result.interfaces.push(Interface {
//!             name: req.ifname.clone(),
//!             sandbox: req.netns.clone(),
//!             ..Default::default()
//!         });
//!         Ok(result)
//!     }
//!     fn del(&mut self, _req: &Request) -> Result<(), CniError> {
//!         Ok(())
//!     }
//!     fn check(&mut self, _req: &Request) -> Result<(), CniError> {
//!         Ok(())
//!     }
//! }
//!
//! let conf = br#"{"cniVersion":"1.0.0","name":"net","type":"tiny"}"#;
//! let env = Env::for_command(Command::Add).with("CNI_IFNAME", "net1");
//! let out = testing::run(&mut Tiny, &env, conf);
//! assert_eq!(out.exit_code, 0);
//! // Printed in the configuration's version, as the skeleton converts it.
//! let AnyResult::V100(result) = out.result()? else { panic!("a 1.x result") };
//! assert_eq!(result.cni_version, "1.0.0");
//! assert_eq!(result.interfaces[0].name, "net1");
//! assert_eq!(result.interfaces[0].sandbox, testing::DEFAULT_NETNS);
//!
//! // A name the kernel would refuse never reaches the plugin: code 4, exit code 1.
//! let out = testing::run(&mut Tiny, &env.with("CNI_IFNAME", "net:1"), conf);
//! assert_eq!(out.exit_code, 1);
//! assert_eq!(out.error()?.code.code(), 4);
//! # Ok::<(), cni_types::Error>(())
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use crate::invoke::{self, Exec};
use crate::result::AnyResult;
use crate::skel::{self, Command, Plugin};
use crate::version::VersionInfo;
use crate::{CniError, Error};

/// `CNI_CONTAINERID` of [`Env::for_command`] (the specification's example container).
pub const DEFAULT_CONTAINER_ID: &str = "a51debf7e1eb";
/// `CNI_NETNS` of [`Env::for_command`]: a path that names no namespace on a test machine.
pub const DEFAULT_NETNS: &str = "/var/run/netns/cni-types-test";
/// `CNI_IFNAME` of [`Env::for_command`].
pub const DEFAULT_IFNAME: &str = "eth0";
/// `CNI_PATH` of [`Env::for_command`] (containerd's default plugin directory).
pub const DEFAULT_CNI_PATH: &str = "/opt/cni/bin";

/// The environment variables of one plugin run. Variables not set are absent, which the
/// skeleton treats like empty ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// No variables at all (a plugin run by hand, without `CNI_COMMAND`).
    pub fn new() -> Self {
        Env::default()
    }

    /// The variables a runtime (libcni) gives `command`: all six `CNI_*` variables, set.
    ///
    /// - ADD, CHECK, DEL: `CNI_CONTAINERID` [`DEFAULT_CONTAINER_ID`], `CNI_NETNS`
    ///   [`DEFAULT_NETNS`], `CNI_IFNAME` [`DEFAULT_IFNAME`], `CNI_PATH` [`DEFAULT_CNI_PATH`],
    ///   an empty `CNI_ARGS`;
    /// - GC, STATUS, VERSION: `CNI_PATH` only, the other four empty, as libcni sends them.
    pub fn for_command(command: Command) -> Self {
        let attachment = matches!(command, Command::Add | Command::Check | Command::Del);
        let value = |v: &'static str| if attachment { v } else { "" };
        Env::new()
            .with("CNI_COMMAND", command.as_str())
            .with("CNI_CONTAINERID", value(DEFAULT_CONTAINER_ID))
            .with("CNI_NETNS", value(DEFAULT_NETNS))
            .with("CNI_IFNAME", value(DEFAULT_IFNAME))
            .with("CNI_ARGS", "")
            .with("CNI_PATH", DEFAULT_CNI_PATH)
    }

    /// This environment with `key` set to `value`.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    /// This environment without `key`.
    pub fn without(mut self, key: &str) -> Self {
        self.remove(key);
        self
    }

    /// Sets `key` to `value`.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(key.into(), value.into());
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        self.vars.remove(key);
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    /// Every variable, sorted by name (for `std::process::Command::envs`, say).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Env {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Env {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

/// What a plugin run ended with: its exit code and what it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code: 0 success, 1 an error result on stdout (for the skeleton; a real
    /// process may use other non-zero codes, and -1 stands for a death by signal).
    pub exit_code: i32,
    /// Everything written on stdout.
    pub stdout: Vec<u8>,
    /// Everything written on stderr.
    pub stderr: Vec<u8>,
}

impl Outcome {
    /// True for exit code 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code == 0
    }

    /// stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }

    /// stderr as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }

    /// stdout as one JSON document, whatever the exit code.
    pub fn stdout_json(&self) -> Result<Value, Error> {
        serde_json::from_slice(&self.stdout).map_err(|source| Error::Decode {
            what: "plugin stdout",
            source,
        })
    }

    /// The result printed by a successful run, in the layout of the version it names
    /// ([`AnyResult::parse`]). A failed run is [`Error::UnexpectedOutcome`].
    pub fn result(&self) -> Result<AnyResult, Error> {
        self.expect_exit(0)?;
        AnyResult::parse(&self.stdout)
    }

    /// The error result printed by a failed run (any non-zero exit code). A successful run
    /// is [`Error::UnexpectedOutcome`].
    pub fn error(&self) -> Result<CniError, Error> {
        if self.succeeded() {
            return Err(self.unexpected(1));
        }
        CniError::parse(&self.stdout)
    }

    /// The `VERSION` answer printed by a successful run.
    pub fn version_info(&self) -> Result<VersionInfo, Error> {
        self.expect_exit(0)?;
        VersionInfo::parse(&self.stdout)
    }

    fn expect_exit(&self, expected: i32) -> Result<(), Error> {
        if self.exit_code == expected {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn unexpected(&self, expected_exit_code: i32) -> Error {
        Error::UnexpectedOutcome {
            expected_exit_code,
            exit_code: self.exit_code,
            stdout: self.stdout_text().into_owned(),
        }
    }
}

impl From<std::process::Output> for Outcome {
    /// A real plugin process's output (exit code -1 when a signal ended it).
    fn from(out: std::process::Output) -> Self {
        Outcome {
            exit_code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: out.stderr,
        }
    }
}

/// Runs `plugin` through the skeleton on `env` with `stdin`, in this process, and returns
/// what it printed and its exit code. Never panics (the skeleton does not).
pub fn run<P: Plugin + ?Sized>(plugin: &mut P, env: &Env, stdin: &[u8]) -> Outcome {
    let mut input = stdin;
    run_with_reader(plugin, env, &mut input)
}

/// [`run`] with stdin read from `stdin` (a reader that fails, say, to see code 5).
pub fn run_with_reader<P: Plugin + ?Sized>(
    plugin: &mut P,
    env: &Env,
    stdin: &mut dyn Read,
) -> Outcome {
    let getenv = |k: &str| env.get(k).map(str::to_string);
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let exit_code = skel::run_with(plugin, &getenv, stdin, &mut stdout, &mut stderr);
    Outcome {
        exit_code,
        stdout,
        stderr,
    }
}

/// One plugin run seen by a [`RecordingExec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCall {
    /// The plugin binary, as found.
    pub plugin: PathBuf,
    /// The variables given to it, in the order given.
    pub env: Vec<(String, String)>,
    /// Its stdin.
    pub stdin: Vec<u8>,
    /// Its stdout when the answer was a success; `None` when it failed (or while the answer
    /// is being computed).
    pub stdout: Option<Vec<u8>>,
}

impl ExecCall {
    /// The plugin's file name (its type).
    pub fn plugin_name(&self) -> Cow<'_, str> {
        self.plugin
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    }

    /// The value of variable `key`, if given.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `CNI_COMMAND` (empty if not given).
    pub fn command(&self) -> &str {
        self.var("CNI_COMMAND").unwrap_or_default()
    }

    /// stdin as one JSON document.
    pub fn stdin_json(&self) -> Result<Value, Error> {
        serde_json::from_slice(&self.stdin).map_err(|source| Error::Decode {
            what: "plugin stdin",
            source,
        })
    }
}

/// Where a [`RecordingExec`] finds plugins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginLookup {
    /// Every plugin type with a valid name is found at `<dir>/<type>`; no file is looked at
    /// (plugins answered in memory).
    InMemory {
        /// The directory named in the plugin paths.
        dir: PathBuf,
    },
    /// In the plugin path, as [`RawExec`](crate::invoke::RawExec) does
    /// ([`invoke::find_in_path`]).
    CniPath,
}

type Answer = dyn Fn(&ExecCall) -> Result<Vec<u8>, Error> + Send + Sync;

/// An [`Exec`] that records every plugin run and answers it with a closure: stdout for a
/// success, an [`Error`] (such as [`Error::Plugin`] with the plugin's error result) for a
/// failure.
///
/// ```
/// use cni_types::config::NetConfList;
/// use cni_types::runtime::{CniConfig, RuntimeConf};
/// use cni_types::testing::{PluginLookup, RecordingExec};
///
/// let exec = RecordingExec::new(PluginLookup::InMemory { dir: "/in-memory".into() }, |call| {
///     Ok(match call.command() {
///         "ADD" => br#"{"cniVersion":"1.1.0","ips":[{"address":"10.0.0.2/24"}]}"#.to_vec(),
///         _ => Vec::new(),
///     })
/// });
/// let cache = tempfile::tempdir()?;
/// let cni = CniConfig::new(vec!["/in-memory".into()])
///     .with_exec(exec)
///     .with_cache_dir(cache.path());
/// let list = NetConfList::parse(br#"{"cniVersion":"1.1.0","name":"net","plugins":[{"type":"a"},{"type":"b"}]}"#)?;
/// cni.add_network_list(&list, &RuntimeConf::new("ctr1", "/var/run/netns/x", "eth0"))?;
///
/// let calls = cni.exec().calls();
/// let order: Vec<_> = calls.iter().map(|c| c.plugin_name().into_owned()).collect();
/// assert_eq!(order, ["a", "b"]);
/// // The second plugin got the first one's result as prevResult.
/// assert_eq!(calls[1].stdin_json()?["prevResult"]["ips"][0]["address"], "10.0.0.2/24");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RecordingExec {
    lookup: PluginLookup,
    answer: Box<Answer>,
    calls: Mutex<Vec<ExecCall>>,
}

impl std::fmt::Debug for RecordingExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingExec")
            .field("lookup", &self.lookup)
            .field("calls", &*self.lock())
            .finish_non_exhaustive()
    }
}

impl RecordingExec {
    /// Finds plugins by `lookup` and answers every run with `answer`.
    pub fn new<F>(lookup: PluginLookup, answer: F) -> Self
    where
        F: Fn(&ExecCall) -> Result<Vec<u8>, Error> + Send + Sync + 'static,
    {
        RecordingExec {
            lookup,
            answer: Box::new(answer),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// Every run so far, oldest first.
    pub fn calls(&self) -> Vec<ExecCall> {
        self.lock().clone()
    }

    /// Forgets the runs so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, Vec<ExecCall>> {
        // A test that panicked while holding the lock left whole entries: keep using them.
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Exec for RecordingExec {
    fn exec(
        &self,
        plugin: &Path,
        env: &[(String, String)],
        stdin: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let mut call = ExecCall {
            plugin: plugin.to_path_buf(),
            env: env.to_vec(),
            stdin: stdin.to_vec(),
            stdout: None,
        };
        let answer = (self.answer)(&call);
        call.stdout = answer.as_ref().ok().cloned();
        self.lock().push(call);
        answer
    }

    fn find(&self, plugin: &str, paths: &[PathBuf]) -> Result<PathBuf, Error> {
        match &self.lookup {
            PluginLookup::InMemory { dir } => {
                invoke::check_plugin_name(plugin)?;
                Ok(dir.join(plugin))
            }
            PluginLookup::CniPath => invoke::find_in_path(plugin, paths),
        }
    }
}
