//! `--plot`: the SVG is well-formed XML with the Running series per leaf, the latency panel and
//! the fault markers.

use cluster_sim::{FaultKind, FaultPlan, Options};

#[test]
fn the_plot_is_an_svg_with_its_series() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.svg");
    let report = cluster_sim::run(Options {
        faults: FaultPlan::List(vec![FaultKind::PfFlap, FaultKind::LeafReboot]),
        pods: Some(6),
        steady_secs: 650,
        ..Options::seed_defaults(2)
    })
    .unwrap();
    cluster_sim::plot::draw(&report, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().trim().to_string())
        .collect();
    for want in [
        cluster_sim::plot::RUNNING_TITLE,
        cluster_sim::plot::LATENCY_TITLE,
        cluster_sim::plot::FAULT_LEGEND,
        "Running on Leaf-1",
        "Running on Leaf-2",
        "pf-flap",
        "leaf-reboot",
    ] {
        assert!(texts.iter().any(|t| t == want), "no {want:?} in {texts:?}");
    }
    // the Running lines: one polyline per leaf
    let lines = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .count();
    assert!(lines >= 2, "{lines} polylines");
}
