//! rdma-core against rdmactl on the same rendered tree: `SYSFS_PATH=DIR/sys ibv_devices` lists
//! exactly the RDMA devices `rdmactl ibdev2netdev` prints, with the node GUIDs
//! `rdmactl discover --json` reports. The `/dev/infiniband/uverbsN` nodes libibverbs wants are
//! plain files bound at `/dev/infiniband` in a private mount namespace (never the host's
//! `/dev`).

mod common;

use std::collections::BTreeSet;

use common::rdmactl_ok as rdmactl;
use testbed::Need;

#[test]
fn ibv_devices_agrees_with_rdmactl_on_a_rendered_host() {
    if !testbed::require!(
        Need::Root,
        Need::Program("ibv_devices"),
        Need::Program("unshare"),
        Need::File("/etc/libibverbs.d/mlx5.driver")
    ) {
        return;
    }
    for preset in ["reference", "mixed"] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        rdmactl(&["sim", "render", "--preset", preset, "--out", root]);
        // devtmpfs's part: a node for every uverbs device the tree shows
        let nodes = dir.path().join("dev/infiniband");
        std::fs::create_dir_all(&nodes).unwrap();
        for entry in std::fs::read_dir(dir.path().join("sys/class/infiniband_verbs")).unwrap() {
            let name = entry.unwrap().file_name();
            if name.to_string_lossy().starts_with("uverbs") {
                std::fs::write(nodes.join(name), b"").unwrap();
            }
        }
        let sys = dir.path().join("sys");
        let out = testbed::private_dev::run_with_dev_dir(
            &nodes,
            "infiniband",
            "ibv_devices",
            &[],
            &[("SYSFS_PATH", sys.to_str().unwrap())],
        )
        .unwrap();
        assert!(out.status.success(), "{out:?}");
        let listed: BTreeSet<(String, String)> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .skip(2)
            .map(|l| {
                let mut p = l.split_whitespace();
                (p.next().unwrap().to_string(), p.next().unwrap().to_string())
            })
            .collect();

        let json: serde_json::Value =
            serde_json::from_slice(&rdmactl(&["discover", "--root", root, "--json"]).stdout)
                .unwrap();
        let mut reported = BTreeSet::new();
        for pf in json["pfs"].as_array().unwrap() {
            let vfs = pf["vfs"].as_array().unwrap();
            for f in std::iter::once(pf).chain(vfs) {
                if f["rdma"].is_null() {
                    continue;
                }
                let guid = f["rdma"]["node_guid"].as_str().unwrap().replace(':', "");
                reported.insert((f["rdma"]["device"].as_str().unwrap().to_string(), guid));
            }
        }
        assert!(!reported.is_empty());
        assert_eq!(
            listed, reported,
            "{preset}: ibv_devices vs rdmactl discover"
        );

        let ib2nd = rdmactl(&["ibdev2netdev", "--root", root]);
        let names: BTreeSet<String> = String::from_utf8(ib2nd.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect();
        let listed_names: BTreeSet<String> = listed.into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names, listed_names,
            "{preset}: ibv_devices vs rdmactl ibdev2netdev"
        );
    }
}
