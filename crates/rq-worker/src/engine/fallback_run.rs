//! A job run by the application's fallback (`tasks::fallback`): the raw job it gets, and the
//! run under the job's timeout, then each callback's own timeout once the fallback says a
//! callback started, and the job's cancellation.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{info, warn};

use super::executor::{cancelled, exc_string, timeout_error, Outcome, StartedJob};
use super::slots::Cancel;
use super::state::Engine;
use crate::rq::failure;
use crate::rq::job::{CallbackKind, CallbackSpec, JobHash};
use crate::tasks::{self, Cancellation, PhaseSignal, RawCallback, RawCallbackCall, TaskContext};
use crate::value::Value;

/// A job handed to the fallback, kept for the callbacks run on their own afterwards.
#[derive(Clone)]
pub(super) struct FallbackJob {
    pub(super) fallback: Arc<dyn tasks::Fallback>,
    pub(super) raw: tasks::RawJob,
}

/// The job as a fallback gets it (callbacks and phase are set by [`execute_fallback`]).
pub(super) fn raw_job(
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
        data: Arc::from(data),
        hash: job
            .hash
            .as_started(&job.exec.worker, job.exec.started_at)
            .into(),
        serializer: engine.cfg.serializer,
        timeout: job.timeout,
        callbacks: Vec::new(),
        phase: PhaseSignal::detached(),
    }
}

/// A fallback's serialized value read back for observers and Rust callbacks, by the allowlist
/// decoder (never runs code); what it refuses reads as `None`.
pub(super) fn raw_value(engine: &Engine, raw: Option<&[u8]>) -> Value {
    raw.and_then(|b| engine.cfg.serializer.loads(b, &engine.limits).ok())
        .unwrap_or(Value::None)
}

/// When a limit of `secs` seconds started now ends; `None` for no limit.
fn deadline(secs: Option<i64>) -> Option<Instant> {
    secs.map(|s| Instant::now() + Duration::from_secs(s.max(0) as u64))
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Runs a job with the fallback under the job's timeout and cancellation; dropping its future
/// (timeout, stop, kill, shutdown) is what stops it. Once the fallback signals that one of its
/// callbacks started, that callback's timeout applies instead of the job's: a success
/// callback that exceeds it fails the job with RQ's timeout text (the failure callback then
/// still runs, on its own), a failure callback that exceeds it replaces the job's failure.
pub(super) async fn execute_fallback(
    engine: &Engine,
    job: &StartedJob,
    fb: &FallbackJob,
    callbacks: Vec<RawCallback>,
    cancel: watch::Receiver<Option<Cancel>>,
) -> Outcome {
    let mut raw = fb.raw.clone();
    let func = raw.func_name.clone().unwrap_or_else(|| "?".into());
    info!(func = %func, "job started (fallback)");
    let (cancel_task, cancellation) = Cancellation::new();
    let ctx = TaskContext::new(&job.exec.job_id, &job.exec.queue, None)
        .with_data(engine.data.clone())
        .with_work_dir(engine.cfg.work_dir.clone())
        .with_cancellation(cancellation);
    let (signal, mut phase_rx) = PhaseSignal::channel();
    raw.callbacks = callbacks.clone();
    raw.phase = signal;
    let mut run = fb.fallback.run(raw, ctx);
    let mut until = deadline(job.timeout);
    let mut phase: Option<&RawCallback> = None;
    let mut listening = true;
    let end = loop {
        tokio::select! {
            end = &mut run => break match end {
                tasks::RawOutcome::Returned(v) => Outcome::ReturnedRaw(v),
                tasks::RawOutcome::Raised(text) => Outcome::RaisedText(text),
                tasks::RawOutcome::Retry(r) => Outcome::RetryReturned(r),
            },
            _ = sleep_until(until) => break match phase {
                None => Outcome::Raised {
                    error: timeout_error(job.timeout.unwrap_or(0)),
                    task: func,
                },
                Some(cb) if cb.kind == CallbackKind::Success => Outcome::Raised {
                    error: timeout_error(cb.timeout),
                    task: cb.name.clone(),
                },
                // The failure callback timed out: its exception is the job's, and it ran.
                Some(cb) => Outcome::RaisedText(exc_string(&cb.name, &timeout_error(cb.timeout))),
            },
            changed = phase_rx.changed(), if listening => match changed {
                Ok(()) => {
                    let kind = *phase_rx.borrow_and_update();
                    phase = kind.and_then(|k| callbacks.iter().find(|c| c.kind == k));
                    if let Some(cb) = phase {
                        info!(callback = %cb.name, timeout_s = cb.timeout, "running {} callback (fallback)", cb.kind.argument());
                        until = deadline(Some(cb.timeout));
                    }
                }
                Err(_) => listening = false,
            },
            why = cancelled(cancel.clone()) => break Outcome::Cancelled(why),
        }
    };
    drop(run);
    let _ = cancel_task.send(true);
    end
}

/// The fallback's failure callback of a job maintenance fails as abandoned (its worker died):
/// run on its own with RQ's `AbandonedJobError`, under its timeout; what it raises is logged,
/// as RQ 3.0 does.
pub(super) async fn abandoned_failure_callback(
    engine: &Engine,
    hash: &JobHash,
    queue: &str,
    spec: &CallbackSpec,
) {
    let Some(fallback) = &engine.fallback else {
        return;
    };
    let callback = RawCallback::new(spec.kind, spec.name.clone(), spec.timeout);
    let raw = tasks::RawJob {
        job_id: hash.id.clone(),
        queue: queue.to_string(),
        worker: hash.text("worker_name").unwrap_or_default(),
        execution_id: String::new(),
        func_name: None,
        data: Arc::from(hash.data().unwrap_or_default()),
        hash: Arc::new([]),
        serializer: engine.cfg.serializer,
        timeout: None,
        callbacks: vec![callback.clone()],
        phase: PhaseSignal::detached(),
    };
    let call = RawCallbackCall {
        callback,
        exception: Some(failure::exc_string(&spec.name, failure::ABANDONED)),
    };
    info!(job_id = %hash.id, callback = %spec.name, timeout_s = spec.timeout, "running on_failure callback of an abandoned job (fallback)");
    let (cancel_task, cancellation) = Cancellation::new();
    let ctx = TaskContext::new(&hash.id, queue, None)
        .with_data(engine.data.clone())
        .with_work_dir(engine.cfg.work_dir.clone())
        .with_cancellation(cancellation);
    let limit = Duration::from_secs(spec.timeout.max(0) as u64);
    let end = tokio::time::timeout(limit, fallback.run_callback(raw, call, ctx)).await;
    let _ = cancel_task.send(true);
    let raised = match end {
        Ok(tasks::RawOutcome::Raised(text)) => Some(text),
        Ok(_) => None,
        Err(_) => Some(exc_string(&spec.name, &timeout_error(spec.timeout))),
    };
    if let Some(text) = raised {
        let last = text.trim_end().lines().last().unwrap_or_default();
        warn!(job_id = %hash.id, callback = %spec.name, "on_failure callback of an abandoned job raised (logged, as RQ 3.0 does): {last}");
    }
}
