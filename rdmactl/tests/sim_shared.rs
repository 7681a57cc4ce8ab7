//! `rdmactl sim start|stop` as programs use it: a simulated host at a root directory, shared by
//! processes through its live FUSE `DIR/sys` and its host-ops proxy. Needs root (FUSE mounts,
//! `/dev/fuse`); skips otherwise, fails under `RDMA_SRIOV_REQUIRE_PRIVILEGED=1`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nix::errno::Errno;
use sriov_core::host_proxy::ProxyClient;
use sriov_core::node::{BackendKind, Backends, HostRoot};
use sriov_core::{NetOps, Netns, VlanConfig, VlanProto};
use testbed::Need;

fn rdmactl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdmactl"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A started host, stopped (and checked gone) when dropped.
struct Sim {
    dir: tempfile::TempDir,
    pid: u32,
    stopped: bool,
}

impl Sim {
    fn start(extra: &[&str]) -> Sim {
        let dir = tempfile::Builder::new().prefix("sim-").tempdir().unwrap();
        let root = dir.path().to_str().unwrap().to_string();
        let mut args = vec!["sim", "start", "--preset", "reference", "--root", &root];
        args.extend_from_slice(extra);
        let said = ok(rdmactl(&args));
        let pid = said
            .split("(pid ")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no pid in {said:?}"));
        Sim {
            dir,
            pid,
            stopped: false,
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn root_str(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    fn sys(&self, rel: &str) -> PathBuf {
        self.root().join("sys").join(rel)
    }

    fn client(&self) -> ProxyClient {
        ProxyClient::new(HostRoot::new(self.root()).proxy_socket())
    }

    /// Stops it and checks, by handle, that nothing it made is left.
    fn stop(&mut self) {
        ok(rdmactl(&["sim", "stop", "--root", self.root_str()]));
        self.stopped = true;
        assert!(
            !Path::new(&format!("/proc/{}", self.pid)).exists(),
            "daemon {} still runs",
            self.pid
        );
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(
            !mounts.contains(self.root().to_str().unwrap()),
            "a mount under {} is left",
            self.root().display()
        );
        assert!(!HostRoot::new(self.root()).proxy_socket().exists());
        assert!(!self.root().join("run/sysfs-sim/state.json").exists());
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = rdmactl(&["sim", "stop", "--root", self.root_str()]);
        }
    }
}

fn privileged() -> bool {
    testbed::require!(Need::Root, Need::File("/dev/fuse"))
}

fn errno_of(r: std::io::Result<()>) -> Option<i32> {
    r.err().and_then(|e| e.raw_os_error())
}

const PF0: &str = "bus/pci/devices/0000:3b:00.0";

/// The VF addresses of PF0 by index.
fn vf_pci(i: u32) -> String {
    let fn_no = 2 + i; // offset 2, stride 1: 0000:3b:00.2 .. 0000:3b:01.1
    format!("0000:3b:{:02x}.{}", fn_no / 8, fn_no % 8)
}

/// One of the 8 processes of `eight_processes_see_one_host`: VF `i` of PF0 is its own.
/// Through the proxy it sets the VF's VLAN and renames its netdev; through FUSE it checks that
/// sysfs shows the rename, unbinds and rebinds the VF's driver, and checks the errno of a
/// refused write; each step's effect is checked on the other channel.
fn worker(root: &Path, i: u32) {
    let client = ProxyClient::new(HostRoot::new(root).proxy_socket());
    let sys = |rel: &str| root.join("sys").join(rel);
    let pci = vf_pci(i);
    for round in 0..5u32 {
        let vlan = VlanConfig::new(100 + i * 10 + round, 0, VlanProto::Dot1Q).unwrap();
        client.set_vf_vlan("ens2f0", i, vlan).unwrap();
        assert_eq!(client.vfs("ens2f0").unwrap()[i as usize].state.vlan, vlan);

        let name = format!("w{i}r{round}");
        let netdev = format!("ens2f0v{i}");
        client.rename_link(&Netns::Host, &netdev, &name).unwrap();
        assert!(sys(&format!("class/net/{name}")).exists());
        assert!(!sys(&format!("class/net/{netdev}")).exists());
        let listed: Vec<String> = std::fs::read_dir(sys(&format!("bus/pci/devices/{pci}/net")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(listed, std::slice::from_ref(&name));

        // unbind through FUSE: the netdev goes, for the proxy too
        std::fs::write(sys("bus/pci/drivers/mlx5_core/unbind"), &pci).unwrap();
        assert!(client.link(&Netns::Host, &name).is_err());
        // a second unbind: the kernel's ENODEV
        let again = std::fs::write(sys("bus/pci/drivers/mlx5_core/unbind"), &pci);
        assert_eq!(errno_of(again), Some(Errno::ENODEV as i32));
        // bind: the probe names it again
        std::fs::write(sys("bus/pci/drivers/mlx5_core/bind"), &pci).unwrap();
        assert!(client.link(&Netns::Host, &netdev).is_ok());
        assert!(sys(&format!("class/net/{netdev}/address")).exists());

        let busy = std::fs::write(sys(&format!("{PF0}/sriov_numvfs")), "3");
        assert_eq!(errno_of(busy), Some(Errno::EBUSY as i32));
    }
}

#[test]
fn worker_entry() {
    // run by eight_processes_see_one_host as a child process; nothing to do otherwise
    let (Ok(root), Ok(index)) = (
        std::env::var("SIM_SHARED_WORKER_ROOT"),
        std::env::var("SIM_SHARED_WORKER_INDEX"),
    ) else {
        return;
    };
    worker(Path::new(&root), index.parse().unwrap());
}

#[test]
fn eight_processes_see_one_host() {
    if !privileged() {
        return;
    }
    let mut sim = Sim::start(&[]);
    let children: Vec<_> = (0..8u32)
        .map(|i| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "worker_entry", "--nocapture", "--test-threads=1"])
                .env("SIM_SHARED_WORKER_ROOT", sim.root())
                .env("SIM_SHARED_WORKER_INDEX", i.to_string())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "worker {i}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "worker {i} ran"
        );
    }
    // one consistent host: every worker's last change, on both channels
    let client = sim.client();
    let table = client.vfs("ens2f0").unwrap();
    for i in 0..8u32 {
        assert_eq!(
            u32::from(table[i as usize].state.vlan.id().get()),
            100 + i * 10 + 4
        );
    }
    let names: BTreeSet<String> = std::fs::read_dir(sim.sys("class/net"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let links: BTreeSet<String> = client
        .links(&Netns::Host)
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names, links);
    assert_eq!(names.len(), 11, "{names:?}");
    // the node's backends of a program given this root are the proxy's
    let backends = Backends::open(&HostRoot::new(sim.root())).unwrap();
    assert!(matches!(backends.kind(), BackendKind::Simulated { .. }));
    assert_eq!(backends.net.vfs("ens2f0").unwrap(), table);
    sim.stop();
}

fn bash(cmd: &str) -> Output {
    // bash: dash's echo reports every write error as "I/O error"
    Command::new("bash").args(["-c", cmd]).output().unwrap()
}

#[test]
fn shell_writes_get_the_kernels_errno_and_discover_sees_them_live() {
    if !privileged() {
        return;
    }
    let mut sim = Sim::start(&[]);
    let numvfs = sim.sys(&format!("{PF0}/sriov_numvfs"));
    let n = numvfs.display();
    let out = bash(&format!("echo 2 > {n}"));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Device or resource busy"),
        "{out:?}"
    );
    let out = bash(&format!("echo junk > {n}"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Invalid argument"),
        "{out:?}"
    );
    let out = bash(&format!(
        "cat {}",
        sim.sys("class/net/ens2f0v3/carrier").display()
    ));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Invalid argument"),
        "{out:?}"
    );
    let out = bash(&format!(
        "echo 1 > {}",
        sim.sys(&format!("{PF0}/vendor")).display()
    ));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
        "{out:?}"
    );
    let out = bash(&format!("cat {n}"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "8\n");

    let discover = || -> serde_json::Value {
        serde_json::from_str(&ok(rdmactl(&[
            "discover",
            "--root",
            sim.root_str(),
            "--json",
        ])))
        .unwrap()
    };
    let before = discover();
    assert_eq!(before["pfs"][0]["vfs"].as_array().unwrap().len(), 8);
    assert_eq!(before["pfs"][0]["vfs"][3]["config"]["vlan"], 0);

    // a change through the proxy, read by discover without re-rendering anything
    sim.client()
        .set_vf_vlan(
            "ens2f0",
            3,
            VlanConfig::new(111, 5, VlanProto::Dot1Ad).unwrap(),
        )
        .unwrap();
    let vf3 = &discover()["pfs"][0]["vfs"][3];
    assert_eq!(vf3["config"]["vlan"], 111);
    assert_eq!(vf3["config"]["qos"], 5);
    assert_eq!(vf3["config"]["proto"], "802.1ad");
    assert_eq!(vf3["config"]["link_state"], "auto");

    // the shell disables the VFs, then enables 4
    assert!(bash(&format!("echo 0 > {n}")).status.success());
    assert_eq!(discover()["pfs"][0]["num_vfs"], 0);
    assert!(discover()["pfs"][0]["vfs"].as_array().unwrap().is_empty());
    assert!(bash(&format!("echo 4 > {n}")).status.success());
    let after = discover();
    assert_eq!(after["pfs"][0]["vfs"].as_array().unwrap().len(), 4);
    assert_eq!(
        after["pfs"][0]["vfs"][3]["config"]["vlan"], 0,
        "a new VF table"
    );
    sim.stop();
}

#[test]
fn ibv_devices_reads_the_live_host() {
    if !privileged()
        || !testbed::require!(
            Need::Program("ibv_devices"),
            Need::Program("unshare"),
            Need::File("/etc/libibverbs.d/mlx5.driver")
        )
    {
        return;
    }
    let mut sim = Sim::start(&[]);
    let list = |sim: &Sim| -> BTreeSet<String> {
        let sys = sim.root().join("sys");
        let out = testbed::private_dev::run_with_dev_dir(
            &HostRoot::new(sim.root()).dev_infiniband(),
            "infiniband",
            "ibv_devices",
            &[],
            &[("SYSFS_PATH", sys.to_str().unwrap())],
        )
        .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .skip(2)
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    };
    let all: BTreeSet<String> = (0..10).map(|n| format!("mlx5_{n}")).collect();
    assert_eq!(list(&sim), all);
    std::fs::write(sim.sys(&format!("{PF0}/sriov_numvfs")), "0").unwrap();
    let pfs: BTreeSet<String> = ["mlx5_0", "mlx5_1"].map(String::from).into();
    assert_eq!(list(&sim), pfs, "the VFs' devices are gone at once");
    sim.stop();
}

#[test]
fn stop_without_a_host_is_one_line_and_a_second_start_is_refused() {
    if !privileged() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = rdmactl(&["sim", "stop", "--root", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no simulated host"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1);

    let mut sim = Sim::start(&[]);
    let out = rdmactl(&["sim", "start", "--root", sim.root_str()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already runs"),
        "{out:?}"
    );
    let out = rdmactl(&["sim", "start", "--root", "/nonexistent/dir"]);
    assert!(!out.status.success());
    sim.stop();
}
