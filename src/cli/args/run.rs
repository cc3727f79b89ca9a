//! The options of `task-worker run`, the worker itself ([`RunArgs`]), and those it shares with
//! `task-worker worker` ([`CommonArgs`]); the built-in tasks' options are flattened into them
//! from `tasks`. `validate` turns them into a
//! [`RunConfig`](crate::config::RunConfig).
use clap::Args;

use super::{DatabaseArgs, RedisArgs, TaskArgs};
use crate::config::LogFormat;
use crate::python::PythonMode;

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
    /// The global connection options (set by [`Cli::into_command`](super::Cli::into_command)).
    #[arg(skip)]
    pub redis: RedisArgs,
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
    /// Run RQ's scheduler too: move due `enqueue_in`/`enqueue_at`/retry jobs to their queues.
    #[arg(long, env = "TASK_WITH_SCHEDULER")]
    pub with_scheduler: bool,
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
    /// The global connection options (set by [`Cli::into_command`](super::Cli::into_command)).
    #[arg(skip)]
    pub database: DatabaseArgs,
    /// Directories put first on the Python jobs' sys.path, as `rq worker -P`; repeatable or
    /// colon-separated. Default: the current directory.
    #[arg(
        long = "python-path",
        short = 'P',
        env = "TASK_WORKER_PYTHON_PATH",
        value_name = "DIR",
        value_delimiter = ':'
    )]
    pub python_path: Vec<String>,
    // The options `run` shares with `worker`.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The options of the worker that `run` and `worker` (RQ's command line) share: their flags
/// and variables are the same under both.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Backend API base URL; when set, start-up waits for `GET <url>/info`.
    #[arg(long, env = "EXECUTION_BACKEND_API_URL")]
    pub api_url: Option<String>,
    #[arg(long, env = "EXECUTION_BACKEND_API_USER")]
    pub api_user: Option<String>,
    #[arg(long, env = "EXECUTION_BACKEND_API_PASSWORD", hide_env_values = true)]
    pub api_password: Option<String>,
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
    /// Seconds running jobs get to finish after the first SIGTERM/SIGINT.
    #[arg(
        long,
        env = "SHUTDOWN_TIMEOUT",
        default_value_t = 25,
        allow_negative_numbers = true
    )]
    pub shutdown_timeout: u64,
    /// When the shutdown timeout runs out, put unfinished jobs back at the front of their
    /// queues (status `queued`) instead of failing them.
    #[arg(long, env = "TASK_REQUEUE_ON_SHUTDOWN")]
    pub requeue_on_shutdown: bool,
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
    /// Python interpreter of the application's environment (with rq and the application
    /// installed): jobs whose function is not a built-in task run in Python processes
    /// (docs/python-jobs.md). Unset: such jobs fail with LookupError.
    #[arg(long, env = "TASK_WORKER_PYTHON", value_name = "PATH")]
    pub python: Option<String>,
    /// How Python jobs run: fork (default: one process per job, forked from a warm parent, as
    /// RQ's Worker) or reuse (long-lived processes, as RQ's SimpleWorker).
    #[arg(long, env = "TASK_WORKER_PYTHON_MODE", value_enum, default_value_t = PythonMode::Fork)]
    pub python_mode: PythonMode,
    /// Modules a Python process imports when it starts; repeatable or comma-separated.
    #[arg(
        long = "python-preload",
        env = "TASK_WORKER_PYTHON_PRELOAD",
        value_name = "MODULE",
        value_delimiter = ','
    )]
    pub python_preload: Vec<String>,
    /// Jobs a Python process runs before it is replaced (reuse mode); 0: no limit.
    #[arg(long, env = "TASK_WORKER_PYTHON_MAX_JOBS", default_value_t = 0)]
    pub python_max_jobs: u64,
    /// Resident memory (MiB) above which a Python process is replaced after its job (reuse
    /// mode); 0: no limit.
    #[arg(long, env = "TASK_WORKER_PYTHON_MAX_MEMORY_MB", default_value_t = 0)]
    pub python_max_memory_mb: u64,
    /// Seconds an idle worker's key lives after its last heartbeat, plus 60 (as `rq worker
    /// --worker-ttl`): how long a worker that died without a word stays listed.
    #[arg(
        long,
        env = "TASK_WORKER_TTL",
        default_value_t = 420,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub worker_ttl: i64,
    /// Exit after this many jobs, once they have ended (as `rq worker --max-jobs`).
    #[arg(long, env = "TASK_MAX_JOBS", value_name = "N")]
    pub max_jobs: Option<u64>,
    /// Exit after this many seconds without a job to run (as `rq worker --max-idle-time`; not
    /// with --burst, which exits once the queues are empty).
    #[arg(long, env = "TASK_MAX_IDLE_TIME", value_name = "SECS")]
    pub max_idle_time: Option<u64>,
    /// The order the queues are looked at for each job, as `rq worker --dequeue-strategy`:
    /// default (strict priority), round_robin (the queue a job came from goes last) or random
    /// (shuffled after each job).
    #[arg(
        long,
        env = "TASK_DEQUEUE_STRATEGY",
        default_value = "default",
        value_name = "STRATEGY"
    )]
    pub dequeue_strategy: String,
    #[command(flatten)]
    pub tasks: TaskArgs,
}
