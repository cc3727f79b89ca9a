//! Runs one started job: decode, resolve the handler, run it under its timeout and cancellation,
//! and decide how the job ends (success, failure, retry). Writing the end is the writer's job.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn, Instrument};

use super::callbacks::{callbacks_of, run_callbacks, Callbacks};
use super::fallback_run::{execute_fallback, raw_job, raw_value, FallbackJob};
use super::progress::MetaProgress;
use super::slots::Cancel;
use super::state::Engine;
use crate::events::{EndKind, JobEnded, JobStarted};
use crate::rq::codec;
use crate::rq::failure;
use crate::rq::job::{status, CallbackKind, JobHash, JobSettings};
use crate::rq::lifecycle::{Execution, JobEnd, RetryReturned};
use crate::rq::retry;
use crate::tasks::{self, Cancellation, TaskContext, TaskError};
use crate::value::Value;

/// A job whose start transaction has been written.
pub struct StartedJob {
    pub slot: usize,
    pub exec: Execution,
    pub hash: JobHash,
    /// `Err` when the hash has a field RQ itself could not parse; the job then fails.
    pub settings: Result<JobSettings, String>,
    /// The limit the job runs under (seconds), `None` for none.
    pub timeout: Option<i64>,
}

/// What decoding found out about the job, for logs and observers.
#[derive(Default)]
pub(super) struct Decoded {
    pub(super) func: Option<String>,
    pub(super) task: Option<String>,
    pub(super) args: Vec<Value>,
    pub(super) kwargs: Vec<(String, Value)>,
}

/// How the handler run ended, before retries are considered.
pub(super) enum Outcome {
    Returned(Value),
    /// The fallback's value, already serialized (`None`: Python's `None`).
    ReturnedRaw(Option<Vec<u8>>),
    Raised {
        error: TaskError,
        task: String,
    },
    /// The fallback's failure: the full exception text, recorded as it is.
    RaisedText(String),
    /// The fallback's job returned a retry request (RQ ≥ 2.12's `Retry`).
    RetryReturned(tasks::RawRetry),
    /// The job could not even be started (bad hash, bad data, unknown function).
    Refused(TaskError),
    /// A callback names no registered task: refused before the function runs, no callback runs.
    RefusedCallback(TaskError),
    Cancelled(Cancel),
}

/// RQ's timeout text (§9.2, `rq::failure`); users grep for `JobTimeoutException`.
pub fn timeout_error(secs: i64) -> TaskError {
    TaskError::new(failure::JOB_TIMEOUT, failure::timeout_message(secs))
}

/// A Python-looking traceback whose last line is `<Type>: <message>` (§9.2, `rq::failure`).
pub fn exc_string(task: &str, e: &TaskError) -> String {
    failure::exc_string(task, &e.last_line())
}

/// Runs the job in `job` to its end and writes it; returns when Redis has the end.
pub async fn run(engine: Arc<Engine>, job: StartedJob, cancel: watch::Receiver<Option<Cancel>>) {
    // `task` is recorded once the handler is resolved, so every line of the job carries it.
    let span = tracing::info_span!("job", job_id = %job.exec.job_id, queue = %job.exec.queue, worker = %job.exec.worker, task = tracing::field::Empty);
    async move {
        let started = std::time::Instant::now();
        let (outcome, decoded, callbacks, fallback) = perform(&engine, &job, cancel.clone()).await;
        let outcome = run_callbacks(&engine, &job, outcome, &callbacks, &decoded, fallback.as_ref(), cancel).await;
        let func = decoded.func.clone().unwrap_or_else(|| "?".to_string());
        // For the observers only: not copied (nor, for a fallback's serialized value, decoded
        // by the allowlist decoder) when there is none.
        let return_value = match &outcome {
            _ if engine.observers.is_empty() => None,
            Outcome::Returned(v) => Some(v.clone()),
            Outcome::ReturnedRaw(raw) => Some(raw_value(&engine, raw.as_deref())),
            _ => None,
        };
        let ending = decide(&engine, &job, outcome, &func);
        let ended_at = crate::rq::time::now();
        let duration = started.elapsed().as_secs_f64();
        let duration_ms = duration * 1e3;
        match &ending {
            JobEnd::Success { .. } => info!(func = %func, duration_ms, outcome = "finished", "job finished"),
            JobEnd::Failure { status, exc_string, .. } => {
                let last = exc_string.trim_end().lines().last().unwrap_or_default();
                warn!(func = %func, duration_ms, outcome = *status, error = %last, "job failed")
            }
            JobEnd::Retry { retries_left_after, .. } => {
                warn!(func = %func, duration_ms, outcome = "retry", retries_left = *retries_left_after, "job failed; will be retried")
            }
            JobEnd::RetryReturned(r) => match &r.next {
                Some((n, _)) => info!(func = %func, duration_ms, outcome = "retry", number_of_retries = *n, "job returned a Retry; will run again"),
                None => warn!(func = %func, duration_ms, outcome = "failed", "job returned a Retry past its max; failed"),
            },
            JobEnd::Requeue { .. } => {
                warn!(func = %func, duration_ms, outcome = "requeued", "job unfinished at shutdown; put back at the front of its queue")
            }
        }
        // Dependents are released by the end's own script (`rq::end_guard`).
        let written = engine.writer.finish(job.exec.clone(), ending.clone(), ended_at).await;
        super::webhooks::job_ended(&engine, &job.hash, decoded.func.as_deref(), &ending, ended_at, written.applied);
        let (kind, error) = match &ending {
            JobEnd::Success { .. } => (EndKind::Finished, None),
            JobEnd::Failure { status, exc_string, .. } if *status == status::STOPPED => (EndKind::Stopped, Some(exc_string.as_str())),
            JobEnd::Failure { exc_string, .. } => (EndKind::Failed, Some(exc_string.as_str())),
            JobEnd::Retry { exc_string, .. } => (EndKind::Retried, Some(exc_string.as_str())),
            JobEnd::RetryReturned(r) if r.next.is_some() => (EndKind::Retried, Some("the job returned a Retry")),
            JobEnd::RetryReturned(_) => (EndKind::Failed, Some("the job returned a Retry past its max")),
            // Another attempt will run it, as for a retry (no retry is used up).
            JobEnd::Requeue { reason } => (EndKind::Retried, Some(reason.as_str())),
        };
        let ev = JobEnded {
            exec: &job.exec,
            func_name: decoded.func.as_deref(),
            task: decoded.task.as_deref(),
            args: &decoded.args,
            kind,
            return_value: return_value.as_ref(),
            error,
            ended_at,
            duration,
            handed_back: matches!(ending, JobEnd::Requeue { .. }),
        };
        for o in &engine.observers {
            o.job_ended(&ev);
        }
        // Dependents an RQ 2.x enqueuer registers after this end read the set (only a
        // failure can leave one behind, see `rescue`).
        if ending.status_after() == status::FAILED {
            engine.rescue.failed(&job.exec.job_id);
        }
        if let (true, Some(limit)) = (written.applied, job.hash.rate_limit()) {
            // After the outcome is committed, as RQ 3.0's `release_slot`. Not for an end that
            // was not applied: the job may be queued again, holding its slot (a lost reply
            // leaves the slot to maintenance, which frees it as stale).
            let status = ending.status_after();
            engine.rate_limits.job_ended(&engine, &job.exec.job_id, &limit, status).await;
        }
        engine.slots.release(job.slot);
    }
    .instrument(span)
    .await
}

/// Decodes and runs the handler; tells observers the job started.
async fn perform(
    engine: &Arc<Engine>,
    job: &StartedJob,
    cancel: watch::Receiver<Option<Cancel>>,
) -> (Outcome, Decoded, Callbacks, Option<FallbackJob>) {
    let mut decoded = Decoded::default();
    let has_fallback = engine.fallback.is_some();
    let callbacks = match job
        .settings
        .is_ok()
        .then(|| callbacks_of(&engine.tasks, &job.hash, has_fallback))
    {
        Some(Err(refused)) => {
            // Logged, recorded as the job's failure, and no callback runs.
            decoded.func = job.hash.data().and_then(|d| {
                codec::decode_data(d, engine.cfg.serializer, &engine.limits)
                    .ok()
                    .map(|p| p.func_name)
            });
            return (
                Outcome::RefusedCallback(refused),
                decoded,
                Callbacks::default(),
                None,
            );
        }
        Some(Ok(c)) => c,
        None => Callbacks::default(),
    };
    let prepared = prepare(engine, job, &mut decoded);
    // A task's job whose callback only the fallback could run is refused before it runs.
    if let Ok(Prepared::Task(inv)) = &prepared {
        if let Some(refused) = callbacks.refuse_for_task(&inv.task.name) {
            return (
                Outcome::RefusedCallback(refused),
                decoded,
                Callbacks::default(),
                None,
            );
        }
    }
    let ev = JobStarted {
        exec: &job.exec,
        hash: &job.hash,
        func_name: decoded.func.as_deref(),
        task: decoded.task.as_deref(),
        args: &decoded.args,
        kwargs: &decoded.kwargs,
    };
    for o in &engine.observers {
        o.job_started(&ev);
    }
    let mut fallback_job = None;
    let outcome = match prepared {
        Ok(Prepared::Task(inv)) => execute(engine, job, inv, cancel).await,
        Ok(Prepared::Fallback(fallback, raw)) => {
            let fb = FallbackJob { fallback, raw };
            let outcome =
                execute_fallback(engine, job, &fb, callbacks.for_fallback(), cancel).await;
            fallback_job = Some(fb);
            outcome
        }
        Err(e) => Outcome::Refused(e),
    };
    (outcome, decoded, callbacks, fallback_job)
}

/// What runs a job: a registered handler, or the application's fallback with the raw job.
enum Prepared {
    Task(tasks::Invocation),
    Fallback(Arc<dyn tasks::Fallback>, tasks::RawJob),
}

/// Checks the hash, decodes the data and resolves the handler; a job no task claims, or whose
/// resolver declines it ([`TaskError::is_unclaimed`]), goes to the fallback when there is one
/// (`tasks::fallback`), also when its payload is one the allowlist decoder refuses.
fn prepare(
    engine: &Engine,
    job: &StartedJob,
    decoded: &mut Decoded,
) -> Result<Prepared, TaskError> {
    if let Err(e) = &job.settings {
        return Err(TaskError::value_error(e.clone()));
    }
    let Some(data) = job.hash.data() else {
        return Err(TaskError::new(
            failure::DESERIALIZATION,
            "the job hash has no 'data' field",
        ));
    };
    let payload = match codec::decode_data(data, engine.cfg.serializer, &engine.limits) {
        Ok(payload) => payload,
        Err(e) => {
            if let Some(fallback) = &engine.fallback {
                let func = codec::peek_func_name(data, engine.cfg.serializer, &engine.limits);
                if !func.as_deref().is_some_and(|f| engine.tasks.claims(f)) {
                    decoded.func = func.clone();
                    return Ok(Prepared::Fallback(
                        fallback.clone(),
                        raw_job(engine, job, data, func),
                    ));
                }
            }
            return Err(TaskError::new(failure::DESERIALIZATION, e.to_string()));
        }
    };
    decoded.func = Some(payload.func_name.clone());
    decoded.args = payload.args.clone();
    decoded.kwargs = payload.kwargs.clone();
    if let Some(fallback) = &engine.fallback {
        if !engine.tasks.claims(&payload.func_name) {
            let raw = raw_job(engine, job, data, Some(payload.func_name));
            return Ok(Prepared::Fallback(fallback.clone(), raw));
        }
    }
    let resolved = engine
        .tasks
        .resolve(&payload.func_name, payload.args, payload.kwargs);
    let inv = match (resolved, &engine.fallback) {
        // A resolver's "not mine" (e.g. a dispatch function naming no registered task).
        (Err(e), Some(fallback)) if e.is_unclaimed() => {
            let raw = raw_job(engine, job, data, Some(payload.func_name));
            return Ok(Prepared::Fallback(fallback.clone(), raw));
        }
        (resolved, _) => resolved?,
    };
    decoded.task = Some(inv.task.name.to_string());
    tracing::Span::current().record("task", inv.task.name.as_ref());
    Ok(Prepared::Task(inv))
}

/// Sleeps `timeout` seconds; forever for `None`.
pub(super) async fn time_limit(timeout: Option<i64>) {
    match timeout {
        Some(secs) => tokio::time::sleep(Duration::from_secs(secs.max(0) as u64)).await,
        None => std::future::pending().await,
    }
}

/// Waits for the job's cancellation (forever when the sender is gone).
pub(super) async fn cancelled(mut cancel: watch::Receiver<Option<Cancel>>) -> Cancel {
    let why = cancel.wait_for(Option::is_some).await.map(|w| *w);
    match why {
        Ok(why) => why.unwrap_or(Cancel::Kill),
        Err(_) => std::future::pending().await,
    }
}

/// Runs the handler under the job's timeout and cancellation.
async fn execute(
    engine: &Arc<Engine>,
    job: &StartedJob,
    inv: tasks::Invocation,
    cancel: watch::Receiver<Option<Cancel>>,
) -> Outcome {
    let task_name = inv.task.name.to_string();
    info!(task = %task_name, "job started");
    match run_handler(engine, job, &inv.task, inv.call, job.timeout, cancel).await {
        HandlerEnd::Returned(v) => Outcome::Returned(v),
        HandlerEnd::Raised(error) => Outcome::Raised {
            error,
            task: task_name,
        },
        HandlerEnd::Cancelled(why) => Outcome::Cancelled(why),
    }
}

/// How one handler run (the job's function or a callback) ended.
pub(super) enum HandlerEnd {
    Returned(Value),
    /// Raised, or exceeded its timeout (`JobTimeoutException`).
    Raised(TaskError),
    Cancelled(Cancel),
}

/// Runs a handler in the job's context under `timeout` (seconds, `None` = none) and the job's
/// cancellation.
pub(super) async fn run_handler(
    engine: &Engine,
    job: &StartedJob,
    task: &tasks::TaskSpec,
    call: tasks::TaskCall,
    timeout: Option<i64>,
    cancel: watch::Receiver<Option<Cancel>>,
) -> HandlerEnd {
    let target = HandlerTarget {
        job_id: &job.exec.job_id,
        queue: &job.exec.queue,
        meta: job.hash.meta(),
    };
    run_handler_for(engine, target, task, call, timeout, cancel).await
}

/// The job a handler runs for.
struct HandlerTarget<'a> {
    job_id: &'a str,
    queue: &'a str,
    meta: Option<&'a [u8]>,
}

async fn run_handler_for(
    engine: &Engine,
    target: HandlerTarget<'_>,
    task: &tasks::TaskSpec,
    call: tasks::TaskCall,
    timeout: Option<i64>,
    cancel: watch::Receiver<Option<Cancel>>,
) -> HandlerEnd {
    let progress = MetaProgress::new(
        engine.con.clone(),
        engine.keys.job(target.job_id),
        engine.cfg.serializer,
        target.meta,
    );
    let (cancel_task, cancellation) = Cancellation::new();
    let ctx = TaskContext::new(target.job_id, target.queue, Some(Arc::new(progress)))
        .with_data(engine.data.clone())
        .with_work_dir(engine.cfg.work_dir.clone())
        .with_cancellation(cancellation);
    // The handler in its layers (tasks::layer): panics are contained and the scratch directory
    // goes however it ends, also when it is dropped below.
    let handler = task.handler.call(call, ctx);
    // Dropping the handler future cancels it (and kills child processes it spawned with
    // `kill_on_drop`); the slot is free as soon as the end is written.
    let end = tokio::select! {
        r = handler => match r {
            Ok(v) => HandlerEnd::Returned(v),
            Err(error) => HandlerEnd::Raised(error),
        },
        _ = time_limit(timeout) => HandlerEnd::Raised(timeout_error(timeout.unwrap_or(0))),
        why = cancelled(cancel) => HandlerEnd::Cancelled(why),
    };
    // The handler future is gone: tell work it left behind.
    let _ = cancel_task.send(true);
    end
}

/// The failure callback of a job failed or retried as abandoned by maintenance, run before
/// that is recorded, as RQ's `StartedJobRegistry.cleanup` does: `on_failure(job, connection,
/// AbandonedJobError, AbandonedJobError(), traceback)`. What it raises is logged (RQ 3.0); a
/// callback that is not a registered task is the fallback's when one is set, else named in a
/// warning (the job's function ran already, so there is nothing to refuse).
pub async fn abandoned_failure_callback(engine: &Engine, hash: &JobHash, queue: &str) {
    let spec = match hash.callback(CallbackKind::Failure) {
        Ok(Some(spec)) => spec,
        Ok(None) => return,
        Err(e) => {
            warn!(job_id = %hash.id, "failure callback of an abandoned job not run: {e}");
            return;
        }
    };
    let task = match engine
        .tasks
        .resolve_callback(spec.kind.argument(), &spec.name)
    {
        Ok(task) => task,
        Err(_) if engine.fallback.is_some() => {
            return super::fallback_run::abandoned_failure_callback(engine, hash, queue, &spec)
                .await;
        }
        Err(e) => {
            warn!(job_id = %hash.id, callback = %spec.name, "failure callback of an abandoned job not run: {e}");
            return;
        }
    };
    let s = |v: &str| Value::Str(v.to_string());
    let func = hash.data().and_then(|d| {
        codec::decode_data(d, engine.cfg.serializer, &engine.limits)
            .ok()
            .map(|p| p.func_name)
    });
    let job = Value::Dict(vec![
        (s("id"), s(&hash.id)),
        (s("origin"), s(queue)),
        (
            s("func_name"),
            func.as_deref().map(s).unwrap_or(Value::None),
        ),
        (s("status"), s(status::STARTED)),
        (
            s("worker_name"),
            hash.text("worker_name")
                .as_deref()
                .map(s)
                .unwrap_or(Value::None),
        ),
    ]);
    let error = TaskError::new(failure::ABANDONED, "");
    let args = vec![
        job,
        Value::Str(crate::redact::redact_url(&engine.cfg.redis_url)),
        s(&error.exc_type),
        s(&error.message),
        s(&exc_string(&spec.name, &error)),
    ];
    info!(job_id = %hash.id, callback = %spec.name, timeout_s = spec.timeout, "running on_failure callback of an abandoned job");
    let (_keep, rx) = watch::channel(None);
    let target = HandlerTarget {
        job_id: &hash.id,
        queue,
        meta: hash.meta(),
    };
    let call = tasks::TaskCall {
        args,
        kwargs: Vec::new(),
    };
    if let HandlerEnd::Raised(e) =
        run_handler_for(engine, target, &task, call, Some(spec.timeout), rx).await
    {
        warn!(job_id = %hash.id, callback = %spec.name, "on_failure callback of an abandoned job raised (logged, as RQ 3.0 does): {e}");
    }
}

/// Turns an outcome into the job's end, applying RQ's retry rules (§6.8, `rq::retry`).
fn decide(engine: &Engine, job: &StartedJob, outcome: Outcome, func: &str) -> JobEnd {
    let settings = job.settings.clone().unwrap_or_default();
    // A callback this worker cannot run ends the job for good: another attempt would not help.
    let retryable = !matches!(outcome, Outcome::RefusedCallback(_));
    let (exc, stopped) = match outcome {
        Outcome::Returned(v) => {
            return JobEnd::Success {
                result_ttl: settings.result_ttl_or(engine.cfg.results_ttl),
                return_value: codec::encode_return_value(&v, engine.cfg.serializer),
                repeat: retry::after_success(&job.hash),
                // An unreadable list counts as some: the EXPIRE is then sent.
                has_dependencies: !matches!(job.hash.dependency_ids().as_deref(), Ok([])),
            };
        }
        Outcome::ReturnedRaw(raw) => {
            return JobEnd::Success {
                result_ttl: settings.result_ttl_or(engine.cfg.results_ttl),
                return_value: codec::encode_serialized_return_value(raw.as_deref()),
                repeat: retry::after_success(&job.hash),
                has_dependencies: !matches!(job.hash.dependency_ids().as_deref(), Ok([])),
            };
        }
        Outcome::RetryReturned(r) => {
            let number_of_retries = job.hash.number_of_retries().ok().flatten();
            return JobEnd::RetryReturned(Box::new(RetryReturned::decide(
                number_of_retries,
                r.max,
                &r.intervals,
                codec::encode_serialized_return_value(Some(&r.value)),
                settings.failure_ttl,
            )));
        }
        Outcome::Raised { error, task } => (exc_string(&task, &error), false),
        Outcome::RaisedText(text) => (text, false),
        Outcome::Refused(error) | Outcome::RefusedCallback(error) => {
            (exc_string(func, &error), false)
        }
        // RQ's own texts (§9.2).
        Outcome::Cancelled(Cancel::Stop) => (failure::STOPPED_TEXT.to_string(), true),
        Outcome::Cancelled(Cancel::Kill) => (failure::KILLED_TEXT.to_string(), false),
        Outcome::Cancelled(Cancel::Requeue) => {
            return JobEnd::Requeue {
                reason: exc_string(
                    func,
                    &TaskError::new(
                        failure::SHUTDOWN_IMMINENT,
                        failure::SHUTDOWN_REQUEUED_MESSAGE,
                    ),
                ),
            }
        }
        Outcome::Cancelled(Cancel::Shutdown) => (
            exc_string(
                func,
                &TaskError::new(failure::SHUTDOWN_IMMINENT, failure::SHUTDOWN_MESSAGE),
            ),
            false,
        ),
    };
    // RQ never retries a stopped job; a refused callback would fail again.
    if let (false, true, Some((retries_left_after, plan))) = (
        stopped,
        retryable,
        retry::after_failure(&settings, &job.hash),
    ) {
        return JobEnd::Retry {
            retries_left_after,
            plan,
            exc_string: exc,
        };
    }
    JobEnd::Failure {
        status: if stopped {
            status::STOPPED
        } else {
            status::FAILED
        },
        failure_ttl: settings.failure_ttl,
        exc_string: exc,
    }
}
