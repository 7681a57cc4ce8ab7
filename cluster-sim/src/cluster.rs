//! The cluster description: nodes (each a simulated reference host) and leaf switches (each a
//! DHCP server on VLAN 111 with a `dhcpd.conf` in the seed's style and a range of its own).
//!
//! ```
//! let seed = cluster_sim::cluster::ClusterSpec::seed();
//! let names: Vec<&str> = seed.nodes.iter().map(|n| n.name.as_str()).collect();
//! assert_eq!(names, ["clx-master", "clx-host-021", "clx-host-022"]);
//! assert_eq!(seed.leafs[0].name, "Leaf-1");
//! assert!(seed.leafs[1].dhcpd_conf.contains("range 172.16.2.10 172.16.2.200;"));
//! ```

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::deploy::NODE_LABEL;
use crate::error::{Error, Result};

/// The VLAN of the pods' second network on every leaf.
pub const POD_VLAN: u16 = 111;

/// One node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    /// The node's name.
    pub name: String,
    /// Its labels (workers: `name=sriov-cni-ds`, applied as the seed's `kubectl label`).
    pub labels: BTreeMap<String, String>,
    /// The leaf it is cabled to (index into [`ClusterSpec::leafs`]); the master has none.
    pub leaf: Option<usize>,
    /// Total (and enabled) VFs of its PF `ens2f0`.
    pub vfs: u32,
}

/// One leaf switch with its DHCP service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafSpec {
    /// Its name (`Leaf-1`).
    pub name: String,
    /// Its `dhcpd.conf`.
    pub dhcpd_conf: String,
    /// The address of its VLAN 111 interface (the server identifier).
    pub server_id: Ipv4Addr,
}

/// The whole cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    /// Nodes, the master first.
    pub nodes: Vec<NodeSpec>,
    /// Leafs.
    pub leafs: Vec<LeafSpec>,
}

/// The `dhcpd.conf` of leaf number `n` (1-based) in the seed's style: VLAN 111's subnet
/// `172.16.<n>.0/24` (past 255 leafs the second octet goes up), the range `.10`-`.200`.
pub fn leaf_dhcpd_conf(n: usize) -> (String, Ipv4Addr) {
    let b = 16 + (n / 256) as u8;
    let c = (n % 256) as u8;
    let conf = format!(
        "#dhcp.conf file for Leaf-{n} DHCP service\n\
         # VLAN {POD_VLAN}: the pods' SR-IOV network behind this leaf\n\
         default-lease-time 600;\n\
         max-lease-time 7200;\n\
         subnet 172.{b}.{c}.0 netmask 255.255.255.0 {{\n\
         \x20 range 172.{b}.{c}.10 172.{b}.{c}.200;\n\
         \x20 option routers 172.{b}.{c}.1;\n\
         \x20 option subnet-mask 255.255.255.0;\n\
         }}\n"
    );
    (conf, Ipv4Addr::new(172, b, c, 1))
}

/// Addresses per leaf range (`.10`-`.200`).
pub const LEAF_RANGE_LEN: u32 = 191;

impl ClusterSpec {
    /// The seed's cluster: master `clx-master`, workers `clx-host-021` behind Leaf-1 and
    /// `clx-host-022` behind Leaf-2, 8 VFs each.
    pub fn seed() -> ClusterSpec {
        let leafs = (1..=2)
            .map(|n| {
                let (dhcpd_conf, server_id) = leaf_dhcpd_conf(n);
                LeafSpec {
                    name: format!("Leaf-{n}"),
                    dhcpd_conf,
                    server_id,
                }
            })
            .collect();
        let worker = |name: &str, leaf| NodeSpec {
            name: name.into(),
            labels: [(NODE_LABEL.0.to_string(), NODE_LABEL.1.to_string())].into(),
            leaf: Some(leaf),
            vfs: 8,
        };
        ClusterSpec {
            nodes: vec![
                NodeSpec {
                    name: "clx-master".into(),
                    labels: [(
                        "node-role.kubernetes.io/control-plane".to_string(),
                        String::new(),
                    )]
                    .into(),
                    leaf: None,
                    vfs: 8,
                },
                worker("clx-host-021", 0),
                worker("clx-host-022", 1),
            ],
            leafs,
        }
    }

    /// A master and `workers` workers (`clx-host-001`...) with `vfs` VFs each, as many leafs
    /// as their ranges need (each leaf's range holds [`LEAF_RANGE_LEN`] addresses), workers
    /// spread over them in order. With 2 workers and 8 VFs: the seed's two leafs.
    pub fn scaled(workers: usize, vfs: u32) -> Result<ClusterSpec> {
        if workers == 0 || vfs == 0 || vfs > 127 {
            return Err(Error::Cluster {
                what: format!(
                    "{workers} workers with {vfs} VFs each (need >= 1 worker, 1-127 VFs)"
                ),
            });
        }
        let per_leaf = ((LEAF_RANGE_LEN * 4 / 5) / vfs).max(1) as usize;
        let leaf_count = workers.div_ceil(per_leaf).max(2.min(workers));
        let mut spec = ClusterSpec::seed();
        spec.leafs = (1..=leaf_count)
            .map(|n| {
                let (dhcpd_conf, server_id) = leaf_dhcpd_conf(n);
                LeafSpec {
                    name: format!("Leaf-{n}"),
                    dhcpd_conf,
                    server_id,
                }
            })
            .collect();
        let master = spec.nodes.remove(0);
        spec.nodes = std::iter::once(NodeSpec { vfs, ..master })
            .chain((0..workers).map(|i| NodeSpec {
                name: if workers == 2 {
                    format!("clx-host-{:03}", 21 + i)
                } else {
                    format!("clx-host-{:03}", i + 1)
                },
                labels: [(NODE_LABEL.0.to_string(), NODE_LABEL.1.to_string())].into(),
                leaf: Some(i * leaf_count / workers),
                vfs,
            }))
            .collect();
        Ok(spec)
    }
}
