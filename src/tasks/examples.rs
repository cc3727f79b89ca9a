//! The backend's three example tasks, exactly as docs/course-tasks.md §2 describes them
//! (parameters, validation, result shapes, progress in `meta`).

use std::time::Duration;

use serde_json::json;

use rq_worker::tasks::kit::{json_result, Params};
use std::borrow::Cow;

use chrono::Utc;
use rq_protocol::value::Value;
use rq_worker::tasks::kit::task_iso;
use rq_worker::tasks::{
    Handler, Param, Parameters, TaskCall, TaskContext, TaskError, TaskFuture, TaskSpec,
};

pub const LONG_RUNNING: TaskSpec = TaskSpec {
    name: Cow::Borrowed("example_long_running"),
    default_timeout: Some(300),
    default_retries: 3,
    summary: Cow::Borrowed("sleeps `duration` seconds in 1 s steps, reporting progress"),
    params: Parameters::named(&[
        Param::optional("duration", "int", "60", "seconds to run, in 1 s steps"),
        Param::optional("message", "str", "'Processing...'", "echoed in the result"),
    ]),
    handler: Handler::Fn(long_running_handler),
};

pub const DATA_PROCESSING: TaskSpec = TaskSpec {
    name: Cow::Borrowed("example_data_processing"),
    default_timeout: Some(600),
    default_retries: 3,
    summary: Cow::Borrowed("simulates processing `data_source` (basic|advanced|complex)"),
    params: Parameters::named(&[
        Param::required(
            "data_source",
            "str",
            "what to process (echoed in the result)",
        ),
        Param::optional(
            "processing_type",
            "str",
            "'basic'",
            "basic, advanced or complex",
        ),
    ]),
    handler: Handler::Fn(data_processing_handler),
};

pub const FAILING: TaskSpec = TaskSpec {
    name: Cow::Borrowed("example_failing"),
    default_timeout: Some(3600),
    default_retries: 2,
    summary: Cow::Borrowed("fails with `error_message` when `should_fail` is truthy"),
    params: Parameters::named(&[
        Param::optional("should_fail", "bool", "True", "fail when truthy"),
        Param::optional(
            "error_message",
            "str",
            "'Simulated failure'",
            "the text of the raised exception",
        ),
    ]),
    handler: Handler::Fn(failing_handler),
};

fn seconds_between(a: chrono::DateTime<chrono::Utc>, b: chrono::DateTime<chrono::Utc>) -> f64 {
    (b - a).num_microseconds().unwrap_or(0) as f64 / 1e6
}

/// §2.1: `while processed < duration: sleep(1); processed += 1`.
fn long_running_handler(call: TaskCall, ctx: TaskContext) -> TaskFuture {
    Box::pin(long_running(call, ctx))
}

async fn long_running(call: TaskCall, ctx: TaskContext) -> Result<Value, TaskError> {
    let p = Params::bind(&LONG_RUNNING, &call)?;
    let duration = p.value_or("duration", Value::Int(60));
    let message = p.value_or("message", Value::Str("Processing...".into()));
    // Python compares `0 < duration` first; a bool counts as 0/1, anything else non-numeric raises.
    let limit: f64 = match &duration {
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Int(i) => *i as f64,
        Value::BigInt(_) | Value::Float(_) => duration.as_f64().unwrap_or(f64::INFINITY),
        other => {
            return Err(TaskError::type_error(format!(
                "'<' not supported between instances of 'int' and '{}'",
                other.py_type_name()
            )))
        }
    };
    let steps: i64 = if limit > 0.0 {
        limit.ceil().min(i64::MAX as f64) as i64
    } else {
        0
    };
    let start = Utc::now();
    ctx.report_progress(progress(0, steps)).await;
    for i in 1..=steps {
        tokio::time::sleep(Duration::from_secs(1)).await;
        ctx.report_progress(progress(i, steps)).await;
    }
    let end = Utc::now();
    let mut result = json_result(json!({
        "message": null,
        "duration_requested": null,
        "duration_actual": seconds_between(start, end),
        "started_at": task_iso(start),
        "completed_at": task_iso(end),
        "status": "completed",
    }));
    // Echoed values keep their Python types (they need not be JSON).
    if let Value::Dict(pairs) = &mut result {
        for (k, v) in pairs.iter_mut() {
            match k {
                Value::Str(k) if k == "message" => *v = message.clone(),
                Value::Str(k) if k == "duration_requested" => *v = duration.clone(),
                _ => {}
            }
        }
    }
    Ok(result)
}

fn progress(completed: i64, total: i64) -> Value {
    Value::Dict(vec![
        (Value::Str("completed".into()), Value::Int(completed)),
        (Value::Str("total".into()), Value::Int(total)),
    ])
}

/// §2.2.
fn data_processing_handler(call: TaskCall, ctx: TaskContext) -> TaskFuture {
    Box::pin(data_processing(call, ctx))
}

async fn data_processing(call: TaskCall, _ctx: TaskContext) -> Result<Value, TaskError> {
    let p = Params::bind(&DATA_PROCESSING, &call)?;
    let data_source = p.value_or("data_source", Value::None);
    let processing_type = p.value_or("processing_type", Value::Str("basic".into()));
    let start = Utc::now();
    let (secs, records) = match processing_type.as_str() {
        Some("basic") => (5, 100),
        Some("advanced") => (15, 500),
        Some("complex") => (30, 1000),
        _ => {
            return Err(TaskError::value_error(format!(
                "Unknown processing type: {}",
                processing_type.py_str()
            )))
        }
    };
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let end = Utc::now();
    Ok(Value::Dict(vec![
        (Value::Str("data_source".into()), data_source),
        (Value::Str("processing_type".into()), processing_type),
        (Value::Str("records_processed".into()), Value::Int(records)),
        (
            Value::Str("processing_time".into()),
            Value::Float(seconds_between(start, end)),
        ),
        (Value::Str("completed_at".into()), Value::Str(task_iso(end))),
    ]))
}

/// §2.3.
fn failing_handler(call: TaskCall, ctx: TaskContext) -> TaskFuture {
    Box::pin(failing(call, ctx))
}

async fn failing(call: TaskCall, _ctx: TaskContext) -> Result<Value, TaskError> {
    let p = Params::bind(&FAILING, &call)?;
    let should_fail = p.value_or("should_fail", Value::Bool(true));
    let error_message = p.value_or("error_message", Value::Str("Simulated failure".into()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    if should_fail.is_truthy() {
        return Err(TaskError::new("Exception", error_message.py_str()));
    }
    Ok(json_result(json!({
        "status": "success",
        "message": "Task completed without errors",
        "completed_at": task_iso(Utc::now()),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(pairs: &[(&str, Value)]) -> TaskCall {
        TaskCall {
            args: vec![],
            kwargs: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    #[tokio::test]
    async fn long_running_validates_duration() {
        let e = LONG_RUNNING
            .handler
            .call(
                kw(&[("duration", Value::Str("x".into()))]),
                TaskContext::new("j", "q", None),
            )
            .await
            .unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: '<' not supported between instances of 'int' and 'str'"
        );
        let v = LONG_RUNNING
            .handler
            .call(
                kw(&[("duration", Value::Int(0))]),
                TaskContext::new("j", "q", None),
            )
            .await
            .unwrap();
        assert_eq!(v.get("status"), Some(&Value::Str("completed".into())));
        assert_eq!(v.get("duration_requested"), Some(&Value::Int(0)));
        assert_eq!(v.get("message"), Some(&Value::Str("Processing...".into())));
    }

    #[tokio::test]
    async fn data_processing_rejects_unknown_type() {
        let e = DATA_PROCESSING
            .handler
            .call(
                kw(&[
                    ("data_source", Value::None),
                    ("processing_type", Value::Int(7)),
                ]),
                TaskContext::new("j", "q", None),
            )
            .await
            .unwrap_err();
        assert_eq!(e.last_line(), "ValueError: Unknown processing type: 7");
    }
}
