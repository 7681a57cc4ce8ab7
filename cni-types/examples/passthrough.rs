//! `passthrough`: the smallest complete CNI plugin, and this crate's documentation in code.
//!
//! - ADD returns the `prevResult` (or an empty result) in the configuration's version;
//! - DEL, GC and STATUS succeed;
//! - CHECK requires a `prevResult`.
//!
//! Build it with `cargo build -p cni-types --example passthrough`, then run it as a runtime
//! would:
//!
//! ```sh
//! echo '{"cniVersion":"1.1.0","name":"n","type":"passthrough"}' |
//!   CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_NETNS=/var/run/netns/x CNI_IFNAME=eth0 \
//!   CNI_PATH=/usr/lib/cni target/debug/examples/passthrough
//! ```

use cni_types::skel::{self, Plugin, Request};
use cni_types::{CniError, ErrorCode, Result100};

/// The plugin has no state: everything it needs comes with each request.
struct Passthrough;

impl Plugin for Passthrough {
    fn about(&self) -> String {
        "CNI passthrough plugin (cni-types example)".to_string()
    }

    fn add(&mut self, req: &Request) -> Result<Result100, CniError> {
        // `prev_result` parses the prevResult in the configuration's version and converts it
        // to the current layout; the skeleton converts what we return back to that version.
        Ok(req.prev_result()?.unwrap_or_else(Result100::new))
    }

    fn del(&mut self, _req: &Request) -> Result<(), CniError> {
        Ok(())
    }

    fn check(&mut self, req: &Request) -> Result<(), CniError> {
        match req.prev_result()? {
            Some(_) => Ok(()),
            None => Err(CniError::new(
                ErrorCode::InvalidNetworkConfig,
                "CHECK requires a prevResult",
            )),
        }
    }

    fn status(&mut self, _req: &Request) -> Result<(), CniError> {
        Ok(())
    }

    fn gc(&mut self, _req: &Request) -> Result<(), CniError> {
        // Nothing is kept between calls, so nothing can be left over.
        Ok(())
    }
}

fn main() {
    skel::run(Passthrough)
}
