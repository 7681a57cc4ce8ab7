//! The Rust code generated from `proto/` is committed (so building this crate needs no protobuf
//! compiler at all); this test regenerates it with protox, a protobuf compiler in pure Rust, and
//! fails when the committed code is stale. `RDMA_SRIOV_UPDATE_GENERATED=1` rewrites it instead.

use std::path::{Path, PathBuf};

const PROTOS: &[&str] = &[
    "deviceplugin/v1beta1/api.proto",
    "podresources/v1/api.proto",
    "pluginregistration/v1/api.proto",
];

/// The generated files, by protobuf package.
const GENERATED: &[&str] = &["v1beta1.rs", "v1.rs", "pluginregistration.rs"];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate(out: &Path) {
    let proto_dir = crate_dir().join("proto");
    let files: Vec<PathBuf> = PROTOS.iter().map(|p| proto_dir.join(p)).collect();
    let descriptors = protox::compile(&files, [&proto_dir]).expect("protox compiles proto/");
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(false)
        .emit_rerun_if_changed(false)
        .out_dir(out)
        .compile_fds(descriptors)
        .expect("tonic-prost-build generates code");
}

#[test]
fn committed_generated_code_is_current() {
    let fresh = tempfile::tempdir().unwrap();
    generate(fresh.path());
    let committed = crate_dir().join("src/api/generated");
    let update = std::env::var("RDMA_SRIOV_UPDATE_GENERATED").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for name in GENERATED {
        let new = std::fs::read_to_string(fresh.path().join(name))
            .unwrap_or_else(|e| panic!("generated {name}: {e}"));
        let old = std::fs::read_to_string(committed.join(name)).unwrap_or_default();
        if new != old {
            if update {
                std::fs::write(committed.join(name), &new).unwrap();
            } else {
                stale.push(*name);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "src/api/generated/{stale:?} differ from what proto/ generates; \
         run RDMA_SRIOV_UPDATE_GENERATED=1 cargo test -p device-plugin --test generated_code"
    );
}
