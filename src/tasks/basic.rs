//! Small built-in tasks for testing, benchmarks and smoke checks.

use std::time::Duration;

use rq_worker::tasks::kit::Params;
use std::borrow::Cow;

use rq_protocol::value::Value;
use rq_worker::tasks::{
    Handler, Param, Parameters, TaskCall, TaskContext, TaskError, TaskFuture, TaskSpec,
};

/// `echo(value)`: returns its one argument unchanged, whatever its type.
pub const ECHO: TaskSpec = TaskSpec {
    name: Cow::Borrowed("echo"),
    default_timeout: None,
    default_retries: 0,
    summary: Cow::Borrowed("returns its one argument unchanged"),
    params: Parameters::named(&[Param::required(
        "value",
        "any",
        "returned as it came, whatever its type",
    )]),
    handler: Handler::Fn(echo_handler),
};

/// `noop(*args, **kwargs)`: does nothing and returns None.
pub const NOOP: TaskSpec = TaskSpec {
    name: Cow::Borrowed("noop"),
    default_timeout: None,
    default_retries: 0,
    summary: Cow::Borrowed("does nothing, returns None"),
    params: Parameters::Any,
    handler: Handler::Fn(|_, _| Box::pin(async { Ok(Value::None) })),
};

/// `sleep(seconds)`: sleeps, returns None.
pub const SLEEP: TaskSpec = TaskSpec {
    name: Cow::Borrowed("sleep"),
    default_timeout: None,
    default_retries: 0,
    summary: Cow::Borrowed("sleeps `seconds` (float), returns None"),
    params: Parameters::named(&[Param::optional(
        "seconds",
        "float",
        "0.0",
        "how long to sleep; not negative",
    )]),
    handler: Handler::Fn(sleep_handler),
};

/// `fail(message)`: raises `Exception: <message>`.
pub const FAIL: TaskSpec = TaskSpec {
    name: Cow::Borrowed("fail"),
    default_timeout: None,
    default_retries: 0,
    summary: Cow::Borrowed("fails with `message`"),
    params: Parameters::named(&[Param::optional(
        "message",
        "str",
        "'task failed on purpose'",
        "the text of the raised Exception",
    )]),
    handler: Handler::Fn(fail_handler),
};

fn echo_handler(call: TaskCall, ctx: TaskContext) -> TaskFuture {
    Box::pin(echo(call, ctx))
}

async fn echo(call: TaskCall, _ctx: TaskContext) -> Result<Value, TaskError> {
    let p = Params::bind(&ECHO, &call)?;
    Ok(p.value_or("value", Value::None))
}

fn sleep_handler(call: TaskCall, ctx: TaskContext) -> TaskFuture {
    Box::pin(sleep(call, ctx))
}

async fn sleep(call: TaskCall, _ctx: TaskContext) -> Result<Value, TaskError> {
    let p = Params::bind(&SLEEP, &call)?;
    let seconds: f64 = p.typed("seconds")?.unwrap_or(0.0);
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(TaskError::value_error("sleep length must be non-negative"));
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    Ok(Value::None)
}

fn fail_handler(call: TaskCall, ctx: TaskContext) -> TaskFuture {
    Box::pin(fail(call, ctx))
}

async fn fail(call: TaskCall, _ctx: TaskContext) -> Result<Value, TaskError> {
    let p = Params::bind(&FAIL, &call)?;
    let message = match p.value("message") {
        Some(Value::Str(s)) => s.clone(),
        Some(other) => other.py_str(),
        None => "task failed on purpose".to_string(),
    };
    Err(TaskError::new("Exception", message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> TaskContext {
        TaskContext::new("j", "q", None)
    }

    #[tokio::test]
    async fn echo_noop_fail() {
        let v = Value::Tuple(vec![Value::Bytes(b"x".to_vec()), Value::None]);
        let call = TaskCall {
            args: vec![v.clone()],
            kwargs: vec![],
        };
        assert_eq!(ECHO.handler.call(call, ctx()).await, Ok(v));
        assert_eq!(
            NOOP.handler.call(TaskCall::default(), ctx()).await,
            Ok(Value::None)
        );
        let call = TaskCall {
            args: vec![Value::Str("boom".into())],
            kwargs: vec![],
        };
        assert_eq!(
            FAIL.handler
                .call(call, ctx())
                .await
                .unwrap_err()
                .last_line(),
            "Exception: boom"
        );
    }

    #[tokio::test]
    async fn sleep_checks_its_parameter() {
        let call = TaskCall {
            args: vec![Value::Str("x".into())],
            kwargs: vec![],
        };
        let e = SLEEP.handler.call(call, ctx()).await.unwrap_err();
        assert!(e.message.contains("'seconds'"), "{e}");
        let call = TaskCall {
            args: vec![Value::Float(0.01)],
            kwargs: vec![],
        };
        assert_eq!(SLEEP.handler.call(call, ctx()).await, Ok(Value::None));
    }
}
