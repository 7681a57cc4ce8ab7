//! The bed of the meta plugin's tests: a scratch node root (host root) with `cniDir`, a NAD
//! directory and a configuration directory; the `multus` binary run as a process the way a
//! runtime runs it; the no-op delegate that records what it was given.

#![allow(dead_code)] // each test file uses its own part of the bed

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cni_types::testing::Outcome;
use serde_json::{Value, json};

/// The meta plugin.
pub const MULTUS: &str = env!("CARGO_BIN_EXE_multus");
/// The no-op delegate.
pub const NOOP: &str = env!("CARGO_BIN_EXE_multus-noop-delegate");

/// A node root and what the tests put in it.
pub struct Node {
    /// The scratch directory (the host root).
    pub dir: tempfile::TempDir,
    /// Where delegates record their calls.
    pub record: PathBuf,
}

impl Node {
    /// An empty node.
    pub fn new() -> Node {
        let dir = testbed::scratch_dir().unwrap();
        let record = dir.path().join("record");
        Node { dir, record }
    }

    /// The host root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `nadDir`.
    pub fn nad_dir(&self) -> PathBuf {
        self.root().join("etc/cni/multus/nad")
    }

    /// `confDir`.
    pub fn conf_dir(&self) -> PathBuf {
        self.root().join("etc/cni/multus/net.d")
    }

    /// `<root>/var/lib/cni/multus`, the default `cniDir` under the root.
    pub fn cni_dir(&self) -> PathBuf {
        self.root().join("var/lib/cni/multus")
    }

    /// A no-op delegate configuration (one plugin), recording into the bed.
    pub fn noop(&self, extra: Value) -> Value {
        let mut noop = json!({"recordDir": self.record});
        if let (Value::Object(n), Value::Object(e)) = (&mut noop, extra) {
            n.extend(e);
        }
        json!({"type": "multus-noop-delegate", "noop": noop})
    }

    /// A list `name` of the given plugins.
    pub fn list(&self, name: &str, plugins: Vec<Value>) -> Value {
        json!({"cniVersion": "1.0.0", "name": name, "plugins": plugins})
    }

    /// Writes a NetworkAttachmentDefinition file `<nadDir>/<ns>/<name>.yaml` (YAML, as kubectl
    /// takes it) with `config` and, when given, a resource.
    pub fn nad_yaml(&self, ns: &str, name: &str, resource: Option<&str>, config: &Value) {
        let dir = self.nad_dir().join(ns);
        std::fs::create_dir_all(&dir).unwrap();
        let annotations = match resource {
            Some(r) => format!("  annotations:\n    k8s.v1.cni.cncf.io/resourceName: {r}\n"),
            None => String::new(),
        };
        let config = serde_json::to_string(config).unwrap().replace('\'', "''");
        std::fs::write(
            dir.join(format!("{name}.yaml")),
            format!(
                "apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: {name}\n{annotations}spec:\n  config: '{config}'\n"
            ),
        )
        .unwrap();
    }

    /// Writes a NetworkAttachmentDefinition file `<nadDir>/<ns>/<name>.json`.
    pub fn nad_json(&self, ns: &str, name: &str, resource: Option<&str>, config: &Value) {
        let dir = self.nad_dir().join(ns);
        std::fs::create_dir_all(&dir).unwrap();
        let mut meta = json!({"name": name, "namespace": ns});
        if let Some(r) = resource {
            meta["annotations"] = json!({"k8s.v1.cni.cncf.io/resourceName": r});
        }
        let nad = json!({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": meta, "spec": {"config": serde_json::to_string(config).unwrap()}});
        std::fs::write(dir.join(format!("{name}.json")), nad.to_string()).unwrap();
    }

    /// A thin-format configuration with `cluster` as the cluster network, the bed's
    /// directories, and `more` keys.
    pub fn thin(&self, cluster: Value, more: Value) -> Value {
        let mut conf = json!({"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus",
            "hostRoot": self.root(), "nadDir": self.nad_dir(), "confDir": self.conf_dir(),
            "delegates": [cluster]});
        if let (Value::Object(c), Value::Object(m)) = (&mut conf, more) {
            c.extend(m);
        }
        conf
    }

    /// The recorded calls, `COMMAND network ifname netns=...` lines.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.record.join("calls.log"))
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Forgets the recorded calls.
    pub fn clear_calls(&self) {
        let _ = std::fs::remove_file(self.record.join("calls.log"));
    }

    /// The stdin a delegate got for `command` on `network`/`ifname`.
    pub fn stdin_of(&self, command: &str, network: &str, ifname: &str) -> Value {
        let path = self
            .record
            .join(format!("{command}-{network}-{ifname}.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap()
    }
}

/// One invocation of the meta plugin.
#[derive(Debug, Clone)]
pub struct Call {
    /// `CNI_COMMAND`.
    pub command: &'static str,
    /// `CNI_CONTAINERID`.
    pub container_id: String,
    /// `CNI_NETNS`.
    pub netns: String,
    /// `CNI_IFNAME`.
    pub ifname: String,
    /// `CNI_ARGS`.
    pub args: String,
}

impl Call {
    /// `command` on container `ctr1` in a namespace path that names no namespace, with the
    /// pod identity containerd sends.
    pub fn new(command: &'static str) -> Call {
        Call {
            command,
            container_id: "ctr1".into(),
            netns: "/var/run/netns/multus-test-none".into(),
            ifname: "eth0".into(),
            args: "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=mofed-test-pod;\
                   K8S_POD_INFRA_CONTAINER_ID=ctr1;K8S_POD_UID=6b0f3c2e-9d41-4c3a-8e55-2f1a7c0d9e11"
                .into(),
        }
    }

    /// The same call with other `CNI_ARGS`.
    pub fn args(mut self, args: &str) -> Call {
        self.args = args.into();
        self
    }

    /// The same call with another `CNI_NETNS`.
    pub fn netns(mut self, netns: &str) -> Call {
        self.netns = netns.into();
        self
    }

    /// Runs the meta plugin with `conf` on stdin.
    pub fn run(&self, conf: &Value) -> Outcome {
        run_plugin(Path::new(MULTUS), self, conf.to_string().as_bytes(), &[])
    }
}

/// Runs `plugin` as a runtime would: the six variables, `CNI_PATH` holding the test binaries.
pub fn run_plugin(plugin: &Path, call: &Call, stdin: &[u8], env: &[(&str, &str)]) -> Outcome {
    use std::io::Write;
    let bin_dir = Path::new(NOOP).parent().unwrap();
    let mut child = Command::new(plugin)
        .env_remove("RDMA_SRIOV_HOST_ROOT")
        .env("CNI_COMMAND", call.command)
        .env("CNI_CONTAINERID", &call.container_id)
        .env("CNI_NETNS", &call.netns)
        .env("CNI_IFNAME", &call.ifname)
        .env("CNI_ARGS", &call.args)
        .env("CNI_PATH", bin_dir)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    Outcome::from(child.wait_with_output().unwrap())
}

/// Copies a kubelet fixture checkpoint under the root.
pub fn install_checkpoint(root: &Path, fixture: &str) {
    let dir = root.join("var/lib/kubelet/device-plugins");
    std::fs::create_dir_all(&dir).unwrap();
    // the kubelet fixtures (shared/fixtures/kubelet) as the device-plugin crate keeps them
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../device-plugin/tests/fixtures/kubelet")
        .join(fixture);
    std::fs::copy(&from, dir.join("kubelet_internal_checkpoint"))
        .unwrap_or_else(|e| panic!("{}: {e}", from.display()));
}
