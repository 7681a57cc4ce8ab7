//! `rdma`: the RDMA CNI plugin, chained after `sriov` (drop-in for rdma-cni configurations).
fn main() {
    cni_types::skel::run(sriov_cni::plugin::RdmaCniPlugin)
}
