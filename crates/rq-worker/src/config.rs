//! The worker's configuration: plain data, built in code ([`Config::new`] and its fields) or
//! by an application's command line; nothing here parses arguments or reads the environment.

use std::path::PathBuf;
use std::time::Duration;

use crate::errors::{ConfigError, WorkerError};
use crate::redact::redact_url;
use crate::rq::codec::Serializer;
pub use crate::rq::dequeue::DequeueStrategy;

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
        self.client_for(url)
            .map_err(|source| WorkerError::RedisUrl {
                url: redact_url(url),
                source,
            })
    }

    /// A Redis client for `info` (a URL or connection details) with this TLS material.
    pub(crate) fn client_for(
        &self,
        info: impl redis::IntoConnectionInfo,
    ) -> redis::RedisResult<redis::Client> {
        if self.ca.is_none() && self.client.is_none() {
            redis::Client::open(info)
        } else {
            redis::Client::build_with_tls(
                info,
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
        }
    }
}

/// Redis Sentinel: the worker asks these sentinels where the master named
/// [`master_name`](Self::master_name) is, checks with `ROLE` that it is a master, and follows
/// it through failovers (every connection moves to the new master). The master's credentials,
/// database and TLS (`rediss://`) come from [`Config::redis_url`] and [`Config::redis_tls`];
/// the URL's host and port are not used.
///
/// ```
/// let mut cfg = rq_worker::Config::new("redis://:master-secret@ignored/0");
/// cfg.sentinel = Some(rq_worker::SentinelConfig::new(
///     vec![("10.0.0.1".into(), 26379), ("10.0.0.2".into(), 26379)],
///     "mymaster",
/// ));
/// assert!(cfg.validate().is_ok());
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct SentinelConfig {
    /// The sentinels' addresses (host, port), asked in this order.
    pub sentinels: Vec<(String, u16)>,
    /// The name the sentinels monitor the master as (`sentinel monitor <name> ...`).
    pub master_name: String,
    /// The sentinels' own ACL user (`None`: the default user).
    pub username: Option<String>,
    /// The sentinels' own password (`requirepass` of the sentinels), if any.
    pub password: Option<String>,
    /// `Some`: the sentinels are reached over TLS with this material (a CA bundle and a client
    /// certificate); `None`: plain TCP.
    pub tls: Option<RedisTls>,
}

impl std::fmt::Debug for SentinelConfig {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentinelConfig")
            .field("sentinels", &self.sentinels)
            .field("master_name", &self.master_name)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("tls", &self.tls)
            .finish()
    }
}

impl SentinelConfig {
    /// Sentinels without credentials nor TLS, for the master `master_name`.
    pub fn new(sentinels: Vec<(String, u16)>, master_name: impl Into<String>) -> Self {
        SentinelConfig {
            sentinels,
            master_name: master_name.into(),
            username: None,
            password: None,
            tls: None,
        }
    }

    /// Checks what cannot work: no sentinel, no master name, an address without a host or port.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.sentinels.is_empty() {
            return Err(ConfigError::NoSentinel);
        }
        if self.master_name.trim().is_empty() {
            return Err(ConfigError::NoSentinelMaster);
        }
        if let Some((host, port)) = self
            .sentinels
            .iter()
            .find(|(host, port)| host.trim().is_empty() || *port == 0)
        {
            return Err(ConfigError::BadSentinelAddress(format!("{host}:{port}")));
        }
        Ok(())
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
    /// Find the master through Redis Sentinel and follow its failovers (`None`: connect to
    /// [`redis_url`](Self::redis_url)'s address only).
    pub sentinel: Option<SentinelConfig>,
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
    /// How often the worker and its jobs tell Redis they are alive (RQ's
    /// `--job-monitoring-interval`, 30 s there). A running job's registry entries are kept for
    /// this interval (at least 30 s) plus 60 s, as RQ keeps them.
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
    /// The order the queues are looked at for each job (RQ's `--dequeue-strategy`; default:
    /// strict priority).
    pub dequeue_strategy: DequeueStrategy,
    /// RQ's `worker_ttl` (default 420 s): an idle worker's key lives this long plus 60 s
    /// between heartbeats, so a worker that died without a word leaves `rq:workers` that long
    /// after its last heartbeat. Must exceed the heartbeat interval minus 60 s.
    pub worker_ttl: Duration,
    /// Stop taking jobs after this many, let them finish, and exit (RQ's `--max-jobs`).
    pub max_jobs: Option<u64>,
    /// Exit after this long without a job to run (RQ's `--max-idle-time`; not in burst mode,
    /// which exits as soon as the queues are empty).
    pub max_idle_time: Option<Duration>,
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
            sentinel: None,
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
            dequeue_strategy: DequeueStrategy::Default,
            worker_ttl: Duration::from_secs(420),
            max_jobs: None,
            max_idle_time: None,
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
        if self.heartbeat_interval >= self.worker_ttl + Duration::from_secs(60) {
            return Err(ConfigError::WorkerTtlBelowHeartbeat);
        }
        if self.max_jobs == Some(0) {
            return Err(ConfigError::NoMaxJobs);
        }
        if let Some(sentinel) = &self.sentinel {
            sentinel.validate()?;
            if !(self.redis_url.starts_with("redis://") || self.redis_url.starts_with("rediss://"))
            {
                return Err(ConfigError::SentinelUnixUrl(redact_url(&self.redis_url)));
            }
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
