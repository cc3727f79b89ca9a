//! Redis Sentinel (docs/ha.md) against real servers on loopback: a master, a replica and three
//! sentinels; the worker binary finds the master through the sentinels and follows it through
//! a forced failover (`SENTINEL FAILOVER`) and through the death of the master (SIGKILL).
//! Every wait is on a condition with a generous deadline; timings are printed, never asserted.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::sentinel::{
    check_exactly_once, con, enqueue, enqueue_echoes, request_failover, role, sentinel_list,
    status, wait_finished, wait_for_master, wait_replica_link, wait_sentinels_ready, Plain, MASTER,
};
use common::worker::{output_text, worker_command, Worker};
use common::{free_port, temp_dir, wait_until, RedisServer};
use redis::Commands;
use rq_protocol::value::Value;

/// Starts a `redis-server --sentinel` monitoring the master on `master_port` (down after 1 s).
fn start_sentinel(master_port: u16) -> RedisServer {
    let dir = temp_dir("sentinel");
    let port = free_port();
    let conf = dir.join("sentinel.conf");
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\ndir {}\n\
             sentinel monitor {MASTER} 127.0.0.1 {master_port} 2\n\
             sentinel down-after-milliseconds {MASTER} 1000\n\
             sentinel failover-timeout {MASTER} 4000\n\
             sentinel parallel-syncs {MASTER} 1\n",
            dir.display()
        ),
    )
    .unwrap();
    let child = Command::new("redis-server")
        .arg(&conf)
        .arg("--sentinel")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server --sentinel");
    RedisServer::adopt(port, child, dir)
}

/// A master, its replica (linked) and three sentinels that know both and each other.
struct Cluster {
    master: Option<RedisServer>,
    replica: RedisServer,
    sentinels: Vec<RedisServer>,
}

impl Cluster {
    fn start() -> Cluster {
        let master = RedisServer::start();
        let replica =
            RedisServer::start_with(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
        wait_replica_link(&Plain, replica.port);
        let sentinels: Vec<RedisServer> = (0..3).map(|_| start_sentinel(master.port)).collect();
        wait_sentinels_ready(&Plain, &sentinels);
        Cluster {
            master: Some(master),
            replica,
            sentinels,
        }
    }
}

impl Worker {
    /// The worker binary in run mode as `sentinel-w` on queue `default`, finding the master
    /// through the sentinels of `cluster`; `extra` arguments appended.
    fn start(cluster: &Cluster, extra: &[&str]) -> Worker {
        Worker::spawn(
            worker_command(&["REDIS_URL", "REDIS_PASSWORD"])
                .env("RUST_LOG", "info")
                // The URL's host is not used with sentinels (only its credentials and database).
                .args(["--redis-url", "redis://not-the-master.invalid:1/0"])
                .args(["--redis-sentinels", &sentinel_list(&cluster.sentinels)])
                .args(["--redis-sentinel-master", MASTER])
                .args(["-n", "sentinel-w", "-q", "default"])
                .args(extra),
            "sentinel-worker",
            false,
        )
    }
}

/// Enqueues a `sleep` of `secs` on `port`, waits until it has started and its start has reached
/// the replica; its job id.
fn start_long_job(port: u16, secs: f64) -> String {
    let long = enqueue(&Plain, port, "sleep", vec![Value::Float(secs)]);
    wait_until("the long job to start", 30, || {
        (status(&Plain, port, &long).as_deref() == Some("started")).then_some(())
    });
    let mut c = con(port).unwrap();
    let acked: i64 = redis::cmd("WAIT").arg(1).arg(10_000).query(&mut c).unwrap();
    assert_eq!(acked, 1);
    long
}

/// After a failover begun at `t0`: `n` echo jobs enqueued on the new master `new` finish (`what`),
/// join `ids`, and every job of `ids` finishes there; how long after `t0` the new jobs had ended.
fn jobs_after_failover(
    new: u16,
    n: i64,
    what: &str,
    ids: &mut Vec<String>,
    t0: Instant,
) -> Duration {
    let after = enqueue_echoes(&Plain, new, n, 100);
    wait_finished(&Plain, new, &after, what);
    let resumed = t0.elapsed();
    ids.extend(after);
    wait_finished(&Plain, new, ids, "every job on the new master");
    resumed
}

/// Connections on `port` that are neither the sentinels' nor the replication link's (the test
/// opens its own only for this call, named).
fn foreign_clients(port: u16) -> Option<usize> {
    let mut c = con(port)?;
    redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("tw-test")
        .query::<()>(&mut c)
        .ok()?;
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut c).ok()?;
    Some(
        list.lines()
            .filter(|l| {
                !l.contains("name=sentinel-")
                    && !l.contains("name=tw-test")
                    && !l.contains("flags=S")
                    && !l.contains("flags=M")
            })
            .count(),
    )
}

/// Whether the worker `sentinel-w` is in the workers set on `port`.
fn registered(port: u16) -> bool {
    con(port)
        .and_then(|mut c| c.sismember("rq:workers", "rq:worker:sentinel-w").ok())
        .unwrap_or(false)
}

#[test]
fn worker_follows_a_forced_failover() {
    let cluster = Cluster::start();
    let old = cluster.master.as_ref().unwrap().port;
    let new = cluster.replica.port;
    let worker = Worker::start(&cluster, &["--heartbeat-interval", "1"]);

    // Before: jobs enqueued on the master run.
    let mut ids = enqueue_echoes(&Plain, old, 20, 0);
    wait_finished(&Plain, old, &ids, "the jobs before the failover");
    assert!(registered(old), "{}", worker.log());

    // A job running across the failover, its start on the replica too.
    ids.push(start_long_job(old, 3.0));

    let t0 = Instant::now();
    request_failover(&Plain, cluster.sentinels[0].port);
    wait_for_master(&Plain, &cluster.sentinels, new);
    let promoted = t0.elapsed();

    // After: jobs enqueued on the new master run, and the long job ends there, once.
    let resumed = jobs_after_failover(new, 20, "the jobs after the failover", &mut ids, t0);

    // The old master is a replica now; the worker keeps no connection there (dequeue, writer,
    // pub/sub, queue watchers, heartbeats all moved), and its heartbeats reach the new master.
    wait_until("the old master to become a replica", 60, || {
        (role(&Plain, old).as_deref() == Some("slave")).then_some(())
    });
    let demoted = t0.elapsed();
    wait_until("the worker to leave the old master", 60, || {
        (foreign_clients(old)? == 0).then_some(())
    });
    let left = t0.elapsed();
    let hb = |port: u16| -> Option<String> {
        con(port)?
            .hget("rq:worker:sentinel-w", "last_heartbeat")
            .ok()?
    };
    let before_hb = hb(new);
    wait_until("a heartbeat on the new master", 30, || {
        let now = hb(new);
        (now.is_some() && now != before_hb).then_some(())
    });
    assert!(registered(new));
    let mut oc = con(old).unwrap();
    let errors: String = redis::cmd("INFO").arg("errorstats").query(&mut oc).unwrap();
    let refused = errors
        .lines()
        .find_map(|l| l.strip_prefix("errorstat_READONLY:count="))
        .unwrap_or("0")
        .to_string();
    check_exactly_once(&Plain, new, &ids);
    println!(
        "forced failover: new master named after {promoted:?}; jobs enqueued on it all ran {resumed:?} \
         after SENTINEL FAILOVER; old master demoted by the sentinels after {demoted:?}, no worker \
         connection on it after {left:?}; writes the old master refused as a replica (READONLY): {refused}"
    );
    let log = worker.log();
    assert!(log.contains("Redis master changed"), "{log}");
}

#[test]
fn worker_follows_a_killed_master() {
    let mut cluster = Cluster::start();
    let old = cluster.master.as_ref().unwrap().port;
    let new = cluster.replica.port;
    let worker = Worker::start(&cluster, &["--heartbeat-interval", "1"]);

    let mut ids = enqueue_echoes(&Plain, old, 10, 0);
    wait_finished(&Plain, old, &ids, "the jobs before the kill");
    // A job running when the master dies; its start is on the replica.
    ids.push(start_long_job(old, 2.0));

    let t0 = Instant::now();
    drop(cluster.master.take()); // SIGKILL
    wait_for_master(&Plain, &cluster.sentinels, new);
    let promoted = t0.elapsed();
    let resumed = jobs_after_failover(new, 10, "the jobs after the kill", &mut ids, t0);
    check_exactly_once(&Plain, new, &ids);
    println!(
        "killed master: sentinels promoted the replica after {promoted:?}; jobs enqueued on it \
         all ran {resumed:?} after the kill"
    );
    let log = worker.log();
    assert!(log.contains("Redis master changed"), "{log}");
}

/// Runs the worker binary with `args`, without the Redis and sentinel variables of the caller.
fn cli(args: &[&str]) -> Output {
    worker_command(&["REDIS_URL", "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER"])
        .args(args)
        .output()
        .unwrap()
}

/// Runs [`cli`] with `args` followed by `sentinels` (the sentinel settings); asserts it exits 0.
fn cli_ok(args: &[&str], sentinels: &[&str]) -> Output {
    let out = cli(&[args, sentinels].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn health_status_and_submit_go_through_the_sentinels() {
    let cluster = Cluster::start();
    let master = cluster.master.as_ref().unwrap().port;
    let list = sentinel_list(&cluster.sentinels);
    let _worker = Worker::start(&cluster, &[]);
    let s = [
        "--redis-sentinels",
        &list,
        "--redis-sentinel-master",
        MASTER,
    ];
    wait_until("the worker to register", 30, || {
        registered(master).then_some(())
    });
    cli_ok(&["health", "-n", "sentinel-w"], &s);
    let out = cli_ok(&["status"], &s);
    assert!(String::from_utf8_lossy(&out.stdout).contains("sentinel-w"));
    cli_ok(
        &["submit", "-q", "default", "echo", "value=7", "--wait"],
        &s,
    );
    // Unreachable sentinels: a clear failure, not a hang.
    let dead = format!("127.0.0.1:{}", free_port());
    let out = cli(&[
        "status",
        "--redis-sentinels",
        &dead,
        "--redis-sentinel-master",
        MASTER,
    ]);
    assert!(!out.status.success());
    let err = output_text(&out);
    assert!(err.contains("no Redis master found"), "{err}");
}

#[test]
fn sentinel_settings_are_validated() {
    for (args, needle) in [
        (
            vec!["status", "--redis-sentinels", "127.0.0.1:26379"],
            "needs --redis-sentinel-master",
        ),
        (
            vec!["status", "--redis-sentinel-master", "m"],
            "needs --redis-sentinels",
        ),
        (
            vec![
                "status",
                "--redis-sentinels",
                "127.0.0.1:26379,,127.0.0.1:26380",
                "--redis-sentinel-master",
                "m",
            ],
            "empty address",
        ),
        (
            vec![
                "status",
                "--redis-sentinels",
                "127.0.0.1",
                "--redis-sentinel-master",
                "m",
            ],
            "not HOST:PORT",
        ),
        (
            vec![
                "status",
                "--redis-sentinels",
                "127.0.0.1:0",
                "--redis-sentinel-master",
                "m",
            ],
            "no valid port",
        ),
        (
            vec![
                "status",
                "--redis-sentinels",
                ":26379",
                "--redis-sentinel-master",
                "m",
            ],
            "has no host",
        ),
        (
            vec![
                "run",
                "--redis-url",
                "unix:///tmp/redis.sock",
                "--redis-sentinels",
                "127.0.0.1:26379",
                "--redis-sentinel-master",
                "m",
            ],
            "redis:// or rediss://",
        ),
        (
            vec![
                "health",
                "--redis-sentinels",
                "127.0.0.1:26379",
                "--redis-sentinel-master",
                "m",
                "--redis-sentinel-password",
                "s3cret",
            ],
            "REDIS_SENTINEL_PASSWORD",
        ),
    ] {
        let out = cli(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
