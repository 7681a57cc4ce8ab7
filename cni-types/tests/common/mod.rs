//! Shared test helpers: reading the conformance vectors, an in-process recording plugin, a
//! recording `Exec`.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use cni_types::invoke::Exec;
use cni_types::skel::{self, Plugin, Request};
use cni_types::{CniError, Error, Result100};
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

/// What the skeleton printed and returned.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Outcome {
    pub fn stdout_json(&self) -> Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout {:?}: {e}", String::from_utf8_lossy(&self.stdout)))
    }

    pub fn error(&self) -> CniError {
        assert_eq!(
            self.code,
            1,
            "expected failure, stdout {:?}",
            String::from_utf8_lossy(&self.stdout)
        );
        CniError::parse(&self.stdout).unwrap()
    }
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

/// A full, valid environment for `command`.
pub fn full_env(command: &str) -> BTreeMap<String, String> {
    [
        ("CNI_COMMAND", command),
        ("CNI_CONTAINERID", "some-container-id"),
        ("CNI_NETNS", "/some/netns/path"),
        ("CNI_IFNAME", "eth0"),
        ("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=p"),
        ("CNI_PATH", "/some/cni/path"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Runs the skeleton in-process.
pub fn run_skel(plugin: &mut Recorder, env: &BTreeMap<String, String>, stdin: &[u8]) -> Outcome {
    let getenv = |k: &str| env.get(k).cloned();
    let mut input = stdin;
    run_skel_reader(plugin, &getenv, &mut input)
}

pub fn run_skel_reader(
    plugin: &mut Recorder,
    getenv: &dyn Fn(&str) -> Option<String>,
    stdin: &mut dyn Read,
) -> Outcome {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let code = skel::run_with(plugin, getenv, stdin, &mut stdout, &mut stderr);
    Outcome {
        code,
        stdout,
        stderr,
    }
}

/// One recorded plugin run.
#[derive(Debug, Clone)]
pub struct Call {
    pub plugin: String,
    pub env: BTreeMap<String, String>,
    pub stdin: Value,
}

/// An `Exec` that records every call and answers ADD from a table of plugin outputs.
#[derive(Default)]
pub struct FakeExec {
    pub calls: RefCell<Vec<Call>>,
    pub add_outputs: BTreeMap<String, Vec<u8>>,
}

impl Exec for FakeExec {
    fn exec(
        &self,
        plugin: &Path,
        env: &[(String, String)],
        stdin: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let name = plugin.file_name().unwrap().to_string_lossy().into_owned();
        let env: BTreeMap<String, String> = env.iter().cloned().collect();
        let command = env["CNI_COMMAND"].clone();
        self.calls.borrow_mut().push(Call {
            plugin: name.clone(),
            env,
            stdin: serde_json::from_slice(stdin).unwrap(),
        });
        if command == "ADD" {
            Ok(self.add_outputs.get(&name).cloned().unwrap_or_default())
        } else {
            Ok(Vec::new())
        }
    }

    fn find(&self, plugin: &str, _paths: &[PathBuf]) -> Result<PathBuf, Error> {
        Ok(PathBuf::from("/fake").join(plugin))
    }
}
