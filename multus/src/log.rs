//! The plugin's log: `logFile` (appended to) and/or stderr (`logToStderr`), lines at or above
//! `logLevel`. A log that cannot be written never fails an ADD or DEL.

use std::io::Write;

use crate::config::{LogLevel, LogOptions};

/// Writes log lines as the configuration asks.
#[derive(Debug, Clone)]
pub struct Log {
    options: LogOptions,
}

impl Log {
    /// A log with these options.
    pub fn new(options: LogOptions) -> Self {
        Log { options }
    }

    /// Logs `message` at `level` when the configured level lets it through.
    pub fn line(&self, level: LogLevel, message: &str) {
        if level > self.options.level {
            return;
        }
        let text = format!("multus [{level:?}] {message}\n");
        if self.options.to_stderr {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
        if let Some(path) = &self.options.file
            && let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        {
            let _ = f.write_all(text.as_bytes());
        }
    }
}
