//! DHCPv4 messages for both ends of a lease, client and server: typed messages (RFC 2131/2132)
//! over `dhcproto`, a [`Message::parse`] / [`Message::emit`] pair, and the [`Time`] both count
//! leases in.
//!
//! Parsing never trusts a length: the fixed header, the magic cookie and every option's length
//! are checked by a strict walk over the raw bytes before `dhcproto` sees them, each option this
//! crate types (1, 3, 6, 12, 15, 28, 50, 51, 53-59, 61, 121) is validated, and only validated
//! options reach `dhcproto`'s decoder. Any malformed input is an [`Error`], never a panic.
//! Emitted messages are padded to 300 bytes (the BOOTP minimum that some relays and servers
//! still require), which `dhcproto` does not do by itself.
//!
//! Not interpreted: option overload (52; sname/file are kept as plain fields).
//!
//! ```
//! use std::net::Ipv4Addr;
//! use dhcp_codec::{ClientId, HwAddr, Message, MessageType};
//!
//! let mut discover = Message::new_request(
//!     MessageType::Discover,
//!     0x1234_5678,
//!     HwAddr::mac([2, 0, 0, 0, 0, 1]),
//! );
//! discover.options.client_id = Some(ClientId::from_mac([2, 0, 0, 0, 0, 1]));
//! discover.options.parameter_request_list = vec![1, 3, 6, 51, 54, 121];
//! let bytes = discover.emit().unwrap();
//! assert_eq!(bytes.len(), 300);
//!
//! let back = Message::parse(&bytes).unwrap();
//! assert_eq!(back, discover);
//! assert_eq!(back.ciaddr, Ipv4Addr::UNSPECIFIED);
//! ```

mod error;
mod options;
mod time;
mod types;

use std::net::Ipv4Addr;

use dhcproto::v4::{self, DhcpOption, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable, Encoder};

pub use error::{Error, Result};
pub use options::{INFINITE_LEASE, Options, code};
pub use time::Time;
pub use types::{ClientId, HwAddr, MessageType, Route, hex, parse_hex};

/// Length of the fixed BOOTP header before the magic cookie.
pub const HEADER_LEN: usize = 236;
/// The magic cookie that starts the options area.
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Emitted messages are padded with zeros to at least this many bytes.
pub const MIN_MESSAGE_LEN: usize = 300;
/// Emitted messages longer than this are refused (a 1500-byte MTU minus IP and UDP headers).
pub const MAX_MESSAGE_LEN: usize = 1472;
/// The server port.
pub const SERVER_PORT: u16 = 67;
/// The client port.
pub const CLIENT_PORT: u16 = 68;

/// BOOTP op code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// BOOTREQUEST (1): client to server.
    Request,
    /// BOOTREPLY (2): server to client.
    Reply,
}

/// A DHCPv4 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// BOOTREQUEST or BOOTREPLY.
    pub op: Op,
    /// Hardware type (1 = Ethernet).
    pub htype: u8,
    /// Relay hops.
    pub hops: u8,
    /// Transaction id.
    pub xid: u32,
    /// Seconds since the client began acquiring or renewing.
    pub secs: u16,
    /// The broadcast flag: the client cannot receive unicast before it has an address.
    pub broadcast: bool,
    /// Client address (set when the client holds one: RENEWING, REBINDING, RELEASE, INFORM).
    pub ciaddr: Ipv4Addr,
    /// "Your" address: the address offered or acknowledged.
    pub yiaddr: Ipv4Addr,
    /// Next server address.
    pub siaddr: Ipv4Addr,
    /// Relay agent address.
    pub giaddr: Ipv4Addr,
    /// Client hardware address.
    pub chaddr: HwAddr,
    /// Server host name field (trailing NULs dropped), if any.
    pub sname: Option<Vec<u8>>,
    /// Boot file name field (trailing NULs dropped), if any.
    pub file: Option<Vec<u8>>,
    /// The message type (option 53).
    pub message_type: MessageType,
    /// Every other option.
    pub options: Options,
}

impl Message {
    /// A BOOTREQUEST of type `message_type` from `chaddr` with transaction id `xid`, Ethernet
    /// hardware type, every address 0.0.0.0 and no options.
    pub fn new_request(message_type: MessageType, xid: u32, chaddr: HwAddr) -> Self {
        Message {
            op: Op::Request,
            htype: 1,
            hops: 0,
            xid,
            secs: 0,
            broadcast: false,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr,
            sname: None,
            file: None,
            message_type,
            options: Options::default(),
        }
    }

    /// A BOOTREPLY of type `message_type` answering `request`: the same xid, htype, chaddr,
    /// broadcast flag, giaddr and hops, the relay agent information echoed (RFC 3046), every
    /// other field empty. The server fills in yiaddr, its identifier and the options.
    ///
    /// ```
    /// use dhcp_codec::{HwAddr, Message, MessageType, Op};
    ///
    /// let discover = Message::new_request(MessageType::Discover, 7, HwAddr::mac([2, 0, 0, 0, 0, 9]));
    /// let offer = Message::new_reply(&discover, MessageType::Offer);
    /// assert_eq!((offer.op, offer.xid, offer.chaddr), (Op::Reply, 7, discover.chaddr));
    /// ```
    pub fn new_reply(request: &Message, message_type: MessageType) -> Self {
        let mut reply = Message::new_request(message_type, request.xid, request.chaddr);
        reply.op = Op::Reply;
        reply.htype = request.htype;
        reply.hops = request.hops;
        reply.broadcast = request.broadcast;
        reply.giaddr = request.giaddr;
        reply.options.relay_agent_info = request.options.relay_agent_info.clone();
        reply
    }

    /// Decodes a message from the UDP payload `bytes`.
    ///
    /// Fails (never panics) on anything shorter than the header and cookie, an op code other
    /// than 1 or 2, `hlen` above 16, a wrong magic cookie, an option whose length runs past the
    /// end, a typed option with a bad length or contents, or a missing message type (option
    /// 53: plain BOOTP is not supported).
    pub fn parse(bytes: &[u8]) -> Result<Message, Error> {
        if bytes.len() < HEADER_LEN + 4 {
            return Err(decode_err(format!(
                "{} bytes, shorter than the {}-byte header and magic cookie",
                bytes.len(),
                HEADER_LEN + 4
            )));
        }
        let op = match bytes[0] {
            1 => Op::Request,
            2 => Op::Reply,
            n => return Err(decode_err(format!("op code {n}, expected 1 or 2"))),
        };
        let hlen = bytes[2];
        if hlen > 16 {
            return Err(decode_err(format!("hlen {hlen}, more than 16")));
        }
        if bytes[HEADER_LEN..HEADER_LEN + 4] != MAGIC_COOKIE {
            return Err(decode_err("bad magic cookie".to_string()));
        }
        let raw = options::walk(&bytes[HEADER_LEN + 4..])?;

        // Rebuild a packet that holds only validated typed options; the rest stays raw.
        let mut clean = Vec::with_capacity(bytes.len().min(2048));
        clean.extend_from_slice(&bytes[..HEADER_LEN + 4]);
        let mut typed = Vec::new();
        let mut options = Options::default();
        for (code, value) in &raw {
            let code = *code;
            if options::is_typed(code) {
                if let Some(v) = options::sanitize(code, value)? {
                    push_option(&mut clean, code, &v);
                    typed.push(code);
                }
            } else if code == code::RELAY_AGENT_INFO {
                options.relay_agent_info = Some(value.clone());
            } else {
                options.other.insert(code, value.clone());
            }
        }
        clean.push(code::END);

        let msg = v4::Message::decode(&mut Decoder::new(&clean))
            .map_err(|e| decode_err(format!("header: {e}")))?;
        for code in &typed {
            if !msg.opts().contains(OptionCode::from(*code)) {
                return Err(Error::MalformedOption {
                    code: *code,
                    reason: "rejected by the option decoder".into(),
                });
            }
        }
        let mut message_type = None;
        for (_, opt) in msg.opts().iter() {
            match opt {
                DhcpOption::MessageType(t) => {
                    message_type = Some(MessageType::from_code(u8::from(*t)))
                }
                DhcpOption::SubnetMask(a) => options.subnet_mask = Some(*a),
                DhcpOption::Router(v) => options.routers = v.clone(),
                DhcpOption::DomainNameServer(v) => options.dns_servers = v.clone(),
                DhcpOption::Hostname(s) => options.hostname = Some(s.clone()),
                DhcpOption::DomainName(s) => options.domain_name = Some(s.clone()),
                DhcpOption::BroadcastAddr(a) => options.broadcast_addr = Some(*a),
                DhcpOption::RequestedIpAddress(a) => options.requested_ip = Some(*a),
                DhcpOption::AddressLeaseTime(t) => options.lease_time = Some(*t),
                DhcpOption::ServerIdentifier(a) => options.server_id = Some(*a),
                DhcpOption::ParameterRequestList(v) => {
                    options.parameter_request_list = v.iter().map(|c| u8::from(*c)).collect()
                }
                DhcpOption::Message(s) => options.message = Some(s.clone()),
                DhcpOption::MaxMessageSize(n) => options.max_message_size = Some(*n),
                DhcpOption::Renewal(t) => options.renewal_time = Some(*t),
                DhcpOption::Rebinding(t) => options.rebinding_time = Some(*t),
                DhcpOption::ClientIdentifier(v) => {
                    options.client_id =
                        Some(
                            ClientId::new(v.clone()).map_err(|_| Error::MalformedOption {
                                code: code::CLIENT_ID,
                                reason: "shorter than 2 bytes".into(),
                            })?,
                        )
                }
                DhcpOption::ClasslessStaticRoute(_) => {
                    // Taken from the strict parser: dhcproto keeps host bits as sent.
                    if let Some((_, v)) = raw.iter().find(|(c, _)| *c == code::CLASSLESS_ROUTES) {
                        options.classless_routes = options::parse_classless_routes(v)?;
                    }
                }
                _ => {}
            }
        }
        let message_type = message_type.ok_or_else(|| {
            decode_err("no message type (option 53): plain BOOTP is not supported".to_string())
        })?;
        let chaddr = HwAddr::from_slice(msg.chaddr())
            .ok_or_else(|| decode_err(format!("hlen {hlen}, more than 16")))?;
        Ok(Message {
            op,
            htype: bytes[1],
            hops: msg.hops(),
            xid: msg.xid(),
            secs: msg.secs(),
            broadcast: msg.flags().broadcast(),
            ciaddr: msg.ciaddr(),
            yiaddr: msg.yiaddr(),
            siaddr: msg.siaddr(),
            giaddr: msg.giaddr(),
            chaddr,
            sname: field(&bytes[44..108]),
            file: field(&bytes[108..236]),
            message_type,
            options,
        })
    }

    /// Encodes the message: header, magic cookie, options (message type and the typed options
    /// through `dhcproto`, then relay agent information and the raw ones, long values split per
    /// RFC 3396), End, and zero padding to [`MIN_MESSAGE_LEN`] bytes.
    ///
    /// Fails when a text option or `sname`/`file` is too long for its field, or the message
    /// would exceed [`MAX_MESSAGE_LEN`].
    pub fn emit(&self) -> Result<Vec<u8>, Error> {
        let mut buf = Vec::with_capacity(MIN_MESSAGE_LEN + 64);
        self.emit_into(&mut buf)?;
        Ok(buf)
    }

    /// Like [`emit`](Self::emit), into `buf` (cleared first), reusing its allocation.
    pub fn emit_into(&self, buf: &mut Vec<u8>) -> Result<(), Error> {
        buf.clear();
        let enc_err = |reason: String| Error::Encode {
            what: self.message_type.to_string(),
            reason,
        };
        for (name, f, max) in [("sname", &self.sname, 63), ("file", &self.file, 127)] {
            if let Some(v) = f
                && v.len() > max
            {
                return Err(enc_err(format!(
                    "{name} is {} bytes, at most {max}",
                    v.len()
                )));
            }
        }
        let mut msg = v4::Message::new_with_id(
            self.xid,
            self.ciaddr,
            self.yiaddr,
            self.siaddr,
            self.giaddr,
            self.chaddr.as_bytes(),
        );
        msg.set_opcode(match self.op {
            Op::Request => v4::Opcode::BootRequest,
            Op::Reply => v4::Opcode::BootReply,
        })
        .set_htype(v4::HType::from(self.htype))
        .set_hops(self.hops)
        .set_secs(self.secs)
        .set_flags(if self.broadcast {
            v4::Flags::default().set_broadcast()
        } else {
            v4::Flags::default()
        });
        if let Some(s) = &self.sname {
            msg.set_sname(s);
        }
        if let Some(f) = &self.file {
            msg.set_fname(f);
        }
        let o = &self.options;
        let opts = msg.opts_mut();
        opts.insert(DhcpOption::MessageType(v4::MessageType::from(
            self.message_type.code(),
        )));
        if let Some(a) = o.subnet_mask {
            opts.insert(DhcpOption::SubnetMask(a));
        }
        if !o.routers.is_empty() {
            opts.insert(DhcpOption::Router(o.routers.clone()));
        }
        if !o.dns_servers.is_empty() {
            opts.insert(DhcpOption::DomainNameServer(o.dns_servers.clone()));
        }
        for (code, s) in [
            (code::HOSTNAME, &o.hostname),
            (code::DOMAIN_NAME, &o.domain_name),
            (code::MESSAGE, &o.message),
        ] {
            let Some(s) = s else { continue };
            if s.is_empty() || s.len() > 255 {
                return Err(enc_err(format!(
                    "option {code} is {} bytes, expected 1 to 255",
                    s.len()
                )));
            }
            opts.insert(match code {
                code::HOSTNAME => DhcpOption::Hostname(s.clone()),
                code::DOMAIN_NAME => DhcpOption::DomainName(s.clone()),
                _ => DhcpOption::Message(s.clone()),
            });
        }
        if let Some(a) = o.broadcast_addr {
            opts.insert(DhcpOption::BroadcastAddr(a));
        }
        if let Some(a) = o.requested_ip {
            opts.insert(DhcpOption::RequestedIpAddress(a));
        }
        if let Some(t) = o.lease_time {
            opts.insert(DhcpOption::AddressLeaseTime(t));
        }
        if let Some(a) = o.server_id {
            opts.insert(DhcpOption::ServerIdentifier(a));
        }
        if !o.parameter_request_list.is_empty() {
            opts.insert(DhcpOption::ParameterRequestList(
                o.parameter_request_list
                    .iter()
                    .map(|c| OptionCode::from(*c))
                    .collect(),
            ));
        }
        if let Some(n) = o.max_message_size {
            opts.insert(DhcpOption::MaxMessageSize(n));
        }
        if let Some(t) = o.renewal_time {
            opts.insert(DhcpOption::Renewal(t));
        }
        if let Some(t) = o.rebinding_time {
            opts.insert(DhcpOption::Rebinding(t));
        }
        if let Some(id) = &o.client_id {
            opts.insert(DhcpOption::ClientIdentifier(id.as_bytes().to_vec()));
        }
        if !o.classless_routes.is_empty() {
            opts.insert(DhcpOption::ClasslessStaticRoute(
                o.classless_routes
                    .iter()
                    .map(|r| (r.dest.trunc(), r.gateway))
                    .collect(),
            ));
        }
        msg.encode(&mut Encoder::new(buf))
            .map_err(|e| enc_err(e.to_string()))?;
        // dhcproto ends the options with End; raw options go before it.
        if buf.last() == Some(&code::END) {
            buf.pop();
        }
        for (code, value) in o.other.iter() {
            if options::is_typed(*code)
                || matches!(*code, code::PAD | code::END | code::RELAY_AGENT_INFO)
            {
                return Err(enc_err(format!(
                    "option {code} cannot be sent as a raw option"
                )));
            }
            push_option(buf, *code, value);
        }
        // RFC 3046: relay agent information is the last option.
        if let Some(v) = &o.relay_agent_info {
            push_option(buf, code::RELAY_AGENT_INFO, v);
        }
        buf.push(code::END);
        if buf.len() > MAX_MESSAGE_LEN {
            return Err(enc_err(format!(
                "{} bytes, more than {MAX_MESSAGE_LEN}",
                buf.len()
            )));
        }
        if buf.len() < MIN_MESSAGE_LEN {
            buf.resize(MIN_MESSAGE_LEN, 0);
        }
        Ok(())
    }
}

fn decode_err(reason: String) -> Error {
    Error::Decode { reason }
}

/// A NUL-padded header field: `None` when empty, else the bytes before the first NUL.
fn field(raw: &[u8]) -> Option<Vec<u8>> {
    let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
    (end > 0).then(|| raw[..end].to_vec())
}

/// Appends one option, split into 255-byte pieces when longer (RFC 3396). An empty value is
/// written as a zero-length option.
fn push_option(buf: &mut Vec<u8>, code: u8, value: &[u8]) {
    if value.is_empty() {
        buf.extend_from_slice(&[code, 0]);
        return;
    }
    for chunk in value.chunks(255) {
        buf.push(code);
        buf.push(chunk.len() as u8);
        buf.extend_from_slice(chunk);
    }
}

#[cfg(test)]
mod tests;

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
