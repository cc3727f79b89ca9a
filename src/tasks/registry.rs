//! The registered tasks, and how a job's function name finds one.
//!
//! Jobs name a handler directly (`q.enqueue('echo', 42)`) or through the backend's wrapper
//! `ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper(task_name, parameters)`
//! (docs/tasks.md); [`Registry::resolve`] turns either form into one [`Invocation`].

use std::sync::Arc;

use super::layer::{self, Layer};
use super::{kit, TaskCall, TaskError, TaskSpec};
use crate::value::Value;

/// The backend's dispatch function.
pub const BACKEND_WRAPPER: &str =
    "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper";
const WRAPPER_DISPLAY: &str = "TaskExecutor._execute_task_wrapper()";

/// The tasks a worker runs, each handler already wrapped in its layers. Cheap to clone.
#[derive(Clone, Default)]
pub struct Registry {
    tasks: Arc<Vec<Arc<TaskSpec>>>,
}

/// A job resolved to a handler and the call to make.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub task: Arc<TaskSpec>,
    pub call: TaskCall,
}

impl Registry {
    /// The tasks as given (no layers): for listing and checking parameters.
    pub fn new(tasks: Vec<TaskSpec>) -> Result<Registry, String> {
        let mut seen = std::collections::HashSet::new();
        for t in &tasks {
            if t.name.is_empty() {
                return Err("a task needs a name".into());
            }
            if !seen.insert(t.name.clone()) {
                return Err(format!("task {:?} is registered twice", t.name));
            }
        }
        Ok(Registry {
            tasks: Arc::new(tasks.into_iter().map(Arc::new).collect()),
        })
    }

    /// The built-in tasks, unwrapped (the `tasks` and `submit` commands).
    pub fn builtin() -> Registry {
        Registry {
            tasks: Arc::new(super::builtin().into_iter().map(Arc::new).collect()),
        }
    }

    /// The same tasks with every handler wrapped: `extra` layers innermost (in the order
    /// given, the first one closest to the handler), then the standard ones
    /// ([`layer::standard`]: tracing, scratch directory, catch-panic outermost).
    pub fn layered(&self, extra: &[Arc<dyn Layer>]) -> Registry {
        let standard = layer::standard();
        let tasks = self
            .tasks
            .iter()
            .map(|t| {
                let mut spec = TaskSpec::clone(t);
                for l in extra.iter().chain(standard.iter()) {
                    spec.handler = l.wrap(&spec, spec.handler.clone());
                }
                Arc::new(spec)
            })
            .collect();
        Registry {
            tasks: Arc::new(tasks),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<TaskSpec>> {
        self.tasks.iter()
    }

    pub fn names(&self) -> Vec<&str> {
        self.tasks.iter().map(|t| t.name.as_ref()).collect()
    }

    pub fn lookup(&self, name: &str) -> Option<&Arc<TaskSpec>> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// Resolves a job's function name and arguments to a registered handler.
    pub fn resolve(
        &self,
        func_name: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<Invocation, TaskError> {
        if func_name == BACKEND_WRAPPER {
            return self.resolve_wrapper(args, kwargs);
        }
        match self.lookup(func_name) {
            Some(task) => Ok(Invocation {
                task: task.clone(),
                call: TaskCall { args, kwargs },
            }),
            None => Err(TaskError::new(
                "LookupError",
                format!(
                    "task-worker has no task named {:?} (registered: {})",
                    func_name,
                    self.names().join(", ")
                ),
            )),
        }
    }

    /// Resolves a job's callback (`on_success=`, `on_failure=`, `on_stopped=`) to a registered
    /// task. Any other name is refused: task-worker runs no Python code, and a callback must
    /// never be dropped without a word, so the job fails before its function runs.
    pub fn resolve_callback(&self, argument: &str, name: &str) -> Result<Arc<TaskSpec>, TaskError> {
        self.lookup(name).cloned().ok_or_else(|| {
            TaskError::new(
                "LookupError",
                format!(
                    "the job's {argument} callback {} is not a task task-worker knows, so the job was not run (registered: {})",
                    Value::Str(name.to_string()).py_repr(),
                    self.names().join(", ")
                ),
            )
        })
    }

    /// Binds `_execute_task_wrapper(task_name, parameters, **kwargs)` as Python would; the
    /// extra kwargs `retry_limit` and `delay` the backend passes are accepted and ignored.
    fn resolve_wrapper(
        &self,
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
        let task = self
            .lookup(&name)
            .ok_or_else(|| TaskError::key_error(&format!("Task '{name}' is not registered")))?;
        let kwargs = kit::parameters_as_kwargs(task, parameters)?;
        Ok(Invocation {
            task: task.clone(),
            call: TaskCall {
                args: Vec::new(),
                kwargs,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.to_string())
    }

    #[test]
    fn callbacks_resolve_to_registered_tasks_only() {
        assert_eq!(
            Registry::builtin()
                .resolve_callback("on_success", "noop")
                .unwrap()
                .name,
            "noop"
        );
        let e = Registry::builtin()
            .resolve_callback("on_failure", "app.hooks.alert")
            .unwrap_err();
        assert_eq!(e.exc_type, "LookupError");
        assert!(
            e.message
                .starts_with("the job's on_failure callback 'app.hooks.alert' is not a task"),
            "{e}"
        );
    }

    #[test]
    fn direct_and_wrapper_resolution() {
        let inv = Registry::builtin()
            .resolve("echo", vec![Value::Int(1)], vec![])
            .unwrap();
        assert_eq!(inv.task.name, "echo");
        let params = Value::Dict(vec![(s("duration"), Value::Int(1))]);
        let inv = Registry::builtin()
            .resolve(
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
        let e = Registry::builtin()
            .resolve(
                BACKEND_WRAPPER,
                vec![s("nope"), Value::Dict(vec![])],
                vec![],
            )
            .unwrap_err();
        assert_eq!(e.last_line(), "KeyError: \"Task 'nope' is not registered\"");
        let e = Registry::builtin()
            .resolve(BACKEND_WRAPPER, vec![s("echo")], vec![])
            .unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: TaskExecutor._execute_task_wrapper() missing 1 required positional argument: 'parameters'"
        );
        let e = Registry::builtin()
            .resolve(
                BACKEND_WRAPPER,
                vec![s("echo"), Value::Dict(vec![])],
                vec![("bogus".into(), Value::None)],
            )
            .unwrap_err();
        assert!(e.message.contains("unexpected keyword argument 'bogus'"));
        let e = Registry::builtin()
            .resolve(
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
            Registry::builtin()
                .resolve("nope.nope", vec![], vec![])
                .unwrap_err()
                .exc_type,
            "LookupError"
        );
    }
}
