//! The kubelet's gRPC APIs, generated from this crate's own `.proto` files (`proto/`) by
//! tonic-prost-build with protox (a protobuf compiler in Rust). The generated code is committed,
//! so building needs no `protoc`; `tests/generated_code.rs` checks it is current.
//!
//! - [`v1beta1`]: the device-plugin API (`Registration`, served by the kubelet; `DevicePlugin`,
//!   served by a plugin).
//! - [`pod_resources`]: the pod-resources API v1 (`PodResourcesLister`, served by the kubelet).
//! - [`plugin_registration`]: the plugin-watcher API (`Registration`, served by a plugin in
//!   `plugins_registry`).

/// The device-plugin API version this crate speaks.
pub const VERSION: &str = "v1beta1";
/// The kubelet's word for a usable device.
pub const HEALTHY: &str = "Healthy";
/// The kubelet's word for an unusable device.
pub const UNHEALTHY: &str = "Unhealthy";
/// The kubelet's registration socket's file name in the plugin directory.
pub const KUBELET_SOCKET: &str = "kubelet.sock";
/// The kubelet's plugin directory.
pub const DEFAULT_PLUGIN_DIR: &str = "/var/lib/kubelet/device-plugins";
/// The kubelet's plugin-watcher directory.
pub const DEFAULT_PLUGINS_REGISTRY: &str = "/var/lib/kubelet/plugins_registry";
/// The kubelet's pod-resources socket.
pub const DEFAULT_POD_RESOURCES_SOCKET: &str = "/var/lib/kubelet/pod-resources/kubelet.sock";
/// The kubelet's device-manager checkpoint's file name in the plugin directory.
pub const CHECKPOINT_FILE: &str = "kubelet_internal_checkpoint";
/// The plugin type a device plugin reports to the plugin watcher.
pub const PLUGIN_TYPE_DEVICE_PLUGIN: &str = "DevicePlugin";

/// The device-plugin API v1beta1 (package `v1beta1`).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1beta1 {
    include!("generated/v1beta1.rs");
}

/// The pod-resources API v1 (package `v1`).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod pod_resources {
    include!("generated/v1.rs");
}

/// The plugin-watcher registration API (package `pluginregistration`).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod plugin_registration {
    include!("generated/pluginregistration.rs");
}
