//! The CNI IPAM plugin `rdma-dhcp` and its node daemon.
//!
//! The plugin binary is short-lived: for ADD, DEL, CHECK, STATUS and GC it asks the node daemon
//! over a unix socket ([`DaemonRequest`] / [`DaemonResponse`], one JSON line each way). The
//! daemon ([`daemon::Daemon`]) owns every lease of the node: it acquires them in the pod's
//! namespace, keeps them renewed from one thread (a [`RenewalScheduler`](crate::renewal)), stores
//! them ([`LeaseStore`](crate::store)) so that a restart of the daemon loses none of them, and
//! releases them on DEL with a RELEASE the server accepts (unicast from the leased address,
//! the lease's client id, no option 50).
//!
//! Network configuration (the `ipam` section):
//!
//! ```json
//! { "type": "rdma-dhcp", "daemonSocketPath": "/run/cni/rdma-dhcp.sock", "timeout": 20 }
//! ```
//!
//! Both keys are optional (defaults [`DEFAULT_SOCKET`] and 20 s).

pub mod daemon;
pub mod plugin;

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cni_types::{Dns, IpConfig, Result100, Route};
use serde::{Deserialize, Serialize};

use crate::client::Lease;

/// Where the daemon listens unless configured otherwise.
pub const DEFAULT_SOCKET: &str = "/run/cni/rdma-dhcp.sock";
/// Where the daemon keeps its lease records unless told otherwise.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/cni/rdma-dhcp";
/// How long an ADD waits for a lease unless configured otherwise.
pub const DEFAULT_TIMEOUT_SECS: u64 = 20;

/// The plugin's own keys in the `ipam` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpamConf {
    /// The daemon's socket.
    #[serde(rename = "daemonSocketPath", default)]
    pub socket: Option<PathBuf>,
    /// Seconds an ADD waits for a lease.
    #[serde(default)]
    pub timeout: Option<u64>,
}

impl IpamConf {
    /// The socket to use.
    pub fn socket(&self) -> PathBuf {
        self.socket
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET))
    }

    /// The ADD timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS).clamp(1, 600))
    }
}

/// The key of a pod interface's lease: `<container id>/<ifname>`.
pub fn lease_key(container_id: &str, ifname: &str) -> String {
    format!("{container_id}/{ifname}")
}

/// A request to the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum DaemonRequest {
    /// Acquire (or return the existing) lease for a pod interface.
    Add {
        /// Container id.
        container_id: String,
        /// The pod's network namespace file.
        netns: PathBuf,
        /// Interface inside it.
        ifname: String,
        /// Seconds to wait for a lease.
        timeout_secs: u64,
    },
    /// Release and forget the lease. Succeeds when there is none.
    Del {
        /// Container id.
        container_id: String,
        /// Interface.
        ifname: String,
    },
    /// Verify the lease is held and its address is on the interface.
    Check {
        /// Container id.
        container_id: String,
        /// The pod's network namespace file.
        netns: PathBuf,
        /// Interface.
        ifname: String,
    },
    /// Release every lease whose key is not listed.
    Gc {
        /// The keys (`<container id>/<ifname>`) to keep.
        keep: Vec<String>,
    },
    /// Is the daemon serving?
    Status,
    /// Every managed key with its state and lease (for operators and tests).
    List,
}

/// The daemon's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonResponse {
    /// Success.
    pub ok: bool,
    /// The lease (ADD, CHECK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    /// The CNI error code on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<cni_types::ErrorCode>,
    /// What failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub msg: String,
    /// For LIST: key, state name, lease.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<ListEntry>,
}

/// One line of a LIST answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    /// The lease key.
    pub key: String,
    /// The client's state (`BOUND`, `RENEWING`, ...).
    pub state: String,
    /// The lease held, if any.
    pub lease: Option<Lease>,
}

impl DaemonResponse {
    /// Success without a lease.
    pub fn ok() -> Self {
        DaemonResponse {
            ok: true,
            lease: None,
            code: None,
            msg: String::new(),
            entries: Vec::new(),
        }
    }

    /// Success with a lease.
    pub fn with_lease(lease: Lease) -> Self {
        DaemonResponse {
            lease: Some(lease),
            ..DaemonResponse::ok()
        }
    }

    /// Failure from one of this crate's errors, with its CNI code ([`Error::cni_code`]).
    ///
    /// [`Error::cni_code`]: crate::Error::cni_code
    pub fn failure(err: &crate::Error) -> Self {
        DaemonResponse::error(err.cni_code(), err.to_string())
    }

    /// Failure with a CNI error code.
    pub fn error(code: cni_types::ErrorCode, msg: impl Into<String>) -> Self {
        DaemonResponse {
            ok: false,
            code: Some(code),
            msg: msg.into(),
            ..DaemonResponse::ok()
        }
    }
}

/// Sends one request to the daemon at `socket` and reads its answer, waiting at most
/// `timeout` for it.
pub fn call(
    socket: &Path,
    req: &DaemonRequest,
    timeout: Duration,
) -> std::io::Result<DaemonResponse> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut line = serde_json::to_vec(req)?;
    line.push(b'\n');
    stream.write_all(&line)?;
    let mut answer = String::new();
    BufReader::new(&stream).read_line(&mut answer)?;
    if answer.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the daemon closed the connection without an answer",
        ));
    }
    Ok(serde_json::from_str(&answer)?)
}

/// The CNI result for a lease: the address with its router as gateway, the routes (option
/// 121's when present, else a default route through the router), DNS servers and domain.
/// IPAM results carry no interfaces.
///
/// ```
/// # use dhcp_ipam::cni::lease_result;
/// # fn lease() -> dhcp_ipam::client::Lease { serde_json::from_str(r#"{
/// #   "address":"10.0.0.5/24","routers":["10.0.0.1"],"dns_servers":["10.0.0.53"],
/// #   "server_id":"10.0.0.1","lease_secs":600,"t1_secs":300,"t2_secs":525,"acquired_at":0,
/// #   "renew_at":300000,"rebind_at":525000,"client_id":"0001","chaddr":"02:00:00:00:00:01"}"#).unwrap() }
/// let r = lease_result(&lease());
/// assert_eq!(r.ips[0].address.to_string(), "10.0.0.5/24");
/// assert_eq!(r.routes[0].dst.to_string(), "0.0.0.0/0");
/// assert_eq!(r.dns.nameservers, vec!["10.0.0.53"]);
/// ```
pub fn lease_result(lease: &Lease) -> Result100 {
    let mut r = Result100::new();
    r.ips.push(IpConfig {
        interface: None,
        address: ipnet::IpNet::V4(lease.address),
        gateway: lease.router().map(IpAddr::V4),
    });
    if lease.routes.is_empty() {
        if let Some(gw) = lease.router() {
            r.routes.push(Route::new(
                ipnet::IpNet::V4(ipnet::Ipv4Net::default()),
                Some(IpAddr::V4(gw)),
            ));
        }
    } else {
        for route in &lease.routes {
            let gw = (route.gateway != Ipv4Addr::UNSPECIFIED).then_some(IpAddr::V4(route.gateway));
            r.routes.push(Route::new(ipnet::IpNet::V4(route.dest), gw));
        }
    }
    r.dns = Dns {
        nameservers: lease.dns_servers.iter().map(|a| a.to_string()).collect(),
        domain: lease.domain_name.clone().unwrap_or_default(),
        ..Dns::default()
    };
    r
}
