//! The handler kit: what a handler gets besides its arguments, and helpers to bind and type
//! parameters with Python's error texts.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::{TaskCall, TaskError, TaskSpec};
use crate::value::Value;

/// Where progress goes. The engine implements it by writing the job's `meta` the way Python's
/// `job.save_meta()` does; handlers only see this trait.
pub trait ProgressSink: Send + Sync {
    fn report<'a>(&'a self, progress: Value) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

/// What a running handler may use.
#[derive(Clone)]
pub struct TaskContext {
    pub job_id: String,
    pub queue: String,
    progress: Option<Arc<dyn ProgressSink>>,
}

impl TaskContext {
    pub fn new(job_id: &str, queue: &str, progress: Option<Arc<dyn ProgressSink>>) -> Self {
        TaskContext {
            job_id: job_id.to_string(),
            queue: queue.to_string(),
            progress,
        }
    }

    /// Records progress in `meta['progress']`; it is visible to Python while the job runs.
    pub async fn report_progress(&self, progress: Value) {
        if let Some(sink) = &self.progress {
            sink.report(progress).await;
        }
    }
}

/// `example_long_running` → `ExampleLongRunningTask`: the Python class whose `execute()` the
/// backend called, used in error texts (ctutor-tasks.md §1).
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

/// The wrapper's `parameters` become the task's keyword arguments; a non-mapping is Python's
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
    /// Binds `call` to `names` like a Python signature `execute(self, name1=…, name2=…)`; names
    /// in `required` have no default. Errors use Python's texts.
    pub fn bind(
        task: &TaskSpec,
        call: &TaskCall,
        names: &[&'static str],
        required: &[&str],
    ) -> Result<Params, TaskError> {
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

/// Turns a JSON result built with `serde_json::json!` into a [`Value`]; ints stay ints and
/// floats stay floats (`5.0` is a float), as the spec requires (ctutor-tasks.md §0).
pub fn json_result(v: serde_json::Value) -> Value {
    Value::from_json(&v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::examples;

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
        let e = Params::bind(
            &examples::DATA_PROCESSING,
            &call,
            &["data_source"],
            &["data_source"],
        )
        .unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: ExampleDataProcessingTask.execute() got an unexpected keyword argument 'x'"
        );
        let e = Params::bind(
            &examples::DATA_PROCESSING,
            &TaskCall::default(),
            &["data_source"],
            &["data_source"],
        )
        .unwrap_err();
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
            &["data_source", "processing_type"],
            &["data_source"],
        )
        .unwrap();
        assert_eq!(p.value("data_source"), Some(&Value::Str("s".into())));
        assert_eq!(p.value("processing_type"), None);
        let e = p.typed::<i64>("data_source").unwrap_err();
        assert!(e.message.contains("parameter 'data_source'"), "{e}");
    }
}
