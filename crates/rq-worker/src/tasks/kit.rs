//! The raw handler's kit: binding a [`TaskCall`] to a task's declared [`Parameters`] with
//! Python's error texts ([`Params`]), and helpers for results.
//!
//! The texts are those of a Python task written as a class whose `execute()` method takes the
//! parameters (`ExampleTask.execute() missing 1 required positional argument: 'a'`).
//!
//! [`Parameters`]: super::Parameters

use serde::de::DeserializeOwned;

use super::{TaskCall, TaskError, TaskSpec};
use crate::value::Value;

/// `example_long_running` → `ExampleLongRunningTask`: the name of the Python class a task of
/// that name is written as, which Python's argument errors of its `execute()` method start
/// with (the texts of [`Params::bind`]).
pub fn class_name(task: &TaskSpec) -> String {
    let mut out: String = task
        .name
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect();
    out.push_str("Task");
    out
}

/// A dispatching function's `parameters` mapping as the task's keyword arguments, as Python's
/// `task.execute(**parameters)` takes them; a non-mapping is Python's
/// `TypeError: <C>.execute() argument after ** must be a mapping, not <type>`.
pub fn parameters_as_kwargs(
    task: &TaskSpec,
    parameters: Value,
) -> Result<Vec<(String, Value)>, TaskError> {
    match parameters {
        Value::Dict(pairs) => pairs
            .into_iter()
            .map(|(k, v)| match k {
                Value::Str(k) => Ok((k, v)),
                _ => Err(TaskError::type_error(format!(
                    "{}.execute() keywords must be strings",
                    class_name(task)
                ))),
            })
            .collect(),
        other => Err(TaskError::type_error(format!(
            "{}.execute() argument after ** must be a mapping, not {}",
            class_name(task),
            other.py_type_name()
        ))),
    }
}

/// Parameters bound to a handler's declared names, positionally or by keyword.
#[derive(Debug)]
pub struct Params {
    class: String,
    values: Vec<(&'static str, Option<Value>)>,
}

impl Params {
    /// Binds `call` to the task's parameters ([`TaskSpec::params`]) like a Python signature
    /// `execute(self, name1=…, name2=…)`; a parameter without a default is required. Errors use
    /// Python's texts.
    pub fn bind(task: &TaskSpec, call: &TaskCall) -> Result<Params, TaskError> {
        let names: Vec<&'static str> = task.named_params().iter().map(|p| p.name).collect();
        let required: Vec<&str> = task
            .named_params()
            .iter()
            .filter(|p| p.default.is_none())
            .map(|p| p.name)
            .collect();
        let class = class_name(task);
        if call.args.len() > names.len() {
            return Err(TaskError::type_error(format!(
                "{class}.execute() takes {} positional arguments but {} were given",
                names.len() + 1,
                call.args.len() + 1
            )));
        }
        let mut values: Vec<(&'static str, Option<Value>)> =
            names.iter().map(|n| (*n, None)).collect();
        for (slot, v) in values.iter_mut().zip(call.args.iter()) {
            slot.1 = Some(v.clone());
        }
        for (k, v) in &call.kwargs {
            match values.iter_mut().find(|(n, _)| n == k) {
                Some((_, slot)) if slot.is_some() => {
                    return Err(TaskError::type_error(format!(
                        "{class}.execute() got multiple values for argument '{k}'"
                    )))
                }
                Some((_, slot)) => *slot = Some(v.clone()),
                None => {
                    return Err(TaskError::type_error(format!(
                        "{class}.execute() got an unexpected keyword argument '{k}'"
                    )))
                }
            }
        }
        let missing: Vec<&str> = values
            .iter()
            .filter(|(n, v)| v.is_none() && required.contains(n))
            .map(|(n, _)| *n)
            .collect();
        if let Some(first) = missing.first() {
            return Err(TaskError::type_error(if missing.len() == 1 {
                format!("{class}.execute() missing 1 required positional argument: '{first}'")
            } else {
                let quoted: Vec<String> = missing.iter().map(|m| format!("'{m}'")).collect();
                format!(
                    "{class}.execute() missing {} required positional arguments: {}",
                    missing.len(),
                    quoted.join(", ")
                )
            }));
        }
        Ok(Params { class, values })
    }

    /// The raw value of a parameter, or `None` when it was not given.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_ref())
    }

    /// The value, or `default` when not given.
    pub fn value_or(&self, name: &str, default: Value) -> Value {
        self.value(name).cloned().unwrap_or(default)
    }

    /// A typed parameter through serde; the error names the parameter.
    pub fn typed<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, TaskError> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v.to_json()).map(Some).map_err(|e| {
                TaskError::type_error(format!(
                    "{}.execute() parameter '{name}' has the wrong type ({}): {e}",
                    self.class,
                    v.py_type_name()
                ))
            }),
        }
    }
}

/// A timestamp inside a task's result as Python's `datetime.utcnow().isoformat()` prints it:
/// six digits of microseconds and no zone (not RQ's own `…Z` format).
pub fn task_iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// A result built with `serde_json::json!` as a [`Value`]; ints stay ints and floats stay
/// floats (`5.0` reaches Python as `5.0`, not `5`).
pub fn json_result(v: serde_json::Value) -> Value {
    Value::from_json(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tasks shaped like an application's (the binding texts name their class).
    mod examples {
        use std::borrow::Cow;

        use crate::tasks::{
            Handler, Param, Parameters, TaskCall, TaskContext, TaskFuture, TaskSpec,
        };
        use crate::Value;

        fn unused(_: TaskCall, _: TaskContext) -> TaskFuture {
            Box::pin(async { Ok(Value::None) })
        }

        pub const LONG_RUNNING: TaskSpec = TaskSpec {
            name: Cow::Borrowed("example_long_running"),
            default_timeout: None,
            default_retries: 0,
            summary: Cow::Borrowed(""),
            params: Parameters::Any,
            handler: Handler::Fn(unused),
        };

        pub const DATA_PROCESSING: TaskSpec = TaskSpec {
            name: Cow::Borrowed("example_data_processing"),
            default_timeout: None,
            default_retries: 0,
            summary: Cow::Borrowed(""),
            params: Parameters::named(&[
                Param::required("data_source", "str", "what to process"),
                Param::optional("processing_type", "str", "'basic'", "how"),
            ]),
            handler: Handler::Fn(unused),
        };
    }

    #[test]
    fn class_names() {
        assert_eq!(
            class_name(&examples::LONG_RUNNING),
            "ExampleLongRunningTask"
        );
    }

    #[test]
    fn binding_errors_like_python() {
        let call = TaskCall {
            args: vec![],
            kwargs: vec![("x".into(), Value::Int(1))],
        };
        let e = Params::bind(&examples::DATA_PROCESSING, &call).unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: ExampleDataProcessingTask.execute() got an unexpected keyword argument 'x'"
        );
        let e = Params::bind(&examples::DATA_PROCESSING, &TaskCall::default()).unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: ExampleDataProcessingTask.execute() missing 1 required positional argument: 'data_source'"
        );
        let p = Params::bind(
            &examples::DATA_PROCESSING,
            &TaskCall {
                args: vec![Value::Str("s".into())],
                kwargs: vec![],
            },
        )
        .unwrap();
        assert_eq!(p.value("data_source"), Some(&Value::Str("s".into())));
        assert_eq!(p.value("processing_type"), None);
        let e = p.typed::<i64>("data_source").unwrap_err();
        assert!(e.message.contains("parameter 'data_source'"), "{e}");
    }
}
