//! What a task is: its name, declared signature and handler ([`TaskSpec`]), the call it gets
//! ([`TaskCall`]), and the boxed future it returns ([`TaskFuture`]).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{TaskContext, TaskError};
use crate::errors::ParamError;
use crate::value::Value;

/// The boxed future a handler returns: the job's return value, or its failure.
pub type TaskFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// A handler: from the call and its context to a future result.
#[derive(Clone)]
pub enum Handler {
    /// A plain function (usable in a `const` [`TaskSpec`]).
    Fn(fn(TaskCall, TaskContext) -> TaskFuture),
    /// A closure that may hold state (typed handlers, layers).
    Shared(Arc<dyn Fn(TaskCall, TaskContext) -> TaskFuture + Send + Sync>),
}

impl Handler {
    /// A handler from any closure.
    pub fn new(f: impl Fn(TaskCall, TaskContext) -> TaskFuture + Send + Sync + 'static) -> Self {
        Handler::Shared(Arc::new(f))
    }

    /// Starts the handler on `call`; the job's work happens when the future is polled.
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
    /// The function name jobs call it by (the `func_name` Python enqueued).
    pub name: Cow<'static, str>,
    /// Timeout when the job hash has none (seconds); `None` = RQ's default of 180 s.
    pub default_timeout: Option<i64>,
    /// The number of retries enqueuers are expected to give this task's jobs. Informational
    /// only: what a job gets is its own `Retry`, as in RQ.
    pub default_retries: u32,
    /// One line on what the task does, for listings.
    pub summary: Cow<'static, str>,
    /// The parameters the handler binds, in positional order: what a listing shows, what
    /// [`TaskSpec::check_param`] checks, and what [`super::kit::Params::bind`] binds (one
    /// list, no second copy).
    pub params: Parameters,
    /// The code that runs a job.
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
    /// The keyword it binds by.
    pub name: &'static str,
    /// The Python type expected, as shown to operators (`float`, `str`, `dict`, `any`).
    pub kind: &'static str,
    /// The default as Python writes it; `None`: required.
    pub default: Option<&'static str>,
    /// One line.
    pub about: &'static str,
}

impl Param {
    /// A parameter without a default.
    pub const fn required(name: &'static str, kind: &'static str, about: &'static str) -> Param {
        Param {
            name,
            kind,
            default: None,
            about,
        }
    }

    /// A parameter with a `default`, written as Python writes it (`'basic'`, `10`, `None`).
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

    /// Whether `name` is a parameter of this task (any name is, for [`Parameters::Any`]); the
    /// error names the accepted ones.
    pub fn check_param(&self, name: &str) -> Result<(), ParamError> {
        let Parameters::Named(params) = &self.params else {
            return Ok(());
        };
        if params.iter().any(|p| p.name == name) {
            return Ok(());
        }
        let task = self.name.to_string();
        let name = name.to_string();
        Err(if params.is_empty() {
            ParamError::NoParameters { task, name }
        } else {
            let accepted = params.iter().map(|p| p.name.to_string()).collect();
            ParamError::Unknown {
                task,
                name,
                accepted,
            }
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

/// The arguments a handler is called with: Python's `*args` and `**kwargs`, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskCall {
    /// The positional arguments.
    pub args: Vec<Value>,
    /// The keyword arguments, in the order the job holds them.
    pub kwargs: Vec<(String, Value)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop(_: TaskCall, _: TaskContext) -> TaskFuture {
        Box::pin(async { Ok(Value::None) })
    }

    fn spec(params: Parameters) -> TaskSpec {
        TaskSpec {
            name: Cow::Borrowed("t"),
            default_timeout: None,
            default_retries: 0,
            summary: Cow::Borrowed(""),
            params,
            handler: Handler::Fn(noop),
        }
    }

    #[test]
    fn unknown_parameters_are_named_with_the_accepted_ones() {
        const TWO: &[Param] = &[
            Param::required("a", "int", ""),
            Param::optional("b", "int", "0", ""),
        ];
        let two = spec(Parameters::named(TWO));
        assert_eq!(two.check_param("a"), Ok(()));
        assert_eq!(
            two.check_param("c").map_err(|e| e.to_string()),
            Err("task t has no parameter \"c\"; it accepts: a, b".into())
        );
        assert_eq!(
            spec(Parameters::named(&[]))
                .check_param("c")
                .map_err(|e| e.to_string()),
            Err("task t takes no parameter, got \"c\"".into())
        );
        assert_eq!(spec(Parameters::Any).check_param("anything"), Ok(()));
    }
}
