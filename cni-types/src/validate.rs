//! Validation of the identifiers a runtime passes: container ID, interface name, network name.
//! Each failure is the exact [`CniError`] (code, message, details) the reference library gives.
//!
//! ```
//! use cni_types::validate;
//!
//! assert!(validate::container_id("a51debf7e1eb").is_ok());
//! assert_eq!(validate::interface_name("test name").unwrap_err().code.code(), 4);
//! assert_eq!(validate::network_name("te%%st").unwrap_err().code.code(), 7);
//! ```

use crate::{CniError, ErrorCode};

/// Longest interface name in bytes (the kernel's `IFNAMSIZ - 1`).
pub const MAX_IFNAME_LEN: usize = 15;

/// True when `s` matches `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`.
pub fn is_valid_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// Checks a container ID: empty is code 3 `missing containerID`, other characters code 4.
pub fn container_id(id: &str) -> Result<(), CniError> {
    if id.is_empty() {
        return Err(CniError::new(
            ErrorCode::UnknownContainer,
            "missing containerID",
        ));
    }
    if !is_valid_identifier(id) {
        return Err(CniError::new(
            ErrorCode::InvalidEnvironment,
            "invalid characters in containerID",
        )
        .with_details(id));
    }
    Ok(())
}

/// Checks an interface name: 1-15 bytes, not `.` or `..`, no `/`, `:` or whitespace (code 4).
pub fn interface_name(name: &str) -> Result<(), CniError> {
    let err = |msg: &str| CniError::new(ErrorCode::InvalidEnvironment, msg);
    if name.is_empty() {
        return Err(err("interface name is empty"));
    }
    if name.len() > MAX_IFNAME_LEN {
        return Err(err("interface name is too long")
            .with_details("interface name should be less than 16 characters"));
    }
    if name == "." || name == ".." {
        return Err(err("interface name is . or .."));
    }
    if name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        return Err(err(
            "interface name contains / or : or whitespace characters",
        ));
    }
    Ok(())
}

/// Checks a network name: empty is `missing network name`, other characters
/// `invalid characters found in network name` (both code 7).
pub fn network_name(name: &str) -> Result<(), CniError> {
    if name.is_empty() {
        return Err(CniError::new(
            ErrorCode::InvalidNetworkConfig,
            "missing network name",
        ));
    }
    if !is_valid_identifier(name) {
        return Err(CniError::new(
            ErrorCode::InvalidNetworkConfig,
            "invalid characters found in network name",
        )
        .with_details(name));
    }
    Ok(())
}
