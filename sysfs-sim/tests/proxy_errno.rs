//! One test body, two hosts (turmoil style): the same calls and assertions on a simulated host
//! in this process and on the same kind of host through the host-ops proxy (a server on a unix
//! socket, as the shared host's daemon serves it). A proxied failure must be the very
//! `io::Error` the simulator gives: same errno, same kind, same message.

use std::io;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::Arc;

use sriov_core::host_proxy::{ProxyClient, ProxyServer};
use sriov_core::{LinkState, MacAddress, NetOps, Netns, RdmaOps, Sysfs, VlanConfig, VlanProto};
use sysfs_sim::shared::SharedHost;
use sysfs_sim::{Fault, FaultOp, Preset, SimHost, Target, Trigger};

/// The three traits of one host, however it is reached.
struct Host<'a> {
    net: &'a dyn NetOps,
    rdma: &'a dyn RdmaOps,
    fs: &'a dyn Sysfs,
    sim: &'a SimHost,
}

fn errno<T: std::fmt::Debug>(r: io::Result<T>) -> i32 {
    let e = r.expect_err("must fail");
    e.raw_os_error()
        .unwrap_or_else(|| panic!("no errno in {e}"))
}

const NUMVFS: &str = "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs";

fn the_kernels_answers(h: &Host<'_>) -> Vec<String> {
    let p = Path::new;
    let mut seen = Vec::new();
    let mut check = |what: &str, got: i32, want: i32| {
        assert_eq!(got, want, "{what}");
        seen.push(format!("{what}: {}", io::Error::from_raw_os_error(got)));
    };
    // sysfs
    check(
        "numvfs 2 with 8 enabled",
        errno(h.fs.write(p(NUMVFS), "2")),
        libc::EBUSY,
    );
    check(
        "numvfs junk",
        errno(h.fs.write(p(NUMVFS), "junk")),
        libc::EINVAL,
    );
    check(
        "numvfs 9 of 8",
        errno(h.fs.write(p(NUMVFS), "9")),
        libc::ERANGE,
    );
    check(
        "write read-only vendor",
        errno(h.fs.write(p("/sys/bus/pci/devices/0000:3b:00.0/vendor"), "1")),
        libc::EACCES,
    );
    check(
        "carrier of a down link",
        errno(h.fs.read(p("/sys/class/net/ens2f0v3/carrier"))),
        libc::EINVAL,
    );
    check(
        "missing attribute",
        errno(h.fs.read(p("/sys/nope"))),
        libc::ENOENT,
    );
    check(
        "list a file",
        errno(h.fs.read_dir(p("/sys/class/net/ens2f0/mtu"))),
        libc::ENOTDIR,
    );
    check(
        "readlink of a file",
        errno(h.fs.read_link(p("/sys/class/net/ens2f0/mtu"))),
        libc::EINVAL,
    );
    check(
        "unbind junk",
        errno(h.fs.write(p("/sys/bus/pci/drivers/mlx5_core/unbind"), "junk")),
        libc::ENODEV,
    );
    // netlink
    check(
        "rename onto a taken name",
        errno(h.net.rename_link(&Netns::Host, "ens2f0v0", "ens2f0v1")),
        libc::EEXIST,
    );
    h.net.set_link_up(&Netns::Host, "ens2f0v0", true).unwrap();
    check(
        "rename an up link (6.1)",
        errno(h.net.rename_link(&Netns::Host, "ens2f0v0", "net1")),
        libc::EBUSY,
    );
    check(
        "a missing link",
        errno(h.net.link(&Netns::Host, "nope0")),
        libc::ENODEV,
    );
    check(
        "mtu 10",
        errno(h.net.set_link_mtu(&Netns::Host, "ens2f0v1", 10)),
        libc::EINVAL,
    );
    let multicast = MacAddress([0x01, 0, 0x5e, 0, 0, 1]);
    check(
        "multicast admin MAC",
        errno(h.net.set_vf_mac("ens2f0", 3, multicast)),
        libc::EINVAL,
    );
    check(
        "VF 99",
        errno(h.net.set_vf_trust("ens2f0", 99, true)),
        libc::EINVAL,
    );
    check(
        "VF table of a missing PF",
        errno(h.net.vfs("nope0")),
        libc::ENODEV,
    );
    check(
        "move into a missing namespace",
        errno(
            h.net
                .move_link(&Netns::Host, "ens2f0v2", &Netns::named("no-such-ns")),
        ),
        libc::ENOENT,
    );
    // RDMA netlink
    check(
        "move an RDMA device in shared mode",
        errno(h.rdma.move_device(&Netns::Host, "mlx5_5", &Netns::Host)),
        libc::EOPNOTSUPP,
    );
    check(
        "move a missing RDMA device",
        errno(h.rdma.move_device(&Netns::Host, "mlx5_99", &Netns::Host)),
        libc::ENODEV,
    );
    // an injected fault reaches the caller as the kernel's would
    h.sim.inject(Fault::new(
        FaultOp::SetVf,
        Target::Exact("ens2f0/vf3".into()),
        libc::EAGAIN,
        Trigger::Once,
    ));
    check(
        "injected EAGAIN",
        errno(h.net.set_vf_link_state("ens2f0", 3, LinkState::Enable)),
        libc::EAGAIN,
    );
    // and what succeeds is seen by the next call
    let vlan = VlanConfig::new(111, 2, VlanProto::Dot1Q).unwrap();
    h.net.set_vf_vlan("ens2f0", 3, vlan).unwrap();
    assert_eq!(h.net.vfs("ens2f0").unwrap()[3].state.vlan, vlan);
    h.fs.write(p(NUMVFS), "0").unwrap();
    assert_eq!(h.fs.read(p(NUMVFS)).unwrap(), "0\n");
    assert!(h.net.vfs("ens2f0").unwrap().is_empty());
    assert!(h.rdma.devices(&Netns::Host).unwrap().len() == 2);
    seen
}

#[test]
fn the_simulator_in_process() {
    let sim = Preset::Reference.build(7).unwrap();
    let (net, rdma, fs) = (sim.net_ops(), sim.rdma_ops(), sim.sysfs());
    let seen = the_kernels_answers(&Host {
        net: &net,
        rdma: &rdma,
        fs: &fs,
        sim: &sim,
    });
    assert_eq!(seen.len(), 20);
}

#[test]
fn the_simulator_through_the_proxy() {
    let sim = Preset::Reference.build(7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("host.sock");
    let server = ProxyServer::spawn(
        UnixListener::bind(&socket).unwrap(),
        Arc::new(SharedHost::new(sim.clone())),
    )
    .unwrap();
    let client = ProxyClient::new(&socket);
    let seen_proxied = the_kernels_answers(&Host {
        net: &client,
        rdma: &client,
        fs: &client,
        sim: &sim,
    });
    server.stop();
    // the same messages as in process (the errno's text)
    let local = Preset::Reference.build(7).unwrap();
    let (net, rdma, fs) = (local.net_ops(), local.rdma_ops(), local.sysfs());
    let seen_local = the_kernels_answers(&Host {
        net: &net,
        rdma: &rdma,
        fs: &fs,
        sim: &local,
    });
    assert_eq!(seen_proxied, seen_local);
    // and both hosts did the same to their kernels
    assert_eq!(sim.op_log(), local.op_log());
}

#[test]
fn a_dead_server_is_not_an_errno() {
    let dir = tempfile::tempdir().unwrap();
    let client = ProxyClient::new(dir.path().join("nobody.sock"));
    let err = client.links(&Netns::Host).unwrap_err();
    assert_eq!(err.raw_os_error(), None, "{err}");
    assert!(err.to_string().contains("nobody.sock"), "{err}");
}

#[test]
fn many_threads_share_one_client() {
    let sim = Preset::Reference.build(3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("host.sock");
    let server = ProxyServer::spawn(
        UnixListener::bind(&socket).unwrap(),
        Arc::new(SharedHost::new(sim.clone())),
    )
    .unwrap();
    let client = ProxyClient::new(&socket);
    std::thread::scope(|s| {
        for vf in 0..8u32 {
            let client = client.clone();
            s.spawn(move || {
                for round in 0..20u32 {
                    let vlan =
                        VlanConfig::new(100 + vf * 10 + round % 10, 0, VlanProto::Dot1Q).unwrap();
                    client.set_vf_vlan("ens2f0", vf, vlan).unwrap();
                    assert_eq!(client.vfs("ens2f0").unwrap()[vf as usize].state.vlan, vlan);
                }
            });
        }
    });
    server.stop();
    let table = sim.net_ops().vfs("ens2f0").unwrap();
    for vf in 0..8u32 {
        assert_eq!(
            table[vf as usize].state.vlan.id().get() as u32,
            100 + vf * 10 + 9
        );
    }
}
