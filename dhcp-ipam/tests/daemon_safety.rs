//! The `rdma-dhcp` daemon is safe by default: private modes whatever the umask, requests only
//! from root (or an allowed uid), no stall from a client that stops talking, and lease timers
//! that a jump of the wall clock does not move.

mod client_peers;

use client_peers::Daemon as DaemonProcess;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dhcp_codec::Time;
use dhcp_ipam::clock::{Clock, ClockStamp};
use dhcp_ipam::cni::daemon::{Daemon, DaemonConfig, PEER_NOT_ALLOWED};
use dhcp_ipam::cni::{DaemonRequest, call};
use testbed::Need;
use testbed::dhcp::{Dnsmasq, LeafPod, POD_IF};

const BIN: &str = env!("CARGO_BIN_EXE_rdma-dhcp");

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

fn ipam_conf(socket: &Path) -> String {
    format!(
        r#"{{"cniVersion":"1.1.0","name":"n","type":"sriov","ipam":{{"type":"rdma-dhcp","daemonSocketPath":"{}","timeout":2}}}}"#,
        socket.display()
    )
}

#[test]
fn started_under_umask_000_every_file_is_private() {
    if !testbed::require!(Need::Root, Need::Netns) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("run/cni/rdma-dhcp.sock");
    let state = dir.path().join("var/lib/cni/rdma-dhcp");
    let _daemon =
        DaemonProcess::start_at(&socket, &state, &dir.path().join("daemon.log"), "000", &[]);
    assert_eq!(mode(&socket), 0o600, "socket");
    assert_eq!(mode(socket.parent().unwrap()), 0o700, "socket directory");
    assert_eq!(mode(&state), 0o700, "state directory");

    // a lease record, written while an ADD waits (for the loopback of a namespace with no
    // server: the ADD times out, the record is there meanwhile)
    let pod = testbed::Netns::new("um").unwrap();
    let add = {
        let socket = socket.clone();
        let netns = pod.path();
        std::thread::spawn(move || {
            call(
                &socket,
                &DaemonRequest::Add {
                    container_id: "umask-pod".into(),
                    netns,
                    ifname: "lo".into(),
                    timeout_secs: 2,
                },
                Duration::from_secs(10),
            )
        })
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    let record = loop {
        let found = std::fs::read_dir(&state)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "json"));
        if let Some(p) = found {
            break p;
        }
        assert!(Instant::now() < deadline, "no lease record appeared");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(mode(&record), 0o600, "lease record {}", record.display());
    let answer = add.join().unwrap().unwrap();
    assert!(!answer.ok, "no server: the ADD must time out");
}

#[test]
fn a_client_of_another_user_is_refused_unless_allowed() {
    if !testbed::require!(Need::Root) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("rdma-dhcp.sock");
    let state = dir.path().join("state");
    // widen what the daemon made private, so the only thing left to refuse uid 65534 is the
    // daemon's own check of its peer
    let widen = |socket: &Path| {
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    };
    let status_as_nobody = |socket: &Path| {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new(BIN)
            .env_clear()
            .env("CNI_COMMAND", "STATUS")
            .env("CNI_PATH", "/usr/lib/cni")
            .uid(65534)
            .gid(65534)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ipam_conf(socket).as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };

    let daemon =
        DaemonProcess::start_at(&socket, &state, &dir.path().join("daemon.log"), "022", &[]);
    widen(&socket);
    let out = status_as_nobody(&socket);
    assert!(!out.status.success());
    let err = cni_types::CniError::parse(&out.stdout).unwrap();
    assert_eq!(err.code.code(), PEER_NOT_ALLOWED, "{err}");
    assert!(err.msg.contains("uid 65534"), "{}", err.msg);
    // root is still served
    assert!(
        call(&socket, &DaemonRequest::Status, Duration::from_secs(2))
            .unwrap()
            .ok
    );
    drop(daemon);

    let _daemon = DaemonProcess::start_at(
        &socket,
        &state,
        &dir.path().join("daemon.log"),
        "022",
        &["--allow-uid", "65534"],
    );
    widen(&socket);
    let out = status_as_nobody(&socket);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_stalled_client_does_not_hold_up_the_others() {
    if !testbed::require!(Need::Root) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("rdma-dhcp.sock");
    let _daemon = DaemonProcess::start_at(
        &socket,
        &dir.path().join("state"),
        &dir.path().join("daemon.log"),
        "022",
        &[],
    );
    // clients that connect and never finish their request line
    let mut stalled: Vec<UnixStream> = (0..8)
        .map(|_| UnixStream::connect(&socket).unwrap())
        .collect();
    stalled[0].write_all(br#"{"op":"sta"#).unwrap();
    // another client is answered all the same, at once: a daemon that waited on the stalled
    // ones (2 s each before) would not answer within the timeout
    for _ in 0..3 {
        let answer = call(&socket, &DaemonRequest::Status, Duration::from_secs(2)).unwrap();
        assert!(answer.ok);
    }
    // and the stalled connections are closed in the end
    let mut buf = [0u8; 64];
    stalled[1]
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    use std::io::Read;
    assert_eq!(
        stalled[1].read(&mut buf).unwrap(),
        0,
        "closed without an answer"
    );
}

/// A clock whose monotonic reading follows real time from a base, and whose wall reading can
/// be moved.
struct MovableClock {
    start: Instant,
    boot_id: &'static str,
    wall_shift_ms: AtomicU64,
}

impl MovableClock {
    fn new(boot_id: &'static str) -> Self {
        MovableClock {
            start: Instant::now(),
            boot_id,
            wall_shift_ms: AtomicU64::new(0),
        }
    }
}

impl Clock for MovableClock {
    fn now(&self) -> Time {
        Time::from_millis(10_000_000 + self.start.elapsed().as_millis() as u64)
    }

    fn stamp(&self) -> ClockStamp {
        ClockStamp {
            boot_id: Some(self.boot_id.into()),
            monotonic: self.now(),
            wall: Time::now() + Duration::from_millis(self.wall_shift_ms.load(Ordering::Relaxed)),
        }
    }
}

/// The daemon running in this process on a clock of the test's, stopped when dropped.
struct InProcessDaemon {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcessDaemon {
    fn start(cfg: &DaemonConfig, clock: Arc<MovableClock>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, cfg_for_thread) = (stop.clone(), cfg.clone());
        let thread = std::thread::spawn(move || {
            let mut d = Daemon::start_with_clock(&cfg_for_thread, clock).unwrap();
            d.run(&flag).unwrap();
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while call(&cfg.socket, &DaemonRequest::Status, Duration::from_secs(1)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the in-process daemon did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        InProcessDaemon {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for InProcessDaemon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn listed(socket: &Path) -> dhcp_ipam::cni::ListEntry {
    let answer = call(socket, &DaemonRequest::List, Duration::from_secs(2)).unwrap();
    assert_eq!(answer.entries.len(), 1, "{answer:?}");
    answer.entries[0].clone()
}

#[test]
fn a_wall_clock_jump_neither_expires_nor_extends_a_lease() {
    if !testbed::require!(Need::Root, Need::Netns, Need::Program("dnsmasq")) {
        return;
    }
    let bed = LeafPod::new();
    let _server = bed.dnsmasq(Dnsmasq {
        lease_secs: 120,
        ..Dnsmasq::default()
    });
    let socket = bed.dir.path().join("d.sock");
    let cfg = DaemonConfig::new(&socket, bed.dir.path().join("state"));
    let clock = Arc::new(MovableClock::new("boot-1"));
    let daemon = InProcessDaemon::start(&cfg, clock.clone());

    let out = client_peers::run_plugin(
        "ADD",
        "jump-pod",
        &bed.pod_path(),
        POD_IF,
        &ipam_conf(&socket).replace("\"timeout\":2", "\"timeout\":20"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let before = listed(&socket);
    assert_eq!(before.state, "BOUND");
    let lease = before.lease.clone().unwrap();

    // the wall clock jumps a day ahead (longer than the lease): nothing happens to the lease
    clock.wall_shift_ms.store(86_400_000, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(1500));
    let after = listed(&socket);
    assert_eq!(after.state, "BOUND");
    assert_eq!(after.lease.as_ref().unwrap().acquired_at, lease.acquired_at);

    // the daemon restarts in the same boot with the wall clock still a day ahead: the stored
    // lease is resumed as it was, not found expired
    drop(daemon);
    let _daemon = InProcessDaemon::start(&cfg, clock);
    let resumed = listed(&socket);
    assert_eq!(resumed.state, "BOUND", "{resumed:?}");
    let resumed = resumed.lease.unwrap();
    assert_eq!(resumed.address, lease.address);
    assert_eq!(resumed.expires_at(), lease.expires_at());
    assert_eq!(
        resumed.renew_at, lease.renew_at,
        "renewals neither earlier nor later"
    );
}

#[test]
fn planted_records_are_refused_not_resumed() {
    if !testbed::require!(Need::Root) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("rdma-dhcp.sock");
    let state = dir.path().join("state");
    state_files::create_private_dir(&state).unwrap();
    let record = r#"{"key":"planted/net1","netns":"/proc/1/ns/net","ifname":"lo","client_id":"0001","chaddr":"02:00:00:00:00:01","lease":null}"#;
    // a record behind a link, one of another user, one others can write
    let elsewhere = dir.path().join("elsewhere.json");
    std::fs::write(&elsewhere, record).unwrap();
    std::os::unix::fs::symlink(&elsewhere, state.join("planted%2Fnet1.json")).unwrap();
    let foreign = state.join("foreign%2Fnet1.json");
    std::fs::write(&foreign, record.replace("planted", "foreign")).unwrap();
    std::os::unix::fs::chown(&foreign, Some(65534), None).unwrap();
    let open = state.join("open%2Fnet1.json");
    std::fs::write(&open, record.replace("planted", "open")).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o666)).unwrap();

    let _daemon =
        DaemonProcess::start_at(&socket, &state, &dir.path().join("daemon.log"), "022", &[]);
    let answer = call(&socket, &DaemonRequest::List, Duration::from_secs(2)).unwrap();
    assert!(answer.entries.is_empty(), "{:?}", answer.entries);
    assert_eq!(
        std::fs::read_to_string(&elsewhere).unwrap(),
        record,
        "never written through"
    );
}
