//! A worker with your own tasks, built on the `task_worker` crate without editing it.
//!
//! ```sh
//! cargo run --example custom_tasks -- --queues default --redis-url redis://127.0.0.1:6379
//! ```
//! and from Python:
//! ```python
//! q = rq.Queue("default", connection=redis.Redis())
//! job = q.enqueue("myapp.tasks.add", 1, b=2)        # -> 3
//! job = q.enqueue("myapp.tasks.greet", "Ada")       # -> {"greeting": "Hello, Ada!", "count": 1}
//! ```
//! It takes every option of `task-worker run` (`--queues`, `REDIS_URL`, `--concurrency`, ...).
//! With `EXAMPLE_TEST_TASKS=1` it also registers two tasks the test suite uses to check that
//! a panicking or thread-blocking handler cannot hang the worker.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use task_worker::tasks::{TaskContext, TaskError};
use task_worker::{Shutdown, Worker};

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

fn main() -> ExitCode {
    let cfg = match task_worker::cli::run_config(std::env::args_os()) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    task_worker::logging::init(cfg.log_format);
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
            eprintln!("error: {}", task_worker::error_text(&e));
            ExitCode::FAILURE
        }
    }
}
