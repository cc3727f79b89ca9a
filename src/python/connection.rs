//! How the Python runners reach Redis: the part of their first frame (the config frame, over
//! the runner's stdin: never in its argv or environment) that says how to connect, built from
//! the worker's own settings so that a runner connects as the worker does.
//!
//! * Without Sentinel: the Redis URL (with its password, from `REDIS_PASSWORD` if the URL had
//!   none) and, for `rediss://`, the `--redis-tls-*` files (redis-py's `ssl_ca_certs`,
//!   `ssl_certfile`, `ssl_keyfile`).
//! * With Sentinel: the sentinels, the master's name, the sentinels' own user, password and
//!   TLS, and the master's credentials, database and TLS (the URL; its host is not used). The
//!   runner builds redis-py's `Sentinel(...).master_for(NAME)`, which asks the sentinels for the
//!   master before every new connection and drops its connections when the master turns into
//!   a replica (`READONLY`): a runner follows a failover by itself, also in the middle of a
//!   job, as RQ's own worker does with `SENTINEL` settings.
//! * The key prefix (RQ 3.0's `RQ_KEY_PREFIX`): the runner sets it before it imports RQ and
//!   refuses to start when the installed RQ does not use it (RQ 2.x always uses `rq`).

use std::path::PathBuf;

use rq_worker::Config;

/// The `--redis-tls-*` files, handed to the runners as paths (Python's `ssl` module loads a
/// client certificate from files only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// `--redis-tls-ca`.
    pub ca: Option<PathBuf>,
    /// `--redis-tls-cert`.
    pub cert: Option<PathBuf>,
    /// `--redis-tls-key`.
    pub key: Option<PathBuf>,
}

/// The socket timeout RQ's worker gives its connection: `max(1, worker_ttl - 15) + 10` with RQ's
/// default worker TTL (420 s).
const RQ_CONNECTION_TIMEOUT_SECS: u64 = 415;

/// The connection part of the config frame (JSON; holds passwords: never logged).
pub fn connection_config(worker: &Config, tls: &TlsFiles) -> serde_json::Value {
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
    let sentinel = worker.sentinel.as_ref().map(|s| {
        serde_json::json!({
            "sentinels": s.sentinels,
            "master": s.master_name,
            "username": s.username,
            "password": s.password,
            "tls": s.tls.is_some(),
        })
    });
    serde_json::json!({
        "redis_url": worker.redis_url,
        "key_prefix": worker.key_prefix,
        "tls": {
            "ca": path(&tls.ca),
            "cert": path(&tls.cert),
            "key": path(&tls.key),
        },
        "sentinel": sentinel,
        // RQ's worker raises its connection's socket timeout to `dequeue_timeout + 10` s
        // (`Worker._set_connection`; 415 s with the default worker TTL of 420 s) so that a job
        // may block on Redis (BLPOP, XREAD BLOCK) past redis-py's default of 5 s.
        "socket_timeout": RQ_CONNECTION_TIMEOUT_SECS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_settings_reach_the_frame() {
        let mut cfg = Config::new("rediss://tw:pw@ignored/2");
        let mut s = rq_worker::SentinelConfig::new(vec![("127.0.0.1".into(), 26379)], "mymaster");
        s.password = Some("spw".into());
        s.tls = Some(rq_worker::RedisTls::default());
        cfg.sentinel = Some(s);
        cfg.key_prefix = "app".into();
        let tls = TlsFiles {
            ca: Some("/etc/ca.pem".into()),
            ..TlsFiles::default()
        };
        let v = connection_config(&cfg, &tls);
        assert_eq!(v["redis_url"], "rediss://tw:pw@ignored/2");
        assert_eq!(v["key_prefix"], "app");
        assert_eq!(v["tls"]["ca"], "/etc/ca.pem");
        assert!(v["tls"]["cert"].is_null());
        assert_eq!(v["sentinel"]["sentinels"][0][0], "127.0.0.1");
        assert_eq!(v["sentinel"]["sentinels"][0][1], 26379);
        assert_eq!(v["sentinel"]["master"], "mymaster");
        assert_eq!(v["sentinel"]["password"], "spw");
        assert!(v["sentinel"]["username"].is_null());
        assert_eq!(v["sentinel"]["tls"], true);
        let plain = connection_config(&Config::new("redis://h:1"), &TlsFiles::default());
        assert!(plain["sentinel"].is_null());
    }
}
