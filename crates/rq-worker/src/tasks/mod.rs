//! The task layer: plain async handlers that know nothing about Redis or RQ.
//!
//! A handler receives its Python call (`args`, `kwargs`) and a [`TaskContext`] (job identity,
//! progress, cancellation, scratch directory, shared data by [`TaskContext::data`]), and returns
//! a value or a [`TaskError`], which the engine turns into RQ's success or failure records.
//!
//! There are two ways to write one (docs/adding-a-task.md):
//! * **typed** ([`typed`]): `async fn add(p: AddArgs, ctx: TaskContext) -> Result<i64, TaskError>`
//!   where `AddArgs` is a `serde::Deserialize` struct; positional arguments bind to its fields
//!   in order, keyword arguments by name, with Python's error texts. This is what
//!   [`crate::worker::WorkerBuilder::task`] registers.
//! * **raw** ([`TaskSpec`] with a [`Handler`]): the call as [`Value`]s and a declared
//!   signature ([`Parameters`]); the built-in tasks are written this way.
//!
//! Every handler runs inside [`layer`]s (catch-panic, scratch directory, tracing); the
//! [`Registry`] resolves a job's function name to one [`Invocation`], directly or through a
//! [`Resolver`] for functions that dispatch to a task by their arguments.

pub mod data;
pub mod kit;
pub mod layer;
pub mod registry;
pub mod typed;

/// Child processes in their own group (the kit's way to run programs), from [`crate::process`].
pub use crate::process;

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::value::Value;
pub use data::DataMap;
pub use kit::{Cancellation, ProgressSink, TaskContext};
pub use layer::Layer;
pub use registry::{Invocation, Registry, Resolver};

/// The boxed future a handler returns.
pub type TaskFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// A handler: from the call and its context to a future result.
#[derive(Clone)]
pub enum Handler {
    /// A plain function (the built-in tasks; usable in a `const`).
    Fn(fn(TaskCall, TaskContext) -> TaskFuture),
    /// A closure that may hold state (typed handlers, layers).
    Shared(Arc<dyn Fn(TaskCall, TaskContext) -> TaskFuture + Send + Sync>),
}

impl Handler {
    /// A handler from any closure.
    pub fn new(f: impl Fn(TaskCall, TaskContext) -> TaskFuture + Send + Sync + 'static) -> Self {
        Handler::Shared(Arc::new(f))
    }

    pub fn call(&self, call: TaskCall, ctx: TaskContext) -> TaskFuture {
        match self {
            Handler::Fn(f) => f(call, ctx),
            Handler::Shared(f) => f(call, ctx),
        }
    }
}

/// A registered task.
#[derive(Clone)]
pub struct TaskSpec {
    pub name: Cow<'static, str>,
    /// Timeout when the job hash has none (seconds); `None` = RQ's default of 180 s.
    pub default_timeout: Option<i64>,
    /// The retry budget the backend passes as `retry_limit` for this task (informational).
    pub default_retries: u32,
    pub summary: Cow<'static, str>,
    /// The parameters the handler binds, in positional order: what `tasks` shows, what
    /// `submit` checks, and what [`kit::Params::bind`] binds (one list, no second copy).
    pub params: Parameters,
    pub handler: Handler,
}

/// A task's signature.
#[derive(Debug, Clone)]
pub enum Parameters {
    /// `execute(self, a=…, b=…)`: exactly these names.
    Named(Cow<'static, [Param]>),
    /// `execute(self, *args, **kwargs)`: anything, ignored.
    Any,
}

impl Parameters {
    /// A fixed list, usable in a `const`.
    pub const fn named(params: &'static [Param]) -> Parameters {
        Parameters::Named(Cow::Borrowed(params))
    }
}

/// One parameter of a task.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    /// The Python type expected, as shown to operators (`float`, `str`, `dict`, `any`).
    pub kind: &'static str,
    /// The default as Python writes it; `None`: required.
    pub default: Option<&'static str>,
    /// One line.
    pub about: &'static str,
}

impl Param {
    pub const fn required(name: &'static str, kind: &'static str, about: &'static str) -> Param {
        Param {
            name,
            kind,
            default: None,
            about,
        }
    }

    pub const fn optional(
        name: &'static str,
        kind: &'static str,
        default: &'static str,
        about: &'static str,
    ) -> Param {
        Param {
            name,
            kind,
            default: Some(default),
            about,
        }
    }
}

impl TaskSpec {
    /// The named parameters (none for [`Parameters::Any`]).
    pub fn named_params(&self) -> &[Param] {
        match &self.params {
            Parameters::Named(p) => p,
            Parameters::Any => &[],
        }
    }

    /// `Err(message)` when `name` is not a parameter of this task; the message names the
    /// accepted ones.
    pub fn check_param(&self, name: &str) -> Result<(), String> {
        let Parameters::Named(params) = &self.params else {
            return Ok(());
        };
        if params.iter().any(|p| p.name == name) {
            return Ok(());
        }
        let accepted: Vec<&str> = params.iter().map(|p| p.name).collect();
        Err(if accepted.is_empty() {
            format!("task {} takes no parameter, got {name:?}", self.name)
        } else {
            format!(
                "task {} has no parameter {name:?}; it accepts: {}",
                self.name,
                accepted.join(", ")
            )
        })
    }
}

impl std::fmt::Debug for TaskSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskSpec")
            .field("name", &self.name)
            .finish()
    }
}

/// The arguments a handler is called with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskCall {
    pub args: Vec<Value>,
    pub kwargs: Vec<(String, Value)>,
}

/// A failed task, reported the way Python reports an exception: the last line of the job's
/// `exc_string` is `<exc_type>: <message>` (or just `<exc_type>` when the message is empty).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskError {
    pub exc_type: String,
    pub message: String,
}

impl TaskError {
    pub fn new(exc_type: &str, message: impl Into<String>) -> Self {
        TaskError {
            exc_type: exc_type.to_string(),
            message: message.into(),
        }
    }

    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new("TypeError", message)
    }

    pub fn value_error(message: impl Into<String>) -> Self {
        Self::new("ValueError", message)
    }

    /// `KeyError` prints its argument with repr(), hence the quotes (ctutor-tasks.md §1).
    pub fn key_error(message: &str) -> Self {
        Self::new("KeyError", Value::Str(message.to_string()).py_repr())
    }

    /// The final traceback line.
    pub fn last_line(&self) -> String {
        if self.message.is_empty() {
            self.exc_type.clone()
        } else {
            format!("{}: {}", self.exc_type, self.message)
        }
    }
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.last_line())
    }
}

/// An error from `?` on an `anyhow::Result` in a handler: Python's plain `Exception`, with the
/// error's causes in its message.
impl From<anyhow::Error> for TaskError {
    fn from(e: anyhow::Error) -> Self {
        TaskError::new("Exception", crate::error_text(&e))
    }
}
