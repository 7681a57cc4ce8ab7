//! DHCPv4 leasing for pod interfaces: a sans-I/O client, lease persistence, renewals, a
//!
//! - [`codec`]: typed DHCPv4 messages over `dhcproto` (parse/emit, padded to 300 bytes, no
//!   length trusted).
//! - [`error`]: the crate's one error type, [`Error`].
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod codec;
pub mod error;

pub use error::{Error, Result};
