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

    /// The CNI error for a failure of another crate: `msg` is `err`'s message and `details`
    /// the messages of its [`source`](std::error::Error::source) chain, outermost first,
    /// joined with `": "`. A cause whose message already ends the previous one (the usual
    /// `"{what}: {source}"` message) is not repeated. This is what a crate builds its
    /// `From<TheirError> for CniError` on:
    ///
    /// ```
    /// use cni_types::{CniError, ErrorCode};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// enum AttachError {
    ///     #[error("move VF 0000:3b:00.2 into {netns}")]
    ///     Move { netns: String, source: std::io::Error },
    ///     #[error("VF 0000:3b:00.2 is allocated to {owner}")]
    ///     Busy { owner: String },
    /// }
    ///
    /// impl From<&AttachError> for CniError {
    ///     fn from(e: &AttachError) -> CniError {
    ///         let code = match e {
    ///             AttachError::Move { .. } => ErrorCode::IoFailure,
    ///             AttachError::Busy { .. } => ErrorCode::TryAgainLater,
    ///         };
    ///         CniError::from_error(code, e)
    ///     }
    /// }
    ///
    /// let e = AttachError::Move {
    ///     netns: "/var/run/netns/pod1".into(),
    ///     source: std::io::Error::from(std::io::ErrorKind::NotFound),
    /// };
    /// let cni = CniError::from(&e);
    /// assert_eq!(cni.code.code(), 5);
    /// assert_eq!(cni.msg, "move VF 0000:3b:00.2 into /var/run/netns/pod1");
    /// assert_eq!(cni.details, "entity not found");
    /// ```
    pub fn from_error(code: impl Into<ErrorCode>, err: &dyn std::error::Error) -> Self {
        let msg = err.to_string();
        let mut causes: Vec<String> = Vec::new();
        let mut previous = msg.clone();
        let mut next = err.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            if !previous.ends_with(&text) {
                causes.push(text.clone());
            }
            previous = text;
            next = cause.source();
        }
        CniError::new(code, msg).with_details(causes.join(": "))
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
    /// An in-process run of a plugin ([`crate::testing`]) did not end as its caller expected
    /// (a result asked for from a failed run, or an error result from a successful one).
    #[error(
        "in-process plugin run exited with {exit_code}, expected {expected_exit_code}; stdout {stdout:?}"
    )]
    UnexpectedOutcome {
        /// The exit code the caller expected (0 for a result, 1 for an error result).
        expected_exit_code: i32,
        /// The exit code of the run.
        exit_code: i32,
        /// What the run printed on stdout.
        stdout: String,
    },
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
    /// The CNI error code this error maps to at a plugin's boundary (what [`CniError::from`]
    /// puts in `code`). The reference library gives a typed code only where the
    /// specification names the failure; anything else is its untyped 999, and so here:
    ///
    /// | variant | code | why |
    /// | --- | --- | --- |
    /// | [`ParseVersion`](Error::ParseVersion) | 6 decoding failure | a version string in a document does not parse: the document's content is bad |
    /// | [`Decode`](Error::Decode) | 6 decoding failure | JSON that does not decode, the specification's example of code 6 |
    /// | [`VersionInfo`](Error::VersionInfo) | 6 decoding failure | a plugin's `VERSION` answer does not decode |
    /// | [`ResultVersionMismatch`](Error::ResultVersionMismatch) | 6 decoding failure | a result's `cniVersion` contradicts the layout it must be read in (libcni's decoder error) |
    /// | [`PrevResult`](Error::PrevResult) | 6 decoding failure | the configuration's `prevResult` does not decode |
    /// | [`UnsupportedResultVersion`](Error::UnsupportedResultVersion) | 1 incompatible version | no result layout exists for that version |
    /// | [`NoConverter`](Error::NoConverter) | 1 incompatible version | the result cannot be given in the version asked for |
    /// | [`CommandNotSupported`](Error::CommandNotSupported) | 1 incompatible version | the configuration's version has no such command (CHECK before 0.4.0), as the skeleton answers |
    /// | [`Conf`](Error::Conf), [`ConfList`](Error::ConfList), [`ConfListPlugin`](Error::ConfListPlugin) | 7 invalid network config | the configuration or list is well-formed JSON but not a valid configuration |
    /// | [`Multus`](Error::Multus) | 7 invalid network config | a NetworkAttachmentDefinition or networks annotation is the meta plugin's configuration |
    /// | [`Args`](Error::Args) | 4 invalid environment | `CNI_ARGS` is an environment variable |
    /// | [`Io`](Error::Io) | 5 I/O failure | a file operation failed |
    /// | [`Plugin`](Error::Plugin) | the plugin's own code | a delegated plugin's error is passed on as it gave it |
    /// | [`Validation`](Error::Validation) | the check's code (3, 4 or 7) | container ID, interface and network name checks carry the reference library's codes |
    /// | [`ListPlugin`](Error::ListPlugin) | its source's code | the runner only adds which plugin of the list failed |
    /// | [`Several`](Error::Several) | the first error's code (999 for none) | one code must stand for all; the first failure is the one reported first |
    /// | [`NoValidIp`](Error::NoValidIp) | 999 internal | the reference library's conversion error is untyped |
    /// | [`InvalidPluginName`](Error::InvalidPluginName), [`PluginNotFound`](Error::PluginNotFound) | 999 internal | libcni's `FindInPath` errors are untyped |
    /// | [`ExecPlugin`](Error::ExecPlugin), [`PluginOutput`](Error::PluginOutput) | 999 internal | the plugin could not be run or printed something that is no result: nothing the specification types |
    /// | [`Cache`](Error::Cache) | 999 internal | the runtime's own result cache, not the plugin's input |
    /// | [`UnexpectedOutcome`](Error::UnexpectedOutcome) | 999 internal | a test expectation ([`crate::testing`]), never a plugin's failure |
    ///
    /// ```
    /// use cni_types::{Error, ErrorCode};
    ///
    /// let e = Error::Args("unknown args [\"FOO\"]".into());
    /// assert_eq!(e.code(), ErrorCode::InvalidEnvironment);
    /// assert_eq!(cni_types::CniError::from(&e).code.code(), 4);
    /// ```
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
            | Error::Cache { .. }
            | Error::UnexpectedOutcome { .. } => ErrorCode::Internal,
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

impl From<&Error> for CniError {
    /// A delegated plugin's error (and a validation error, which is the reference library's
    /// exact result) passes through unchanged; any other error becomes
    /// [`CniError::from_error`]`(err.code(), err)`: its message and its source chain.
    fn from(err: &Error) -> CniError {
        match err.plugin_error() {
            Some(e) => e.clone(),
            None => CniError::from_error(err.code(), err),
        }
    }
}

impl From<Error> for CniError {
    /// As [`From<&Error>`](#impl-From%3C%26Error%3E-for-CniError).
    fn from(err: Error) -> CniError {
        CniError::from(&err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_error() -> serde_json::Error {
        serde_json::from_str::<u8>("x").unwrap_err()
    }

    fn io_error() -> std::io::Error {
        std::io::Error::from(std::io::ErrorKind::PermissionDenied)
    }

    /// The variant's name; an exhaustive match, so a new variant does not compile until it
    /// is named here, and then fails [`every_variant_maps_to_its_documented_code`] until it
    /// has an example there.
    fn variant(e: &Error) -> &'static str {
        match e {
            Error::ParseVersion { .. } => "ParseVersion",
            Error::Decode { .. } => "Decode",
            Error::VersionInfo(_) => "VersionInfo",
            Error::ResultVersionMismatch { .. } => "ResultVersionMismatch",
            Error::UnsupportedResultVersion(_) => "UnsupportedResultVersion",
            Error::NoConverter { .. } => "NoConverter",
            Error::NoValidIp => "NoValidIp",
            Error::PrevResult(_) => "PrevResult",
            Error::Conf(_) => "Conf",
            Error::ConfList(_) => "ConfList",
            Error::ConfListPlugin { .. } => "ConfListPlugin",
            Error::Args(_) => "Args",
            Error::InvalidPluginName(_) => "InvalidPluginName",
            Error::PluginNotFound { .. } => "PluginNotFound",
            Error::ExecPlugin { .. } => "ExecPlugin",
            Error::Plugin { .. } => "Plugin",
            Error::PluginOutput { .. } => "PluginOutput",
            Error::CommandNotSupported { .. } => "CommandNotSupported",
            Error::ListPlugin { .. } => "ListPlugin",
            Error::Io { .. } => "Io",
            Error::Cache { .. } => "Cache",
            Error::Validation(_) => "Validation",
            Error::Several(_) => "Several",
            Error::UnexpectedOutcome { .. } => "UnexpectedOutcome",
            Error::Multus { .. } => "Multus",
        }
    }

    const ALL_VARIANTS: usize = 25;

    #[test]
    fn every_variant_maps_to_its_documented_code() {
        let plugin_err = CniError::new(123u32, "plugin says no");
        let cases: Vec<(Error, u32)> = vec![
            (
                Error::ParseVersion {
                    input: "x".into(),
                    reason: "not a number".into(),
                },
                6,
            ),
            (
                Error::Decode {
                    what: "result",
                    source: json_error(),
                },
                6,
            ),
            (Error::VersionInfo("missing field cniVersion".into()), 6),
            (
                Error::ResultVersionMismatch {
                    supported: &["0.4.0"],
                    found: "1.0.0".into(),
                },
                6,
            ),
            (
                Error::PrevResult(Box::new(Error::Decode {
                    what: "result",
                    source: json_error(),
                })),
                6,
            ),
            (Error::UnsupportedResultVersion("9.9.9".into()), 1),
            (
                Error::NoConverter {
                    from: "1.1.0".into(),
                    to: "9.9.9".into(),
                },
                1,
            ),
            (
                Error::CommandNotSupported {
                    command: "CHECK",
                    version: "0.3.1".into(),
                },
                1,
            ),
            (Error::Conf("missing 'type'".into()), 7),
            (Error::ConfList("no plugins in list".into()), 7),
            (
                Error::ConfListPlugin {
                    index: 1,
                    source: Box::new(Error::Conf("missing 'type'".into())),
                },
                7,
            ),
            (
                Error::Multus {
                    what: "networks annotation",
                    reason: "bad".into(),
                },
                7,
            ),
            (Error::Args("unknown args [\"FOO\"]".into()), 4),
            (
                Error::Io {
                    op: "read",
                    path: "/var/lib/cni/results/x".into(),
                    source: io_error(),
                },
                5,
            ),
            (
                Error::Plugin {
                    path: "/opt/cni/bin/x".into(),
                    error: plugin_err.clone(),
                },
                123,
            ),
            (
                Error::Validation(CniError::new(
                    ErrorCode::UnknownContainer,
                    "missing containerID",
                )),
                3,
            ),
            (
                Error::ListPlugin {
                    op: "add",
                    plugin: "bridge".into(),
                    source: Box::new(Error::Args("bad".into())),
                },
                4,
            ),
            (
                Error::Several(vec![
                    Error::Io {
                        op: "remove",
                        path: "/x".into(),
                        source: io_error(),
                    },
                    Error::Args("bad".into()),
                ]),
                5,
            ),
            (Error::NoValidIp, 999),
            (Error::InvalidPluginName("../x".into()), 999),
            (
                Error::PluginNotFound {
                    plugin: "x".into(),
                    paths: vec!["/opt/cni/bin".into()],
                },
                999,
            ),
            (
                Error::ExecPlugin {
                    path: "/opt/cni/bin/x".into(),
                    source: io_error(),
                },
                999,
            ),
            (
                Error::PluginOutput {
                    path: "/opt/cni/bin/x".into(),
                    reason: "not JSON".into(),
                },
                999,
            ),
            (
                Error::Cache {
                    network: "n".into(),
                    reason: "bad kind".into(),
                },
                999,
            ),
            (
                Error::UnexpectedOutcome {
                    expected_exit_code: 0,
                    exit_code: 1,
                    stdout: "{}".into(),
                },
                999,
            ),
        ];
        let mut named: Vec<&str> = cases.iter().map(|(e, _)| variant(e)).collect();
        named.sort_unstable();
        named.dedup();
        assert_eq!(
            named.len(),
            ALL_VARIANTS,
            "one example per variant: {named:?}"
        );
        for (e, code) in &cases {
            assert_eq!(e.code().code(), *code, "{}: {e}", variant(e));
            let cni = CniError::from(e);
            assert_eq!(cni.code.code(), *code, "{}", variant(e));
            match e.plugin_error() {
                // A plugin's error result reaches the runtime exactly as the plugin gave it.
                Some(given) => assert_eq!(&cni, given),
                None => assert_eq!(cni.msg, e.to_string()),
            }
        }
        assert_eq!(Error::Several(Vec::new()).code(), ErrorCode::Internal);
    }

    #[derive(Debug, thiserror::Error)]
    #[error("{context}")]
    struct Layer {
        context: &'static str,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    }

    #[test]
    fn from_error_keeps_the_source_chain_in_details() {
        let inner = Layer {
            context: "set VF 3 vlan on ens2f0",
            source: Some(Box::new(std::io::Error::from_raw_os_error(95))),
        };
        let outer = Layer {
            context: "attach 0000:3b:00.2",
            source: Some(Box::new(inner)),
        };
        let e = CniError::from_error(ErrorCode::IoFailure, &outer);
        assert_eq!(e.code, ErrorCode::IoFailure);
        assert_eq!(e.msg, "attach 0000:3b:00.2");
        let os = std::io::Error::from_raw_os_error(95).to_string();
        assert_eq!(e.details, format!("set VF 3 vlan on ens2f0: {os}"));

        // A message that already ends with its cause does not repeat it.
        let io = Error::Io {
            op: "read",
            path: "/x".into(),
            source: io_error(),
        };
        let e = CniError::from(&io);
        assert_eq!((e.code.code(), e.details.as_str()), (5, ""));
        assert_eq!(e.msg, io.to_string());

        // No source: no details.
        let plain = Layer {
            context: "no VF free",
            source: None,
        };
        assert_eq!(CniError::from_error(11u32, &plain).details, "");
    }
}
