//! Redis Sentinel test clusters (tests/sentinel.rs, tests/sentinel_secure.rs): what the tests ask
//! the sentinels, the master and the replica, through a [`Connect`] that knows how to reach them
//! (plain TCP, passwords, TLS).

use std::time::Duration;

use redis::Commands;
use rq_protocol::codec::{Payload, Serializer};
use rq_protocol::enqueue::NewJob;
use rq_protocol::keys::Keys;
use rq_protocol::value::Value;

use super::{wait_until, RedisServer};

/// The name the sentinels monitor the master under.
pub const MASTER: &str = "mymaster";

/// How a test reaches the servers of a cluster by port.
pub trait Connect {
    /// A connection to a master or replica; `None` while it does not answer.
    fn data(&self, port: u16) -> Option<redis::Connection>;
    /// A connection to a sentinel; `None` while it does not answer.
    fn sentinel(&self, port: u16) -> Option<redis::Connection>;
}

/// Plain TCP without credentials, to every server.
pub struct Plain;

impl Connect for Plain {
    fn data(&self, port: u16) -> Option<redis::Connection> {
        con(port)
    }

    fn sentinel(&self, port: u16) -> Option<redis::Connection> {
        con(port)
    }
}

/// A plain connection to 127.0.0.1:`port` (2 s timeout); `None` while it does not answer.
pub fn con(port: u16) -> Option<redis::Connection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
    client
        .get_connection_with_timeout(Duration::from_secs(2))
        .ok()
}

/// The first word of `ROLE` on `port` (`master`, `slave`).
pub fn role(c: &impl Connect, port: u16) -> Option<String> {
    let mut c = c.data(port)?;
    let r: Vec<redis::Value> = redis::cmd("ROLE").query(&mut c).ok()?;
    match r.first()? {
        redis::Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        redis::Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// The master's address as the sentinel on `port` names it.
pub fn master_addr(c: &impl Connect, port: u16) -> Option<(String, u16)> {
    let mut c = c.sentinel(port)?;
    redis::cmd("SENTINEL")
        .arg("get-master-addr-by-name")
        .arg(MASTER)
        .query(&mut c)
        .ok()?
}

/// The sentinels' addresses as `--redis-sentinels` takes them (`127.0.0.1:PORT,...`).
pub fn sentinel_list(sentinels: &[RedisServer]) -> String {
    sentinels
        .iter()
        .map(|s| format!("127.0.0.1:{}", s.port))
        .collect::<Vec<_>>()
        .join(",")
}

/// Waits until the replica on `port` reports its link to the master up.
pub fn wait_replica_link(c: &impl Connect, port: u16) {
    wait_until("the replica's link to the master", 30, || {
        let mut c = c.data(port)?;
        let info: String = redis::cmd("INFO").arg("replication").query(&mut c).ok()?;
        info.contains("master_link_status:up").then_some(())
    });
}

/// Waits until each sentinel knows the replica and the two other sentinels.
pub fn wait_sentinels_ready(c: &impl Connect, sentinels: &[RedisServer]) {
    for s in sentinels {
        wait_until(
            "each sentinel to know the replica and the others",
            60,
            || {
                let mut c = c.sentinel(s.port)?;
                let kv: Vec<String> = redis::cmd("SENTINEL")
                    .arg("master")
                    .arg(MASTER)
                    .query(&mut c)
                    .ok()?;
                let field = |f: &str| -> Option<u32> {
                    kv.chunks(2).find(|p| p[0] == f)?.get(1)?.parse().ok()
                };
                (field("num-slaves")? >= 1 && field("num-other-sentinels")? >= 2).then_some(())
            },
        );
    }
}

/// Sends `SENTINEL FAILOVER` to the sentinel on `port` until it accepts it.
pub fn request_failover(c: &impl Connect, port: u16) {
    wait_until("SENTINEL FAILOVER to be accepted", 60, || {
        let mut s = c.sentinel(port)?;
        redis::cmd("SENTINEL")
            .arg("FAILOVER")
            .arg(MASTER)
            .query::<()>(&mut s)
            .ok()
    });
}

/// Waits until every sentinel names `port` as the master and the server there says it is one.
pub fn wait_for_master(c: &impl Connect, sentinels: &[RedisServer], port: u16) {
    wait_until("the sentinels to name the new master", 60, || {
        let all = sentinels
            .iter()
            .all(|s| master_addr(c, s.port).is_some_and(|(_, p)| p == port));
        (all && role(c, port).as_deref() == Some("master")).then_some(())
    });
}

/// Enqueues `func(*args)` on queue `default` of the master on `port`, as RQ does; its job id.
pub fn enqueue(c: &impl Connect, port: u16, func: &str, args: Vec<Value>) -> String {
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
    p.query::<()>(&mut c.data(port).unwrap()).unwrap();
    id
}

/// Enqueues `n` `echo` jobs on `port` with the values `first`, `first + 1`, ...; their ids.
pub fn enqueue_echoes(c: &impl Connect, port: u16, n: i64, first: i64) -> Vec<String> {
    (0..n)
        .map(|i| enqueue(c, port, "echo", vec![Value::Int(first + i)]))
        .collect()
}

/// The status field of job `id` on `port`.
pub fn status(c: &impl Connect, port: u16, id: &str) -> Option<String> {
    c.data(port)?.hget(format!("rq:job:{id}"), "status").ok()?
}

/// Waits until every job of `ids` on `port` has finished.
pub fn wait_finished(c: &impl Connect, port: u16, ids: &[String], what: &str) {
    wait_until(what, 60, || {
        let mut con = c.data(port)?;
        ids.iter()
            .all(|id| {
                con.hget::<_, _, Option<String>>(format!("rq:job:{id}"), "status")
                    .ok()
                    .flatten()
                    .as_deref()
                    == Some("finished")
            })
            .then_some(())
    });
}

/// Every job finished exactly once, on `port`, and nothing is left taken or started.
pub fn check_exactly_once(c: &impl Connect, port: u16, ids: &[String]) {
    let mut c = c.data(port).unwrap();
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
