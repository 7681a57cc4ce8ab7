//! `sriov`: the SR-IOV CNI plugin (drop-in for sriov-cni configurations).
fn main() {
    cni_types::skel::run(sriov_cni::plugin::SriovPlugin)
}
