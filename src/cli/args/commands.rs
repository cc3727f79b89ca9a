//! The arguments of the subcommands other than `run`: `tasks`, `health`, `status`, `submit`,
//! `suspend`, `resume`, `requeue` and `history`. Each subcommand's module (`crate::cli::*`)
//! reads its struct; the global connection options are handed over by `Cli::into_command`.
use clap::Args;

use super::{DatabaseArgs, RedisArgs};

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

/// `task-worker history`: recent executions from PostgreSQL.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// The global connection options (set by [`Cli::into_command`](super::Cli::into_command)).
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
