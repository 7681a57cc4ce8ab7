//! The options of a message as typed fields, and the strict walk over the raw option bytes that
//! runs before anything is handed to `dhcproto`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::types::{ClientId, Route};
use crate::error::Error;

/// Option codes this crate names.
pub mod code {
    /// Pad.
    pub const PAD: u8 = 0;
    /// Subnet mask.
    pub const SUBNET_MASK: u8 = 1;
    /// Routers.
    pub const ROUTER: u8 = 3;
    /// Domain name servers.
    pub const DNS: u8 = 6;
    /// Host name.
    pub const HOSTNAME: u8 = 12;
    /// Domain name.
    pub const DOMAIN_NAME: u8 = 15;
    /// Broadcast address.
    pub const BROADCAST: u8 = 28;
    /// Requested IP address.
    pub const REQUESTED_IP: u8 = 50;
    /// IP address lease time.
    pub const LEASE_TIME: u8 = 51;
    /// Option overload (sname/file carry options; not interpreted here).
    pub const OVERLOAD: u8 = 52;
    /// DHCP message type.
    pub const MESSAGE_TYPE: u8 = 53;
    /// Server identifier.
    pub const SERVER_ID: u8 = 54;
    /// Parameter request list.
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    /// Message (error text).
    pub const MESSAGE: u8 = 56;
    /// Maximum DHCP message size.
    pub const MAX_MESSAGE_SIZE: u8 = 57;
    /// Renewal (T1) time.
    pub const RENEWAL_TIME: u8 = 58;
    /// Rebinding (T2) time.
    pub const REBINDING_TIME: u8 = 59;
    /// Client identifier.
    pub const CLIENT_ID: u8 = 61;
    /// Relay agent information (RFC 3046).
    pub const RELAY_AGENT_INFO: u8 = 82;
    /// Classless static routes (RFC 3442).
    pub const CLASSLESS_ROUTES: u8 = 121;
    /// End.
    pub const END: u8 = 255;
}

/// The lease time value meaning "infinite" (option 51).
pub const INFINITE_LEASE: u32 = u32::MAX;

/// The options of a DHCPv4 message (everything but the message type, which
/// [`Message`](super::Message) holds). Empty lists mean "absent".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// 1: subnet mask.
    pub subnet_mask: Option<Ipv4Addr>,
    /// 3: routers, in order of preference. Ignored by clients when
    /// [`classless_routes`](Self::classless_routes) is present (RFC 3442).
    pub routers: Vec<Ipv4Addr>,
    /// 6: DNS servers.
    pub dns_servers: Vec<Ipv4Addr>,
    /// 12: host name.
    pub hostname: Option<String>,
    /// 15: domain name.
    pub domain_name: Option<String>,
    /// 28: broadcast address.
    pub broadcast_addr: Option<Ipv4Addr>,
    /// 50: requested IP address.
    pub requested_ip: Option<Ipv4Addr>,
    /// 51: lease time in seconds ([`INFINITE_LEASE`] for infinite).
    pub lease_time: Option<u32>,
    /// 54: server identifier.
    pub server_id: Option<Ipv4Addr>,
    /// 55: parameter request list.
    pub parameter_request_list: Vec<u8>,
    /// 56: message (a server's reason for a NAK, a client's for a DECLINE).
    pub message: Option<String>,
    /// 57: maximum DHCP message size.
    pub max_message_size: Option<u16>,
    /// 58: renewal time T1 in seconds.
    pub renewal_time: Option<u32>,
    /// 59: rebinding time T2 in seconds.
    pub rebinding_time: Option<u32>,
    /// 61: client identifier.
    pub client_id: Option<ClientId>,
    /// 121: classless static routes. Empty means absent.
    pub classless_routes: Vec<Route>,
    /// 82: relay agent information, raw (servers echo it back to the relay).
    pub relay_agent_info: Option<Vec<u8>>,
    /// Every other option, raw, by code (values of repeated options concatenated, RFC 3396).
    pub other: BTreeMap<u8, Vec<u8>>,
}

impl Options {
    /// The routers a client should use: the default routes of option 121 when it is present
    /// (RFC 3442: then option 3 is ignored), else option 3.
    pub fn effective_routers(&self) -> Vec<Ipv4Addr> {
        if self.classless_routes.is_empty() {
            self.routers.clone()
        } else {
            self.classless_routes
                .iter()
                .filter(|r| r.is_default() && !r.gateway.is_unspecified())
                .map(|r| r.gateway)
                .collect()
        }
    }
}

/// Codes that are decoded into typed fields through `dhcproto`.
pub(crate) fn is_typed(code: u8) -> bool {
    use code::*;
    matches!(
        code,
        SUBNET_MASK
            | ROUTER
            | DNS
            | HOSTNAME
            | DOMAIN_NAME
            | BROADCAST
            | REQUESTED_IP
            | LEASE_TIME
            | MESSAGE_TYPE
            | SERVER_ID
            | PARAMETER_REQUEST_LIST
            | MESSAGE
            | MAX_MESSAGE_SIZE
            | RENEWAL_TIME
            | REBINDING_TIME
            | CLIENT_ID
            | CLASSLESS_ROUTES
    )
}

/// Walks the raw option area: every option's length must fit in the buffer; repeated options
/// are concatenated in order of first appearance (RFC 3396). Stops at End; a missing End is
/// tolerated (the area ends with the packet).
pub(crate) fn walk(area: &[u8]) -> Result<Vec<(u8, Vec<u8>)>, Error> {
    let mut out: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut i = 0usize;
    while i < area.len() {
        let code = area[i];
        match code {
            code::PAD => {
                i += 1;
                continue;
            }
            code::END => break,
            _ => {}
        }
        let Some(&len) = area.get(i + 1) else {
            return Err(Error::MalformedOption {
                code,
                reason: "truncated: no length byte".into(),
            });
        };
        let start = i + 2;
        let end = start + len as usize;
        let Some(value) = area.get(start..end) else {
            return Err(Error::MalformedOption {
                code,
                reason: format!(
                    "length {len} runs past the end of the packet ({} bytes left)",
                    area.len() - start.min(area.len())
                ),
            });
        };
        match out.iter_mut().find(|(c, _)| *c == code) {
            Some((_, v)) => v.extend_from_slice(value),
            None => out.push((code, value.to_vec())),
        }
        i = end;
    }
    Ok(out)
}

fn bad(code: u8, reason: impl Into<String>) -> Error {
    Error::MalformedOption {
        code,
        reason: reason.into(),
    }
}

fn exact(code: u8, v: &[u8], n: usize) -> Result<(), Error> {
    if v.len() != n {
        return Err(bad(code, format!("length {}, expected {n}", v.len())));
    }
    Ok(())
}

fn addr_list(code: u8, v: &[u8]) -> Result<(), Error> {
    if v.is_empty() || !v.len().is_multiple_of(4) {
        return Err(bad(
            code,
            format!("length {}, expected a non-zero multiple of 4", v.len()),
        ));
    }
    Ok(())
}

/// Text options: trailing NULs (some servers send them) are dropped, invalid UTF-8 is replaced.
fn text(v: &[u8]) -> Vec<u8> {
    let end = v.iter().rposition(|b| *b != 0).map_or(0, |p| p + 1);
    String::from_utf8_lossy(&v[..end]).into_owned().into_bytes()
}

/// Checks one typed option's value and returns it as `dhcproto` may safely decode it, or
/// `None` when the option is to be left out (an empty text option).
pub(crate) fn sanitize(code: u8, v: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    use code::*;
    match code {
        SUBNET_MASK | BROADCAST | REQUESTED_IP | SERVER_ID => exact(code, v, 4)?,
        LEASE_TIME | RENEWAL_TIME | REBINDING_TIME => exact(code, v, 4)?,
        MESSAGE_TYPE => exact(code, v, 1)?,
        MAX_MESSAGE_SIZE => exact(code, v, 2)?,
        ROUTER | DNS => addr_list(code, v)?,
        PARAMETER_REQUEST_LIST if v.is_empty() => return Err(bad(code, "empty")),
        CLIENT_ID if v.len() < 2 => {
            return Err(bad(
                code,
                format!("length {}, expected at least 2", v.len()),
            ));
        }
        HOSTNAME | DOMAIN_NAME | MESSAGE => {
            let t = text(v);
            if t.is_empty() {
                return Ok(None);
            }
            return Ok(Some(t));
        }
        CLASSLESS_ROUTES => {
            parse_classless_routes(v)?;
        }
        _ => {}
    }
    Ok(Some(v.to_vec()))
}

/// Parses option 121 strictly: every prefix length at most 32, every route complete, nothing
/// left over, non-empty.
pub(crate) fn parse_classless_routes(v: &[u8]) -> Result<Vec<Route>, Error> {
    let c = code::CLASSLESS_ROUTES;
    if v.is_empty() {
        return Err(bad(c, "empty"));
    }
    let mut routes = Vec::new();
    let mut i = 0usize;
    while i < v.len() {
        let plen = v[i];
        if plen > 32 {
            return Err(bad(c, format!("prefix length {plen} at byte {i}")));
        }
        let sig = (plen as usize).div_ceil(8);
        let Some(dest) = v.get(i + 1..i + 1 + sig) else {
            return Err(bad(c, format!("route at byte {i} truncated")));
        };
        let Some(gw) = v.get(i + 1 + sig..i + 5 + sig) else {
            return Err(bad(c, format!("route at byte {i} has no complete router")));
        };
        let mut d = [0u8; 4];
        d[..sig].copy_from_slice(dest);
        let net = Ipv4Net::new(Ipv4Addr::from(d), plen)
            .map_err(|_| bad(c, format!("prefix length {plen}")))?
            .trunc();
        routes.push(Route {
            dest: net,
            gateway: Ipv4Addr::new(gw[0], gw[1], gw[2], gw[3]),
        });
        i += 5 + sig;
    }
    Ok(routes)
}
