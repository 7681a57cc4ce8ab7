//! Replies of the kernel's nldev, decoded by the whole pure layer, and the same bytes fed to
//! iproute2's own parser.
//!
//! This machine's kernel has no RDMA, so no reply could be captured. The constants were built
//! by hand (`tests/capture/replies.py` writes them) from the uapi header (`rdma/rdma_netlink.h`
//! of Debian's linux-libc-dev 6.1: attribute numbers and types) with the attributes the kernel's
//! `drivers/infiniband/core/nldev.c` puts, in its order: `fill_dev_info` (index, name, number of
//! ports, capability flags, firmware, node and system image GUIDs, node type, DIM, protocol),
//! `fill_port_info` for a RoCE port (index, name, port, capability flags, state, physical state,
//! netdev index and name) and `nldev_sys_get_doit` (netns mode, copy-on-fork). A `u64` carries no
//! pad attribute, as on x86-64. The device is a ConnectX-5 like the seed's: `mlx5_0` and
//! `mlx5_1`, firmware 16.35.2000, its PF netdev `ens2f0` with ifindex 4.
//!
//! `iproute2_reads_the_same_bytes` hands these messages to iproute2 6.1's `rdma` through the
//! LD_PRELOAD shim and checks what it prints, so the bytes are what a real nldev parser accepts.

mod common;

use rdma_nl::system::NetnsMode;
use rdma_nl::wire::{self, Attr, Command, Message, Reply};
use rdma_nl::{Device, Port, System, device, port, system};

/// A dump of two devices in one datagram, then `NLMSG_DONE`, answering request 0x6b10354a.
const DEV_DUMP: &[u8] = &[
    0x7c, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00, 0x4a, 0x35, 0x10, 0x6b, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x6d, 0x6c, 0x78, 0x35,
    0x5f, 0x30, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x04, 0x00,
    0x26, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x05, 0x00, 0x31, 0x36, 0x2e, 0x33,
    0x35, 0x2e, 0x32, 0x30, 0x30, 0x30, 0x00, 0x00, 0x0c, 0x00, 0x06, 0x00, 0x4c, 0x05, 0x16, 0x00,
    0x03, 0xa1, 0x42, 0x0c, 0x0c, 0x00, 0x07, 0x00, 0x4c, 0x05, 0x16, 0x00, 0x03, 0xa1, 0x42, 0x0c,
    0x05, 0x00, 0x0e, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x54, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x09, 0x00, 0x43, 0x00, 0x72, 0x6f, 0x63, 0x65, 0x00, 0x00, 0x00, 0x00, 0x7c, 0x00, 0x00, 0x00,
    0x01, 0x14, 0x02, 0x00, 0x4a, 0x35, 0x10, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x6d, 0x6c, 0x78, 0x35, 0x5f, 0x31, 0x00, 0x00,
    0x08, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x26, 0x1c, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x05, 0x00, 0x31, 0x36, 0x2e, 0x33, 0x35, 0x2e, 0x32, 0x30,
    0x30, 0x30, 0x00, 0x00, 0x0c, 0x00, 0x06, 0x00, 0x4d, 0x05, 0x16, 0x00, 0x03, 0xa1, 0x42, 0x0c,
    0x0c, 0x00, 0x07, 0x00, 0x4d, 0x05, 0x16, 0x00, 0x03, 0xa1, 0x42, 0x0c, 0x05, 0x00, 0x0e, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x54, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x43, 0x00,
    0x72, 0x6f, 0x63, 0x65, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00,
    0x4a, 0x35, 0x10, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// The answer to `RDMA_NLDEV_CMD_PORT_GET` of `mlx5_0` port 1: ACTIVE (4), LINK_UP (5), netdev
/// `ens2f0` (4).
const PORT: &[u8] = &[
    0x5c, 0x00, 0x00, 0x00, 0x05, 0x14, 0x00, 0x00, 0x4a, 0x35, 0x10, 0x6b, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x6d, 0x6c, 0x78, 0x35,
    0x5f, 0x30, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x04, 0x00,
    0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00,
    0x05, 0x00, 0x0d, 0x00, 0x05, 0x00, 0x00, 0x00, 0x08, 0x00, 0x32, 0x00, 0x04, 0x00, 0x00, 0x00,
    0x0b, 0x00, 0x33, 0x00, 0x65, 0x6e, 0x73, 0x32, 0x66, 0x30, 0x00, 0x00,
];

/// The answer to `RDMA_NLDEV_CMD_SYS_GET`: netns mode 0 (exclusive), copy-on-fork 1.
const SYS: &[u8] = &[
    0x20, 0x00, 0x00, 0x00, 0x06, 0x14, 0x00, 0x00, 0x4a, 0x35, 0x10, 0x6b, 0x00, 0x00, 0x00, 0x00,
    0x05, 0x00, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x5d, 0x00, 0x01, 0x00, 0x00, 0x00,
];

const SEQ: u32 = 0x6b10_354a;

fn messages(datagram: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut done = false;
    for reply in wire::decode(datagram, SEQ, "golden").unwrap() {
        match reply {
            Reply::Message(m) => out.push(m),
            Reply::Done => done = true,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(done, datagram == DEV_DUMP);
    out
}

fn mlx5(index: u32, guid: u64) -> Device {
    Device {
        index,
        name: format!("mlx5_{index}"),
        ports: Some(1),
        fw_version: Some("16.35.2000".into()),
        node_guid: Some(guid),
        protocol: Some("roce".into()),
    }
}

#[test]
fn a_device_dump() {
    let msgs = messages(DEV_DUMP);
    assert!(msgs.iter().all(|m| m.command == Command::Get));
    let devices: Vec<Device> = msgs
        .iter()
        .map(|m| device::parse(m, "golden").unwrap())
        .collect();
    assert_eq!(
        devices,
        [
            mlx5(0, 0x0c42_a103_0016_054c),
            mlx5(1, 0x0c42_a103_0016_054d)
        ]
    );
    // capability flags, system image GUID, node type and DIM are kept, typed or as bytes
    assert!(msgs[0].attrs.contains(&Attr::Other {
        kind: 4,
        value: 0x1c26u64.to_ne_bytes().to_vec()
    }));
    assert!(msgs[0].attrs.contains(&Attr::Other {
        kind: 84,
        value: vec![1]
    }));
    // every message re-encodes to its own bytes
    let first_len = u32::from_ne_bytes(DEV_DUMP[0..4].try_into().unwrap()) as usize;
    assert_eq!(msgs[0].emit(SEQ), DEV_DUMP[..first_len]);
}

#[test]
fn a_port() {
    let msgs = messages(PORT);
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        port::parse(&msgs[0], "golden").unwrap(),
        Port {
            dev_index: 0,
            dev_name: "mlx5_0".into(),
            port: 1,
            state: Some(4),
            phys_state: Some(5),
            netdev: Some(port::PortNetdev {
                index: 4,
                name: "ens2f0".into()
            }),
        }
    );
    assert_eq!(msgs[0].emit(SEQ), PORT);
}

#[test]
fn the_system_settings() {
    let msgs = messages(SYS);
    assert_eq!(
        system::parse(&msgs[0], "golden").unwrap(),
        System {
            netns_mode: NetnsMode::Exclusive,
            copy_on_fork: Some(true)
        }
    );
    assert_eq!(msgs[0].emit(SEQ), SYS);
}

#[test]
fn a_truncated_reply_is_an_error_not_a_panic() {
    for cut in 1..DEV_DUMP.len() {
        let _ = wire::decode(&DEV_DUMP[..cut], SEQ, "golden");
    }
    // a device message without its name
    let msgs = messages(SYS);
    assert!(matches!(
        device::parse(&msgs[0], "golden"),
        Err(rdma_nl::Error::MissingAttribute {
            attr: "RDMA_NLDEV_ATTR_DEV_INDEX",
            ..
        })
    ));
}

/// The attributes of the first message of `datagram`, as hex (what the shim's reply file holds).
fn body(datagram: &[u8]) -> String {
    let len = u32::from_ne_bytes(datagram[0..4].try_into().unwrap()) as usize;
    common::hex(&datagram[16..len])
}

#[test]
fn iproute2_reads_the_same_bytes() {
    use testbed::Need;
    if !testbed::require!(Need::Program("gcc"), Need::Program("rdma")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let shim = common::build_shim(dir.path());
    let second = u32::from_ne_bytes(DEV_DUMP[0..4].try_into().unwrap()) as usize;
    let replies = dir.path().join("replies");
    std::fs::write(
        &replies,
        format!(
            "1d {}\n1d {}\n1 {}\n5 {}\n6 {}\n",
            body(DEV_DUMP),
            body(&DEV_DUMP[second..]),
            body(DEV_DUMP),
            body(PORT),
            body(SYS)
        ),
    )
    .unwrap();
    let log = dir.path().join("log");
    let run = |args: &[&str]| {
        let out = common::rdma(&shim, &log, Some(&replies), args);
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(
        run(&["dev", "show", "mlx5_0"]).trim_end(),
        "0: mlx5_0: node_type ca fw 16.35.2000 node_guid 0c42:a103:0016:054c \
         sys_image_guid 0c42:a103:0016:054c"
    );
    assert_eq!(
        run(&["link", "show", "mlx5_0/1"]).trim_end(),
        "link mlx5_0/1 state ACTIVE physical_state LINK_UP netdev ens2f0"
    );
    assert_eq!(
        run(&["system", "show"]).trim_end(),
        "netns exclusive copy-on-fork on"
    );
}
