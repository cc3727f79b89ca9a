//! The callbacks RQ's worker runs around a job (`on_success`, `on_failure`, `on_stopped`):
//! each is a registered task the engine runs, or, for a job run by the application's fallback,
//! a function the fallback runs (`tasks::fallback`), within the job's run or on its own.

use std::sync::Arc;

use tokio::sync::watch;
use tracing::{info, warn};

use super::executor::{
    exc_string, run_handler, timeout_error, Decoded, HandlerEnd, Outcome, StartedJob,
};
use super::fallback_run::{raw_value, FallbackJob};
use super::slots::Cancel;
use super::state::Engine;
use crate::rq::job::{status, CallbackKind, CallbackSpec, JobHash};
use crate::tasks::{self, RawCallback, RawCallbackCall, RawOutcome, TaskContext, TaskError};
use crate::value::Value;

/// Who runs one callback.
pub(super) enum CallbackRun {
    /// A registered task, run by the engine.
    Task(CallbackSpec, Arc<tasks::TaskSpec>),
    /// Not a registered task: the fallback's (only for a job the fallback runs).
    Fallback(CallbackSpec),
}

/// A job's callbacks.
#[derive(Default)]
pub(super) struct Callbacks {
    pub(super) success: Option<CallbackRun>,
    pub(super) failure: Option<CallbackRun>,
    pub(super) stopped: Option<CallbackRun>,
}

impl Callbacks {
    /// The callbacks the fallback runs, for its [`tasks::RawJob`].
    pub(super) fn for_fallback(&self) -> Vec<RawCallback> {
        [&self.success, &self.failure, &self.stopped]
            .into_iter()
            .filter_map(|c| match c {
                Some(CallbackRun::Fallback(spec)) => {
                    Some(RawCallback::new(spec.kind, spec.name.clone(), spec.timeout))
                }
                _ => None,
            })
            .collect()
    }

    /// A job of a registered task cannot have its callbacks run by the fallback: the refusal,
    /// naming the first such callback.
    pub(super) fn refuse_for_task(&self, task: &str) -> Option<TaskError> {
        let spec = [&self.success, &self.failure, &self.stopped]
            .into_iter()
            .find_map(|c| match c {
                Some(CallbackRun::Fallback(spec)) => Some(spec),
                _ => None,
            })?;
        Some(TaskError::new(
            "LookupError",
            format!(
                "the job's {} callback {} is not a task task-worker knows, so the job was not run: callbacks that are not tasks (Python callbacks with --python) run only for jobs whose function is not a task either, and this job runs the task {}",
                spec.kind.argument(),
                Value::Str(spec.name.clone()).py_repr(),
                Value::Str(task.to_string()).py_repr(),
            ),
        ))
    }
}

/// Reads and resolves the callbacks; the first one that is not a registered task (unless a
/// fallback is set: then it is the fallback's) or has an invalid timeout refuses the job.
pub(super) fn callbacks_of(
    registry: &tasks::Registry,
    hash: &JobHash,
    fallback: bool,
) -> Result<Callbacks, TaskError> {
    let mut out = Callbacks::default();
    for kind in CallbackKind::ALL {
        let Some(spec) = hash
            .callback(kind)
            .map_err(|e| TaskError::value_error(e.to_string()))?
        else {
            continue;
        };
        let run = match registry.resolve_callback(kind.argument(), &spec.name) {
            Ok(task) => CallbackRun::Task(spec, task),
            Err(_) if fallback => CallbackRun::Fallback(spec),
            Err(e) => return Err(e),
        };
        let slot = match kind {
            CallbackKind::Success => &mut out.success,
            CallbackKind::Failure => &mut out.failure,
            CallbackKind::Stopped => &mut out.stopped,
        };
        *slot = Some(run);
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
///
/// The fallback's callbacks ran within its run where they could (`Outcome::ReturnedRaw`: the
/// success callback passed; `Outcome::RaisedText`: the failure callback ran, or, for a process
/// that died, is not run, as in RQ); those left (a failure the engine decided: the job's
/// timeout, a Rust success callback that raised; a stop) run here with
/// [`tasks::Fallback::run_callback`]. A job that returned a retry runs no callback.
pub(super) async fn run_callbacks(
    engine: &Arc<Engine>,
    job: &StartedJob,
    mut outcome: Outcome,
    callbacks: &Callbacks,
    decoded: &Decoded,
    fallback: Option<&FallbackJob>,
    cancel: watch::Receiver<Option<Cancel>>,
) -> Outcome {
    let connection = Value::Str(crate::redact::redact_url(&engine.cfg.redis_url));
    let returned = match &outcome {
        Outcome::Returned(v) => Some(v.clone()),
        Outcome::ReturnedRaw(raw) => Some(raw_value(engine, raw.as_deref())),
        _ => None,
    };
    if let (Some(v), Some(CallbackRun::Task(spec, task))) = (returned, &callbacks.success) {
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
    let func = || decoded.func.clone().unwrap_or_else(|| "?".into());
    match &callbacks.failure {
        Some(CallbackRun::Task(spec, task)) => {
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
        Some(CallbackRun::Fallback(spec)) => {
            // Only failures the fallback did not see: its own (`RaisedText`) are handled.
            let text = match &outcome {
                Outcome::Raised { error, task } => Some(exc_string(task, error)),
                _ => None,
            };
            if let (Some(text), Some(fb)) = (text, fallback) {
                let end =
                    fallback_callback(engine, job, fb, spec, Some(text), cancel.clone()).await;
                match end {
                    Ok(Some(raised)) => outcome = Outcome::RaisedText(raised),
                    Ok(None) => {}
                    Err(why) => return Outcome::Cancelled(why),
                }
            }
        }
        None => {}
    }
    if let Outcome::Cancelled(Cancel::Stop) = &outcome {
        // A fresh receiver: the stop that ended the job must not cancel its stopped callback.
        let (_keep, rx) = watch::channel(None);
        match &callbacks.stopped {
            Some(CallbackRun::Task(spec, task)) => {
                let args = vec![job_value(job, decoded, status::STOPPED), connection];
                if let HandlerEnd::Raised(e) = run_callback(engine, job, spec, task, args, rx).await
                {
                    warn!(callback = %spec.name, "on_stopped callback raised (ignored, as RQ does): {e}");
                }
            }
            Some(CallbackRun::Fallback(spec)) => {
                if let Some(fb) = fallback {
                    if let Ok(Some(text)) = fallback_callback(engine, job, fb, spec, None, rx).await
                    {
                        let last = text
                            .trim_end()
                            .lines()
                            .last()
                            .unwrap_or_default()
                            .to_string();
                        warn!(callback = %spec.name, "on_stopped callback raised (ignored, as RQ does): {last}");
                    }
                }
            }
            None => {}
        }
    }
    outcome
}

/// Runs one of the fallback's callbacks on its own ([`tasks::Fallback::run_callback`]) under
/// its timeout and `cancel`: `Ok(Some(text))` when it raised (or timed out), `Ok(None)` when it
/// returned, `Err` when it was cancelled.
async fn fallback_callback(
    engine: &Engine,
    job: &StartedJob,
    fb: &FallbackJob,
    spec: &CallbackSpec,
    exception: Option<String>,
    cancel: watch::Receiver<Option<Cancel>>,
) -> Result<Option<String>, Cancel> {
    info!(callback = %spec.name, timeout_s = spec.timeout, "running {} callback (fallback)", spec.kind.argument());
    let call = RawCallbackCall {
        callback: RawCallback::new(spec.kind, spec.name.clone(), spec.timeout),
        exception,
    };
    let (cancel_task, cancellation) = tasks::Cancellation::new();
    let ctx = TaskContext::new(&job.exec.job_id, &job.exec.queue, None)
        .with_data(engine.data.clone())
        .with_work_dir(engine.cfg.work_dir.clone())
        .with_cancellation(cancellation);
    let run = fb.fallback.run_callback(fb.raw.clone(), call, ctx);
    let end = tokio::select! {
        end = run => match end {
            RawOutcome::Raised(text) => Ok(Some(text)),
            _ => Ok(None),
        },
        _ = super::executor::time_limit(Some(spec.timeout)) => {
            Ok(Some(exc_string(&spec.name, &timeout_error(spec.timeout))))
        }
        why = super::executor::cancelled(cancel) => Err(why),
    };
    let _ = cancel_task.send(true);
    if let Ok(Some(text)) = &end {
        let last = text.trim_end().lines().last().unwrap_or_default();
        warn!(callback = %spec.name, "{} callback failed: {last}", spec.kind.argument());
    }
    end
}

/// A callback's end applied to the job's outcome, as RQ does: an exception raised by the
/// callback becomes the job's; a cancelled callback cancels the job (`Err`).
pub(super) fn callback_outcome(
    end: HandlerEnd,
    callback: &str,
    outcome: &mut Outcome,
) -> Result<(), Outcome> {
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
