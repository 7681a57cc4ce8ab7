//! `multus`: the meta plugin binary (see the crate's README for its configuration).

fn main() {
    cni_types::skel::run(multus::MetaPlugin)
}
