//! SR-IOV PF/VF model, discovery, VF enabling and the VF allocation ledger, over host traits (sysfs, netlink).
