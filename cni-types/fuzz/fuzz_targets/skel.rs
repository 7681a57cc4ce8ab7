//! The skeleton on arbitrary stdin: exit code 0 or 1, stdout empty or JSON, no panic.
#![no_main]

use cni_types::skel::{self, Plugin, Request};
use cni_types::{CniError, Result100};
use libfuzzer_sys::fuzz_target;

struct Echo;

impl Plugin for Echo {
    fn add(&mut self, req: &Request) -> Result<Result100, CniError> {
        Ok(req.prev_result()?.unwrap_or_default())
    }
    fn del(&mut self, _req: &Request) -> Result<(), CniError> {
        Ok(())
    }
    fn check(&mut self, req: &Request) -> Result<(), CniError> {
        req.prev_result().map(|_| ())
    }
}

fuzz_target!(|data: &[u8]| {
    let (cmd, stdin) = match data.split_first() {
        Some((c, rest)) => (["ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION"][*c as usize % 6], rest),
        None => ("ADD", data),
    };
    let getenv = |k: &str| {
        Some(
            match k {
                "CNI_COMMAND" => cmd,
                "CNI_CONTAINERID" => "ctr",
                "CNI_NETNS" => "/var/run/netns/x",
                "CNI_IFNAME" => "eth0",
                "CNI_PATH" => "/usr/lib/cni",
                _ => return None,
            }
            .to_string(),
        )
    };
    let mut input = stdin;
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = skel::run_with(&mut Echo, &getenv, &mut input, &mut out, &mut err);
    assert!(code == 0 || code == 1);
    if !out.is_empty() {
        serde_json::from_slice::<serde_json::Value>(&out).unwrap();
    }
});
