//! `task-worker submit TASK [key=value ...]`: enqueues a job exactly as the backend's
//! `POST /tasks/submit` does (docs/course-tasks.md §1.1), so Python RQ reads it like any other:
//! `queue.enqueue(TaskExecutor._execute_task_wrapper, task_name, parameters,
//! job_timeout=T, retry_limit=R, delay=None)`.
//!
//! The job hash is the one `Queue.enqueue` writes (rq-protocol.md §3.1, trace example), sent in
//! one `MULTI` with `SADD rq:queues` and `RPUSH rq:queue:<q>`. `--wait` then follows the results
//! stream the way `job.latest_result(timeout=…)` does (rq-protocol.md §5) until the job reaches
//! a final status.

use std::collections::HashMap;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use redis::aio::MultiplexedConnection;
use redis::streams::StreamReadReply;

use super::{CliError, CliResult, Target, CONNECT_TIMEOUT, RESPONSE_TIMEOUT};
use crate::cli::args::SubmitArgs;
use crate::tasks::{self, BACKEND_WRAPPER};
use rq_protocol::codec::{self, Limits, Payload, Serializer};
use rq_protocol::enqueue::{call_string, NewJob};
use rq_protocol::job::{status, DEFAULT_JOB_TIMEOUT};
use rq_protocol::keys::Keys;
use rq_protocol::lifecycle::result_type;
use rq_protocol::value::Value;
use rq_worker::tasks::TaskSpec;

/// The queue the backend picks for a priority (docs/course-tasks.md §1.2).
pub fn queue_for_priority(priority: i64) -> &'static str {
    if priority > 5 {
        "high_priority"
    } else if priority < 0 {
        "low_priority"
    } else {
        "default"
    }
}

/// `key=value` → (key, value): JSON when it parses, else the text as a string.
pub fn parse_param(raw: &str) -> Result<(String, Value), String> {
    let (key, value) = raw
        .split_once('=')
        .ok_or_else(|| format!("invalid parameter {raw:?}: expected key=value"))?;
    if key.is_empty() {
        return Err(format!("invalid parameter {raw:?}: the key is empty"));
    }
    let value = match serde_json::from_str::<serde_json::Value>(value) {
        Ok(j) => Value::from_json(&j),
        Err(_) => Value::Str(value.to_string()),
    };
    Ok((key.to_string(), value))
}

/// The parameters dict: `--params` first, then each `key=value` (a repeated key replaces the
/// earlier value in place, as a Python dict update would).
pub fn build_params(json: Option<&str>, pairs: &[String]) -> Result<Vec<(String, Value)>, String> {
    let mut params: Vec<(String, Value)> = match json {
        None => Vec::new(),
        Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => map
                .iter()
                .map(|(k, v)| (k.clone(), Value::from_json(v)))
                .collect(),
            Ok(_) => return Err("invalid --params: must be a JSON object".into()),
            Err(e) => return Err(format!("invalid --params: {e}")),
        },
    };
    for raw in pairs {
        let (k, v) = parse_param(raw)?;
        match params.iter_mut().find(|(existing, _)| *existing == k) {
            Some(slot) => slot.1 = v,
            None => params.push((k, v)),
        }
    }
    Ok(params)
}

/// Every given name is a parameter of `task`, and every required one is given.
pub fn check_params(task: &TaskSpec, params: &[(String, Value)]) -> Result<(), String> {
    for (name, _) in params {
        task.check_param(name).map_err(|e| e.to_string())?;
    }
    let missing: Vec<&str> = task
        .named_params()
        .iter()
        .filter(|p| p.default.is_none() && !params.iter().any(|(n, _)| n == p.name))
        .map(|p| p.name)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "task {} needs {} (see `task-worker tasks`)",
            task.name,
            missing.join(", ")
        ))
    }
}

/// What `submit` enqueues: the backend's envelope for `task` with `params` (docs/course-tasks.md
/// §1.1), as the backend's `Queue.enqueue` call would write it.
pub fn backend_job(task: &TaskSpec, params: Vec<(String, Value)>, queue: &str) -> NewJob {
    let args = vec![
        Value::Str(task.name.to_string()),
        Value::Dict(
            params
                .into_iter()
                .map(|(k, v)| (Value::Str(k), v))
                .collect(),
        ),
    ];
    // The backend passes retry_limit then delay; the call string sorts them.
    let kwargs = vec![
        (
            "retry_limit".to_string(),
            Value::Int(i64::from(task.default_retries)),
        ),
        ("delay".to_string(), Value::None),
    ];
    let description = call_string(BACKEND_WRAPPER, &args, &kwargs);
    NewJob {
        job_id: uuid::Uuid::new_v4().to_string(),
        queue: queue.to_string(),
        payload: Payload {
            func_name: BACKEND_WRAPPER.to_string(),
            args,
            kwargs,
        },
        description,
        timeout: task.default_timeout.unwrap_or(DEFAULT_JOB_TIMEOUT),
    }
}

pub async fn run(args: SubmitArgs) -> CliResult {
    let target = Target::from_args(&args.redis)?;
    let ser = Serializer::parse(&args.serializer).ok_or_else(|| {
        CliError::Usage(format!(
            "invalid --serializer {:?}: use pickle or json",
            args.serializer
        ))
    })?;
    let registry = tasks::registry();
    let Some(task) = registry.lookup(&args.task) else {
        let names = registry.names();
        return Err(CliError::Usage(format!(
            "unknown task {:?}; registered tasks: {}",
            args.task,
            names.join(", ")
        )));
    };
    let params =
        build_params(args.params_json.as_deref(), &args.params).map_err(CliError::Usage)?;
    // Refused here, before anything is enqueued, rather than as the job's TypeError.
    check_params(task, &params).map_err(CliError::Usage)?;
    let queue = match &args.queue {
        Some(q) if q.is_empty() || q.contains(char::is_whitespace) => {
            return Err(CliError::Usage(format!(
                "invalid --queue {q:?}: must be non-empty without whitespace"
            )))
        }
        Some(q) => q.clone(),
        None => queue_for_priority(args.priority.unwrap_or(0)).to_string(),
    };
    let wait_for = match args.timeout {
        Some(t) if !(t.is_finite() && t > 0.0) => {
            return Err(CliError::Usage(format!(
                "invalid --timeout {t}: must be more than 0 seconds"
            )))
        }
        Some(t) => Duration::from_secs_f64(t.min(1e9)),
        None => {
            Duration::from_secs((task.default_timeout.unwrap_or(DEFAULT_JOB_TIMEOUT) + 60) as u64)
        }
    };
    let sub = backend_job(task, params, &queue);
    let mut con = target
        .connect(CONNECT_TIMEOUT, Some(RESPONSE_TIMEOUT))
        .await?;
    sub.pipeline(&target.keys, ser)
        .context("encoding the job data")?
        .query_async::<()>(&mut con)
        .await
        .with_context(|| format!("enqueueing on {}", target.shown_url()))?;
    println!("{}", sub.job_id);
    let _ = std::io::stdout().flush();
    if !args.wait {
        return Ok(ExitCode::SUCCESS);
    }
    // Blocking reads need a connection without a response timeout.
    let mut blocking = target.connect(CONNECT_TIMEOUT, None).await?;
    match wait(&mut blocking, &target.keys, &sub.job_id, wait_for, ser).await? {
        Outcome::Finished(v) => {
            println!("{}", v.to_json());
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Failed(text) => {
            eprintln!("job {} {text}", sub.job_id);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// How a waited-for job ended.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Finished(Value),
    /// Failed, stopped, canceled, vanished or not done in time: the text says which.
    Failed(String),
}

/// Waits until the job reaches a final status. Each new result entry (or every 2 s) the job's
/// status is read again, so a failure followed by a retry keeps waiting for the last attempt.
pub async fn wait(
    con: &mut MultiplexedConnection,
    keys: &Keys,
    job_id: &str,
    limit: Duration,
    ser: Serializer,
) -> anyhow::Result<Outcome> {
    let deadline = tokio::time::Instant::now() + limit;
    let stream = keys.results(job_id);
    let mut last_id = "0-0".to_string();
    loop {
        let st: Option<String> = redis::cmd("HGET")
            .arg(keys.job(job_id))
            .arg("status")
            .query_async(con)
            .await
            .context("reading the job status")?;
        match st.as_deref() {
            Some(status::FINISHED) | Some(status::FAILED) | Some(status::STOPPED) => {
                return latest_result(con, &stream, ser).await
            }
            Some(status::CANCELED) => return Ok(Outcome::Failed("was canceled".into())),
            None => {
                // The hash is gone (expired or deleted); the stream may still say how it ended.
                return match latest_result(con, &stream, ser).await? {
                    Outcome::Failed(_) => Ok(Outcome::Failed("no longer exists".into())),
                    done => Ok(done),
                };
            }
            Some(_) => {}
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Ok(Outcome::Failed(format!(
                "did not end within {:.0}s (status {})",
                limit.as_secs_f64(),
                st.unwrap_or_default()
            )));
        }
        let block_ms = left.min(Duration::from_secs(2)).as_millis().max(1) as u64;
        let reply: Option<StreamReadReply> = redis::cmd("XREAD")
            .arg("BLOCK")
            .arg(block_ms)
            .arg("STREAMS")
            .arg(&stream)
            .arg(&last_id)
            .query_async(con)
            .await
            .context("waiting on the results stream")?;
        if let Some(last) = reply
            .and_then(|r| r.keys.into_iter().next())
            .and_then(|k| k.ids.into_iter().last())
        {
            last_id = last.id;
        }
    }
}

/// The newest result entry (`XREVRANGE … COUNT 1`, as `job.latest_result()`), decoded.
async fn latest_result(
    con: &mut MultiplexedConnection,
    stream: &str,
    ser: Serializer,
) -> anyhow::Result<Outcome> {
    let entries: Vec<(String, HashMap<String, String>)> = redis::cmd("XREVRANGE")
        .arg(stream)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(con)
        .await
        .context("reading the job's result")?;
    let Some((_, fields)) = entries.into_iter().next() else {
        return Ok(Outcome::Failed("ended without a result entry".into()));
    };
    let kind = fields
        .get("type")
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(0);
    if kind == result_type::SUCCESSFUL {
        let value = match fields.get("return_value") {
            None => Value::None,
            Some(b64) => codec::decode_return_value(b64, ser, &Limits::default())
                .context("decoding the return value")?,
        };
        return Ok(Outcome::Finished(value));
    }
    let text = match fields.get("exc_string") {
        Some(b64) => codec::decode_exc_string(b64).context("decoding the error")?,
        None => format!("ended with result type {kind} and no error text"),
    };
    Ok(Outcome::Failed(format!("failed:\n{}", text.trim_end())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_selects_queue() {
        assert_eq!(queue_for_priority(7), "high_priority");
        assert_eq!(queue_for_priority(6), "high_priority");
        assert_eq!(queue_for_priority(5), "default");
        assert_eq!(queue_for_priority(0), "default");
        assert_eq!(queue_for_priority(-1), "low_priority");
    }

    #[test]
    fn params_parse_as_json_or_text() {
        let p = build_params(
            Some(r#"{"duration": 5, "message": "x"}"#),
            &[
                "duration=10".into(),
                "name=abc".into(),
                "flag=true".into(),
                "q=\"1\"".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            p,
            vec![
                ("duration".to_string(), Value::Int(10)),
                ("message".to_string(), Value::Str("x".into())),
                ("name".to_string(), Value::Str("abc".into())),
                ("flag".to_string(), Value::Bool(true)),
                ("q".to_string(), Value::Str("1".into())),
            ]
        );
        assert!(build_params(Some("[1]"), &[]).is_err());
        assert!(build_params(None, &["novalue".into()]).is_err());
        assert!(build_params(None, &["=1".into()]).is_err());
        // Only the first '=' splits.
        assert_eq!(
            parse_param("a=b=c").unwrap(),
            ("a".into(), Value::Str("b=c".into()))
        );
    }

    #[test]
    fn description_is_python_call_string() {
        let registry = tasks::registry();
        let task = registry.lookup("example_long_running").unwrap();
        let s = backend_job(task, vec![("duration".into(), Value::Int(10))], "default");
        assert_eq!(
            s.description,
            "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper(\
             'example_long_running', {'duration': 10}, delay=None, retry_limit=3)"
        );
        assert_eq!(s.timeout, 300);
        let long = Value::Str("x".repeat(100));
        let cs = call_string("f", &[long], &[]);
        assert_eq!(cs, format!("f('{}...)", "x".repeat(74)));
    }
}
