//! nldev messages and their framing, with no I/O: a [`Request`] becomes bytes, a datagram from
//! the kernel becomes the [`Reply`]s it holds, each message a [`Message`] of [`Attr`]s.
//!
//! An nldev message is a netlink header whose type is `RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, op)`
//! followed directly by attributes (no family header), as `rdma_netlink.h` defines it.
//!
//! ```
//! use rdma_nl::wire::{self, Attr, Command, Message, Reply};
//!
//! // the kernel's answer to RDMA_NLDEV_CMD_SYS_GET number 7: the mode, shared (1)
//! let answer = Message { command: Command::SysGet, flags: 0, attrs: vec![Attr::NetnsMode(1)] };
//! let bytes = answer.emit(7);
//! assert_eq!(wire::decode(&bytes, 7, "RDMA_NLDEV_CMD_SYS_GET").unwrap(), vec![Reply::Message(answer)]);
//! ```

use crate::Error;

/// `NETLINK_RDMA`, the netlink protocol number of the RDMA subsystem.
pub const NETLINK_RDMA: isize = 20;
/// `RDMA_NL_NLDEV`: the RDMA netlink client of the device interface.
pub const RDMA_NL_NLDEV: u16 = 5;
/// Length of `struct nlmsghdr`.
pub const HEADER_LEN: usize = 16;
/// Length of `struct nlattr`.
pub const ATTR_HEADER_LEN: usize = 4;

/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_MULTI`: one part of a multipart (dump) answer.
pub const NLM_F_MULTI: u16 = 0x2;
/// `NLM_F_ACK`.
pub const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
pub const NLM_F_DUMP: u16 = 0x300;

const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;

/// An nldev command (`enum rdma_nldev_command`), the low 10 bits of the message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// `RDMA_NLDEV_CMD_GET` (1): one device, or a dump of all.
    Get,
    /// `RDMA_NLDEV_CMD_SET` (2): rename, move to a namespace, ...
    Set,
    /// `RDMA_NLDEV_CMD_PORT_GET` (5): one port, or a dump of all.
    PortGet,
    /// `RDMA_NLDEV_CMD_SYS_GET` (6): the system's settings.
    SysGet,
    /// `RDMA_NLDEV_CMD_SYS_SET` (7): change one of them.
    SysSet,
    /// Any other operation number.
    Other(u16),
}

impl Command {
    /// The operation number.
    pub fn op(self) -> u16 {
        match self {
            Command::Get => 1,
            Command::Set => 2,
            Command::PortGet => 5,
            Command::SysGet => 6,
            Command::SysSet => 7,
            Command::Other(op) => op,
        }
    }

    /// The command of operation number `op` (only the low 10 bits count).
    pub fn from_op(op: u16) -> Command {
        match op & 0x3ff {
            1 => Command::Get,
            2 => Command::Set,
            5 => Command::PortGet,
            6 => Command::SysGet,
            7 => Command::SysSet,
            other => Command::Other(other),
        }
    }

    /// The netlink message type: `RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, op)`.
    pub fn message_type(self) -> u16 {
        (RDMA_NL_NLDEV << 10) + (self.op() & 0x3ff)
    }
}

/// `RDMA_NLDEV_ATTR_DEV_INDEX`.
pub const ATTR_DEV_INDEX: u16 = 1;
/// `RDMA_NLDEV_ATTR_DEV_NAME`.
pub const ATTR_DEV_NAME: u16 = 2;
/// `RDMA_NLDEV_ATTR_PORT_INDEX`.
pub const ATTR_PORT_INDEX: u16 = 3;
/// `RDMA_NLDEV_ATTR_FW_VERSION`.
pub const ATTR_FW_VERSION: u16 = 5;
/// `RDMA_NLDEV_ATTR_NODE_GUID`.
pub const ATTR_NODE_GUID: u16 = 6;
/// `RDMA_NLDEV_ATTR_PORT_STATE`.
pub const ATTR_PORT_STATE: u16 = 12;
/// `RDMA_NLDEV_ATTR_PORT_PHYS_STATE`.
pub const ATTR_PORT_PHYS_STATE: u16 = 13;
/// `RDMA_NLDEV_ATTR_NDEV_INDEX`.
pub const ATTR_NDEV_INDEX: u16 = 50;
/// `RDMA_NLDEV_ATTR_NDEV_NAME`.
pub const ATTR_NDEV_NAME: u16 = 51;
/// `RDMA_NLDEV_SYS_ATTR_NETNS_MODE`.
pub const ATTR_NETNS_MODE: u16 = 66;
/// `RDMA_NLDEV_ATTR_DEV_PROTOCOL`.
pub const ATTR_DEV_PROTOCOL: u16 = 67;
/// `RDMA_NLDEV_NET_NS_FD`.
pub const ATTR_NET_NS_FD: u16 = 68;
/// `RDMA_NLDEV_SYS_ATTR_COPY_ON_FORK`.
pub const ATTR_COPY_ON_FORK: u16 = 93;

/// One nldev attribute (`enum rdma_nldev_attr`): the ones this crate reads or writes, typed,
/// and any other kept as its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attr {
    /// `RDMA_NLDEV_ATTR_DEV_INDEX` (u32): the device's index.
    DevIndex(u32),
    /// `RDMA_NLDEV_ATTR_DEV_NAME` (string): `mlx5_0`.
    DevName(String),
    /// `RDMA_NLDEV_ATTR_PORT_INDEX` (u32): in a device message the number of ports, in a port
    /// message the port's number (from 1).
    PortIndex(u32),
    /// `RDMA_NLDEV_ATTR_FW_VERSION` (string).
    FwVersion(String),
    /// `RDMA_NLDEV_ATTR_NODE_GUID` (u64, host byte order).
    NodeGuid(u64),
    /// `RDMA_NLDEV_ATTR_PORT_STATE` (u8, `IB_PORT_*`: 4 is ACTIVE).
    PortState(u8),
    /// `RDMA_NLDEV_ATTR_PORT_PHYS_STATE` (u8: 5 is LINK_UP).
    PortPhysState(u8),
    /// `RDMA_NLDEV_ATTR_NDEV_INDEX` (u32): the ifindex of the port's netdev.
    NdevIndex(u32),
    /// `RDMA_NLDEV_ATTR_NDEV_NAME` (string): the port's netdev.
    NdevName(String),
    /// `RDMA_NLDEV_SYS_ATTR_NETNS_MODE` (u8): 1 shared, 0 exclusive.
    NetnsMode(u8),
    /// `RDMA_NLDEV_ATTR_DEV_PROTOCOL` (string): `roce`, `ib`, `iw`...
    DevProtocol(String),
    /// `RDMA_NLDEV_NET_NS_FD` (u32): a namespace file descriptor of the sender.
    NetNsFd(u32),
    /// `RDMA_NLDEV_SYS_ATTR_COPY_ON_FORK` (u8).
    CopyOnFork(u8),
    /// Any other attribute: its type (flag bits cleared) and payload.
    Other {
        /// The attribute type.
        kind: u16,
        /// Its payload.
        value: Vec<u8>,
    },
}

impl Attr {
    /// The attribute type.
    pub fn kind(&self) -> u16 {
        match self {
            Attr::DevIndex(_) => ATTR_DEV_INDEX,
            Attr::DevName(_) => ATTR_DEV_NAME,
            Attr::PortIndex(_) => ATTR_PORT_INDEX,
            Attr::FwVersion(_) => ATTR_FW_VERSION,
            Attr::NodeGuid(_) => ATTR_NODE_GUID,
            Attr::PortState(_) => ATTR_PORT_STATE,
            Attr::PortPhysState(_) => ATTR_PORT_PHYS_STATE,
            Attr::NdevIndex(_) => ATTR_NDEV_INDEX,
            Attr::NdevName(_) => ATTR_NDEV_NAME,
            Attr::NetnsMode(_) => ATTR_NETNS_MODE,
            Attr::DevProtocol(_) => ATTR_DEV_PROTOCOL,
            Attr::NetNsFd(_) => ATTR_NET_NS_FD,
            Attr::CopyOnFork(_) => ATTR_COPY_ON_FORK,
            Attr::Other { kind, .. } => *kind,
        }
    }

    /// The payload: integers in host byte order, strings NUL-terminated (as the kernel's
    /// `nla_put_string`).
    fn payload(&self) -> Vec<u8> {
        match self {
            Attr::DevIndex(v) | Attr::PortIndex(v) | Attr::NdevIndex(v) | Attr::NetNsFd(v) => {
                v.to_ne_bytes().to_vec()
            }
            Attr::NodeGuid(v) => v.to_ne_bytes().to_vec(),
            Attr::PortState(v)
            | Attr::PortPhysState(v)
            | Attr::NetnsMode(v)
            | Attr::CopyOnFork(v) => {
                vec![*v]
            }
            Attr::DevName(s) | Attr::FwVersion(s) | Attr::NdevName(s) | Attr::DevProtocol(s) => {
                let mut b = s.as_bytes().to_vec();
                b.push(0);
                b
            }
            Attr::Other { value, .. } => value.clone(),
        }
    }

    /// Appends the attribute, padded to 4 bytes, to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let payload = self.payload();
        let len = ATTR_HEADER_LEN + payload.len();
        // nla_len is 16 bits: a payload that cannot be said is cut (no attribute this crate
        // builds comes near 64 KiB)
        out.extend((len.min(usize::from(u16::MAX)) as u16).to_ne_bytes());
        out.extend(self.kind().to_ne_bytes());
        out.extend(&payload[..payload.len().min(usize::from(u16::MAX) - ATTR_HEADER_LEN)]);
        out.resize(align4(out.len()), 0);
    }

    /// Parses the payload of an attribute of type `kind` (flag bits already cleared).
    fn parse(kind: u16, value: &[u8], request: &'static str) -> Result<Attr, Error> {
        let bad = || Error::BadAttribute {
            request,
            kind,
            length: value.len(),
        };
        let u8_ = || match value {
            [v] => Ok(*v),
            _ => Err(bad()),
        };
        let u32_ = || {
            <[u8; 4]>::try_from(value)
                .map(u32::from_ne_bytes)
                .map_err(|_| bad())
        };
        let string = || {
            let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
            std::str::from_utf8(&value[..end])
                .map(str::to_string)
                .map_err(|_| bad())
        };
        Ok(match kind {
            ATTR_DEV_INDEX => Attr::DevIndex(u32_()?),
            ATTR_DEV_NAME => Attr::DevName(string()?),
            ATTR_PORT_INDEX => Attr::PortIndex(u32_()?),
            ATTR_FW_VERSION => Attr::FwVersion(string()?),
            ATTR_NODE_GUID => Attr::NodeGuid(
                <[u8; 8]>::try_from(value)
                    .map(u64::from_ne_bytes)
                    .map_err(|_| bad())?,
            ),
            ATTR_PORT_STATE => Attr::PortState(u8_()?),
            ATTR_PORT_PHYS_STATE => Attr::PortPhysState(u8_()?),
            ATTR_NDEV_INDEX => Attr::NdevIndex(u32_()?),
            ATTR_NDEV_NAME => Attr::NdevName(string()?),
            ATTR_NETNS_MODE => Attr::NetnsMode(u8_()?),
            ATTR_DEV_PROTOCOL => Attr::DevProtocol(string()?),
            ATTR_NET_NS_FD => Attr::NetNsFd(u32_()?),
            ATTR_COPY_ON_FORK => Attr::CopyOnFork(u8_()?),
            kind => Attr::Other {
                kind,
                value: value.to_vec(),
            },
        })
    }
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Parses a run of attributes (a message body). Never panics, whatever the bytes; trailing
/// bytes shorter than an attribute header are ignored, as the kernel's `nla_parse` does.
pub fn parse_attrs(mut bytes: &[u8], request: &'static str) -> Result<Vec<Attr>, Error> {
    let mut out = Vec::new();
    while bytes.len() >= ATTR_HEADER_LEN {
        let len = usize::from(u16::from_ne_bytes([bytes[0], bytes[1]]));
        // NLA_F_NESTED and NLA_F_NET_BYTEORDER are flags, not part of the type
        let kind = u16::from_ne_bytes([bytes[2], bytes[3]]) & 0x3fff;
        if len < ATTR_HEADER_LEN || len > bytes.len() {
            return Err(Error::BadAttribute {
                request,
                kind,
                length: len,
            });
        }
        out.push(Attr::parse(kind, &bytes[ATTR_HEADER_LEN..len], request)?);
        bytes = &bytes[align4(len).min(bytes.len())..];
    }
    Ok(out)
}

/// One nldev message: its command, `NLM_F_*` flags and attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The command (from the message type).
    pub command: Command,
    /// `NLM_F_*` flags.
    pub flags: u16,
    /// The attributes, in order.
    pub attrs: Vec<Attr>,
}

impl Message {
    /// The message's bytes with sequence number `seq` and port id 0 (the kernel's).
    pub fn emit(&self, seq: u32) -> Vec<u8> {
        let mut out = vec![0u8; HEADER_LEN];
        for attr in &self.attrs {
            attr.emit(&mut out);
        }
        let len = u32::try_from(out.len()).unwrap_or(u32::MAX);
        out[0..4].copy_from_slice(&len.to_ne_bytes());
        out[4..6].copy_from_slice(&self.command.message_type().to_ne_bytes());
        out[6..8].copy_from_slice(&self.flags.to_ne_bytes());
        out[8..12].copy_from_slice(&seq.to_ne_bytes());
        out
    }

    /// The first attribute `pick` accepts.
    pub fn find<T>(&self, pick: impl FnMut(&Attr) -> Option<T>) -> Option<T> {
        self.attrs.iter().find_map(pick)
    }
}

/// One request: the message and its name for errors (`RDMA_NLDEV_CMD_SET`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The message (its flags include `NLM_F_REQUEST`).
    pub message: Message,
    /// What errors call it.
    pub name: &'static str,
}

impl Request {
    /// A request the kernel acknowledges: `NLM_F_REQUEST | NLM_F_ACK`, as `rdma` sends each.
    pub fn acked(command: Command, attrs: Vec<Attr>, name: &'static str) -> Request {
        Request {
            message: Message {
                command,
                flags: NLM_F_REQUEST | NLM_F_ACK,
                attrs,
            },
            name,
        }
    }

    /// A dump: `NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP`, as `rdma` sends it (the kernel ends a
    /// dump with `NLMSG_DONE`, not an acknowledgement).
    pub fn dump(command: Command, name: &'static str) -> Request {
        Request {
            message: Message {
                command,
                flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP,
                attrs: Vec::new(),
            },
            name,
        }
    }

    /// True for a dump.
    pub fn is_dump(&self) -> bool {
        self.message.flags & NLM_F_DUMP == NLM_F_DUMP
    }

    /// True when the kernel acknowledges the request (and it is no dump).
    pub fn is_acked(&self) -> bool {
        !self.is_dump() && self.message.flags & NLM_F_ACK == NLM_F_ACK
    }

    /// The request's bytes with sequence number `seq`.
    pub fn encode(&self, seq: u32) -> Vec<u8> {
        self.message.emit(seq)
    }
}

/// One message of a reply to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// An nldev message (one per object in a dump).
    Message(Message),
    /// The end of a dump.
    Done,
    /// The request succeeded (`NLMSG_ERROR` with code 0).
    Ack,
    /// The request failed with this (positive) errno.
    Failed(i32),
}

/// Splits one datagram into the replies to request `seq`; messages with another sequence
/// number are skipped. `request` names the request in errors. Never panics, whatever the bytes.
pub fn decode(datagram: &[u8], seq: u32, request: &'static str) -> Result<Vec<Reply>, Error> {
    let mut out = Vec::new();
    let mut offset = 0;
    while datagram.len().saturating_sub(offset) >= HEADER_LEN {
        let rest = &datagram[offset..];
        let length = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if length < HEADER_LEN || length > rest.len() {
            return Err(Error::BadLength {
                request,
                offset,
                length,
            });
        }
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        let flags = u16::from_ne_bytes([rest[6], rest[7]]);
        let msg_seq = u32::from_ne_bytes([rest[8], rest[9], rest[10], rest[11]]);
        let body = &rest[HEADER_LEN..length];
        offset += align4(length);
        if msg_seq != seq {
            continue;
        }
        let code = || {
            body.get(0..4)
                .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or(Error::BadLength {
                    request,
                    offset: offset - align4(length),
                    length,
                })
        };
        out.push(match kind {
            NLMSG_NOOP | NLMSG_OVERRUN => continue,
            NLMSG_ERROR => match code()? {
                0 => Reply::Ack,
                code => Reply::Failed(code.saturating_abs()),
            },
            // a dump's end; its code is negative when the dump failed
            NLMSG_DONE => match body.len() {
                0..4 => Reply::Done,
                _ => match code()? {
                    0.. => Reply::Done,
                    code => Reply::Failed(code.saturating_abs()),
                },
            },
            _ => Reply::Message(Message {
                command: Command::from_op(kind),
                flags,
                attrs: parse_attrs(body, request)?,
            }),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(len: u32, kind: u16, flags: u16, seq: u32) -> Vec<u8> {
        let mut b = len.to_ne_bytes().to_vec();
        b.extend(kind.to_ne_bytes());
        b.extend(flags.to_ne_bytes());
        b.extend(seq.to_ne_bytes());
        b.extend(0u32.to_ne_bytes());
        b
    }

    #[test]
    fn the_message_type_is_the_nldev_client_and_the_op() {
        assert_eq!(Command::Get.message_type(), 0x1401);
        assert_eq!(Command::SysSet.message_type(), 0x1407);
        assert_eq!(Command::from_op(0x1402), Command::Set);
        assert_eq!(Command::from_op(0x1409), Command::Other(9));
        assert_eq!(Command::Other(9).message_type(), 0x1409);
    }

    #[test]
    fn errors_acks_and_the_end_of_a_dump() {
        let mut d = header(36, NLMSG_ERROR, 0, 4);
        d.extend((-libc::EBUSY).to_ne_bytes());
        d.extend(header(16, 0x1407, 5, 4));
        d.extend(header(36, NLMSG_ERROR, 0x100, 4));
        d.extend(0i32.to_ne_bytes());
        d.extend(header(16, 0x1407, 5, 4));
        d.extend(header(20, NLMSG_DONE, NLM_F_MULTI, 4));
        d.extend(0i32.to_ne_bytes());
        d.extend(header(20, NLMSG_DONE, NLM_F_MULTI, 4));
        d.extend((-libc::EINVAL).to_ne_bytes());
        // another request's answer and a NOOP are skipped
        d.extend(header(16, NLMSG_DONE, 0, 3));
        d.extend(header(16, NLMSG_NOOP, 0, 4));
        assert_eq!(
            decode(&d, 4, "test").unwrap(),
            vec![
                Reply::Failed(libc::EBUSY),
                Reply::Ack,
                Reply::Done,
                Reply::Failed(libc::EINVAL)
            ]
        );
    }

    #[test]
    fn impossible_lengths_are_errors() {
        let mut d = header(200, 0x1401, 0, 1);
        assert!(matches!(
            decode(&d, 1, "t"),
            Err(Error::BadLength { length: 200, .. })
        ));
        d[0..4].copy_from_slice(&4u32.to_ne_bytes());
        assert!(matches!(
            decode(&d, 1, "t"),
            Err(Error::BadLength { length: 4, .. })
        ));
        // an NLMSG_ERROR too short for its code
        let d = header(16, NLMSG_ERROR, 0, 1);
        assert!(matches!(decode(&d, 1, "t"), Err(Error::BadLength { .. })));
        // an attribute longer than its message, and a u32 of 2 bytes
        let mut d = header(24, 0x1401, 0, 1);
        d.extend([40, 0, 1, 0, 0, 0, 0, 0]);
        assert!(matches!(
            decode(&d, 1, "t"),
            Err(Error::BadAttribute {
                kind: 1,
                length: 40,
                ..
            })
        ));
        let mut d = header(24, 0x1401, 0, 1);
        d.extend([6, 0, 1, 0, 7, 0, 0, 0]);
        assert!(matches!(
            decode(&d, 1, "t"),
            Err(Error::BadAttribute {
                kind: 1,
                length: 2,
                ..
            })
        ));
        assert_eq!(decode(&[1, 2, 3], 1, "t").unwrap(), vec![]);
    }

    #[test]
    fn unknown_attributes_and_flag_bits_are_kept_apart() {
        let mut d = header(32, 0x1401, 0, 1);
        // RDMA_NLDEV_ATTR_DEV_INDEX with NLA_F_NET_BYTEORDER set, then attribute 99
        d.extend([8, 0, 1, 0x40, 9, 0, 0, 0]);
        d.extend([5, 0, 99, 0, 0xab, 0, 0, 0]);
        let Reply::Message(m) = &decode(&d, 1, "t").unwrap()[0] else {
            panic!("no message")
        };
        assert_eq!(
            m.attrs,
            vec![
                Attr::DevIndex(9),
                Attr::Other {
                    kind: 99,
                    value: vec![0xab]
                }
            ]
        );
    }

    fn known_kinds() -> [u16; 13] {
        [
            ATTR_DEV_INDEX,
            ATTR_DEV_NAME,
            ATTR_PORT_INDEX,
            ATTR_FW_VERSION,
            ATTR_NODE_GUID,
            ATTR_PORT_STATE,
            ATTR_PORT_PHYS_STATE,
            ATTR_NDEV_INDEX,
            ATTR_NDEV_NAME,
            ATTR_NETNS_MODE,
            ATTR_DEV_PROTOCOL,
            ATTR_NET_NS_FD,
            ATTR_COPY_ON_FORK,
        ]
    }

    fn attr() -> impl Strategy<Value = Attr> {
        let name = "[a-z0-9_.]{0,20}";
        prop_oneof![
            any::<u32>().prop_map(Attr::DevIndex),
            name.prop_map(Attr::DevName),
            any::<u32>().prop_map(Attr::PortIndex),
            name.prop_map(Attr::FwVersion),
            any::<u64>().prop_map(Attr::NodeGuid),
            any::<u8>().prop_map(Attr::PortState),
            any::<u8>().prop_map(Attr::PortPhysState),
            any::<u32>().prop_map(Attr::NdevIndex),
            name.prop_map(Attr::NdevName),
            any::<u8>().prop_map(Attr::NetnsMode),
            name.prop_map(Attr::DevProtocol),
            any::<u32>().prop_map(Attr::NetNsFd),
            any::<u8>().prop_map(Attr::CopyOnFork),
            (0u16..0x3fff, proptest::collection::vec(any::<u8>(), 0..24))
                .prop_filter("a known type parses as itself", |(k, _)| !known_kinds()
                    .contains(k))
                .prop_map(|(kind, value)| Attr::Other { kind, value }),
        ]
    }

    fn command() -> impl Strategy<Value = Command> {
        (0u16..0x400).prop_map(Command::from_op)
    }

    proptest! {
        #[test]
        fn messages_round_trip(command in command(), flags: u16, seq: u32,
                               attrs in proptest::collection::vec(attr(), 0..12)) {
            // NLMSG_NOOP..NLMSG_OVERRUN are netlink's own types, never nldev's
            let message = Message { command, flags, attrs };
            let bytes = message.emit(seq);
            prop_assert_eq!(bytes.len() % 4, 0);
            prop_assert_eq!(decode(&bytes, seq, "p").unwrap(), vec![Reply::Message(message)]);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512), seq: u32) {
            let _ = decode(&bytes, seq, "fuzz");
        }

        #[test]
        fn decode_never_panics_on_framed_garbage(body in proptest::collection::vec(any::<u8>(), 0..256),
                                                 kind in prop_oneof![0u16..8, 0x1400u16..0x1420]) {
            let mut bytes = header((HEADER_LEN + body.len()) as u32, kind, 0, 1);
            bytes.extend(&body);
            let _ = decode(&bytes, 1, "fuzz");
        }
    }
}
