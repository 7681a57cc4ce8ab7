//! The `RdmaOps` host trait: the RDMA subsystem's network-namespace mode and moving an RDMA
//! device between namespaces, the operations `rdma system set netns` and `rdma dev set <dev>
//! netns <ns>` perform over RDMA netlink (`NETLINK_RDMA`). Errors are `std::io::Error` with the
//! kernel's errno:
//! - setting the mode while any namespace other than the initial one exists: EBUSY (setting the
//!   mode it already has succeeds);
//! - moving a device in `shared` mode: EOPNOTSUPP;
//! - moving a device that is not in (or not visible from) the source namespace: ENODEV;
//! - a namespace that does not exist: ENOENT.
//!
//! The simulator in `sysfs-sim` implements it over its kernel model. There is no real backend
//! in this crate yet: it needs RDMA netlink, which kernels built without InfiniBand lack.

use std::fmt;
use std::io;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Netns;

/// The RDMA subsystem's network-namespace mode (`rdma system show netns`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RdmaNetnsMode {
    /// Every RDMA device is visible in every namespace; devices cannot be moved (the default).
    #[default]
    Shared,
    /// Each device belongs to one namespace and is visible only there; devices can be moved,
    /// and return to the initial namespace when theirs is deleted.
    Exclusive,
}

impl fmt::Display for RdmaNetnsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RdmaNetnsMode::Shared => "shared",
            RdmaNetnsMode::Exclusive => "exclusive",
        })
    }
}

/// The text was neither `shared` nor `exclusive`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid RDMA netns mode {0:?} (expected shared or exclusive)")]
pub struct RdmaNetnsModeError(pub String);

impl FromStr for RdmaNetnsMode {
    type Err = RdmaNetnsModeError;

    /// Parses `shared` or `exclusive` as `rdma system show` prints them.
    ///
    /// ```
    /// use sriov_core::RdmaNetnsMode;
    /// assert_eq!("exclusive".parse::<RdmaNetnsMode>().unwrap(), RdmaNetnsMode::Exclusive);
    /// assert!("both".parse::<RdmaNetnsMode>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "shared" => Ok(RdmaNetnsMode::Shared),
            "exclusive" => Ok(RdmaNetnsMode::Exclusive),
            other => Err(RdmaNetnsModeError(other.to_string())),
        }
    }
}

/// RDMA netns operations. See the module docs for errno.
pub trait RdmaOps: Send + Sync {
    /// The current mode.
    fn netns_mode(&self) -> io::Result<RdmaNetnsMode>;
    /// Sets the mode (EBUSY while a non-initial namespace exists, unless unchanged).
    fn set_netns_mode(&self, mode: RdmaNetnsMode) -> io::Result<()>;
    /// The RDMA devices visible from `ns` (`ip netns exec <ns> rdma dev`), sorted by name.
    fn devices(&self, ns: &Netns) -> io::Result<Vec<String>>;
    /// Moves device `ibdev`, which is in `from`, to `to` (`ip netns exec <from> rdma dev set
    /// <ibdev> netns <to>`). Moving to the namespace it is already in succeeds.
    fn move_device(&self, from: &Netns, ibdev: &str, to: &Netns) -> io::Result<()>;
    /// The network namespaces other than the initial one, each by one of its files, sorted:
    /// while any exists the mode cannot change (what [`change_netns_mode`] names in its
    /// error). A backend that cannot tell answers `Unsupported` (the default).
    fn other_namespaces(&self) -> io::Result<Vec<Netns>> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this RDMA backend cannot list network namespaces",
        ))
    }
}

/// Sets the RDMA netns mode under the kernel's rule, saying what breaks it: the mode can change
/// only while no network namespace other than the initial one exists (the kernel, and the
/// simulator, answer `EBUSY` otherwise), and then the error is
/// [`Error::RdmaNetnsModeBusy`](crate::Error::RdmaNetnsModeBusy) listing the namespaces that
/// exist. Any other failure is an [`Error::Host`](crate::Error::Host) naming the operation.
///
/// ```
/// use sriov_core::{rdma_ops::change_netns_mode, Netns, RdmaNetnsMode};
/// let host = sysfs_sim::Preset::Reference.build(1).unwrap();
/// let rdma = host.rdma_ops();
/// let pod = host.add_netns("pod1").unwrap();
/// let err = change_netns_mode(&rdma, RdmaNetnsMode::Exclusive).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "set the RDMA netns mode to exclusive: it can change only while no network namespace \
///      other than the initial one exists, and these exist: /var/run/netns/pod1"
/// );
/// host.del_netns(&pod).unwrap();
/// change_netns_mode(&rdma, RdmaNetnsMode::Exclusive).unwrap();
/// ```
pub fn change_netns_mode(rdma: &impl RdmaOps, mode: RdmaNetnsMode) -> crate::Result<()> {
    let host_error = |source| {
        crate::Error::Host(Box::new(crate::HostError {
            op: crate::HostOp::SetRdmaNetnsMode(mode),
            target: crate::HostTarget::RdmaSubsystem,
            source,
        }))
    };
    match rdma.set_netns_mode(mode) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => match rdma.other_namespaces() {
            Ok(namespaces) if !namespaces.is_empty() => {
                Err(crate::Error::RdmaNetnsModeBusy { mode, namespaces })
            }
            // none left by now, or none the backend can name: the kernel's answer as it is
            _ => Err(host_error(e)),
        },
        Err(e) => Err(host_error(e)),
    }
}

/// Forwards every call, so `&backend`, `Arc<backend>` and `Box<dyn RdmaOps>` are backends too.
macro_rules! forward_rdma_ops {
    ($($ty:ty),+) => {$(
        impl<T: RdmaOps + ?Sized> RdmaOps for $ty {
            fn netns_mode(&self) -> io::Result<RdmaNetnsMode> {
                (**self).netns_mode()
            }
            fn set_netns_mode(&self, mode: RdmaNetnsMode) -> io::Result<()> {
                (**self).set_netns_mode(mode)
            }
            fn devices(&self, ns: &Netns) -> io::Result<Vec<String>> {
                (**self).devices(ns)
            }
            fn move_device(&self, from: &Netns, ibdev: &str, to: &Netns) -> io::Result<()> {
                (**self).move_device(from, ibdev, to)
            }
            fn other_namespaces(&self) -> io::Result<Vec<Netns>> {
                (**self).other_namespaces()
            }
        }
    )+};
}

forward_rdma_ops!(&T, std::sync::Arc<T>, Box<T>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_round_trips_through_text_and_json() {
        for mode in [RdmaNetnsMode::Shared, RdmaNetnsMode::Exclusive] {
            assert_eq!(mode.to_string().parse::<RdmaNetnsMode>().unwrap(), mode);
            let json = serde_json::to_string(&mode).unwrap();
            assert_eq!(json, format!("\"{mode}\""));
            assert_eq!(serde_json::from_str::<RdmaNetnsMode>(&json).unwrap(), mode);
        }
        assert_eq!(RdmaNetnsMode::default(), RdmaNetnsMode::Shared);
        assert_eq!(
            "Shared".parse::<RdmaNetnsMode>(),
            Err(RdmaNetnsModeError("Shared".into()))
        );
    }
}
