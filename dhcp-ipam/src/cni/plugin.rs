//! The short-lived plugin side: a [`cni_types::skel::Plugin`] that forwards each command to
//! the node daemon and turns its answer into a CNI result or error.

use std::path::PathBuf;
use std::time::Duration;

use cni_types::skel::{Plugin, Request};
use cni_types::{CniError, ErrorCode, Result100};

use super::{DaemonRequest, DaemonResponse, IpamConf, call, lease_key, lease_result};

/// The `rdma-dhcp` IPAM plugin.
#[derive(Debug, Default)]
pub struct RdmaDhcp;

fn ipam_conf(req: &Request) -> Result<IpamConf, CniError> {
    let Some(ipam) = &req.config.ipam else {
        return Ok(IpamConf::default());
    };
    serde_json::from_value(serde_json::Value::Object(ipam.extra.clone())).map_err(|e| {
        CniError::new(
            ErrorCode::InvalidNetworkConfig,
            format!("invalid ipam section: {e}"),
        )
    })
}

fn ask(conf: &IpamConf, req: &DaemonRequest, wait: Duration) -> Result<DaemonResponse, CniError> {
    let socket = conf.socket();
    let resp = call(&socket, req, wait).map_err(|e| {
        CniError::new(
            ErrorCode::TryAgainLater,
            format!("rdma-dhcp daemon at {}: {e}", socket.display()),
        )
        .with_details("start it with `rdma-dhcp daemon`")
    })?;
    if resp.ok {
        Ok(resp)
    } else {
        Err(CniError::new(
            resp.code.unwrap_or(ErrorCode::Internal),
            resp.msg,
        ))
    }
}

impl Plugin for RdmaDhcp {
    fn about(&self) -> String {
        "CNI rdma-dhcp IPAM plugin (DHCPv4 leases kept by a node daemon)".into()
    }

    fn add(&mut self, req: &Request) -> Result<Result100, CniError> {
        let conf = ipam_conf(req)?;
        let timeout = conf.timeout();
        let resp = ask(
            &conf,
            &DaemonRequest::Add {
                container_id: req.container_id.clone(),
                netns: PathBuf::from(&req.netns),
                ifname: req.ifname.clone(),
                timeout_secs: timeout.as_secs(),
            },
            timeout + Duration::from_secs(5),
        )?;
        let lease = resp
            .lease
            .ok_or_else(|| CniError::internal("the daemon answered ADD without a lease"))?;
        Ok(lease_result(&lease))
    }

    fn del(&mut self, req: &Request) -> Result<(), CniError> {
        let conf = ipam_conf(req)?;
        ask(
            &conf,
            &DaemonRequest::Del {
                container_id: req.container_id.clone(),
                ifname: req.ifname.clone(),
            },
            Duration::from_secs(15),
        )
        .map(drop)
    }

    fn check(&mut self, req: &Request) -> Result<(), CniError> {
        let conf = ipam_conf(req)?;
        let resp = ask(
            &conf,
            &DaemonRequest::Check {
                container_id: req.container_id.clone(),
                netns: PathBuf::from(&req.netns),
                ifname: req.ifname.clone(),
            },
            Duration::from_secs(15),
        )?;
        // The prevResult must name the leased address.
        if let (Some(prev), Some(lease)) = (req.prev_result()?, resp.lease) {
            let want = ipnet::IpNet::V4(lease.address);
            if !prev.ips.iter().any(|ip| ip.address == want) {
                return Err(CniError::internal(format!(
                    "prevResult does not hold the leased address {want} of {}",
                    lease_key(&req.container_id, &req.ifname)
                )));
            }
        }
        Ok(())
    }

    fn status(&mut self, req: &Request) -> Result<(), CniError> {
        let conf = ipam_conf(req)?;
        let resp = call(
            &conf.socket(),
            &DaemonRequest::Status,
            Duration::from_secs(5),
        )
        .map_err(|e| {
            CniError::new(
                ErrorCode::PluginNotAvailable,
                format!("rdma-dhcp daemon at {}: {e}", conf.socket().display()),
            )
        })?;
        if resp.ok {
            Ok(())
        } else {
            Err(CniError::new(
                resp.code.unwrap_or(ErrorCode::PluginNotAvailable),
                resp.msg,
            ))
        }
    }

    fn gc(&mut self, req: &Request) -> Result<(), CniError> {
        let conf = ipam_conf(req)?;
        // Without a list of valid attachments there is nothing to tell garbage by.
        let Some(valid) = &req.valid_attachments else {
            return Ok(());
        };
        let keep = valid
            .iter()
            .map(|a| lease_key(&a.container_id, &a.ifname))
            .collect();
        ask(&conf, &DaemonRequest::Gc { keep }, Duration::from_secs(60)).map(drop)
    }
}
