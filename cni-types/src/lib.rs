//! The CNI specification 0.1.0-1.1.0 for plugin authors: configs, results, conversions, errors, a plugin skeleton, delegation, Multus inputs.
