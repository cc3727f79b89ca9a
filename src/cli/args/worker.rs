//! The options of `task-worker worker`: `rq worker`'s command line (RQ 2.0 to 3.0,
//! `rq/cli/workers.py` and the shared options of `rq/cli/helpers.py`), so that replacing
//! `rq worker` by `task-worker worker` in a compose file or a Procfile is the only change.
//! `validate` maps them onto a [`RunConfig`](crate::config::RunConfig); what cannot apply is
//! refused or noted there, one line each.
//!
//! Our own options are here too where they do not clash with RQ's: the [`CommonArgs`] by their
//! long names (and variables), and `--concurrency` (long form only: `-c` is RQ's `--config`).
use clap::Args;

use super::{CommonArgs, DatabaseArgs, RedisArgs};

#[derive(Debug, Clone, Args)]
#[command(
    after_help = "RQ's options that cannot apply are refused (-c/--config, --exception-handler, \
                  a custom --serializer, --sentry-*) or accepted with a one-line note at start-up \
                  (-w with a worker class of its own, -j, --queue-class, --connection-class, \
                  --date-format, -d). See the README, \"Replacing `rq worker`\"."
)]
pub struct WorkerArgs {
    /// Queues to listen on, highest priority first (default: default).
    #[arg(value_name = "QUEUES")]
    pub queues: Vec<String>,
    /// Redis URL (default: --redis-url, REDIS_URL). A password in it must come from the
    /// variable, not the command line.
    #[arg(short = 'u', long = "url", env = "RQ_REDIS_URL", value_name = "URL")]
    pub url: Option<String>,
    /// RQ's settings module: refused (task-worker does not import Python settings).
    #[arg(short = 'c', long = "config", env = "RQ_CONFIG", value_name = "MODULE")]
    pub config: Option<String>,
    /// RQ worker class: rq.Worker (fork, the default), rq.SimpleWorker (--python-mode reuse),
    /// rq.worker.RoundRobinWorker and rq.worker.RandomWorker (their dequeue strategies); any
    /// other is noted and runs as rq.Worker.
    #[arg(
        short = 'w',
        long = "worker-class",
        env = "RQ_WORKER_CLASS",
        value_name = "CLASS"
    )]
    pub worker_class: Option<String>,
    /// RQ job class: only RQ's own (a custom one is noted; jobs load as rq.job.Job).
    #[arg(
        short = 'j',
        long = "job-class",
        env = "RQ_JOB_CLASS",
        value_name = "CLASS"
    )]
    pub job_class: Option<String>,
    /// RQ queue class: only RQ's own (a custom one is noted).
    #[arg(long = "queue-class", env = "RQ_QUEUE_CLASS", value_name = "CLASS")]
    pub queue_class: Option<String>,
    /// Redis client class: only redis.Redis (a custom one is noted).
    #[arg(
        long = "connection-class",
        env = "RQ_CONNECTION_CLASS",
        value_name = "CLASS"
    )]
    pub connection_class: Option<String>,
    /// Directories put first on the Python jobs' sys.path (repeatable; default: .).
    #[arg(short = 'P', long = "path", alias = "python-path", value_name = "DIR")]
    pub path: Vec<String>,
    /// Serializer: pickle (rq.serializers.DefaultSerializer, the default) or json
    /// (rq.serializers.JSONSerializer); any other is refused.
    #[arg(short = 'S', long = "serializer", value_name = "SERIALIZER")]
    pub serializer: Option<String>,
    /// Exit once all queues are empty and running jobs are done.
    #[arg(short = 'b', long)]
    pub burst: bool,
    /// Log level: DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO, or RUST_LOG).
    #[arg(long = "logging_level", alias = "logging-level", value_name = "LEVEL")]
    pub logging_level: Option<String>,
    /// text or json; RQ's Python format strings are noted and not used.
    #[arg(long = "log-format", env = "LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Noted and not used (task-worker's timestamps are RFC 3339).
    #[arg(long = "date-format", value_name = "FORMAT")]
    pub date_format: Option<String>,
    /// Worker name (default: 32 random hex digits, as RQ).
    #[arg(short = 'n', long)]
    pub name: Option<String>,
    /// Seconds successful results are kept when the job does not say (default 500).
    #[arg(long, default_value_t = 500, allow_negative_numbers = true)]
    pub results_ttl: i64,
    /// Seconds between maintenance runs (registry cleanup, abandoned jobs).
    #[arg(
        long,
        default_value_t = 600,
        allow_negative_numbers = true,
        value_name = "SECS"
    )]
    pub maintenance_interval: u64,
    /// Seconds between the heartbeats of running jobs (default: task-worker's 10; RQ's is 30).
    #[arg(long, allow_negative_numbers = true, value_name = "SECS")]
    pub job_monitoring_interval: Option<u64>,
    /// Accepted: task-worker does not log job descriptions.
    #[arg(long)]
    pub disable_job_desc_logging: bool,
    /// Log level DEBUG.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Log level WARNING.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Refused: Python exception handlers do not run (failures go to the failed registry).
    #[arg(long, value_name = "PATH")]
    pub exception_handler: Vec<String>,
    /// Write the process id to this file.
    #[arg(long, value_name = "FILE")]
    pub pid: Option<String>,
    /// Noted: failed jobs always go to the failed registry.
    #[arg(short = 'd', long)]
    pub disable_default_exception_handler: bool,
    /// Run RQ's scheduler too.
    #[arg(short = 's', long)]
    pub with_scheduler: bool,
    /// RQ 1.x's Sentry options: refused (RQ 2.0 dropped them).
    #[arg(long, hide = true)]
    pub sentry_dsn: Option<String>,
    #[arg(long, hide = true)]
    pub sentry_ca_certs: Option<String>,
    #[arg(long, hide = true)]
    pub sentry_debug: bool,
    /// Jobs run at once in this process (task-worker's own; no short form here).
    #[arg(
        long,
        env = "TASK_CONCURRENCY",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub concurrency: usize,
    /// The global connection options (set by [`Cli::into_command`](super::Cli::into_command)).
    #[arg(skip)]
    pub redis: RedisArgs,
    /// The global connection options (set by [`Cli::into_command`](super::Cli::into_command)).
    #[arg(skip)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// RQ's two-letter short option `-ds` (click accepts it; clap would read `-d -s`), written
/// as `--dequeue-strategy` in the words after `worker`.
pub fn long_dequeue_strategy(words: &mut [std::ffi::OsString]) {
    for w in words.iter_mut() {
        if w.as_os_str() == "--" {
            break;
        }
        if w.as_os_str() == "-ds" {
            *w = "--dequeue-strategy".into();
        } else if let Some(v) = w.to_str().and_then(|t| t.strip_prefix("-ds=")) {
            *w = format!("--dequeue-strategy={v}").into();
        }
    }
}
