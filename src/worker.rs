//! The public way to run a worker: built-in tasks, your own tasks, or both.
//!
//! ```no_run
//! use task_worker::tasks::{TaskContext, TaskError};
//! use task_worker::{Shutdown, Worker};
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
//! # async fn main_() -> anyhow::Result<()> {
//! // The options of `task-worker run` (`--queues`, `REDIS_URL`, ...).
//! let cfg = task_worker::cli::run_config(std::env::args_os())
//!     .map_err(anyhow::Error::msg)?;
//! Worker::builder(cfg)
//!     .task("myapp.tasks.add", add) // q.enqueue('myapp.tasks.add', 1, b=2)
//!     .run(Shutdown::on_signals())
//!     .await?;
//! # Ok(()) }
//! ```
//! A job names its task by the function name Python enqueued (`q.enqueue('myapp.tasks.add',
//! ...)`, or the function object whose `module.name` it is). Shared state goes in with
//! [`WorkerBuilder::data`] and comes out with `ctx.data::<T>()`; sinks that see every job with
//! [`WorkerBuilder::observer`]; wrappers around every handler with [`WorkerBuilder::layer`].

use std::borrow::Cow;
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::Config;
use crate::engine::{self, shutdown::Shutdown};
use crate::events::Observer;
use crate::tasks::{typed, DataMap, Layer, Registry, TaskContext, TaskError, TaskSpec};

/// A worker, configured by [`Worker::builder`].
pub struct Worker;

impl Worker {
    pub fn builder(config: Config) -> WorkerBuilder {
        WorkerBuilder {
            config,
            tasks: Vec::new(),
            layers: Vec::new(),
            data: DataMap::default(),
            observers: Vec::new(),
        }
    }
}

/// What a worker runs with. Nothing is checked or started before [`WorkerBuilder::run`].
pub struct WorkerBuilder {
    config: Config,
    tasks: Vec<TaskSpec>,
    layers: Vec<Arc<dyn Layer>>,
    data: DataMap,
    observers: Vec<Arc<dyn Observer>>,
}

impl WorkerBuilder {
    /// Registers a typed handler under `name`: an `async fn(P, TaskContext) -> Result<R, E>`
    /// (or a closure returning such a future), where `P: Deserialize` gets the job's arguments
    /// ([`crate::tasks::typed`]), `R: Serialize` is the job's result and `E: Into<TaskError>`
    /// (a [`TaskError`] or an `anyhow::Error`) its failure.
    pub fn task<F, Fut, P, R, E>(mut self, name: impl Into<Cow<'static, str>>, handler: F) -> Self
    where
        F: Fn(P, TaskContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        P: DeserializeOwned + Send + 'static,
        R: Serialize,
        E: Into<TaskError>,
    {
        self.tasks.push(typed::task(name, handler));
        self
    }

    /// Registers a task described in full (raw handler, signature, default timeout); the
    /// built-in tasks are registered this way.
    pub fn task_spec(mut self, spec: TaskSpec) -> Self {
        self.tasks.push(spec);
        self
    }

    /// Registers several [`TaskSpec`]s, e.g. [`crate::tasks::builtin`].
    pub fn tasks(mut self, specs: impl IntoIterator<Item = TaskSpec>) -> Self {
        self.tasks.extend(specs);
        self
    }

    /// Shares `value` with every handler: `ctx.data::<T>()`. One value per type; a second one
    /// of the same type replaces the first.
    pub fn data<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.data.insert(value);
        self
    }

    /// Adds a sink told about every job start and end (and stopped at exit).
    pub fn observer<O: Observer + 'static>(mut self, observer: Arc<O>) -> Self {
        self.observers.push(observer);
        self
    }

    /// Wraps every handler in `layer`, inside the standard layers (catch-panic, scratch
    /// directory, tracing); the first layer added is the innermost.
    pub fn layer(mut self, layer: impl Layer) -> Self {
        self.layers.push(Arc::new(layer));
        self
    }

    /// Runs until `shutdown` asks to stop (warm: running jobs may finish within
    /// `--shutdown-timeout`; cold: they are cancelled), or in burst mode until the queues are
    /// empty. Fails at once when two tasks have the same name or none is registered.
    pub async fn run(self, shutdown: Shutdown) -> anyhow::Result<ExitCode> {
        if self.tasks.is_empty() {
            anyhow::bail!("no task is registered: add one with Worker::builder(..).task(..)");
        }
        let tasks = Registry::new(self.tasks).map_err(anyhow::Error::msg)?;
        let parts = engine::Parts {
            tasks: tasks.layered(&self.layers),
            data: self.data,
            observers: self.observers,
        };
        engine::run(self.config, parts, shutdown).await
    }
}
