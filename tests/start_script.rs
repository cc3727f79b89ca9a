//! The compact start script (`rq::start`) leaves Redis exactly as the start transaction
//! (`rq::lifecycle::start`, Python's two start transactions folded into one) does: same keys,
//! types, fields, members, scores and TTLs; and a job whose start fails does not stop the others.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use common::{dump, RedisServer};
use redis::Commands;
use task_worker::rq::lifecycle::{self, Execution};
use task_worker::rq::start::{parse_failed, Starts, START_SCRIPT};
use task_worker::rq::time::now;
use task_worker::rq::Keys;

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
            worker: format!("w-{}", i + 1),
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
    let ids = ["a", "b", "c"];
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
        starts.push(e, 90 + i as i64, Some("default"));
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
        starts.push(e, 90, Some("default"));
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
