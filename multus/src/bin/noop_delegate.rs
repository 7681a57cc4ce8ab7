//! `multus-noop-delegate`: a CNI plugin that does nothing, for the meta plugin's tests and
//! figures. Configured by its `noop` key:
//!
//! - `recordDir`: append `<COMMAND> <network> <ifname> netns=<CNI_NETNS>` to `<recordDir>/calls.log` and keep the
//!   stdin it got as `<recordDir>/<COMMAND>-<network>-<ifname>[-<tag>].json` (`tag`: to tell
//!   two plugins of one list apart), and its `RDMA_SRIOV_HOST_ROOT` as
//!   `<recordDir>/root-<COMMAND>-<ifname>`;
//! - `failOn` (`ADD`, `DEL`, `CHECK`, `STATUS`, `GC`), `code`, `msg`: fail that command with that error;
//! - `ip`: the address ADD reports (`10.9.0.2/24`).
//!
//! ADD returns its `prevResult` when chained, else one interface (CNI_IFNAME in CNI_NETNS).

use std::io::Write;
use std::path::PathBuf;

use cni_types::skel::{Plugin, Request};
use cni_types::{CniError, ErrorCode, Interface, IpConfig, Result100};
use serde_json::Value;

struct Noop;

fn key<'a>(req: &'a Request, name: &str) -> Option<&'a Value> {
    req.config.extra.get("noop").and_then(|n| n.get(name))
}

fn visit(req: &Request) -> Result<(), CniError> {
    let command = req.command.as_str();
    if let Some(dir) = key(req, "recordDir").and_then(Value::as_str) {
        let dir = PathBuf::from(dir);
        let tag = key(req, "tag")
            .and_then(Value::as_str)
            .map(|t| format!("-{t}"))
            .unwrap_or_default();
        let io = |e: std::io::Error| CniError::new(ErrorCode::IoFailure, e.to_string());
        std::fs::create_dir_all(&dir).map_err(io)?;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("calls.log"))
            .map_err(io)?;
        writeln!(
            log,
            "{command} {} {} netns={}",
            req.config.name, req.ifname, req.netns
        )
        .map_err(io)?;
        std::fs::write(
            dir.join(format!(
                "{command}-{}-{}{tag}.json",
                req.config.name, req.ifname
            )),
            &req.stdin,
        )
        .map_err(io)?;
        let root = std::env::var("RDMA_SRIOV_HOST_ROOT").unwrap_or_default();
        std::fs::write(dir.join(format!("root-{command}-{}", req.ifname)), root).map_err(io)?;
    }
    if key(req, "failOn").and_then(Value::as_str) == Some(command) {
        let code = key(req, "code")
            .and_then(Value::as_u64)
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(999);
        let msg = key(req, "msg")
            .and_then(Value::as_str)
            .unwrap_or("noop delegate asked to fail");
        return Err(CniError::new(code, msg));
    }
    Ok(())
}

impl Plugin for Noop {
    fn add(&mut self, req: &Request) -> Result<Result100, CniError> {
        visit(req)?;
        if let Some(prev) = req.prev_result()? {
            return Ok(prev);
        }
        let mut result = Result100::new();
        result.interfaces.push(Interface {
            name: req.ifname.clone(),
            mac: "02:00:00:00:00:01".into(),
            sandbox: req.netns.clone(),
            ..Default::default()
        });
        if let Some(ip) = key(req, "ip").and_then(Value::as_str) {
            let address = ip.parse().map_err(|e| {
                CniError::new(ErrorCode::InvalidNetworkConfig, format!("noop.ip: {e}"))
            })?;
            result.ips.push(IpConfig {
                interface: Some(0),
                address,
                gateway: None,
            });
        }
        Ok(result)
    }

    fn del(&mut self, req: &Request) -> Result<(), CniError> {
        visit(req)
    }

    fn check(&mut self, req: &Request) -> Result<(), CniError> {
        visit(req)
    }

    fn status(&mut self, req: &Request) -> Result<(), CniError> {
        visit(req)
    }

    fn gc(&mut self, req: &Request) -> Result<(), CniError> {
        visit(req)
    }
}

fn main() {
    cni_types::skel::run(Noop)
}
