//! The builder that assembles a worker ([`Worker::builder`]): its [`Config`], tasks, shared
//! data, layers, observers, resolvers and start-up checks; [`WorkerBuilder::run`] runs it.

use std::borrow::Cow;
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::Config;
use crate::engine::{self, shutdown::Shutdown, StartupCheck};
use crate::errors::{RegistryError, WorkerError};
use crate::events::Observer;
use crate::tasks::{
    typed, DataMap, Fallback, Invocation, Layer, Registry, TaskCall, TaskContext, TaskError,
    TaskSpec,
};
use crate::webhooks::WebhookSender;

/// A worker, configured by [`Worker::builder`].
pub struct Worker;

impl Worker {
    /// Starts describing a worker that runs with `config`.
    pub fn builder(config: Config) -> WorkerBuilder {
        WorkerBuilder {
            config,
            tasks: Vec::new(),
            resolvers: Vec::new(),
            layers: Vec::new(),
            data: DataMap::default(),
            observers: Vec::new(),
            startup_checks: Vec::new(),
            fallback: None,
            webhooks: None,
        }
    }
}

/// What a worker runs with. Nothing is checked or started before [`WorkerBuilder::run`].
///
/// A job names its task by the function name Python enqueued (`q.enqueue('myapp.tasks.add',
/// ...)`, or the function object whose `module.name` it is). Shared state goes in with
/// [`WorkerBuilder::data`] and comes out with `ctx.data::<T>()`; sinks that see every job with
/// [`WorkerBuilder::observer`]; wrappers around every handler with [`WorkerBuilder::layer`].
///
/// ```no_run
/// use std::sync::Arc;
///
/// use rq_worker::{Config, Handler, JobEnded, Layer, Observer, Shutdown, TaskContext};
/// use rq_worker::{TaskError, TaskSpec, Worker};
///
/// // Shared by every job: `ctx.data::<Greeting>()`.
/// struct Greeting(String);
///
/// async fn greet(name: (String,), ctx: TaskContext) -> Result<String, TaskError> {
///     let greeting = ctx.data::<Greeting>().map_or("Hello", |g| g.0.as_str());
///     Ok(format!("{greeting}, {}!", name.0))
/// }
///
/// // Around every handler.
/// struct Logged;
/// impl Layer for Logged {
///     fn wrap(&self, task: &TaskSpec, inner: Handler) -> Handler {
///         let name = task.name.clone();
///         Handler::new(move |call, ctx| {
///             eprintln!("{name} starts job {}", ctx.job_id);
///             inner.call(call, ctx)
///         })
///     }
/// }
///
/// // Told about every job.
/// struct Ends;
/// impl Observer for Ends {
///     fn job_ended(&self, ev: &JobEnded<'_>) {
///         eprintln!("{} {}", ev.exec.job_id, ev.kind.as_str());
///     }
/// }
///
/// # async fn main_() -> Result<(), rq_worker::WorkerError> {
/// let mut config = Config::new("redis://127.0.0.1:6379/0");
/// config.queues = vec!["high".into(), "default".into()];
/// config.concurrency = 8;
/// Worker::builder(config)
///     .task("myapp.tasks.greet", greet) // q.enqueue('myapp.tasks.greet', 'Ada')
///     .data(Greeting("Hi".into()))
///     .layer(Logged)
///     .observer(Arc::new(Ends))
///     .startup_check(|_shutdown| async { true }) // e.g. wait for a service the tasks need
///     .run(Shutdown::on_signals())
///     .await?;
/// # Ok(()) }
/// ```
pub struct WorkerBuilder {
    config: Config,
    tasks: Vec<TaskSpec>,
    resolvers: Vec<(String, crate::tasks::Resolver)>,
    layers: Vec<Arc<dyn Layer>>,
    data: DataMap,
    observers: Vec<Arc<dyn Observer>>,
    startup_checks: Vec<StartupCheck>,
    fallback: Option<Arc<dyn Fallback>>,
    webhooks: Option<Arc<dyn WebhookSender>>,
}

impl WorkerBuilder {
    /// Registers a typed handler under `name`: an `async fn(P, TaskContext) -> Result<R, E>`
    /// (or a closure returning such a future), where `P: Deserialize` gets the job's arguments
    /// ([`typed`](crate::tasks::typed)), `R: Serialize` is the job's result and
    /// `E: Into<TaskError>` (a [`TaskError`] or an `anyhow::Error`) its failure.
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

    /// Registers a task described in full (raw handler, signature, default timeout), such as
    /// a `const` [`TaskSpec`] or one from [`typed::task`] with a default timeout set.
    pub fn task_spec(mut self, spec: TaskSpec) -> Self {
        self.tasks.push(spec);
        self
    }

    /// Registers several [`TaskSpec`]s, e.g. an application's list of its tasks.
    pub fn tasks(mut self, specs: impl IntoIterator<Item = TaskSpec>) -> Self {
        self.tasks.extend(specs);
        self
    }

    /// Binds the calls of the dispatching function `func_name` (one whose arguments name the
    /// task to run, such as an application's `run_task(task_name, parameters)`) with
    /// `resolver`: it gets the call and the registered tasks, and returns the task and its
    /// call, or the job's failure.
    pub fn resolver<F>(mut self, func_name: impl Into<String>, resolver: F) -> Self
    where
        F: Fn(TaskCall, &Registry) -> Result<Invocation, TaskError> + Send + Sync + 'static,
    {
        self.resolvers.push((func_name.into(), Arc::new(resolver)));
        self
    }

    /// Runs the jobs that no registered task or resolver claims with `fallback`, given their
    /// data as stored (see [`tasks::fallback`](crate::tasks::fallback)); without one they fail
    /// with `LookupError`. With a fallback, a worker may have no task at all.
    pub fn fallback(mut self, fallback: Arc<dyn Fallback>) -> Self {
        self.fallback = Some(fallback);
        self
    }

    /// Sends the jobs' webhooks (RQ 2.12+ `enqueue(webhooks=...)`) with `sender`: the engine
    /// decides when each is due and hands it over, the sender does the HTTP (see
    /// [`webhooks`](crate::webhooks)). Without one, a job's webhooks are not sent (a warning
    /// says so).
    pub fn webhook_sender(mut self, sender: Arc<dyn WebhookSender>) -> Self {
        self.webhooks = Some(sender);
        self
    }

    /// Runs `check` once Redis answers and before the first job is taken; checks run in the
    /// order added. A check that returns `false` ends the run cleanly (exit code 0).
    pub fn startup_check<F, Fut>(mut self, check: F) -> Self
    where
        F: FnOnce(Shutdown) -> Fut + Send + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.startup_checks
            .push(Box::new(move |shutdown| Box::pin(check(shutdown))));
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
    /// [`Config::shutdown_timeout`]; cold: they are cancelled), or in burst mode until the
    /// queues are empty. Fails at once, before connecting, on an invalid configuration
    /// ([`WorkerError::Config`]) and when no task is registered (and no fallback is set) or two have the same name
    /// ([`WorkerError::Tasks`]); later, only on what cannot be waited out
    /// ([`WorkerError::Run`]). Redis outages are waited out.
    pub async fn run(self, shutdown: Shutdown) -> Result<ExitCode, WorkerError> {
        self.config.validate()?;
        if self.tasks.is_empty() && self.fallback.is_none() {
            return Err(RegistryError::NoTask.into());
        }
        let mut tasks = Registry::new(self.tasks)?;
        for (name, resolver) in self.resolvers {
            tasks = tasks.with_resolver(&name, resolver)?;
        }
        let parts = engine::Parts {
            tasks: tasks.layered(&self.layers),
            data: self.data,
            observers: self.observers,
            startup_checks: self.startup_checks,
            fallback: self.fallback,
            webhooks: self.webhooks,
        };
        Ok(engine::run(self.config, parts, shutdown).await?)
    }
}
