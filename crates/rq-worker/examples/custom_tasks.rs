//! A worker with your own tasks, built on the `rq-worker` library alone.
//!
//! ```sh
//! cargo run -p rq-worker --example custom_tasks -- --queues default --redis-url redis://127.0.0.1:6379
//! ```
//! and from Python:
//! ```python
//! q = rq.Queue("default", connection=redis.Redis())
//! job = q.enqueue("myapp.tasks.add", 1, b=2)        # -> 3
//! job = q.enqueue("myapp.tasks.greet", "Ada")       # -> {"greeting": "Hello, Ada!", "count": 1}
//! ```
//! Its few options are read by hand ([`options`]): `--redis-url URL` (or `REDIS_URL`),
//! `-q/--queues a,b`, `--concurrency N`, `--shutdown-timeout SECONDS` and `--burst`; the
//! library takes a [`Config`] and parses no command line.
//! With `EXAMPLE_TEST_TASKS=1` it also registers two tasks the test suite uses to check that
//! a panicking or thread-blocking handler cannot hang the worker.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rq_worker::{Config, Shutdown, TaskContext, TaskError, Worker};
use serde::{Deserialize, Serialize};

/// `add(a, b=0)`: positional arguments bind to the fields in order, keywords by name.
#[derive(Deserialize)]
struct Add {
    a: i64,
    #[serde(default)]
    b: i64,
}

async fn add(p: Add, _ctx: TaskContext) -> Result<i64, TaskError> {
    Ok(p.a + p.b)
}

/// `greet(name)`: uses shared state given to the builder with `.data(..)`.
#[derive(Deserialize)]
struct Greet {
    name: String,
}

/// Shared by every job: `ctx.data::<Greeter>()`.
struct Greeter {
    salutation: String,
    count: AtomicU64,
}

#[derive(Serialize)]
struct Greeting {
    greeting: String,
    count: u64,
}

async fn greet(p: Greet, ctx: TaskContext) -> Result<Greeting, TaskError> {
    let Some(greeter) = ctx.data::<Greeter>() else {
        return Err(TaskError::new(
            "RuntimeError",
            "no Greeter was given to the worker",
        ));
    };
    if p.name.is_empty() {
        return Err(TaskError::value_error("name must not be empty"));
    }
    Ok(Greeting {
        greeting: format!("{}, {}!", greeter.salutation, p.name),
        count: greeter.count.fetch_add(1, Ordering::Relaxed) + 1,
    })
}

/// The worker's configuration from this example's command line.
fn options(mut args: impl Iterator<Item = String>) -> Result<Config, String> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into());
    let mut cfg = Config::new(url);
    while let Some(flag) = args.next() {
        if flag == "--burst" {
            cfg.burst = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v:?}: {e}"));
        match flag.as_str() {
            "--redis-url" => cfg.redis_url = value,
            "-q" | "--queues" => cfg.queues = value.split(',').map(str::to_string).collect(),
            "--concurrency" => cfg.concurrency = number(&value)? as usize,
            "--shutdown-timeout" => {
                cfg.shutdown_timeout = std::time::Duration::from_secs(number(&value)?)
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    cfg.validate().map_err(|e| e.to_string())?;
    Ok(cfg)
}

fn main() -> ExitCode {
    let cfg = match options(std::env::args().skip(1)) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A closure may capture state of its own, here a per-process job counter.
    let calls = Arc::new(AtomicU64::new(0));
    let counted = {
        let calls = calls.clone();
        move |(): (), _ctx: TaskContext| {
            let n = calls.fetch_add(1, Ordering::Relaxed) + 1;
            async move { Ok::<u64, TaskError>(n) }
        }
    };
    let mut worker = Worker::builder(cfg)
        .task("myapp.tasks.add", add)
        .task("myapp.tasks.greet", greet)
        .task("myapp.tasks.count", counted)
        .data(Greeter {
            salutation: "Hello".into(),
            count: AtomicU64::new(0),
        });
    if std::env::var_os("EXAMPLE_TEST_TASKS").is_some_and(|v| v == "1") {
        worker = worker
            .task(
                "myapp.tasks.explode",
                |p: Greet, _ctx: TaskContext| async move {
                    if p.name == "boom" {
                        panic!("exploded on {}", p.name);
                    }
                    Ok::<_, TaskError>(p.name)
                },
            )
            .task(
                "myapp.tasks.block",
                |secs: (u64,), _ctx: TaskContext| async move {
                    // Blocks its thread and ignores cancellation: the worst a handler can do.
                    std::thread::sleep(std::time::Duration::from_secs(secs.0));
                    Ok::<_, TaskError>(())
                },
            );
    }
    let result = runtime.block_on(async { worker.run(Shutdown::on_signals()).await });
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
