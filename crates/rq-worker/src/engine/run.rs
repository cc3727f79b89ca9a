//! A worker's life: connect, run the start-up checks, register, start the periodic tasks,
//! dispatch until asked to stop, drain, and register the death.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use tracing::{info, warn};

use super::shutdown::{Phase, Shutdown};
use super::slots::{Cancel, Slots};
use super::state::Engine;
use super::writer::Writer;
use super::{commands, connect, dispatch, heartbeat, maintenance, rate_limits, rescue, scheduler};
use crate::config::Config;
use crate::events::Observer;
use crate::redact::redact_url;
use crate::rq::codec::Limits;
use crate::rq::keys::Keys;
use crate::rq::lifecycle::{self};
use crate::rq::time::now;
use crate::tasks::{DataMap, Registry};

/// A check run once Redis answers and before the first job is taken (e.g. waiting for a
/// service the tasks need). It gets the worker's [`Shutdown`] so that it can stop waiting when
/// asked; `false` ends the run cleanly without taking a job.
pub type StartupCheck = Box<
    dyn FnOnce(Shutdown) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>
        + Send,
>;

/// What the worker runs with besides its configuration (assembled by
/// [`crate::worker::WorkerBuilder`]).
pub struct Parts {
    /// The tasks, handlers already layered ([`Registry::layered`]).
    pub tasks: Registry,
    pub data: DataMap,
    /// Sinks told about every job start and end; stopped ([`Observer::stop`]) at exit.
    pub observers: Vec<Arc<dyn Observer>>,
    /// Run in order once Redis answers, before the first job ([`StartupCheck`]).
    pub startup_checks: Vec<StartupCheck>,
    /// Runs the jobs no registered task claims ([`crate::tasks::fallback`]).
    pub fallback: Option<Arc<dyn crate::tasks::Fallback>>,
    /// Sends the jobs' webhooks ([`crate::webhooks`]).
    pub webhooks: Option<Arc<dyn crate::webhooks::WebhookSender>>,
}

/// Runs the worker until `shutdown` asks it to stop (or, in burst mode, until the queues are
/// drained). Every job that started has ended, one way or another, when this returns.
pub async fn run(cfg: Config, parts: Parts, shutdown: Shutdown) -> anyhow::Result<ExitCode> {
    let Parts {
        tasks,
        data,
        observers,
        startup_checks,
        fallback,
        webhooks,
    } = parts;
    info!(
        queues = %cfg.queues.join(","),
        redis = %redact_url(&cfg.redis_url),
        concurrency = cfg.concurrency,
        serializer = cfg.serializer.name(),
        burst = cfg.burst,
        "worker {} starting", cfg.name
    );
    let redis = crate::connection::Redis::new(&cfg)?;
    let Some(mut con) = connect::wait_for_redis(&redis, &cfg.redis_url, &shutdown).await else {
        info!("shutdown requested before Redis was reachable");
        return Ok(ExitCode::SUCCESS);
    };
    // From here on, with Sentinel, every connection follows the master through failovers.
    redis.start();
    let _following = StopFollowing(redis.clone());
    let version = connect::check_server_version(&mut con).await?;
    info!(redis_version = %version, "Redis server version ok");
    for check in startup_checks {
        if !check(shutdown.clone()).await {
            info!("a start-up check ended the run before any job was taken");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let names = tasks.names();
    info!("Registered {} task types: {:?}", names.len(), names);

    let keys = Keys::new(&cfg.key_prefix);
    // Deferred starts are written on a timer of the runtime. With several runtime threads a
    // handler that blocks its thread can stall the runtime's timers, and its job would not show
    // `started` while it runs (nor could a blocked thread's batch be written): there every start
    // is written before its job runs. With one thread (the binary's default) such a handler
    // stops every task anyway.
    let defer_start = if tokio::runtime::Handle::current().metrics().num_workers() == 1 {
        cfg.defer_start
    } else {
        if !cfg.defer_start.is_zero() {
            info!("several runtime threads: job starts are written before their jobs run (no deferred starts)");
        }
        Duration::ZERO
    };
    let ip_address = connect::own_address(&mut con).await;
    let engine = Arc::new(Engine {
        slots: Slots::new(&cfg.name, cfg.concurrency),
        writer: Writer::spawn(
            con.clone(),
            keys.clone(),
            observers.clone(),
            defer_start,
            idle_worker_ttl(&cfg),
        ),
        hostname: gethostname::gethostname().to_string_lossy().into_owned(),
        keys,
        redis,
        con,
        shutdown: shutdown.clone(),
        limits: Limits::default(),
        ip_address,
        release_script: redis::Script::new(crate::rq::dependents::RELEASE_SCRIPT),
        rescue: rescue::Rescue::default(),
        rate_limits: rate_limits::RateLimits::default(),
        webhooks,
        observers,
        tasks,
        fallback,
        data,
        cfg,
    });

    // Subscribed before registered: see `commands::subscribe`. If it fails, `listen` tries again.
    let pubsub = commands::subscribe(&engine)
        .await
        .inspect_err(|e| warn!("cannot subscribe to the workers' command channels yet: {e}"))
        .ok();
    register_births(&engine).await?;
    let commands = tokio::spawn(commands::listen(engine.clone(), pubsub));
    let heartbeat = tokio::spawn(heartbeat::run(engine.clone()));
    let rescuer = tokio::spawn(rescue::run(engine.clone()));
    let info = crate::events::WorkerInfo {
        con: engine.con.clone(),
        keys: engine.keys.clone(),
        queues: engine.cfg.queues.clone(),
        free_slots: {
            let e = engine.clone();
            Arc::new(move || {
                if e.shutdown.requested() {
                    0
                } else {
                    e.slots.free_count() as i64
                }
            })
        },
    };
    for o in &engine.observers {
        o.clone().worker_started(&info);
    }
    maintenance::run_once(&engine).await;
    let maintenance = tokio::spawn(maintenance::run(engine.clone()));
    let scheduler = if !engine.cfg.with_scheduler {
        None
    } else if engine.cfg.burst {
        scheduler::Scheduler::new(engine.clone()).run_once().await;
        None
    } else {
        Some(tokio::spawn(
            scheduler::Scheduler::new(engine.clone()).run(),
        ))
    };

    // On a runtime with one worker thread (the binary's default) the dispatcher runs as a task
    // on that thread, with the executors, the end writer and the Redis connection it talks to,
    // so that no wake-up crosses threads per batch (issue 17: about 15 % less worker CPU per
    // job). With more threads it stays on this future (the main thread): there, a handler that
    // blocks one worker thread cannot hold up the dispatcher, and the shutdown still drains and
    // force-ends the job (with one thread such a handler stops every task anyway).
    let one_worker_thread = tokio::runtime::Handle::current().metrics().num_workers() == 1;
    let dispatch_result = if one_worker_thread {
        match tokio::spawn(dispatch::run(engine.clone())).await {
            Ok(r) => r,
            Err(e) => Err(anyhow::anyhow!("dispatcher task ended abnormally: {e}")),
        }
    } else {
        dispatch::run(engine.clone()).await
    };
    let stopping_since = tokio::time::Instant::now();
    drain(&engine).await;
    rescuer.abort();
    rescue::flush(&engine).await;
    // A burst run ends without a signal: tell the periodic tasks to stop now rather than
    // letting maintenance sit out its 5 s grace below.
    engine.shutdown.escalate(Phase::Warm);
    if let Some(s) = scheduler {
        // It sees the shutdown within a second and releases its locks.
        let _ = tokio::time::timeout(Duration::from_secs(5), s).await;
    }
    // It returns at the shutdown signal; give a pass in progress a moment to release its lock.
    let _ = tokio::time::timeout(Duration::from_secs(5), maintenance).await;
    // Sinks write out what they hold (history rows, trace spans), bounded by the shutdown
    // timeout counted from the stop, with a little time to write even when the drain used it.
    let deadline = (stopping_since + engine.cfg.shutdown_timeout)
        .max(tokio::time::Instant::now() + Duration::from_secs(2));
    // Webhooks still in flight get a short grace (`webhooks::SHUTDOWN_GRACE`) meanwhile.
    let observers = async {
        for o in &engine.observers {
            o.stop(deadline).await;
        }
    };
    tokio::join!(observers, super::webhooks::stop(&engine, deadline));
    heartbeat.abort();
    commands.abort();
    register_deaths(&engine).await;
    info!("task-worker stopped");
    dispatch_result.map(|()| ExitCode::SUCCESS)
}

/// RQ's `worker_ttl + 60`: how long an idle worker's key lives between heartbeats.
pub(super) fn idle_worker_ttl(cfg: &Config) -> i64 {
    i64::try_from(cfg.worker_ttl.as_secs())
        .unwrap_or(i64::MAX / 2)
        .saturating_add(60)
}

/// `register_birth` for every slot (§6.2). Like RQ, refuses a name whose worker is alive.
async fn register_births(engine: &Engine) -> anyhow::Result<()> {
    let mut con = engine.con.clone();
    for name in engine.slots.names() {
        let mut p = redis::pipe();
        lifecycle::check_name(&mut p, &engine.keys, name);
        let replies: (bool, bool) = p
            .query_async(&mut con)
            .await
            .context("checking for a worker of the same name")?;
        if lifecycle::name_taken(replies) {
            bail!("There exists an active worker named '{name}' already");
        }
    }
    let mut p = redis::pipe();
    p.atomic();
    let at = now();
    for name in engine.slots.names() {
        lifecycle::birth(&mut p, &engine.keys, &engine.record(name), at);
        p.cmd("EXPIRE")
            .arg(engine.keys.worker(name))
            .arg(engine.idle_worker_ttl())
            .ignore();
    }
    p.query_async::<()>(&mut con)
        .await
        .context("registering the worker")?;
    info!(workers = engine.slots.names().len(), first = %engine.slots.name(0), "worker registered");
    Ok(())
}

/// After dequeuing stopped: wait for running jobs (bounded by the shutdown timeout), then cancel
/// what is left so that nothing stays `started` (§6.9).
async fn drain(engine: &Engine) {
    if engine.slots.active_count() == 0 {
        return;
    }
    if engine.shutdown.requested() {
        let at = now();
        let mut p = redis::pipe();
        for b in engine.slots.busy() {
            lifecycle::shutdown_requested(&mut p, &engine.keys, &b.exec.worker, at);
        }
        let mut con = engine.con.clone();
        if let Err(e) = p.query_async::<()>(&mut con).await {
            warn!("could not record the shutdown request: {e}");
        }
        info!(
            running = engine.slots.active_count(),
            timeout_s = engine.cfg.shutdown_timeout.as_secs(),
            "waiting for running jobs to finish"
        );
    }
    let deadline = tokio::time::Instant::now() + engine.cfg.shutdown_timeout;
    let mut cancelled = false;
    let mut cancelled_at = None;
    while engine.slots.active_count() > 0 {
        let cold = !cancelled
            && (engine.shutdown.phase() == Phase::Cold || tokio::time::Instant::now() >= deadline);
        if cold && engine.shutdown.requested() {
            let (why, what) = if engine.cfg.requeue_on_shutdown {
                (
                    Cancel::Requeue,
                    "putting them back at the front of their queues",
                )
            } else {
                (Cancel::Shutdown, "failing them")
            };
            warn!(
                running = engine.slots.active_count(),
                "shutdown timeout over: cancelling running jobs, {what}"
            );
            engine.slots.cancel_all(why);
            cancelled = true;
            cancelled_at = Some(tokio::time::Instant::now());
        }
        if let Some(at) = cancelled_at {
            if tokio::time::Instant::now() >= at + FORCE_END_AFTER {
                force_ends(engine).await;
                return;
            }
        }
        tokio::select! {
            _ = engine.slots.freed() => {}
            _ = engine.shutdown.reached(Phase::Cold) , if !cancelled => {}
            _ = tokio::time::sleep_until(deadline), if !cancelled => {}
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
}

/// How long cancelled jobs get to end on their own before the drain writes their end itself.
const FORCE_END_AFTER: Duration = Duration::from_secs(5);

/// The last resort of a drain: jobs still running after being cancelled (a handler blocking
/// its thread, say) are ended from here (handed back or failed, as a cancelled job would be),
/// so that the process can exit with nothing left `started`. The end script skips a job whose
/// end was written already, so a late end from its executor changes nothing.
async fn force_ends(engine: &Engine) {
    let busy = engine.slots.busy();
    warn!(
        running = busy.len(),
        "jobs still running {}s after being cancelled: ending them from the shutdown",
        FORCE_END_AFTER.as_secs()
    );
    for b in busy {
        use crate::rq::{failure, lifecycle::JobEnd};
        let ending = if engine.cfg.requeue_on_shutdown {
            JobEnd::Requeue {
                reason: "task-worker was shut down; the job did not stop when cancelled".into(),
            }
        } else {
            JobEnd::Failure {
                status: crate::rq::job::status::FAILED,
                failure_ttl: None,
                exc_string: failure::exc_string(
                    "?",
                    &format!(
                        "{}: {}; it did not stop when cancelled",
                        failure::SHUTDOWN_IMMINENT,
                        failure::SHUTDOWN_MESSAGE
                    ),
                ),
            }
        };
        let job_id = b.exec.job_id.clone();
        let write = engine.writer.finish(b.exec, ending, now());
        match tokio::time::timeout(Duration::from_secs(5), write).await {
            Ok(_) => warn!(job_id = %job_id, "job ended by the shutdown"),
            Err(_) => {
                warn!(job_id = %job_id, "could not write the end of a job before exiting; another worker's maintenance will fail it as abandoned")
            }
        }
    }
}

async fn register_deaths(engine: &Engine) {
    let mut p = redis::pipe();
    p.atomic();
    let at = now();
    for name in engine.slots.names() {
        lifecycle::death(&mut p, &engine.keys, name, &engine.cfg.queues, at);
    }
    let mut con = engine.con.clone();
    let mut backoff = crate::backoff::Backoff::constant(Duration::from_millis(500));
    for attempt in 1..=5 {
        match p.query_async::<()>(&mut con).await {
            Ok(()) => return,
            Err(e) => {
                warn!(attempt, "could not register the worker's death: {e}");
                backoff.wait().await;
            }
        }
    }
}

/// Stops following the master when the run ends, however it ends.
struct StopFollowing(crate::connection::Redis);

impl Drop for StopFollowing {
    fn drop(&mut self) {
        self.0.stop();
    }
}
