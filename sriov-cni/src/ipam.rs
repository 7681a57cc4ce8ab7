//! IPAM as the engine sees it: addresses for an attachment after its link is up, released on
//! undo. [`DelegatedIpam`] runs the netconf's `ipam.type` plugin through `cni-types` (the
//! binaries); [`NoIpam`] gives no address and releases nothing (no `ipam` section, and the
//! reconciler, which has no netconf to run an IPAM plugin with).

use cni_types::Result100;
use cni_types::skel::Request;
use sriov_core::Netns;
use sriov_core::pool::Owner;

use crate::error::{Error, Result};

/// Addresses for attachments.
pub trait Ipam {
    /// IPAM ADD for `owner`, whose interface is up in `netns`.
    fn add(&mut self, owner: &Owner, netns: &Netns) -> Result<Result100>;
    /// IPAM DEL for `owner` (must succeed when there is nothing to release).
    fn del(&mut self, owner: &Owner, netns: &Netns) -> Result<()>;
}

/// No IPAM: an empty result, nothing to release.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIpam;

impl Ipam for NoIpam {
    fn add(&mut self, _owner: &Owner, _netns: &Netns) -> Result<Result100> {
        Ok(Result100::new())
    }
    fn del(&mut self, _owner: &Owner, _netns: &Netns) -> Result<()> {
        Ok(())
    }
}

/// The netconf's IPAM plugin, run from `CNI_PATH` with the request's stdin and environment.
/// Zero addresses is an error ([`Error::IpamNoAddresses`]).
#[derive(Debug)]
pub struct DelegatedIpam<'a> {
    /// The request being served.
    pub request: &'a Request,
    /// `ipam.type`.
    pub plugin: String,
}

impl Ipam for DelegatedIpam<'_> {
    fn add(&mut self, _owner: &Owner, _netns: &Netns) -> Result<Result100> {
        let result = self
            .request
            .delegate_add(&self.plugin)
            .map_err(|source| Error::Ipam {
                plugin: self.plugin.clone(),
                command: "ADD",
                source,
            })?;
        if result.ips.is_empty() {
            return Err(Error::IpamNoAddresses {
                plugin: self.plugin.clone(),
            });
        }
        Ok(result)
    }

    fn del(&mut self, _owner: &Owner, _netns: &Netns) -> Result<()> {
        self.request
            .delegate_del(&self.plugin)
            .map_err(|source| Error::Ipam {
                plugin: self.plugin.clone(),
                command: "DEL",
                source,
            })
    }
}
