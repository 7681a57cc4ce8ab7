//! Shared test fixtures: reading the conformance vectors, a plugin that records its
//! requests, canned plugin answers for the conflist runner. Running them is
//! `cni_types::testing`'s job.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cni_types::skel::{Command, Plugin, Request};
use cni_types::testing::{Env, PluginLookup, RecordingExec};
use cni_types::{CniError, Result100};
use serde_json::Value;

/// The conformance vectors, inside the repository.
pub fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

pub fn read(rel: &str) -> Vec<u8> {
    let p = conformance_dir().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

pub fn json(rel: &str) -> Value {
    serde_json::from_slice(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A plugin that records the requests it gets and answers as configured.
pub struct Recorder {
    pub versions: Vec<String>,
    pub about: String,
    pub args_keys: Option<Vec<String>>,
    pub seen: Vec<Request>,
    pub add_result: Result100,
    pub fail: Option<CniError>,
}

impl Default for Recorder {
    fn default() -> Self {
        let mut add_result = Result100::new();
        add_result.ips.push(cni_types::IpConfig {
            interface: None,
            address: "10.0.0.2/24".parse().unwrap(),
            gateway: None,
        });
        Recorder {
            versions: cni_types::version::ALL
                .iter()
                .map(|s| s.to_string())
                .collect(),
            about: String::new(),
            args_keys: None,
            seen: Vec::new(),
            add_result,
            fail: None,
        }
    }
}

impl Recorder {
    pub fn with_versions(versions: &[&str]) -> Self {
        Recorder {
            versions: versions.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn answer(&mut self, req: &Request) -> Result<(), CniError> {
        self.seen.push(req.clone());
        match &self.fail {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

impl Plugin for Recorder {
    fn supported_versions(&self) -> Vec<String> {
        self.versions.clone()
    }
    fn about(&self) -> String {
        self.about.clone()
    }
    fn cni_args_keys(&self) -> Option<Vec<String>> {
        self.args_keys.clone()
    }
    fn add(&mut self, req: &Request) -> Result<Result100, CniError> {
        self.answer(req)?;
        Ok(self.add_result.clone())
    }
    fn del(&mut self, req: &Request) -> Result<(), CniError> {
        self.answer(req)
    }
    fn check(&mut self, req: &Request) -> Result<(), CniError> {
        self.answer(req)
    }
    fn status(&mut self, req: &Request) -> Result<(), CniError> {
        self.answer(req)
    }
    fn gc(&mut self, req: &Request) -> Result<(), CniError> {
        self.answer(req)
    }
}

/// The environment a runtime gives `command` (`"ADD"`, `"GC"`, ...).
pub fn cmd_env(command: &str) -> Env {
    let command = Command::parse(command).unwrap_or_else(|| panic!("no command {command}"));
    Env::for_command(command)
}

/// Plugins answered in memory under `/fake`: ADD prints the plugin type's entry of
/// `add_outputs` (nothing for a type without one), every other command succeeds silently.
pub fn canned_exec(add_outputs: BTreeMap<String, Vec<u8>>) -> RecordingExec {
    RecordingExec::new(
        PluginLookup::InMemory {
            dir: PathBuf::from("/fake"),
        },
        move |call| {
            if call.command() == "ADD" {
                Ok(add_outputs
                    .get(call.plugin_name().as_ref())
                    .cloned()
                    .unwrap_or_default())
            } else {
                Ok(Vec::new())
            }
        },
    )
}
