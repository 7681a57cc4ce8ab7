//! gRPC over unix sockets, both ways: serving tonic services on a `UnixListener`, and tonic
//! clients whose connector dials a socket path.
//!
//! A client channel's URI is only an authority for the HTTP/2 `:authority` header. It is
//! `http://localhost`, what grpc-go's and C-core's unix dialers send, because C-core rejected
//! the made-up schemes other Rust plugins used (akri #497).

use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use tokio::net::{UnixListener, UnixStream};
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::error::{Error, Result};

/// The authority every unix-socket channel carries.
pub const AUTHORITY_URI: &str = "http://localhost";

/// Binds a unix socket at `path` for a gRPC server, replacing a stale socket file left by an
/// earlier run (a regular file or a directory there is an error, never removed).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("plugin.sock");
/// let incoming = device_plugin::uds::bind(&path).unwrap();
/// assert!(path.exists());
/// drop(incoming);
/// // a second bind replaces the stale socket file
/// device_plugin::uds::bind(&path).unwrap();
/// # }
/// ```
pub fn bind(path: &Path) -> Result<UnixListenerStream> {
    remove_socket(path)?;
    let listener = UnixListener::bind(path).map_err(|source| Error::Bind {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(UnixListenerStream::new(listener))
}

/// Removes the socket file at `path` if there is one. Anything else at that path is left alone
/// and reported.
pub fn remove_socket(path: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::RemoveSocket {
            path: path.to_path_buf(),
            source,
        }),
        Ok(meta) if meta.file_type().is_socket() => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::RemoveSocket {
                path: path.to_path_buf(),
                source: e,
            }),
            _ => Ok(()),
        },
        Ok(_) => Err(Error::RemoveSocket {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "not a socket; left in place",
            ),
        }),
    }
}

/// A tonic channel to the gRPC server on unix socket `path`, connected now.
pub async fn connect(path: &Path) -> Result<Channel> {
    let socket: PathBuf = path.to_path_buf();
    let target = socket.clone();
    Endpoint::from_static(AUTHORITY_URI)
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let target = target.clone();
            async move { UnixStream::connect(target).await.map(TokioIo::new) }
        }))
        .await
        .map_err(|source| Error::Connect { socket, source })
}
