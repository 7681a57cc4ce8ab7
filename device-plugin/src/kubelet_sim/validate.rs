//! The kubelet's checks of a registration.

/// An extended resource name as the kubelet accepts it: `<domain>/<name>`, the domain a
/// lower-case DNS subdomain outside `kubernetes.io`, the name 1-63 of `[A-Za-z0-9_.-]` starting
/// and ending alphanumeric.
///
/// ```
/// use device_plugin::kubelet_sim::valid_extended_resource_name as ok;
/// assert!(ok("rdma/vhca") && ok("nvidia.com/mlnx_rdma"));
/// assert!(!ok("vhca") && !ok("kubernetes.io/vhca") && !ok("rdma/") && !ok("Rdma/vhca") && !ok("rdma/a/b"));
/// ```
pub fn valid_extended_resource_name(name: &str) -> bool {
    let Some((domain, rest)) = name.split_once('/') else {
        return false;
    };
    let domain_ok = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
        && domain != "kubernetes.io"
        && !domain.ends_with(".kubernetes.io");
    let b = rest.as_bytes();
    let name_ok = !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric();
    domain_ok && name_ok
}

/// A Register endpoint: a bare socket file name in the plugin directory.
///
/// ```
/// use device_plugin::kubelet_sim::valid_endpoint;
/// assert!(valid_endpoint("rdma-sriov-dp.sock"));
/// assert!(!valid_endpoint("/var/lib/kubelet/device-plugins/rdma-sriov-dp.sock"));
/// assert!(!valid_endpoint("..") && !valid_endpoint("") && !valid_endpoint("kubelet.sock"));
/// ```
pub fn valid_endpoint(endpoint: &str) -> bool {
    !endpoint.is_empty()
        && endpoint != "."
        && endpoint != ".."
        && !endpoint.contains('/')
        && !endpoint.contains('\0')
        && endpoint != crate::api::KUBELET_SOCKET
}
