//! `task-worker run`: the worker library with the built-in tasks, the backend's wrapper, the
//! shared data the tasks use (the backend API client, the student test settings), the wait for
//! the backend API, and the sinks the configuration asks for (PostgreSQL history, OpenTelemetry
//! traces, Prometheus metrics), assembled with the public builder.

use std::process::ExitCode;
use std::sync::Arc;

use tracing::info;

use crate::api::{self, ApiClient, RetryPolicy};
use crate::config::RunConfig;
use crate::tasks;
use rq_worker::redact::redact_url;
use rq_worker::{Shutdown, Worker};

/// Runs the worker until a signal stops it (or, in burst mode, until the queues are empty).
pub async fn run(cfg: RunConfig) -> anyhow::Result<ExitCode> {
    info!(
        api = %cfg.api_url.as_deref().map(redact_url).unwrap_or_else(|| "-".into()),
        "task-worker {} starting", env!("CARGO_PKG_VERSION")
    );
    let mut worker = Worker::builder(cfg.worker.clone())
        .tasks(tasks::builtin())
        .resolver(tasks::BACKEND_WRAPPER, tasks::backend_wrapper::resolve)
        .data(cfg.tasks.clone());
    match &cfg.api_url {
        Some(url) => {
            worker = worker.data(ApiClient::new(
                url,
                cfg.api_user.clone(),
                cfg.api_password.clone(),
                RetryPolicy {
                    max_attempts: cfg.tasks.commit_max_attempts,
                    first_backoff: cfg.tasks.commit_backoff,
                },
            )?);
            // Jobs are taken only once the backend answers: a test result must have somewhere
            // to go.
            let url = url.clone();
            worker = worker.startup_check(move |shutdown| api::wait_for_api(url, shutdown));
        }
        None => info!("no backend API URL set; not waiting for the API"),
    }
    if let Some(settings) = cfg.python.clone() {
        let (pool, ready) = crate::python::PythonPool::start(settings.clone(), &cfg.worker).await?;
        info!(
            python = %settings.interpreter.display(),
            rq = %ready.rq,
            python_version = %ready.python,
            mode = match settings.mode {
                crate::python::PythonMode::Fork => "fork",
                crate::python::PythonMode::Reuse => "reuse",
            },
            "Python jobs on: functions that are not built-in tasks run in Python processes"
        );
        worker = worker.fallback(Arc::new(pool));
    }
    if let Some(history) = crate::history::History::from_config(&cfg)? {
        worker = worker.observer(history);
    }
    // OpenTelemetry traces: only when an OTLP endpoint is configured (src/telemetry).
    if let Some(traces) = crate::telemetry::Traces::from_env(cfg.worker.serializer)? {
        info!("OpenTelemetry traces on: one span per job, exported by OTLP (http/protobuf)");
        worker = worker.observer(Arc::new(traces));
    }
    // Prometheus metrics: the endpoint is up from the start (before Redis is), the sampler
    // starts with the worker.
    let mut server = None;
    if let Some(addr) = cfg.metrics_addr {
        let metrics = Arc::new(crate::metrics::Metrics::new());
        server = Some(crate::metrics::http::serve(addr, metrics.clone()).await?.1);
        worker = worker.observer(metrics);
    }
    // RQ's webhooks (`enqueue(webhooks=...)`): due as the engine decides, sent here.
    worker = worker.webhook_sender(crate::webhooks::HttpSender::start()?);
    let result = worker.run(Shutdown::on_signals()).await;
    if let Some(s) = server {
        s.abort();
    }
    Ok(result?)
}
