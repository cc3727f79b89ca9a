//! The library's errors: why a worker could not start or had to stop ([`WorkerError`]), and
//! what it says about a configuration ([`ConfigError`]), a set of tasks ([`RegistryError`]) or
//! a parameter name ([`ParamError`]); and error chains printed once ([`error_text`]).
//!
//! `{:#}` prints every cause of an `anyhow` chain after the message, but some errors already
//! include their source in their own text (a Redis I/O error prints the `io::Error` it wraps,
//! and then offers the same `io::Error` as its source), which gave
//! `Connection refused (os error 111): Connection refused (os error 111)`.

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
    /// No sentinel named a master that answers `ROLE` as a master (given without passwords:
    /// what each sentinel said).
    #[error("no Redis master found for {master:?} through the sentinels: {detail}")]
    NoMaster {
        /// The master's name ([`SentinelConfig::master_name`](crate::SentinelConfig::master_name)).
        master: String,
        /// What each sentinel answered, or why it could not be asked.
        detail: String,
    },
    /// The worker stopped on an error it cannot wait out (an unsupported Redis server, a
    /// registration Redis refused); its chain says why.
    #[error(transparent)]
    Run(Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// What makes a [`Config`] unusable ([`Config::validate`]).
///
/// [`Config`]: crate::Config
/// [`Config::validate`]: crate::Config::validate
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// [`Config::queues`](crate::Config::queues) is empty.
    #[error("no queue to listen on")]
    NoQueue,
    /// A queue name is empty or only spaces (RQ would not accept it).
    #[error("empty queue name {0:?}")]
    EmptyQueueName(String),
    /// [`Config::concurrency`](crate::Config::concurrency) is 0.
    #[error("concurrency must be at least 1")]
    NoSlot,
    /// [`Config::name`](crate::Config::name) is empty.
    #[error("the worker needs a name")]
    NoName,
    /// [`Config::redis_url`](crate::Config::redis_url) is not a `redis://`, `rediss://` or
    /// `unix://` URL (given here without its password).
    #[error("not a Redis URL: {0} (redis://, rediss:// or unix://)")]
    NotRedisUrl(String),
    /// [`Config::heartbeat_interval`](crate::Config::heartbeat_interval) is zero.
    #[error("the heartbeat interval must be above 0")]
    NoHeartbeat,
    /// The worker keys would expire between heartbeats: [`Config::worker_ttl`](crate::Config::worker_ttl)
    /// + 60 s is not above [`Config::heartbeat_interval`](crate::Config::heartbeat_interval).
    #[error("the worker TTL plus 60 s must exceed the heartbeat interval")]
    WorkerTtlBelowHeartbeat,
    /// [`Config::max_jobs`](crate::Config::max_jobs) is `Some(0)`.
    #[error("max_jobs must be at least 1")]
    NoMaxJobs,
    /// [`SentinelConfig::sentinels`](crate::SentinelConfig::sentinels) is empty.
    #[error("no sentinel address: give at least one HOST:PORT")]
    NoSentinel,
    /// [`SentinelConfig::master_name`](crate::SentinelConfig::master_name) is empty.
    #[error("no sentinel master name: give the name the sentinels monitor the master as")]
    NoSentinelMaster,
    /// A sentinel address has an empty host or port 0.
    #[error("invalid sentinel address {0:?}: expected HOST:PORT with a port above 0")]
    BadSentinelAddress(String),
    /// With sentinels, [`Config::redis_url`](crate::Config::redis_url) gives the master's
    /// credentials and database over TCP: a `unix://` URL cannot follow a master.
    #[error("sentinels need a redis:// or rediss:// URL (for the master's credentials and database), not {0}")]
    SentinelUnixUrl(String),
}

/// Why a set of tasks and resolvers cannot be registered. Checked when the worker starts,
/// before anything connects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The worker was given no task to run.
    #[error("no task is registered: add one with Worker::builder(..).task(..)")]
    NoTask,
    /// A task has an empty name.
    #[error("a task needs a name")]
    Unnamed,
    /// Two tasks have this name.
    #[error("task {0:?} is registered twice")]
    DuplicateTask(String),
    /// A resolver is registered under the name of a task (a job could not say which it calls).
    #[error("{0:?} is both a task and a resolver's function")]
    ResolverShadowsTask(String),
    /// Two resolvers are registered under this function name.
    #[error("a resolver for {0:?} is registered twice")]
    DuplicateResolver(String),
}

/// A name that is not a parameter of a task
/// ([`TaskSpec::check_param`](crate::TaskSpec::check_param)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// The task declares no parameter at all.
    #[error("task {task} takes no parameter, got {name:?}")]
    NoParameters {
        /// The task's name.
        task: String,
        /// The name given.
        name: String,
    },
    /// The task has parameters, but not this one.
    #[error("task {task} has no parameter {name:?}; it accepts: {}", .accepted.join(", "))]
    Unknown {
        /// The task's name.
        task: String,
        /// The name given.
        name: String,
        /// The task's parameters, in order.
        accepted: Vec<String>,
    },
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
