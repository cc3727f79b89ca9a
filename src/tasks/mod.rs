//! The task layer: plain async handlers that know nothing about Redis or RQ.
//!
//! A handler receives its Python call (`args`, `kwargs` as [`Value`]s) and a [`TaskContext`]
//! (progress reporting, job identity), and returns a value or a [`TaskError`], which the engine
//! turns into RQ's success or failure records. Adding a task = one file with its handler and one
//! line in [`REGISTRY`].
//!
//! Jobs name a handler directly (`q.enqueue('echo', 42)`) or through the backend's wrapper
//! `ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper(task_name, parameters)`
//! (ctutor-tasks.md §1); [`resolve`] turns either form into one [`Invocation`].

pub mod basic;
pub mod examples;
pub mod kit;
pub mod student_testing;

/// Child processes in their own group (the kit's way to run programs), from [`crate::process`].
pub use crate::process;

use std::future::Future;
use std::pin::Pin;

use crate::value::Value;
pub use kit::{Cancellation, ProgressSink, TaskContext, TaskSettings};

/// The boxed future a handler returns.
pub type TaskFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;
/// A handler: a plain function from the call and its context to a future result.
pub type Handler = fn(TaskCall, TaskContext) -> TaskFuture;

/// The backend's dispatch function (ctutor-tasks.md §1).
pub const BACKEND_WRAPPER: &str =
    "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper";
const WRAPPER_DISPLAY: &str = "TaskExecutor._execute_task_wrapper()";

/// A registered task.
#[derive(Clone, Copy)]
pub struct TaskSpec {
    pub name: &'static str,
    /// Timeout when the job hash has none (seconds); `None` = RQ's default of 180 s.
    pub default_timeout: Option<i64>,
    /// The retry budget the backend passes as `retry_limit` for this task (informational).
    pub default_retries: u32,
    pub summary: &'static str,
    /// The parameters the handler binds, in positional order: what `tasks` shows, what
    /// `submit` checks, and what [`kit::Params::bind`] binds (one list, no second copy).
    pub params: Parameters,
    pub handler: Handler,
}

/// A task's signature.
#[derive(Debug, Clone, Copy)]
pub enum Parameters {
    /// `execute(self, a=…, b=…)`: exactly these names.
    Named(&'static [Param]),
    /// `execute(self, *args, **kwargs)`: anything, ignored.
    Any,
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
    pub fn named_params(&self) -> &'static [Param] {
        match self.params {
            Parameters::Named(p) => p,
            Parameters::Any => &[],
        }
    }

    /// `Err(message)` when `name` is not a parameter of this task; the message names the
    /// accepted ones.
    pub fn check_param(&self, name: &str) -> Result<(), String> {
        let Parameters::Named(params) = self.params else {
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

/// Every built-in task. One line per task.
pub static REGISTRY: &[TaskSpec] = &[
    basic::ECHO,
    basic::NOOP,
    basic::SLEEP,
    basic::FAIL,
    examples::LONG_RUNNING,
    examples::DATA_PROCESSING,
    examples::FAILING,
    student_testing::STUDENT_TEST_EXECUTION,
];

pub fn lookup(name: &str) -> Option<&'static TaskSpec> {
    REGISTRY.iter().find(|t| t.name == name)
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

/// A job resolved to a handler and the call to make.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub task: &'static TaskSpec,
    pub call: TaskCall,
}

/// Resolves a job's function name and arguments to a registered handler.
pub fn resolve(
    func_name: &str,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
) -> Result<Invocation, TaskError> {
    if func_name == BACKEND_WRAPPER {
        return resolve_wrapper(args, kwargs);
    }
    match lookup(func_name) {
        Some(task) => Ok(Invocation {
            task,
            call: TaskCall { args, kwargs },
        }),
        None => Err(TaskError::new(
            "LookupError",
            format!(
                "task-worker has no task named {:?} (registered: {})",
                func_name,
                REGISTRY
                    .iter()
                    .map(|t| t.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Resolves a job's callback (`on_success=`, `on_failure=`, `on_stopped=`) to a registered task.
/// Any other name is refused: task-worker runs no Python code, and a callback must never be
/// dropped without a word, so the job fails before its function runs.
pub fn resolve_callback(argument: &str, name: &str) -> Result<&'static TaskSpec, TaskError> {
    lookup(name).ok_or_else(|| {
        TaskError::new(
            "LookupError",
            format!(
                "the job's {argument} callback {} is not a task task-worker knows, so the job was not run (registered: {})",
                Value::Str(name.to_string()).py_repr(),
                REGISTRY
                    .iter()
                    .map(|t| t.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// Binds `_execute_task_wrapper(task_name, parameters, **kwargs)` as Python would; the extra
/// kwargs `retry_limit` and `delay` the backend passes are accepted and ignored (§1 [ours]).
fn resolve_wrapper(
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
) -> Result<Invocation, TaskError> {
    const PARAMS: [&str; 2] = ["task_name", "parameters"];
    if args.len() > PARAMS.len() {
        return Err(TaskError::type_error(format!(
            "{WRAPPER_DISPLAY} takes 3 positional arguments but {} were given",
            args.len() + 1
        )));
    }
    let mut bound: [Option<Value>; 2] = [None, None];
    for (slot, v) in bound.iter_mut().zip(args) {
        *slot = Some(v);
    }
    for (k, v) in kwargs {
        match PARAMS.iter().position(|p| *p == k) {
            Some(i) if bound[i].is_some() => {
                return Err(TaskError::type_error(format!(
                    "{WRAPPER_DISPLAY} got multiple values for argument '{k}'"
                )))
            }
            Some(i) => bound[i] = Some(v),
            None if k == "retry_limit" || k == "delay" => {}
            None => {
                return Err(TaskError::type_error(format!(
                    "{WRAPPER_DISPLAY} got an unexpected keyword argument '{k}'"
                )))
            }
        }
    }
    let [task_name, parameters] = bound;
    let missing: Vec<&str> = PARAMS
        .iter()
        .zip([&task_name, &parameters])
        .filter(|(_, v)| v.is_none())
        .map(|(p, _)| *p)
        .collect();
    match missing.as_slice() {
        [] => {}
        [one] => {
            return Err(TaskError::type_error(format!(
                "{WRAPPER_DISPLAY} missing 1 required positional argument: '{one}'"
            )))
        }
        _ => {
            return Err(TaskError::type_error(format!(
                "{WRAPPER_DISPLAY} missing 2 required positional arguments: 'task_name' and 'parameters'"
            )))
        }
    }
    let (Some(task_name), Some(parameters)) = (task_name, parameters) else {
        return Err(TaskError::type_error(
            "wrapper arguments could not be bound",
        ));
    };
    let name = match &task_name {
        Value::Str(s) => s.clone(),
        other => other.py_str(),
    };
    let task = lookup(&name)
        .ok_or_else(|| TaskError::key_error(&format!("Task '{name}' is not registered")))?;
    let kwargs = kit::parameters_as_kwargs(task, parameters)?;
    Ok(Invocation {
        task,
        call: TaskCall {
            args: Vec::new(),
            kwargs,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.to_string())
    }

    #[test]
    fn callbacks_resolve_to_registered_tasks_only() {
        assert_eq!(resolve_callback("on_success", "noop").unwrap().name, "noop");
        let e = resolve_callback("on_failure", "app.hooks.alert").unwrap_err();
        assert_eq!(e.exc_type, "LookupError");
        assert!(
            e.message
                .starts_with("the job's on_failure callback 'app.hooks.alert' is not a task"),
            "{e}"
        );
    }

    #[test]
    fn direct_and_wrapper_resolution() {
        let inv = resolve("echo", vec![Value::Int(1)], vec![]).unwrap();
        assert_eq!(inv.task.name, "echo");
        let params = Value::Dict(vec![(s("duration"), Value::Int(1))]);
        let inv = resolve(
            BACKEND_WRAPPER,
            vec![s("example_long_running"), params],
            vec![
                ("retry_limit".into(), Value::Int(3)),
                ("delay".into(), Value::None),
            ],
        )
        .unwrap();
        assert_eq!(inv.task.name, "example_long_running");
        assert_eq!(
            inv.call.kwargs,
            vec![("duration".to_string(), Value::Int(1))]
        );
    }

    #[test]
    fn wrapper_errors_like_python() {
        let e = resolve(
            BACKEND_WRAPPER,
            vec![s("nope"), Value::Dict(vec![])],
            vec![],
        )
        .unwrap_err();
        assert_eq!(e.last_line(), "KeyError: \"Task 'nope' is not registered\"");
        let e = resolve(BACKEND_WRAPPER, vec![s("echo")], vec![]).unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: TaskExecutor._execute_task_wrapper() missing 1 required positional argument: 'parameters'"
        );
        let e = resolve(
            BACKEND_WRAPPER,
            vec![s("echo"), Value::Dict(vec![])],
            vec![("bogus".into(), Value::None)],
        )
        .unwrap_err();
        assert!(e.message.contains("unexpected keyword argument 'bogus'"));
        let e = resolve(
            BACKEND_WRAPPER,
            vec![s("example_failing"), Value::Int(1)],
            vec![],
        )
        .unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: ExampleFailingTask.execute() argument after ** must be a mapping, not int"
        );
        assert_eq!(
            resolve("nope.nope", vec![], vec![]).unwrap_err().exc_type,
            "LookupError"
        );
    }
}
