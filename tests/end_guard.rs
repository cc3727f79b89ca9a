//! The guarded job-end script (`rq::end_guard`) against a private Redis: an end sent twice
//! (a retry after a lost reply) is applied once; refused commands are counted, not fatal.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use common::RedisServer;
use redis::Commands;
use task_worker::rq::end_guard::{parse_reply, EndApplied, GuardedEnds, END_SCRIPT};
use task_worker::rq::lifecycle::{self, Execution, RetryPlan};
use task_worker::rq::time::now;
use task_worker::rq::Keys;

fn started(con: &mut redis::Connection, keys: &Keys, job_id: &str) -> Execution {
    let exec = Execution {
        worker: "w-1".into(),
        job_id: job_id.into(),
        execution_id: format!("{job_id}-exec"),
        queue: "default".into(),
        started_at: now(),
    };
    let _: () = con
        .hset(keys.job(job_id), "status", "queued")
        .expect("job hash");
    let mut p = redis::pipe();
    p.atomic();
    lifecycle::start(&mut p, keys, &exec, 90, None);
    p.query::<()>(con).expect("start");
    exec
}

fn send(
    con: &mut redis::Connection,
    keys: &Keys,
    exec: &Execution,
    end: &redis::Pipeline,
) -> EndApplied {
    let script = redis::Script::new(END_SCRIPT);
    let mut g = GuardedEnds::default();
    g.push(keys, exec, end);
    let reply: Vec<Vec<String>> = g.invocation(&script).invoke(con).expect("end script");
    parse_reply(reply).remove(0)
}

#[test]
fn a_repeated_success_is_applied_once_and_still_returns_dependents() {
    let redis = RedisServer::start();
    let mut con = redis.con();
    let keys = Keys::new("rq");
    let exec = started(&mut con, &keys, "j1");
    let _: () = con
        .sadd(keys.dependents("j1"), "child")
        .expect("dependents");
    let mut end = redis::pipe();
    lifecycle::succeed(&mut end, &keys, &exec, 500, None, None, now());

    let first = send(&mut con, &keys, &exec, &end);
    assert!(first.applied);
    assert_eq!(first.errors, 0);
    assert_eq!(first.dependents, vec!["child".to_string()]);
    let second = send(&mut con, &keys, &exec, &end);
    assert!(!second.applied, "the second copy must be skipped");
    // The job is terminal: the dependents come back so that a lost first reply loses nothing.
    assert_eq!(second.dependents, vec!["child".to_string()]);

    let results: usize = con.xlen(keys.results("j1")).expect("xlen");
    assert_eq!(results, 1);
    let count: i64 = con
        .hget(keys.worker("w-1"), "successful_job_count")
        .expect("counter");
    assert_eq!(count, 1);
    let status: String = con.hget(keys.job("j1"), "status").expect("status");
    assert_eq!(status, "finished");
    let wip: usize = con.zcard(keys.wip("default")).expect("zcard");
    assert_eq!(wip, 0);
}

#[test]
fn a_repeated_retry_requeues_once() {
    let redis = RedisServer::start();
    let mut con = redis.con();
    let keys = Keys::new("rq");
    let exec = started(&mut con, &keys, "j2");
    let mut end = redis::pipe();
    let plan = RetryPlan::Requeue { at_front: false };
    lifecycle::retry(&mut end, &keys, &exec, 1, &plan, now());
    assert!(send(&mut con, &keys, &exec, &end).applied);
    let again = send(&mut con, &keys, &exec, &end);
    assert!(!again.applied);
    // Not terminal: no dependents to release.
    assert!(again.dependents.is_empty());
    let queued: Vec<String> = con.lrange(keys.queue("default"), 0, -1).expect("lrange");
    assert_eq!(queued, vec!["j2".to_string()]);
}

#[test]
fn a_refused_command_is_counted_and_the_rest_applies() {
    let redis = RedisServer::start();
    let mut con = redis.con();
    let keys = Keys::new("rq");
    let exec = started(&mut con, &keys, "j3");
    // A user overwrote the results stream key with a string: XADD fails with WRONGTYPE.
    let _: () = con.set(keys.results("j3"), "oops").expect("set");
    let mut end = redis::pipe();
    lifecycle::fail(
        &mut end,
        &keys,
        &exec,
        "failed",
        None,
        "Exception: x",
        now(),
    );
    let a = send(&mut con, &keys, &exec, &end);
    assert!(a.applied);
    assert!(a.errors >= 1, "{a:?}");
    let status: String = con.hget(keys.job("j3"), "status").expect("status");
    assert_eq!(status, "failed");
    let failed: Vec<String> = con.zrange(keys.failed("default"), 0, -1).expect("zrange");
    assert_eq!(failed, vec!["j3".to_string()]);
}
