//! Errors: the CNI error result ([`CniError`], with its [`ErrorCode`]) that plugins print, and
//! this crate's own [`Error`] for operations that fail (parsing, conversion, delegation, cache).

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A CNI error code. Codes 0-99 are reserved by the specification; 100 and up belong to the
/// plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 1: incompatible CNI version.
    IncompatibleVersion,
    /// 2: unsupported field in the network configuration.
    UnsupportedField,
    /// 3: container unknown or does not exist.
    UnknownContainer,
    /// 4: invalid necessary environment variables.
    InvalidEnvironment,
    /// 5: I/O failure.
    IoFailure,
    /// 6: failed to decode content.
    DecodingFailure,
    /// 7: invalid network configuration.
    InvalidNetworkConfig,
    /// 8: invalid network namespace (the reference library's, not in the specification).
    InvalidNetns,
    /// 11: try again later.
    TryAgainLater,
    /// 50: the plugin is not available (STATUS).
    PluginNotAvailable,
    /// 51: the plugin is not available, and existing containers may be damaged (STATUS).
    PluginNotAvailableLimitedConnectivity,
    /// 999: an untyped internal error (the reference library's, not in the specification).
    Internal,
    /// Any other code.
    Other(u32),
}

impl ErrorCode {
    /// The numeric code.
    pub fn code(self) -> u32 {
        match self {
            ErrorCode::IncompatibleVersion => 1,
            ErrorCode::UnsupportedField => 2,
            ErrorCode::UnknownContainer => 3,
            ErrorCode::InvalidEnvironment => 4,
            ErrorCode::IoFailure => 5,
            ErrorCode::DecodingFailure => 6,
            ErrorCode::InvalidNetworkConfig => 7,
            ErrorCode::InvalidNetns => 8,
            ErrorCode::TryAgainLater => 11,
            ErrorCode::PluginNotAvailable => 50,
            ErrorCode::PluginNotAvailableLimitedConnectivity => 51,
            ErrorCode::Internal => 999,
            ErrorCode::Other(c) => c,
        }
    }
}

impl From<u32> for ErrorCode {
    fn from(code: u32) -> Self {
        match code {
            1 => ErrorCode::IncompatibleVersion,
            2 => ErrorCode::UnsupportedField,
            3 => ErrorCode::UnknownContainer,
            4 => ErrorCode::InvalidEnvironment,
            5 => ErrorCode::IoFailure,
            6 => ErrorCode::DecodingFailure,
            7 => ErrorCode::InvalidNetworkConfig,
            8 => ErrorCode::InvalidNetns,
            11 => ErrorCode::TryAgainLater,
            50 => ErrorCode::PluginNotAvailable,
            51 => ErrorCode::PluginNotAvailableLimitedConnectivity,
            999 => ErrorCode::Internal,
            c => ErrorCode::Other(c),
        }
    }
}

impl From<ErrorCode> for u32 {
    fn from(code: ErrorCode) -> u32 {
        code.code()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.code())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u32::deserialize(d).map(ErrorCode::from)
    }
}

/// The CNI error result: `{"cniVersion", "code", "msg", "details"}`, printed on stdout by a
/// failing plugin (which then exits non-zero).
///
/// Its `Display` is `msg` followed by `; details` when there are details, as the reference
/// library prints it.
///
/// ```
/// use cni_types::{CniError, ErrorCode};
///
/// let e = CniError::new(ErrorCode::InvalidNetworkConfig, "Invalid Configuration")
///     .with_details("Network 192.168.0.0/31 too small to allocate from.")
///     .with_version("1.1.0");
/// let back = CniError::parse(&e.emit())?;
/// assert_eq!(back, e);
/// assert_eq!(back.code.code(), 7);
/// # Ok::<(), cni_types::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CniError {
    /// The configuration's version; absent in the output of older plugins.
    #[serde(
        rename = "cniVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cni_version: Option<String>,
    /// The error code.
    pub code: ErrorCode,
    /// A short message.
    #[serde(default)]
    pub msg: String,
    /// A longer explanation (omitted when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
}

impl CniError {
    /// An error with `code` and `msg`, no details, no version.
    pub fn new(code: impl Into<ErrorCode>, msg: impl Into<String>) -> Self {
        CniError {
            cni_version: None,
            code: code.into(),
            msg: msg.into(),
            details: String::new(),
        }
    }

    /// An untyped internal error (code 999), for failures that have no better code.
    pub fn internal(msg: impl fmt::Display) -> Self {
        CniError::new(ErrorCode::Internal, msg.to_string())
    }

    /// Sets the details.
    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = details.into();
        self
    }

    /// Sets `cniVersion`.
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.cni_version = Some(version.into());
        self
    }

    /// Parses an error result.
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(json).map_err(|source| Error::Decode {
            what: "error result",
            source,
        })
    }

    /// Encodes as JSON bytes, what a plugin writes on stdout.
    pub fn emit(&self) -> Vec<u8> {
        self.emit_string().into_bytes()
    }

    /// Encodes as a JSON string, the same text as [`CniError::emit`].
    pub fn emit_string(&self) -> String {
        crate::to_json_string(self)
    }
}

impl fmt::Display for CniError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.details.is_empty() {
            write!(f, "{}", self.msg)
        } else {
            write!(f, "{}; {}", self.msg, self.details)
        }
    }
}

impl std::error::Error for CniError {}

/// What failed in this crate, and on what.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A version string did not parse.
    #[error("invalid version {input:?}: {reason}")]
    ParseVersion {
        /// The input.
        input: String,
        /// Why.
        reason: String,
    },
    /// JSON did not decode into the expected shape.
    #[error("decoding {what}: {source}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A `VERSION` output did not decode.
    #[error("decoding version info: {0}")]
    VersionInfo(String),
    /// A result's `cniVersion` is not one of the versions of the layout it was parsed as.
    #[error("result type supports [{}] but unmarshalled CNIVersion is {found:?}", supported.join(" "))]
    ResultVersionMismatch {
        /// The versions of the layout.
        supported: &'static [&'static str],
        /// The version found.
        found: String,
    },
    /// No result layout is defined for this version.
    #[error("unsupported CNI result version {0:?}")]
    UnsupportedResultVersion(String),
    /// A result cannot be converted between these versions.
    #[error("no converter for CNI result version {from} to {to}")]
    NoConverter {
        /// Source version.
        from: String,
        /// Target version.
        to: String,
    },
    /// A result without any IP address cannot be expressed in 0.1.0/0.2.0.
    #[error("cannot convert: no valid IP addresses")]
    NoValidIp,
    /// A configuration's `prevResult` did not parse.
    #[error("could not parse prevResult: {0}")]
    PrevResult(Box<Error>),
    /// A plugin configuration is invalid.
    #[error("error parsing configuration: {0}")]
    Conf(String),
    /// A configuration list is invalid.
    #[error("error parsing configuration list: {0}")]
    ConfList(String),
    /// A plugin inside a configuration list is invalid.
    #[error("failed to parse plugin config {index}: {source}")]
    ConfListPlugin {
        /// Index in `plugins`.
        index: usize,
        /// Why.
        source: Box<Error>,
    },
    /// `CNI_ARGS` is malformed or has unknown keys.
    #[error("ARGS: {0}")]
    Args(String),
    /// A plugin name is not a plain file name.
    #[error("invalid plugin name: {0}")]
    InvalidPluginName(String),
    /// A plugin was not found in `CNI_PATH`.
    #[error("failed to find plugin {plugin:?} in path {paths:?}")]
    PluginNotFound {
        /// The plugin type.
        plugin: String,
        /// The directories searched.
        paths: Vec<PathBuf>,
    },
    /// A plugin could not be run.
    #[error("failed to run plugin {path}: {source}")]
    ExecPlugin {
        /// The plugin binary.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A plugin ran and reported an error.
    #[error("plugin {path} failed: {error}")]
    Plugin {
        /// The plugin binary.
        path: PathBuf,
        /// Its error result.
        error: CniError,
    },
    /// A plugin's output did not parse.
    #[error("plugin {path} returned invalid output: {reason}")]
    PluginOutput {
        /// The plugin binary.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A command is not allowed at this configuration version.
    #[error("configuration version {version:?} does not support the {command} command")]
    CommandNotSupported {
        /// The command.
        command: &'static str,
        /// The configuration's version.
        version: String,
    },
    /// A runner step on one plugin of a list failed.
    #[error("plugin type={plugin:?} failed ({op}): {source}")]
    ListPlugin {
        /// The operation (`add`, `check`, `delete`, `GC`, `STATUS`).
        op: &'static str,
        /// The plugin's type.
        plugin: String,
        /// Why.
        source: Box<Error>,
    },
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A cached result is unusable.
    #[error("failed to get network {network:?} cached result: {reason}")]
    Cache {
        /// The network name.
        network: String,
        /// Why.
        reason: String,
    },
    /// An identifier (container ID, network or interface name) is invalid.
    #[error("{0}")]
    Validation(CniError),
    /// Several independent steps failed (GC).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Several(Vec<Error>),
    /// A Kubernetes (Multus) input is invalid.
    #[error("{what}: {reason}")]
    Multus {
        /// What was being parsed.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// The CNI error code this error maps to at a plugin's boundary.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::ParseVersion { .. }
            | Error::Decode { .. }
            | Error::VersionInfo(_)
            | Error::ResultVersionMismatch { .. }
            | Error::PrevResult(_) => ErrorCode::DecodingFailure,
            Error::UnsupportedResultVersion(_)
            | Error::NoConverter { .. }
            | Error::CommandNotSupported { .. } => ErrorCode::IncompatibleVersion,
            Error::Conf(_) | Error::ConfList(_) | Error::ConfListPlugin { .. } => {
                ErrorCode::InvalidNetworkConfig
            }
            Error::Multus { .. } => ErrorCode::InvalidNetworkConfig,
            Error::Args(_) => ErrorCode::InvalidEnvironment,
            Error::Io { .. } => ErrorCode::IoFailure,
            Error::Plugin { error, .. } | Error::Validation(error) => error.code,
            Error::Several(errors) => errors
                .first()
                .map(Error::code)
                .unwrap_or(ErrorCode::Internal),
            Error::ListPlugin { source, .. } => source.code(),
            Error::NoValidIp
            | Error::InvalidPluginName(_)
            | Error::PluginNotFound { .. }
            | Error::ExecPlugin { .. }
            | Error::PluginOutput { .. }
            | Error::Cache { .. } => ErrorCode::Internal,
        }
    }

    /// The delegated plugin's own error result, when this error is one.
    pub fn plugin_error(&self) -> Option<&CniError> {
        match self {
            Error::Plugin { error, .. } | Error::Validation(error) => Some(error),
            Error::ListPlugin { source, .. } => source.plugin_error(),
            _ => None,
        }
    }
}

impl From<Error> for CniError {
    /// A delegated plugin's error passes through unchanged; any other error becomes
    /// `{code: err.code(), msg: err.to_string()}`.
    fn from(err: Error) -> CniError {
        if let Some(e) = err.plugin_error() {
            return e.clone();
        }
        CniError::new(err.code(), err.to_string())
    }
}
