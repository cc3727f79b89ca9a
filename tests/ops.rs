//! The operator commands against a private Redis and real task-worker processes:
//! `health`, `status`, `submit`, `suspend`/`resume`, `requeue`, `/metrics` and JSON logs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, temp_dir, worker_bin, RedisServer};
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

struct Out {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Out {
    fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(worker_bin());
    for v in ENV {
        cmd.env_remove(v);
    }
    cmd.args(args);
    cmd
}

/// Runs a subcommand to completion (killed and failed after 60 s, which never happens when it
/// works: every command bounds its own waits).
fn run(args: &[&str]) -> Out {
    let dir = temp_dir("ops-cmd");
    let (out_path, err_path) = (dir.join("out"), dir.join("err"));
    let mut child = command(args)
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("task-worker {args:?} did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = Out {
        status,
        stdout: std::fs::read_to_string(&out_path).unwrap(),
        stderr: std::fs::read_to_string(&err_path).unwrap(),
    };
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn wait_until<T>(what: &str, mut pred: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = pred() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `task-worker` (run mode), killed on drop.
struct Worker {
    child: Child,
    log: PathBuf,
}

impl Worker {
    fn start(url: &str, args: &[&str]) -> Worker {
        let dir = temp_dir("ops-worker");
        let log = dir.join("log");
        let mut full = vec!["--redis-url", url];
        full.extend_from_slice(args);
        let child = command(&full)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Worker { child, log }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(self.pid(), sig) };
    }

    fn wait(&mut self) -> ExitStatus {
        wait_until("the worker to exit", || self.child.try_wait().unwrap())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

    let mut w = Worker::start(&url, &["-n", "probe-me", "-q", "default"]);
    wait_until("registration", || {
        registered(&mut con, "probe-me").then_some(())
    });
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
    assert!(w.wait().success());
    let out = health();
    assert_eq!(out.code(), 1, "{}", out.stdout);
    assert!(out.stdout.starts_with("unhealthy:"), "{}", out.stdout);
}

#[test]
fn health_sees_a_killed_worker_whose_hash_is_fresh() {
    let redis = RedisServer::start();
    let url = redis.url();
    let mut con = redis.con();
    let mut w = Worker::start(&url, &["-n", "killed", "-q", "default"]);
    wait_until("registration", || {
        registered(&mut con, "killed").then_some(())
    });
    assert_eq!(run(&["health", "--redis-url", &url]).code(), 0);
    let pid = w.pid();
    w.signal(libc::SIGKILL);
    w.wait();
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
    let _w = Worker::start(&url, &["-n", "status-w", "-q", "elsewhere"]);
    wait_until("registration", || {
        registered(&mut con, "status-w").then_some(())
    });
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
    let _w = Worker::start(&url, &["-n", "susp", "-q", "default"]);
    wait_until("registration", || {
        registered(&mut con, "susp").then_some(())
    });

    let out = run(&["suspend", "--redis-url", &url]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let v: Option<String> = con.get("rq:suspended").unwrap();
    assert_eq!(v.as_deref(), Some("1"));
    wait_until("state suspended", || {
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
    wait_until("the job to run after resume", || {
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

// ---------------------------------------------------------------------------------- metrics --

fn http_get(port: u16, path: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n{accept}\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    let ctype = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap_or_default()
        .to_string();
    (code, ctype, body.to_string())
}

/// Samples by (name, sorted labels).
type Samples = HashMap<(String, Vec<(String, String)>), f64>;

/// A small parser of the Prometheus text format: `(name, sorted labels) -> value`, checking
/// that every sample belongs to a family announced by `# TYPE`.
fn parse_prometheus(text: &str) -> Samples {
    let mut families: Vec<(String, String)> = Vec::new();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            families.push((name.to_string(), kind.to_string()));
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), Vec::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap();
                let mut labels: Vec<(String, String)> = body
                    .split("\",")
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (k, v) = p.split_once("=\"").unwrap();
                        (k.to_string(), v.trim_end_matches('"').to_string())
                    })
                    .collect();
                labels.sort();
                (name.to_string(), labels)
            }
        };
        assert!(
            families.iter().any(|(f, kind)| name == *f
                || (kind == "histogram"
                    && ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|s| name == format!("{f}{s}")))),
            "sample {name} has no # TYPE"
        );
        samples.insert((name, labels), value);
    }
    samples
}

fn sample(m: &Samples, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut l: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.sort();
    m.get(&(name.to_string(), l)).copied()
}

#[test]
fn metrics_after_a_known_workload() {
    let redis = RedisServer::start();
    let url = redis.url();
    let mut con = redis.con();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _w = Worker::start(
        &url,
        &[
            "-n",
            "metered",
            "-q",
            "default,low_priority",
            "--metrics-addr",
            &addr,
        ],
    );
    wait_until("registration", || {
        registered(&mut con, "metered").then_some(())
    });

    let mut ids: Vec<String> = (0..3)
        .map(|i| submit(&url, &["echo", &format!("value={i}")]))
        .collect();
    ids.push(submit(&url, &["fail", "message=x"]));
    // One job that fails once and is retried (retries_left as `Retry(max=1)` writes it).
    let sub = task_worker::cli::submit::backend_job(
        task_worker::tasks::registry().lookup("fail").unwrap(),
        vec![],
        "default",
    );
    let job_key = format!("rq:job:{}", sub.job_id);
    let mut p = sub
        .pipeline(
            &rq_protocol::keys::Keys::new("rq"),
            rq_protocol::codec::Serializer::Pickle,
        )
        .unwrap();
    // Same MULTI as the push, so no worker sees the job without these fields.
    p.hset(&job_key, "retries_left", 1)
        .ignore()
        .hset(&job_key, "retry_intervals", "[0]")
        .ignore();
    let _: () = p.query(&mut con).unwrap();
    ids.push(sub.job_id.clone());
    for id in &ids {
        wait_until("jobs to end", || {
            matches!(
                job_status(&mut con, id).as_deref(),
                Some("finished" | "failed")
            )
            .then_some(())
        });
    }
    let (code, ctype, body) = wait_until("a queue sample after the workload", || {
        let r = http_get(port, "/metrics", None);
        let m = parse_prometheus(&r.2);
        (sample(&m, "task_worker_queue_samples_total", &[]).unwrap_or(0.0) >= 2.0
            && sample(&m, "task_worker_queue_failed_jobs", &[("queue", "default")]) == Some(2.0))
        .then_some(r)
    });
    assert_eq!(code, 200);
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let m = parse_prometheus(&body);
    let dq = ("queue", "default");
    assert_eq!(
        sample(
            &m,
            "task_worker_jobs_started_total",
            &[dq, ("task", "echo")]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &m,
            "task_worker_jobs_finished_total",
            &[dq, ("task", "echo")]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &m,
            "task_worker_jobs_started_total",
            &[dq, ("task", "fail")]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(&m, "task_worker_jobs_failed_total", &[dq, ("task", "fail")]),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &m,
            "task_worker_jobs_retried_total",
            &[dq, ("task", "fail")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            "task_worker_job_duration_seconds_count",
            &[dq, ("task", "echo")]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &m,
            "task_worker_job_duration_seconds_bucket",
            &[dq, ("task", "echo"), ("le", "+Inf")]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(&m, "task_worker_job_wait_seconds_count", &[dq]),
        Some(6.0)
    );
    assert_eq!(sample(&m, "task_worker_jobs_in_flight", &[dq]), Some(0.0));
    assert_eq!(sample(&m, "task_worker_queue_depth", &[dq]), Some(0.0));
    assert_eq!(
        sample(&m, "task_worker_queue_depth", &[("queue", "low_priority")]),
        Some(0.0)
    );
    assert_eq!(
        sample(&m, "task_worker_redis_errors_total", &[("op", "dequeue")]),
        Some(0.0)
    );
    assert_eq!(
        sample(&m, "task_worker_postgres_errors_total", &[]),
        Some(0.0)
    );
    assert_eq!(
        sample(&m, "task_worker_history_buffer_jobs", &[]),
        Some(0.0)
    );
    assert!(sample(
        &m,
        "task_worker_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))]
    )
    .is_some());

    // Depth is sampled: jobs waiting while the worker is suspended show up.
    assert_eq!(run(&["suspend", "--redis-url", &url]).code(), 0);
    wait_until("state suspended", || {
        (worker_field(&mut con, "metered", "state").as_deref() == Some("suspended")).then_some(())
    });
    submit(&url, &["noop", "--priority", "-1"]);
    submit(&url, &["noop", "--priority", "-1"]);
    wait_until("sampled depth 2", || {
        let m = parse_prometheus(&http_get(port, "/metrics", None).2);
        (sample(&m, "task_worker_queue_depth", &[("queue", "low_priority")]) == Some(2.0))
            .then_some(())
    });

    let (code, ctype, body) = http_get(
        port,
        "/metrics",
        Some("application/openmetrics-text; version=1.0.0"),
    );
    assert_eq!(code, 200);
    assert!(ctype.starts_with("application/openmetrics-text"), "{ctype}");
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert_eq!(http_get(port, "/healthz", None).0, 200);
    assert_eq!(http_get(port, "/nope", None).0, 404);
}

#[test]
fn metrics_report_history_outages() {
    // PostgreSQL unreachable: the history sink buffers rows and counts its errors.
    let redis = RedisServer::start();
    let url = redis.url();
    let mut con = redis.con();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let db = format!("postgres://postgres@127.0.0.1:{}/postgres", free_port());
    let _w = Worker::start(
        &url,
        &[
            "-n",
            "pg-down",
            "-q",
            "default",
            "--metrics-addr",
            &addr,
            "--database-url",
            &db,
        ],
    );
    wait_until("registration", || {
        registered(&mut con, "pg-down").then_some(())
    });
    let id = submit(&url, &["noop"]);
    wait_until("the job to finish", || {
        (job_status(&mut con, &id).as_deref() == Some("finished")).then_some(())
    });
    wait_until("postgres errors and buffered rows in /metrics", || {
        let m = parse_prometheus(&http_get(port, "/metrics", None).2);
        let errors = sample(&m, "task_worker_postgres_errors_total", &[])?;
        let buffered = sample(&m, "task_worker_history_buffer_jobs", &[])?;
        (errors >= 1.0 && buffered >= 1.0).then_some(())
    });
}

// --------------------------------------------------------------------------------- logs ------

#[test]
fn json_logs_carry_job_fields() {
    let redis = RedisServer::start();
    let url = redis.url();
    let ok = submit(&url, &["echo", "value=7"]);
    let bad = submit(&url, &["fail", "message=nope"]);
    let out = run(&[
        "--redis-url",
        &url,
        "--burst",
        "-q",
        "default",
        "--log-format",
        "json",
    ]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let lines: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let end_of = |id: &str| {
        lines
            .iter()
            .find(|l| {
                l["span"]["job_id"] == id
                    && matches!(l["message"].as_str(), Some("job finished" | "job failed"))
            })
            .unwrap_or_else(|| panic!("no end line for {id}: {}", out.stderr))
            .clone()
    };
    let e = end_of(&ok);
    assert_eq!(e["span"]["task"], "echo");
    assert_eq!(e["span"]["queue"], "default");
    assert_eq!(e["outcome"], "finished");
    assert!(e["duration_ms"].as_f64().is_some());
    let e = end_of(&bad);
    assert_eq!(e["span"]["task"], "fail");
    assert_eq!(e["outcome"], "failed");
    assert_eq!(e["level"], "WARN");
    assert!(e["error"].as_str().unwrap().contains("nope"));
    let start = lines
        .iter()
        .find(|l| l["span"]["job_id"] == ok.as_str() && l["message"] == "job started")
        .unwrap();
    assert_eq!(start["task"], "echo");
}
