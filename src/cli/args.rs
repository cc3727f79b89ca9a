//! Command-line flags and environment variables, parsed and validated once into
//! [`RunConfig`](crate::config::RunConfig) and the subcommands' arguments.
//!
//! The flag and variable names are a contract: compose files and ops scripts use them.
//! Validation errors become one line on stderr and exit code 2 (see `main.rs`).
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::{LogFormat, RunConfig};
use crate::tasks::TaskSettings;
use rq_protocol::codec::Serializer;
use rq_worker::redact::redact_url;
use rq_worker::RedisTls;

/// The command line. `run` is the default subcommand: [`with_default_subcommand`] inserts it
/// before parsing when no subcommand is named, so `run`'s options and environment variables
/// are read only when the worker runs. The connection options are global: accepted before or
/// after the subcommand.
#[derive(Debug, Parser)]
#[command(
    name = "task-worker",
    version,
    about = "A Rust worker for Python RQ (Redis Queue) jobs, wire-compatible with RQ 2.x and 3.0"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub redis: RedisArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

impl Cli {
    /// The subcommand, with the global connection options handed to the ones that use them.
    pub fn into_command(self) -> Command {
        let mut command = self.command;
        match &mut command {
            Command::Run(a) => {
                a.redis = self.redis;
                a.database = self.database;
            }
            Command::History(a) => a.database = self.database,
            Command::Health(a) => a.redis = self.redis,
            Command::Status(a) => a.redis = self.redis,
            Command::Submit(a) => a.redis = self.redis,
            Command::Suspend(a) => a.redis = self.redis,
            Command::Resume(a) => a.redis = self.redis,
            Command::Requeue(a) => a.redis = self.redis,
            Command::Tasks(_) | Command::SandboxCheck => {}
        }
        command
    }
}

/// `argv` with `run` inserted after the program name when it names no subcommand (`task-worker
/// -q default -c 8` is `task-worker run -q default -c 8`). The first word that is neither an
/// option nor an option's value decides; `--help`/`--version` before it keep the top-level help.
pub fn with_default_subcommand(argv: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory as _;
    let root = Cli::command();
    let subcommands: Vec<String> = root
        .get_subcommands()
        .flat_map(|c| {
            std::iter::once(c.get_name().to_string()).chain(c.get_all_aliases().map(str::to_string))
        })
        .chain(std::iter::once("help".to_string()))
        .collect();
    // Options that take a value, of the top level and of `run` (the words they may precede).
    let mut long_with_value = Vec::new();
    let mut short_with_value = Vec::new();
    let run = root.get_subcommands().find(|c| c.get_name() == "run");
    for arg in root
        .get_arguments()
        .chain(run.into_iter().flat_map(|r| r.get_arguments()))
    {
        if arg.get_action().takes_values() {
            long_with_value.extend(arg.get_long().map(str::to_string));
            short_with_value.extend(arg.get_short());
        }
    }
    let mut words = argv.iter().skip(1);
    let mut names_subcommand = false;
    while let Some(word) = words.next() {
        let Some(w) = word.to_str() else { break };
        if w == "--" {
            break;
        }
        if matches!(w, "-h" | "--help" | "-V" | "--version") {
            return argv;
        }
        if let Some(long) = w.strip_prefix("--") {
            if !long.contains('=') && long_with_value.iter().any(|l| l == long) {
                words.next();
            }
        } else if let Some(shorts) = w.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-bc 4`: the option that takes a value ends the cluster; its value is the rest or
            // the next word.
            for (i, c) in shorts.char_indices() {
                if short_with_value.contains(&c) {
                    if i + c.len_utf8() == shorts.len() {
                        words.next();
                    }
                    break;
                }
            }
        } else {
            names_subcommand = subcommands.iter().any(|s| s == w);
            break;
        }
    }
    if names_subcommand {
        return argv;
    }
    let mut out = argv;
    let at = out.len().min(1);
    out.insert(at, "run".into());
    out
}

/// An empty environment variable means unset, for every variable the command line reads:
/// removes each of them that is set to nothing (or blanks). Call before any thread starts.
pub fn unset_empty_env_vars() {
    use clap::CommandFactory as _;
    fn walk(cmd: &clap::Command, names: &mut Vec<std::ffi::OsString>) {
        names.extend(
            cmd.get_arguments()
                .filter_map(|a| a.get_env())
                .map(|e| e.to_os_string()),
        );
        for sub in cmd.get_subcommands() {
            walk(sub, names);
        }
    }
    let mut names = Vec::new();
    walk(&Cli::command(), &mut names);
    for name in names {
        let blank = std::env::var_os(&name)
            .is_some_and(|v| v.to_str().is_some_and(|t| t.trim().is_empty()));
        if blank {
            // Single-threaded here (see the caller), so changing the environment is sound.
            std::env::remove_var(&name);
        }
    }
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at start; boxing buys nothing
pub enum Command {
    /// Run the worker (the default).
    Run(RunArgs),
    /// List the registered tasks with their parameters and defaults.
    Tasks(TasksArgs),
    /// Container health probe: exit 0 when Redis answers and this host's worker is alive.
    Health(HealthArgs),
    /// Queues, workers and the suspension flag (read-only).
    Status(StatusArgs),
    /// Enqueue a task the way the backend does; print the job id.
    #[command(
        after_help = "Each task's parameters (names, types, defaults): `task-worker tasks`. A parameter the task does not take is refused before anything is enqueued."
    )]
    Submit(SubmitArgs),
    /// Stop all workers on this Redis from starting new jobs (`rq suspend`).
    Suspend(SuspendArgs),
    /// Let suspended workers take jobs again (`rq resume`).
    Resume(ResumeArgs),
    /// Put failed jobs back on their queue (`rq requeue`).
    Requeue(RequeueArgs),
    /// Show recent task executions from the PostgreSQL history.
    History(HistoryArgs),
    /// Check which sandbox layers this host gives (exit 1 when one is missing).
    SandboxCheck,
}

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

/// `task-worker history`: recent executions from PostgreSQL.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// The global connection options (set by [`Cli::into_command`]).
    #[arg(skip)]
    pub database: DatabaseArgs,
    /// Only this job id.
    #[arg(long = "job")]
    pub job: Option<String>,
    /// Only this task (handler) name.
    #[arg(long = "task")]
    pub task: Option<String>,
    /// Only this status: started, finished, failed or stopped.
    #[arg(long = "status")]
    pub status: Option<String>,
    /// At most this many rows, newest first.
    #[arg(long, default_value_t = 50, allow_negative_numbers = true)]
    pub limit: i64,
    /// Print JSON (an array of objects) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Queues to listen on, comma-separated, highest priority first.
    #[arg(
        short,
        long,
        env = "TASK_QUEUES",
        default_value = "high_priority,default,low_priority"
    )]
    pub queues: String,
    /// The global connection options (set by [`Cli::into_command`]).
    #[arg(skip)]
    pub redis: RedisArgs,
    /// Backend API base URL; when set, start-up waits for `GET <url>/info`.
    #[arg(long, env = "EXECUTION_BACKEND_API_URL")]
    pub api_url: Option<String>,
    #[arg(long, env = "EXECUTION_BACKEND_API_USER")]
    pub api_user: Option<String>,
    #[arg(long, env = "EXECUTION_BACKEND_API_PASSWORD", hide_env_values = true)]
    pub api_password: Option<String>,
    /// Worker name (default: 32 random hex digits, as RQ). With -c N > 1, slot i is `<name>-<i>`.
    #[arg(short = 'n', long)]
    pub name: Option<String>,
    /// Exit once all queues are empty and running jobs are done.
    #[arg(short, long)]
    pub burst: bool,
    /// Jobs run at once in this process.
    #[arg(
        short,
        long,
        env = "TASK_CONCURRENCY",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub concurrency: usize,
    /// Threads of the async runtime. The worker's own work is I/O-bound (tasks run their
    /// programs as child processes), so one thread is the fastest: no cross-thread wake-ups,
    /// and the other cores stay free for Redis and the tasks (bench/RESULTS.md).
    #[arg(
        long,
        env = "TASK_RUNTIME_THREADS",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub runtime_threads: usize,
    /// Serializer the enqueuers use: pickle (RQ's default) or json.
    #[arg(short = 'S', long, env = "RQ_SERIALIZER", default_value = "pickle")]
    pub serializer: String,
    /// Seconds successful results are kept when the job does not say (RQ's default 500).
    #[arg(
        long,
        env = "RESULTS_TTL",
        default_value_t = 500,
        allow_negative_numbers = true
    )]
    pub results_ttl: i64,
    /// Log format: text for people, json for log shippers. Level via RUST_LOG.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Seconds running jobs get to finish after the first SIGTERM/SIGINT.
    #[arg(
        long,
        env = "SHUTDOWN_TIMEOUT",
        default_value_t = 25,
        allow_negative_numbers = true
    )]
    pub shutdown_timeout: u64,
    /// Run RQ's scheduler too: move due `enqueue_in`/`enqueue_at`/retry jobs to their queues.
    #[arg(long, env = "TASK_WITH_SCHEDULER")]
    pub with_scheduler: bool,
    /// When the shutdown timeout runs out, put unfinished jobs back at the front of their
    /// queues (status `queued`) instead of failing them.
    #[arg(long, env = "TASK_REQUEUE_ON_SHUTDOWN")]
    pub requeue_on_shutdown: bool,
    /// Seconds between maintenance runs (registry cleanup, abandoned jobs, dead workers).
    #[arg(
        long,
        env = "MAINTENANCE_INTERVAL",
        default_value_t = 600,
        allow_negative_numbers = true
    )]
    pub maintenance_interval: u64,
    /// Seconds between heartbeats of running jobs (RQ uses 30; the registry score allows 90).
    #[arg(
        long,
        env = "HEARTBEAT_INTERVAL",
        default_value_t = 10,
        hide = true,
        allow_negative_numbers = true
    )]
    pub heartbeat_interval: u64,
    /// Milliseconds a job's start may wait to be written with its end: a job that ends sooner
    /// is written once, as finished (never shown `started`), which saves most of its Redis
    /// work. 0 writes every start before its job runs, as RQ's worker does (so does a runtime
    /// of several threads). At most 10000.
    #[arg(
        long,
        env = "TASK_DEFER_START_MS",
        default_value_t = 20,
        value_name = "MS",
        allow_negative_numbers = true
    )]
    pub defer_start_ms: u64,
    /// Serve Prometheus metrics at http://HOST:PORT/metrics (and /healthz); off when unset.
    #[arg(long, env = "METRICS_ADDR", value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,
    /// The global connection options (set by [`Cli::into_command`]).
    #[arg(skip)]
    pub database: DatabaseArgs,
    /// History rows held in memory while PostgreSQL is slow or down; when full, no new jobs are taken.
    #[arg(
        long,
        env = "HISTORY_BUFFER",
        default_value_t = 100_000,
        allow_negative_numbers = true
    )]
    pub history_buffer: usize,
    /// Delete history rows older than this many days (0 or unset: keep them).
    #[arg(long, env = "HISTORY_RETENTION_DAYS", allow_negative_numbers = true)]
    pub history_retention_days: Option<u32>,
    #[command(flatten)]
    pub tasks: TaskArgs,
}

/// Settings of the built-in tasks (ctutor-tasks.md §3.3, §3.6, §3.9, §4 [ours]). Numbers and
/// the flag are read as text so that an empty variable (`VAR=` in a compose file) means "unset".
#[derive(Debug, Clone, Args)]
pub struct TaskArgs {
    /// Test runner of `student_test_execution`, run as `/bin/sh -c <cmd>` in the job's directory.
    #[arg(long, env = "TEST_RUNNER_COMMAND")]
    pub test_runner_command: Option<String>,
    /// Seconds the test runner may run (SIGTERM, 5 s grace, then SIGKILL).
    #[arg(
        long,
        env = "TEST_RUNNER_TIMEOUT",
        default_value = "600",
        allow_negative_numbers = true
    )]
    pub test_runner_timeout: String,
    /// Seconds each `git clone` / `git checkout` may run.
    #[arg(
        long,
        env = "GIT_TIMEOUT",
        default_value = "300",
        allow_negative_numbers = true
    )]
    pub git_timeout: String,
    /// Tries of the lookup + update that commits a test result to the backend API.
    #[arg(
        long,
        env = "COMMIT_MAX_ATTEMPTS",
        default_value = "5",
        allow_negative_numbers = true
    )]
    pub commit_max_attempts: String,
    /// First wait between API tries in milliseconds; it doubles per try, capped at 30 s.
    #[arg(
        long,
        env = "COMMIT_BACKOFF_MS",
        default_value = "1000",
        allow_negative_numbers = true
    )]
    pub commit_backoff_ms: String,
    /// Accept `file://` repository URLs (tests and local setups only): true/false.
    #[arg(long, env = "ALLOW_FILE_GIT_URLS", num_args = 0..=1, default_missing_value = "true")]
    pub allow_file_git_urls: Option<String>,
    /// Where jobs get their scratch directories (default: the system temp directory).
    #[arg(long, env = "WORK_DIR")]
    pub work_dir: Option<String>,
    /// Largest `testSummary.json` read, in MiB (a larger report ends the job R5), 1 to 64.
    #[arg(
        long,
        env = "TEST_REPORT_MAX_MB",
        default_value = "4",
        allow_negative_numbers = true
    )]
    pub test_report_max_mb: String,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// The sandbox around the student test runner and git (docs/security.md). On unless
/// `--sandbox off`; sizes in MiB, times in seconds; an empty variable means the default.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// `on` (default) or `off`: confine everything the test task starts.
    #[arg(long = "sandbox", env = "TEST_SANDBOX", default_value = "on")]
    pub mode: String,
    /// Processes and threads alive at once in one job.
    #[arg(
        long,
        env = "TEST_SANDBOX_MAX_PROCESSES",
        default_value = "256",
        allow_negative_numbers = true
    )]
    pub sandbox_max_processes: String,
    /// Memory of one job's processes in MiB (held by all together, a page shared after fork
    /// counted once; and address space of each).
    #[arg(
        long,
        env = "TEST_SANDBOX_MEMORY_MB",
        default_value = "1024",
        allow_negative_numbers = true
    )]
    pub sandbox_memory_mb: String,
    /// CPU seconds of one job's processes together.
    #[arg(
        long,
        env = "TEST_SANDBOX_CPU_SECONDS",
        default_value = "600",
        allow_negative_numbers = true
    )]
    pub sandbox_cpu_seconds: String,
    /// Largest file one process may write, in MiB.
    #[arg(
        long,
        env = "TEST_SANDBOX_FILE_SIZE_MB",
        default_value = "256",
        allow_negative_numbers = true
    )]
    pub sandbox_file_size_mb: String,
    /// Open files per process.
    #[arg(
        long,
        env = "TEST_SANDBOX_OPEN_FILES",
        default_value = "1024",
        allow_negative_numbers = true
    )]
    pub sandbox_open_files: String,
    /// Disk use of one job directory in MiB, clones included.
    #[arg(
        long,
        env = "TEST_SANDBOX_DISK_MB",
        default_value = "1024",
        allow_negative_numbers = true
    )]
    pub sandbox_disk_mb: String,
    /// Files and directories in one job directory.
    #[arg(
        long,
        env = "TEST_SANDBOX_DISK_FILES",
        default_value = "200000",
        allow_negative_numbers = true
    )]
    pub sandbox_disk_files: String,
    /// Extra paths the runner may read and execute, `:`-separated (e.g. a toolchain).
    #[arg(long, env = "TEST_SANDBOX_READ")]
    pub sandbox_read: Option<String>,
    /// Extra paths the runner may write, `:`-separated; shared by all jobs (trusted caches).
    #[arg(long, env = "TEST_SANDBOX_WRITE")]
    pub sandbox_write: Option<String>,
    /// TCP ports the runner may connect to, `,`-separated; none by default (no network).
    #[arg(long, env = "TEST_SANDBOX_ALLOW_TCP")]
    pub sandbox_allow_tcp: Option<String>,
    /// Per-job user, mount, PID and IPC namespaces (a private /tmp, limits per job): `auto`
    /// (default: used where the host allows them, a warning where not), `on` (refuse to start
    /// without them) or `off`.
    #[arg(long, env = "TEST_SANDBOX_NAMESPACES", default_value = "auto")]
    pub sandbox_namespaces: String,
}

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
        if !self.redis_url.starts_with("rediss://") {
            return Err(
                "--redis-tls-ca/--redis-tls-cert/--redis-tls-key need a rediss:// --redis-url"
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
        if !(1..=256).contains(&self.runtime_threads) {
            return Err(format!(
                "invalid --runtime-threads {}: must be 1..=256",
                self.runtime_threads
            ));
        }
        if self.defer_start_ms > 10_000 {
            // An id in the intermediate list without an execution counts as stuck after 60 s.
            return Err(format!(
                "invalid --defer-start-ms {}: at most 10000 (maintenance takes an unstarted job for stuck after 60 s)",
                self.defer_start_ms
            ));
        }
        if self.heartbeat_interval == 0 || self.heartbeat_interval > 30 {
            return Err("invalid --heartbeat-interval: must be 1..=30 seconds".into());
        }
        let api_url = match self
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
        let metrics_addr = match self.metrics_addr.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) => Some(
                parse_socket_addr(a).map_err(|e| format!("invalid --metrics-addr {a:?}: {e}"))?,
            ),
        };
        if self.history_buffer == 0 {
            return Err("invalid --history-buffer 0: must be at least 1".into());
        }
        let tasks = self.tasks.validate()?;
        let mut worker = rq_worker::Config::new(self.redis.effective_url()?);
        worker.queues = queues;
        worker.redis_tls = self.redis.tls()?;
        worker.key_prefix = self.redis.validated_prefix()?;
        worker.name = name;
        worker.burst = self.burst;
        worker.concurrency = self.concurrency;
        worker.serializer = serializer;
        worker.results_ttl = self.results_ttl;
        worker.shutdown_timeout = Duration::from_secs(self.shutdown_timeout);
        worker.heartbeat_interval = Duration::from_secs(self.heartbeat_interval);
        worker.defer_start = Duration::from_millis(self.defer_start_ms);
        worker.with_scheduler = self.with_scheduler;
        worker.requeue_on_shutdown = self.requeue_on_shutdown;
        worker.maintenance_interval = Duration::from_secs(self.maintenance_interval.max(1));
        worker.work_dir = tasks.work_dir.clone();
        Ok(RunConfig {
            worker,
            runtime_threads: self.runtime_threads,
            log_format: self.log_format,
            api_url,
            api_user: self.api_user.clone().filter(|s| !s.is_empty()),
            api_password: self.api_password.clone().filter(|s| !s.is_empty()),
            metrics_addr,
            database_url: self.database.effective_url()?,
            history_buffer: self.history_buffer,
            history_retention_days: self.history_retention_days.filter(|d| *d > 0),
            tasks,
        })
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

// ---- The subcommands' own arguments (each subcommand module reads its struct).

/// `task-worker tasks`.
#[derive(Debug, Clone, Args)]
pub struct TasksArgs {
    /// Print JSON (an array of objects) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct HealthArgs {
    /// The global connection options (set by `Cli::into_command`).
    #[arg(skip)]
    pub redis: RedisArgs,
    /// Seconds the whole check may take; no answer by then is unhealthy.
    #[arg(long, default_value_t = 5.0, allow_negative_numbers = true)]
    pub timeout: f64,
    /// Check only that Redis answers PING.
    #[arg(long)]
    pub redis_only: bool,
    /// Seconds since the worker's last heartbeat beyond which it counts as hung.
    #[arg(long, default_value_t = 60, allow_negative_numbers = true)]
    pub max_heartbeat_age: u64,
    /// Only consider the worker of this name (or its slots `<name>-<i>`).
    #[arg(short = 'n', long)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The global connection options (set by `Cli::into_command`).
    #[arg(skip)]
    pub redis: RedisArgs,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Only these queues (default: the backend's three and every queue in `rq:queues`).
    pub queues: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct SubmitArgs {
    /// The global connection options (set by `Cli::into_command`).
    #[arg(skip)]
    pub redis: RedisArgs,
    /// The registered task to run (see `task-worker tasks`).
    pub task: String,
    /// Parameters as key=value; a value that parses as JSON is taken as JSON, else as a string.
    pub params: Vec<String>,
    /// Parameters as one JSON object (key=value pairs override its keys).
    #[arg(long = "params", value_name = "JSON")]
    pub params_json: Option<String>,
    /// The backend's priority: above 5 → high_priority, below 0 → low_priority, else default.
    #[arg(long, allow_negative_numbers = true, conflicts_with = "queue")]
    pub priority: Option<i64>,
    /// The queue to use instead of the one the priority selects.
    #[arg(short, long)]
    pub queue: Option<String>,
    /// Wait for the job to end; print its result (exit 0) or its error (exit 1).
    #[arg(long)]
    pub wait: bool,
    /// Seconds `--wait` waits (default: the job's timeout plus 60 s).
    #[arg(long, requires = "wait")]
    pub timeout: Option<f64>,
    /// Serializer the workers expect: pickle (RQ's default) or json.
    #[arg(short = 'S', long, env = "RQ_SERIALIZER", default_value = "pickle")]
    pub serializer: String,
}

#[derive(Debug, Clone, Args)]
pub struct SuspendArgs {
    /// The global connection options (set by `Cli::into_command`).
    #[arg(skip)]
    pub redis: RedisArgs,
    /// Seconds until the workers resume by themselves (default: until `resume`).
    #[arg(long, allow_negative_numbers = true)]
    pub duration: Option<i64>,
}

#[derive(Debug, Clone, Args)]
pub struct ResumeArgs {
    /// The global connection options (set by `Cli::into_command`).
    #[arg(skip)]
    pub redis: RedisArgs,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["all", "job_ids"])))]
pub struct RequeueArgs {
    /// The global connection options (set by `Cli::into_command`).
    #[arg(skip)]
    pub redis: RedisArgs,
    /// Requeue every failed job (of `--queue`, or of every queue in `rq:queues`).
    #[arg(short, long)]
    pub all: bool,
    /// The failed registry to take the jobs from (default: each job's own queue, `origin`).
    #[arg(short, long)]
    pub queue: Option<String>,
    /// Jobs to requeue.
    pub job_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<RunConfig, String> {
        let argv = std::iter::once("task-worker")
            .chain(args.iter().copied())
            .map(std::ffi::OsString::from)
            .collect();
        let cli = Cli::try_parse_from(with_default_subcommand(argv)).map_err(|e| e.to_string())?;
        match cli.into_command() {
            Command::Run(r) => r.validate(),
            other => Err(format!("not run: {other:?}")),
        }
    }

    #[test]
    fn defaults_and_overrides() {
        let c = parse(&[
            "--queues",
            "a, b",
            "-c",
            "4",
            "-S",
            "json",
            "--redis-url",
            "redis://h:1/0",
        ])
        .unwrap();
        assert_eq!(c.worker.queues, vec!["a", "b"]);
        assert_eq!(c.worker.concurrency, 4);
        assert_eq!(c.worker.serializer, Serializer::Json);
        assert_eq!(c.worker.name.len(), 32);
        let c = parse(&["run", "-q", "x", "--burst"]).unwrap();
        assert!(c.worker.burst);
    }

    #[test]
    fn run_is_the_default_subcommand() {
        let words = |argv: &[&str]| -> Vec<String> {
            with_default_subcommand(argv.iter().map(std::ffi::OsString::from).collect())
                .iter()
                .map(|w| w.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(words(&["tw"]), ["tw", "run"]);
        assert_eq!(words(&["tw", "-q", "status", "-c", "2"])[1], "run");
        assert_eq!(words(&["tw", "-bq", "health"])[1], "run");
        assert_eq!(words(&["tw", "--name", "tasks"])[1], "run");
        assert_eq!(
            words(&["tw", "--name=x", "tasks"]),
            ["tw", "--name=x", "tasks"]
        );
        assert_eq!(
            words(&["tw", "--redis-url", "u", "health"])[1],
            "--redis-url"
        );
        assert_eq!(words(&["tw", "--help"]), ["tw", "--help"]);
        assert_eq!(words(&["tw", "help", "run"])[1], "help");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(parse(&["-q", " , "]).unwrap_err().contains("empty"));
        assert!(parse(&["-c", "0"]).unwrap_err().contains("concurrency"));
        assert!(parse(&["-S", "yaml"]).unwrap_err().contains("serializer"));
        assert!(parse(&["--redis-url", "http://x"])
            .unwrap_err()
            .contains("scheme"));
        assert!(parse(&["--redis-url", "not a url"])
            .unwrap_err()
            .contains("redis-url"));
    }

    #[test]
    fn task_settings() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.tasks.test_runner_timeout, Duration::from_secs(600));
        let c = parse(&[
            "--test-runner-timeout",
            "",
            "--commit-max-attempts",
            "2",
            "--allow-file-git-urls",
            "--test-runner-command",
            " ",
            "--work-dir",
            "rel",
        ])
        .unwrap();
        assert_eq!(c.tasks.test_runner_timeout, Duration::from_secs(600));
        assert_eq!(c.tasks.commit_max_attempts, 2);
        assert!(c.tasks.allow_file_git_urls);
        assert_eq!(c.tasks.test_runner_command, None);
        assert!(c.tasks.work_dir.unwrap().is_absolute());
        let c = parse(&["--allow-file-git-urls=false"]).unwrap();
        assert!(!c.tasks.allow_file_git_urls);
        assert!(parse(&["--allow-file-git-urls=maybe"])
            .unwrap_err()
            .contains("allow-file-git-urls"));
        assert!(parse(&["--git-timeout", "x"])
            .unwrap_err()
            .contains("git-timeout"));
        assert!(parse(&["--commit-max-attempts", "0"])
            .unwrap_err()
            .contains("commit-max-attempts"));
    }

    #[test]
    fn sandbox_settings() {
        let s = parse(&[]).unwrap().tasks.sandbox;
        assert_eq!(s, crate::sandbox::Settings::default());
        assert!(s.enabled);
        let s = parse(&[
            "--sandbox",
            "off",
            "--sandbox-memory-mb",
            "64",
            "--sandbox-disk-mb",
            "",
            "--sandbox-read",
            "/opt/a::/opt/b",
            "--sandbox-allow-tcp",
            "443, 8080",
        ])
        .unwrap()
        .tasks
        .sandbox;
        assert!(!s.enabled);
        assert_eq!(s.limits.memory_bytes, 64 << 20);
        assert_eq!(
            s.limits.disk_bytes,
            crate::sandbox::Limits::default().disk_bytes
        );
        assert_eq!(
            s.extra_read,
            vec![std::path::PathBuf::from("/opt/a"), "/opt/b".into()]
        );
        assert_eq!(s.allow_tcp_ports, vec![443, 8080]);
        for (args, needle) in [
            (
                &["--sandbox", "maybe"][..],
                "--sandbox \"maybe\": use on or off",
            ),
            (
                &["--sandbox-max-processes", "0"][..],
                "sandbox-max-processes 0",
            ),
            (&["--sandbox-write", "rel/dir"][..], "must be absolute"),
            (&["--sandbox-allow-tcp", "0"][..], "expected 1-65535"),
            (&["--sandbox-allow-tcp", "http"][..], "expected 1-65535"),
            (&["--sandbox-cpu-seconds=-1"][..], "sandbox-cpu-seconds"),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }

    #[test]
    fn password_goes_into_url_and_is_redacted() {
        let args = RedisArgs {
            redis_url: "redis://127.0.0.1:6379/0".into(),
            redis_password: Some("s3cret".into()),
            key_prefix: "rq".into(),
            redis_tls_ca: None,
            redis_tls_cert: None,
            redis_tls_key: None,
        };
        let url = args.effective_url().unwrap();
        assert!(url.contains(":s3cret@"));
        assert!(!redact_url(&url).contains("s3cret"));
    }

    #[test]
    fn database_url_from_flag_or_postgres_variables() {
        let none = DatabaseArgs::default();
        assert_eq!(none.effective_url().unwrap(), None);
        let parts = DatabaseArgs {
            postgres_host: Some("postgres".into()),
            postgres_port: Some("5433".into()),
            postgres_user: Some("app".into()),
            postgres_password: Some("p@ss/word".into()),
            postgres_db: Some("codeability".into()),
            ..Default::default()
        };
        let url = parts.effective_url().unwrap().unwrap();
        assert_eq!(
            url,
            "postgres://app:p%40ss%2Fword@postgres:5433/codeability"
        );
        let flag = DatabaseArgs {
            database_url: Some("postgresql://u@h/db".into()),
            ..parts.clone()
        };
        assert_eq!(
            flag.effective_url().unwrap().unwrap(),
            "postgresql://u@h/db"
        );
        let bad = DatabaseArgs {
            database_url: Some("mysql://h/db".into()),
            ..Default::default()
        };
        assert!(bad.effective_url().unwrap_err().contains("scheme"));
        let c = parse(&[
            "--history-retention-days",
            "0",
            "--database-url",
            "postgres://h/d",
        ])
        .unwrap();
        assert_eq!(c.history_retention_days, None);
        assert_eq!(c.history_buffer, 100_000);
        assert!(parse(&["--history-buffer", "0"])
            .unwrap_err()
            .contains("history-buffer"));
    }
}
