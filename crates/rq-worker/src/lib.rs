//! rq-worker: a worker library for Python RQ (Redis Queue).
//!
//! Python enqueues with RQ (`q.enqueue('myapp.tasks.add', 1, b=2)`); a worker built with this
//! crate takes the jobs from the `rq:queue:*` lists in strict priority order, runs them as
//! plain async Rust handlers, many at once, and writes every state change back exactly as RQ's
//! own worker does, so results, registries, `rq info` and rq-dashboard read it as one of theirs.
//!
//! ```no_run
//! use rq_worker::{Config, Shutdown, TaskContext, TaskError, Worker};
//!
//! #[derive(serde::Deserialize)]
//! struct Add {
//!     a: i64,
//!     b: i64,
//! }
//!
//! async fn add(p: Add, _ctx: TaskContext) -> Result<i64, TaskError> {
//!     Ok(p.a + p.b)
//! }
//!
//! # async fn main_() -> Result<(), rq_worker::WorkerError> {
//! let mut cfg = Config::new("redis://127.0.0.1:6379/0");
//! cfg.queues = vec!["default".into()];
//! Worker::builder(cfg)
//!     .task("myapp.tasks.add", add)
//!     .run(Shutdown::on_signals())
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! The crate root holds what building a worker needs: [`Config`], [`Worker`] and its
//! [`WorkerBuilder`], [`Shutdown`], the task types ([`TaskContext`], [`TaskError`],
//! [`TaskSpec`], [`Layer`], [`DataMap`], …), the observer interface ([`Observer`] and its
//! events) and the errors ([`WorkerError`], [`ConfigError`], [`RegistryError`],
//! [`ParamError`]). The modules that define the configuration, the builder and the errors are
//! private: all of their items are here.
//!
//! Modules, from the wire up:
//! * [`rq`] (the `rq-protocol` crate): RQ's keys, encodings, scripts and texts, no I/O;
//!   [`value`]: a Python value as RQ's serializers carry it;
//! * the engine (private): dequeue, execution, heartbeats, commands, maintenance, and
//!   [`Shutdown`];
//! * [`tasks`]: plain async handlers that know nothing about Redis, wrapped in [`Layer`]s,
//!   with the [`tasks::typed`] binding and the raw handler's [`tasks::kit`];
//! * [`events`]: what [`Observer`]s (history, metrics, traces of an application) are told;
//! * [`webhooks`]: RQ's webhooks, due as the engine decides, sent by the application's
//!   [`WebhookSender`];
//! * [`Worker`]: the builder that assembles tasks, shared data, layers, observers and hooks;
//! * utilities an application's handlers and sinks share with the engine: [`backoff`]
//!   (retry delays), [`redact`] (passwords out of URLs), [`process`] (child processes in
//!   their own group), [`fs`] (directory trees by descriptor).
//!
//! One job's path, top-down:
//! 1. `engine::dispatch` takes a batch of ids ([`rq::dequeue`]), reads their hashes
//!    ([`rq::job`]) and starts them in one script call ([`rq::start`]);
//! 2. `engine::executor` decodes the call ([`rq::codec`]), resolves it in the [`Registry`],
//!    runs the handler in its layers, tells the observers and decides the end: a result, or
//!    RQ's exception text and retry rule ([`rq::failure`], [`rq::retry`]) as one
//!    [`rq::lifecycle::JobEnd`];
//! 3. `engine::writer` sends a batch of ends in one guarded script call ([`rq::end_guard`]).

#![deny(missing_docs)]

pub mod backoff;
mod config;
mod connection;
mod engine;
mod errors;
pub mod events;
pub mod fs;
pub mod process;
pub mod redact;
pub mod sentinel;
pub mod tasks;
pub mod webhooks;
mod worker;

/// RQ's protocol: the `rq-protocol` crate, which this library sends and reads.
pub use rq_protocol as rq;
/// A Python value as RQ's serializers carry it (arguments, results, `meta`).
pub use rq_protocol::value::{self, Value};

pub use config::{Config, DequeueStrategy, RedisTls, SentinelConfig};
pub use connection::RedisConnection;
pub use engine::shutdown::{Phase, Shutdown};
pub use engine::StartupCheck;
pub use errors::{error_text, ConfigError, ParamError, RegistryError, WorkerError};
pub use events::{EndKind, JobEnded, JobStarted, Observer, StopFuture, WorkerInfo};
pub use tasks::{
    Cancellation, DataMap, Fallback, Handler, Invocation, Layer, Param, Parameters, PhaseSignal,
    ProgressSink, RawCallback, RawCallbackCall, RawFuture, RawJob, RawOutcome, RawRetry, Registry,
    Resolver, TaskCall, TaskContext, TaskError, TaskFuture, TaskSpec,
};
pub use webhooks::{WebhookRequest, WebhookSender};
pub use worker::{Worker, WorkerBuilder};
