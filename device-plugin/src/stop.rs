//! Stopping: a [`StopSignal`] many tasks wait on, fired once by its [`StopTrigger`], and
//! [`on_terminate`], which fires one on SIGTERM or SIGINT.

use tokio::sync::watch;

use crate::error::{Error, Result};

/// Fires the [`StopSignal`]s made from it (also when dropped).
#[derive(Debug)]
pub struct StopTrigger {
    tx: watch::Sender<bool>,
}

/// Resolves once its trigger fired (or was dropped). Cheap to clone.
#[derive(Debug, Clone)]
pub struct StopSignal {
    rx: watch::Receiver<bool>,
    /// The sender of a signal that never fires, kept alive with it.
    _never: Option<std::sync::Arc<watch::Sender<bool>>>,
}

/// A trigger and its signal.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (trigger, signal) = device_plugin::stop::channel();
/// assert!(!signal.is_stopped());
/// trigger.stop();
/// signal.stopped().await;
/// # }
/// ```
pub fn channel() -> (StopTrigger, StopSignal) {
    let (tx, rx) = watch::channel(false);
    (StopTrigger { tx }, StopSignal { rx, _never: None })
}

impl StopTrigger {
    /// Fires the signal.
    pub fn stop(&self) {
        self.tx.send_replace(true);
    }

    /// Another signal of this trigger.
    pub fn signal(&self) -> StopSignal {
        StopSignal {
            rx: self.tx.subscribe(),
            _never: None,
        }
    }
}

impl StopSignal {
    /// A signal that never fires.
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(false);
        StopSignal {
            rx,
            _never: Some(std::sync::Arc::new(tx)),
        }
    }

    /// True once fired.
    pub fn is_stopped(&self) -> bool {
        *self.rx.borrow() || self.rx.has_changed().is_err()
    }

    /// Waits until fired.
    pub async fn stopped(&self) {
        let mut rx = self.rx.clone();
        // Err: the trigger is gone, which counts as fired.
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}

/// A signal fired by the first SIGTERM or SIGINT (the handlers are installed before this
/// returns, so a signal arriving right after is not lost).
pub fn on_terminate() -> Result<StopSignal> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(|source| Error::Signal {
        signal: "SIGTERM",
        source,
    })?;
    let mut int = signal(SignalKind::interrupt()).map_err(|source| Error::Signal {
        signal: "SIGINT",
        source,
    })?;
    let (trigger, signal) = channel();
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!("received {name}, stopping");
        trigger.stop();
    });
    Ok(signal)
}
