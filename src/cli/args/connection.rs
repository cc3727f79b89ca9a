//! The connection options every subcommand shares, global on the command line: Redis
//! ([`RedisArgs`]) and the PostgreSQL task history ([`DatabaseArgs`]). Their checks are in
//! `validate`.
use clap::Args;

/// Default of `--redis-url`.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Connection options shared by every subcommand that talks to Redis. Global: accepted before
/// or after the subcommand. Plain text here, checked by the subcommands that use them, so
/// that a variable a subcommand does not use never makes it fail.
#[derive(Debug, Clone, Args)]
pub struct RedisArgs {
    /// Redis URL (redis://, rediss:// or unix://).
    #[arg(long, env = "REDIS_URL", default_value = DEFAULT_REDIS_URL, global = true)]
    pub redis_url: String,
    /// Redis password, used when the URL carries none.
    #[arg(long, env = "REDIS_PASSWORD", hide_env_values = true, global = true)]
    pub redis_password: Option<String>,
    /// Key prefix (RQ 3.0's RQ_KEY_PREFIX; RQ 2.x always uses `rq`).
    #[arg(long, env = "RQ_KEY_PREFIX", default_value = "rq", global = true)]
    pub key_prefix: String,
    /// PEM CA certificate(s) that sign the Redis server's certificate (rediss:// only; default:
    /// the system trust store).
    #[arg(long, env = "REDIS_TLS_CA", value_name = "PEM", global = true)]
    pub redis_tls_ca: Option<std::path::PathBuf>,
    /// PEM client certificate for mutual TLS (with --redis-tls-key; rediss:// only).
    #[arg(long, env = "REDIS_TLS_CERT", value_name = "PEM", global = true)]
    pub redis_tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of --redis-tls-cert.
    #[arg(long, env = "REDIS_TLS_KEY", value_name = "PEM", global = true)]
    pub redis_tls_key: Option<std::path::PathBuf>,
    /// Redis Sentinel: the sentinels' addresses, HOST:PORT,HOST:PORT,... (with
    /// --redis-sentinel-master). The master is found through them and followed through
    /// failovers; --redis-url then gives only the master's password, database and TLS (its
    /// host and port are not used). See docs/ha.md.
    #[arg(
        long,
        env = "REDIS_SENTINELS",
        value_name = "HOST:PORT,...",
        global = true
    )]
    pub redis_sentinels: Option<String>,
    /// The name the sentinels monitor the master as (`sentinel monitor <NAME> ...`).
    #[arg(
        long,
        env = "REDIS_SENTINEL_MASTER",
        value_name = "NAME",
        global = true
    )]
    pub redis_sentinel_master: Option<String>,
    /// The sentinels' own ACL user, if they require one.
    #[arg(long, env = "REDIS_SENTINEL_USERNAME", global = true)]
    pub redis_sentinel_username: Option<String>,
    /// The sentinels' own password (their `requirepass`), if any.
    #[arg(
        long,
        env = "REDIS_SENTINEL_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub redis_sentinel_password: Option<String>,
    /// Reach the sentinels over TLS (with the --redis-tls-* files, if any).
    #[arg(long, env = "REDIS_SENTINEL_TLS", global = true)]
    pub redis_sentinel_tls: bool,
}

impl Default for RedisArgs {
    fn default() -> Self {
        RedisArgs {
            redis_url: DEFAULT_REDIS_URL.into(),
            redis_password: None,
            key_prefix: "rq".into(),
            redis_tls_ca: None,
            redis_tls_cert: None,
            redis_tls_key: None,
            redis_sentinels: None,
            redis_sentinel_master: None,
            redis_sentinel_username: None,
            redis_sentinel_password: None,
            redis_sentinel_tls: false,
        }
    }
}

/// PostgreSQL connection for the task history (`crate::history`). With neither the URL nor the
/// `POSTGRES_*` variables, history is off. Global, like [`RedisArgs`].
#[derive(Debug, Clone, Default, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL for the task history (postgres://user:pass@host:port/db).
    #[arg(long, env = "POSTGRES_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    /// Used with the other POSTGRES_* variables (as the compose files set them) when no URL is given.
    #[arg(long, env = "POSTGRES_HOST", hide = true, global = true)]
    pub postgres_host: Option<String>,
    #[arg(long, env = "POSTGRES_PORT", hide = true, global = true)]
    pub postgres_port: Option<String>,
    #[arg(long, env = "POSTGRES_USER", hide = true, global = true)]
    pub postgres_user: Option<String>,
    #[arg(
        long,
        env = "POSTGRES_PASSWORD",
        hide = true,
        hide_env_values = true,
        global = true
    )]
    pub postgres_password: Option<String>,
    #[arg(long, env = "POSTGRES_DB", hide = true, global = true)]
    pub postgres_db: Option<String>,
}
