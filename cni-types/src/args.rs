//! `CNI_ARGS`: `K=V;K2=V2` pairs passed by the runtime.
//!
//! Parsing splits on `;`; each pair must split on `=` into exactly two parts. Keys a plugin does
//! not know are an error unless `IgnoreUnknown` is `1`/`true` (any case), as the reference
//! library's `LoadArgs` does.
//!
//! ```
//! use cni_types::args::CniArgs;
//!
//! let args = CniArgs::parse("IgnoreUnknown=1;K8S_POD_NAME=web;MAC=aa:bb:cc:dd:ee:ff")?;
//! args.check_known(&["MAC"])?; // K8S_POD_NAME is unknown but IgnoreUnknown=1
//! assert_eq!(args.get("MAC"), Some("aa:bb:cc:dd:ee:ff"));
//! assert!(CniArgs::parse("A=b=c").is_err());
//! # Ok::<(), cni_types::Error>(())
//! ```

use crate::Error;

/// The keys Kubernetes runtimes send (always with `IgnoreUnknown=1`).
pub const K8S_KEYS: &[&str] = &[
    "K8S_POD_NAMESPACE",
    "K8S_POD_NAME",
    "K8S_POD_INFRA_CONTAINER_ID",
    "K8S_POD_UID",
];

/// Parsed `CNI_ARGS`, in their original order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CniArgs {
    /// The `(key, value)` pairs.
    pub pairs: Vec<(String, String)>,
}

impl CniArgs {
    /// Splits `K=V;K2=V2`. The empty string has no pairs.
    pub fn parse(input: &str) -> Result<Self, Error> {
        if input.is_empty() {
            return Ok(CniArgs::default());
        }
        let mut pairs = Vec::new();
        for pair in input.split(';') {
            let mut kv = pair.split('=');
            match (kv.next(), kv.next(), kv.next()) {
                (Some(k), Some(v), None) => pairs.push((k.to_string(), v.to_string())),
                _ => return Err(Error::Args(format!("invalid pair {pair:?}"))),
            }
        }
        Ok(CniArgs { pairs })
    }

    /// The value of the first pair with `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `IgnoreUnknown` (false when absent; an error when not a boolean).
    pub fn ignore_unknown(&self) -> Result<bool, Error> {
        match self.pairs.iter().find(|(k, _)| k == "IgnoreUnknown") {
            None => Ok(false),
            Some((k, v)) => parse_bool(v).map_err(|e| {
                Error::Args(format!(
                    "error parsing value of pair {:?}: {e}",
                    format!("{k}={v}")
                ))
            }),
        }
    }

    /// Fails when a key is neither `IgnoreUnknown` nor in `known`, unless `IgnoreUnknown` is
    /// true. The error lists the unknown pairs: `ARGS: unknown args ["Unk=nown"]`.
    pub fn check_known(&self, known: &[&str]) -> Result<(), Error> {
        let ignore = self.ignore_unknown()?;
        let unknown: Vec<String> = self
            .pairs
            .iter()
            .filter(|(k, _)| k != "IgnoreUnknown" && !known.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if unknown.is_empty() || ignore {
            return Ok(());
        }
        let quoted: Vec<String> = unknown.iter().map(|p| format!("{p:?}")).collect();
        Err(Error::Args(format!("unknown args [{}]", quoted.join(" "))))
    }

    /// Encodes back to `K=V;K2=V2`.
    pub fn emit(&self) -> String {
        self.pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The Kubernetes pod identity carried in the args, when present.
    pub fn k8s(&self) -> K8sArgs {
        let get = |k: &str| self.get(k).map(str::to_string);
        K8sArgs {
            pod_namespace: get("K8S_POD_NAMESPACE"),
            pod_name: get("K8S_POD_NAME"),
            pod_infra_container_id: get("K8S_POD_INFRA_CONTAINER_ID"),
            pod_uid: get("K8S_POD_UID"),
        }
    }
}

/// The pod identity Kubernetes runtimes pass in `CNI_ARGS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct K8sArgs {
    /// `K8S_POD_NAMESPACE`.
    pub pod_namespace: Option<String>,
    /// `K8S_POD_NAME`.
    pub pod_name: Option<String>,
    /// `K8S_POD_INFRA_CONTAINER_ID`.
    pub pod_infra_container_id: Option<String>,
    /// `K8S_POD_UID`.
    pub pod_uid: Option<String>,
}

/// Parses a `CNI_ARGS` boolean: `1`/`true` and `0`/`false`, any case.
pub fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(format!("boolean unmarshal error: invalid input {value}")),
    }
}
