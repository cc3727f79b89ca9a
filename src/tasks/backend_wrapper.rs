//! The backend's dispatch function: the course backend enqueues every task as
//! `ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper(task_name, parameters)`
//! (docs/course-tasks.md §1); [`resolve`] binds that call as Python would and finds the named
//! task.

use rq_protocol::value::Value;
use rq_worker::tasks::{kit, Invocation, Registry, TaskCall, TaskError};

/// The backend's dispatch function.
pub const BACKEND_WRAPPER: &str =
    "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper";
const WRAPPER_DISPLAY: &str = "TaskExecutor._execute_task_wrapper()";

/// The task a job of the backend's wrapper asks for (its first argument, when a str); `None`
/// for any other function. Names the job in history and metrics when no built-in task ran it
/// (an unknown task, or one the backend's own Python wrapper ran with `--python`).
pub fn requested_task<'a>(func_name: Option<&str>, args: &'a [Value]) -> Option<&'a str> {
    match (func_name, args.first()) {
        (Some(BACKEND_WRAPPER), Some(Value::Str(name))) => Some(name),
        _ => None,
    }
}

/// Binds `_execute_task_wrapper(task_name, parameters, **kwargs)` as Python would; the
/// extra kwargs `retry_limit` and `delay` the backend passes are accepted and ignored.
pub fn resolve(call: TaskCall, tasks: &Registry) -> Result<Invocation, TaskError> {
    let TaskCall { args, kwargs } = call;
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
    let task = tasks
        .lookup(&name)
        // Declined, not failed: with `--python` the backend's own wrapper runs the task.
        .ok_or_else(|| {
            TaskError::key_error(&format!("Task '{name}' is not registered")).unclaimed()
        })?;
    let kwargs = kit::parameters_as_kwargs(task, parameters)?;
    Ok(Invocation {
        task: task.clone(),
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
        assert_eq!(
            super::super::registry()
                .resolve_callback("on_success", "noop")
                .unwrap()
                .name,
            "noop"
        );
        let e = super::super::registry()
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
        let inv = super::super::registry()
            .resolve("echo", vec![Value::Int(1)], vec![])
            .unwrap();
        assert_eq!(inv.task.name, "echo");
        let params = Value::Dict(vec![(s("duration"), Value::Int(1))]);
        let inv = super::super::registry()
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
    fn the_requested_task_is_the_wrappers_first_argument() {
        let args = [s("python_greeting"), Value::Dict(vec![])];
        assert_eq!(
            requested_task(Some(BACKEND_WRAPPER), &args),
            Some("python_greeting")
        );
        assert_eq!(requested_task(Some("app.tasks.f"), &args), None);
        assert_eq!(
            requested_task(Some(BACKEND_WRAPPER), &[Value::Int(1)]),
            None
        );
        assert_eq!(requested_task(None, &args), None);
    }

    #[test]
    fn wrapper_errors_like_python() {
        let e = super::super::registry()
            .resolve(
                BACKEND_WRAPPER,
                vec![s("nope"), Value::Dict(vec![])],
                vec![],
            )
            .unwrap_err();
        assert_eq!(e.last_line(), "KeyError: \"Task 'nope' is not registered\"");
        // Only an unknown task is declined (with `--python` the backend's wrapper runs it).
        assert!(e.is_unclaimed());
        let e = super::super::registry()
            .resolve(BACKEND_WRAPPER, vec![s("echo")], vec![])
            .unwrap_err();
        assert!(!e.is_unclaimed());
        assert_eq!(
            e.last_line(),
            "TypeError: TaskExecutor._execute_task_wrapper() missing 1 required positional argument: 'parameters'"
        );
        let e = super::super::registry()
            .resolve(
                BACKEND_WRAPPER,
                vec![s("echo"), Value::Dict(vec![])],
                vec![("bogus".into(), Value::None)],
            )
            .unwrap_err();
        assert!(e.message.contains("unexpected keyword argument 'bogus'"));
        let e = super::super::registry()
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
            super::super::registry()
                .resolve("nope.nope", vec![], vec![])
                .unwrap_err()
                .exc_type,
            "LookupError"
        );
    }
}
