//! The operator commands against a private Redis and real task-worker processes:
//! `health`, `status`, `submit`, `suspend`/`resume`, `requeue`; `/metrics` and JSON logs in
//! tests/ops/metrics_logs.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;
// `/metrics` and JSON logs.
#[path = "ops/metrics_logs.rs"]
mod metrics_logs;

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use common::worker::{run_to_end, worker_command, Out, Worker};
use common::{free_port, wait_until, RedisServer};
use redis::Commands;

/// Variables the commands read; cleared so the developer's environment cannot leak in.
const ENV: [&str; 12] = [
    "REDIS_URL",
    "REDIS_PASSWORD",
    "RQ_KEY_PREFIX",
    "RQ_SERIALIZER",
    "METRICS_ADDR",
    "TASK_QUEUES",
    "LOG_FORMAT",
    "TASK_CONCURRENCY",
    "EXECUTION_BACKEND_API_URL",
    "POSTGRES_URL",
    "POSTGRES_HOST",
    "HISTORY_BUFFER",
];

/// The worker binary with `args`, none of the variables of [`ENV`] set.
fn command(args: &[&str]) -> Command {
    let mut cmd = worker_command(&ENV);
    cmd.args(args);
    cmd
}

/// Runs a subcommand to completion (killed and failed after 60 s, which never happens when it
/// works: every command bounds its own waits).
fn run(args: &[&str]) -> Out {
    run_to_end(&mut command(args), &format!("task-worker {args:?}"), 60)
}

impl Worker {
    /// A `task-worker` in run mode on the Redis at `url` with `args`.
    fn start(url: &str, args: &[&str]) -> Worker {
        let mut full = vec!["--redis-url", url];
        full.extend_from_slice(args);
        Worker::spawn(command(&full).env("RUST_LOG", "info"), "ops-worker", false)
    }

    /// Starts a worker named `name` with `args` (after `-n name`) and waits until it is registered.
    fn start_registered(
        url: &str,
        con: &mut redis::Connection,
        name: &str,
        args: &[&str],
    ) -> Worker {
        let w = Worker::start(url, &[&["-n", name], args].concat());
        wait_until("registration", 30, || registered(con, name).then_some(()));
        w
    }
}

fn registered(con: &mut redis::Connection, name: &str) -> bool {
    con.sismember("rq:workers", format!("rq:worker:{name}"))
        .unwrap()
}

fn worker_field(con: &mut redis::Connection, name: &str, field: &str) -> Option<String> {
    con.hget(format!("rq:worker:{name}"), field).unwrap()
}

fn job_status(con: &mut redis::Connection, id: &str) -> Option<String> {
    con.hget(format!("rq:job:{id}"), "status").unwrap()
}

/// `submit` and the job id it printed.
fn submit(url: &str, args: &[&str]) -> String {
    let mut full = vec!["submit", "--redis-url", url];
    full.extend_from_slice(args);
    let out = run(&full);
    assert_eq!(out.code(), 0, "submit failed: {}", out.stderr);
    out.stdout.lines().next().unwrap().trim().to_string()
}

// ---------------------------------------------------------------------------------- health --

#[test]
fn health_follows_the_worker_of_this_host() {
    let redis = RedisServer::start();
    let url = redis.url();
    let mut con = redis.con();
    let health = || run(&["health", "--redis-url", &url]);

    let out = health();
    assert_eq!(out.code(), 1, "no worker yet: {}", out.stdout);
    assert!(
        out.stdout.starts_with("unhealthy: no worker"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.lines().count(), 1);
    // Redis alone is fine.
    let out = run(&["health", "--redis-url", &url, "--redis-only"]);
    assert_eq!(out.code(), 0, "{}", out.stdout);

    let mut w = Worker::start_registered(&url, &mut con, "probe-me", &["-q", "default"]);
    let out = health();
    assert_eq!(out.code(), 0, "{}{}", out.stdout, w.log());
    assert!(
        out.stdout.starts_with("healthy: worker probe-me"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("pid {}", w.pid())),
        "{}",
        out.stdout
    );
    // --name selects it; another name finds nothing.
    assert_eq!(
        run(&["health", "--redis-url", &url, "-n", "probe-me"]).code(),
        0
    );
    assert_eq!(
        run(&["health", "--redis-url", &url, "-n", "other"]).code(),
        1
    );

    // Worker gone (clean shutdown deregisters it).
    w.signal(libc::SIGTERM);
    assert!(w.wait(30).success());
    let out = health();
    assert_eq!(out.code(), 1, "{}", out.stdout);
    assert!(out.stdout.starts_with("unhealthy:"), "{}", out.stdout);
}

#[test]
fn health_sees_a_killed_worker_whose_hash_is_fresh() {
    let redis = RedisServer::start();
    let url = redis.url();
    let mut con = redis.con();
    let mut w = Worker::start_registered(&url, &mut con, "killed", &["-q", "default"]);
    assert_eq!(run(&["health", "--redis-url", &url]).code(), 0);
    let pid = w.pid();
    w.signal(libc::SIGKILL);
    w.wait(30);
    // The hash and its recent heartbeat stay; only the pid check can tell.
    assert!(registered(&mut con, "killed"));
    let out = run(&["health", "--redis-url", &url]);
    assert_eq!(out.code(), 1, "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("pid {pid} is not running")),
        "{}",
        out.stdout
    );
}

#[test]
fn health_judges_heartbeat_age() {
    let redis = RedisServer::start();
    let url = redis.url();
    let mut con = redis.con();
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    // A worker hash as Python RQ writes it, for a live process (this test) on this host.
    let mut fake = |name: &str, age_s: i64| {
        let hb = (chrono::Utc::now() - chrono::Duration::seconds(age_s))
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string();
        let key = format!("rq:worker:{name}");
        let _: () = redis::pipe()
            .hset_multiple(
                &key,
                &[
                    ("hostname", host.as_str()),
                    ("pid", &std::process::id().to_string()),
                    ("last_heartbeat", &hb),
                    ("state", "idle"),
                ],
            )
            .sadd("rq:workers", &key)
            .query(&mut con)
            .unwrap();
    };
    fake("stale", 120);
    let out = run(&["health", "--redis-url", &url]);
    assert_eq!(out.code(), 1, "{}", out.stdout);
    assert!(out.stdout.contains("limit 60s"), "{}", out.stdout);
    // A longer limit accepts it.
    let out = run(&["health", "--redis-url", &url, "--max-heartbeat-age", "300"]);
    assert_eq!(out.code(), 0, "{}", out.stdout);
    fake("fresh", 1);
    assert_eq!(run(&["health", "--redis-url", &url]).code(), 0);
}

#[test]
fn health_fails_when_redis_is_down() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let out = run(&["health", "--redis-url", &url]);
    assert_eq!(out.code(), 1, "{}", out.stdout);
    assert!(out.stdout.starts_with("unhealthy:"), "{}", out.stdout);
    assert_eq!(out.stdout.lines().count(), 1);
    assert_eq!(
        run(&["health", "--redis-url", &url, "--redis-only"]).code(),
        1
    );
}

#[test]
fn health_gives_up_on_a_hanging_redis() {
    // Accepts connections and never answers a byte.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let url = format!("redis://127.0.0.1:{port}");
    for extra in [&[][..], &["--redis-only"][..]] {
        let mut args = vec!["health", "--redis-url", &url, "--timeout", "1"];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert_eq!(out.code(), 1, "{}", out.stdout);
        assert!(out.stdout.starts_with("unhealthy:"), "{}", out.stdout);
        assert_eq!(out.stdout.lines().count(), 1);
    }
}

#[test]
fn health_authenticates() {
    let redis = RedisServer::start_with(&["--requirepass", "s3cret"]);
    let url = redis.url();
    let out = run(&["health", "--redis-url", &url, "--redis-only"]);
    assert_eq!(out.code(), 1, "{}", out.stdout);
    // The password from the environment (on the command line it is refused).
    let out = command(&["health", "--redis-url", &url, "--redis-only"])
        .env("REDIS_PASSWORD", "s3cret")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("s3cret"));
    let out = run(&[
        "health",
        "--redis-url",
        &url,
        "--redis-password",
        "s3cret",
        "--redis-only",
    ]);
    assert_eq!(out.code(), 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("--redis-password is refused")
            && out.stderr.contains("REDIS_PASSWORD_FILE"),
        "{}",
        out.stderr
    );
    assert_eq!(run(&["health", "--timeout", "0"]).code(), 2);
}

// ---------------------------------------------------------------------------------- status --

#[test]
fn status_reports_a_known_state_and_changes_nothing() {
    let redis = RedisServer::start();
    let url = redis.url();
    let mut con = redis.con();
    // A worker on another queue, so the jobs below stay where they are.
    let _w = Worker::start_registered(&url, &mut con, "status-w", &["-q", "elsewhere"]);
    let a = submit(&url, &["echo", "value=1"]);
    submit(&url, &["echo", "value=2"]);
    submit(&url, &["noop", "--priority", "7"]);
    let _: () = redis::pipe()
        .zadd("rq:wip:default", "gone:abc", 1) // stale: `rq info` would clean it up
        .zadd("rq:deferred:default", "d1", 1)
        .zadd("rq:scheduled:default", "s1", 1)
        .zadd("rq:scheduled:default", "s2", 1)
        .zadd("rq:finished:default", "f1", 1)
        .zadd("rq:failed:default", "x1", 1)
        .zadd("rq:failed:default", "x2", 1)
        .zadd("rq:failed:default", "x3", 1)
        .sadd("rq:queues", "rq:queue:custom")
        .rpush("rq:queue:custom", "c1")
        .sadd("rq:workers", "rq:worker:vanished") // no hash: skipped, not removed
        .set_ex("rq:suspended", 1, 100)
        .query(&mut con)
        .unwrap();
    let before: Vec<String> = con.keys("*").unwrap();

    let out = run(&["status", "--redis-url", &url, "--json"]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["redis"]["ok"], true);
    assert_eq!(doc["suspended"], true);
    let ttl = doc["suspended_ttl"].as_i64().unwrap();
    assert!(ttl > 0 && ttl <= 100);
    let queues: Vec<&str> = doc["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        queues,
        ["high_priority", "default", "low_priority", "custom"]
    );
    let q = |name: &str| {
        doc["queues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["name"] == name)
            .unwrap()
            .clone()
    };
    let d = q("default");
    let counts: Vec<u64> = [
        "queued",
        "started",
        "deferred",
        "scheduled",
        "finished",
        "failed",
    ]
    .iter()
    .map(|k| d[k].as_u64().unwrap())
    .collect();
    assert_eq!(counts, [2, 1, 1, 2, 1, 3]);
    assert_eq!(q("high_priority")["queued"], 1);
    assert_eq!(q("custom")["queued"], 1);
    let workers = doc["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 1, "{workers:?}");
    let w = &workers[0];
    assert_eq!(w["name"], "status-w");
    assert_eq!(
        w["hostname"],
        gethostname::gethostname().to_string_lossy().as_ref()
    );
    assert_eq!(w["pid"].as_i64().unwrap(), i64::from(_w.pid()));
    assert_eq!(w["queues"], serde_json::json!(["elsewhere"]));
    assert!(w["last_heartbeat_age"].as_f64().unwrap() < 60.0);

    let out = run(&["status", "--redis-url", &url]);
    assert_eq!(out.code(), 0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("Redis connection: OK"),
        "{}",
        out.stdout
    );
    assert!(lines[1].starts_with("Suspended: YES"), "{}", out.stdout);
    let order: Vec<usize> = ["high_priority ", "default ", "low_priority "]
        .iter()
        .map(|q| lines.iter().position(|l| l.starts_with(q)).unwrap())
        .collect();
    assert!(order[0] < order[1] && order[1] < order[2], "{}", out.stdout);
    assert!(out.stdout.contains("status-w"), "{}", out.stdout);

    // Read-only: the same keys, the stale entries still there.
    let mut after: Vec<String> = con.keys("*").unwrap();
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(before, after);
    assert!(registered(&mut con, "vanished"));
    let wip: Vec<String> = con.zrange("rq:wip:default", 0, -1).unwrap();
    assert_eq!(wip, ["gone:abc"]);
    assert_eq!(job_status(&mut con, &a).as_deref(), Some("queued"));
}

#[test]
fn status_fails_without_redis() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let out = run(&["status", "--redis-url", &url]);
    assert_eq!(out.code(), 1);
    assert!(
        out.stdout.starts_with("Redis connection: FAILED"),
        "{}",
        out.stdout
    );
    let out = run(&["status", "--redis-url", &url, "--json"]);
    assert_eq!(out.code(), 1);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["redis"]["ok"], false);
}

// ---------------------------------------------------------------------------------- submit --

#[test]
fn submit_enqueues_like_the_backend_and_waits() {
    let redis = RedisServer::start();
    let url = redis.url();
    let mut con = redis.con();
    // Refused before enqueueing.
    let out = run(&["submit", "--redis-url", &url, "no_such_task"]);
    assert_eq!(out.code(), 2);
    assert!(
        out.stderr.contains("example_long_running"),
        "{}",
        out.stderr
    );
    let out = run(&["submit", "--redis-url", &url, "echo", "novalue"]);
    assert_eq!(out.code(), 2);
    let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(n, 0);

    // The hash the backend's enqueue writes.
    let id = submit(
        &url,
        &["example_long_running", "duration=10", "--priority", "7"],
    );
    let h: HashMap<String, Vec<u8>> = con.hgetall(format!("rq:job:{id}")).unwrap();
    let text = |f: &str| String::from_utf8(h[f].clone()).unwrap();
    assert_eq!(text("status"), "queued");
    assert_eq!(text("origin"), "high_priority");
    assert_eq!(text("timeout"), "300");
    assert_eq!(
        text("description"),
        "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper(\
         'example_long_running', {'duration': 10}, delay=None, retry_limit=3)"
    );
    for f in [
        "started_at",
        "ended_at",
        "worker_name",
        "group_id",
        "last_heartbeat",
    ] {
        assert_eq!(text(f), "", "{f}");
    }
    let queued: Vec<String> = con.lrange("rq:queue:high_priority", 0, -1).unwrap();
    assert_eq!(queued, [id.as_str()]);
    assert!(con
        .sismember::<_, _, bool>("rq:queues", "rq:queue:high_priority")
        .unwrap());
    let payload = rq_protocol::codec::decode_data(
        &h["data"],
        rq_protocol::codec::Serializer::Pickle,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(payload.func_name, task_worker::tasks::BACKEND_WRAPPER);
    assert_eq!(payload.kwargs.len(), 2);

    // --wait against a running worker: the result, then an error.
    let _w = Worker::start(&url, &["-n", "submit-w", "-q", "default"]);
    let out = run(&[
        "submit",
        "--redis-url",
        &url,
        "echo",
        r#"value={"a": [1, 2.5, null]}"#,
        "--wait",
    ]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    let result: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(result, serde_json::json!({"a": [1, 2.5, null]}));
    assert_eq!(job_status(&mut con, lines[0]).as_deref(), Some("finished"));

    let out = run(&[
        "submit",
        "--redis-url",
        &url,
        "fail",
        "message=boom",
        "--wait",
    ]);
    assert_eq!(out.code(), 1);
    assert!(out.stderr.contains("Exception: boom"), "{}", out.stderr);

    // Nobody listens on low_priority: the wait ends unfinished.
    let out = run(&[
        "submit",
        "--redis-url",
        &url,
        "noop",
        "--priority",
        "-3",
        "--wait",
        "--timeout",
        "1",
    ]);
    assert_eq!(out.code(), 1);
    assert!(out.stderr.contains("did not end"), "{}", out.stderr);
}

// ------------------------------------------------------------------------- suspend, resume --

#[test]
fn suspend_and_resume_reach_a_running_worker() {
    let redis = RedisServer::start();
    let url = redis.url();
    let mut con = redis.con();
    let _w = Worker::start_registered(&url, &mut con, "susp", &["-q", "default"]);

    let out = run(&["suspend", "--redis-url", &url]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let v: Option<String> = con.get("rq:suspended").unwrap();
    assert_eq!(v.as_deref(), Some("1"));
    wait_until("state suspended", 30, || {
        (worker_field(&mut con, "susp", "state").as_deref() == Some("suspended")).then_some(())
    });
    let id = submit(&url, &["noop"]);
    // Several take attempts pass (the worker checks every second while suspended).
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(job_status(&mut con, &id).as_deref(), Some("queued"));
    let queued: Vec<String> = con.lrange("rq:queue:default", 0, -1).unwrap();
    assert_eq!(queued, [id.as_str()]);

    let out = run(&["resume", "--redis-url", &url]);
    assert_eq!(out.code(), 0);
    wait_until("the job to run after resume", 30, || {
        (job_status(&mut con, &id).as_deref() == Some("finished")).then_some(())
    });
    assert!(!con.exists::<_, bool>("rq:suspended").unwrap());

    // --duration sets an expiry, like `rq suspend --duration`.
    assert_eq!(
        run(&["suspend", "--redis-url", &url, "--duration", "50"]).code(),
        0
    );
    let ttl: i64 = con.ttl("rq:suspended").unwrap();
    assert!(ttl > 0 && ttl <= 50);
    assert_eq!(
        run(&["suspend", "--redis-url", &url, "--duration", "0"]).code(),
        2
    );
}

// ---------------------------------------------------------------------------------- requeue --

#[test]
fn requeue_puts_failed_jobs_back() {
    let redis = RedisServer::start();
    let url = redis.url();
    let mut con = redis.con();
    let ids: Vec<String> = (0..3)
        .map(|i| submit(&url, &["fail", &format!("message=m{i}")]))
        .collect();
    let burst = run(&["--redis-url", &url, "--burst", "-q", "default"]);
    assert_eq!(burst.code(), 0, "{}", burst.stderr);
    let failed: Vec<String> = con.zrange("rq:failed:default", 0, -1).unwrap();
    assert_eq!(failed.len(), 3);

    // One by id (registry found from the job's origin), then the rest with --all.
    let out = run(&["requeue", "--redis-url", &url, &ids[0]]);
    assert_eq!(out.code(), 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("Requeued 1 job(s)"), "{}", out.stdout);
    let h: HashMap<String, Vec<u8>> = con.hgetall(format!("rq:job:{}", ids[0])).unwrap();
    let text = |f: &str| String::from_utf8_lossy(&h[f]).into_owned();
    assert_eq!(text("status"), "queued");
    assert_eq!(text("started_at"), "");
    assert_eq!(text("ended_at"), "");
    assert!(!text("enqueued_at").is_empty());
    let queued: Vec<String> = con.lrange("rq:queue:default", 0, -1).unwrap();
    assert_eq!(queued, [ids[0].clone()]);

    // Not in the registry any more: refused, exit 1, nothing pushed twice.
    let out = run(&[
        "requeue",
        "--redis-url",
        &url,
        &ids[0],
        "--queue",
        "default",
    ]);
    assert_eq!(out.code(), 1);
    assert!(
        out.stderr.contains("not in the failed registry"),
        "{}",
        out.stderr
    );
    let out = run(&["requeue", "--redis-url", &url, "no-such-job"]);
    assert_eq!(out.code(), 1);

    let out = run(&[
        "requeue",
        "--redis-url",
        &url,
        "--all",
        "--queue",
        "default",
    ]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    assert!(out.stdout.contains("Requeued 2 job(s)"), "{}", out.stdout);
    assert_eq!(con.zcard::<_, i64>("rq:failed:default").unwrap(), 0);
    assert_eq!(con.llen::<_, i64>("rq:queue:default").unwrap(), 3);
    assert_eq!(run(&["requeue", "--redis-url", &url]).code(), 2);

    // They run again (and fail again).
    let burst = run(&["--redis-url", &url, "--burst", "-q", "default"]);
    assert_eq!(burst.code(), 0);
    assert_eq!(con.zcard::<_, i64>("rq:failed:default").unwrap(), 3);
    let out = run(&["requeue", "--redis-url", &url, "--all"]);
    assert!(out.stdout.contains("Requeued 3 job(s)"), "{}", out.stdout);
}
