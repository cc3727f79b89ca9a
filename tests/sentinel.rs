//! Redis Sentinel (docs/ha.md) against real servers on loopback: a master, a replica and three
//! sentinels; the worker binary finds the master through the sentinels and follows it through
//! a forced failover (`SENTINEL FAILOVER`) and through the death of the master (SIGKILL).
//! Every wait is on a condition with a generous deadline; timings are printed, never asserted.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, temp_dir, worker_bin, RedisServer};
use redis::Commands;
use rq_protocol::codec::{Payload, Serializer};
use rq_protocol::enqueue::NewJob;
use rq_protocol::keys::Keys;
use rq_protocol::value::Value;

const MASTER: &str = "mymaster";

fn wait_until<T>(what: &str, secs: u64, mut pred: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = pred() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn con(port: u16) -> Option<redis::Connection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
    client
        .get_connection_with_timeout(Duration::from_secs(2))
        .ok()
}

fn role(port: u16) -> Option<String> {
    let mut c = con(port)?;
    let r: Vec<redis::Value> = redis::cmd("ROLE").query(&mut c).ok()?;
    match r.first()? {
        redis::Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        redis::Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// A `redis-server --sentinel` process, killed on drop.
struct SentinelProc {
    port: u16,
    child: Child,
    dir: PathBuf,
}

impl SentinelProc {
    fn start(master_port: u16) -> SentinelProc {
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
        SentinelProc { port, child, dir }
    }

    fn master_addr(&self) -> Option<(String, u16)> {
        let mut c = con(self.port)?;
        redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(MASTER)
            .query(&mut c)
            .ok()?
    }

    /// A field of `SENTINEL master <name>` (e.g. `num-other-sentinels`, `num-slaves`).
    fn master_field(&self, field: &str) -> Option<String> {
        let mut c = con(self.port)?;
        let kv: Vec<String> = redis::cmd("SENTINEL")
            .arg("master")
            .arg(MASTER)
            .query(&mut c)
            .ok()?;
        kv.chunks(2)
            .find(|p| p[0] == field)
            .and_then(|p| p.get(1).cloned())
    }
}

impl Drop for SentinelProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A master, its replica (linked) and three sentinels that know both and each other.
struct Cluster {
    master: Option<RedisServer>,
    replica: RedisServer,
    sentinels: Vec<SentinelProc>,
}

impl Cluster {
    fn start() -> Cluster {
        let master = RedisServer::start();
        let replica =
            RedisServer::start_with(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
        wait_until("the replica's link to the master", 30, || {
            let mut c = con(replica.port)?;
            let info: String = redis::cmd("INFO").arg("replication").query(&mut c).ok()?;
            info.contains("master_link_status:up").then_some(())
        });
        let sentinels: Vec<SentinelProc> =
            (0..3).map(|_| SentinelProc::start(master.port)).collect();
        for s in &sentinels {
            wait_until(
                "each sentinel to know the replica and the others",
                60,
                || {
                    let replicas: u32 = s.master_field("num-slaves")?.parse().ok()?;
                    let others: u32 = s.master_field("num-other-sentinels")?.parse().ok()?;
                    (replicas >= 1 && others >= 2).then_some(())
                },
            );
        }
        Cluster {
            master: Some(master),
            replica,
            sentinels,
        }
    }

    fn sentinel_list(&self) -> String {
        self.sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Waits until every sentinel names `port` and it says it is a master.
    fn wait_for_master(&self, port: u16) {
        wait_until("the sentinels to name the new master", 60, || {
            let all = self
                .sentinels
                .iter()
                .all(|s| s.master_addr().is_some_and(|(_, p)| p == port));
            (all && role(port).as_deref() == Some("master")).then_some(())
        });
    }
}

/// The worker binary in run mode, killed on drop.
struct Worker {
    child: Child,
    log: PathBuf,
}

impl Worker {
    fn start(sentinels: &str, extra: &[&str]) -> Worker {
        let dir = temp_dir("sentinel-worker");
        let log = dir.join("log");
        let child = Command::new(worker_bin())
            .env_remove("REDIS_URL")
            .env_remove("REDIS_PASSWORD")
            .env("RUST_LOG", "info")
            // The URL's host is not used with sentinels (only its credentials and database).
            .args(["--redis-url", "redis://not-the-master.invalid:1/0"])
            .args(["--redis-sentinels", sentinels])
            .args(["--redis-sentinel-master", MASTER])
            .args(["-n", "sentinel-w", "-q", "default"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Worker { child, log }
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

fn enqueue(port: u16, func: &str, args: Vec<Value>) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let job = NewJob {
        job_id: id.clone(),
        queue: "default".into(),
        description: format!("{func}(...)"),
        payload: Payload {
            func_name: func.into(),
            args,
            kwargs: vec![],
        },
        timeout: 60,
    };
    let p = job.pipeline(&Keys::new("rq"), Serializer::Pickle).unwrap();
    let mut c = con(port).unwrap();
    p.query::<()>(&mut c).unwrap();
    id
}

fn status(port: u16, id: &str) -> Option<String> {
    con(port)?.hget(format!("rq:job:{id}"), "status").ok()?
}

fn wait_finished(port: u16, ids: &[String], what: &str) {
    wait_until(what, 60, || {
        ids.iter()
            .all(|id| status(port, id).as_deref() == Some("finished"))
            .then_some(())
    });
}

/// Every job finished exactly once, on `port`, and nothing is left taken or started.
fn check_exactly_once(port: u16, ids: &[String]) {
    let mut c = con(port).unwrap();
    let keys = Keys::new("rq");
    for id in ids {
        let st: Option<String> = c.hget(keys.job(id), "status").unwrap();
        assert_eq!(st.as_deref(), Some("finished"), "job {id}");
        // One result per run: a job run twice would have two entries.
        let results: usize = c.xlen(keys.results(id)).unwrap();
        assert_eq!(results, 1, "job {id} has {results} results");
    }
    let finished: usize = c.zcard(keys.finished("default")).unwrap();
    assert_eq!(finished, ids.len());
    let started: usize = c.zcard(keys.wip("default")).unwrap();
    assert_eq!(started, 0, "jobs left in the started registry");
    let taken: usize = c.llen(keys.intermediate("default")).unwrap();
    assert_eq!(taken, 0, "jobs left in the intermediate list");
    let queued: usize = c.llen(keys.queue("default")).unwrap();
    assert_eq!(queued, 0, "jobs left queued");
    let failed: usize = c.zcard(keys.failed("default")).unwrap();
    assert_eq!(failed, 0, "failed jobs");
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

#[test]
fn worker_follows_a_forced_failover() {
    let cluster = Cluster::start();
    let old = cluster.master.as_ref().unwrap().port;
    let new = cluster.replica.port;
    let worker = Worker::start(&cluster.sentinel_list(), &["--heartbeat-interval", "1"]);

    // Before: jobs enqueued on the master run.
    let mut ids: Vec<String> = (0..20)
        .map(|i| enqueue(old, "echo", vec![Value::Int(i)]))
        .collect();
    wait_finished(old, &ids, "the jobs before the failover");
    let registered = |port: u16| -> bool {
        con(port)
            .and_then(|mut c| c.sismember("rq:workers", "rq:worker:sentinel-w").ok())
            .unwrap_or(false)
    };
    assert!(registered(old), "{}", worker.log());

    // A job running across the failover, its start on the replica too.
    let long = enqueue(old, "sleep", vec![Value::Float(3.0)]);
    wait_until("the long job to start", 30, || {
        (status(old, &long).as_deref() == Some("started")).then_some(())
    });
    let mut c = con(old).unwrap();
    let acked: i64 = redis::cmd("WAIT").arg(1).arg(10_000).query(&mut c).unwrap();
    assert_eq!(acked, 1);
    ids.push(long.clone());

    let t0 = Instant::now();
    wait_until("SENTINEL FAILOVER to be accepted", 60, || {
        let mut c = con(cluster.sentinels[0].port)?;
        redis::cmd("SENTINEL")
            .arg("FAILOVER")
            .arg(MASTER)
            .query::<()>(&mut c)
            .ok()
    });
    cluster.wait_for_master(new);
    let promoted = t0.elapsed();

    // After: jobs enqueued on the new master run, and the long job ends there, once.
    let after: Vec<String> = (0..20)
        .map(|i| enqueue(new, "echo", vec![Value::Int(100 + i)]))
        .collect();
    wait_finished(new, &after, "the jobs after the failover");
    let resumed = t0.elapsed();
    ids.extend(after);
    wait_finished(new, &ids, "every job on the new master");

    // The old master is a replica now; the worker keeps no connection there (dequeue, writer,
    // pub/sub, queue watchers, heartbeats all moved), and its heartbeats reach the new master.
    wait_until("the old master to become a replica", 60, || {
        (role(old).as_deref() == Some("slave")).then_some(())
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
    check_exactly_once(new, &ids);
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
    let worker = Worker::start(&cluster.sentinel_list(), &["--heartbeat-interval", "1"]);

    let mut ids: Vec<String> = (0..10)
        .map(|i| enqueue(old, "echo", vec![Value::Int(i)]))
        .collect();
    wait_finished(old, &ids, "the jobs before the kill");
    // A job running when the master dies; its start is on the replica.
    let long = enqueue(old, "sleep", vec![Value::Float(2.0)]);
    wait_until("the long job to start", 30, || {
        (status(old, &long).as_deref() == Some("started")).then_some(())
    });
    let mut c = con(old).unwrap();
    let acked: i64 = redis::cmd("WAIT").arg(1).arg(10_000).query(&mut c).unwrap();
    assert_eq!(acked, 1);
    ids.push(long);

    let t0 = Instant::now();
    drop(cluster.master.take()); // SIGKILL
    cluster.wait_for_master(new);
    let promoted = t0.elapsed();
    let after: Vec<String> = (0..10)
        .map(|i| enqueue(new, "echo", vec![Value::Int(100 + i)]))
        .collect();
    wait_finished(new, &after, "the jobs after the kill");
    let resumed = t0.elapsed();
    ids.extend(after);
    wait_finished(new, &ids, "every job on the new master");
    check_exactly_once(new, &ids);
    println!(
        "killed master: sentinels promoted the replica after {promoted:?}; jobs enqueued on it \
         all ran {resumed:?} after the kill"
    );
    let log = worker.log();
    assert!(log.contains("Redis master changed"), "{log}");
}

fn cli(args: &[&str]) -> Output {
    Command::new(worker_bin())
        .env_remove("REDIS_URL")
        .env_remove("REDIS_SENTINELS")
        .env_remove("REDIS_SENTINEL_MASTER")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn health_status_and_submit_go_through_the_sentinels() {
    let cluster = Cluster::start();
    let master = cluster.master.as_ref().unwrap().port;
    let list = cluster.sentinel_list();
    let _worker = Worker::start(&list, &[]);
    let s = [
        "--redis-sentinels",
        &list,
        "--redis-sentinel-master",
        MASTER,
    ];
    wait_until("the worker to register", 30, || {
        con(master)?
            .sismember::<_, _, bool>("rq:workers", "rq:worker:sentinel-w")
            .ok()?
            .then_some(())
    });
    let mut args = vec!["health", "-n", "sentinel-w"];
    args.extend(s);
    let out = cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut args = vec!["status"];
    args.extend(s);
    let out = cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("sentinel-w"));
    let mut args = vec!["submit", "-q", "default", "echo", "value=7", "--wait"];
    args.extend(s);
    let out = cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
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
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
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
