//! The `run` command's validated configuration: the worker library's [`rq_worker::Config`]
//! and what the course application adds to it (backend API, history, metrics, the student
//! test settings). The command line (`cli::args`) builds it from flags and environment
//! variables and validates them once; nothing here parses arguments or reads the environment.

use std::net::SocketAddr;

use clap::ValueEnum;

use crate::tasks::TaskSettings;

/// Log line format (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line per event for people.
    Text,
    /// One JSON object per line for log shippers.
    Json,
}

/// Validated configuration of `task-worker run`.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Queues, Redis and how jobs run: the worker library's part.
    pub worker: rq_worker::Config,
    /// Threads of the async runtime (1 by default: see `engine::dispatch`).
    pub runtime_threads: usize,
    pub log_format: LogFormat,
    /// The backend API; the worker waits for it at start-up when set.
    pub api_url: Option<String>,
    pub api_user: Option<String>,
    pub api_password: Option<String>,
    /// Serve Prometheus metrics here; `None` = off.
    pub metrics_addr: Option<SocketAddr>,
    /// PostgreSQL URL of the task history; `None` = history off.
    pub database_url: Option<String>,
    pub history_buffer: usize,
    /// `None` = keep history rows forever.
    pub history_retention_days: Option<u32>,
    /// Settings of the student test task.
    pub tasks: TaskSettings,
    /// Python jobs (`--python`); `None`: jobs no task claims fail with `LookupError`.
    pub python: Option<crate::python::PythonSettings>,
    /// The log level `worker` was given (RQ's `--logging_level`, `-v`, `-q`), as a tracing
    /// filter (`debug`, `info`, `warn`, `error`); `None`: `RUST_LOG`, else `info`.
    pub log_level: Option<String>,
    /// Write the process id to this file at start-up (RQ's `--pid`).
    pub pid_file: Option<std::path::PathBuf>,
    /// One line each about options that were accepted but do not apply (`worker`), logged
    /// once logging is up.
    pub notes: Vec<String>,
}
