//! What a run reports: the seed's walk-through in its own terms (text), the same as JSON, and
//! the series the plot draws. Everything here is a function of the seed, except
//! [`Report::wall`], which is printed only when asked for.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;
use sriov_core::NetOps;

use crate::faults::FaultKind;
use crate::sim::{self, Phase, Pod, Simulation};

/// One phase's virtual duration (and wall time, which is not part of the seeded output).
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    /// `start-up`, `scheduling`, `attach`, `steady-state renewals`, `teardown`.
    pub name: &'static str,
    /// Virtual milliseconds.
    pub virtual_ms: u64,
    /// Wall time.
    #[serde(skip)]
    pub wall: Option<Duration>,
}

/// Wall-clock timings of a run.
#[derive(Debug, Clone, Serialize)]
pub struct WallTimings {
    /// Each phase's wall milliseconds.
    pub phases_ms: Vec<(&'static str, f64)>,
    /// The whole run, start-up to teardown.
    pub total_ms: f64,
}

/// A node as the walk-through shows it.
#[derive(Debug, Clone, Serialize)]
pub struct NodeReport {
    /// Name.
    pub name: String,
    /// Whether it carries `name=sriov-cni-ds` (and so runs the DaemonSets).
    pub labelled: bool,
    /// Its leaf.
    pub leaf: Option<String>,
    /// The device plugin's log at its first start, in the seed plugin's words.
    pub device_plugin_log: Vec<String>,
}

/// A pod when every pod ran (or the attach phase gave up).
#[derive(Debug, Clone, Serialize)]
pub struct PodReport {
    /// Name.
    pub name: String,
    /// Phase.
    pub phase: &'static str,
    /// Node.
    pub node: Option<String>,
    /// Its node's leaf.
    pub leaf: Option<String>,
    /// net1's VF.
    pub vf: Option<String>,
    /// `kubectl exec POD -- ibdev2netdev`.
    pub ibdev2netdev: Vec<String>,
    /// `kubectl exec POD -- ip a s dev net1`.
    pub ip_a_net1: Vec<String>,
    /// net1's address.
    pub address: Option<String>,
    /// Creation to Running, virtual ms.
    pub attach_ms: Option<u64>,
    /// Failed sandbox creations before it ran.
    pub failed_attempts: u32,
}

/// A fault as it happened.
#[derive(Debug, Clone, Serialize)]
pub struct FaultReport {
    /// Kind.
    pub kind: FaultKind,
    /// When, virtual ms.
    pub at_ms: u64,
    /// On what.
    pub target: String,
    /// What it did.
    pub outcome: String,
}

/// A percentile summary of attach latencies.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Pods counted.
    pub count: usize,
    /// Median, ms.
    pub p50_ms: u64,
    /// 99th percentile, ms.
    pub p99_ms: u64,
    /// Max, ms.
    pub max_ms: u64,
}

/// Everything a run reports.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// The manifests' objects that ran.
    pub deployment: String,
    /// The DaemonSets.
    pub daemonsets: Vec<String>,
    /// The resource.
    pub resource: String,
    /// The NAD.
    pub network: String,
    /// Nodes.
    pub nodes: Vec<NodeReport>,
    /// Leafs: name and range.
    pub leafs: Vec<(String, String)>,
    /// Pods when all ran.
    pub pods: Vec<PodReport>,
    /// Faults.
    pub faults: Vec<FaultReport>,
    /// Phases.
    pub phases: Vec<PhaseReport>,
    /// Virtual ms from the Deployment's creation until every pod ran (None: some never did).
    pub all_running_ms: Option<u64>,
    /// Attach latencies.
    pub attach_latency: Option<Latency>,
    /// Events processed.
    pub events: u64,
    /// Invariant checks done (all held).
    pub invariant_checks: u64,
    /// Pods Running over virtual time, per leaf: (ms, count).
    pub running_series: Vec<(String, Vec<(u64, usize)>)>,
    /// Every pod's attach latency, ms, in the order they ran.
    pub attach_ms: Vec<u64>,
    /// Wall timings (not part of the seeded output).
    #[serde(skip)]
    pub wall: WallTimings,
}

pub(crate) fn pod_report(sim: &Simulation, p: &Pod) -> PodReport {
    let node = p.node.map(|n| &sim.nodes[n]);
    let mut ib = Vec::new();
    let mut ip_a = Vec::new();
    let vf = p
        .sandbox
        .as_ref()
        .and_then(|s| s.attached.first())
        .map(|a| a.vf.to_string());
    if let (Some(node), Some(sb), Phase::Running) = (node, &p.sandbox, p.phase) {
        if let Ok(fs) = node.host.sysfs_in(&sb.netns)
            && let Ok(lines) = rdma_dev::ibdev2netdev(&fs, rdma_dev::Detail::Brief)
        {
            ib = lines.iter().map(ToString::to_string).collect();
        }
        let net = node.host.net_ops();
        if let Ok(l) = net.link(&sb.netns, "net1") {
            let state = if l.oper_up { "UP" } else { "DOWN" };
            let flags = if l.oper_up {
                "BROADCAST,MULTICAST,UP,LOWER_UP"
            } else {
                "BROADCAST,MULTICAST,UP"
            };
            ip_a.push(format!(
                "{}: net1: <{flags}> mtu {} qdisc mq state {state} group default qlen 1000",
                l.index, l.mtu
            ));
            if let Some(mac) = l.mac {
                ip_a.push(format!("    link/ether {mac} brd ff:ff:ff:ff:ff:ff"));
            }
            for a in net.addresses(&sb.netns, "net1").unwrap_or_default() {
                if let std::net::IpAddr::V4(v4) = a.addr {
                    let net4 = ipnet_broadcast(v4, a.prefix_len);
                    ip_a.push(format!(
                        "    inet {v4}/{} brd {net4} scope global net1",
                        a.prefix_len
                    ));
                    ip_a.push("       valid_lft forever preferred_lft forever".into());
                }
            }
        }
    }
    PodReport {
        name: p.name.clone(),
        phase: p.phase.name(),
        node: node.map(|n| n.spec.name.clone()),
        leaf: sim::leaf_of(sim, p).map(|l| sim.leafs[l].spec.name.clone()),
        vf,
        ibdev2netdev: ib,
        ip_a_net1: ip_a,
        address: p.address.map(|a| a.to_string()),
        attach_ms: p.running_at.map(|t| (t - p.created_at).as_millis() as u64),
        failed_attempts: p.failed_attempts,
    }
}

fn ipnet_broadcast(addr: std::net::Ipv4Addr, prefix: u8) -> std::net::Ipv4Addr {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    };
    std::net::Ipv4Addr::from(u32::from(addr) | !mask)
}

fn dp_log(sim: &Simulation, n: &crate::node::Node) -> Vec<String> {
    let Some(dp) = &n.dp else { return Vec::new() };
    let mut log = vec![
        "Starting K8s RDMA SRIOV Device Plugin (rdma-sriov-dp, simulated)".to_string(),
        format!("Reading {}", sim.deploy.dp_config_path.display()),
        format!("loaded config: {}", sim.deploy.dp_config_text),
        "sriov device mode".to_string(),
    ];
    for r in &dp.enabled {
        log.push(format!("Configuring SRIOV on ndev= {}", r.pf_netdev));
        log.push(format!("max_vfs = {}", r.max_vfs));
        log.push(format!("cur_vfs = {}", r.after));
    }
    log.push("Starting to serve on /var/lib/kubelet/device-plugins/rdma-sriov-dp.sock".into());
    log.push("Registered device plugin with Kubelet".into());
    let devices: Vec<String> = dp
        .devices
        .iter()
        .map(|d| format!("&Device{{ID:{},Health:{},}}", d.id, d.health.as_str()))
        .collect();
    log.push(format!("exposing devices: [{}]", devices.join(" ")));
    log
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn build(sim: Simulation, total_wall: Duration) -> Report {
    let mut sorted = sim.attach_ms.clone();
    sorted.sort_unstable();
    let all_ran = !sim.pods.is_empty() && sim.pods.iter().all(|p| p.running_at.is_some());
    let all_running_ms = all_ran.then(|| {
        sim.pods
            .iter()
            .filter_map(|p| p.running_at)
            .max()
            .map_or(0, |t| (t - sim.pods[0].created_at).as_millis() as u64)
    });
    Report {
        seed: sim.opts.seed,
        deployment: format!("{}/{}", sim.deploy.namespace, sim.deploy.deployment),
        daemonsets: sim.deploy.daemonsets.clone(),
        resource: sim.deploy.resource_name.clone(),
        network: sim.deploy.network.clone(),
        nodes: sim
            .nodes
            .iter()
            .map(|n| NodeReport {
                name: n.spec.name.clone(),
                labelled: n.selected,
                leaf: n.spec.leaf.map(|l| sim.leafs[l].spec.name.clone()),
                device_plugin_log: n.first_dp_log.clone(),
            })
            .collect(),
        leafs: sim
            .leafs
            .iter()
            .map(|l| (l.spec.name.clone(), format!("{}-{}", l.range.0, l.range.1)))
            .collect(),
        pods: sim.snapshot.clone(),
        faults: sim::fault_reports(&sim),
        all_running_ms,
        attach_latency: (!sorted.is_empty()).then(|| Latency {
            count: sorted.len(),
            p50_ms: percentile(&sorted, 0.5),
            p99_ms: percentile(&sorted, 0.99),
            max_ms: *sorted.last().unwrap_or(&0),
        }),
        events: sim.events,
        invariant_checks: sim.checks,
        running_series: sim
            .leafs
            .iter()
            .zip(sim.series.iter())
            .map(|(l, s)| (l.spec.name.clone(), s.clone()))
            .collect(),
        attach_ms: sim.attach_ms.clone(),
        wall: sim::wall(&sim.phases, total_wall),
        phases: sim.phases,
    }
}

/// The device plugin's log lines of a node, taken when it first registered.
pub(crate) fn first_log(sim: &Simulation, node: usize) -> Vec<String> {
    dp_log(sim, &sim.nodes[node])
}

/// How much of the walk-through to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Every pod's `exec` lines (the seed's two test pods).
    EveryPod,
    /// A summary: the first pods only, then counts (large runs).
    Summary,
}

impl Report {
    /// The walk-through, in the seed's terms.
    pub fn text(&self, detail: Detail) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# rdmactl simulate: seed {}", self.seed);
        let _ = writeln!(
            o,
            "# {} nodes, {} leafs; manifests: DaemonSets {}, {} ({} pods) on {} ({})",
            self.nodes.len(),
            self.leafs.len(),
            self.daemonsets.join(", "),
            self.deployment,
            self.pods.len(),
            self.network,
            self.resource
        );
        let _ = writeln!(o);
        let shown_nodes = if detail == Detail::EveryPod {
            usize::MAX
        } else {
            3
        };
        for n in self.nodes.iter().filter(|n| n.labelled).take(shown_nodes) {
            let _ = writeln!(o, "$ kubectl label nodes {} name=sriov-cni-ds", n.name);
            let _ = writeln!(o, "node/{} labeled", n.name);
        }
        let labelled = self.nodes.iter().filter(|n| n.labelled).count();
        if labelled > shown_nodes {
            let _ = writeln!(o, "... {} more nodes labelled", labelled - shown_nodes);
        }
        let _ = writeln!(o);
        for n in self
            .nodes
            .iter()
            .filter(|n| n.labelled)
            .take(if detail == Detail::EveryPod {
                usize::MAX
            } else {
                1
            })
        {
            let _ = writeln!(
                o,
                "$ kubectl logs rdma-sriov-dp-ds-{} -n kube-system   # on {}",
                short(&n.name),
                n.name
            );
            for l in &n.device_plugin_log {
                let _ = writeln!(o, "{l}");
            }
            let _ = writeln!(o);
        }
        let _ = writeln!(o, "$ kubectl get pods -o wide");
        let _ = writeln!(
            o,
            "{:<36} {:<7} {:<18} {:<16} {:<14} {:<7}",
            "NAME", "READY", "STATUS", "IP(net1)", "NODE", "LEAF"
        );
        let shown = if detail == Detail::EveryPod {
            usize::MAX
        } else {
            8
        };
        for p in self.pods.iter().take(shown) {
            let ready = if p.phase == "Running" { "1/1" } else { "0/1" };
            let _ = writeln!(
                o,
                "{:<36} {:<7} {:<18} {:<16} {:<14} {:<7}",
                p.name,
                ready,
                p.phase,
                p.address.as_deref().unwrap_or("<none>"),
                p.node.as_deref().unwrap_or("<none>"),
                p.leaf.as_deref().unwrap_or("-")
            );
        }
        if self.pods.len() > shown {
            let running = self.pods.iter().filter(|p| p.phase == "Running").count();
            let _ = writeln!(
                o,
                "... {} more pods ({running} of {} Running)",
                self.pods.len() - shown,
                self.pods.len()
            );
        }
        let _ = writeln!(o);
        for p in self.pods.iter().take(if detail == Detail::EveryPod {
            usize::MAX
        } else {
            2
        }) {
            let _ = writeln!(o, "$ kubectl exec -it {} -- ibdev2netdev", p.name);
            for l in &p.ibdev2netdev {
                let _ = writeln!(o, "{l}");
            }
            let _ = writeln!(o, "$ kubectl exec -it {} -- ip a s dev net1", p.name);
            for l in &p.ip_a_net1 {
                let _ = writeln!(o, "{l}");
            }
            let _ = writeln!(o);
        }
        if !self.faults.is_empty() {
            let _ = writeln!(o, "# faults");
            for f in &self.faults {
                let _ = writeln!(
                    o,
                    "{:>10.3}s {:<18} {:<28} {}",
                    f.at_ms as f64 / 1000.0,
                    f.kind.name(),
                    f.target,
                    f.outcome
                );
            }
            let _ = writeln!(o);
        }
        let _ = writeln!(o, "# phases (virtual time)");
        for ph in &self.phases {
            let _ = writeln!(
                o,
                "{:<24} {:>12.3}s",
                ph.name,
                ph.virtual_ms as f64 / 1000.0
            );
        }
        match self.all_running_ms {
            Some(ms) => {
                let _ = writeln!(
                    o,
                    "all {} pods Running {:.3}s after the Deployment was created",
                    self.pods.len(),
                    ms as f64 / 1000.0
                );
            }
            None => {
                let _ = writeln!(o, "not every pod ran");
            }
        }
        if let Some(l) = &self.attach_latency {
            let _ = writeln!(
                o,
                "attach latency over {} pods: p50 {} ms, p99 {} ms, max {} ms",
                l.count, l.p50_ms, l.p99_ms, l.max_ms
            );
        }
        let _ = writeln!(
            o,
            "{} events, {} invariant checks: all held; every VF back in its host, restored; every lease released",
            self.events, self.invariant_checks
        );
        o
    }

    /// The wall timings, one line per phase.
    pub fn wall_text(&self) -> String {
        let mut o = String::from("# phases (wall time, this machine)\n");
        for (name, ms) in &self.wall.phases_ms {
            let _ = writeln!(o, "{name:<24} {ms:>12.1} ms");
        }
        let _ = writeln!(o, "{:<24} {:>12.1} ms", "total", self.wall.total_ms);
        o
    }
}

/// A stable 5-letter suffix for a node's DaemonSet pod name.
fn short(name: &str) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|i| char::from(ALPHABET[((h >> (i * 8)) % 27) as usize]))
        .collect()
}
