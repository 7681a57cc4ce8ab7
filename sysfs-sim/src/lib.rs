//! An in-memory Linux kernel model for SR-IOV NICs: sysfs, netdevs, network namespaces, fault injection, rendering to disk.
