//! The library's errors ([`WorkerError`]), and error chains printed once ([`error_text`]).
//!
//! `{:#}` prints every cause of an `anyhow` chain after the message, but some errors already
//! include their source in their own text (a Redis I/O error prints the `io::Error` it wraps,
//! and then offers the same `io::Error` as its source), which gave
//! `Connection refused (os error 111): Connection refused (os error 111)`.

use crate::config::ConfigError;
use crate::tasks::RegistryError;

/// Why a worker could not start or had to stop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// The configuration cannot work ([`Config::validate`](crate::Config::validate)).
    #[error("invalid configuration: {0}")]
    Config(ConfigError),
    /// The Redis URL or its TLS files are not usable.
    #[error("invalid Redis URL or TLS files for {url}")]
    RedisUrl {
        /// The URL without its password.
        url: String,
        /// What the client said.
        #[source]
        source: redis::RedisError,
    },
    /// No task is registered, two have the same name, or a resolver clashes with a task.
    #[error(transparent)]
    Tasks(#[from] RegistryError),
    /// The worker stopped on an error it cannot wait out (an unsupported Redis server, a
    /// registration Redis refused); its chain says why.
    #[error(transparent)]
    Run(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl From<ConfigError> for WorkerError {
    fn from(e: ConfigError) -> Self {
        WorkerError::Config(e)
    }
}

/// An error of the engine, with its chain of causes.
impl From<anyhow::Error> for WorkerError {
    fn from(e: anyhow::Error) -> Self {
        WorkerError::Run(e.into())
    }
}

/// `message: cause: cause…`, leaving out each cause whose text the line already holds: an
/// error chain on one line, for a log or a job's failure text.
///
/// ```
/// let io = std::io::Error::other("connection refused");
/// let e = anyhow::Error::new(io).context("cannot reach the service");
/// assert_eq!(rq_worker::error_text(&e), "cannot reach the service: connection refused");
/// ```
pub fn error_text(e: &anyhow::Error) -> String {
    chain_text(e.chain().map(|c| c.to_string()))
}

fn chain_text(parts: impl Iterator<Item = String>) -> String {
    let mut line = String::new();
    for part in parts {
        let part = part.trim();
        if part.is_empty() || line.contains(part) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(part);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_text_is_printed_once() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let redis = redis::RedisError::from(io);
        let e = anyhow::Error::from(redis).context("cannot connect to Redis at redis://h:1/");
        let text = error_text(&e);
        let cause = std::io::Error::from(std::io::ErrorKind::ConnectionRefused).to_string();
        assert_eq!(text.matches(&cause).count(), 1, "{text}");
        assert!(
            text.starts_with("cannot connect to Redis at redis://h:1/: "),
            "{text}"
        );
    }

    #[test]
    fn distinct_causes_are_all_kept() {
        let parts = ["reading x", "parsing y", "bad digit"].map(String::from);
        assert_eq!(
            chain_text(parts.into_iter()),
            "reading x: parsing y: bad digit"
        );
    }
}
