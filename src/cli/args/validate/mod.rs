//! Validation: the parsed flags ([`RunArgs`], [`TaskArgs`], [`SandboxArgs`], [`RedisArgs`],
//! [`DatabaseArgs`]) checked and turned into the validated configuration
//! ([`RunConfig`], [`TaskSettings`], [`crate::sandbox::Settings`], the Redis URL, TLS and key
//! prefix). Every error is one line naming the flag, as `main.rs` prints it.
use std::time::Duration;

use super::{DatabaseArgs, RedisArgs, RunArgs, SandboxArgs, TaskArgs};
use crate::config::RunConfig;
use crate::python::PythonSettings;
use crate::tasks::TaskSettings;
use rq_protocol::codec::Serializer;
use rq_worker::redact::redact_url;
use rq_worker::RedisTls;

impl SandboxArgs {
    pub fn validate(&self) -> Result<crate::sandbox::Settings, String> {
        const MIB: u64 = 1024 * 1024;
        let enabled = match self.mode.trim().to_ascii_lowercase().as_str() {
            "" | "on" | "true" | "1" | "yes" => true,
            "off" | "false" | "0" | "no" => false,
            other => return Err(format!("invalid --sandbox {other:?}: use on or off")),
        };
        let namespaces = match self.sandbox_namespaces.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => crate::sandbox::NamespaceMode::Auto,
            "on" | "true" | "1" | "yes" => crate::sandbox::NamespaceMode::On,
            "off" | "false" | "0" | "no" => crate::sandbox::NamespaceMode::Off,
            other => {
                return Err(format!(
                    "invalid --sandbox-namespaces {other:?} [possible values: auto, on, off]"
                ))
            }
        };
        let positive = |text: &str, flag: &str, default: u64| -> Result<u64, String> {
            let n: u64 = number_or(text, flag, default)?;
            if n == 0 {
                return Err(format!("invalid --{flag} 0: must be at least 1"));
            }
            Ok(n)
        };
        let d = crate::sandbox::Limits::default();
        let limits = crate::sandbox::Limits {
            processes: positive(
                &self.sandbox_max_processes,
                "sandbox-max-processes",
                d.processes,
            )?,
            memory_bytes: positive(
                &self.sandbox_memory_mb,
                "sandbox-memory-mb",
                d.memory_bytes / MIB,
            )?
            .saturating_mul(MIB),
            cpu_seconds: positive(
                &self.sandbox_cpu_seconds,
                "sandbox-cpu-seconds",
                d.cpu_seconds,
            )?,
            file_size_bytes: positive(
                &self.sandbox_file_size_mb,
                "sandbox-file-size-mb",
                d.file_size_bytes / MIB,
            )?
            .saturating_mul(MIB),
            open_files: positive(&self.sandbox_open_files, "sandbox-open-files", d.open_files)?,
            disk_bytes: positive(&self.sandbox_disk_mb, "sandbox-disk-mb", d.disk_bytes / MIB)?
                .saturating_mul(MIB),
            disk_entries: positive(
                &self.sandbox_disk_files,
                "sandbox-disk-files",
                d.disk_entries,
            )?,
        };
        let paths =
            |text: &Option<String>, flag: &str| -> Result<Vec<std::path::PathBuf>, String> {
                let Some(t) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
                    return Ok(Vec::new());
                };
                t.split(':')
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| {
                        let p = std::path::Path::new(p.trim());
                        if p.is_absolute() {
                            Ok(p.to_path_buf())
                        } else {
                            Err(format!("invalid --{flag} {p:?}: paths must be absolute"))
                        }
                    })
                    .collect()
            };
        let ports = match self.sandbox_allow_tcp.as_deref().map(str::trim) {
            None | Some("") => Vec::new(),
            Some(t) => t
                .split(',')
                .map(|p| {
                    p.trim()
                        .parse::<u16>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| {
                            format!("invalid --sandbox-allow-tcp port {p:?}: expected 1-65535")
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(crate::sandbox::Settings {
            enabled,
            limits,
            extra_read: paths(&self.sandbox_read, "sandbox-read")?,
            extra_write: paths(&self.sandbox_write, "sandbox-write")?,
            allow_tcp_ports: ports,
            namespaces,
        })
    }
}

/// One `HOST:PORT` of `--redis-sentinels` (`[v6]:PORT` for an IPv6 address).
fn parse_sentinel_addr(a: &str) -> Result<(String, u16), String> {
    if a.is_empty() {
        return Err("an empty address (two commas, or a comma at an end)".into());
    }
    let Some((host, port)) = a.rsplit_once(':') else {
        return Err(format!("{a:?} is not HOST:PORT"));
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("{a:?} has no host"));
    }
    if host.contains(':') && !a.starts_with('[') {
        return Err(format!(
            "{a:?}: write an IPv6 address in brackets, [ADDR]:PORT"
        ));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok((host.to_string(), p)),
        _ => Err(format!("{a:?} has no valid port (1-65535)")),
    }
}

impl RedisArgs {
    /// The URL to connect with: the password goes into the URL when the URL has none.
    pub fn effective_url(&self) -> Result<String, String> {
        let mut url = url::Url::parse(&self.redis_url)
            .map_err(|e| format!("invalid --redis-url {}: {e}", redact_url(&self.redis_url)))?;
        match url.scheme() {
            "redis" | "rediss" | "unix" | "redis+unix" => {}
            other => {
                return Err(format!(
                    "invalid --redis-url: unsupported scheme '{other}' (use redis://, rediss:// or unix://)"
                ))
            }
        }
        if url.scheme().starts_with("redis") && url.host_str().is_none_or(str::is_empty) {
            return Err("invalid --redis-url: no host".into());
        }
        if let Some(pw) = self.redis_password.as_deref().filter(|p| !p.is_empty()) {
            if url.password().is_none() && url.scheme().starts_with("redis") {
                url.set_password(Some(pw))
                    .map_err(|_| "invalid --redis-url: cannot carry a password".to_string())?;
            }
        }
        Ok(url.to_string())
    }

    /// Reads the `--redis-tls-*` files; they only make sense with `rediss://`.
    pub fn tls(&self) -> Result<RedisTls, String> {
        let files = [
            &self.redis_tls_ca,
            &self.redis_tls_cert,
            &self.redis_tls_key,
        ];
        if files.iter().all(|f| f.is_none()) {
            return Ok(RedisTls::default());
        }
        if self.redis_tls_cert.is_some() != self.redis_tls_key.is_some() {
            return Err("--redis-tls-cert and --redis-tls-key go together: give both".into());
        }
        if !self.redis_url.starts_with("rediss://") && !self.redis_sentinel_tls {
            return Err(
                "--redis-tls-ca/--redis-tls-cert/--redis-tls-key need a rediss:// --redis-url (or --redis-sentinel-tls)"
                    .into(),
            );
        }
        let read = |flag: &str, path: &Option<std::path::PathBuf>| {
            path.as_ref()
                .map(|p| {
                    std::fs::read(p)
                        .map_err(|e| format!("invalid {flag}: cannot read {}: {e}", p.display()))
                })
                .transpose()
        };
        let ca = read("--redis-tls-ca", &self.redis_tls_ca)?;
        let cert = read("--redis-tls-cert", &self.redis_tls_cert)?;
        let key = read("--redis-tls-key", &self.redis_tls_key)?;
        Ok(RedisTls::new(ca, cert.zip(key)))
    }

    /// The Sentinel settings: `None` without `--redis-sentinels` and `--redis-sentinel-master`.
    pub fn sentinel(&self) -> Result<Option<rq_worker::SentinelConfig>, String> {
        let set = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let list = set(&self.redis_sentinels);
        let master = set(&self.redis_sentinel_master);
        let (list, master) = match (list, master) {
            (None, None) => {
                if self.redis_sentinel_tls {
                    return Err("--redis-sentinel-tls needs --redis-sentinels and --redis-sentinel-master".into());
                }
                return Ok(None);
            }
            (Some(_), None) => {
                return Err("--redis-sentinels needs --redis-sentinel-master NAME (REDIS_SENTINEL_MASTER): the name the sentinels monitor the master as".into())
            }
            (None, Some(_)) => {
                return Err("--redis-sentinel-master needs --redis-sentinels HOST:PORT,... (REDIS_SENTINELS)".into())
            }
            (Some(l), Some(m)) => (l, m),
        };
        let sentinels = list
            .split(',')
            .map(|a| {
                parse_sentinel_addr(a.trim())
                    .map_err(|e| format!("invalid --redis-sentinels {list:?}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !(self.redis_url.starts_with("redis://") || self.redis_url.starts_with("rediss://")) {
            return Err("--redis-sentinels needs a redis:// or rediss:// --redis-url (it gives the master's password, database and TLS)".into());
        }
        let mut cfg = rq_worker::SentinelConfig::new(sentinels, master);
        cfg.username = set(&self.redis_sentinel_username);
        cfg.password = self
            .redis_sentinel_password
            .clone()
            .filter(|p| !p.is_empty());
        if self.redis_sentinel_tls {
            cfg.tls = Some(self.tls()?);
        }
        cfg.validate()
            .map_err(|e| format!("invalid Sentinel settings: {e}"))?;
        Ok(Some(cfg))
    }

    pub fn validated_prefix(&self) -> Result<String, String> {
        let ok = !self.key_prefix.is_empty()
            && self
                .key_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.:{}-".contains(c));
        if ok {
            Ok(self.key_prefix.clone())
        } else {
            Err(format!(
                "invalid --key-prefix {:?}: only letters, digits and _ . : - {{ }} are allowed",
                self.key_prefix
            ))
        }
    }
}

impl DatabaseArgs {
    /// The history database URL: `--database-url`/`POSTGRES_URL`, else one built from
    /// `POSTGRES_HOST`, `POSTGRES_USER`, `POSTGRES_DB` (needed), `POSTGRES_PORT` (default 5432)
    /// and `POSTGRES_PASSWORD` (optional); `None` when neither is configured.
    pub fn effective_url(&self) -> Result<Option<String>, String> {
        fn set(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        if let Some(raw) = set(&self.database_url) {
            let url = url::Url::parse(raw)
                .map_err(|e| format!("invalid --database-url {}: {e}", redact_url(raw)))?;
            if !matches!(url.scheme(), "postgres" | "postgresql") {
                return Err(format!(
                    "invalid --database-url: unsupported scheme '{}' (use postgres://)",
                    url.scheme()
                ));
            }
            return Ok(Some(raw.to_string()));
        }
        let (Some(host), Some(user), Some(db)) = (
            set(&self.postgres_host),
            set(&self.postgres_user),
            set(&self.postgres_db),
        ) else {
            return Ok(None);
        };
        let port: u16 = match set(&self.postgres_port) {
            None => 5432,
            Some(p) => p
                .parse()
                .map_err(|_| format!("invalid POSTGRES_PORT {p:?}: expected a port number"))?,
        };
        let mut url = url::Url::parse("postgres://localhost/")
            .map_err(|e| format!("cannot build the database URL: {e}"))?;
        url.set_host(Some(host))
            .map_err(|e| format!("invalid POSTGRES_HOST {host:?}: {e}"))?;
        let _ = url.set_port(Some(port));
        let _ = url.set_username(user);
        if let Some(pw) = self.postgres_password.as_deref().filter(|p| !p.is_empty()) {
            let _ = url.set_password(Some(pw));
        }
        url.set_path(db);
        Ok(Some(url.to_string()))
    }
}

impl RunArgs {
    pub fn validate(&self) -> Result<RunConfig, String> {
        let queues: Vec<String> = self
            .queues
            .split(',')
            .map(|q| q.trim().to_string())
            .filter(|q| !q.is_empty())
            .collect();
        if queues.is_empty() {
            return Err("invalid --queues: the queue list is empty".into());
        }
        if let Some(q) = queues.iter().find(|q| q.chars().any(char::is_whitespace)) {
            return Err(format!(
                "invalid --queues: queue name {q:?} contains whitespace"
            ));
        }
        let serializer = Serializer::parse(&self.serializer).ok_or_else(|| {
            format!(
                "invalid --serializer {:?}: use pickle or json",
                self.serializer
            )
        })?;
        if self.results_ttl < -1 {
            return Err(format!(
                "invalid --results-ttl {}: use -1 (keep forever), 0 (do not keep) or a number of seconds",
                self.results_ttl
            ));
        }
        if self.concurrency == 0 {
            return Err("invalid --concurrency 0: must be at least 1".into());
        }
        if self.concurrency > 10_000 {
            return Err(format!(
                "invalid --concurrency {}: at most 10000",
                self.concurrency
            ));
        }
        if !(1..=256).contains(&self.common.runtime_threads) {
            return Err(format!(
                "invalid --runtime-threads {}: must be 1..=256",
                self.common.runtime_threads
            ));
        }
        if self.common.defer_start_ms > 10_000 {
            // An id in the intermediate list without an execution counts as stuck after 60 s.
            return Err(format!(
                "invalid --defer-start-ms {}: at most 10000 (maintenance takes an unstarted job for stuck after 60 s)",
                self.common.defer_start_ms
            ));
        }
        if !(1..=86_400).contains(&self.common.worker_ttl) {
            return Err(format!(
                "invalid --worker-ttl {}: must be 1 to 86400 seconds",
                self.common.worker_ttl
            ));
        }
        let most = self.common.worker_ttl + 59;
        if self.heartbeat_interval == 0
            || i64::try_from(self.heartbeat_interval).unwrap_or(i64::MAX) > most
        {
            return Err(format!(
                "invalid --heartbeat-interval: must be 1 to {most} seconds (below --worker-ttl + 60)"
            ));
        }
        let api_url = match self
            .common
            .api_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            None => None,
            Some(u) => {
                let parsed =
                    url::Url::parse(u).map_err(|e| format!("invalid --api-url {u:?}: {e}"))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(format!("invalid --api-url {u:?}: use http:// or https://"));
                }
                Some(u.trim_end_matches('/').to_string())
            }
        };
        let name = match &self.name {
            Some(n) if n.trim().is_empty() || n.contains(char::is_whitespace) => {
                return Err(format!(
                    "invalid --name {n:?}: must be non-empty without whitespace"
                ))
            }
            Some(n) => n.clone(),
            None => uuid::Uuid::new_v4().simple().to_string(),
        };
        let metrics_addr = match self.common.metrics_addr.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) => Some(
                parse_socket_addr(a).map_err(|e| format!("invalid --metrics-addr {a:?}: {e}"))?,
            ),
        };
        if self.common.history_buffer == 0 {
            return Err("invalid --history-buffer 0: must be at least 1".into());
        }
        let tasks = self.common.tasks.validate()?;
        let python = self.python_settings()?;
        let mut worker = rq_worker::Config::new(self.redis.effective_url()?);
        worker.queues = queues;
        worker.redis_tls = self.redis.tls()?;
        worker.sentinel = self.redis.sentinel()?;
        worker.key_prefix = self.redis.validated_prefix()?;
        worker.name = name;
        worker.burst = self.burst;
        worker.concurrency = self.concurrency;
        worker.serializer = serializer;
        worker.results_ttl = self.results_ttl;
        worker.shutdown_timeout = Duration::from_secs(self.common.shutdown_timeout);
        worker.heartbeat_interval = Duration::from_secs(self.heartbeat_interval);
        worker.defer_start = Duration::from_millis(self.common.defer_start_ms);
        worker.with_scheduler = self.with_scheduler;
        worker.requeue_on_shutdown = self.common.requeue_on_shutdown;
        worker.maintenance_interval = Duration::from_secs(self.maintenance_interval.max(1));
        worker.work_dir = tasks.work_dir.clone();
        worker.dequeue_strategy = rq_worker::DequeueStrategy::parse(
            self.common.dequeue_strategy.trim(),
        )
        .ok_or_else(|| {
            format!(
                "invalid --dequeue-strategy {:?}: use default, round_robin or random",
                self.common.dequeue_strategy
            )
        })?;
        worker.worker_ttl = Duration::from_secs(self.common.worker_ttl.unsigned_abs());
        worker.max_jobs = match self.common.max_jobs {
            Some(0) => return Err("invalid --max-jobs 0: must be at least 1".into()),
            n => n,
        };
        worker.max_idle_time = match self.common.max_idle_time {
            Some(0) => return Err("invalid --max-idle-time 0: must be at least 1 second".into()),
            n => n.map(Duration::from_secs),
        };
        Ok(RunConfig {
            worker,
            runtime_threads: self.common.runtime_threads,
            log_format: self.log_format,
            api_url,
            api_user: self.common.api_user.clone().filter(|s| !s.is_empty()),
            api_password: self.common.api_password.clone().filter(|s| !s.is_empty()),
            metrics_addr,
            database_url: self.database.effective_url()?,
            history_buffer: self.common.history_buffer,
            history_retention_days: self.common.history_retention_days.filter(|d| *d > 0),
            tasks,
            python,
            log_level: None,
            pid_file: None,
            notes: Vec::new(),
        })
    }

    /// `--python` and its options; `None` when no interpreter is set.
    fn python_settings(&self) -> Result<Option<PythonSettings>, String> {
        let Some(interpreter) = self
            .common
            .python
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        else {
            return Ok(None);
        };
        let mut path: Vec<String> = self
            .python_path
            .iter()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        if path.is_empty() {
            path.push(".".into());
        }
        let preload = self
            .common
            .python_preload
            .iter()
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect();
        Ok(Some(PythonSettings {
            interpreter: interpreter.into(),
            path,
            preload,
            mode: self.common.python_mode,
            max_jobs: self.common.python_max_jobs,
            max_memory_mb: self.common.python_max_memory_mb,
            tls: crate::python::TlsFiles {
                ca: self.redis.redis_tls_ca.clone(),
                cert: self.redis.redis_tls_cert.clone(),
                key: self.redis.redis_tls_key.clone(),
            },
        }))
    }
}

/// A number option; empty text gives `default`.
fn number_or<T: std::str::FromStr>(text: &str, flag: &str, default: T) -> Result<T, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(default);
    }
    t.parse()
        .map_err(|_| format!("invalid --{flag} {text:?}: expected a whole number"))
}

/// A boolean option: true/1/yes/on or false/0/no/off; unset or empty is false.
fn flag_value(text: Option<&str>, flag: &str) -> Result<bool, String> {
    match text.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false" | "0" | "no" | "off") => Ok(false),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some(other) => Err(format!("invalid --{flag} {other:?}: use true or false")),
    }
}

impl TaskArgs {
    pub fn validate(&self) -> Result<TaskSettings, String> {
        let test_runner_timeout: u64 =
            number_or(&self.test_runner_timeout, "test-runner-timeout", 600)?;
        let git_timeout: u64 = number_or(&self.git_timeout, "git-timeout", 300)?;
        let commit_max_attempts: u32 =
            number_or(&self.commit_max_attempts, "commit-max-attempts", 5)?;
        let commit_backoff_ms: u64 = number_or(&self.commit_backoff_ms, "commit-backoff-ms", 1000)?;
        if test_runner_timeout == 0 {
            return Err("invalid --test-runner-timeout 0: must be at least 1 second".into());
        }
        if git_timeout == 0 {
            return Err("invalid --git-timeout 0: must be at least 1 second".into());
        }
        if commit_max_attempts == 0 {
            return Err("invalid --commit-max-attempts 0: must be at least 1".into());
        }
        let report_max_mb: u64 = number_or(
            &self.test_report_max_mb,
            "test-report-max-mb",
            crate::tasks::student_testing::summary::DEFAULT_MAX_REPORT_MB,
        )?;
        if !(1..=64).contains(&report_max_mb) {
            return Err(format!(
                "invalid --test-report-max-mb {report_max_mb}: must be 1 to 64"
            ));
        }
        let work_dir = match self.work_dir.as_deref().map(str::trim) {
            Some(d) if !d.is_empty() => {
                Some(std::path::absolute(d).map_err(|e| format!("invalid --work-dir {d:?}: {e}"))?)
            }
            _ => None,
        };
        Ok(TaskSettings {
            test_runner_command: self
                .test_runner_command
                .clone()
                .filter(|c| !c.trim().is_empty()),
            test_runner_timeout: Duration::from_secs(test_runner_timeout),
            git_timeout: Duration::from_secs(git_timeout),
            commit_max_attempts,
            commit_backoff: Duration::from_millis(commit_backoff_ms),
            allow_file_git_urls: flag_value(
                self.allow_file_git_urls.as_deref(),
                "allow-file-git-urls",
            )?,
            work_dir,
            report_max_bytes: report_max_mb * 1024 * 1024,
            sandbox: self.sandbox.validate()?,
        })
    }
}

/// `HOST:PORT` with an IP or a host name (resolved once, first address).
fn parse_socket_addr(raw: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(a) = raw.parse() {
        return Ok(a);
    }
    raw.to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or_else(|| "resolves to no address".to_string())
}

#[cfg(test)]
mod tests;
mod worker;
