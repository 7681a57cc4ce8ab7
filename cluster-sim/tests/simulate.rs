//! The simulation: determinism, every fault kind with the invariants holding, deliberately
//! broken engines caught by the invariant checks, the scale path at a small scale.

use cluster_sim::cluster::ClusterSpec;
use cluster_sim::report::{Detail, Report};
use cluster_sim::{Defect, Error, FaultKind, FaultPlan, Options};

fn run(opts: Options) -> Report {
    match cluster_sim::run(opts) {
        Ok(r) => r,
        Err(Error::Violation(v)) => panic!("{v}"),
        Err(e) => panic!("{e}"),
    }
}

fn output(r: &Report) -> String {
    format!(
        "{}{}",
        r.text(Detail::EveryPod),
        serde_json::to_string(r).unwrap()
    )
}

#[test]
fn the_seed_walk_through() {
    let r = run(Options::seed_defaults(1));
    let text = r.text(Detail::EveryPod);
    for needle in [
        "$ kubectl label nodes clx-host-021 name=sriov-cni-ds",
        "$ kubectl label nodes clx-host-022 name=sriov-cni-ds",
        "max_vfs = 8",
        "cur_vfs = 8",
        "Registered device plugin with Kubelet",
        "exposing devices: [&Device{ID:0000:3b:00.2,Health:Healthy,}",
    ] {
        assert!(text.contains(needle), "{needle}\n{text}");
    }
    assert!(!text.contains("label nodes clx-master"), "{text}");
    assert_eq!(r.pods.len(), 2);
    let mut nodes: Vec<&str> = r.pods.iter().map(|p| p.node.as_deref().unwrap()).collect();
    nodes.sort();
    assert_eq!(
        nodes,
        ["clx-host-021", "clx-host-022"],
        "one pod per worker"
    );
    for p in &r.pods {
        assert_eq!(p.phase, "Running");
        assert_eq!(p.ibdev2netdev.len(), 1, "{p:?}");
        assert!(
            p.ibdev2netdev[0].starts_with("mlx5_")
                && p.ibdev2netdev[0].ends_with(" port 1 ==> net1 (Up)"),
            "{p:?}"
        );
        let addr: std::net::Ipv4Addr = p.address.as_deref().unwrap().parse().unwrap();
        // each pod's address from its own leaf's range (Leaf-1: 172.16.1.0/24, Leaf-2: .2)
        let leaf_octet = if p.leaf.as_deref() == Some("Leaf-1") {
            1
        } else {
            2
        };
        assert_eq!(addr.octets()[..3], [172, 16, leaf_octet], "{p:?}");
        assert!((10..=200).contains(&addr.octets()[3]));
        assert!(
            p.ip_a_net1
                .iter()
                .any(|l| l.contains(&format!("inet {addr}/24"))),
            "{p:?}"
        );
    }
    assert!(r.all_running_ms.is_some());
    assert!(r.invariant_checks > 10);
    assert_eq!(
        r.phases.iter().map(|p| p.name).collect::<Vec<_>>(),
        [
            "start-up",
            "scheduling",
            "attach",
            "steady-state renewals",
            "teardown"
        ]
    );
}

#[test]
fn the_same_seed_gives_the_same_output() {
    let opts = || Options {
        faults: FaultPlan::Random,
        ..Options::seed_defaults(42)
    };
    let a = output(&run(opts()));
    let b = output(&run(opts()));
    assert_eq!(a, b);
    let c = output(&run(Options {
        faults: FaultPlan::Random,
        ..Options::seed_defaults(43)
    }));
    assert_ne!(a, c);
}

#[test]
fn every_fault_kind_keeps_the_invariants() {
    for seed in [1, 2] {
        let r = run(Options {
            faults: FaultPlan::List(FaultKind::ALL.to_vec()),
            pods: Some(6),
            ..Options::seed_defaults(seed)
        });
        assert_eq!(r.faults.len(), FaultKind::ALL.len());
        for f in &r.faults {
            assert!(
                !f.outcome.starts_with("not fired") && !f.outcome.starts_with("armed"),
                "{f:?}"
            );
        }
        assert!(
            r.all_running_ms.is_some(),
            "seed {seed}: {}",
            r.text(Detail::EveryPod)
        );
    }
}

#[test]
fn each_fault_kind_alone_keeps_the_invariants() {
    for kind in FaultKind::ALL {
        let r = run(Options {
            faults: FaultPlan::List(vec![kind]),
            pods: Some(4),
            steady_secs: 700,
            ..Options::seed_defaults(3)
        });
        assert_eq!(r.faults.len(), 1);
        assert!(
            !r.faults[0].outcome.starts_with("not fired"),
            "{kind}: {:?}",
            r.faults[0]
        );
    }
}

#[test]
fn random_faults_over_several_seeds() {
    for seed in 10..14 {
        let r = run(Options {
            faults: FaultPlan::Random,
            pods: Some(10),
            ..Options::seed_defaults(seed)
        });
        assert!(!r.faults.is_empty());
    }
}

fn violated(defect: Defect, pods: u32) -> String {
    let opts = Options {
        defect: Some(defect),
        pods: Some(pods),
        steady_secs: 700,
        ..Options::seed_defaults(5)
    };
    match cluster_sim::run(opts) {
        Err(Error::Violation(v)) => {
            assert_eq!(v.seed, 5);
            assert!(!v.trail.is_empty());
            v.invariant.to_string()
        }
        Ok(_) => panic!("{defect:?}: the invariants did not notice"),
        Err(e) => panic!("{defect:?}: {e}"),
    }
}

#[test]
fn a_broken_engine_is_caught() {
    assert_eq!(
        violated(Defect::SkipRestore, 2),
        "deleted pods' VFs back in the host, restored"
    );
    assert_eq!(violated(Defect::DoubleAllocate, 4), "no VF in two pods");
    assert_eq!(
        violated(Defect::LeaseNotReleased, 2),
        "no lease left behind"
    );
}

#[test]
fn the_scale_path_at_a_small_scale() {
    let opts = Options {
        cluster: ClusterSpec::scaled(24, 4).unwrap(),
        pods: Some(90),
        faults: FaultPlan::Random,
        steady_secs: 650,
        ..Options::seed_defaults(9)
    };
    let r = run(opts);
    assert!(r.leafs.len() >= 2);
    assert_eq!(r.pods.len(), 90);
    assert!(
        r.pods.iter().all(|p| p.phase == "Running"),
        "{}",
        r.text(Detail::Summary)
    );
    assert_eq!(r.attach_latency.as_ref().unwrap().count, 90);
    // pods spread over the nodes, none over its 4 VFs
    let mut per_node = std::collections::BTreeMap::new();
    for p in &r.pods {
        *per_node.entry(p.node.clone().unwrap()).or_insert(0) += 1;
    }
    assert!(per_node.values().all(|c| *c <= 4));
    assert!(per_node.len() >= 23);
    let summary = r.text(Detail::Summary);
    assert!(
        summary.contains("... 82 more pods (90 of 90 Running)"),
        "{summary}"
    );
}

#[test]
fn more_pods_than_vfs_stay_pending_and_nothing_leaks() {
    let r = run(Options {
        pods: Some(18),
        steady_secs: 10,
        ..Options::seed_defaults(4)
    });
    assert_eq!(r.pods.iter().filter(|p| p.phase == "Running").count(), 16);
    assert_eq!(r.pods.iter().filter(|p| p.phase == "Pending").count(), 2);
    assert!(r.all_running_ms.is_none());
}
