//! Whole requests (netlink header included) compared byte for byte with what iproute2 sends.
//!
//! Every constant below was captured with iproute2 6.1.0 (`rdma -V`: `rdma utility,
//! iproute2-6.1.0`, Debian 12) by `tests/capture-iproute2.sh`: this kernel (Linux 6.18) has no
//! `NETLINK_RDMA`, so the tool ran with the LD_PRELOAD shim `tests/capture/nl_rdma_shim.c`, which
//! stands in for the kernel's socket, logs every request it is sent and answers it (one device,
//! `mlx5_0` with index 5). Each `rdma` command first dumps the devices (`DEV_DUMP`), then sends
//! its own request. iproute2 numbers its requests from the clock and leaves the port id 0: both
//! sides are compared with the sequence number (bytes 8..12) zeroed.
//!
//! `live_capture_matches` re-runs the capture (gcc, rdma; SKIP otherwise) and compares again, so
//! a change of the tool or of the shim shows.

mod common;

use std::path::Path;

use common::{hex, unhex};

use rdma_nl::system::{self, NetnsMode};
use rdma_nl::{Request, device, port};

/// First request of every `rdma` command: `RDMA_NLDEV_CMD_GET` (0x1401) with `NLM_F_REQUEST |
/// NLM_F_ACK | NLM_F_DUMP` (0x0305), no attributes.
const DEV_DUMP: &str = "10000000011405034a35106b00000000";
/// `rdma dev` then asks for each device: `RDMA_NLDEV_CMD_GET`, `NLM_F_REQUEST | NLM_F_ACK`,
/// `RDMA_NLDEV_ATTR_DEV_INDEX` 5.
const DEV_GET: &str = "18000000011405004a35106b000000000800010005000000";
/// `rdma link`: `RDMA_NLDEV_CMD_PORT_GET` (0x1405) of device 5 port 1.
const PORT_GET: &str = "20000000051405004a35106b0000000008000100050000000800030001000000";
/// `rdma system show`: `RDMA_NLDEV_CMD_SYS_GET` (0x1406), no attributes.
const SYS_GET: &str = "10000000061405004a35106b00000000";
/// `rdma system set netns exclusive`: `RDMA_NLDEV_CMD_SYS_SET` (0x1407),
/// `RDMA_NLDEV_SYS_ATTR_NETNS_MODE` (66) u8 0: exclusive is 0 on the wire.
const SYS_SET_EXCLUSIVE: &str = "18000000071405004a35106b000000000500420000000000";
/// `rdma system set netns shared`: the same with 1.
const SYS_SET_SHARED: &str = "18000000071405004a35106b000000000500420001000000";
/// `rdma dev set mlx5_0 netns rdmacap-pod`: `RDMA_NLDEV_CMD_SET` (0x1402) of device 5 with
/// `RDMA_NLDEV_NET_NS_FD` (68) 4, the descriptor iproute2 had the namespace file open as.
const DEV_SET_NETNS: &str = "20000000021405004a35106b0000000008000100050000000800440004000000";

/// `bytes` with the sequence number zeroed.
fn normalised(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[8..12].fill(0);
    out
}

fn assert_sends(request: &Request, iproute2: &str) {
    assert_eq!(
        normalised(&request.encode(0x1234_5678)),
        normalised(&unhex(iproute2)),
        "{}",
        request.name
    );
}

#[test]
fn device_dump_and_get() {
    assert_sends(&device::dump(), DEV_DUMP);
    assert_sends(&device::get(5), DEV_GET);
}

#[test]
fn port_get() {
    assert_sends(&port::get(5, 1), PORT_GET);
}

#[test]
fn system_get_and_set() {
    assert_sends(&system::get(), SYS_GET);
    assert_sends(
        &system::set_netns_mode(NetnsMode::Exclusive),
        SYS_SET_EXCLUSIVE,
    );
    assert_sends(&system::set_netns_mode(NetnsMode::Shared), SYS_SET_SHARED);
}

#[test]
fn move_to_a_namespace_by_fd() {
    assert_sends(&device::set_netns(5, 4), DEV_SET_NETNS);
}

/// The requests `rdma <args>` sends under the shim, normalised, one hex string each.
fn capture(shim: &Path, dir: &Path, args: &[&str]) -> Vec<String> {
    let log = dir.join("requests.log");
    let _ = std::fs::remove_file(&log);
    common::rdma(shim, &log, None, args);
    std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| normalised_hex(l.trim()))
        .collect()
}

fn normalised_hex(s: &str) -> String {
    hex(&normalised(&unhex(s)))
}

#[test]
fn live_capture_matches() {
    use testbed::Need;
    if !testbed::require!(Need::Program("gcc"), Need::Program("rdma")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let shim = common::build_shim(dir.path());
    let n = normalised_hex;
    assert_eq!(
        capture(&shim, dir.path(), &["dev"]),
        [n(DEV_DUMP), n(DEV_GET)]
    );
    assert_eq!(
        capture(&shim, dir.path(), &["link"]),
        [n(DEV_DUMP), n(PORT_GET)]
    );
    assert_eq!(
        capture(&shim, dir.path(), &["system", "show"]),
        [n(DEV_DUMP), n(SYS_GET)]
    );
    assert_eq!(
        capture(&shim, dir.path(), &["system", "set", "netns", "exclusive"]),
        [n(DEV_DUMP), n(SYS_SET_EXCLUSIVE)]
    );
    if testbed::require!(Need::Root, Need::Netns) {
        let ns = testbed::Netns::new("rdmacap").unwrap();
        let got = capture(
            &shim,
            dir.path(),
            &["dev", "set", "mlx5_0", "netns", ns.name()],
        );
        assert_eq!(got, [n(DEV_DUMP), n(DEV_SET_NETNS)]);
    }
}
