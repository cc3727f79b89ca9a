//! Runs one started job: decode, resolve the handler, run it under its timeout and cancellation,
//! and decide how the job ends (success, failure, retry). Writing the end is the writer's job.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn, Instrument};

use super::progress::MetaProgress;
use super::slots::Cancel;
use super::state::Engine;
use crate::events::{EndKind, JobEnded, JobStarted};
use crate::rq::codec;
use crate::rq::failure;
use crate::rq::job::{status, CallbackKind, CallbackSpec, JobHash, JobSettings};
use crate::rq::lifecycle::{Execution, JobEnd};
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
struct Decoded {
    func: Option<String>,
    task: Option<String>,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
}

/// How the handler run ended, before retries are considered.
enum Outcome {
    Returned(Value),
    /// The fallback's value, already serialized (`None`: Python's `None`).
    ReturnedRaw(Option<Vec<u8>>),
    Raised {
        error: TaskError,
        task: String,
    },
    /// The fallback's failure: the full exception text, recorded as it is.
    RaisedText(String),
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
        let (outcome, decoded, callbacks) = perform(&engine, &job, cancel.clone()).await;
        let outcome = run_callbacks(&engine, &job, outcome, &callbacks, &decoded, cancel).await;
        let func = decoded.func.clone().unwrap_or_else(|| "?".to_string());
        let return_value = match &outcome {
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
            // Another attempt will run it, as for a retry (no retry is used up).
            JobEnd::Requeue { reason } => (EndKind::Retried, Some(reason.as_str())),
        };
        let ev = JobEnded {
            exec: &job.exec,
            func_name: decoded.func.as_deref(),
            task: decoded.task.as_deref(),
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
) -> (Outcome, Decoded, Callbacks) {
    let mut decoded = Decoded::default();
    let callbacks = match job
        .settings
        .is_ok()
        .then(|| callbacks_of(&engine.tasks, &job.hash))
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
            );
        }
        Some(Ok(c)) => c,
        None => Callbacks::default(),
    };
    let prepared = prepare(engine, job, &mut decoded);
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
    let outcome = match prepared {
        Ok(Prepared::Task(inv)) => execute(engine, job, inv, cancel).await,
        Ok(Prepared::Fallback(fallback, raw)) => {
            execute_fallback(engine, job, fallback.as_ref(), raw, cancel).await
        }
        Err(e) => Outcome::Refused(e),
    };
    (outcome, decoded, callbacks)
}

/// A job's callbacks, each resolved to a registered task.
#[derive(Default)]
struct Callbacks {
    success: Option<(CallbackSpec, Arc<tasks::TaskSpec>)>,
    failure: Option<(CallbackSpec, Arc<tasks::TaskSpec>)>,
    stopped: Option<(CallbackSpec, Arc<tasks::TaskSpec>)>,
}

/// Reads and resolves the callbacks; the first one that is not a registered task (or has an
/// invalid timeout) refuses the job.
fn callbacks_of(registry: &tasks::Registry, hash: &JobHash) -> Result<Callbacks, TaskError> {
    let mut out = Callbacks::default();
    for kind in CallbackKind::ALL {
        let Some(spec) = hash
            .callback(kind)
            .map_err(|e| TaskError::value_error(e.to_string()))?
        else {
            continue;
        };
        let task = registry.resolve_callback(kind.argument(), &spec.name)?;
        let slot = match kind {
            CallbackKind::Success => &mut out.success,
            CallbackKind::Failure => &mut out.failure,
            CallbackKind::Stopped => &mut out.stopped,
        };
        *slot = Some((spec, task));
    }
    Ok(out)
}

/// The first argument a callback gets, RQ's `job`: what a Rust handler can use of it.
fn job_value(job: &StartedJob, decoded: &Decoded, status: &str) -> Value {
    let s = |v: &str| Value::Str(v.to_string());
    Value::Dict(vec![
        (s("id"), s(&job.exec.job_id)),
        (s("origin"), s(&job.exec.queue)),
        (
            s("func_name"),
            decoded.func.as_deref().map(s).unwrap_or(Value::None),
        ),
        (s("status"), s(status)),
        (s("worker_name"), s(&job.exec.worker)),
    ])
}

/// Runs the callbacks RQ's worker runs after the job (`rq.callbacks` / `Job.execute_*_callback`):
/// * `on_success(job, connection, result)` once the function returned; if it raises (or
///   exceeds its timeout) the job fails with that exception instead, as in RQ, and goes on
///   to the failure callback;
/// * `on_failure(job, connection, type, value, traceback)` after an exception (also a
///   timeout); an exception it raises replaces the job's in the recorded failure;
/// * `on_stopped(job, connection)` after a stop command; what it raises is logged only.
///
/// Each runs under its own timeout (`<kind>_callback_timeout`, 60 s by default). `connection`
/// is the Redis URL with its password hidden (a handler reaches Redis through its context).
async fn run_callbacks(
    engine: &Arc<Engine>,
    job: &StartedJob,
    mut outcome: Outcome,
    callbacks: &Callbacks,
    decoded: &Decoded,
    cancel: watch::Receiver<Option<Cancel>>,
) -> Outcome {
    let connection = Value::Str(crate::redact::redact_url(&engine.cfg.redis_url));
    let returned = match &outcome {
        Outcome::Returned(v) => Some(v.clone()),
        Outcome::ReturnedRaw(raw) => Some(raw_value(engine, raw.as_deref())),
        _ => None,
    };
    if let (Some(v), Some((spec, task))) = (returned, &callbacks.success) {
        let args = vec![
            job_value(job, decoded, status::FINISHED),
            connection.clone(),
            v,
        ];
        let end = run_callback(engine, job, spec, task, args, cancel.clone()).await;
        if let Err(cancelled) = callback_outcome(end, &spec.name, &mut outcome) {
            return cancelled;
        }
    }
    if let Some((spec, task)) = &callbacks.failure {
        let func = || decoded.func.clone().unwrap_or_else(|| "?".into());
        let failed = match &outcome {
            Outcome::Raised { error, task } => Some((error.clone(), exc_string(task, error))),
            Outcome::Refused(error) => Some((error.clone(), exc_string(&func(), error))),
            Outcome::RaisedText(text) => {
                let (exc_type, message) = tasks::fallback::last_line_parts(text);
                Some((TaskError::new(&exc_type, message), text.clone()))
            }
            _ => None,
        };
        if let Some((error, text)) = failed {
            let args = vec![
                job_value(job, decoded, status::FAILED),
                connection.clone(),
                Value::Str(error.exc_type.clone()),
                Value::Str(error.message.clone()),
                Value::Str(text),
            ];
            let end = run_callback(engine, job, spec, task, args, cancel.clone()).await;
            if let Err(cancelled) = callback_outcome(end, &spec.name, &mut outcome) {
                return cancelled;
            }
        }
    }
    if let (Outcome::Cancelled(Cancel::Stop), Some((spec, task))) = (&outcome, &callbacks.stopped) {
        let args = vec![job_value(job, decoded, status::STOPPED), connection];
        // A fresh receiver: the stop that ended the job must not cancel its stopped callback.
        let (_keep, rx) = watch::channel(None);
        if let HandlerEnd::Raised(e) = run_callback(engine, job, spec, task, args, rx).await {
            warn!(callback = %spec.name, "on_stopped callback raised (ignored, as RQ does): {e}");
        }
    }
    outcome
}

/// A callback's end applied to the job's outcome, as RQ does: an exception raised by the
/// callback becomes the job's; a cancelled callback cancels the job (`Err`).
fn callback_outcome(end: HandlerEnd, callback: &str, outcome: &mut Outcome) -> Result<(), Outcome> {
    match end {
        HandlerEnd::Returned(_) => Ok(()),
        HandlerEnd::Raised(error) => {
            *outcome = Outcome::Raised {
                error,
                task: callback.to_string(),
            };
            Ok(())
        }
        HandlerEnd::Cancelled(why) => Err(Outcome::Cancelled(why)),
    }
}

async fn run_callback(
    engine: &Arc<Engine>,
    job: &StartedJob,
    spec: &CallbackSpec,
    task: &tasks::TaskSpec,
    args: Vec<Value>,
    cancel: watch::Receiver<Option<Cancel>>,
) -> HandlerEnd {
    info!(callback = %spec.name, timeout_s = spec.timeout, "running {} callback", spec.kind.argument());
    let call = tasks::TaskCall {
        args,
        kwargs: Vec::new(),
    };
    let end = run_handler(engine, job, task, call, Some(spec.timeout), cancel).await;
    if let HandlerEnd::Raised(e) = &end {
        warn!(callback = %spec.name, "{} callback failed: {e}", spec.kind.argument());
    }
    end
}

/// What runs a job: a registered handler, or the application's fallback with the raw job.
enum Prepared {
    Task(tasks::Invocation),
    Fallback(Arc<dyn tasks::Fallback>, tasks::RawJob),
}

/// Checks the hash, decodes the data and resolves the handler; a job no task claims goes to
/// the fallback when there is one (`tasks::fallback`), also when its payload is one the
/// allowlist decoder refuses.
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
    let inv = engine
        .tasks
        .resolve(&payload.func_name, payload.args, payload.kwargs)?;
    decoded.task = Some(inv.task.name.to_string());
    tracing::Span::current().record("task", inv.task.name.as_ref());
    Ok(Prepared::Task(inv))
}

/// The job as a fallback gets it.
fn raw_job(
    engine: &Engine,
    job: &StartedJob,
    data: &[u8],
    func_name: Option<String>,
) -> tasks::RawJob {
    tasks::RawJob {
        job_id: job.exec.job_id.clone(),
        queue: job.exec.queue.clone(),
        worker: job.exec.worker.clone(),
        execution_id: job.exec.execution_id.clone(),
        func_name,
        data: data.to_vec(),
        serializer: engine.cfg.serializer,
        timeout: job.timeout,
    }
}

/// A fallback's serialized value read back for observers and Rust callbacks, by the allowlist
/// decoder (never runs code); what it refuses reads as `None`.
fn raw_value(engine: &Engine, raw: Option<&[u8]>) -> Value {
    raw.and_then(|b| engine.cfg.serializer.loads(b, &engine.limits).ok())
        .unwrap_or(Value::None)
}

/// Runs a job with the fallback under the job's timeout and cancellation; dropping its future
/// (timeout, stop, kill, shutdown) is what stops it.
async fn execute_fallback(
    engine: &Engine,
    job: &StartedJob,
    fallback: &dyn tasks::Fallback,
    raw: tasks::RawJob,
    cancel: watch::Receiver<Option<Cancel>>,
) -> Outcome {
    let func = raw.func_name.clone().unwrap_or_else(|| "?".into());
    info!(func = %func, "job started (fallback)");
    let (cancel_task, cancellation) = Cancellation::new();
    let ctx = TaskContext::new(&job.exec.job_id, &job.exec.queue, None)
        .with_data(engine.data.clone())
        .with_work_dir(engine.cfg.work_dir.clone())
        .with_cancellation(cancellation);
    let run = fallback.run(raw, ctx);
    let end = tokio::select! {
        end = run => match end {
            tasks::RawOutcome::Returned(v) => Outcome::ReturnedRaw(v),
            tasks::RawOutcome::Raised(text) => Outcome::RaisedText(text),
        },
        _ = time_limit(job.timeout) => Outcome::Raised {
            error: timeout_error(job.timeout.unwrap_or(0)),
            task: func,
        },
        why = cancelled(cancel) => Outcome::Cancelled(why),
    };
    let _ = cancel_task.send(true);
    end
}

/// Sleeps `timeout` seconds; forever for `None`.
async fn time_limit(timeout: Option<i64>) {
    match timeout {
        Some(secs) => tokio::time::sleep(Duration::from_secs(secs.max(0) as u64)).await,
        None => std::future::pending().await,
    }
}

/// Waits for the job's cancellation (forever when the sender is gone).
async fn cancelled(mut cancel: watch::Receiver<Option<Cancel>>) -> Cancel {
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
enum HandlerEnd {
    Returned(Value),
    /// Raised, or exceeded its timeout (`JobTimeoutException`).
    Raised(TaskError),
    Cancelled(Cancel),
}

/// Runs a handler in the job's context under `timeout` (seconds, `None` = none) and the job's
/// cancellation.
async fn run_handler(
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
/// callback that is not a registered task is named in a warning (the job's function ran
/// already, so there is nothing to refuse).
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
