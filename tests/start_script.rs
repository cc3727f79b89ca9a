//! The compact start script (`rq::start`) leaves Redis exactly as the start transaction
//! (`rq::lifecycle::start`, Python's two start transactions folded into one) does: same keys,
//! types, fields, members, scores and TTLs; and a job whose start fails does not stop the others.
//! Also what a start leaves for the heartbeats: the worker's execution set expires with the
//! worker, and a heartbeat sent after its job ended leaves no execution behind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use common::{dump, RedisServer};
use redis::Commands;
use rq_protocol::dequeue::{
    join_hashes, last_queue_index, parse_taken, ScanOrder, Take, TakeReply, Taken, Unrunnable,
};
use rq_protocol::lifecycle::{self, Execution};
use rq_protocol::start::{parse_failed, Starts, NOT_TAKEN, START_SCRIPT};
use rq_protocol::time::now;
use rq_protocol::Keys;

fn seed(con: &mut redis::Connection, keys: &Keys, ids: &[&str]) {
    let _: () = redis::cmd("FLUSHALL").query(con).unwrap();
    for id in ids {
        let _: () = con
            .hset_multiple(keys.job(id), &[("status", "queued"), ("origin", "default")])
            .unwrap();
        let _: () = con.expire(keys.job(id), 500).unwrap();
        let _: () = con.rpush(keys.intermediate("default"), id).unwrap();
    }
    let _: () = con.hset(keys.worker("w-1"), "state", "idle").unwrap();
    let _: () = con.expire(keys.worker("w-1"), 420).unwrap();
}

fn execs(ids: &[&str]) -> Vec<Execution> {
    let at = now();
    ids.iter()
        .enumerate()
        .map(|(i, id)| Execution {
            worker: format!("w-{}", i % 2 + 1),
            job_id: id.to_string(),
            execution_id: format!("{id}-exec"),
            queue: "default".into(),
            started_at: at,
        })
        .collect()
}

#[test]
fn the_script_writes_what_the_start_transaction_writes() {
    let server = RedisServer::start();
    let mut con = server.con();
    let keys = Keys::new("rq");
    // Two workers, several jobs each, different TTLs.
    let ids = ["a", "b", "c", "d", "e"];
    let execs = execs(&ids);

    seed(&mut con, &keys, &ids);
    let mut p = redis::pipe();
    p.atomic();
    for (i, e) in execs.iter().enumerate() {
        lifecycle::start(&mut p, &keys, e, 90 + i as i64, Some("default"));
    }
    p.query::<()>(&mut con).unwrap();
    let by_transaction = dump(&mut con);

    seed(&mut con, &keys, &ids);
    let script = redis::Script::new(START_SCRIPT);
    let mut starts = Starts::new(&keys, execs[0].started_at);
    for (i, e) in execs.iter().enumerate() {
        starts.push(e, 90 + i as i64, "default");
    }
    let failed: Vec<String> = starts.invocation(&script).invoke(&mut con).unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    let by_script = dump(&mut con);

    assert!(by_transaction.len() > 10, "{by_transaction:#?}");
    assert_eq!(by_script, by_transaction);
}

#[test]
fn a_job_whose_start_fails_does_not_stop_the_others() {
    let server = RedisServer::start();
    let mut con = server.con();
    let keys = Keys::new("rq");
    let ids = ["a", "b"];
    seed(&mut con, &keys, &ids);
    // A user overwrote job a's hash with a string.
    let _: () = con.set(keys.job("a"), "oops").unwrap();
    let execs = execs(&ids);
    let script = redis::Script::new(START_SCRIPT);
    let mut starts = Starts::new(&keys, execs[0].started_at);
    for e in &execs {
        starts.push(e, 90, "default");
    }
    let failed = parse_failed(starts.invocation(&script).invoke(&mut con).unwrap());
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "a");
    assert!(failed[0].1.contains("WRONGTYPE"), "{failed:?}");
    let status: String = con.hget(keys.job("b"), "status").unwrap();
    assert_eq!(status, "started");
    // a's id stays in the intermediate list for maintenance; b's is gone from it.
    let left: Vec<String> = con.lrange(keys.intermediate("default"), 0, -1).unwrap();
    assert_eq!(left, vec!["a".to_string()]);
}

/// The start is guarded by the id still being in its intermediate list: sent again (a retry
/// after a lost reply) it changes nothing, and a start for an id that left the list (its job
/// already ended, or maintenance requeued it as stuck) writes nothing and is reported.
#[test]
fn a_start_applies_only_while_its_id_is_taken() {
    let server = RedisServer::start();
    let mut con = server.con();
    let keys = Keys::new("rq");
    let ids = ["a", "b"];
    seed(&mut con, &keys, &ids);
    let execs = execs(&ids);
    let script = redis::Script::new(START_SCRIPT);
    let mut first = Starts::new(&keys, execs[0].started_at);
    first.push(&execs[0], 90, "default");
    let failed = parse_failed(first.invocation(&script).invoke(&mut con).unwrap());
    assert!(failed.is_empty(), "{failed:?}");
    let after_first = dump(&mut con);

    // Sent again: reported, and Redis is exactly as before.
    let again = parse_failed(first.invocation(&script).invoke(&mut con).unwrap());
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0], ("a".to_string(), NOT_TAKEN.to_string()));
    assert_eq!(dump(&mut con), after_first);

    // b left the list (requeued as stuck by a peer): its start writes nothing at all.
    let _: () = con.lrem(keys.intermediate("default"), 1, "b").unwrap();
    let _: () = con.rpush(keys.queue("default"), "b").unwrap();
    let before = dump(&mut con);
    let mut second = Starts::new(&keys, execs[1].started_at);
    second.push(&execs[1], 90, "default");
    let failed = parse_failed(second.invocation(&script).invoke(&mut con).unwrap());
    assert_eq!(failed, vec![("b".to_string(), NOT_TAKEN.to_string())]);
    assert_eq!(dump(&mut con), before);
    let status: String = con.hget(keys.job("b"), "status").unwrap();
    assert_eq!(status, "queued");
}

/// The take script moves a batch with one `LRANGE`, `LTRIM` and `RPUSH` per queue: the lists
/// end as the same number of `LMOVE`s leave them, in priority order, and an emptied queue's key
/// is gone.
#[test]
fn a_batch_take_moves_what_lmoves_move() {
    let server = RedisServer::start();
    let mut con = server.con();
    let keys = Keys::new("rq");
    let queues = ["high".to_string(), "low".to_string()];
    let seed = |con: &mut redis::Connection| {
        let _: () = redis::cmd("FLUSHALL").query(con).unwrap();
        for (q, n) in [("high", 3), ("low", 5)] {
            for i in 0..n {
                let id = format!("{q}-{i}");
                let _: () = con.rpush(keys.queue(q), &id).unwrap();
                let _: () = con.hset(keys.job(&id), "status", "queued").unwrap();
            }
        }
        // Another worker's id already waits in an intermediate list.
        let _: () = con.rpush(keys.intermediate("low"), "other").unwrap();
    };
    let take = Take::new(&keys, &queues);
    for n in [1usize, 2, 4, 8, 20] {
        seed(&mut con);
        let mut expected = Vec::new();
        'outer: for q in &queues {
            while expected.len() < n {
                let id: Option<String> = redis::cmd("LMOVE")
                    .arg(keys.queue(q))
                    .arg(keys.intermediate(q))
                    .arg("LEFT")
                    .arg("RIGHT")
                    .query(&mut con)
                    .unwrap();
                match id {
                    Some(id) => expected.push(id),
                    None => continue 'outer,
                }
            }
        }
        let by_lmove = dump(&mut con);

        seed(&mut con);
        // A user overwrote one job's hash with a string: that id alone is unreadable.
        let _: () = con.set(keys.job("high-1"), "oops").unwrap();
        let reply = take.invocation(n).invoke(&mut con).unwrap();
        // One job: the hash comes with the script; several: read by a pipeline.
        let reply = match take.after_script(reply) {
            TakeReply::Complete(reply) => {
                assert!(n == 1, "n = {n}");
                reply
            }
            TakeReply::NeedHashes { ids, reads } => {
                assert!(n > 1, "n = {n}");
                join_hashes(ids, reads.query(&mut con).unwrap())
            }
        };
        let Taken::Jobs(jobs, unreadable) = parse_taken(reply, queues.len()) else {
            panic!("suspended?")
        };
        let mut got: Vec<String> = jobs.iter().map(|(_, id, _)| id.clone()).collect();
        if n >= 2 {
            assert_eq!(unreadable.len(), 1, "n = {n}");
            assert_eq!(unreadable[0].id, b"high-1");
            assert!(
                matches!(&unreadable[0].why, Unrunnable::NotAHash(e) if e.contains("WRONGTYPE")),
                "{unreadable:?}"
            );
            got.insert(1, "high-1".into());
        } else {
            assert!(unreadable.is_empty());
        }
        assert_eq!(got, expected, "n = {n}");
        assert!(jobs.iter().all(|(_, _, h)| h.contains_key("status")));
        let _: () = con.del(keys.job("high-1")).unwrap();
        let _: () = con.hset(keys.job("high-1"), "status", "queued").unwrap();
        assert_eq!(dump(&mut con), by_lmove, "n = {n}");
    }
    // Room for 8, one job queued (jobs arriving one by one): its hash comes with the script, no
    // second round trip.
    let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
    let _: () = con.rpush(keys.queue("low"), "only").unwrap();
    let _: () = con.hset(keys.job("only"), "status", "queued").unwrap();
    let reply = take.invocation(8).invoke(&mut con).unwrap();
    let TakeReply::Complete(reply) = take.after_script(reply) else {
        panic!("one job taken: its hash should come with the script")
    };
    let Taken::Jobs(jobs, _) = parse_taken(reply, queues.len()) else {
        panic!("suspended?")
    };
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].0, jobs[0].1.as_str()), (1, "only"));
    assert_eq!(
        jobs[0].2.get("status").map(Vec::as_slice),
        Some(&b"queued"[..])
    );
}

/// RQ 3.0's worker heartbeat (`Worker.heartbeat`) sets one TTL on the worker hash and on its
/// execution set, at the start of a job and while it runs: the set expires with the worker
/// (found by tests/interop/test_python_differential.py).
#[test]
fn the_workers_execution_set_expires_with_the_worker() {
    let server = RedisServer::start();
    let mut con = server.con();
    let keys = Keys::new("rq");
    let ttls = |con: &mut redis::Connection| -> (i64, i64) {
        redis::pipe()
            .atomic()
            .ttl(keys.worker("w-1"))
            .ttl(keys.worker_executions("w-1"))
            .query(con)
            .unwrap()
    };
    let exec = &execs(&["a"])[0];

    seed(&mut con, &keys, &["a"]);
    let script = redis::Script::new(START_SCRIPT);
    let mut starts = Starts::new(&keys, exec.started_at);
    starts.push(exec, 90, "default");
    let failed: Vec<String> = starts.invocation(&script).invoke(&mut con).unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    let (worker, set) = ttls(&mut con);
    assert!(worker > 60, "{worker}");
    assert_eq!(set, worker);

    seed(&mut con, &keys, &["a"]);
    let mut p = redis::pipe();
    p.atomic();
    lifecycle::start(&mut p, &keys, exec, 90, Some("default"));
    p.query::<()>(&mut con).unwrap();
    let (worker, set) = ttls(&mut con);
    assert_eq!(set, worker);

    let mut p = redis::pipe();
    p.atomic();
    lifecycle::execution_heartbeat(&mut p, &keys, exec, 300, 1.5, now());
    p.query::<()>(&mut con).unwrap();
    let (worker, set) = ttls(&mut con);
    assert!(worker > 200, "{worker}");
    assert_eq!(set, worker);
}

/// The heartbeat takes its view of the busy slots, then the job ends and its end is written,
/// then the heartbeat's transaction runs: it must not leave the ended execution behind (found
/// by tests/interop/test_python_differential.py under load: a stub `rq:execution:<id>:<eid>`
/// with only `last_heartbeat`, and `rq:executions:<id>` re-created).
#[test]
fn a_heartbeat_after_the_end_leaves_no_execution_behind() {
    let server = RedisServer::start();
    let mut con = server.con();
    let keys = Keys::new("rq");
    let exec = &execs(&["a"])[0];
    seed(&mut con, &keys, &["a"]);
    let mut p = redis::pipe();
    p.atomic();
    lifecycle::start(&mut p, &keys, exec, 90, Some("default"));
    p.query::<()>(&mut con).unwrap();

    // While it runs, a heartbeat finds everything in place.
    let beat = |con: &mut redis::Connection| {
        let mut p = redis::pipe();
        p.atomic();
        lifecycle::execution_heartbeat(&mut p, &keys, exec, 90, 1.0, now());
        let replies: Vec<i64> = p.query(con).unwrap();
        lifecycle::heartbeat_replies(&replies, 0).busy
    };
    assert_eq!(beat(&mut con), vec![(false, false, false)]);

    // The end's removals of the execution (end.lua), then the late beat.
    let _: () = redis::pipe()
        .atomic()
        .del(keys.execution("a", &exec.execution_id))
        .zrem(keys.executions("a"), &exec.execution_id)
        .zrem(keys.wip("default"), exec.composite())
        .srem(keys.worker_executions("w-1"), exec.composite())
        .query(&mut con)
        .unwrap();
    let busy = beat(&mut con);
    assert_eq!(busy, vec![(false, true, false)]);
    let mut fix = redis::pipe();
    lifecycle::drop_execution_stub(&mut fix, &keys, exec);
    fix.query::<()>(&mut con).unwrap();
    let left: Vec<String> = con.keys("rq:execution*").unwrap();
    assert_eq!(left, Vec::<String>::new());
    let wip: Vec<String> = con.zrange(keys.wip("default"), 0, -1).unwrap();
    assert_eq!(wip, Vec::<String>::new());
}

/// The take script's scan orders (RQ's dequeue strategies): a round-robin batch takes what that
/// many RQ dequeues with `round_robin` take, one id per scan, each scan after the queue the
/// previous id came from; per-id lists give each id its own order.
#[test]
fn the_take_follows_rqs_dequeue_strategies() {
    let server = RedisServer::start();
    let mut con = server.con();
    let keys = Keys::new("rq");
    let queues: Vec<String> = ["q1", "q2", "q3"].iter().map(|q| q.to_string()).collect();
    let seed = |con: &mut redis::Connection| {
        let _: () = redis::cmd("FLUSHALL").query(con).unwrap();
        for (q, ids) in [
            ("q1", &["a1", "a2", "a3"][..]),
            ("q2", &["b1", "b2"]),
            ("q3", &["c1"]),
        ] {
            for id in ids {
                let _: () = con.rpush(keys.queue(q), id).unwrap();
                let _: () = con.hset(keys.job(id), "status", "queued").unwrap();
            }
        }
    };
    let take = Take::new(&keys, &queues);
    let run = |con: &mut redis::Connection, n: usize, order: &ScanOrder| {
        let reply = take.invocation_in(n, order).invoke(con).unwrap();
        let reply = match take.after_script(reply) {
            TakeReply::Complete(reply) => reply,
            TakeReply::NeedHashes { ids, reads } => join_hashes(ids, reads.query(con).unwrap()),
        };
        let last = last_queue_index(&reply);
        let Taken::Jobs(jobs, _) = parse_taken(reply, 3) else {
            panic!("suspended?")
        };
        (
            jobs.into_iter()
                .map(|(q, id, _)| (q, id))
                .collect::<Vec<_>>(),
            last,
        )
    };
    // A batch of 5 from the start, as 5 RQ dequeues: a1 b1 c1 a2 b2, each from its own queue.
    seed(&mut con);
    let (got, last) = run(&mut con, 5, &ScanOrder::RoundRobin { start: 0 });
    let ids: Vec<&str> = got.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, ["a1", "b1", "c1", "a2", "b2"]);
    assert_eq!(got[2].0, 2);
    assert_eq!(last, Some(1));
    // The same one id at a time, the start moved after the queue each came from.
    seed(&mut con);
    let mut start = 0;
    let mut one_by_one = Vec::new();
    loop {
        let (got, last) = run(&mut con, 1, &ScanOrder::RoundRobin { start });
        let Some(last) = last else { break };
        one_by_one.push(got[0].1.clone());
        start = (last + 1) % 3;
    }
    assert_eq!(one_by_one, ["a1", "b1", "c1", "a2", "b2", "a3"]);
    // Per-id lists: q3 first, then q2 first, then (a malformed list) priority order.
    seed(&mut con);
    let (got, _) = run(
        &mut con,
        3,
        &ScanOrder::Lists(vec![vec![2, 0, 1], vec![1, 2, 0], vec![0, 0, 0]]),
    );
    let ids: Vec<&str> = got.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, ["c1", "b1", "a1"]);
    // Every id taken sits in its queue's intermediate list.
    let moved: Vec<String> = con.lrange(keys.intermediate("q2"), 0, -1).unwrap();
    assert_eq!(moved, ["b1"]);
}
