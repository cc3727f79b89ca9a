//! Typed handlers: parameters from the job's `args`/`kwargs` by serde.
//!
//! ```
//! use rq_worker::tasks::typed;
//! use rq_worker::{TaskCall, TaskContext, TaskError, Value};
//!
//! #[derive(serde::Deserialize)]
//! struct Add {
//!     a: i64,
//!     #[serde(default)]
//!     b: i64,
//! }
//!
//! async fn add(p: Add, _ctx: TaskContext) -> Result<i64, TaskError> {
//!     Ok(p.a + p.b)
//! }
//!
//! let task = typed::task("add", add);
//! // q.enqueue('add', 1, b=2) → 3
//! let call = TaskCall { args: vec![Value::Int(1)], kwargs: vec![("b".into(), Value::Int(2))] };
//! let ctx = TaskContext::new("job-1", "default", None);
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! assert_eq!(runtime.block_on(task.handler.call(call, ctx)), Ok(Value::Int(3)));
//! // q.enqueue('add') → TypeError
//! let ctx = TaskContext::new("job-2", "default", None);
//! let e = runtime.block_on(task.handler.call(TaskCall::default(), ctx)).unwrap_err();
//! assert_eq!(e.to_string(), "TypeError: add() missing 1 required positional argument: 'a'");
//! # Ok::<(), std::io::Error>(())
//! ```
//! Positional arguments bind to the struct's fields in declaration order and keyword arguments
//! by name, as a Python signature `add(a, b=0)` would; the errors are Python's `TypeError`s
//! (`add() missing 1 required positional argument: 'a'`). A parameter type that is not a
//! struct (a tuple, a `Vec`, [`Value`]) receives the positional arguments as a list and
//! refuses keyword arguments. The result is anything `Serialize`; it reaches Python as the
//! equivalent `int`/`float`/`str`/`list`/`dict`/`None`.

use std::borrow::Cow;
use std::future::Future;

use serde::de::{self, DeserializeOwned, Visitor};
use serde::Serialize;

use super::{Handler, Param, Parameters, TaskCall, TaskContext, TaskError, TaskSpec};
use crate::value::Value;

/// A task from a typed async function or closure, registered as `name`: what
/// [`WorkerBuilder::task`](crate::WorkerBuilder::task) registers. Its parameters are the
/// struct's fields (listed as type `any`), or [`Parameters::Any`] for other types; the
/// [`TaskSpec`]'s other fields may be changed before it is registered with
/// [`WorkerBuilder::task_spec`](crate::WorkerBuilder::task_spec) (a default timeout, a summary).
pub fn task<F, Fut, P, R, E>(name: impl Into<Cow<'static, str>>, f: F) -> TaskSpec
where
    F: Fn(P, TaskContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    P: DeserializeOwned + Send + 'static,
    R: Serialize,
    E: Into<TaskError>,
{
    let name: Cow<'static, str> = name.into();
    let fields = fields_of::<P>();
    let params = match fields {
        Some(fields) => Parameters::Named(Cow::Owned(
            fields
                .iter()
                .map(|f| Param::required(f, "any", ""))
                .collect(),
        )),
        None => Parameters::Any,
    };
    let display: std::sync::Arc<str> = std::sync::Arc::from(format!("{name}()"));
    let handler = Handler::new(move |call, ctx| {
        let params = match bind::<P>(&display, fields, call) {
            Ok(p) => p,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        let fut = f(params, ctx);
        Box::pin(async move {
            let r = fut.await.map_err(Into::into)?;
            let json = serde_json::to_value(&r).map_err(|e| {
                TaskError::new("TypeError", format!("the result cannot be stored: {e}"))
            })?;
            Ok(Value::from_json(&json))
        })
    });
    TaskSpec {
        name,
        default_timeout: None,
        default_retries: 0,
        summary: Cow::Borrowed(""),
        params,
        handler,
    }
}

/// The call bound to `P`, with Python's texts for what does not fit.
fn bind<P: DeserializeOwned>(
    display: &str,
    fields: Option<&'static [&'static str]>,
    call: TaskCall,
) -> Result<P, TaskError> {
    let json = match fields {
        Some(fields) => {
            if call.args.len() > fields.len() {
                return Err(TaskError::type_error(format!(
                    "{display} takes {} positional argument{} but {} were given",
                    fields.len(),
                    if fields.len() == 1 { "" } else { "s" },
                    call.args.len()
                )));
            }
            let mut map = serde_json::Map::new();
            for (name, v) in fields.iter().zip(call.args) {
                map.insert(name.to_string(), v.to_json());
            }
            for (k, v) in call.kwargs {
                if !fields.contains(&k.as_str()) {
                    return Err(TaskError::type_error(format!(
                        "{display} got an unexpected keyword argument '{k}'"
                    )));
                }
                if map.contains_key(&k) {
                    return Err(TaskError::type_error(format!(
                        "{display} got multiple values for argument '{k}'"
                    )));
                }
                map.insert(k, v.to_json());
            }
            serde_json::Value::Object(map)
        }
        None => {
            if let Some((k, _)) = call.kwargs.first() {
                return Err(TaskError::type_error(format!(
                    "{display} got an unexpected keyword argument '{k}'"
                )));
            }
            serde_json::Value::Array(call.args.iter().map(Value::to_json).collect())
        }
    };
    let empty_list = json.as_array().is_some_and(|a| a.is_empty());
    let r = serde_json::from_value(json);
    // `()` (and other unit-like types) come from nothing rather than from an empty list.
    let r = match r {
        Err(_) if empty_list => serde_json::from_value(serde_json::Value::Null).or(r),
        r => r,
    };
    r.map_err(|e| {
        let text = e.to_string();
        match text
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            Some(field) => TaskError::type_error(format!(
                "{display} missing 1 required positional argument: '{field}'"
            )),
            None => TaskError::type_error(format!("{display} got a wrong argument: {text}")),
        }
    })
}

/// The field names of `P` when it deserializes as a struct, found by asking its `Deserialize`
/// impl once with a deserializer that records them.
fn fields_of<P: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut found = None;
    let _ = P::deserialize(FieldProbe { found: &mut found });
    found
}

struct FieldProbe<'a> {
    found: &'a mut Option<&'static [&'static str]>,
}

#[derive(Debug)]
struct Probed;

impl std::fmt::Display for Probed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("probed")
    }
}

impl std::error::Error for Probed {}

impl de::Error for Probed {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Probed
    }
}

impl<'de> de::Deserializer<'de> for FieldProbe<'_> {
    type Error = Probed;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        Err(Probed)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Probed> {
        *self.found = Some(fields);
        Err(Probed)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Add {
        a: i64,
        #[serde(default)]
        b: i64,
    }

    async fn add(p: Add, _ctx: TaskContext) -> Result<i64, TaskError> {
        Ok(p.a + p.b)
    }

    async fn call(
        spec: &TaskSpec,
        args: Vec<Value>,
        kwargs: Vec<(&str, Value)>,
    ) -> Result<Value, TaskError> {
        let call = TaskCall {
            args,
            kwargs: kwargs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        };
        spec.handler
            .call(call, TaskContext::new("j", "q", None))
            .await
    }

    #[tokio::test]
    async fn binds_like_a_python_signature() {
        let spec = task("add", add);
        assert_eq!(
            spec.named_params()
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(
            call(&spec, vec![Value::Int(1)], vec![("b", Value::Int(2))]).await,
            Ok(Value::Int(3))
        );
        assert_eq!(
            call(&spec, vec![], vec![("a", Value::Int(5))]).await,
            Ok(Value::Int(5))
        );
        let e = call(&spec, vec![], vec![]).await.unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: add() missing 1 required positional argument: 'a'"
        );
        let e = call(&spec, vec![Value::Int(1)], vec![("a", Value::Int(2))])
            .await
            .unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: add() got multiple values for argument 'a'"
        );
        let e = call(&spec, vec![], vec![("c", Value::Int(2))])
            .await
            .unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: add() got an unexpected keyword argument 'c'"
        );
        let e = call(
            &spec,
            vec![Value::Int(1), Value::Int(2), Value::Int(3)],
            vec![],
        )
        .await
        .unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: add() takes 2 positional arguments but 3 were given"
        );
        let e = call(&spec, vec![Value::Str("x".into())], vec![])
            .await
            .unwrap_err();
        assert!(
            e.last_line()
                .starts_with("TypeError: add() got a wrong argument: invalid type: string"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn closures_capture_state_and_non_structs_take_the_positional_list() {
        let offset = 10i64;
        let spec = task("sum", move |xs: Vec<i64>, _ctx: TaskContext| async move {
            Ok::<_, TaskError>(xs.iter().sum::<i64>() + offset)
        });
        assert!(matches!(spec.params, Parameters::Any));
        assert_eq!(
            call(&spec, vec![Value::Int(1), Value::Int(2)], vec![]).await,
            Ok(Value::Int(13))
        );
        let e = call(&spec, vec![], vec![("x", Value::Int(1))])
            .await
            .unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: sum() got an unexpected keyword argument 'x'"
        );
        // anyhow errors are Python's Exception; results of any Serialize type.
        let spec = task("status", |_: (), _ctx: TaskContext| async move {
            Err::<(), _>(anyhow::anyhow!("backend down"))
        });
        let e = call(&spec, vec![], vec![]).await.unwrap_err();
        assert_eq!(e.last_line(), "Exception: backend down");
    }
}
