//! The validated run configuration: plain data the worker starts with.
//!
//! The command line (`cli::args`) builds it from flags and environment variables and validates
//! them once; nothing here parses arguments or reads the environment.

use std::time::Duration;

use clap::ValueEnum;

use crate::redact::redact_url;
use crate::rq::codec::Serializer;
use crate::tasks::TaskSettings;

/// Log line format (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

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

    /// A client for `url` (already validated) with this TLS material.
    pub fn client(&self, url: &str) -> anyhow::Result<redis::Client> {
        use anyhow::Context as _;
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
        result.with_context(|| format!("invalid Redis URL or TLS files for {}", redact_url(url)))
    }
}

/// Validated run configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub queues: Vec<String>,
    pub redis_url: String,
    pub redis_tls: RedisTls,
    pub key_prefix: String,
    pub api_url: Option<String>,
    pub api_user: Option<String>,
    pub api_password: Option<String>,
    pub name: String,
    pub burst: bool,
    pub concurrency: usize,
    pub runtime_threads: usize,
    pub serializer: Serializer,
    pub results_ttl: i64,
    pub log_format: LogFormat,
    pub shutdown_timeout: Duration,
    pub heartbeat_interval: Duration,
    /// How long a job's start may wait to be written together with its end (0: every start is
    /// written before its job runs). See `engine::writer`.
    pub defer_start: Duration,
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub with_scheduler: bool,
    pub requeue_on_shutdown: bool,
    pub maintenance_interval: Duration,
    /// PostgreSQL URL of the task history; `None` = history off.
    pub database_url: Option<String>,
    pub history_buffer: usize,
    /// `None` = keep history rows forever.
    pub history_retention_days: Option<u32>,
    pub tasks: TaskSettings,
}
