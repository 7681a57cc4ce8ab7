//! The event loop: virtual time, one queue of events ordered by (time, sequence), every random
//! choice from one generator seeded by `--seed`, the invariants checked after every event.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dhcp_codec::{Message, Time};
use dhcp_ipam::client::{Event as DhcpEvent, Output};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sriov_core::{Netns, PciAddress};

use crate::Options;
use crate::cni_stack::{self, CniArgs, KubeletView, NodeView, PendingAdd};
use crate::deploy::DeployModel;
use crate::dhcp::{Delivery, Leaf};
use crate::error::{Error, Result};
use crate::faults::{FaultKind, FaultPlan};
use crate::invariants;
use crate::kubelet::{PodResources, Rejection};
use crate::node::Node;
use crate::report::{FaultReport, PhaseReport, PodReport, Report, WallTimings};

/// A pod's phase as `kubectl get pods` would show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not bound to a node, or not admitted yet.
    Pending,
    /// Bound and admitted; the sandbox is being created (CNI ADD running).
    ContainerCreating,
    /// Its sandbox is up with net1 and its address.
    Running,
    /// Deleted, its sandbox being torn down.
    Terminating,
    /// Gone.
    Deleted,
}

impl Phase {
    /// `kubectl`'s word.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::ContainerCreating => "ContainerCreating",
            Phase::Running => "Running",
            Phase::Terminating => "Terminating",
            Phase::Deleted => "Deleted",
        }
    }
}

/// A pod's sandbox.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// Its container ID.
    pub container_id: String,
    /// Its network namespace (on the node's host as it was; gone after a reboot).
    pub netns: Netns,
    /// What its ADD has done so far.
    pub attached: Vec<PendingAdd>,
}

/// One pod of the test Deployment.
#[derive(Debug, Clone)]
pub struct Pod {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// The node it is bound to.
    pub node: Option<usize>,
    /// Phase.
    pub phase: Phase,
    /// Its sandbox.
    pub sandbox: Option<Sandbox>,
    /// When it was created.
    pub created_at: Time,
    /// When it first ran.
    pub running_at: Option<Time>,
    /// Sandbox creations that failed.
    pub failed_attempts: u32,
    /// The address on net1.
    pub address: Option<Ipv4Addr>,
}

#[derive(Debug, Clone)]
pub(crate) enum Event {
    NodeStart {
        node: usize,
    },
    CreatePods,
    Schedule,
    SandboxCreate {
        pod: usize,
    },
    IpamStart {
        pod: usize,
        container_id: String,
    },
    DhcpTimer {
        node: usize,
        key: String,
        generation: u64,
    },
    ServerRx {
        leaf: usize,
        bytes: Vec<u8>,
    },
    ClientRx {
        node: usize,
        key: String,
        bytes: Vec<u8>,
    },
    DeletePods,
    SandboxDelete {
        pod: usize,
    },
    Fault {
        index: usize,
    },
    FaultEnd {
        index: usize,
    },
    DevicePluginRegister {
        node: usize,
    },
}

impl Event {
    fn describe(&self, sim: &Simulation) -> String {
        let node = |n: &usize| {
            sim.nodes
                .get(*n)
                .map_or("?", |n| n.spec.name.as_str())
                .to_string()
        };
        let pod = |p: &usize| {
            sim.pods
                .get(*p)
                .map_or("?", |p| p.name.as_str())
                .to_string()
        };
        match self {
            Event::NodeStart { node: n } => format!("{}: device plugin and kubelet start", node(n)),
            Event::CreatePods => "Deployment applied".into(),
            Event::Schedule => "scheduler pass".into(),
            Event::SandboxCreate { pod: p } => format!("{}: create sandbox (CNI ADD)", pod(p)),
            Event::IpamStart { pod: p, .. } => format!("{}: IPAM rdma-dhcp starts", pod(p)),
            Event::DhcpTimer { node: n, key, .. } => format!("{}: DHCP timer {key}", node(n)),
            Event::ServerRx { leaf, .. } => {
                format!("{}: DHCP server receives", sim.leafs[*leaf].spec.name)
            }
            Event::ClientRx { node: n, key, .. } => {
                format!("{}: DHCP client {key} receives", node(n))
            }
            Event::DeletePods => "Deployment deleted".into(),
            Event::SandboxDelete { pod: p } => format!("{}: delete sandbox (CNI DEL)", pod(p)),
            Event::Fault { index } | Event::FaultEnd { index } => {
                let f = &sim.faults[*index];
                let end = if matches!(self, Event::FaultEnd { .. }) {
                    " ends"
                } else {
                    ""
                };
                format!("fault {} on {}{end}", f.kind, f.target)
            }
            Event::DevicePluginRegister { node: n } => {
                format!("{}: device plugin registers", node(n))
            }
        }
    }
}

/// The DHCP clients of one leaf's segment by MAC: (node, client key).
type MacIndex = HashMap<[u8; 6], Vec<(usize, String)>>;

struct Scheduled {
    at: Time,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// One planned fault.
#[derive(Debug, Clone)]
pub(crate) struct PlannedFault {
    pub kind: FaultKind,
    pub at: Time,
    pub target: String,
    pub node: Option<usize>,
    pub leaf: Option<usize>,
    pub outcome: String,
    pub vf: Option<PciAddress>,
}

/// When the Deployment is applied.
const CREATE_AT: Time = Time::from_secs(5);
/// A frame's latency on a leaf segment.
const SEGMENT_LATENCY: Duration = Duration::from_millis(1);
/// Virtual cost of one host operation of a CNI plugin (netlink, sysfs).
const HOST_OP: Duration = Duration::from_millis(1);
/// Virtual cost of one ledger transaction (flock, fsync'd replace), serialised per node.
const LEDGER_TX: Duration = Duration::from_millis(2);
/// The attach phase gives up waiting for pods to run after this long.
const ATTACH_DEADLINE: Duration = Duration::from_secs(900);

pub(crate) struct Simulation {
    pub opts: Options,
    pub deploy: DeployModel,
    pub nodes: Vec<Node>,
    pub leafs: Vec<Leaf>,
    pub pods: Vec<Pod>,
    pub now: Time,
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    pub rng: ChaCha8Rng,
    pub trail: VecDeque<(Time, String)>,
    pub faults: Vec<PlannedFault>,
    armed_kills: Vec<usize>,
    /// Client MAC -> (node, client key), per leaf.
    macs: Vec<MacIndex>,
    /// Address on a pod's net1 -> the pod.
    pub addresses: HashMap<Ipv4Addr, usize>,
    pub events: u64,
    pub checks: u64,
    pub running: usize,
    pub deleted: usize,
    stop_at: Option<Time>,
    scheduled_all: bool,
    pub series: Vec<Vec<(u64, usize)>>,
    pub running_per_leaf: Vec<usize>,
    pub attach_ms: Vec<u64>,
    pub phases: Vec<PhaseReport>,
    phase_started: (Time, Instant),
    attach_done: bool,
    teardown_started: bool,
    pub snapshot: Vec<PodReport>,
    pub walkthrough_pods: usize,
    _state: Option<tempfile::TempDir>,
}

fn hex(rng: &mut ChaCha8Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
        .collect()
}

fn k8s_suffix(rng: &mut ChaCha8Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

struct KubeletOf<'a>(&'a crate::kubelet::Kubelet);

impl KubeletView for KubeletOf<'_> {
    fn pod_resources(&self) -> Option<Vec<PodResources>> {
        self.0.pod_resources()
    }
    fn checkpoint_path(&self) -> std::path::PathBuf {
        self.0.checkpoint_path().to_path_buf()
    }
}

impl Simulation {
    pub fn new(opts: Options) -> Result<Simulation> {
        let deploy = DeployModel::from_files(&opts.manifests)?;
        let (state, dir) = match &opts.state_dir {
            Some(d) => (None, d.clone()),
            None => {
                let base = if std::path::Path::new("/dev/shm").is_dir() {
                    std::path::PathBuf::from("/dev/shm")
                } else {
                    std::env::temp_dir()
                };
                let t = tempfile::Builder::new()
                    .prefix("cluster-sim-")
                    .tempdir_in(&base)
                    .map_err(|source| Error::StateDir {
                        op: "create state directory in",
                        path: base.clone(),
                        source,
                    })?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        let mut nodes = Vec::with_capacity(opts.cluster.nodes.len());
        for spec in &opts.cluster.nodes {
            if let Some(l) = spec.leaf
                && l >= opts.cluster.leafs.len()
            {
                return Err(Error::Cluster {
                    what: format!("{} is behind leaf {l}, which is not described", spec.name),
                });
            }
            nodes.push(Node::new(spec.clone(), rng.random(), &dir, &deploy)?);
        }
        let leafs = opts
            .cluster
            .leafs
            .iter()
            .map(Leaf::start)
            .collect::<Result<Vec<_>>>()?;
        let leaf_count = leafs.len();
        let pods = opts.pods.unwrap_or(deploy.replicas) as usize;
        Ok(Simulation {
            macs: vec![HashMap::new(); leaf_count],
            series: vec![vec![(0, 0)]; leaf_count],
            running_per_leaf: vec![0; leaf_count],
            deploy,
            nodes,
            leafs,
            pods: Vec::with_capacity(pods),
            now: Time::ZERO,
            queue: BinaryHeap::new(),
            seq: 0,
            rng,
            trail: VecDeque::new(),
            faults: Vec::new(),
            armed_kills: Vec::new(),
            addresses: HashMap::new(),
            events: 0,
            checks: 0,
            running: 0,
            deleted: 0,
            stop_at: None,
            scheduled_all: false,
            attach_ms: Vec::new(),
            phases: Vec::new(),
            phase_started: (Time::ZERO, Instant::now()),
            attach_done: false,
            teardown_started: false,
            snapshot: Vec::new(),
            walkthrough_pods: pods,
            opts,
            _state: state,
        })
    }

    fn at(&mut self, at: Time, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            event,
        }));
    }

    fn after(&mut self, d: Duration, event: Event) {
        let at = self.now + d;
        self.at(at, event);
    }

    fn end_phase(&mut self, name: &'static str) {
        let now = self.now;
        self.end_phase_at(name, now);
    }

    fn end_phase_at(&mut self, name: &'static str, at: Time) {
        let (t0, w0) = self.phase_started;
        self.phases.push(PhaseReport {
            name,
            virtual_ms: (at - t0).as_millis() as u64,
            wall: Some(w0.elapsed()),
        });
        self.phase_started = (at, Instant::now());
    }

    fn plan_faults(&mut self) {
        let kinds = match &self.opts.faults {
            FaultPlan::None => Vec::new(),
            FaultPlan::List(l) => l.clone(),
            FaultPlan::Random => {
                let n = self.rng.random_range(2..=6);
                (0..n)
                    .map(|_| FaultKind::ALL[self.rng.random_range(0..FaultKind::ALL.len())])
                    .collect()
            }
        };
        let steady = Duration::from_secs(self.opts.steady_secs.max(1));
        let workers: Vec<usize> = (0..self.nodes.len())
            .filter(|i| self.nodes[*i].selected)
            .collect();
        for kind in kinds {
            let ms = |r: &mut ChaCha8Rng, from: Duration, len: Duration| {
                CREATE_AT
                    + from
                    + Duration::from_millis(r.random_range(0..len.as_millis().max(1) as u64))
            };
            let at = match kind {
                FaultKind::CniKill => {
                    Time::from_millis(self.rng.random_range(0..CREATE_AT.as_millis()))
                }
                FaultKind::DhcpOutage => ms(
                    &mut self.rng,
                    Duration::from_secs(200),
                    Duration::from_secs(90),
                ),
                FaultKind::PacketLoss | FaultKind::PacketDup => {
                    Time::from_millis(CREATE_AT.as_millis() - 2000 + self.rng.random_range(0..2000))
                }
                _ => ms(&mut self.rng, Duration::from_secs(1), steady.mul_f64(0.8)),
            };
            let (node, leaf, target) = if kind.on_leaf() {
                let l = self.rng.random_range(0..self.leafs.len().max(1));
                (
                    None,
                    Some(l),
                    self.leafs
                        .get(l)
                        .map(|l| l.spec.name.clone())
                        .unwrap_or_default(),
                )
            } else if kind == FaultKind::CniKill {
                (None, None, "the next CNI ADD".to_string())
            } else if workers.is_empty() {
                (None, None, "no worker".to_string())
            } else {
                let n = workers[self.rng.random_range(0..workers.len())];
                (Some(n), None, self.nodes[n].spec.name.clone())
            };
            let index = self.faults.len();
            self.faults.push(PlannedFault {
                kind,
                at,
                target,
                node,
                leaf,
                outcome: "not fired".into(),
                vf: None,
            });
            self.at(at, Event::Fault { index });
        }
    }

    /// Runs the whole scenario.
    pub fn run(mut self) -> Result<Report> {
        let wall_start = Instant::now();
        for i in 0..self.nodes.len() {
            if self.nodes[i].selected {
                let at = Time::from_millis(self.rng.random_range(0..2000));
                self.at(at, Event::NodeStart { node: i });
            }
        }
        self.at(CREATE_AT, Event::CreatePods);
        self.plan_faults();
        while let Some(Reverse(next)) = self.queue.pop() {
            self.now = next.at;
            self.events += 1;
            if self.trail.len() == 64 {
                self.trail.pop_front();
            }
            let what = next.event.describe(&self);
            self.trail.push_back((self.now, what));
            let touched = self.handle(next.event)?;
            self.check(touched)?;
            if !self.attach_done
                && self.pods.len() == self.walkthrough_pods
                && self.running == self.pods.len()
                && !self.pods.is_empty()
            {
                self.attach_done = true;
                self.end_phase("attach");
                self.snapshot = self.pod_reports();
                let at = self.now + Duration::from_secs(self.opts.steady_secs);
                self.at(at, Event::DeletePods);
            } else if !self.attach_done
                && self.now > CREATE_AT + ATTACH_DEADLINE
                && !self.teardown_started
            {
                self.attach_done = true;
                self.end_phase("attach");
                self.snapshot = self.pod_reports();
                let now = self.now;
                self.at(now, Event::DeletePods);
            }
            if self.teardown_started && self.deleted == self.pods.len() && self.stop_at.is_none() {
                // let the last RELEASEs reach the servers, then stop
                self.stop_at = Some(self.now + Duration::from_secs(1));
            }
            if let (Some(stop), Some(next)) = (self.stop_at, self.queue.peek())
                && next.0.at > stop
            {
                break;
            }
        }
        self.end_phase("teardown");
        invariants::final_check(&self)?;
        let total_wall = wall_start.elapsed();
        Ok(self.report(total_wall))
    }

    fn handle(&mut self, event: Event) -> Result<Touched> {
        let mut touched = Touched::default();
        match event {
            Event::NodeStart { node } => {
                self.start_node(node)?;
                touched.node(node);
                if self
                    .nodes
                    .iter()
                    .filter(|n| n.selected)
                    .all(|n| n.kubelet.registered())
                    && self.phases.is_empty()
                {
                    self.end_phase("start-up");
                }
            }
            Event::DevicePluginRegister { node } => {
                let n = &mut self.nodes[node];
                if let Some(dp) = &n.dp {
                    n.kubelet.register(dp.devices.clone(), dp.topology.clone());
                }
                touched.node(node);
            }
            Event::CreatePods => {
                if self.phases.is_empty() {
                    self.end_phase("start-up");
                }
                // scheduling counts from the Deployment's creation
                self.phase_started = (self.now, Instant::now());
                let template_hash = hex(&mut self.rng, 10);
                for _ in 0..self.walkthrough_pods {
                    let suffix = k8s_suffix(&mut self.rng, 5);
                    let uid = format!(
                        "{}-{}-{}-{}-{}",
                        hex(&mut self.rng, 8),
                        hex(&mut self.rng, 4),
                        hex(&mut self.rng, 4),
                        hex(&mut self.rng, 4),
                        hex(&mut self.rng, 12)
                    );
                    self.pods.push(Pod {
                        name: format!("{}-{template_hash}-{suffix}", self.deploy.deployment),
                        uid,
                        node: None,
                        phase: Phase::Pending,
                        sandbox: None,
                        created_at: self.now,
                        running_at: None,
                        failed_attempts: 0,
                        address: None,
                    });
                }
                self.after(Duration::ZERO, Event::Schedule);
            }
            Event::Schedule => self.schedule()?,
            Event::SandboxCreate { pod } => {
                if let Some(n) = self.pods[pod].node {
                    touched.node(n);
                }
                self.sandbox_create(pod)?;
            }
            Event::IpamStart { pod, container_id } => {
                if let Some(n) = self.pods[pod].node {
                    touched.node(n);
                }
                self.ipam_start(pod, &container_id)?;
            }
            Event::DhcpTimer {
                node,
                key,
                generation,
            } => {
                let Some(slot) = self.nodes[node].dhcp.clients.get_mut(&key) else {
                    return Ok(touched);
                };
                if slot.generation != generation {
                    return Ok(touched);
                }
                let now = self.now;
                slot.client.handle_timeout(now);
                self.drain_client(node, &key)?;
                touched.lease_of(node);
            }
            Event::ServerRx { leaf, bytes } => {
                if let Some(reply) = self.leafs[leaf].handle(&bytes, self.now) {
                    self.route_reply(leaf, reply);
                }
                touched.leaf(leaf);
            }
            Event::ClientRx { node, key, bytes } => {
                let Some(slot) = self.nodes[node].dhcp.clients.get_mut(&key) else {
                    return Ok(touched);
                };
                if let Ok(msg) = Message::parse(&bytes) {
                    slot.client.handle_message(self.now, &msg);
                }
                self.drain_client(node, &key)?;
                touched.lease_of(node);
            }
            Event::DeletePods => {
                if !self.attach_done {
                    self.attach_done = true;
                }
                self.end_phase("steady-state renewals");
                self.teardown_started = true;
                for p in 0..self.pods.len() {
                    if self.pods[p].phase != Phase::Deleted {
                        self.set_phase(p, Phase::Terminating);
                        let d = Duration::from_millis(self.rng.random_range(0..200));
                        self.after(d, Event::SandboxDelete { pod: p });
                    }
                }
            }
            Event::SandboxDelete { pod } => {
                if let Some(n) = self.pods[pod].node {
                    touched.node(n);
                }
                self.sandbox_delete(pod)?;
            }
            Event::Fault { index } => self.fault(index, &mut touched)?,
            Event::FaultEnd { index } => self.fault_end(index, &mut touched)?,
        }
        Ok(touched)
    }

    fn start_node(&mut self, node: usize) -> Result<()> {
        let deploy = self.deploy.clone();
        let n = &mut self.nodes[node];
        n.start_device_plugin(&deploy)?;
        n.capture_originals()?;
        if self.nodes[node].first_dp_log.is_empty() {
            self.nodes[node].first_dp_log = crate::report::first_log(self, node);
        }
        Ok(())
    }

    fn schedule(&mut self) -> Result<()> {
        let mut bind_at = self.now;
        let pending: Vec<usize> = (0..self.pods.len())
            .filter(|p| self.pods[*p].phase == Phase::Pending && !self.teardown_started)
            .collect();
        // the scheduler's view: each node's free allocatable less what it bound this pass
        let mut free: Vec<usize> = self
            .nodes
            .iter()
            .map(|n| if n.selected { n.kubelet.free() } else { 0 })
            .collect();
        for p in &self.pods {
            if p.phase == Phase::ContainerCreating
                && let Some(n) = p.node
                && self.nodes[n].kubelet.devices_of(&p.uid).is_none()
            {
                free[n] = free[n].saturating_sub(1);
            }
        }
        let mut unscheduled = 0;
        for p in pending {
            // least allocated first (most free devices), ties by a seeded draw
            let best = free.iter().copied().max().unwrap_or(0);
            if best == 0 {
                unscheduled += 1;
                continue;
            }
            let candidates: Vec<usize> = (0..free.len()).filter(|i| free[*i] == best).collect();
            let n = candidates[self.rng.random_range(0..candidates.len())];
            free[n] -= 1;
            self.pods[p].node = Some(n);
            self.pods[p].phase = Phase::ContainerCreating;
            bind_at = bind_at + Duration::from_millis(1);
            // the kubelet sees the binding and starts the pod's sandbox
            self.at(
                bind_at + Duration::from_millis(10),
                Event::SandboxCreate { pod: p },
            );
        }
        if unscheduled > 0 {
            self.after(Duration::from_secs(1), Event::Schedule);
        } else if !self.scheduled_all && !self.pods.is_empty() {
            self.scheduled_all = true;
            self.end_phase_at("scheduling", bind_at);
        }
        Ok(())
    }

    /// Runs `f` with node `node` as the plugins see it; `None` while the node has no ledger
    /// (its device plugin never started, or it is rebooting).
    fn with_view<R>(&mut self, node: usize, f: impl FnOnce(&mut NodeView<'_>) -> R) -> Option<R> {
        let defect = self.opts.defect;
        let deploy = &self.deploy;
        let n = &mut self.nodes[node];
        let ledger = n.ledger.as_mut()?;
        let kubelet = KubeletOf(&n.kubelet);
        let mut view = NodeView {
            node: &n.spec.name,
            host: &n.host,
            root: &n.root,
            ledger,
            kubelet: &kubelet,
            deploy,
            defect,
        };
        Some(f(&mut view))
    }

    /// Moves pod `pod` to `phase`, keeping the Running counts and series.
    fn set_phase(&mut self, pod: usize, phase: Phase) {
        let old = self.pods[pod].phase;
        if old == phase {
            return;
        }
        let leaf = leaf_of(self, &self.pods[pod]);
        let t = self.now.as_millis();
        if old == Phase::Running {
            self.running -= 1;
            if let Some(l) = leaf {
                self.running_per_leaf[l] -= 1;
                self.series[l].push((t, self.running_per_leaf[l]));
            }
        }
        if phase == Phase::Running {
            self.running += 1;
            if let Some(l) = leaf {
                self.running_per_leaf[l] += 1;
                self.series[l].push((t, self.running_per_leaf[l]));
            }
            if self.pods[pod].running_at.is_none() {
                self.pods[pod].running_at = Some(self.now);
                self.attach_ms
                    .push((self.now - self.pods[pod].created_at).as_millis() as u64);
            }
        }
        if phase == Phase::Deleted {
            self.deleted += 1;
        }
        self.pods[pod].phase = phase;
    }

    fn args(&self, pod: usize, sandbox: &Sandbox, netns: Option<Netns>) -> CniArgs {
        let p = &self.pods[pod];
        CniArgs {
            container_id: sandbox.container_id.clone(),
            netns,
            ifname: "eth0".into(),
            pod_namespace: self.deploy.namespace.clone(),
            pod_name: p.name.clone(),
            pod_uid: p.uid.clone(),
            networks_annotation: self.deploy.networks_annotation.clone(),
        }
    }

    fn sandbox_create(&mut self, pod: usize) -> Result<()> {
        let Some(node) = self.pods[pod].node else {
            return Ok(());
        };
        if self.pods[pod].phase != Phase::ContainerCreating || self.pods[pod].sandbox.is_some() {
            return Ok(());
        }
        let defect = self.opts.defect;
        let (uid, name) = (self.pods[pod].uid.clone(), self.pods[pod].name.clone());
        let namespace = self.deploy.namespace.clone();
        let n = &mut self.nodes[node];
        if n.ledger.is_none() || !n.kubelet.registered() && n.kubelet.devices_of(&uid).is_none() {
            // the node is not ready: try again later
            self.after(Duration::from_secs(1), Event::SandboxCreate { pod });
            return Ok(());
        }
        if n.kubelet.devices_of(&uid).is_none() {
            match n.kubelet.admit(&uid, &namespace, &name, 1, defect)? {
                Ok(_) => {}
                Err(Rejection::InsufficientDevices { .. }) => {
                    // UnexpectedAdmissionError: the pod goes back to the scheduler
                    self.pods[pod].node = None;
                    self.set_phase(pod, Phase::Pending);
                    self.after(Duration::from_secs(1), Event::Schedule);
                    return Ok(());
                }
            }
        }
        let container_id = hex(&mut self.rng, 64);
        let n = &mut self.nodes[node];
        let netns = n
            .host
            .add_netns(&format!("cni-{}", &container_id[..12]))
            .map_err(|source| Error::Host {
                op: "create pod netns".into(),
                node: n.spec.name.clone(),
                source,
            })?;
        let mut sandbox = Sandbox {
            container_id,
            netns: netns.clone(),
            attached: Vec::new(),
        };
        let args = self.args(pod, &sandbox, Some(netns.clone()));
        let now = self.now;
        let Some(result) = self.with_view(node, |view| cni_stack::add(view, &args)) else {
            return Ok(());
        };
        match result {
            Ok(pending) => {
                let ops: usize = pending.iter().map(|p| p.host_ops).sum();
                let n = &mut self.nodes[node];
                // the ledger lock is the node's contention point: 3 transactions per ADD
                let start = n.ledger_free_at.max(now);
                n.ledger_free_at = start + LEDGER_TX * 3;
                let done = n.ledger_free_at + HOST_OP * ops as u32;
                sandbox.attached = pending;
                let cid = sandbox.container_id.clone();
                self.pods[pod].sandbox = Some(sandbox);
                self.at(
                    done,
                    Event::IpamStart {
                        pod,
                        container_id: cid,
                    },
                );
            }
            Err(failure) => {
                self.pods[pod].failed_attempts += 1;
                self.trail
                    .push_back((now, format!("{name}: ADD failed: {failure}")));
                // the runtime tears the sandbox down: CNI DEL, netns removed
                self.pods[pod].sandbox = Some(sandbox.clone());
                self.teardown_sandbox(pod, node, Some(netns))?;
                let backoff =
                    Duration::from_secs(u64::from(self.pods[pod].failed_attempts.min(10)));
                self.after(backoff, Event::SandboxCreate { pod });
            }
        }
        Ok(())
    }

    /// CNI DEL of the pod's sandbox, its netns removed; the sandbox forgotten.
    fn teardown_sandbox(&mut self, pod: usize, node: usize, netns: Option<Netns>) -> Result<bool> {
        let Some(sandbox) = self.pods[pod].sandbox.clone() else {
            return Ok(true);
        };
        let args = self.args(pod, &sandbox, netns.clone());
        let Some(result) = self.with_view(node, |view| cni_stack::del(view, &args)) else {
            return Ok(false);
        };
        let out = match result {
            Ok(out) => out,
            Err(failure) => {
                let now = self.now;
                let name = self.pods[pod].name.clone();
                self.trail
                    .push_back((now, format!("{name}: DEL failed: {failure}")));
                return Ok(false);
            }
        };
        for key in &out.released_leases {
            self.release_lease(node, key)?;
        }
        // a DHCP client whose lease was not released is dropped all the same (its pod is gone)
        let prefix = format!("{}/", sandbox.container_id);
        let leftover: Vec<String> = self.nodes[node]
            .dhcp
            .clients
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect();
        for key in leftover {
            self.forget_client(node, &key);
        }
        let n = &mut self.nodes[node];
        if let Some(ns) = netns.filter(|ns| n.host.has_netns(ns)) {
            n.host.del_netns(&ns).map_err(|source| Error::Host {
                op: "delete pod netns".into(),
                node: n.spec.name.clone(),
                source,
            })?;
        }
        if let Some(addr) = self.pods[pod].address.take() {
            self.addresses.remove(&addr);
        }
        self.pods[pod].sandbox = None;
        Ok(true)
    }

    fn forget_client(&mut self, node: usize, key: &str) {
        let Some(slot) = self.nodes[node].dhcp.clients.remove(key) else {
            return;
        };
        if let Some(leaf) = self.nodes[node].spec.leaf
            && let Some(list) = self.macs[leaf].get_mut(&slot.mac)
        {
            list.retain(|(n, k)| !(*n == node && k == key));
        }
    }

    fn release_lease(&mut self, node: usize, key: &str) -> Result<()> {
        let now = self.now;
        if let Some(slot) = self.nodes[node].dhcp.clients.get_mut(key) {
            if slot.client.state().holds_lease() && slot.client.release(now).is_ok() {
                let id = slot.client_id.clone();
                self.nodes[node].dhcp.released.insert(id);
            } else {
                slot.client.stop();
            }
            self.drain_client(node, key)?;
        }
        self.forget_client(node, key);
        Ok(())
    }

    fn ipam_start(&mut self, pod: usize, container_id: &str) -> Result<()> {
        let Some(node) = self.pods[pod].node else {
            return Ok(());
        };
        let Some(sandbox) = self.pods[pod].sandbox.clone() else {
            return Ok(());
        };
        if sandbox.container_id != container_id || self.pods[pod].phase != Phase::ContainerCreating
        {
            return Ok(());
        }
        if let Some(i) = self.armed_kills.pop() {
            // the CNI process is killed here: the VF and its RDMA device are in the pod, the
            // ledger has the attachment, no address; the runtime sees the ADD fail
            self.faults[i].outcome = format!(
                "killed the ADD of {} on {} at its IPAM step; the kubelet's DEL put VF {} back",
                self.pods[pod].name,
                self.nodes[node].spec.name,
                sandbox
                    .attached
                    .first()
                    .map_or("-".to_string(), |a| a.vf.to_string())
            );
            self.faults[i].target = self.pods[pod].name.clone();
            self.pods[pod].failed_attempts += 1;
            self.teardown_sandbox(pod, node, Some(sandbox.netns.clone()))?;
            self.after(Duration::from_secs(1), Event::SandboxCreate { pod });
            return Ok(());
        }
        let now = self.now;
        for a in &sandbox.attached {
            let seed = self.rng.random();
            self.nodes[node].dhcp.start(&a.ipam, pod, seed, now);
            if let Some(leaf) = self.nodes[node].spec.leaf {
                self.macs[leaf]
                    .entry(a.ipam.mac)
                    .or_default()
                    .push((node, a.ipam.key.clone()));
            }
            self.drain_client(node, &a.ipam.key)?;
        }
        Ok(())
    }

    /// Everything the client asks for: frames onto the segment, leases onto net1, its next
    /// timer.
    fn drain_client(&mut self, node: usize, key: &str) -> Result<()> {
        let leaf = self.nodes[node].spec.leaf;
        loop {
            let Some(slot) = self.nodes[node].dhcp.clients.get_mut(key) else {
                return Ok(());
            };
            let Some(out) = slot.client.poll_output() else {
                break;
            };
            let pod = slot.pod;
            match out {
                Output::Transmit(t) => {
                    let (Some(leaf), true) = (leaf, self.nodes[node].pf_link_up) else {
                        continue;
                    };
                    let Ok(bytes) = t.message.emit() else {
                        continue;
                    };
                    let copies = match self.leafs[leaf].deliver(&mut self.rng) {
                        Delivery::Lost => 0,
                        Delivery::Once => 1,
                        Delivery::Twice => 2,
                    };
                    for _ in 0..copies {
                        self.after(
                            SEGMENT_LATENCY,
                            Event::ServerRx {
                                leaf,
                                bytes: bytes.clone(),
                            },
                        );
                    }
                }
                Output::Event(DhcpEvent::Bound(lease))
                | Output::Event(DhcpEvent::Renewed(lease)) => {
                    self.lease_bound(pod, node, &lease)?;
                }
                Output::Event(DhcpEvent::Drop { address, .. }) => {
                    if self.pods[pod].address == Some(address) {
                        self.pods[pod].address = None;
                        self.addresses.remove(&address);
                        if let Some(sb) = &self.pods[pod].sandbox {
                            let net = self.nodes[node].host.net_ops();
                            let on_net1 = sriov_core::NetOps::addresses(&net, &sb.netns, "net1")
                                .unwrap_or_default();
                            for prefix in on_net1
                                .into_iter()
                                .filter(|a| a.addr == std::net::IpAddr::V4(address))
                            {
                                let _ = sriov_core::NetOps::del_address(
                                    &net, &sb.netns, "net1", prefix,
                                );
                            }
                        }
                    }
                }
                Output::Event(DhcpEvent::Nak { .. }) => {}
            }
        }
        // its next timer
        let slot = match self.nodes[node].dhcp.clients.get_mut(key) {
            Some(s) => s,
            None => return Ok(()),
        };
        if let Some(at) = slot.client.poll_timeout() {
            slot.generation += 1;
            let generation = slot.generation;
            let at = at.max(self.now);
            self.at(
                at,
                Event::DhcpTimer {
                    node,
                    key: key.to_string(),
                    generation,
                },
            );
        }
        Ok(())
    }

    fn lease_bound(
        &mut self,
        pod: usize,
        node: usize,
        lease: &dhcp_ipam::client::Lease,
    ) -> Result<()> {
        let addr = lease.ip();
        let Some(sandbox) = self.pods[pod].sandbox.clone() else {
            return Ok(());
        };
        if self.pods[pod].address != Some(addr) {
            if let Some(old) = self.pods[pod].address.take() {
                self.addresses.remove(&old);
            }
            if let Some(other) = self.addresses.get(&addr).copied().filter(|o| *o != pod) {
                return Err(invariants::violation(
                    self,
                    "no address on two pods",
                    format!(
                        "{addr} leased to {} while {} has it",
                        self.pods[pod].name, self.pods[other].name
                    ),
                ));
            }
            let prefix = cni_stack::prefix_of(lease);
            let host = self.nodes[node].host.clone();
            if let Err(failure) = cni_stack::finish_add(&host, &sandbox.netns, "net1", prefix) {
                let now = self.now;
                self.trail
                    .push_back((now, format!("{}: {failure}", self.pods[pod].name)));
                return Ok(());
            }
            self.addresses.insert(addr, pod);
            self.pods[pod].address = Some(addr);
        }
        if self.pods[pod].phase == Phase::ContainerCreating {
            self.set_phase(pod, Phase::Running);
        }
        Ok(())
    }

    fn route_reply(&mut self, leaf: usize, reply: Vec<u8>) {
        let Ok(msg) = Message::parse(&reply) else {
            return;
        };
        let Some(mac) = msg.chaddr.as_mac() else {
            return;
        };
        let targets = self.macs[leaf].get(&mac).cloned().unwrap_or_default();
        for (node, key) in targets {
            if !self.nodes[node].pf_link_up {
                continue;
            }
            let copies = match self.leafs[leaf].deliver(&mut self.rng) {
                Delivery::Lost => 0,
                Delivery::Once => 1,
                Delivery::Twice => 2,
            };
            for _ in 0..copies {
                self.after(
                    SEGMENT_LATENCY,
                    Event::ClientRx {
                        node,
                        key: key.clone(),
                        bytes: reply.clone(),
                    },
                );
            }
        }
    }

    fn sandbox_delete(&mut self, pod: usize) -> Result<()> {
        if self.pods[pod].phase == Phase::Deleted {
            return Ok(());
        }
        let Some(node) = self.pods[pod].node else {
            self.set_phase(pod, Phase::Deleted);
            return Ok(());
        };
        let netns = self.pods[pod].sandbox.as_ref().map(|s| s.netns.clone());
        if !self.teardown_sandbox(pod, node, netns)? {
            self.after(Duration::from_secs(1), Event::SandboxDelete { pod });
            return Ok(());
        }
        let uid = self.pods[pod].uid.clone();
        self.nodes[node].kubelet.forget(&uid)?;
        self.set_phase(pod, Phase::Deleted);
        Ok(())
    }

    fn fault(&mut self, index: usize, touched: &mut Touched) -> Result<()> {
        let f = self.faults[index].clone();
        let deploy = self.deploy.clone();
        let end = |s: &mut Self, d: Duration| s.after(d, Event::FaultEnd { index });
        match f.kind {
            FaultKind::CniKill => {
                self.armed_kills.push(index);
                self.faults[index].outcome = "armed: no ADD ran after it".into();
            }
            FaultKind::KubeletRestart => {
                let Some(n) = f.node else { return Ok(()) };
                let names = self.names_on(n);
                self.nodes[n].kubelet.restart(&names)?;
                // the plugin framework registers again within milliseconds of the restart
                self.after(
                    Duration::from_millis(50),
                    Event::DevicePluginRegister { node: n },
                );
                self.faults[index].outcome = format!(
                    "kubelet restarted with {} allocations from its checkpoint",
                    self.nodes[n].kubelet.pods().len()
                );
                touched.node(n);
            }
            FaultKind::DpCrash => {
                let Some(n) = f.node else { return Ok(()) };
                self.nodes[n].dp = None;
                self.nodes[n].kubelet.plugin_gone();
                self.faults[index].outcome =
                    "device plugin down 10 s, restarted by the DaemonSet".into();
                end(self, Duration::from_secs(10));
                touched.node(n);
            }
            FaultKind::MultusCacheLost => {
                let Some(n) = f.node else { return Ok(()) };
                let dir = cni_stack::cache_dir(&self.nodes[n].root);
                let lost = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
                let _ = std::fs::remove_dir_all(&dir);
                self.faults[index].outcome = format!("{lost} cache entries removed");
            }
            FaultKind::DhcpOutage | FaultKind::LeafReboot => {
                let Some(l) = f.leaf else { return Ok(()) };
                self.leafs[l].stop();
                let (d, what) = if f.kind == FaultKind::DhcpOutage {
                    (Duration::from_secs(180), "DHCP server down 180 s")
                } else {
                    (
                        Duration::from_secs(20),
                        "leaf rebooting 20 s, server back from its lease file",
                    )
                };
                self.faults[index].outcome = what.into();
                end(self, d);
                touched.leaf(l);
            }
            FaultKind::PacketLoss => {
                let Some(l) = f.leaf else { return Ok(()) };
                self.leafs[l].loss = 0.3;
                self.faults[index].outcome = "30% frame loss for 60 s".into();
                end(self, Duration::from_secs(60));
            }
            FaultKind::PacketDup => {
                let Some(l) = f.leaf else { return Ok(()) };
                self.leafs[l].duplication = 0.5;
                self.faults[index].outcome = "50% frames duplicated for 60 s".into();
                end(self, Duration::from_secs(60));
            }
            FaultKind::NodeReboot => {
                let Some(n) = f.node else { return Ok(()) };
                let names = self.names_on(n);
                self.nodes[n].reboot()?;
                self.nodes[n].pf_link_up = false;
                self.nodes[n].kubelet.restart(&names)?;
                let mut on_node = 0;
                for p in 0..self.pods.len() {
                    if self.pods[p].node == Some(n)
                        && matches!(
                            self.pods[p].phase,
                            Phase::Running | Phase::ContainerCreating
                        )
                    {
                        self.set_phase(p, Phase::ContainerCreating);
                        if let Some(a) = self.pods[p].address.take() {
                            self.addresses.remove(&a);
                        }
                        on_node += 1;
                    }
                }
                self.faults[index].outcome = format!(
                    "node down 30 s; {on_node} sandboxes re-created, VFs re-created, ledger kept"
                );
                end(self, Duration::from_secs(30));
                touched.node(n);
            }
            FaultKind::VfVanish => {
                let Some(n) = f.node else { return Ok(()) };
                let node = &self.nodes[n];
                let held: Vec<PciAddress> = node
                    .ledger
                    .as_ref()
                    .map(|l| l.pool().allocations().map(|a| a.pci).collect())
                    .unwrap_or_default();
                let Some(vf) = node.originals.keys().copied().find(|v| !held.contains(v)) else {
                    self.faults[index].outcome = "no free VF to remove".into();
                    return Ok(());
                };
                let fs = node.host.sysfs();
                sriov_core::Sysfs::write(
                    &fs,
                    "/sys/bus/pci/drivers/mlx5_core/unbind".as_ref(),
                    &vf.to_string(),
                )
                .map_err(|source| Error::Host {
                    op: format!("unbind VF {vf}"),
                    node: node.spec.name.clone(),
                    source,
                })?;
                self.nodes[n].originals.remove(&vf);
                self.faults[index].vf = Some(vf);
                self.faults[index].outcome = format!("VF {vf} gone for 30 s");
                end(self, Duration::from_secs(30));
                self.nodes[n].poll_device_plugin(&deploy)?;
                touched.node(n);
            }
            FaultKind::PfFlap => {
                let Some(n) = f.node else { return Ok(()) };
                let pf = PciAddress::from_routing_id(0, 0x3b << 8);
                let node = &mut self.nodes[n];
                node.host
                    .set_physical_link(pf, sysfs_sim::PhysicalLink::Down)
                    .map_err(|source| Error::Host {
                        op: "unplug PF".into(),
                        node: node.spec.name.clone(),
                        source,
                    })?;
                node.pf_link_up = false;
                self.faults[index].outcome = "PF link down 5 s".into();
                end(self, Duration::from_secs(5));
                self.nodes[n].poll_device_plugin(&deploy)?;
                touched.node(n);
            }
        }
        Ok(())
    }

    fn fault_end(&mut self, index: usize, touched: &mut Touched) -> Result<()> {
        let f = self.faults[index].clone();
        let deploy = self.deploy.clone();
        match f.kind {
            FaultKind::DpCrash => {
                let Some(n) = f.node else { return Ok(()) };
                self.nodes[n].start_device_plugin(&deploy)?;
                touched.node(n);
            }
            FaultKind::DhcpOutage | FaultKind::LeafReboot => {
                let Some(l) = f.leaf else { return Ok(()) };
                let now = self.now;
                self.leafs[l].restart(now)?;
                touched.leaf(l);
            }
            FaultKind::PacketLoss => {
                if let Some(l) = f.leaf {
                    self.leafs[l].loss = 0.0;
                }
            }
            FaultKind::PacketDup => {
                if let Some(l) = f.leaf {
                    self.leafs[l].duplication = 0.0;
                }
            }
            FaultKind::NodeReboot => {
                let Some(n) = f.node else { return Ok(()) };
                self.nodes[n].pf_link_up = true;
                self.nodes[n].start_device_plugin(&deploy)?;
                self.nodes[n].capture_originals()?;
                // the kubelet finds every sandbox of the node dead: DEL (CNI_NETNS empty, the
                // netns went with the reboot), then a new sandbox
                for p in 0..self.pods.len() {
                    if self.pods[p].node == Some(n)
                        && self.pods[p].phase == Phase::ContainerCreating
                    {
                        if !self.teardown_sandbox(p, n, None)? {
                            continue;
                        }
                        self.after(Duration::from_millis(100), Event::SandboxCreate { pod: p });
                    }
                }
                touched.node(n);
            }
            FaultKind::VfVanish => {
                let (Some(n), Some(vf)) = (f.node, f.vf) else {
                    return Ok(());
                };
                let node = &self.nodes[n];
                let fs = node.host.sysfs();
                sriov_core::Sysfs::write(
                    &fs,
                    "/sys/bus/pci/drivers/mlx5_core/bind".as_ref(),
                    &vf.to_string(),
                )
                .map_err(|source| Error::Host {
                    op: format!("bind VF {vf}"),
                    node: node.spec.name.clone(),
                    source,
                })?;
                let held: Vec<PciAddress> = node
                    .ledger
                    .as_ref()
                    .map(|l| l.pool().allocations().map(|a| a.pci).collect())
                    .unwrap_or_default();
                let before = self.nodes[n].originals.clone();
                self.nodes[n].capture_originals()?;
                // only the returned VF's state is new; held VFs keep what they had
                for v in held {
                    if let Some(o) = before.get(&v) {
                        self.nodes[n].originals.insert(v, o.clone());
                    }
                }
                self.nodes[n].poll_device_plugin(&deploy)?;
                touched.node(n);
            }
            FaultKind::PfFlap => {
                let Some(n) = f.node else { return Ok(()) };
                let pf = PciAddress::from_routing_id(0, 0x3b << 8);
                let node = &mut self.nodes[n];
                node.host
                    .set_physical_link(pf, sysfs_sim::PhysicalLink::Up)
                    .map_err(|source| Error::Host {
                        op: "plug PF".into(),
                        node: node.spec.name.clone(),
                        source,
                    })?;
                node.pf_link_up = true;
                self.nodes[n].poll_device_plugin(&deploy)?;
                touched.node(n);
            }
            _ => {}
        }
        if matches!(f.kind, FaultKind::DpCrash | FaultKind::NodeReboot) {
            self.after(Duration::ZERO, Event::Schedule);
        }
        Ok(())
    }

    fn names_on(&self, node: usize) -> BTreeMap<String, (String, String)> {
        self.pods
            .iter()
            .filter(|p| p.node == Some(node))
            .map(|p| {
                (
                    p.uid.clone(),
                    (self.deploy.namespace.clone(), p.name.clone()),
                )
            })
            .collect()
    }

    fn check(&mut self, touched: Touched) -> Result<()> {
        let deploy = self.deploy.clone();
        if let Some(n) = touched.node {
            // the device plugin looks at the host (it polls every 200 ms)
            if touched.host_changed {
                self.nodes[n].poll_device_plugin(&deploy)?;
            }
            self.checks += 1;
            invariants::check_node(self, n)?;
        }
        if let Some(l) = touched.leaf {
            self.checks += 1;
            invariants::check_leaf(self, l)?;
        }
        Ok(())
    }

    /// What each pod looks like now (the walk-through's `kubectl get pods` and `exec`).
    fn pod_reports(&self) -> Vec<PodReport> {
        self.pods
            .iter()
            .map(|p| crate::report::pod_report(self, p))
            .collect()
    }

    fn report(self, total_wall: Duration) -> Report {
        crate::report::build(self, total_wall)
    }
}

/// What an event touched: the node and leaf whose invariants are checked after it.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    node: Option<usize>,
    leaf: Option<usize>,
    /// Whether the node's host changed (then its device plugin looks again before the check);
    /// a DHCP exchange changes only a pod's address.
    host_changed: bool,
}

impl Touched {
    fn node(&mut self, n: usize) {
        self.node = Some(n);
        self.host_changed = true;
    }
    fn lease_of(&mut self, n: usize) {
        self.node = Some(n);
    }
    fn leaf(&mut self, l: usize) {
        self.leaf = Some(l);
    }
}

/// Wall timings of a run, for [`crate::report`].
pub(crate) fn wall(phases: &[PhaseReport], total: Duration) -> WallTimings {
    WallTimings {
        phases_ms: phases
            .iter()
            .map(|p| (p.name, p.wall.map_or(0.0, |w| w.as_secs_f64() * 1000.0)))
            .collect(),
        total_ms: total.as_secs_f64() * 1000.0,
    }
}

/// The pod's leaf, for reports.
pub(crate) fn leaf_of(sim: &Simulation, p: &Pod) -> Option<usize> {
    p.node.and_then(|n| sim.nodes[n].spec.leaf)
}

/// FaultReports, for reports.
pub(crate) fn fault_reports(sim: &Simulation) -> Vec<FaultReport> {
    let mut faults: Vec<&PlannedFault> = sim.faults.iter().collect();
    faults.sort_by_key(|f| (f.at, f.kind));
    faults
        .into_iter()
        .map(|f| FaultReport {
            kind: f.kind,
            at_ms: f.at.as_millis(),
            target: f.target.clone(),
            outcome: f.outcome.clone(),
        })
        .collect()
}
