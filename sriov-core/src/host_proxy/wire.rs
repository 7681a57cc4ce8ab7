//! The wire format: one JSON object per line each way. A [`Request`] names one host-trait call
//! with its arguments; a [`Reply`] carries its [`Answer`] or a [`WireError`] with the errno, so
//! the caller gets back the `io::Error` the backend gave.
//!
//! ```
//! use sriov_core::host_proxy::{Answer, Reply, Request, WireError};
//! use sriov_core::Netns;
//!
//! let line = br#"{"op":"set_link_up","ns":"Host","name":"ens2f0v3","up":true}"#;
//! let req = Request::parse_line(line).unwrap();
//! assert_eq!(req, Request::SetLinkUp { ns: Netns::Host, name: "ens2f0v3".into(), up: true });
//! assert_eq!(Request::parse_line(&req.emit_line().unwrap()).unwrap(), req);
//!
//! let busy = std::io::Error::from_raw_os_error(libc::EBUSY);
//! let reply = Reply::Err(WireError::from_io(&busy));
//! let back = Reply::parse_line(&reply.emit_line().unwrap()).unwrap();
//! assert_eq!(back, reply);
//! assert_eq!(Reply::Ok(Answer::Done).emit_line().unwrap(), b"{\"ok\":\"done\"}\n");
//! ```

use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ProxyError;
use crate::{
    EntryKind, IpPrefix, LinkInfo, LinkState, MacAddress, Netns, RdmaNetnsMode, Route, TxRate,
    VfInfo, VlanConfig,
};

/// The longest request line a server reads (a request is a few hundred bytes; this leaves room
/// for long paths and names while bounding what a client can make the server buffer).
pub const MAX_REQUEST_LINE: usize = 64 * 1024;

/// The longest reply line a client reads (a `links` or `read_dir` answer of a large host is
/// tens of kilobytes).
pub const MAX_REPLY_LINE: usize = 64 * 1024 * 1024;

/// One host-trait call: every [`crate::NetOps`], [`crate::RdmaOps`] and [`crate::Sysfs`]
/// method, the `Sysfs` ones with the namespace whose view is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// [`crate::NetOps::links`].
    Links {
        /// The namespace.
        ns: Netns,
    },
    /// [`crate::NetOps::link`].
    Link {
        /// The namespace.
        ns: Netns,
        /// The link.
        name: String,
    },
    /// [`crate::NetOps::rename_link`].
    RenameLink {
        /// The namespace.
        ns: Netns,
        /// The link.
        name: String,
        /// Its new name.
        new_name: String,
    },
    /// [`crate::NetOps::set_link_mac`].
    SetLinkMac {
        /// The namespace.
        ns: Netns,
        /// The link.
        name: String,
        /// The MAC.
        mac: MacAddress,
    },
    /// [`crate::NetOps::set_link_mtu`].
    SetLinkMtu {
        /// The namespace.
        ns: Netns,
        /// The link.
        name: String,
        /// The MTU.
        mtu: u32,
    },
    /// [`crate::NetOps::set_link_up`].
    SetLinkUp {
        /// The namespace.
        ns: Netns,
        /// The link.
        name: String,
        /// Up (true) or down.
        up: bool,
    },
    /// [`crate::NetOps::move_link`].
    MoveLink {
        /// The namespace the link is in.
        ns: Netns,
        /// The link.
        name: String,
        /// Where it goes.
        target: Netns,
    },
    /// [`crate::NetOps::addresses`].
    Addresses {
        /// The namespace.
        ns: Netns,
        /// The link.
        name: String,
    },
    /// [`crate::NetOps::add_address`].
    AddAddress {
        /// The namespace.
        ns: Netns,
        /// The link.
        name: String,
        /// The address.
        addr: IpPrefix,
    },
    /// [`crate::NetOps::del_address`].
    DelAddress {
        /// The namespace.
        ns: Netns,
        /// The link.
        name: String,
        /// The address.
        addr: IpPrefix,
    },
    /// [`crate::NetOps::routes`].
    Routes {
        /// The namespace.
        ns: Netns,
    },
    /// [`crate::NetOps::add_route`].
    AddRoute {
        /// The namespace.
        ns: Netns,
        /// The route.
        route: Route,
    },
    /// [`crate::NetOps::vfs`].
    Vfs {
        /// The PF netdev.
        pf: String,
    },
    /// [`crate::NetOps::set_vf_mac`].
    SetVfMac {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        vf: u32,
        /// The admin MAC.
        mac: MacAddress,
    },
    /// [`crate::NetOps::set_vf_vlan`].
    SetVfVlan {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        vf: u32,
        /// VLAN, QoS and protocol.
        vlan: VlanConfig,
    },
    /// [`crate::NetOps::set_vf_spoofchk`].
    SetVfSpoofchk {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        vf: u32,
        /// On or off.
        on: bool,
    },
    /// [`crate::NetOps::set_vf_trust`].
    SetVfTrust {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        vf: u32,
        /// On or off.
        on: bool,
    },
    /// [`crate::NetOps::set_vf_link_state`].
    SetVfLinkState {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        vf: u32,
        /// The policy.
        state: LinkState,
    },
    /// [`crate::NetOps::set_vf_rate`].
    SetVfRate {
        /// The PF netdev.
        pf: String,
        /// The VF index.
        vf: u32,
        /// The limits.
        rate: TxRate,
    },
    /// [`crate::RdmaOps::netns_mode`].
    RdmaNetnsMode,
    /// [`crate::RdmaOps::set_netns_mode`].
    SetRdmaNetnsMode {
        /// The mode.
        mode: RdmaNetnsMode,
    },
    /// [`crate::RdmaOps::devices`].
    RdmaDevices {
        /// The namespace.
        ns: Netns,
    },
    /// [`crate::RdmaOps::other_namespaces`] (answered with their paths as names).
    OtherNamespaces,
    /// [`crate::RdmaOps::move_device`].
    MoveRdmaDevice {
        /// The namespace the device is in.
        from: Netns,
        /// The RDMA device.
        ibdev: String,
        /// Where it goes.
        to: Netns,
    },
    /// [`crate::Sysfs::read`] in the sysfs of namespace `ns`.
    Read {
        /// Whose view.
        ns: Netns,
        /// The attribute.
        path: PathBuf,
    },
    /// [`crate::Sysfs::write`] in the sysfs of namespace `ns`.
    Write {
        /// Whose view.
        ns: Netns,
        /// The attribute.
        path: PathBuf,
        /// The text written.
        value: String,
    },
    /// [`crate::Sysfs::read_link`] in the sysfs of namespace `ns`.
    ReadLink {
        /// Whose view.
        ns: Netns,
        /// The link.
        path: PathBuf,
    },
    /// [`crate::Sysfs::read_dir`] in the sysfs of namespace `ns`.
    ReadDir {
        /// Whose view.
        ns: Netns,
        /// The directory.
        path: PathBuf,
    },
    /// [`crate::Sysfs::entry_kind`] in the sysfs of namespace `ns`.
    EntryKind {
        /// Whose view.
        ns: Netns,
        /// The entry.
        path: PathBuf,
    },
}

impl Request {
    /// The request's name on the wire (`set_vf_vlan`), for messages.
    pub fn op_name(&self) -> &'static str {
        match self {
            Request::Links { .. } => "links",
            Request::Link { .. } => "link",
            Request::RenameLink { .. } => "rename_link",
            Request::SetLinkMac { .. } => "set_link_mac",
            Request::SetLinkMtu { .. } => "set_link_mtu",
            Request::SetLinkUp { .. } => "set_link_up",
            Request::MoveLink { .. } => "move_link",
            Request::Addresses { .. } => "addresses",
            Request::AddAddress { .. } => "add_address",
            Request::DelAddress { .. } => "del_address",
            Request::Routes { .. } => "routes",
            Request::AddRoute { .. } => "add_route",
            Request::Vfs { .. } => "vfs",
            Request::SetVfMac { .. } => "set_vf_mac",
            Request::SetVfVlan { .. } => "set_vf_vlan",
            Request::SetVfSpoofchk { .. } => "set_vf_spoofchk",
            Request::SetVfTrust { .. } => "set_vf_trust",
            Request::SetVfLinkState { .. } => "set_vf_link_state",
            Request::SetVfRate { .. } => "set_vf_rate",
            Request::RdmaNetnsMode => "rdma_netns_mode",
            Request::SetRdmaNetnsMode { .. } => "set_rdma_netns_mode",
            Request::RdmaDevices { .. } => "rdma_devices",
            Request::MoveRdmaDevice { .. } => "move_rdma_device",
            Request::OtherNamespaces => "other_namespaces",
            Request::Read { .. } => "read",
            Request::Write { .. } => "write",
            Request::ReadLink { .. } => "read_link",
            Request::ReadDir { .. } => "read_dir",
            Request::EntryKind { .. } => "entry_kind",
        }
    }

    /// Parses one request line (a trailing `\n` is allowed). Anything that is not exactly one
    /// request, over [`MAX_REQUEST_LINE`] bytes, or not UTF-8 is a [`ProxyError`], never a
    /// panic.
    pub fn parse_line(line: &[u8]) -> Result<Request, ProxyError> {
        if line.len() > MAX_REQUEST_LINE {
            return Err(ProxyError::RequestTooLong {
                limit: MAX_REQUEST_LINE,
            });
        }
        serde_json::from_slice(strip_newline(line))
            .map_err(|source| ProxyError::DecodeRequest { source })
    }

    /// The request as one line, `\n` included.
    pub fn emit_line(&self) -> Result<Vec<u8>, ProxyError> {
        let mut line = serde_json::to_vec(self).map_err(|source| ProxyError::Encode {
            what: self.op_name(),
            source,
        })?;
        line.push(b'\n');
        Ok(line)
    }
}

/// What a successful call returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Answer {
    /// The call returns nothing (a change that succeeded).
    Done,
    /// Links (`links`).
    Links(Vec<LinkInfo>),
    /// One link (`link`).
    Link(LinkInfo),
    /// Addresses (`addresses`).
    Addresses(Vec<IpPrefix>),
    /// Routes (`routes`).
    Routes(Vec<Route>),
    /// A VF table (`vfs`).
    Vfs(Vec<VfInfo>),
    /// The RDMA netns mode.
    NetnsMode(RdmaNetnsMode),
    /// Names: RDMA devices, or a directory's entries.
    Names(Vec<String>),
    /// An attribute's text.
    Text(String),
    /// A link's target.
    Target(PathBuf),
    /// An entry's kind.
    Kind(EntryKind),
}

impl Answer {
    /// The answer's name on the wire, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Answer::Done => "done",
            Answer::Links(_) => "links",
            Answer::Link(_) => "link",
            Answer::Addresses(_) => "addresses",
            Answer::Routes(_) => "routes",
            Answer::Vfs(_) => "vfs",
            Answer::NetnsMode(_) => "netns_mode",
            Answer::Names(_) => "names",
            Answer::Text(_) => "text",
            Answer::Target(_) => "target",
            Answer::Kind(_) => "kind",
        }
    }
}

/// The kind of an error that carries no errno (the backend refused the call before the
/// kernel, or could not decode the kernel's answer), so the caller's `io::Error` has the same
/// [`io::ErrorKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireErrorKind {
    /// [`io::ErrorKind::NotFound`].
    NotFound,
    /// [`io::ErrorKind::PermissionDenied`].
    PermissionDenied,
    /// [`io::ErrorKind::InvalidInput`].
    InvalidInput,
    /// [`io::ErrorKind::InvalidData`].
    InvalidData,
    /// [`io::ErrorKind::TimedOut`].
    TimedOut,
    /// [`io::ErrorKind::Unsupported`].
    Unsupported,
    /// Any other kind ([`io::ErrorKind::Other`]).
    Other,
}

impl From<io::ErrorKind> for WireErrorKind {
    fn from(kind: io::ErrorKind) -> Self {
        match kind {
            io::ErrorKind::NotFound => WireErrorKind::NotFound,
            io::ErrorKind::PermissionDenied => WireErrorKind::PermissionDenied,
            io::ErrorKind::InvalidInput => WireErrorKind::InvalidInput,
            io::ErrorKind::InvalidData => WireErrorKind::InvalidData,
            io::ErrorKind::TimedOut => WireErrorKind::TimedOut,
            io::ErrorKind::Unsupported => WireErrorKind::Unsupported,
            _ => WireErrorKind::Other,
        }
    }
}

impl From<WireErrorKind> for io::ErrorKind {
    fn from(kind: WireErrorKind) -> Self {
        match kind {
            WireErrorKind::NotFound => io::ErrorKind::NotFound,
            WireErrorKind::PermissionDenied => io::ErrorKind::PermissionDenied,
            WireErrorKind::InvalidInput => io::ErrorKind::InvalidInput,
            WireErrorKind::InvalidData => io::ErrorKind::InvalidData,
            WireErrorKind::TimedOut => io::ErrorKind::TimedOut,
            WireErrorKind::Unsupported => io::ErrorKind::Unsupported,
            WireErrorKind::Other => io::ErrorKind::Other,
        }
    }
}

/// A failed call as the wire carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireError {
    /// The errno, when the backend (or the kernel behind it) answered one.
    pub errno: Option<i32>,
    /// The error's kind.
    pub kind: WireErrorKind,
    /// The backend's message.
    pub message: String,
}

impl WireError {
    /// The wire form of a backend's error.
    pub fn from_io(err: &io::Error) -> Self {
        WireError {
            errno: err.raw_os_error(),
            kind: err.kind().into(),
            message: err.to_string(),
        }
    }

    /// The error a caller gets: with an errno, exactly `io::Error::from_raw_os_error(errno)`,
    /// as the backend gave it; without, an error of the same kind carrying
    /// [`ProxyError::Remote`] with the backend's message.
    pub fn into_io(self, op: &'static str) -> io::Error {
        match self.errno {
            Some(errno) => io::Error::from_raw_os_error(errno),
            None => io::Error::new(
                self.kind.into(),
                ProxyError::Remote {
                    op,
                    message: self.message,
                },
            ),
        }
    }
}

/// One reply line: the answer or the error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Reply {
    /// The call succeeded.
    Ok(Answer),
    /// The call failed.
    Err(WireError),
}

impl Reply {
    /// The reply to a call that returned `result`.
    pub fn from_result(result: io::Result<Answer>) -> Reply {
        match result {
            Ok(answer) => Reply::Ok(answer),
            Err(e) => Reply::Err(WireError::from_io(&e)),
        }
    }

    /// Parses one reply line (a trailing `\n` is allowed).
    pub fn parse_line(line: &[u8]) -> Result<Reply, serde_json::Error> {
        serde_json::from_slice(strip_newline(line))
    }

    /// The reply as one line, `\n` included.
    pub fn emit_line(&self) -> Result<Vec<u8>, ProxyError> {
        let mut line = serde_json::to_vec(self).map_err(|source| ProxyError::Encode {
            what: "reply",
            source,
        })?;
        line.push(b'\n');
        Ok(line)
    }
}

fn strip_newline(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_requests_are_typed_errors() {
        for bad in [
            &b""[..],
            b"\n",
            b"{}",
            b"null",
            b"[1,2]",
            b"{\"op\":\"nope\"}",
            b"{\"op\":\"links\"}",
            b"{\"op\":\"links\",\"ns\":\"Host\",\"extra\":1}",
            b"{\"op\":\"set_link_mtu\",\"ns\":\"Host\",\"name\":\"a\",\"mtu\":-1}",
            b"{\"op\":\"set_vf_vlan\",\"pf\":\"a\",\"vf\":1,\"vlan\":{\"id\":5000,\"qos\":0,\"proto\":\"802.1q\"}}",
            b"{\"op\":\"set_link_mac\",\"ns\":\"Host\",\"name\":\"a\",\"mac\":\"zz\"}",
            b"\xff\xfe",
            b"{\"op\":\"links\",\"ns\":\"Host\"}{\"op\":\"links\",\"ns\":\"Host\"}",
        ] {
            assert!(
                matches!(
                    Request::parse_line(bad),
                    Err(ProxyError::DecodeRequest { .. })
                ),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = vec![b' '; MAX_REQUEST_LINE + 1];
        assert!(matches!(
            Request::parse_line(&long),
            Err(ProxyError::RequestTooLong { .. })
        ));
    }

    #[test]
    fn an_errno_comes_back_as_the_same_io_error() {
        for errno in [libc::EBUSY, libc::EINVAL, libc::ENOENT, libc::EOPNOTSUPP] {
            let err = io::Error::from_raw_os_error(errno);
            let back = WireError::from_io(&err).into_io("write");
            assert_eq!(back.raw_os_error(), Some(errno));
            assert_eq!(back.kind(), err.kind());
            assert_eq!(back.to_string(), err.to_string());
        }
        let refused = io::Error::new(io::ErrorKind::InvalidInput, "sysfs path with '..'");
        let back = WireError::from_io(&refused).into_io("read");
        assert_eq!(back.raw_os_error(), None);
        assert_eq!(back.kind(), io::ErrorKind::InvalidInput);
        assert!(back.to_string().contains("sysfs path with '..'"), "{back}");
    }
}
