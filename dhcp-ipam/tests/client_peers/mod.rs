//! Real DHCP servers in a "leaf" namespace, joined to a "pod" namespace by a veth pair, for
//! interop tests (after `../shared/peers/dhcp-peers.sh`). Everything is cleaned up by handle.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use testbed::{ChildGuard, Need, Netns};

pub const SERVER_IP: &str = "192.168.111.1";
pub const POD_IF: &str = "net1";

/// The needs of a test against `server`.
pub fn needs(server: &'static str) -> Vec<Need> {
    vec![Need::Root, Need::Netns, Need::Program(server)]
}

/// leaf[sw0 192.168.111.1/24] <== veth ==> pod[net1]
pub struct Bed {
    pub leaf: Netns,
    pub pod: Netns,
    pub dir: tempfile::TempDir,
}

impl Bed {
    pub fn new() -> Bed {
        let leaf = Netns::new("dl").expect("leaf netns");
        let pod = Netns::new("dp").expect("pod netns");
        testbed::veth_pair(&leaf, "sw0", &pod, POD_IF).expect("veth pair");
        leaf.ip(&["addr", "add", "192.168.111.1/24", "dev", "sw0"])
            .expect("server address");
        Bed {
            leaf,
            pod,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

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

    /// Waits until something in the leaf listens on udp/67.
    fn wait_port67(&self) {
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

    pub fn log_path(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.log"))
    }

    /// dnsmasq with a lease of `lease_secs` (dnsmasq's minimum is 120) and, when given, T1/T2
    /// (options 58/59) so a renewal comes quickly.
    pub fn dnsmasq(&self, lease_secs: u32, t1_t2: Option<(u32, u32)>) -> ChildGuard {
        self.dnsmasq_with(lease_secs, t1_t2, &[])
    }

    /// [`dnsmasq`](Self::dnsmasq) with extra arguments.
    pub fn dnsmasq_with(
        &self,
        lease_secs: u32,
        t1_t2: Option<(u32, u32)>,
        extra: &[String],
    ) -> ChildGuard {
        let log = std::fs::File::create(self.log_path("dnsmasq")).expect("log");
        let leases = self.dir.path().join("dnsmasq.leases");
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
            "--dhcp-option=option:dns-server,192.168.111.53",
        ])
        .arg(format!(
            "--dhcp-range=192.168.111.10,192.168.111.250,255.255.255.0,{lease_secs}"
        ))
        .arg(format!("--dhcp-leasefile={}", leases.display()))
        .arg(format!(
            "--pid-file={}",
            self.dir.path().join("dnsmasq.pid").display()
        ));
        if let Some((t1, t2)) = t1_t2 {
            cmd.arg(format!("--dhcp-option=option:T1,{t1}"));
            cmd.arg(format!("--dhcp-option=option:T2,{t2}"));
        }
        cmd.args(extra);
        let child = cmd
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start dnsmasq");
        let guard = ChildGuard::new(child);
        self.wait_port67();
        guard
    }

    /// ISC dhcpd with leases of `lease_secs` and the extra `conf` lines inside the subnet.
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
            .arg("sw0")
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

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.log_path(name)).unwrap_or_default()
    }

    /// Waits up to `secs` for `pred` on the server log.
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
}

pub fn path_of(p: &Path) -> String {
    p.display().to_string()
}

/// Starts the `rdma-dhcp` plugin binary as a runtime would: a clean environment with the CNI
/// variables, the configuration on stdin.
pub fn spawn_plugin(
    command: &str,
    container_id: &str,
    netns: &Path,
    ifname: &str,
    stdin: &str,
) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdma-dhcp"))
        .env_clear()
        .env("CNI_COMMAND", command)
        .env("CNI_CONTAINERID", container_id)
        .env("CNI_NETNS", netns)
        .env("CNI_IFNAME", ifname)
        .env("CNI_PATH", "/usr/lib/cni")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rdma-dhcp");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child
}

/// [`spawn_plugin`] and wait for its output.
pub fn run_plugin(
    command: &str,
    container_id: &str,
    netns: &Path,
    ifname: &str,
    stdin: &str,
) -> Output {
    spawn_plugin(command, container_id, netns, ifname, stdin)
        .wait_with_output()
        .expect("wait for rdma-dhcp")
}
