//! The guarded job-end script (`rq::end_guard`) against a private Redis: an end sent twice
//! (a retry after a lost reply) is applied once; refused commands are counted, not fatal; the
//! job's dependents are released by the same script.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use common::{dump, RedisServer};
use redis::Commands;
use rq_protocol::end_guard::{parse_reply, Counters, EndApplied, GuardedEnds, END_SCRIPT};
use rq_protocol::lifecycle::{self, Execution, JobEnd, RetryPlan};
use rq_protocol::time::now;
use rq_protocol::Keys;

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

fn send(con: &mut redis::Connection, keys: &Keys, exec: &Execution, end: &JobEnd) -> EndApplied {
    let script = redis::Script::new(END_SCRIPT);
    let mut g = GuardedEnds::new(keys);
    g.push_end(keys, exec, end, now(), Counters::default());
    let reply: Vec<String> = g
        .invocation(&script, now())
        .invoke(con)
        .expect("end script");
    parse_reply(reply).remove(0)
}

/// A success whose result is kept 500 s (the compact forms' end).
fn kept(return_value: Option<&str>) -> JobEnd {
    JobEnd::Success {
        result_ttl: 500,
        return_value: return_value.map(str::to_string),
        repeat: None,
        has_dependencies: false,
    }
}

/// A failure without retries (always sent as commands).
fn failed() -> JobEnd {
    JobEnd::Failure {
        status: "failed",
        failure_ttl: Some(600),
        exc_string: "Traceback: boom".into(),
    }
}

/// Worker counters the writer knows: `successful_job_count` and `total_working_time`.
fn known(successes: u64, total: &str) -> Counters<'_> {
    Counters {
        successes: Some(successes),
        total: Some(total),
    }
}

/// A deferred job that depends on `parent` only (as `Queue.enqueue(depends_on=…)` leaves it).
fn deferred_child(con: &mut redis::Connection, keys: &Keys, id: &str, parent: &str) {
    let _: () = con
        .hset_multiple(
            keys.job(id),
            &[("status", "deferred"), ("origin", "default")],
        )
        .expect("child hash");
    let _: () = con
        .sadd(keys.dependencies(id), parent)
        .expect("dependencies");
    let _: () = con.sadd(keys.dependents(parent), id).expect("dependents");
    let _: () = con.zadd(keys.deferred("default"), id, 1).expect("deferred");
}

#[test]
fn a_repeated_success_is_applied_once_and_releases_dependents_once() {
    let redis = RedisServer::start();
    let mut con = redis.con();
    let keys = Keys::new("rq");
    let exec = started(&mut con, &keys, "j1");
    deferred_child(&mut con, &keys, "child", "j1");
    let end = JobEnd::Success {
        result_ttl: 500,
        return_value: None,
        repeat: None,
        has_dependencies: false,
    };

    let first = send(&mut con, &keys, &exec, &end);
    assert!(first.applied);
    assert_eq!(first.errors, 0);
    assert_eq!(first.released, vec!["child".to_string()]);
    let second = send(&mut con, &keys, &exec, &end);
    assert!(!second.applied, "the second copy must be skipped");
    // The job is terminal: the release runs again, and finds nothing left to enqueue.
    assert!(second.released.is_empty());
    let queued: Vec<String> = con.lrange(keys.queue("default"), 0, -1).expect("lrange");
    assert_eq!(queued, vec!["child".to_string()]);
    let child: String = con.hget(keys.job("child"), "status").expect("status");
    assert_eq!(child, "queued");
    let deferred: usize = con.zcard(keys.deferred("default")).expect("zcard");
    assert_eq!(deferred, 0);

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
fn a_failure_releases_only_dependents_that_allow_it() {
    let redis = RedisServer::start();
    let mut con = redis.con();
    let keys = Keys::new("rq");
    let exec = started(&mut con, &keys, "p");
    deferred_child(&mut con, &keys, "strict", "p");
    deferred_child(&mut con, &keys, "lenient", "p");
    let _: () = con
        .hset(keys.job("lenient"), "allow_dependency_failures", "1")
        .expect("allow");
    let end = JobEnd::Failure {
        status: "failed",
        failure_ttl: None,
        exc_string: "Exception: x".into(),
    };
    let a = send(&mut con, &keys, &exec, &end);
    assert_eq!(a.released, vec!["lenient".to_string()]);
    let strict: String = con.hget(keys.job("strict"), "status").expect("status");
    assert_eq!(strict, "deferred");
    // The set still holds the waiting dependent: it expires with the job (`job.cleanup`).
    let ttl: i64 = con.ttl(keys.dependents("p")).expect("ttl");
    assert!(ttl > 0, "{ttl}");
    let job_ttl: i64 = con.ttl(keys.job("p")).expect("ttl");
    assert!(job_ttl > 0, "{job_ttl}");
}

#[test]
fn a_repeated_retry_requeues_once() {
    let redis = RedisServer::start();
    let mut con = redis.con();
    let keys = Keys::new("rq");
    let exec = started(&mut con, &keys, "j2");
    deferred_child(&mut con, &keys, "child2", "j2");
    let end = JobEnd::Retry {
        retries_left_after: 1,
        plan: RetryPlan::Requeue { at_front: false },
        exc_string: String::new(),
    };
    let first = send(&mut con, &keys, &exec, &end);
    assert!(first.applied);
    // A retry releases no dependents.
    assert!(first.released.is_empty());
    let again = send(&mut con, &keys, &exec, &end);
    assert!(!again.applied);
    assert!(again.released.is_empty());
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
    let end = JobEnd::Failure {
        status: "failed",
        failure_ttl: None,
        exc_string: "Exception: x".into(),
    };
    let a = send(&mut con, &keys, &exec, &end);
    assert!(a.applied);
    assert!(a.errors >= 1, "{a:?}");
    let status: String = con.hget(keys.job("j3"), "status").expect("status");
    assert_eq!(status, "failed");
    let failed: Vec<String> = con.zrange(keys.failed("default"), 0, -1).expect("zrange");
    assert_eq!(failed, vec!["j3".to_string()]);
}

/// The successes the compact forms are checked with: with a return value, with a waiting
/// dependent, with the job's own (met) dependencies; as `(with_child, own_dependencies, end)`.
fn kept_successes() -> Vec<(bool, bool, JobEnd)> {
    let cases = [
        (Some("gASVBQAAAAAAAAB9lC4="), false, false),
        (None, true, false),
        (None, false, true),
    ];
    cases
        .into_iter()
        .map(|(return_value, with_child, own)| {
            let end = JobEnd::Success {
                result_ttl: 500,
                return_value: return_value.map(str::to_string),
                repeat: None,
                has_dependencies: own,
            };
            (with_child, own, end)
        })
        .collect()
}

/// `job-1`'s dependency sets for [`kept_successes`]: a child that waits for another parent too
/// (it stays deferred), and the job's own set of a (finished) dependency (it expires).
fn seed_dependencies(con: &mut redis::Connection, keys: &Keys, child: bool, own: bool) {
    if child {
        deferred_child(con, keys, "child", "job-1");
        let _: () = con.sadd(keys.dependencies("child"), "other").unwrap();
    }
    if own {
        let _: () = con.sadd(keys.dependencies("job-1"), "earlier").unwrap();
    }
}

/// The compact form of the common success (`GuardedEnds::push_end`) leaves Redis exactly as the
/// success transaction (`JobEnd::write`, sent as commands) does, with and without a return
/// value and with a waiting dependent.
#[test]
fn the_compact_success_writes_what_the_success_commands_write() {
    let server = RedisServer::start();
    let mut con = server.con();
    let keys = Keys::new("rq");
    let script = redis::Script::new(END_SCRIPT);
    for (with_child, own_dependencies, end) in kept_successes() {
        let mut states = Vec::new();
        let t0 = now();
        // As commands; compact with the worker's counters unknown (incremented) and known
        // (set; the hash has none yet).
        for (compact, count) in [
            (false, Counters::default()),
            (true, Counters::default()),
            (true, known(0, "0")),
        ] {
            let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
            let mut exec = started(&mut con, &keys, "job-1");
            // The same instants both times (the start's own stamps are all overwritten or
            // deleted by the end).
            exec.started_at = t0;
            seed_dependencies(&mut con, &keys, with_child, own_dependencies);
            let mut g = GuardedEnds::new(&keys);
            let ended_at = exec.started_at + chrono::Duration::milliseconds(5);
            if compact {
                g.push_end(&keys, &exec, &end, ended_at, count);
            } else {
                let mut p = redis::pipe();
                end.write(&mut p, &keys, &exec, ended_at);
                g.push(&keys, &exec, end.releases_dependents(), &p);
            }
            let reply: Vec<String> = g
                .invocation(&script, exec.started_at)
                .invoke(&mut con)
                .unwrap();
            let applied = parse_reply(reply);
            assert!(applied[0].applied && applied[0].errors == 0, "{applied:?}");
            // The compact form tells the count it left.
            assert_eq!(applied[0].successes, compact.then_some(1), "{applied:?}");
            states.push(dump(&mut con));
        }
        assert!(states[0].len() >= 4, "{:#?}", states[0]);
        assert_eq!(states[1], states[0], "{end:?}");
        assert_eq!(states[2], states[0], "{end:?}");
    }
}

/// A batch of ends in one script call: compact successes of two workers, with failures (sent as
/// commands) between them and last, leave Redis as every end sent as commands does, whatever
/// the order of the writes to one worker hash.
#[test]
fn a_batch_of_compact_successes_writes_what_its_commands_write() {
    let server = RedisServer::start();
    let mut con = server.con();
    let keys = Keys::new("rq");
    let script = redis::Script::new(END_SCRIPT);
    let (success, failure) = (kept(None), failed());
    // (job, worker, end, working ms)
    let plan = [
        // First, before w-1's first compact success: its working time is added by its own
        // commands, so that success cannot set the total the writer knew before the call.
        ("j0", "w-1", &failure, 1),
        ("j1", "w-1", &success, 5),
        ("j2", "w-2", &success, 7),
        ("j3", "w-1", &failure, 3),
        ("j4", "w-1", &success, 11),
        ("j5", "w-1", &success, 13),
        ("j6", "w-2", &success, 17),
        // Last, and ended earlier than j5: its idle `last_heartbeat` is the one that stays.
        ("j7", "w-1", &failure, 2),
    ];
    let t0 = now();
    let mut states = Vec::new();
    let mut times = Vec::new();
    for compact in [false, true] {
        let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
        let mut g = GuardedEnds::new(&keys);
        for (id, worker, end, ms) in plan {
            let mut exec = started(&mut con, &keys, id);
            exec.worker = worker.into();
            exec.started_at = t0;
            let ended_at = t0 + chrono::Duration::milliseconds(ms);
            // A worker hash as the start leaves it, for both workers.
            let _: () = con
                .sadd(keys.worker_executions(worker), exec.composite())
                .unwrap();
            if compact {
                // w-1's counters known (none yet), w-2's unknown.
                let count = if worker == "w-1" {
                    known(0, "0")
                } else {
                    Counters::default()
                };
                g.push_end(&keys, &exec, end, ended_at, count);
            } else {
                let mut p = redis::pipe();
                end.write(&mut p, &keys, &exec, ended_at);
                g.push(&keys, &exec, end.releases_dependents(), &p);
            }
        }
        let reply: Vec<String> = g.invocation(&script, t0).invoke(&mut con).unwrap();
        let applied = parse_reply(reply);
        assert_eq!(applied.len(), plan.len());
        assert!(
            applied.iter().all(|a| a.applied && a.errors == 0),
            "{applied:?}"
        );
        let mut t = Vec::new();
        for w in ["w-1", "w-2"] {
            let v: String = con.hget(keys.worker(w), "total_working_time").unwrap();
            let _: () = con.hdel(keys.worker(w), "total_working_time").unwrap();
            t.push(v);
        }
        times.push(t);
        states.push(dump(&mut con));
    }
    assert!(states[0].len() >= 10, "{:#?}", states[0]);
    assert_eq!(states[1], states[0]);
    // The same text: set where the writer knows the total, incremented where it does not.
    assert_eq!(times[0], times[1]);
    // w-1: j0, j1, j3, j4, j5, j7 (0.035 s); w-2: j2, j6 (0.024 s).
    assert_eq!(times[1], ["0.035", "0.024"]);
    let count: i64 = con
        .hget(keys.worker("w-1"), "successful_job_count")
        .unwrap();
    assert_eq!(count, 3);
    let state: String = con.hget(keys.worker("w-2"), "state").unwrap();
    assert_eq!(state, "idle");
}

/// A job whose start was never written (deferred by the writer, and the job ended first) is
/// written as start and end in one (`GuardedEnds::push_run`): Redis ends exactly as after the
/// start script and the end, with and without a return value, a waiting dependent and the
/// job's own dependencies. Sent again it is skipped, and a start sent after it changes nothing.
#[test]
fn a_job_ended_before_its_start_was_written_leaves_what_start_and_end_leave() {
    use rq_protocol::start::{parse_failed, Starts, NOT_TAKEN, START_SCRIPT};
    let server = RedisServer::start();
    let mut con = server.con();
    let keys = Keys::new("rq");
    let end_script = redis::Script::new(END_SCRIPT);
    let start_script = redis::Script::new(START_SCRIPT);
    for (with_child, own_dependencies, end) in kept_successes() {
        let t0 = now();
        let exec = Execution {
            worker: "w-1".into(),
            job_id: "job-1".into(),
            execution_id: "job-1-exec".into(),
            queue: "default".into(),
            started_at: t0,
        };
        let ended_at = t0 + chrono::Duration::milliseconds(5);
        let mut states = Vec::new();
        for together in [false, true] {
            let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
            // As the take leaves it: queued hash with its enqueue TTL, id in the intermediate
            // list; an idle worker hash with a finished job before.
            let _: () = con
                .hset_multiple(
                    keys.job("job-1"),
                    &[("status", "queued"), ("origin", "default")],
                )
                .unwrap();
            let _: () = con.expire(keys.job("job-1"), 900).unwrap();
            let _: () = con.rpush(keys.intermediate("default"), "other").unwrap();
            let _: () = con.rpush(keys.intermediate("default"), "job-1").unwrap();
            let _: () = con
                .hset_multiple(
                    keys.worker("w-1"),
                    &[("state", "idle"), ("successful_job_count", "4")],
                )
                .unwrap();
            // The idle TTL, as birth and heartbeats keep it: a job ended with its start leaves
            // the TTL alone (no `EXPIRE`), start + end set it to the busy TTL and back.
            let _: () = con
                .expire(keys.worker("w-1"), lifecycle::IDLE_WORKER_TTL)
                .unwrap();
            seed_dependencies(&mut con, &keys, with_child, own_dependencies);
            let mut g = GuardedEnds::new(&keys);
            if together {
                assert!(g.push_run(&keys, &exec, &end, ended_at, known(4, "0"), "default"));
            } else {
                let mut starts = Starts::new(&keys, t0);
                starts.push(&exec, 90, "default");
                let failed =
                    parse_failed(starts.invocation(&start_script).invoke(&mut con).unwrap());
                assert!(failed.is_empty(), "{failed:?}");
                g.push_end(&keys, &exec, &end, ended_at, known(4, "0"));
            }
            let reply: Vec<String> = g.invocation(&end_script, t0).invoke(&mut con).unwrap();
            let applied = parse_reply(reply);
            assert!(applied[0].applied && applied[0].errors == 0, "{applied:?}");
            states.push(dump(&mut con));
        }
        assert!(states[0].len() >= 4, "{:#?}", states[0]);
        assert_eq!(states[1], states[0], "{end:?}");

        // Sent again (a lost reply): skipped, nothing changes.
        let mut g = GuardedEnds::new(&keys);
        assert!(g.push_run(&keys, &exec, &end, ended_at, known(4, "0"), "default"));
        let reply: Vec<String> = g.invocation(&end_script, t0).invoke(&mut con).unwrap();
        assert!(!parse_reply(reply)[0].applied);
        // A start that arrives after its job's end changes nothing either.
        let mut starts = Starts::new(&keys, t0);
        starts.push(&exec, 90, "default");
        let failed = parse_failed(starts.invocation(&start_script).invoke(&mut con).unwrap());
        assert_eq!(failed, vec![("job-1".to_string(), NOT_TAKEN.to_string())]);
        assert_eq!(dump(&mut con), states[1]);
        let left: Vec<String> = con.lrange(keys.intermediate("default"), 0, -1).unwrap();
        assert_eq!(left, vec!["other".to_string()]);
    }
}

/// Only the common success has the start-and-end form; every other end is refused by
/// `push_run` (the writer then writes the start first).
#[test]
fn only_a_kept_success_can_be_written_with_its_start() {
    let keys = Keys::new("rq");
    let exec = Execution {
        worker: "w-1".into(),
        job_id: "j".into(),
        execution_id: "e".into(),
        queue: "default".into(),
        started_at: now(),
    };
    let mut g = GuardedEnds::new(&keys);
    let failure = JobEnd::Failure {
        status: "failed",
        failure_ttl: None,
        exc_string: "x".into(),
    };
    let unkept = JobEnd::Success {
        result_ttl: 0,
        return_value: None,
        repeat: None,
        has_dependencies: false,
    };
    assert!(!g.push_run(
        &keys,
        &exec,
        &failure,
        now(),
        Counters::default(),
        "default"
    ));
    assert!(!g.push_run(&keys, &exec, &unkept, now(), known(0, "0"), "default"));
    assert!(g.is_empty());
}

/// A batch of jobs taken from two queues, most of them ended before their starts were written
/// (`push_run`), one failed after its start: one script call leaves Redis as every start and
/// end written one by one, each in its own call, does. The compact successes of a run share
/// their worker-hash and finished-registry writes (issue 17), which must not show.
#[test]
fn a_batch_of_jobs_ended_before_their_starts_leaves_what_their_own_writes_leave() {
    use rq_protocol::start::{parse_failed, Starts, START_SCRIPT};
    let server = RedisServer::start();
    let mut con = server.con();
    let keys = Keys::new("rq");
    let end_script = redis::Script::new(END_SCRIPT);
    let start_script = redis::Script::new(START_SCRIPT);
    let (success, failure) = (kept(Some("gASVBQAAAAAAAAB9lC4=")), failed());
    // (job, queue, end, working ms)
    let plan = [
        ("j1", "high", &success, 5),
        ("j2", "high", &success, 7),
        ("j3", "default", &success, 3),
        ("j4", "default", &failure, 11),
        ("j5", "default", &success, 13),
        ("j6", "high", &success, 2),
    ];
    let t0 = now();
    let mut states = Vec::new();
    for together in [false, true] {
        let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
        let _: () = con
            .hset_multiple(keys.worker("w-1"), &[("state", "idle")])
            .unwrap();
        let _: () = con.expire(keys.worker("w-1"), 420).unwrap();
        for (id, q, _, _) in plan {
            let _: () = con
                .hset_multiple(keys.job(id), &[("status", "queued"), ("origin", q)])
                .unwrap();
            let _: () = con.rpush(keys.intermediate(q), id).unwrap();
        }
        let mut batch = GuardedEnds::new(&keys);
        for (id, q, end, ms) in plan {
            let exec = Execution {
                worker: "w-1".into(),
                job_id: id.into(),
                execution_id: format!("{id}-exec"),
                queue: q.into(),
                started_at: t0,
            };
            let ended_at = t0 + chrono::Duration::milliseconds(ms);
            let mut one = GuardedEnds::new(&keys);
            let g = if together { &mut batch } else { &mut one };
            // Together: the counters known (none yet) and set; one by one: incremented.
            let count = if together {
                known(0, "0")
            } else {
                Counters::default()
            };
            if !g.push_run(&keys, &exec, end, ended_at, count, q) {
                let mut starts = Starts::new(&keys, t0);
                starts.push(&exec, 90, q);
                let failed =
                    parse_failed(starts.invocation(&start_script).invoke(&mut con).unwrap());
                assert!(failed.is_empty(), "{failed:?}");
                g.push_end(&keys, &exec, end, ended_at, count);
            }
            if !together {
                let reply: Vec<String> = one.invocation(&end_script, t0).invoke(&mut con).unwrap();
                let applied = parse_reply(reply);
                assert!(applied[0].applied && applied[0].errors == 0, "{applied:?}");
            }
        }
        if together {
            let reply: Vec<String> = batch.invocation(&end_script, t0).invoke(&mut con).unwrap();
            let applied = parse_reply(reply);
            assert_eq!(applied.len(), plan.len());
            assert!(
                applied.iter().all(|a| a.applied && a.errors == 0),
                "{applied:?}"
            );
        }
        states.push(dump(&mut con));
    }
    assert!(states[0].len() >= 15, "{:#?}", states[0]);
    assert_eq!(states[1], states[0]);
    let count: i64 = con
        .hget(keys.worker("w-1"), "successful_job_count")
        .unwrap();
    assert_eq!(count, 5);
    let finished: Vec<String> = con.zrange(keys.finished("high"), 0, -1).unwrap();
    assert_eq!(finished.len(), 3, "{finished:?}");
}
