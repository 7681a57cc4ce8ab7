//! DHCP on VLAN 111: each leaf's server engine (`dhcp-server`) with its lease journal, the L2
//! segment between it and the nodes behind it (latency, loss, duplication, outages), and each
//! node's `rdma-dhcp` daemon model: one sans-I/O client (`dhcp-ipam`) per pod interface.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use dhcp_codec::{ClientId, HwAddr, Message, Time};
use dhcp_ipam::client::{Client, ClientConfig, Lease};
use dhcp_server::{Engine, LeaseRecord, ServerConfig, Timers};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::cluster::LeafSpec;
use crate::error::{Error, Result};

/// One leaf's DHCP service and segment.
#[derive(Debug)]
pub struct Leaf {
    /// The leaf.
    pub spec: LeafSpec,
    config: ServerConfig,
    /// The server; `None` while it is down (outage, reboot).
    engine: Option<Engine>,
    /// The lease journal (the server's leases file: what survives a restart), by address.
    journal: BTreeMap<Ipv4Addr, LeaseRecord>,
    /// Probability that a frame on the segment is lost.
    pub loss: f64,
    /// Probability that a frame on the segment is delivered twice.
    pub duplication: f64,
    /// The range addresses are leased from.
    pub range: (Ipv4Addr, Ipv4Addr),
}

/// What the segment does with one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Lost.
    Lost,
    /// Delivered once.
    Once,
    /// Delivered twice.
    Twice,
}

impl Leaf {
    /// The leaf's server, started from its `dhcpd.conf`.
    pub fn start(spec: &LeafSpec) -> Result<Leaf> {
        let err = |source| Error::Leaf {
            leaf: spec.name.clone(),
            source: Box::new(source),
        };
        let config =
            ServerConfig::parse(&spec.dhcpd_conf, format!("{}.conf", spec.name)).map_err(err)?;
        let range = config
            .subnets
            .first()
            .and_then(|s| s.ranges.first())
            .map(|r| (r.low, r.high))
            .ok_or_else(|| Error::Cluster {
                what: format!("{}: dhcpd.conf has no range", spec.name),
            })?;
        let engine = Engine::new(&config, spec.server_id, Timers::default()).map_err(err)?;
        Ok(Leaf {
            spec: spec.clone(),
            config,
            engine: Some(engine),
            journal: BTreeMap::new(),
            loss: 0.0,
            duplication: 0.0,
            range,
        })
    }

    /// Whether the server answers.
    pub fn is_up(&self) -> bool {
        self.engine.is_some()
    }

    /// The server stops (outage, or the leaf reboots): it answers nothing; its journal stays.
    pub fn stop(&mut self) {
        self.engine = None;
    }

    /// The server starts again from its journal.
    pub fn restart(&mut self, now: Time) -> Result<()> {
        let mut engine = Engine::new(&self.config, self.spec.server_id, Timers::default())
            .map_err(|source| Error::Leaf {
                leaf: self.spec.name.clone(),
                source: Box::new(source),
            })?;
        for record in self.journal.values() {
            engine.allocator_mut().restore(record, now);
        }
        engine.allocator_mut().clear_changes();
        self.engine = Some(engine);
        Ok(())
    }

    /// One frame through the segment.
    pub fn deliver(&self, rng: &mut ChaCha8Rng) -> Delivery {
        if self.loss > 0.0 && rng.random_bool(self.loss.clamp(0.0, 1.0)) {
            Delivery::Lost
        } else if self.duplication > 0.0 && rng.random_bool(self.duplication.clamp(0.0, 1.0)) {
            Delivery::Twice
        } else {
            Delivery::Once
        }
    }

    /// The server receives `bytes` at `now`; its reply's bytes, if any. The lease changes go to
    /// the journal.
    pub fn handle(&mut self, bytes: &[u8], now: Time) -> Option<Vec<u8>> {
        let engine = self.engine.as_mut()?;
        let msg = Message::parse(bytes).ok()?;
        engine.allocator_mut().expire(now);
        let reply = engine.handle(&msg, now);
        for record in engine.allocator_mut().take_changes() {
            match record.state {
                dhcp_server::RecordState::Bound | dhcp_server::RecordState::Declined => {
                    self.journal.insert(record.ip, record);
                }
                _ => {
                    self.journal.remove(&record.ip);
                }
            }
        }
        reply.and_then(|r| r.message.emit().ok())
    }

    /// Whether `addr` is in the leaf's range.
    pub fn in_range(&self, addr: Ipv4Addr) -> bool {
        addr >= self.range.0 && addr <= self.range.1
    }

    /// The bound leases at `now`: (address, client identifier bytes).
    pub fn bound(&self, now: Time) -> Vec<(Ipv4Addr, Vec<u8>)> {
        self.journal
            .values()
            .filter(|r| r.state == dhcp_server::RecordState::Bound && r.ends > now)
            .filter_map(|r| match r.client.as_ref()? {
                dhcp_server::ClientKey::ClientId(id) => Some((r.ip, id.to_vec())),
                dhcp_server::ClientKey::Hardware { .. } => None,
            })
            .collect()
    }
}

/// One pod interface's client in the node's `rdma-dhcp` daemon.
#[derive(Debug)]
pub struct ClientSlot {
    /// The pod (index into the simulation's pods).
    pub pod: usize,
    /// The client.
    pub client: Client,
    /// Bumped at every change of the client's timer: timer events of an older generation are
    /// stale.
    pub generation: u64,
    /// The MAC of the interface.
    pub mac: [u8; 6],
    /// The client identifier.
    pub client_id: Vec<u8>,
}

/// The node's `rdma-dhcp` daemon: a client per pod interface, by `<containerID>/<ifname>`.
#[derive(Debug, Default)]
pub struct Daemon {
    /// The clients.
    pub clients: BTreeMap<String, ClientSlot>,
    /// Client identifiers whose lease the IPAM DEL released (a RELEASE was sent).
    pub released: BTreeSet<Vec<u8>>,
}

impl Daemon {
    /// A client for `key` as the daemon makes one while a CNI ADD waits (quick start), with the
    /// client identifier `rdma-dhcp` derives from the container and interface.
    pub fn start(
        &mut self,
        ipam: &crate::cni_stack::IpamRequest,
        pod: usize,
        seed: u64,
        now: Time,
    ) {
        let client_id = ClientId::for_pod_interface(&ipam.container_id, &ipam.ifname);
        let id_bytes = client_id.as_bytes().to_vec();
        let config = ClientConfig::new(HwAddr::mac(ipam.mac), client_id).quick_start();
        self.clients.insert(
            ipam.key.clone(),
            ClientSlot {
                pod,
                client: Client::new(config, seed, now),
                generation: 0,
                mac: ipam.mac,
                client_id: id_bytes,
            },
        );
    }

    /// The lease of `key`, if its client holds one.
    pub fn lease(&self, key: &str) -> Option<&Lease> {
        let slot = self.clients.get(key)?;
        slot.client
            .state()
            .holds_lease()
            .then(|| slot.client.lease())
            .flatten()
    }
}
