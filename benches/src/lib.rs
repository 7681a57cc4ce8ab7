//! criterion benchmarks of rdma-sriov's hot paths; see `benches/` and the README.
