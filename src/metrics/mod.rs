//! Prometheus metrics (`--metrics-addr`): job counters and histograms from the engine's
//! observer hook, sampled queue depths, Redis/Postgres error counters and the history buffer
//! gauge. Served by [`http`] at `/metrics` (Prometheus text 0.0.4, or OpenMetrics when the
//! scraper asks for it) and `/healthz`.
//!
//! Error counters and the history-buffer gauge are process-wide (see [`redis_error`],
//! [`postgres_error`], [`set_history_buffer`]) so that any module can report without a handle;
//! every [`Metrics`] registry exposes them. Labels are bounded: `queue` comes from the worker's
//! `--queues`, `task` from the task registry (for jobs no task ran, such as Python jobs, the
//! function name, at most [`MAX_FUNCTION_LABELS`] of them, then `other`), `op` from a
//! fixed set of call sites.

pub mod http;
pub mod sampler;

use std::sync::{LazyLock, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use rq_protocol::time::parse_datetime;
use rq_protocol::value::Value;
use rq_worker::events::{EndKind, JobEnded, JobStarted, Observer};

use crate::tasks::backend_wrapper::requested_task;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub queue: String,
    pub task: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OpLabels {
    pub op: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Job run times: from 10 ms to an hour (the longest job timeout of docs/course-tasks.md §1.3).
const DURATION_BUCKETS: [f64; 15] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0,
];
/// Time from enqueue to start: from 5 ms to an hour.
const WAIT_BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

fn wait_histogram() -> Histogram {
    Histogram::new(WAIT_BUCKETS)
}

static REDIS_ERRORS: LazyLock<Family<OpLabels, Counter>> = LazyLock::new(Family::default);
static POSTGRES_ERRORS: LazyLock<Counter> = LazyLock::new(Counter::default);
static HISTORY_BUFFER: LazyLock<Gauge> = LazyLock::new(Gauge::default);
static ABANDONED: LazyLock<Family<QueueLabels, Counter>> = LazyLock::new(Family::default);
static WEBHOOKS: LazyLock<Family<OutcomeLabels, Counter>> = LazyLock::new(Family::default);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

/// What becomes of a webhook request (`crate::webhooks`): answered 2xx, failed (error,
/// timeout, another status), dropped (queue full).
pub const WEBHOOK_OUTCOMES: [&str; 3] = ["sent", "failed", "dropped"];

/// Counts a webhook request by what became of it (one of [`WEBHOOK_OUTCOMES`]).
pub fn webhook(outcome: &str) {
    WEBHOOKS
        .get_or_create(&OutcomeLabels {
            outcome: outcome.to_string(),
        })
        .inc();
}

/// Counts a job of a dead worker that maintenance recovered (retried or failed as abandoned).
pub fn job_abandoned(queue: &str) {
    ABANDONED
        .get_or_create(&QueueLabels {
            queue: queue.to_string(),
        })
        .inc();
}

/// Makes the abandoned-jobs series of `label` exist (at 0) before the first one, so alerts on
/// `increase(...)` see it; the queue sampler calls it for each queue it samples.
pub(crate) fn touch_abandoned(label: &QueueLabels) {
    let _ = ABANDONED.get_or_create(label);
}

/// The call sites that report Redis errors; their series exist from the start (at 0), so an
/// alert on `increase(...)` works before the first error.
pub const REDIS_OPS: [&str; 5] = ["dequeue", "start", "heartbeat", "end", "sample"];

/// Counts a failed Redis operation; `op` names the call site (one of [`REDIS_OPS`]).
pub fn redis_error(op: &str) {
    REDIS_ERRORS
        .get_or_create(&OpLabels { op: op.to_string() })
        .inc();
}

/// Counts a failed PostgreSQL operation (history sink).
pub fn postgres_error() {
    POSTGRES_ERRORS.inc();
}

/// Sets the number of job records waiting in the history sink's buffer.
pub fn set_history_buffer(n: i64) {
    HISTORY_BUFFER.set(n);
}

/// The metrics of one worker process.
pub struct Metrics {
    registry: Registry,
    /// The queue-depth sampler, once the worker started.
    sampler: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    started: Family<JobLabels, Counter>,
    finished: Family<JobLabels, Counter>,
    failed: Family<JobLabels, Counter>,
    retried: Family<JobLabels, Counter>,
    stopped: Family<JobLabels, Counter>,
    duration: HistogramFamily<JobLabels>,
    wait: HistogramFamily<QueueLabels>,
    in_flight: Family<QueueLabels, Gauge>,
    pub(crate) queue_depth: Family<QueueLabels, Gauge>,
    pub(crate) started_registry: Family<QueueLabels, Gauge>,
    pub(crate) failed_registry: Family<QueueLabels, Gauge>,
    /// The autoscaling signal (KEDA / HPA): jobs waiting in each queue's list ...
    pub(crate) waiting: Family<QueueLabels, Gauge>,
    /// ... jobs of each queue running on any worker (its `rq:wip` registry) ...
    pub(crate) running: Family<QueueLabels, Gauge>,
    /// ... and this process's idle slots (0 once it is shutting down).
    pub(crate) free_slots: Gauge,
    pub(crate) samples: Counter,
    /// `None` while healthy; otherwise why `/healthz` answers 503.
    problem: Mutex<Option<String>>,
    /// The function names used as `task` labels for jobs no task ran (Python jobs, unknown
    /// functions): at most [`MAX_FUNCTION_LABELS`], so that enqueuers cannot grow the series
    /// without bound.
    function_labels: Mutex<std::collections::HashSet<String>>,
}

/// How many distinct function names (jobs no registered task ran) get a `task` label of their
/// own; later ones are counted under `other`.
pub const MAX_FUNCTION_LABELS: usize = 200;

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("task_worker");
        let m = Metrics {
            sampler: std::sync::Mutex::new(None),
            started: Family::default(),
            finished: Family::default(),
            failed: Family::default(),
            retried: Family::default(),
            stopped: Family::default(),
            duration: Family::new_with_constructor(duration_histogram as fn() -> Histogram),
            wait: Family::new_with_constructor(wait_histogram as fn() -> Histogram),
            in_flight: Family::default(),
            queue_depth: Family::default(),
            started_registry: Family::default(),
            failed_registry: Family::default(),
            waiting: Family::default(),
            running: Family::default(),
            free_slots: Gauge::default(),
            samples: Counter::default(),
            problem: Mutex::new(Some("not connected to Redis yet".into())),
            function_labels: Mutex::new(Default::default()),
            registry: Registry::default(),
        };
        registry.register(
            "build",
            "task-worker build information",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register("jobs_started", "Jobs started", m.started.clone());
        registry.register(
            "jobs_finished",
            "Jobs that finished successfully",
            m.finished.clone(),
        );
        registry.register(
            "jobs_failed",
            "Jobs that failed for good (no retry left)",
            m.failed.clone(),
        );
        registry.register(
            "jobs_retried",
            "Failed attempts that were re-enqueued or scheduled for a retry",
            m.retried.clone(),
        );
        registry.register(
            "jobs_stopped",
            "Jobs stopped by a stop-job command",
            m.stopped.clone(),
        );
        registry.register(
            "job_duration_seconds",
            "Run time of jobs (handler start to end)",
            m.duration.clone(),
        );
        registry.register(
            "job_wait_seconds",
            "Time from enqueue (enqueued_at) to start",
            m.wait.clone(),
        );
        registry.register("jobs_in_flight", "Jobs running now", m.in_flight.clone());
        registry.register(
            "queue_depth",
            "Jobs waiting in the queue (LLEN, sampled)",
            m.queue_depth.clone(),
        );
        registry.register(
            "queue_started_jobs",
            "Entries of the queue's started registry rq:wip (sampled)",
            m.started_registry.clone(),
        );
        registry.register(
            "queue_failed_jobs",
            "Entries of the queue's failed registry (sampled)",
            m.failed_registry.clone(),
        );
        // Stable names for autoscalers (deploy/kubernetes and docs/docker.md refer to them):
        // task_worker_queue_waiting_jobs, task_worker_queue_running_jobs, task_worker_free_slots.
        registry.register(
            "queue_waiting_jobs",
            "Jobs waiting in the queue's list, for autoscaling (LLEN, sampled)",
            m.waiting.clone(),
        );
        registry.register(
            "queue_running_jobs",
            "Jobs of the queue running on any worker, for autoscaling (ZCARD rq:wip, sampled)",
            m.running.clone(),
        );
        registry.register(
            "free_slots",
            "Idle job slots of this process (0 while shutting down; sampled)",
            m.free_slots.clone(),
        );
        registry.register(
            "queue_samples",
            "Queue sampling rounds that succeeded",
            m.samples.clone(),
        );
        registry.register(
            "redis_errors",
            "Failed Redis operations, by operation",
            REDIS_ERRORS.clone(),
        );
        registry.register(
            "jobs_abandoned",
            "Jobs of dead workers recovered by this process's maintenance (retried or failed)",
            ABANDONED.clone(),
        );
        registry.register(
            "postgres_errors",
            "Failed PostgreSQL operations of the history sink",
            POSTGRES_ERRORS.clone(),
        );
        registry.register(
            "history_buffer_jobs",
            "Job records waiting in the history sink's buffer",
            HISTORY_BUFFER.clone(),
        );
        registry.register(
            "webhooks",
            "Webhook requests of jobs (RQ's enqueue(webhooks=...)), by outcome: sent (2xx), failed, dropped",
            WEBHOOKS.clone(),
        );
        for outcome in WEBHOOK_OUTCOMES {
            let _ = WEBHOOKS.get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            });
        }
        for op in REDIS_OPS {
            let _ = REDIS_ERRORS.get_or_create(&OpLabels { op: op.to_string() });
        }
        Metrics { registry, ..m }
    }

    /// Sets the history buffer gauge (same gauge as [`set_history_buffer`]).
    pub fn set_history_buffer(&self, n: i64) {
        set_history_buffer(n);
    }

    /// The exposition: OpenMetrics text when `openmetrics`, else Prometheus text 0.0.4.
    pub fn encode(&self, openmetrics: bool) -> String {
        let mut out = String::new();
        let r = if openmetrics {
            prometheus_client::encoding::text::encode(&mut out, &self.registry)
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        };
        if let Err(e) = r {
            tracing::warn!("encoding metrics failed: {e}");
        }
        out
    }

    /// Why `/healthz` should fail, if it should.
    pub fn problem(&self) -> Option<String> {
        self.problem.lock().map(|p| p.clone()).unwrap_or(None)
    }

    pub(crate) fn set_problem(&self, problem: Option<String>) {
        if let Ok(mut p) = self.problem.lock() {
            *p = problem;
        }
    }
}

impl Metrics {
    /// The labels of a job: its queue, and as `task` the registered task that ran it; for a job
    /// no task ran (a Python job run by `--python`, an unknown function) its function name, or
    /// for the backend's wrapper the task it asks for (its first argument), the first
    /// [`MAX_FUNCTION_LABELS`] of them (then `other`); `unknown` when its data named no
    /// function the worker could read.
    fn job_labels(
        &self,
        queue: &str,
        task: Option<&str>,
        func_name: Option<&str>,
        args: &[Value],
    ) -> JobLabels {
        let requested = requested_task(func_name, args);
        let task = match (task, requested.or(func_name)) {
            (Some(task), _) => task.to_string(),
            (None, Some(name)) => self.function_label(name),
            (None, None) => "unknown".to_string(),
        };
        JobLabels {
            queue: queue.to_string(),
            task,
        }
    }

    fn function_label(&self, func: &str) -> String {
        let Ok(mut seen) = self.function_labels.lock() else {
            return "other".to_string();
        };
        if seen.contains(func) {
            return func.to_string();
        }
        if seen.len() < MAX_FUNCTION_LABELS {
            seen.insert(func.to_string());
            return func.to_string();
        }
        "other".to_string()
    }
}

impl Observer for Metrics {
    /// Starts the queue-depth sampler.
    fn worker_started(self: std::sync::Arc<Self>, worker: &rq_worker::events::WorkerInfo) {
        let handle = sampler::spawn(
            self.clone(),
            worker.con.clone(),
            worker.keys.clone(),
            worker.queues.clone(),
            worker.free_slots.clone(),
            sampler::INTERVAL,
        );
        if let Ok(mut s) = self.sampler.lock() {
            if let Some(old) = s.replace(handle) {
                old.abort();
            }
        }
    }

    fn stop(&self, _deadline: tokio::time::Instant) -> rq_worker::events::StopFuture<'_> {
        if let Some(s) = self.sampler.lock().ok().and_then(|mut s| s.take()) {
            s.abort();
        }
        Box::pin(std::future::ready(()))
    }

    fn job_started(&self, ev: &JobStarted<'_>) {
        let queue = QueueLabels {
            queue: ev.exec.queue.clone(),
        };
        self.started
            .get_or_create(&self.job_labels(&ev.exec.queue, ev.task, ev.func_name, ev.args))
            .inc();
        self.in_flight.get_or_create(&queue).inc();
        if let Some(enqueued) = ev.hash.enqueued_at().as_deref().and_then(parse_datetime) {
            let waited = (ev.exec.started_at - enqueued)
                .num_microseconds()
                .unwrap_or(0);
            self.wait
                .get_or_create(&queue)
                .observe(waited.max(0) as f64 / 1e6);
        }
    }

    fn redis_error(&self, op: &'static str) {
        redis_error(op);
    }

    fn job_abandoned(&self, queue: &str) {
        job_abandoned(queue);
    }

    fn job_ended(&self, ev: &JobEnded<'_>) {
        let labels = self.job_labels(&ev.exec.queue, ev.task, ev.func_name, ev.args);
        let counter = match ev.kind {
            EndKind::Finished => &self.finished,
            EndKind::Failed => &self.failed,
            EndKind::Retried => &self.retried,
            EndKind::Stopped => &self.stopped,
        };
        counter.get_or_create(&labels).inc();
        self.duration.get_or_create(&labels).observe(ev.duration);
        self.in_flight
            .get_or_create(&QueueLabels {
                queue: ev.exec.queue.clone(),
            })
            .dec();
    }
}
