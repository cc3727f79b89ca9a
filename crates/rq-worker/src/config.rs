//! The worker's configuration: plain data, built in code ([`Config::new`] and its fields) or
//! by an application's command line; nothing here parses arguments or reads the environment.

use std::path::PathBuf;
use std::time::Duration;

use crate::errors::{ConfigError, WorkerError};
use crate::redact::redact_url;
use crate::rq::codec::Serializer;

/// TLS material for `rediss://` connections, read once at validation. Empty means the system
/// trust store and no client certificate.
#[derive(Clone, Default)]
pub struct RedisTls {
    ca: Option<Vec<u8>>,
    client: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for RedisTls {
    /// Never prints the key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTls")
            .field("ca", &self.ca.is_some())
            .field("client_cert", &self.client.is_some())
            .finish()
    }
}

impl RedisTls {
    /// TLS material: a CA bundle (PEM) and a client certificate with its key (PEM).
    pub fn new(ca: Option<Vec<u8>>, client: Option<(Vec<u8>, Vec<u8>)>) -> Self {
        RedisTls { ca, client }
    }

    /// A Redis client for `url` (already validated) with this TLS material; fails on a URL the
    /// client cannot parse or certificates it cannot use.
    pub fn client(&self, url: &str) -> Result<redis::Client, WorkerError> {
        let result = if self.ca.is_none() && self.client.is_none() {
            redis::Client::open(url)
        } else {
            redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: self
                        .client
                        .as_ref()
                        .map(|(cert, key)| redis::ClientTlsConfig {
                            client_cert: cert.clone(),
                            client_key: key.clone(),
                        }),
                    root_cert: self.ca.clone(),
                },
            )
        };
        result.map_err(|source| WorkerError::RedisUrl {
            url: redact_url(url),
            source,
        })
    }
}

/// What a worker runs with: its queues, its Redis, and how it runs jobs.
///
/// ```
/// let mut cfg = rq_worker::Config::new("redis://127.0.0.1:6379/0");
/// cfg.queues = vec!["high".into(), "default".into()];
/// cfg.concurrency = 4;
/// assert_eq!(cfg.heartbeat_interval.as_secs(), 10);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The queues, in strict priority order (RQ's `Worker(queues)`).
    pub queues: Vec<String>,
    /// `redis://` or `rediss://` URL, with its credentials and database.
    pub redis_url: String,
    /// Certificates for `rediss://` (default: the system trust store).
    pub redis_tls: RedisTls,
    /// Prefix of every RQ key (`rq`, as RQ writes them).
    pub key_prefix: String,
    /// The worker's name in `rq:workers` (unique among live workers).
    pub name: String,
    /// Stop when the queues are empty instead of waiting (RQ's `--burst`).
    pub burst: bool,
    /// How many jobs run at once.
    pub concurrency: usize,
    /// How job data and results are encoded (the enqueuers' serializer).
    pub serializer: Serializer,
    /// Seconds a job's result is kept (RQ's `result_ttl` default, 500).
    pub results_ttl: i64,
    /// How long running jobs may finish after a warm shutdown before they are ended.
    pub shutdown_timeout: Duration,
    /// How often the worker and its jobs tell Redis they are alive.
    pub heartbeat_interval: Duration,
    /// How long a job's start may wait to be written together with its end, so that a short
    /// job costs one Redis round trip instead of two (0: every start is written before its job
    /// runs, as RQ's worker does). A job that runs longer has its start written when this
    /// time is up, and `rq info` sees it as started from then.
    pub defer_start: Duration,
    /// Also move scheduled and retried jobs whose time has come (RQ's `--with-scheduler`).
    pub with_scheduler: bool,
    /// Put jobs still running at a cold shutdown back on their queues instead of failing them.
    pub requeue_on_shutdown: bool,
    /// How often registries are cleaned of expired and orphaned jobs.
    pub maintenance_interval: Duration,
    /// Parent of the jobs' scratch directories
    /// ([`TaskContext::scratch_dir`](crate::TaskContext::scratch_dir)); `None`: the system
    /// temp directory.
    pub work_dir: Option<PathBuf>,
}

impl Config {
    /// The defaults RQ's worker has, for the Redis at `redis_url`: the `default` queue, one job
    /// at a time, a random name as RQ gives one.
    pub fn new(redis_url: impl Into<String>) -> Self {
        Config {
            queues: vec!["default".to_string()],
            redis_url: redis_url.into(),
            redis_tls: RedisTls::default(),
            key_prefix: "rq".to_string(),
            name: default_worker_name(),
            burst: false,
            concurrency: 1,
            serializer: Serializer::Pickle,
            results_ttl: 500,
            shutdown_timeout: Duration::from_secs(25),
            heartbeat_interval: Duration::from_secs(10),
            defer_start: Duration::from_millis(20),
            with_scheduler: false,
            requeue_on_shutdown: false,
            maintenance_interval: Duration::from_secs(600),
            work_dir: None,
        }
    }

    /// Checks what cannot work before anything connects: no queue, a queue name RQ would not
    /// accept, no slot, a URL that is not Redis'.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.queues.is_empty() {
            return Err(ConfigError::NoQueue);
        }
        if let Some(q) = self.queues.iter().find(|q| q.trim().is_empty()) {
            return Err(ConfigError::EmptyQueueName(q.clone()));
        }
        if self.concurrency == 0 {
            return Err(ConfigError::NoSlot);
        }
        if self.name.is_empty() {
            return Err(ConfigError::NoName);
        }
        if !(self.redis_url.starts_with("redis://")
            || self.redis_url.starts_with("rediss://")
            || self.redis_url.starts_with("unix://")
            || self.redis_url.starts_with("redis+unix://"))
        {
            return Err(ConfigError::NotRedisUrl(redact_url(&self.redis_url)));
        }
        if self.heartbeat_interval.is_zero() {
            return Err(ConfigError::NoHeartbeat);
        }
        Ok(())
    }
}

impl Default for Config {
    /// [`Config::new`] for `redis://127.0.0.1:6379/0`.
    fn default() -> Self {
        Config::new("redis://127.0.0.1:6379/0")
    }
}

/// A random uuid4 in hex, as RQ names its workers.
fn default_worker_name() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
