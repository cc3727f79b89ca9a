//! task-worker: a Rust worker that is wire-compatible with Python RQ.
//!
//! Use it as a library to run your own tasks: [`Worker::builder`] (see [`worker`] and
//! `examples/custom_tasks.rs`).
//!
//! Layers, from the wire up:
//! * [`rq`]: RQ's keys, encodings and lifecycle transactions (no tokio tasks);
//! * [`engine`]: dequeue, execution, heartbeats, commands, shutdown;
//! * [`tasks`]: plain async handlers that know nothing about Redis, in layers;
//! * [`worker`]: the public builder that assembles tasks, shared data and sinks;
//! * [`events`]: what sinks see ([`events::Observer`]): [`history`], [`metrics`], [`telemetry`];
//! * [`cli`], [`config`]: the command line (the `task-worker` binary assembles its worker in
//!   `cli::run`);
//! * [`metrics`]: Prometheus metrics and their HTTP endpoint;
//! * [`sandbox`]: confinement of what the student test task starts (docs/security.md);
//! * [`telemetry`]: OpenTelemetry spans per job, continuing the enqueuer's trace.
//!
//! One job's path touches four of these modules, top-down:
//! 1. `engine::dispatch` takes a batch of ids ([`rq::dequeue`]), reads their hashes
//!    ([`rq::job`]) and starts them in one script call ([`rq::start`]);
//! 2. `engine::executor` decodes the call ([`rq::codec`]), runs the handler in its layers
//!    ([`tasks`]), tells the observers ([`events`]) and decides the end: a result, or RQ's
//!    exception text and retry rule ([`rq::failure`], [`rq::retry`]) as one [`rq::lifecycle::JobEnd`];
//! 3. `engine::writer` sends a batch of ends in one guarded script call ([`rq::end_guard`]).
//!
//! Sinks (history, metrics, traces) are observers the binary registers; the engine does not
//! import them (`tests/interop/test_repository.py` checks both).

pub mod api;
pub mod backoff;
pub mod cli;
pub mod config;
pub mod engine;
pub mod errors;
pub mod events;
pub mod history;
pub mod logging;
pub mod metrics;
pub mod process;
pub mod redact;
pub mod rq;
pub mod sandbox;
pub mod secret_files;
pub mod tasks;
pub mod telemetry;
pub mod value;
pub mod worker;

pub use engine::shutdown::Shutdown;
pub use errors::error_text;
pub use worker::{Worker, WorkerBuilder};
