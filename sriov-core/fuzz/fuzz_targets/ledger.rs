//! A ledger file with arbitrary contents: opening it must give a pool or a typed error
//! (`LedgerCorrupt`, `OwnedByOther`...), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sriov_core::ledger::PersistentPool;
use sriov_core::pool::PoolVf;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("sriov-ledger-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("vf-ledger.json");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let pf: sriov_core::PciAddress = "0000:3b:00.0".parse().unwrap();
    let inv = (0..8).map(|i| PoolVf {
        pci: pf.vf_address(2, 1, i).unwrap(),
        pf,
        numa_node: Some(0),
    });
    let _ = PersistentPool::open(inv, &path);
});
