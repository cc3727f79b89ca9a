//! `task-worker run`: the worker with the built-in tasks, the shared data they use (the
//! backend API client, the student test settings) and the sinks the configuration asks for
//! (PostgreSQL history, OpenTelemetry traces), assembled with the public builder.

use std::process::ExitCode;
use std::sync::Arc;

use tracing::info;

use crate::api::{ApiClient, RetryPolicy};
use crate::config::Config;
use crate::{tasks, Shutdown, Worker};

pub async fn run(cfg: Config) -> anyhow::Result<ExitCode> {
    let mut worker = Worker::builder(cfg.clone())
        .tasks(tasks::builtin())
        .data(cfg.tasks.clone());
    if let Some(url) = &cfg.api_url {
        worker = worker.data(ApiClient::new(
            url,
            cfg.api_user.clone(),
            cfg.api_password.clone(),
            RetryPolicy {
                max_attempts: cfg.tasks.commit_max_attempts,
                first_backoff: cfg.tasks.commit_backoff,
            },
        )?);
    }
    if let Some(history) = crate::history::History::from_config(&cfg)? {
        worker = worker.observer(history);
    }
    // OpenTelemetry traces: only when an OTLP endpoint is configured (src/telemetry).
    if let Some(traces) = crate::telemetry::Traces::from_env(cfg.serializer)? {
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
    let result = worker.run(Shutdown::on_signals()).await;
    if let Some(s) = server {
        s.abort();
    }
    result
}
