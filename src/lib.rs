//! task-worker: the course platform's RQ worker, built on the `rq-worker` library.
//!
//! This package is the application on top of the worker library: the command line, the
//! built-in tasks (the student test task among them), the sandbox they run programs in, the
//! backend API client, the PostgreSQL history, metrics and traces. The generic parts (the RQ
//! protocol and the engine) are the `rq-protocol` and `rq-worker` crates of this workspace.
//!
//! * [`cli`], [`config`]: the command line and the `run` configuration (`cli::run` assembles
//!   the worker with `rq_worker::Worker::builder`);
//! * [`tasks`]: the built-in tasks and the backend's wrapper that names them;
//! * [`python`]: Python jobs (`--python`): the pool of Python processes that runs the jobs no
//!   built-in task claims, through the worker library's fallback hook;
//! * [`sandbox`]: confinement of what the student test task starts (docs/security.md);
//! * [`api`]: the backend API client;
//! * [`history`], [`metrics`], [`telemetry`]: observers of every job (PostgreSQL rows,
//!   Prometheus metrics, OpenTelemetry spans); the engine does not import them
//!   (`tests/repository/test_repository.py` checks it);
//! * [`webhooks`]: RQ's webhooks sent over HTTP, the library's `WebhookSender`.

pub mod api;
pub mod cli;
pub mod config;
pub mod history;
pub mod logging;
pub mod metrics;
pub mod python;
pub mod sandbox;
pub mod secret_files;
pub mod tasks;
pub mod telemetry;
pub mod webhooks;
