//! The socket layer on this machine's kernel. A kernel without RDMA (no `ib_core`, as here)
//! refuses `NETLINK_RDMA`: every request is then [`Error::NoRdmaNetlink`] naming it, with errno
//! `EPROTONOSUPPORT`, also once converted into an `io::Error`. On a kernel with RDMA the
//! read-only requests succeed.

use std::path::Path;

use rdma_nl::{Error, Handle, NetnsFile, errno_of, in_netns};

fn has_ib_core() -> bool {
    Path::new("/sys/module/ib_core").exists()
}

#[test]
fn read_only_requests_name_themselves_when_there_is_no_rdma_netlink() {
    let mut rdma = Handle::new();
    let results = [
        ("RDMA_NLDEV_CMD_SYS_GET", rdma.system().map(drop)),
        ("RDMA_NLDEV_CMD_GET dump", rdma.devices().map(drop)),
        ("RDMA_NLDEV_CMD_PORT_GET dump", rdma.ports().map(drop)),
    ];
    for (name, result) in results {
        match result {
            Ok(()) => assert!(has_ib_core(), "{name} answered without ib_core"),
            Err(e @ Error::NoRdmaNetlink { request }) => {
                assert_eq!(request, name);
                assert!(!has_ib_core(), "{e}");
                assert_eq!(e.errno(), Some(libc::EPROTONOSUPPORT));
                let text = e.to_string();
                assert!(
                    text.starts_with(&format!("{name}: this kernel has no RDMA netlink")),
                    "{text}"
                );
                let io: std::io::Error = e.into();
                assert_eq!(io.kind(), std::io::ErrorKind::Unsupported);
                assert_eq!(errno_of(&io), Some(libc::EPROTONOSUPPORT));
                assert_eq!(io.to_string(), text);
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

#[test]
fn a_move_names_the_lookup_it_could_not_make() {
    if has_ib_core() {
        eprintln!("SKIP: this kernel has RDMA; moving a device would change the machine");
        return;
    }
    let host = NetnsFile::own().unwrap();
    let err = in_netns(&host, |rdma| {
        let dev = rdma.device_by_name("mlx5_0")?;
        rdma.set_netns(dev.index, &host)
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NoRdmaNetlink {
                request: "RDMA_NLDEV_CMD_GET dump"
            }
        ),
        "{err}"
    );
    // a namespace file that does not exist is ENOENT, named
    let err = NetnsFile::open("/var/run/netns/rdma-nl-test-none").unwrap_err();
    let err = Error::from(err);
    assert_eq!(err.errno(), Some(libc::ENOENT));
    assert!(
        err.to_string().contains("/var/run/netns/rdma-nl-test-none"),
        "{err}"
    );
}
