//! DHCP test beds after `shared/peers/dhcp-peers.sh`: a "leaf" namespace where a real server
//! runs on `sw0` (192.168.111.1/24) and a "pod" namespace whose `net1` is the client's
//! interface, joined by a veth pair (or by a bridge with more hosts); launchers for the Debian
//! servers (dnsmasq, ISC dhcpd, Kea) with the arguments every test used to repeat, and a
//! one-shot `udhcpc`. Everything is removed by handle when the bed is dropped: the namespaces
//! it made, the processes it started.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::{ChildGuard, Netns, veth_pair};

/// The server's address on the leaf's `sw0`.
pub const SERVER_IP: &str = "192.168.111.1";
/// The pod's interface.
pub const POD_IF: &str = "net1";
/// The leaf's interface.
pub const LEAF_IF: &str = "sw0";

/// leaf[sw0 192.168.111.1/24] <== veth ==> pod[net1], and a scratch directory for configs,
/// lease files and logs.
#[derive(Debug)]
pub struct LeafPod {
    /// The server's namespace.
    pub leaf: Netns,
    /// The client's namespace.
    pub pod: Netns,
    /// Configs, lease files and logs.
    pub dir: tempfile::TempDir,
    /// More namespaces of a bridged segment (deleted with the bed).
    others: Vec<Netns>,
}

/// What a dnsmasq of [`LeafPod::dnsmasq`] serves.
#[derive(Debug, Clone)]
pub struct Dnsmasq {
    /// Lease time (dnsmasq's minimum is 120 s).
    pub lease_secs: u32,
    /// Options 58/59, so a renewal comes quickly.
    pub t1_t2: Option<(u32, u32)>,
    /// DNS servers (option 6).
    pub dns: Vec<&'static str>,
    /// More arguments.
    pub extra: Vec<String>,
}

impl Default for Dnsmasq {
    fn default() -> Self {
        Dnsmasq {
            lease_secs: 600,
            t1_t2: None,
            dns: vec!["192.168.111.53"],
            extra: Vec::new(),
        }
    }
}

/// What a one-shot `udhcpc` was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdhcpcLease {
    /// The address.
    pub ip: Ipv4Addr,
    /// Option 3, as udhcpc's `$router`.
    pub router: String,
    /// Option 51.
    pub lease_secs: u32,
}

impl LeafPod {
    /// The bed on a veth pair.
    pub fn new() -> LeafPod {
        let leaf = Netns::new("dhl").expect("leaf netns");
        let pod = Netns::new("dhp").expect("pod netns");
        veth_pair(&leaf, LEAF_IF, &pod, POD_IF).expect("veth pair");
        leaf.ip(&["addr", "add", "192.168.111.1/24", "dev", LEAF_IF])
            .expect("server address");
        LeafPod {
            leaf,
            pod,
            dir: tempfile::tempdir().expect("tempdir"),
            others: Vec::new(),
        }
    }

    /// leaf[sw0], pod[net1] and a third host's `eth0` in the returned namespace, all on one
    /// bridge (in a fabric namespace of the bed's).
    pub fn bridged() -> (LeafPod, Netns) {
        let (bed, mut others) = Self::bridged_with(1, "eth0");
        let other = others.pop().expect("one more host");
        (bed, other)
    }

    /// leaf[sw0], pod[net1] and `more` pods, each with its interface `ifname`, all on one
    /// bridge (in a fabric namespace of the bed's): one L2 segment, as the VFs of one PF.
    pub fn bridged_with(more: usize, ifname: &str) -> (LeafPod, Vec<Netns>) {
        let leaf = Netns::new("dhl").expect("leaf netns");
        let pod = Netns::new("dhp").expect("pod netns");
        let fabric = Netns::new("dhf").expect("fabric netns");
        fabric
            .ip(&["link", "add", "br0", "type", "bridge"])
            .expect("bridge");
        fabric.ip(&["link", "set", "br0", "up"]).expect("bridge up");
        let attach = |ns: &Netns, name: &str, port: &str| {
            veth_pair(ns, name, &fabric, port).expect("veth");
            fabric
                .ip(&["link", "set", port, "master", "br0"])
                .expect("bridge port");
        };
        attach(&leaf, LEAF_IF, "pf0");
        attach(&pod, POD_IF, "vf0");
        let others: Vec<Netns> = (1..=more)
            .map(|i| {
                let ns = Netns::new("dho").expect("pod netns");
                attach(&ns, ifname, &format!("vf{i}"));
                ns
            })
            .collect();
        leaf.ip(&["addr", "add", "192.168.111.1/24", "dev", LEAF_IF])
            .expect("server address");
        let bed = LeafPod {
            leaf,
            pod,
            dir: tempfile::tempdir().expect("tempdir"),
            others: vec![fabric],
        };
        (bed, others)
    }

    /// The pod's namespace file.
    pub fn pod_path(&self) -> PathBuf {
        self.pod.path()
    }

    /// IPv4 addresses on the pod interface, `a.b.c.d/nn`.
    pub fn pod_addrs(&self) -> Vec<String> {
        let out = self
            .pod
            .ip(&["-4", "-o", "addr", "show", "dev", POD_IF])
            .expect("ip addr");
        out.lines()
            .filter_map(|l| l.split_whitespace().skip_while(|w| *w != "inet").nth(1))
            .map(str::to_string)
            .collect()
    }

    /// The pod's routes, as `ip route` prints them.
    pub fn pod_routes(&self) -> String {
        self.pod.ip(&["-4", "route", "show"]).expect("ip route")
    }

    /// Where server `name` logs.
    pub fn log_path(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.log"))
    }

    /// What server `name` logged so far.
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.log_path(name)).unwrap_or_default()
    }

    /// Waits up to `secs` for `pred` on server `name`'s log.
    pub fn wait_log(&self, name: &str, secs: u64, pred: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if pred(&self.log(name)) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until something in the leaf listens on udp/67.
    pub fn wait_port67(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let out = self
                .leaf
                .command("ss")
                .args(["-Hlun", "sport = :67"])
                .output()
                .expect("ss");
            if !out.stdout.is_empty() {
                std::thread::sleep(Duration::from_millis(300)); // raw sockets open next
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("server did not open udp/67");
    }

    /// dnsmasq on `sw0` serving 192.168.111.10-250 with router 192.168.111.1, its lease file
    /// `dnsmasq.leases` and log `dnsmasq.log` in the bed's directory.
    pub fn dnsmasq(&self, opts: Dnsmasq) -> ChildGuard {
        let log = std::fs::File::create(self.log_path("dnsmasq")).expect("log");
        let mut cmd = self.leaf.command("dnsmasq");
        cmd.args([
            "--no-daemon",
            "--conf-file=/dev/null",
            "--no-hosts",
            "--no-resolv",
            "--port=0",
            "--interface=sw0",
            "--bind-interfaces",
            "--except-interface=lo",
            "--dhcp-authoritative",
            "--no-ping",
            "--log-dhcp",
            "--dhcp-option=option:router,192.168.111.1",
        ])
        .arg(format!(
            "--dhcp-option=option:dns-server,{}",
            opts.dns.join(",")
        ))
        .arg(format!(
            "--dhcp-range=192.168.111.10,192.168.111.250,255.255.255.0,{}",
            opts.lease_secs
        ))
        .arg(format!(
            "--dhcp-leasefile={}",
            self.dir.path().join("dnsmasq.leases").display()
        ))
        .arg(format!(
            "--pid-file={}",
            self.dir.path().join("dnsmasq.pid").display()
        ));
        if let Some((t1, t2)) = opts.t1_t2 {
            cmd.arg(format!("--dhcp-option=option:T1,{t1}"));
            cmd.arg(format!("--dhcp-option=option:T2,{t2}"));
        }
        cmd.args(&opts.extra);
        let child = cmd
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start dnsmasq");
        let guard = ChildGuard::new(child);
        self.wait_port67();
        guard
    }

    /// ISC dhcpd on `sw0` with leases of `lease_secs` and the `extra` lines inside the subnet
    /// (192.168.111.0/24, range .10-.250, router .1, DNS .53).
    pub fn dhcpd(&self, lease_secs: u32, extra: &str) -> ChildGuard {
        let conf = self.dir.path().join("dhcpd.conf");
        let leases = self.dir.path().join("dhcpd.leases");
        std::fs::write(
            &conf,
            format!(
                "authoritative;\nddns-update-style none;\nping-check false;\n\
                 default-lease-time {lease_secs};\nmax-lease-time {lease_secs};\nmin-lease-time 1;\n\
                 subnet 192.168.111.0 netmask 255.255.255.0 {{\n  range 192.168.111.10 192.168.111.250;\n  \
                 option routers 192.168.111.1;\n  option domain-name-servers 192.168.111.53;\n{extra}\n}}\n"
            ),
        )
        .expect("dhcpd.conf");
        std::fs::write(&leases, "").expect("dhcpd.leases");
        let log = std::fs::File::create(self.log_path("dhcpd")).expect("log");
        let child = self
            .leaf
            .command("dhcpd")
            .args(["-4", "-f", "-d", "-cf"])
            .arg(&conf)
            .arg("-lf")
            .arg(&leases)
            .arg("-pf")
            .arg(self.dir.path().join("dhcpd.pid"))
            .arg(LEAF_IF)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start dhcpd");
        let guard = ChildGuard::new(child);
        self.wait_port67();
        guard
    }

    /// Kea (memfile leases, raw sockets) with leases of `lease_secs` and T1/T2 of half and
    /// seven eighths of it.
    pub fn kea(&self, lease_secs: u32) -> ChildGuard {
        let d = self.dir.path();
        let conf = d.join("kea-dhcp4.json");
        let log = self.log_path("kea");
        std::fs::write(
            &conf,
            format!(
                r#"{{ "Dhcp4": {{
    "interfaces-config": {{ "interfaces": [ "sw0" ], "dhcp-socket-type": "raw" }},
    "lease-database": {{ "type": "memfile", "persist": true, "name": "{leases}", "lfc-interval": 0 }},
    "valid-lifetime": {lease_secs}, "renew-timer": {t1}, "rebind-timer": {t2},
    "authoritative": true,
    "subnet4": [ {{ "id": 111, "subnet": "192.168.111.0/24",
        "pools": [ {{ "pool": "192.168.111.10 - 192.168.111.250" }} ],
        "option-data": [ {{ "name": "routers", "data": "192.168.111.1" }} ] }} ],
    "loggers": [ {{ "name": "kea-dhcp4", "output_options": [ {{ "output": "{log}" }} ],
        "severity": "DEBUG", "debuglevel": 40 }} ]
}} }}"#,
                leases = d.join("kea-leases4.csv").display(),
                t1 = lease_secs / 2,
                t2 = lease_secs * 7 / 8,
                log = log.display(),
            ),
        )
        .expect("kea config");
        let child = self
            .leaf
            .command("env")
            .arg(format!("KEA_PIDFILE_DIR={}", d.display()))
            .arg(format!("KEA_LOCKFILE_DIR={}", d.display()))
            .arg("kea-dhcp4")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start kea");
        let guard = ChildGuard::new(child);
        self.wait_port67();
        guard
    }

    /// The namespaces of a bridged bed besides leaf and pod (the fabric).
    pub fn fabric(&self) -> Option<&Netns> {
        self.others.first()
    }
}

impl Default for LeafPod {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes a `udhcpc -s` hook into `dir` that puts the address on the interface (and flushes it
/// on deconfig) and records `$ip $router $lease` in `dir/udhcpc-hook.out`; returns its path.
pub fn udhcpc_hook(dir: &Path) -> Result<PathBuf, String> {
    let hook = dir.join("udhcpc-hook.sh");
    std::fs::write(
        &hook,
        "#!/bin/sh\n\
         case \"$1\" in\n\
           deconfig) ip -4 addr flush dev \"$interface\" ;;\n\
           bound|renew) ip -4 addr flush dev \"$interface\"; ip addr add \"$ip/${mask:-24}\" dev \"$interface\"\n\
                        echo \"$ip $router $lease\" > \"$(dirname \"$0\")/udhcpc-hook.out\" ;;\n\
         esac\nexit 0\n",
    )
    .map_err(|e| format!("write {}: {e}", hook.display()))?;
    let mut perm = std::fs::metadata(&hook)
        .map_err(|e| e.to_string())?
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&hook, perm).map_err(|e| e.to_string())?;
    Ok(hook)
}

/// Runs `udhcpc` once on `ifname` in `ns` (`-n -q`: a lease or failure, then exit) with the
/// hook of [`udhcpc_hook`], and returns what it got.
pub fn udhcpc_once(ns: &Netns, ifname: &str, dir: &Path) -> Result<UdhcpcLease, String> {
    let hook = udhcpc_hook(dir)?;
    let out_file = dir.join("udhcpc-hook.out");
    let _ = std::fs::remove_file(&out_file);
    let out = ns
        .command("udhcpc")
        .args(["-i", ifname, "-n", "-q", "-f", "-t", "5", "-T", "1", "-s"])
        .arg(&hook)
        .output()
        .map_err(|e| format!("run udhcpc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "udhcpc failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let got = std::fs::read_to_string(&out_file).map_err(|e| format!("udhcpc hook output: {e}"))?;
    let mut it = got.split_whitespace();
    let parse_err = || format!("udhcpc hook output {got:?}");
    Ok(UdhcpcLease {
        ip: it
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(parse_err)?,
        router: it.next().ok_or_else(parse_err)?.to_string(),
        lease_secs: it
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(parse_err)?,
    })
}
