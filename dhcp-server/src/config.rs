//! The subset of ISC `dhcpd.conf` that the leaf switches use.
//!
//! Understood: `subnet A netmask M { ... }`, `range LOW [HIGH];`, `option routers`,
//! `option subnet-mask`, `option domain-name-servers`, `option domain-name`,
//! `option broadcast-address`, `option dhcp-client-identifier` (in hosts), `default-lease-time`,
//! `max-lease-time`, `host NAME { hardware ethernet MAC; fixed-address IP[, IP]; ... }` (at the
//! top level or inside a subnet), `authoritative;` / `not authoritative;`, and `#` comments.
//! A few statements that change nothing here (`ddns-update-style`, `ping-check`,
//! `log-facility`, ...) are accepted and ignored. Anything else is an error naming the file and
//! the line, as is every inconsistency (a range outside its subnet, overlapping subnets or
//! ranges, a MAC address or fixed address given twice).
//!
//! ```
//! use dhcp_server::ServerConfig;
//! let conf = ServerConfig::parse(
//!     "authoritative;\n\
//!      default-lease-time 600;\n\
//!      subnet 192.168.111.0 netmask 255.255.255.0 {\n\
//!        range 192.168.111.10 192.168.111.250;\n\
//!        option routers 192.168.111.1;\n\
//!      }\n",
//!     "leaf1.conf",
//! )
//! .unwrap();
//! assert_eq!(conf.subnets[0].prefix_len(), 24);
//! assert_eq!(conf.subnets[0].default_lease_time, 600);
//! let err = ServerConfig::parse("subnet 10.0.0.0 netmask 255.0.0.0 {\n range 11.0.0.1;\n}\n", "x.conf")
//!     .unwrap_err();
//! assert!(err.to_string().starts_with("x.conf:2:"), "{err}");
//! ```

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::conf_lex::{Token, TokenKind, tokenize};
use crate::error::Error;

/// ISC dhcpd's default for `default-lease-time` (12 hours).
pub const ISC_DEFAULT_LEASE_TIME: u32 = 43_200;
/// ISC dhcpd's default for `max-lease-time` (24 hours).
pub const ISC_MAX_LEASE_TIME: u32 = 86_400;

/// Most addresses all ranges together may hold (each costs the allocator a slot in memory).
pub const MAX_RANGE_ADDRESSES: u64 = 1 << 20;

/// Statements accepted and ignored (they configure things this server does not do).
const IGNORED: &[&str] = &[
    "ddns-update-style",
    "ddns-updates",
    "ping-check",
    "ping-timeout",
    "log-facility",
    "update-static-leases",
    "one-lease-per-client",
    "use-host-decl-names",
    "get-lease-hostnames",
    "update-conflict-detection",
    "server-name",
];

/// The options served to clients, as configured at one scope. `None` means "not set here".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionSet {
    /// `option routers` (3).
    pub routers: Option<Vec<Ipv4Addr>>,
    /// `option subnet-mask` (1).
    pub subnet_mask: Option<Ipv4Addr>,
    /// `option domain-name-servers` (6).
    pub domain_name_servers: Option<Vec<Ipv4Addr>>,
    /// `option domain-name` (15).
    pub domain_name: Option<String>,
    /// `option broadcast-address` (28).
    pub broadcast_address: Option<Ipv4Addr>,
}

impl OptionSet {
    /// Every option set here, else the one from `outer` (the enclosing scope).
    pub fn or(&self, outer: &OptionSet) -> OptionSet {
        OptionSet {
            routers: self.routers.clone().or_else(|| outer.routers.clone()),
            subnet_mask: self.subnet_mask.or(outer.subnet_mask),
            domain_name_servers: self
                .domain_name_servers
                .clone()
                .or_else(|| outer.domain_name_servers.clone()),
            domain_name: self
                .domain_name
                .clone()
                .or_else(|| outer.domain_name.clone()),
            broadcast_address: self.broadcast_address.or(outer.broadcast_address),
        }
    }
}

/// An inclusive range of addresses handed out dynamically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrRange {
    /// First address.
    pub low: Ipv4Addr,
    /// Last address (inclusive).
    pub high: Ipv4Addr,
}

impl AddrRange {
    /// Number of addresses in the range.
    pub fn len(&self) -> u64 {
        u64::from(u32::from(self.high)) - u64::from(u32::from(self.low)) + 1
    }

    /// Always false: a range holds at least one address.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// True when `addr` is in the range.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.low <= addr && addr <= self.high
    }
}

/// One `subnet` declaration, with the global values it inherits already applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetConfig {
    /// The network address.
    pub network: Ipv4Addr,
    /// The netmask (contiguous).
    pub netmask: Ipv4Addr,
    /// Dynamic ranges, sorted, not overlapping.
    pub ranges: Vec<AddrRange>,
    /// Options served on this subnet (global ones merged in); `subnet_mask` is always set.
    pub options: OptionSet,
    /// Lease time when the client asks for none.
    pub default_lease_time: u32,
    /// Longest lease granted.
    pub max_lease_time: u32,
    /// Whether the server NAKs requests for addresses that are wrong on this subnet.
    pub authoritative: bool,
    /// The line of the `subnet` statement.
    pub line: usize,
}

impl SubnetConfig {
    /// The prefix length of the netmask.
    pub fn prefix_len(&self) -> u8 {
        u32::from(self.netmask).count_ones() as u8
    }

    /// True when `addr` is on this subnet.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & u32::from(self.netmask) == u32::from(self.network)
    }

    /// The subnet's broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !u32::from(self.netmask))
    }
}

/// One `host` declaration: a reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// The host's name in the file.
    pub name: String,
    /// `hardware ethernet`.
    pub hardware_ethernet: Option<[u8; 6]>,
    /// `option dhcp-client-identifier` (the full option 61 value, type byte included).
    pub client_identifier: Option<Vec<u8>>,
    /// `fixed-address` (one or more).
    pub fixed_addresses: Vec<Ipv4Addr>,
    /// Options set in the host block itself.
    pub options: OptionSet,
    /// `default-lease-time` set in the host block.
    pub default_lease_time: Option<u32>,
    /// `max-lease-time` set in the host block.
    pub max_lease_time: Option<u32>,
    /// The line of the `host` statement.
    pub line: usize,
}

/// A parsed `dhcpd.conf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The file the configuration came from (as given).
    pub file: PathBuf,
    /// Global `authoritative`.
    pub authoritative: bool,
    /// Global `default-lease-time`.
    pub default_lease_time: u32,
    /// Global `max-lease-time`.
    pub max_lease_time: u32,
    /// Global options.
    pub options: OptionSet,
    /// Subnets, in file order.
    pub subnets: Vec<SubnetConfig>,
    /// Every host declaration, wherever it appeared.
    pub hosts: Vec<HostConfig>,
}

impl ServerConfig {
    /// Reads and parses the file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<ServerConfig, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadServerConfig {
            path: path.to_path_buf(),
            source,
        })?;
        ServerConfig::parse(&text, path)
    }

    /// Parses `text`; `file` names it in errors.
    pub fn parse(text: &str, file: impl AsRef<Path>) -> Result<ServerConfig, Error> {
        let file = file.as_ref();
        parse_inner(text, file).map_err(|(line, reason)| Error::ServerConfig {
            file: file.to_path_buf(),
            line,
            reason,
        })
    }

    /// The subnet that `addr` is on.
    pub fn subnet_of(&self, addr: Ipv4Addr) -> Option<&SubnetConfig> {
        self.subnets.iter().find(|s| s.contains(addr))
    }
}

type PResult<T> = Result<T, (usize, String)>;

/// Values of one scope while it is parsed.
#[derive(Default)]
struct Scope {
    authoritative: Option<bool>,
    default_lease_time: Option<u32>,
    max_lease_time: Option<u32>,
    options: OptionSet,
}

struct RawSubnet {
    network: Ipv4Addr,
    netmask: Ipv4Addr,
    ranges: Vec<(AddrRange, usize)>,
    scope: Scope,
    line: usize,
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    last_line: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&TokenKind> {
        self.tokens.get(self.pos).map(|t| &t.kind)
    }

    fn line(&self) -> usize {
        self.tokens
            .get(self.pos)
            .map(|t| t.line)
            .unwrap_or(self.last_line)
    }

    fn next(&mut self, what: &str) -> PResult<Token> {
        match self.tokens.get(self.pos) {
            Some(t) => {
                self.pos += 1;
                Ok(t.clone())
            }
            None => Err((
                self.last_line,
                format!("unexpected end of file, expected {what}"),
            )),
        }
    }

    fn word(&mut self, what: &str) -> PResult<(String, usize)> {
        let t = self.next(what)?;
        match t.kind {
            TokenKind::Word(w) => Ok((w, t.line)),
            other => Err((
                t.line,
                format!("expected {what}, found {}", other.describe()),
            )),
        }
    }

    fn expect(&mut self, kind: TokenKind) -> PResult<()> {
        let what = kind.describe();
        let t = self.next(&what)?;
        if t.kind == kind {
            Ok(())
        } else {
            Err((
                t.line,
                format!("expected {what}, found {}", t.kind.describe()),
            ))
        }
    }

    fn semi(&mut self) -> PResult<()> {
        self.expect(TokenKind::Semi)
    }

    fn ip(&mut self, what: &str) -> PResult<Ipv4Addr> {
        let (w, line) = self.word(what)?;
        w.parse()
            .map_err(|_| (line, format!("`{w}` is not an IPv4 address ({what})")))
    }

    fn u32_value(&mut self, what: &str) -> PResult<u32> {
        let (w, line) = self.word(what)?;
        w.parse()
            .map_err(|_| (line, format!("`{w}` is not a number of seconds ({what})")))
    }

    /// `a.b.c.d[, a.b.c.d ...] ;`
    fn ip_list(&mut self, what: &str) -> PResult<Vec<Ipv4Addr>> {
        let mut list = vec![self.ip(what)?];
        while self.peek() == Some(&TokenKind::Comma) {
            self.pos += 1;
            list.push(self.ip(what)?);
        }
        self.semi()?;
        Ok(list)
    }

    /// Skips an ignored statement up to and including its `;`.
    fn skip_statement(&mut self) -> PResult<()> {
        loop {
            let t = self.next("`;`")?;
            match t.kind {
                TokenKind::Semi => return Ok(()),
                TokenKind::Open | TokenKind::Close => {
                    return Err((
                        t.line,
                        format!("unexpected {} in statement", t.kind.describe()),
                    ));
                }
                _ => {}
            }
        }
    }
}

fn check_once<T>(slot: &Option<T>, line: usize, what: &str) -> PResult<()> {
    if slot.is_some() {
        return Err((line, format!("{what} given twice in the same scope")));
    }
    Ok(())
}

/// Parses the statements that may appear in any scope. Returns false when `kw` is not one.
fn scope_statement(p: &mut Parser<'_>, kw: &str, line: usize, scope: &mut Scope) -> PResult<bool> {
    match kw {
        "authoritative" => {
            p.semi()?;
            scope.authoritative = Some(true);
        }
        "not" => {
            let (w, l) = p.word("`authoritative`")?;
            if w != "authoritative" {
                return Err((
                    l,
                    format!("expected `authoritative` after `not`, found `{w}`"),
                ));
            }
            p.semi()?;
            scope.authoritative = Some(false);
        }
        "default-lease-time" => {
            check_once(&scope.default_lease_time, line, "default-lease-time")?;
            let v = p.u32_value("default-lease-time")?;
            p.semi()?;
            scope.default_lease_time = Some(v);
        }
        "max-lease-time" => {
            check_once(&scope.max_lease_time, line, "max-lease-time")?;
            let v = p.u32_value("max-lease-time")?;
            p.semi()?;
            scope.max_lease_time = Some(v);
        }
        "option" => {
            let (name, l) = p.word("an option name")?;
            let o = &mut scope.options;
            match name.as_str() {
                "routers" => {
                    check_once(&o.routers, l, "option routers")?;
                    o.routers = Some(p.ip_list("option routers")?);
                }
                "domain-name-servers" => {
                    check_once(&o.domain_name_servers, l, "option domain-name-servers")?;
                    o.domain_name_servers = Some(p.ip_list("option domain-name-servers")?);
                }
                "subnet-mask" => {
                    check_once(&o.subnet_mask, l, "option subnet-mask")?;
                    let m = p.ip("option subnet-mask")?;
                    if !contiguous(m) {
                        return Err((l, format!("subnet mask {m} is not contiguous")));
                    }
                    p.semi()?;
                    o.subnet_mask = Some(m);
                }
                "broadcast-address" => {
                    check_once(&o.broadcast_address, l, "option broadcast-address")?;
                    o.broadcast_address = Some(p.ip("option broadcast-address")?);
                    p.semi()?;
                }
                "domain-name" => {
                    check_once(&o.domain_name, l, "option domain-name")?;
                    let t = p.next("a quoted domain name")?;
                    let TokenKind::Str(s) = t.kind else {
                        return Err((
                            t.line,
                            format!("expected a quoted domain name, found {}", t.kind.describe()),
                        ));
                    };
                    if s.is_empty() || s.len() > 255 {
                        return Err((t.line, "domain name must be 1 to 255 bytes".into()));
                    }
                    p.semi()?;
                    o.domain_name = Some(s);
                }
                other => return Err((l, format!("unsupported option `{other}`"))),
            }
        }
        _ if IGNORED.contains(&kw) => p.skip_statement()?,
        _ => return Ok(false),
    }
    Ok(true)
}

fn contiguous(mask: Ipv4Addr) -> bool {
    let m = u32::from(mask);
    m.leading_ones() + m.trailing_zeros() == 32
}

fn parse_mac(w: &str, line: usize) -> PResult<[u8; 6]> {
    let mut mac = [0u8; 6];
    let parts: Vec<&str> = w.split(':').collect();
    if parts.len() != 6 {
        return Err((line, format!("`{w}` is not an ethernet address")));
    }
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() || part.len() > 2 {
            return Err((line, format!("`{w}` is not an ethernet address")));
        }
        mac[i] = u8::from_str_radix(part, 16)
            .map_err(|_| (line, format!("`{w}` is not an ethernet address")))?;
    }
    Ok(mac)
}

/// `01:02:ab` (hex octets) or a quoted string (its bytes).
fn parse_client_id(p: &mut Parser<'_>) -> PResult<Vec<u8>> {
    let t = p.next("a client identifier")?;
    let bytes = match t.kind {
        TokenKind::Str(s) => s.into_bytes(),
        TokenKind::Word(w) => {
            let mut out = Vec::new();
            for part in w.split(':') {
                if part.is_empty() || part.len() > 2 {
                    return Err((t.line, format!("`{w}` is not a hex client identifier")));
                }
                out.push(
                    u8::from_str_radix(part, 16)
                        .map_err(|_| (t.line, format!("`{w}` is not a hex client identifier")))?,
                );
            }
            out
        }
        other => {
            return Err((
                t.line,
                format!("expected a client identifier, found {}", other.describe()),
            ));
        }
    };
    if bytes.len() < 2 || bytes.len() > 255 {
        return Err((t.line, "a client identifier has 2 to 255 bytes".into()));
    }
    p.semi()?;
    Ok(bytes)
}

fn parse_host(p: &mut Parser<'_>, line: usize) -> PResult<HostConfig> {
    let t = p.next("a host name")?;
    let name = match t.kind {
        TokenKind::Word(w) | TokenKind::Str(w) => w,
        other => {
            return Err((
                t.line,
                format!("expected a host name, found {}", other.describe()),
            ));
        }
    };
    p.expect(TokenKind::Open)?;
    let mut host = HostConfig {
        name,
        hardware_ethernet: None,
        client_identifier: None,
        fixed_addresses: Vec::new(),
        options: OptionSet::default(),
        default_lease_time: None,
        max_lease_time: None,
        line,
    };
    let mut scope = Scope::default();
    loop {
        if p.peek() == Some(&TokenKind::Close) {
            p.pos += 1;
            break;
        }
        let (kw, l) = p.word("a statement or `}`")?;
        match kw.as_str() {
            "hardware" => {
                let (kind, kl) = p.word("`ethernet`")?;
                if kind != "ethernet" {
                    return Err((kl, format!("unsupported hardware type `{kind}`")));
                }
                check_once(&host.hardware_ethernet, l, "hardware ethernet")?;
                let (mac, ml) = p.word("an ethernet address")?;
                host.hardware_ethernet = Some(parse_mac(&mac, ml)?);
                p.semi()?;
            }
            "fixed-address" => {
                if !host.fixed_addresses.is_empty() {
                    return Err((l, "fixed-address given twice in the same host".into()));
                }
                host.fixed_addresses = p.ip_list("fixed-address")?;
            }
            "option" if matches!(p.peek(), Some(TokenKind::Word(w)) if w == "dhcp-client-identifier") =>
            {
                p.pos += 1;
                check_once(&host.client_identifier, l, "option dhcp-client-identifier")?;
                host.client_identifier = Some(parse_client_id(p)?);
            }
            "authoritative" | "not" => {
                return Err((l, format!("`{kw}` is not allowed in a host declaration")));
            }
            _ => {
                if !scope_statement(p, &kw, l, &mut scope)? {
                    return Err((l, format!("unsupported statement `{kw}` in host")));
                }
            }
        }
    }
    if host.hardware_ethernet.is_none() && host.client_identifier.is_none() {
        return Err((
            line,
            format!(
                "host {} has neither `hardware ethernet` nor `option dhcp-client-identifier`",
                host.name
            ),
        ));
    }
    host.options = scope.options;
    host.default_lease_time = scope.default_lease_time;
    host.max_lease_time = scope.max_lease_time;
    Ok(host)
}

fn parse_subnet(
    p: &mut Parser<'_>,
    line: usize,
    hosts: &mut Vec<HostConfig>,
) -> PResult<RawSubnet> {
    let network = p.ip("subnet address")?;
    let (kw, l) = p.word("`netmask`")?;
    if kw != "netmask" {
        return Err((l, format!("expected `netmask`, found `{kw}`")));
    }
    let netmask = p.ip("netmask")?;
    if !contiguous(netmask) {
        return Err((l, format!("netmask {netmask} is not contiguous")));
    }
    if u32::from(network) & !u32::from(netmask) != 0 {
        return Err((
            line,
            format!("subnet {network} has host bits set for netmask {netmask}"),
        ));
    }
    p.expect(TokenKind::Open)?;
    let mut sub = RawSubnet {
        network,
        netmask,
        ranges: Vec::new(),
        scope: Scope::default(),
        line,
    };
    loop {
        if p.peek() == Some(&TokenKind::Close) {
            p.pos += 1;
            break;
        }
        let (kw, l) = p.word("a statement or `}`")?;
        match kw.as_str() {
            "range" => {
                if matches!(p.peek(), Some(TokenKind::Word(w)) if w == "dynamic-bootp") {
                    p.pos += 1;
                }
                let low = p.ip("range start")?;
                let high = if p.peek() == Some(&TokenKind::Semi) {
                    low
                } else {
                    p.ip("range end")?
                };
                p.semi()?;
                let (low, high) = if low <= high {
                    (low, high)
                } else {
                    (high, low)
                };
                for a in [low, high] {
                    if u32::from(a) & u32::from(netmask) != u32::from(network) {
                        return Err((
                            l,
                            format!("range address {a} is not in subnet {network}/{netmask}"),
                        ));
                    }
                }
                sub.ranges.push((AddrRange { low, high }, l));
            }
            "host" => hosts.push(parse_host(p, l)?),
            "subnet" => return Err((l, "subnets cannot be nested".into())),
            _ => {
                if !scope_statement(p, &kw, l, &mut sub.scope)? {
                    return Err((l, format!("unsupported statement `{kw}` in subnet")));
                }
            }
        }
    }
    Ok(sub)
}

fn parse_inner(text: &str, file: &Path) -> PResult<ServerConfig> {
    let tokens = tokenize(text)?;
    let last_line = text.lines().count().max(1);
    let mut p = Parser {
        tokens: &tokens,
        pos: 0,
        last_line,
    };
    let mut global = Scope::default();
    let mut raw_subnets = Vec::new();
    let mut hosts = Vec::new();
    while p.peek().is_some() {
        let line = p.line();
        let (kw, l) = p.word("a statement")?;
        match kw.as_str() {
            "subnet" => raw_subnets.push(parse_subnet(&mut p, l, &mut hosts)?),
            "host" => hosts.push(parse_host(&mut p, l)?),
            "range" => return Err((l, "`range` outside a subnet".into())),
            _ => {
                if !scope_statement(&mut p, &kw, line, &mut global)? {
                    return Err((l, format!("unsupported statement `{kw}`")));
                }
            }
        }
    }
    build(file, global, raw_subnets, hosts)
}

fn build(
    file: &Path,
    global: Scope,
    raw_subnets: Vec<RawSubnet>,
    hosts: Vec<HostConfig>,
) -> PResult<ServerConfig> {
    let authoritative = global.authoritative.unwrap_or(false);
    let default_lease_time = global.default_lease_time.unwrap_or(ISC_DEFAULT_LEASE_TIME);
    let max_lease_time = global.max_lease_time.unwrap_or(ISC_MAX_LEASE_TIME);
    let mut subnets: Vec<SubnetConfig> = Vec::new();
    let mut all_ranges: Vec<(AddrRange, usize)> = Vec::new();
    for raw in raw_subnets {
        let net = u32::from(raw.network);
        let mask = u32::from(raw.netmask);
        if let Some(other) = subnets.iter().find(|s| {
            let common = mask & u32::from(s.netmask);
            net & common == u32::from(s.network) & common
        }) {
            return Err((
                raw.line,
                format!(
                    "subnet {}/{} overlaps subnet {}/{} (line {})",
                    raw.network, raw.netmask, other.network, other.netmask, other.line
                ),
            ));
        }
        let mut options = raw.scope.options.or(&global.options);
        if options.subnet_mask.is_none() {
            options.subnet_mask = Some(raw.netmask);
        }
        let mut ranges: Vec<AddrRange> = raw.ranges.iter().map(|(r, _)| *r).collect();
        ranges.sort_by_key(|r| r.low);
        all_ranges.extend(raw.ranges);
        subnets.push(SubnetConfig {
            network: raw.network,
            netmask: raw.netmask,
            ranges,
            options,
            default_lease_time: raw.scope.default_lease_time.unwrap_or(default_lease_time),
            max_lease_time: raw.scope.max_lease_time.unwrap_or(max_lease_time),
            authoritative: raw.scope.authoritative.unwrap_or(authoritative),
            line: raw.line,
        });
    }
    all_ranges.sort_by_key(|(r, _)| r.low);
    let mut total = 0u64;
    for (r, line) in &all_ranges {
        total += r.len();
        if total > MAX_RANGE_ADDRESSES {
            return Err((
                *line,
                format!("ranges hold more than {MAX_RANGE_ADDRESSES} addresses"),
            ));
        }
    }
    for pair in all_ranges.windows(2) {
        let ((a, la), (b, lb)) = (pair[0], pair[1]);
        if b.low <= a.high {
            let line = la.max(lb);
            return Err((
                line,
                format!(
                    "range {}-{} overlaps range {}-{} (line {})",
                    b.low,
                    b.high,
                    a.low,
                    a.high,
                    la.min(lb)
                ),
            ));
        }
    }
    for (i, h) in hosts.iter().enumerate() {
        for other in &hosts[..i] {
            if h.hardware_ethernet.is_some() && h.hardware_ethernet == other.hardware_ethernet {
                return Err((
                    h.line,
                    format!(
                        "host {}: hardware ethernet already used by host {} (line {})",
                        h.name, other.name, other.line
                    ),
                ));
            }
            if h.client_identifier.is_some() && h.client_identifier == other.client_identifier {
                return Err((
                    h.line,
                    format!(
                        "host {}: client identifier already used by host {} (line {})",
                        h.name, other.name, other.line
                    ),
                ));
            }
            if let Some(a) = h
                .fixed_addresses
                .iter()
                .find(|a| other.fixed_addresses.contains(a))
            {
                return Err((
                    h.line,
                    format!(
                        "host {}: fixed-address {a} already given to host {} (line {})",
                        h.name, other.name, other.line
                    ),
                ));
            }
        }
    }
    Ok(ServerConfig {
        file: file.to_path_buf(),
        authoritative,
        default_lease_time,
        max_lease_time,
        options: global.options,
        subnets,
        hosts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAF: &str = r#"# dhcpd.conf for Leaf-1
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 600;
max-lease-time 7200;
option domain-name "leaf1.example";
option domain-name-servers 10.0.0.53, 10.0.0.54;

subnet 192.168.111.0 netmask 255.255.255.0 {
  range 192.168.111.10 192.168.111.100;
  range 192.168.111.150 192.168.111.250;
  option routers 192.168.111.1;
  max-lease-time 3600;
  host fixed-pod { hardware ethernet 02:00:00:aa:bb:01; fixed-address 192.168.111.5; }
}

subnet 10.11.0.0 netmask 255.255.0.0 {
  not authoritative;
  range 10.11.1.1 10.11.1.9;
  option subnet-mask 255.255.0.0;
}

host other {
  hardware ethernet 2:0:0:aa:bb:2;
  fixed-address 10.11.0.7, 192.168.111.6;
  option routers 10.11.0.1;
  default-lease-time 60;
}
"#;

    #[test]
    fn parses_leaf_config() {
        let c = ServerConfig::parse(LEAF, "leaf1.conf").unwrap();
        assert!(c.authoritative);
        assert_eq!(c.default_lease_time, 600);
        assert_eq!(c.subnets.len(), 2);
        let s = &c.subnets[0];
        assert_eq!(s.network, Ipv4Addr::new(192, 168, 111, 0));
        assert_eq!(s.ranges.len(), 2);
        assert_eq!(s.ranges[0].len(), 91);
        assert_eq!(s.max_lease_time, 3600);
        assert_eq!(s.default_lease_time, 600);
        assert!(s.authoritative);
        assert_eq!(
            s.options.routers,
            Some(vec![Ipv4Addr::new(192, 168, 111, 1)])
        );
        assert_eq!(s.options.subnet_mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(s.options.domain_name.as_deref(), Some("leaf1.example"));
        assert_eq!(
            s.options.domain_name_servers.as_ref().map(Vec::len),
            Some(2)
        );
        let s2 = &c.subnets[1];
        assert!(!s2.authoritative);
        assert_eq!(s2.prefix_len(), 16);
        assert_eq!(c.hosts.len(), 2);
        assert_eq!(c.hosts[0].hardware_ethernet, Some([2, 0, 0, 0xaa, 0xbb, 1]));
        assert_eq!(c.hosts[1].fixed_addresses.len(), 2);
        assert_eq!(c.hosts[1].default_lease_time, Some(60));
        assert_eq!(
            c.subnet_of(Ipv4Addr::new(10, 11, 200, 1)).map(|s| s.line),
            Some(18)
        );
    }

    fn err_of(text: &str) -> String {
        ServerConfig::parse(text, "/etc/t.conf")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_name_file_and_line() {
        let cases: &[(&str, &str)] = &[
            ("bogus 1;\n", "/etc/t.conf:1: unsupported statement `bogus`"),
            (
                "\n\nsubnet 10.0.0.0 netmask 255.0.0.0 {\n range 10.0.0.1 11.0.0.1;\n}\n",
                "/etc/t.conf:4:",
            ),
            ("subnet 10.0.0.1 netmask 255.0.0.0 { }\n", "/etc/t.conf:1:"),
            (
                "subnet 10.0.0.0 netmask 255.0.255.0 { }\n",
                "not contiguous",
            ),
            (
                "subnet 10.0.0.0 netmask 255.0.0.0 {\n",
                "unexpected end of file",
            ),
            ("default-lease-time abc;\n", "not a number"),
            (
                "default-lease-time 5;\ndefault-lease-time 6;\n",
                ":2: default-lease-time given twice",
            ),
            ("option foo 1;", "unsupported option `foo`"),
            ("host h { fixed-address 1.2.3.4; }", "neither"),
            (
                "host h {\n hardware ethernet 1:2:3:4:5;\n}",
                ":2: `1:2:3:4:5` is not an ethernet",
            ),
            (
                "subnet 10.0.0.0 netmask 255.0.0.0 { }\nsubnet 10.1.0.0 netmask 255.255.0.0 { }\n",
                ":2: subnet 10.1.0.0/255.255.0.0 overlaps",
            ),
            (
                "subnet 10.0.0.0 netmask 255.0.0.0 {\nrange 10.0.0.1 10.0.0.9;\nrange 10.0.0.5 10.0.0.20;\n}",
                ":3: range",
            ),
            (
                "host a { hardware ethernet 1:2:3:4:5:6; }\nhost b { hardware ethernet 01:02:03:04:05:06; }",
                ":2: host b: hardware ethernet already used",
            ),
            ("option domain-name \"x\n", ":1: unterminated string"),
            ("authoritative", "unexpected end of file"),
            ("range 1.2.3.4;", "outside a subnet"),
            (
                "subnet 10.0.0.0 netmask 255.0.0.0 {\n range 10.0.0.1 10.255.0.0;\n}",
                ":2: ranges hold more than",
            ),
            ("option routers 1.2.3.4 {", "expected `;`"),
        ];
        for (text, want) in cases {
            let got = err_of(text);
            assert!(got.contains(want), "{text:?}: got {got:?}, want {want:?}");
            assert!(got.starts_with("/etc/t.conf:"), "{got}");
        }
    }

    #[test]
    fn defaults_and_single_address_range() {
        let c = ServerConfig::parse(
            "subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.9; }",
            "a",
        )
        .unwrap();
        assert!(!c.authoritative);
        assert_eq!(c.subnets[0].default_lease_time, ISC_DEFAULT_LEASE_TIME);
        assert_eq!(c.subnets[0].ranges[0].len(), 1);
        assert_eq!(c.subnets[0].broadcast(), Ipv4Addr::new(10, 0, 0, 255));
    }

    #[test]
    fn client_identifier_hosts() {
        let c = ServerConfig::parse(
            "host a { option dhcp-client-identifier 01:02:03; fixed-address 1.1.1.1; }\n\
             host b { option dhcp-client-identifier \"pod-b\"; }",
            "a",
        )
        .unwrap();
        assert_eq!(c.hosts[0].client_identifier, Some(vec![1, 2, 3]));
        assert_eq!(c.hosts[1].client_identifier, Some(b"pod-b".to_vec()));
    }
}
