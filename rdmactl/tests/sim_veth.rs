//! `rdmactl sim start --veth`: the reference host's netdevs are real veths whose peers sit on
//! per-VLAN bridges of a fabric namespace, so a VF's VLAN decides what it reaches. A real ISC
//! dhcpd behind `br111` leases an address to a real DHCP client (busybox udhcpc) in a pod
//! namespace holding VF 3 on VLAN 111, and none to a VF without that VLAN; deleting a pod
//! namespace brings its VF back to the host (`dev<N>` on a clash) in the kernel and the model;
//! `sim stop` leaves nothing behind. Root, iproute2, dhcpd and udhcpc; skips without them.
//!
//! The host's netdevs go in a namespace of the test's own (`--host-netns`), so that the test
//! never puts links in the machine's namespace and several runs never share a name.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sriov_core::host_proxy::ProxyClient;
use sriov_core::node::HostRoot;
use sriov_core::{NetOps, Netns, VlanConfig, VlanProto};
use testbed::{ChildGuard, Need};

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

fn ip(args: &[&str]) -> Output {
    Command::new("ip").args(args).output().unwrap()
}

/// Polls `done` until it holds, for at most 10 s (the daemon notices a deleted namespace on
/// its next tick); true when it did.
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

const HOOK: &str = r#"#!/bin/sh
case "$1" in
  deconfig) ip -4 addr flush dev "$interface" ;;
  bound|renew) ip addr add "$ip/${mask:-24}" dev "$interface" ;;
esac
exit 0
"#;

/// One DORA by udhcpc on `ifname` in `pod`; the address it got, if any.
fn lease(pod: &testbed::Netns, ifname: &str, hook: &Path) -> Option<String> {
    let out = pod
        .command("udhcpc")
        .args(["-i", ifname, "-n", "-q", "-f", "-t", "4", "-T", "1", "-s"])
        .arg(hook)
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let addrs = pod.ip(&["-4", "-o", "addr", "show", "dev", ifname]).ok()?;
    addrs
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .map(|a| a.split('/').next().unwrap_or(a).to_string())
}

/// ISC dhcpd in `leaf` on `sw0`, serving 192.168.111.10-250.
fn dhcpd(leaf: &testbed::Netns, work: &Path) -> ChildGuard {
    let conf = work.join("dhcpd.conf");
    std::fs::write(
        &conf,
        "authoritative;\nddns-update-style none;\nping-check false;\n\
         default-lease-time 600;\nmax-lease-time 7200;\n\
         subnet 192.168.111.0 netmask 255.255.255.0 {\n  range 192.168.111.10 192.168.111.250;\n}\n",
    )
    .unwrap();
    let leases = work.join("dhcpd.leases");
    std::fs::write(&leases, b"").unwrap();
    let child = leaf
        .command("dhcpd")
        .args(["-4", "-f", "-d", "-cf"])
        .arg(&conf)
        .arg("-lf")
        .arg(&leases)
        .arg("-pf")
        .arg(work.join("dhcpd.pid"))
        .arg("sw0")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(work.join("dhcpd.log")).unwrap())
        .spawn()
        .unwrap();
    let guard = ChildGuard::new(child);
    let listening = eventually(|| {
        leaf.command("ss")
            .args(["-Hlun", "sport = :67"])
            .output()
            .is_ok_and(|o| !o.stdout.is_empty())
    });
    assert!(listening, "dhcpd did not open udp/67");
    // the raw socket it answers on opens next to udp/67
    std::thread::sleep(Duration::from_millis(300));
    guard
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn vlan_111_leases_and_a_deleted_pod_returns_its_vf() {
    if !testbed::require!(
        Need::Root,
        Need::Netns,
        Need::File("/dev/fuse"),
        Need::Program("dhcpd"),
        Need::Program("udhcpc"),
        Need::Program("ss")
    ) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("node");
    std::fs::create_dir(&root).unwrap();
    let root_s = root.to_str().unwrap();
    let common::VethHost {
        fabric,
        host_ns,
        pid,
    } = common::start_veth_host(&root);
    let stop = || ok(rdmactl(&["sim", "stop", "--root", root_s]));
    let result = std::panic::catch_unwind(|| {
        scenario(&root, &fabric, &host_ns, work.path());
    });
    stop();
    // nothing left, each checked by its handle
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "daemon left");
    for ns in [&fabric, &host_ns] {
        assert!(
            !Path::new("/var/run/netns").join(ns).exists(),
            "namespace {ns} left"
        );
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(root_s), "mount left");
    assert!(!HostRoot::new(&root).proxy_socket().exists());
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn scenario(root: &Path, fabric: &str, host_ns: &str, work: &Path) {
    let client = ProxyClient::new(HostRoot::new(root).proxy_socket());
    let sys = |rel: &str| root.join("sys").join(rel);
    let in_host = |args: &[&str]| {
        let mut a = vec!["-n", host_ns];
        a.extend_from_slice(args);
        ip(&a)
    };

    // every PF and VF netdev is a veth with the simulator's name and MAC
    for name in ["ens2f0", "ens2f1", "ens2f0v0", "ens2f0v3", "ens2f0v7"] {
        let out = in_host(&["-d", "-o", "link", "show", name]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.contains("veth"), "{name}: {text}");
        let mac = client.link(&Netns::Host, name).unwrap().mac.unwrap();
        let sim_mac = std::fs::read_to_string(sys(&format!("class/net/{name}/address"))).unwrap();
        assert_eq!(format!("{mac}\n"), sim_mac);
        assert!(text.contains(&mac.to_string()), "{name}: {text}");
    }

    // the leaf: a DHCP server on br111
    let leaf = testbed::Netns::new("lf").unwrap();
    let port = testbed::unique_name("lp");
    let out = ip(&[
        "link",
        "add",
        "sw0",
        "netns",
        leaf.name(),
        "type",
        "veth",
        "peer",
        "name",
        &port,
        "netns",
        fabric,
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        ip(&["-n", fabric, "link", "set", &port, "master", "br111", "up"])
            .status
            .success()
    );
    leaf.ip(&["addr", "add", "192.168.111.1/24", "dev", "sw0"])
        .unwrap();
    leaf.ip(&["link", "set", "sw0", "up"]).unwrap();
    let _server = dhcpd(&leaf, work);
    let hook = work.join("hook.sh");
    std::fs::write(&hook, HOOK).unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    // VF 3 on VLAN 111 into a pod, as the SR-IOV plugin would
    let pod = testbed::Netns::new("pd").unwrap();
    let pod_ns = Netns::Path(pod.path());
    client
        .set_vf_vlan(
            "ens2f0",
            3,
            VlanConfig::new(111, 0, VlanProto::Dot1Q).unwrap(),
        )
        .unwrap();
    client.move_link(&Netns::Host, "ens2f0v3", &pod_ns).unwrap();
    client.rename_link(&pod_ns, "ens2f0v3", "net1").unwrap();
    client.set_link_up(&pod_ns, "net1", true).unwrap();
    // the kernel and the model agree: gone from the host's /sys/class/net and the VF's net/
    assert!(!in_host(&["link", "show", "ens2f0v3"]).status.success());
    assert!(!names_in(&sys("class/net")).contains(&"ens2f0v3".to_string()));
    assert!(names_in(&sys("bus/pci/devices/0000:3b:00.5/net")).is_empty());
    assert!(pod.ip(&["link", "show", "net1"]).unwrap().contains("UP"));
    // the pod's view (the proxy's per-namespace sysfs) has it
    let view = ok(rdmactl(&[
        "ibdev2netdev",
        "--root",
        root.to_str().unwrap(),
        "--netns",
        pod.path().to_str().unwrap(),
    ]));
    assert!(view.contains("mlx5_5 port 1 ==> net1 (Up)"), "{view}");

    let leased = lease(&pod, "net1", &hook).expect("VF 3 on VLAN 111 gets a lease");
    assert!(leased.starts_with("192.168.111."), "{leased}");

    // VF 2 without VLAN 111: on br0, it reaches no server
    let pod2 = testbed::Netns::new("pd").unwrap();
    let pod2_ns = Netns::Path(pod2.path());
    client
        .move_link(&Netns::Host, "ens2f0v2", &pod2_ns)
        .unwrap();
    client.set_link_up(&pod2_ns, "ens2f0v2", true).unwrap();
    assert_eq!(
        lease(&pod2, "ens2f0v2", &hook),
        None,
        "VLAN 0 must not reach br111"
    );

    // moving VF 2 to VLAN 111 moves its fabric port: now it gets one
    client
        .set_vf_vlan(
            "ens2f0",
            2,
            VlanConfig::new(111, 0, VlanProto::Dot1Q).unwrap(),
        )
        .unwrap();
    assert!(lease(&pod2, "ens2f0v2", &hook).is_some());

    // deleting the pod brings VF 3 back, under its name
    drop(pod);
    assert!(
        eventually(|| in_host(&["link", "show", "net1"]).status.success()),
        "VF 3's netdev back in the host (kernel)"
    );
    assert!(eventually(|| sys("class/net/net1").exists()));
    assert_eq!(names_in(&sys("bus/pci/devices/0000:3b:00.5/net")), ["net1"]);
    let back = client.link(&Netns::Host, "net1").unwrap();
    assert!(!back.admin_up, "a returned netdev is down");

    // a clash: VF 2, renamed in its pod to a name the host has, comes back as dev<N>
    client.set_link_up(&pod2_ns, "ens2f0v2", false).unwrap();
    client.rename_link(&pod2_ns, "ens2f0v2", "ens2f1").unwrap();
    drop(pod2);
    assert!(
        eventually(|| in_host(&["link", "show", "dev0"]).status.success()),
        "renamed dev0 in the kernel"
    );
    assert!(eventually(|| names_in(&sys(
        "bus/pci/devices/0000:3b:00.4/net"
    )) == ["dev0"]));
    assert!(client.link(&Netns::Host, "dev0").is_ok());
    assert!(
        client.link(&Netns::Host, "ens2f1").is_ok(),
        "the PF keeps its name"
    );

    // disabling the VFs removes their veths
    std::fs::write(sys("bus/pci/devices/0000:3b:00.0/sriov_numvfs"), "0").unwrap();
    assert!(!in_host(&["link", "show", "dev0"]).status.success());
    assert!(!in_host(&["link", "show", "ens2f0v0"]).status.success());
    assert!(in_host(&["link", "show", "ens2f0"]).status.success());
}
