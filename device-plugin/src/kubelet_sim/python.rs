//! The Python grpcio kubelet stand-in, run as a child process.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use prost::Message;
use serde_json::{Value, json};
use tokio::sync::{oneshot, watch};

use super::observed::{Observed, Registration, wait_until};
use super::{CallError, KubeletStandIn, SimError};
use crate::api::v1beta1 as pb;
use crate::plugin::{Device, Health};

const SCRIPT: &str = include_str!("../../testing/kubelet_standin.py");
const PROTOS: &[(&str, &str)] = &[
    (
        "deviceplugin/v1beta1/api.proto",
        include_str!("../../proto/deviceplugin/v1beta1/api.proto"),
    ),
    (
        "podresources/v1/api.proto",
        include_str!("../../proto/podresources/v1/api.proto"),
    ),
    (
        "pluginregistration/v1/api.proto",
        include_str!("../../proto/pluginregistration/v1/api.proto"),
    ),
];

/// The Python interpreter the stand-in runs on: `$RDMA_SRIOV_PYTHON`, else `python3`.
pub fn python_program() -> PathBuf {
    std::env::var_os("RDMA_SRIOV_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"))
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// The Python grpcio kubelet stand-in. Dropping it kills the child process (by its handle).
pub struct PythonKubelet {
    plugin_dir: PathBuf,
    child: Mutex<Child>,
    stdin: Mutex<ChildStdin>,
    pending: Pending,
    observed: Arc<watch::Sender<Observed>>,
    next_id: AtomicU64,
    _stubs: tempfile::TempDir,
}

impl std::fmt::Debug for PythonKubelet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PythonKubelet")
            .field("plugin_dir", &self.plugin_dir)
            .finish_non_exhaustive()
    }
}

fn py_err(detail: impl Into<String>) -> SimError {
    SimError::Python {
        detail: detail.into(),
    }
}

/// Why the Python stand-in cannot run here (`None`: it can): Python with `grpc` and
/// `grpc_tools` importable.
pub fn unavailable_reason() -> Option<String> {
    let out = Command::new(python_program())
        .args(["-c", "import grpc, grpc_tools.protoc"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match out {
        Err(e) => Some(format!("{}: {e}", python_program().display())),
        Ok(o) if !o.status.success() => Some(format!(
            "python grpcio / grpcio-tools not importable: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => None,
    }
}

impl PythonKubelet {
    /// Generates the Python stubs from this crate's `.proto` files into a temporary directory
    /// (grpcio-tools), then starts the stand-in serving `<plugin_dir>/kubelet.sock`.
    pub async fn start(plugin_dir: &Path) -> Result<PythonKubelet, SimError> {
        std::fs::create_dir_all(plugin_dir).map_err(|source| SimError::Io {
            op: "create",
            path: plugin_dir.to_path_buf(),
            source,
        })?;
        let stubs = tempfile::tempdir().map_err(|source| SimError::Io {
            op: "create temporary directory",
            path: std::env::temp_dir(),
            source,
        })?;
        let protos = stubs.path().join("proto");
        for (name, text) in PROTOS {
            let path = protos.join(name);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|source| SimError::Io {
                    op: "create",
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
            std::fs::write(&path, text).map_err(|source| SimError::Io {
                op: "write",
                path: path.clone(),
                source,
            })?;
        }
        let generated = stubs.path().join("generated");
        std::fs::create_dir_all(&generated).map_err(|source| SimError::Io {
            op: "create",
            path: generated.clone(),
            source,
        })?;
        let out = Command::new(python_program())
            .args(["-m", "grpc_tools.protoc"])
            .arg(format!("-I{}", protos.display()))
            .arg(format!("--python_out={}", generated.display()))
            .arg(format!("--grpc_python_out={}", generated.display()))
            .args(PROTOS.iter().map(|(name, _)| *name))
            .output()
            .map_err(|e| py_err(format!("run grpc_tools.protoc: {e}")))?;
        if !out.status.success() {
            return Err(py_err(format!(
                "grpc_tools.protoc: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let script = stubs.path().join("kubelet_standin.py");
        std::fs::write(&script, SCRIPT).map_err(|source| SimError::Io {
            op: "write",
            path: script.clone(),
            source,
        })?;
        let mut child = Command::new(python_program())
            .arg("-u")
            .arg(&script)
            .arg(&generated)
            .arg(plugin_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| py_err(format!("start {}: {e}", script.display())))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(py_err("no pipes to the child"));
        };
        let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
        let observed = Arc::new(watch::channel(Observed::default()).0);
        let (ready_tx, ready_rx) = oneshot::channel();
        pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(0, ready_tx);
        {
            let pending = pending.clone();
            let observed = observed.clone();
            std::thread::Builder::new()
                .name("python-kubelet-reader".into())
                .spawn(move || read_output(stdout, &pending, &observed))
                .map_err(|e| py_err(format!("start the reader thread: {e}")))?;
        }
        let this = PythonKubelet {
            plugin_dir: plugin_dir.to_path_buf(),
            child: Mutex::new(child),
            stdin: Mutex::new(stdin),
            pending,
            observed,
            next_id: AtomicU64::new(1),
            _stubs: stubs,
        };
        match tokio::time::timeout(Duration::from_secs(60), ready_rx).await {
            Ok(Ok(_)) => Ok(this),
            _ => Err(py_err("the stand-in did not start (see its stderr above)")),
        }
    }

    /// Sends a command and waits for its answer.
    async fn request(&self, mut command: Value) -> Result<Value, SimError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        command["id"] = json!(id);
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, tx);
        {
            let mut stdin = self.stdin.lock().unwrap_or_else(|p| p.into_inner());
            writeln!(stdin, "{command}")
                .and_then(|()| stdin.flush())
                .map_err(|e| py_err(format!("send a command: {e}")))?;
        }
        let answer = match tokio::time::timeout(Duration::from_secs(120), rx).await {
            Ok(Ok(answer)) => answer,
            _ => return Err(py_err(format!("no answer to {command}"))),
        };
        if let Some(failure) = answer.get("failure") {
            return Err(py_err(failure.to_string()));
        }
        Ok(answer)
    }

    /// Allocate latencies as the Python client measures them: `count` sequential Allocate
    /// calls of `ids`, each timed with `time.perf_counter_ns`.
    pub async fn bench_allocate(
        &self,
        resource: &str,
        ids: &[String],
        count: usize,
    ) -> Result<Vec<Duration>, SimError> {
        let answer = self
            .request(
                json!({"cmd": "bench_allocate", "resource": resource, "ids": ids, "count": count}),
            )
            .await?;
        let list = answer["latencies_ns"]
            .as_array()
            .ok_or_else(|| py_err("no latencies"))?;
        Ok(list
            .iter()
            .filter_map(Value::as_u64)
            .map(Duration::from_nanos)
            .collect())
    }
}

impl Drop for PythonKubelet {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn devices_of_json(list: &Value) -> Vec<Device> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|d| Device {
                    id: d["id"].as_str().unwrap_or_default().to_string(),
                    health: if d["health"] == crate::api::HEALTHY {
                        Health::Healthy
                    } else {
                        Health::Unhealthy
                    },
                    numa_nodes: d["numa"]
                        .as_array()
                        .map(|n| n.iter().filter_map(Value::as_i64).collect())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn read_output(
    stdout: std::process::ChildStdout,
    pending: &Pending,
    observed: &watch::Sender<Observed>,
) {
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Ok(value) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if let Some(id) = value.get("id").and_then(Value::as_u64) {
            if let Some(tx) = pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id)
            {
                let _ = tx.send(value);
            }
            continue;
        }
        let now = Instant::now();
        let resource = value["resource"].as_str().unwrap_or_default().to_string();
        match value["event"].as_str() {
            Some("registered") => observed.send_modify(|o| {
                o.registrations.push(Registration {
                    resource,
                    endpoint: value["endpoint"].as_str().unwrap_or_default().to_string(),
                    version: value["version"].as_str().unwrap_or_default().to_string(),
                    options: pb::DevicePluginOptions {
                        pre_start_required: value["options"]["pre_start_required"]
                            .as_bool()
                            .unwrap_or(false),
                        get_preferred_allocation_available:
                            value["options"]["get_preferred_allocation_available"]
                                .as_bool()
                                .unwrap_or(false),
                    },
                    at: now,
                })
            }),
            Some("devices") => {
                let devices = devices_of_json(&value["devices"]);
                observed.send_modify(|o| {
                    o.devices.insert(resource.clone(), devices);
                    *o.updates.entry(resource.clone()).or_default() += 1;
                    o.updated_at.insert(resource, now);
                });
            }
            Some("refused") => {
                let reason = value["reason"].as_str().unwrap_or_default().to_string();
                observed.send_modify(|o| o.refused.push(reason));
            }
            _ => {}
        }
    }
}

fn decode_result(
    method: &'static str,
    v: &Value,
) -> Result<pb::ContainerAllocateResponse, CallError> {
    if let Some(ok) = v.get("ok").and_then(Value::as_str) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(ok)
            .map_err(|e| CallError {
                method,
                code: tonic::Code::Internal,
                message: format!("stand-in sent bad base64: {e}"),
            })?;
        return pb::ContainerAllocateResponse::decode(bytes.as_slice()).map_err(|e| CallError {
            method,
            code: tonic::Code::Internal,
            message: format!("stand-in sent a bad response: {e}"),
        });
    }
    let code = v["code"]
        .as_i64()
        .and_then(|c| i32::try_from(c).ok())
        .map_or(tonic::Code::Unknown, tonic::Code::from_i32);
    Err(CallError {
        method,
        code,
        message: v["message"].as_str().unwrap_or_default().to_string(),
    })
}

const ALLOCATE: &str = "/v1beta1.DevicePlugin/Allocate";

impl KubeletStandIn for PythonKubelet {
    fn stack(&self) -> &'static str {
        "grpcio"
    }

    fn plugin_dir(&self) -> &Path {
        &self.plugin_dir
    }

    fn observed(&self) -> Observed {
        self.observed.borrow().clone()
    }

    async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Observed) -> bool + Send + Sync,
    ) -> Result<Observed, SimError> {
        wait_until(&self.observed, what, timeout, done).await
    }

    async fn allocate(
        &self,
        resource: &str,
        ids: &[String],
    ) -> Result<pb::ContainerAllocateResponse, SimError> {
        let mut results = self.allocate_many(resource, vec![ids.to_vec()]).await?;
        match results.pop() {
            Some(result) => result.map_err(SimError::Call),
            None => Err(py_err("no Allocate result")),
        }
    }

    async fn allocate_many(
        &self,
        resource: &str,
        requests: Vec<Vec<String>>,
    ) -> Result<Vec<Result<pb::ContainerAllocateResponse, CallError>>, SimError> {
        let answer = self
            .request(json!({"cmd": "allocate", "resource": resource, "requests": requests}))
            .await?;
        let results = answer["results"]
            .as_array()
            .ok_or_else(|| py_err("no results"))?;
        Ok(results.iter().map(|v| decode_result(ALLOCATE, v)).collect())
    }

    async fn preferred(
        &self,
        resource: &str,
        available: &[String],
        must_include: &[String],
        size: i32,
    ) -> Result<Vec<String>, SimError> {
        let answer = self
            .request(
                json!({"cmd": "preferred", "resource": resource, "available": available,
                            "must_include": must_include, "size": size}),
            )
            .await?;
        if let Some(error) = answer.get("error") {
            let code = error["code"]
                .as_i64()
                .and_then(|c| i32::try_from(c).ok())
                .map_or(tonic::Code::Unknown, tonic::Code::from_i32);
            return Err(SimError::Call(CallError {
                method: "/v1beta1.DevicePlugin/GetPreferredAllocation",
                code,
                message: error["message"].as_str().unwrap_or_default().to_string(),
            }));
        }
        Ok(answer["ids"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn restart(&self) -> Result<Instant, SimError> {
        self.request(json!({"cmd": "restart"})).await?;
        Ok(Instant::now())
    }
}
