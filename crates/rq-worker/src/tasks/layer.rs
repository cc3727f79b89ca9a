//! Layers: wrappers around every handler, applied once when the worker is built.
//!
//! The standard stack, outermost first: [`CatchPanic`] (a panic fails the job with
//! `RuntimeError: task panicked: <message>` and frees its slot), [`Scratch`] (the job's scratch
//! directory goes however the handler ends) and [`Traced`] (a `task` span with the handler's
//! duration). The job's timeout, stop and shutdown cancellation are the engine's: it drops the
//! layered future, which every layer tolerates. An application adds its own with
//! [`WorkerBuilder::layer`](crate::WorkerBuilder::layer); they sit inside the standard ones.

use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use tracing::Instrument;

use super::{Handler, TaskError, TaskSpec};

/// A wrapper around every handler (timing, logging, authorisation, retries of a flaky
/// dependency…), applied once per task when the worker starts, not once per job.
///
/// A layer that counts the jobs each task ran, wrapping a handler and calling it:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
///
/// use rq_worker::tasks::typed;
/// use rq_worker::{Handler, Layer, TaskCall, TaskContext, TaskError, TaskSpec, Value};
///
/// #[derive(Default)]
/// struct Counted(Arc<AtomicU64>);
///
/// impl Layer for Counted {
///     fn wrap(&self, _task: &TaskSpec, inner: Handler) -> Handler {
///         let count = self.0.clone();
///         Handler::new(move |call, ctx| {
///             count.fetch_add(1, Ordering::Relaxed);
///             inner.call(call, ctx) // the future the wrapped handler returns
///         })
///     }
/// }
///
/// async fn double(x: (i64,), _ctx: TaskContext) -> Result<i64, TaskError> {
///     Ok(2 * x.0)
/// }
///
/// let layer = Counted::default();
/// let task = typed::task("myapp.double", double);
/// let handler = layer.wrap(&task, task.handler.clone());
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build()?;
/// let call = TaskCall { args: vec![Value::Int(21)], kwargs: vec![] };
/// let result = runtime.block_on(handler.call(call, TaskContext::new("job-1", "default", None)));
/// assert_eq!(result, Ok(Value::Int(42)));
/// assert_eq!(layer.0.load(Ordering::Relaxed), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// In a worker it goes to [`WorkerBuilder::layer`](crate::WorkerBuilder::layer).
pub trait Layer: Send + Sync + 'static {
    /// The handler that runs `inner` for the jobs of `task`, with this layer's work around
    /// it. Called once per task when the worker starts.
    fn wrap(&self, task: &TaskSpec, inner: Handler) -> Handler;
}

/// The standard layers, innermost first.
pub(crate) fn standard() -> Vec<Arc<dyn Layer>> {
    vec![Arc::new(Traced), Arc::new(Scratch), Arc::new(CatchPanic)]
}

/// Contains panics: one raised while the future is built or while it runs becomes the job's
/// failure instead of unwinding out of the executor, which would leave the job `started`.
pub(crate) struct CatchPanic;

impl Layer for CatchPanic {
    fn wrap(&self, _task: &TaskSpec, inner: Handler) -> Handler {
        Handler::new(move |call, ctx| {
            use std::panic::AssertUnwindSafe;
            let fut = match std::panic::catch_unwind(AssertUnwindSafe(|| inner.call(call, ctx))) {
                Ok(f) => f,
                Err(panic) => return Box::pin(std::future::ready(Err(panicked(panic)))),
            };
            Box::pin(async move {
                match AssertUnwindSafe(fut).catch_unwind().await {
                    Ok(r) => r,
                    Err(panic) => Err(panicked(panic)),
                }
            })
        })
    }
}

fn panicked(panic: Box<dyn std::any::Any + Send>) -> TaskError {
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_string());
    tracing::error!(panic = %msg, "task panicked");
    TaskError::new("RuntimeError", format!("task panicked: {msg}"))
}

/// Removes the job's scratch directory ([`super::TaskContext::scratch_dir`]) when the handler
/// ends, and also when its future is dropped (timeout, stop, shutdown).
pub(crate) struct Scratch;

impl Layer for Scratch {
    fn wrap(&self, _task: &TaskSpec, inner: Handler) -> Handler {
        Handler::new(move |call, ctx| {
            let guard = ctx.scratch_guard();
            let fut = inner.call(call, ctx);
            Box::pin(async move {
                let r = fut.await;
                guard.remove().await;
                r
            })
        })
    }
}

/// A `task` span around the handler, and a debug line with how it ended and how long it took.
pub(crate) struct Traced;

impl Layer for Traced {
    fn wrap(&self, task: &TaskSpec, inner: Handler) -> Handler {
        let name: Arc<str> = Arc::from(task.name.as_ref());
        Handler::new(move |call, ctx| {
            let span = tracing::debug_span!("task", name = %name);
            let fut = inner.call(call, ctx);
            Box::pin(
                async move {
                    let t = Instant::now();
                    let r = fut.await;
                    let ms = t.elapsed().as_secs_f64() * 1e3;
                    match &r {
                        Ok(_) => tracing::debug!(duration_ms = ms, "handler returned"),
                        Err(e) => tracing::debug!(duration_ms = ms, error = %e, "handler raised"),
                    }
                    r
                }
                .instrument(span),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::{Parameters, TaskCall, TaskContext, TaskFuture};
    use crate::value::Value;
    use std::borrow::Cow;

    fn spec(handler: fn(TaskCall, TaskContext) -> TaskFuture) -> TaskSpec {
        TaskSpec {
            name: Cow::Borrowed("t"),
            default_timeout: None,
            default_retries: 0,
            summary: Cow::Borrowed(""),
            params: Parameters::Any,
            handler: Handler::Fn(handler),
        }
    }

    fn panics_while_running(_: TaskCall, _: TaskContext) -> TaskFuture {
        Box::pin(async {
            tokio::task::yield_now().await;
            panic!("boom at {}", 42)
        })
    }

    fn panics_when_called(_: TaskCall, _: TaskContext) -> TaskFuture {
        panic!("no future for you")
    }

    fn returns(_: TaskCall, _: TaskContext) -> TaskFuture {
        Box::pin(async { Ok(Value::Int(7)) })
    }

    async fn run_layered(h: fn(TaskCall, TaskContext) -> TaskFuture) -> Result<Value, TaskError> {
        let s = spec(h);
        let mut handler = s.handler.clone();
        for l in standard() {
            handler = l.wrap(&s, handler);
        }
        handler
            .call(TaskCall::default(), TaskContext::new("j", "q", None))
            .await
    }

    #[tokio::test]
    async fn a_panicking_handler_fails_its_job_and_nothing_else() {
        let e = run_layered(panics_while_running).await.unwrap_err();
        assert_eq!(e.last_line(), "RuntimeError: task panicked: boom at 42");
        let e = run_layered(panics_when_called).await.unwrap_err();
        assert_eq!(
            e.last_line(),
            "RuntimeError: task panicked: no future for you"
        );
        assert_eq!(run_layered(returns).await, Ok(Value::Int(7)));
    }

    #[tokio::test]
    async fn the_scratch_layer_removes_the_directory_when_the_handler_ends() {
        fn makes_scratch(_: TaskCall, ctx: TaskContext) -> TaskFuture {
            Box::pin(async move {
                let dir = ctx.scratch_dir().await.map_err(anyhow::Error::from)?;
                std::fs::write(dir.join("left-behind"), "x").map_err(anyhow::Error::from)?;
                Ok(Value::Str(dir.display().to_string()))
            })
        }
        let Value::Str(dir) = run_layered(makes_scratch).await.unwrap() else {
            panic!("not a path")
        };
        assert!(!std::path::Path::new(&dir).exists(), "{dir} left behind");
    }
}
