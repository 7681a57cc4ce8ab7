//! The deploy/ manifests: every document parses into its Kubernetes API type, and the
//! cross-references the simulation relies on hold; breaking any one of them is caught.

use cluster_sim::Error;
use cluster_sim::deploy::{self, DeployModel, ManifestFile, Object};

fn files() -> Vec<ManifestFile> {
    deploy::project_manifests()
}

#[test]
fn every_manifest_parses_into_the_api_types() {
    let objects = deploy::parse(&files()).unwrap();
    let kinds: Vec<String> = objects.iter().map(Object::describe).collect();
    assert_eq!(
        kinds,
        [
            "ConfigMap/kube-system/rdma-devices",
            "DaemonSet/kube-system/rdma-sriov-dp-ds",
            "ServiceAccount/kube-system/multus",
            "ClusterRole/-/multus",
            "ClusterRoleBinding/-/multus",
            "ConfigMap/kube-system/multus-cni-config",
            "DaemonSet/kube-system/sriov-cni-installer",
            "DaemonSet/kube-system/rdma-dhcp-ds",
            "NetworkAttachmentDefinition/default/sriov-rdma-net",
            "Deployment/default/mofed-test-pod",
        ]
    );
}

#[test]
fn the_repository_files_are_the_embedded_ones() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let mut on_disk = deploy::read_dir(&dir).unwrap();
    let mut embedded = files();
    on_disk.sort_by(|a, b| a.name.cmp(&b.name));
    embedded.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(on_disk, embedded);
}

#[test]
fn cross_references_hold() {
    let m = DeployModel::from_files(&files()).unwrap();
    assert_eq!(
        m.dp_config_text,
        r#"{"mode":"sriov","pfNetdevices":["ens2f0"]}"#
    );
    assert_eq!(
        m.dp_config_path,
        std::path::Path::new("/k8s-rdma-sriov-dev-plugin/config.json")
    );
    assert_eq!(m.resource_name, "rdma/vhca");
    assert_eq!(m.network, "default/sriov-rdma-net");
    assert_eq!(m.attachment.vlan, 111);
    assert!(m.attachment.rdma && m.attachment.spoofchk && !m.attachment.trust);
    assert_eq!(
        m.attachment.dhcp_socket,
        std::path::Path::new(dhcp_ipam_socket())
    );
    assert_eq!(m.replicas, 2);
    assert_eq!(
        m.daemonsets,
        ["rdma-sriov-dp-ds", "sriov-cni-installer", "rdma-dhcp-ds"]
    );
}

fn dhcp_ipam_socket() -> &'static str {
    "/run/cni/rdma-dhcp.sock"
}

/// The manifests with `from` replaced by `to` in file `file` (which must contain it).
fn broken(file: &str, from: &str, to: &str) -> Vec<ManifestFile> {
    let mut f = files();
    let m = f.iter_mut().find(|m| m.name == file).unwrap();
    assert!(m.text.contains(from), "{file} has no {from:?}");
    m.text = m.text.replacen(from, to, 1);
    f
}

fn cross_error(files: &[ManifestFile]) -> String {
    match DeployModel::from_files(files) {
        Err(Error::CrossReference { what }) => what,
        other => panic!("expected a cross-reference error, got {other:?}"),
    }
}

#[test]
fn each_broken_cross_reference_is_caught() {
    let cases = [
        // the NAD names another resource than the device plugin advertises
        (
            "sriov-rdma-net.yaml",
            "resourceName: rdma/vhca",
            "resourceName: rdma/hca",
            "resourceName",
        ),
        // the pods ask for another resource
        (
            "test-sriov-dep.yaml",
            "requests:\n              rdma/vhca: 1",
            "requests:\n              rdma/hca: 1",
            "requests",
        ),
        // the device plugin reads its config where the ConfigMap is not mounted
        (
            "device-plugin.yaml",
            "- /k8s-rdma-sriov-dev-plugin/config.json",
            "- /etc/config.json",
            "ConfigMap key",
        ),
        // the ConfigMap key mounted is not the one defined
        (
            "device-plugin.yaml",
            "- key: config.json",
            "- key: config.yaml",
            "no key",
        ),
        // another resource prefix
        (
            "device-plugin.yaml",
            "            - rdma\n",
            "            - example.com\n",
            "resourceName",
        ),
        // the ledger is not mounted where --root puts it
        (
            "device-plugin.yaml",
            "mountPath: /host/var/lib/cni/sriov",
            "mountPath: /host/var/lib/cni/other",
            "/host/var/lib/cni/sriov",
        ),
        // /sys mounted read-only: the plugin writes sriov_numvfs
        (
            "device-plugin.yaml",
            "mountPath: /host/sys\n",
            "mountPath: /host/sys\n              readOnly: true\n",
            "read-only",
        ),
        // a host path that is not the binary's
        (
            "dhcp-daemonset.yaml",
            "path: /var/lib/cni/rdma-dhcp",
            "path: /var/lib/rdma-dhcp",
            "the binary needs /var/lib/cni/rdma-dhcp",
        ),
        // the NAD's IPAM socket is not the daemon's
        (
            "sriov-rdma-net.yaml",
            "\"daemonSocketPath\": \"/run/cni/rdma-dhcp.sock\"",
            "\"daemonSocketPath\": \"/run/dhcp.sock\"",
            "daemonSocketPath",
        ),
        // a selector that does not match its template
        (
            "dhcp-daemonset.yaml",
            "matchLabels:\n      app: rdma-dhcp",
            "matchLabels:\n      app: dhcp",
            "selector",
        ),
        // a DaemonSet on every node, not the labelled ones
        (
            "k8s-sriov-cni-installer.yaml",
            "nodeSelector:\n        name: sriov-cni-ds",
            "nodeSelector:\n        name: all",
            "nodeSelector",
        ),
        // the pods' annotation names another network
        (
            "test-sriov-dep.yaml",
            "networks: sriov-rdma-net",
            "networks: other-net",
            "networks",
        ),
        // the installer leaves a plugin out
        (
            "k8s-sriov-cni-installer.yaml",
            "sriov,rdma,rdma-dhcp,multus",
            "sriov,rdma,multus",
            "--plugins",
        ),
    ];
    for (file, from, to, says) in cases {
        let what = cross_error(&broken(file, from, to));
        assert!(what.contains(says), "{file}: {from:?} -> {to:?}: {what}");
    }
}

#[test]
fn unknown_kinds_and_bad_yaml_are_errors() {
    let mut f = files();
    f.push(ManifestFile {
        name: "x.yaml".into(),
        text: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n".into(),
    });
    assert!(matches!(
        deploy::parse(&f),
        Err(Error::ParseManifest { .. })
    ));
    let mut f = files();
    f[0].text.push_str("\n---\n: : [\n");
    assert!(matches!(
        deploy::parse(&f),
        Err(Error::ParseManifest { .. })
    ));
    // a typed field of the wrong type
    let f = broken("device-plugin.yaml", "readOnly: true", "readOnly: maybe");
    assert!(matches!(
        deploy::parse(&f),
        Err(Error::ParseManifest { .. })
    ));
}
