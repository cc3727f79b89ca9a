//! Enqueueing a job exactly as Python's `Queue.enqueue` writes it (the job hash, `rq:queues`,
//! the queue list) and RQ's call string for its `description`. Used by `task-worker submit`.

use redis::Pipeline;

use super::codec::{self, CodecError, Payload, Serializer};
use super::job::status;
use super::keys::Keys;
use super::time::{format_datetime, now};
use crate::value::Value;

/// `rq.utils.get_call_string(func, args, kwargs, max_length=75)`: reprs cut to 75 chars + `...`,
/// kwargs as `k=repr` sorted (rq-protocol.md §3.1 `description`).
pub fn call_string(func: &str, args: &[Value], kwargs: &[(String, Value)]) -> String {
    fn cut(s: String) -> String {
        match s.char_indices().nth(75) {
            Some((i, _)) => format!("{}...", &s[..i]),
            None => s,
        }
    }
    let mut parts: Vec<String> = args.iter().map(|a| cut(a.py_repr())).collect();
    let mut kw: Vec<String> = kwargs
        .iter()
        .map(|(k, v)| format!("{k}={}", cut(v.py_repr())))
        .collect();
    kw.sort();
    parts.extend(kw);
    format!("{func}({})", parts.join(", "))
}

/// A job to enqueue: what `Queue.enqueue(func, *args, **kwargs)` is given.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The new job's id.
    pub job_id: String,
    /// The queue it goes onto (its `origin`).
    pub queue: String,
    /// The function and its arguments, written as the `data` field.
    pub payload: Payload,
    /// The job's `description` (RQ's `get_call_string`, see [`call_string`]).
    pub description: String,
    /// Seconds (`job_timeout`).
    pub timeout: i64,
}

impl NewJob {
    /// The enqueue transaction: job hash (status first, as `set_status` precedes `save`),
    /// `SADD rq:queues`, `RPUSH rq:queue:<q>`.
    pub fn pipeline(&self, keys: &Keys, ser: Serializer) -> Result<Pipeline, CodecError> {
        let data = codec::encode_data(&self.payload, ser)?;
        let ts = format_datetime(now());
        let job_key = keys.job(&self.job_id);
        let mut p = redis::pipe();
        p.atomic();
        p.cmd("HSET")
            .arg(&job_key)
            .arg("status")
            .arg(status::QUEUED)
            .ignore();
        p.cmd("HSET")
            .arg(&job_key)
            .arg("created_at")
            .arg(&ts)
            .arg("data")
            .arg(data)
            .arg("success_callback_name")
            .arg("")
            .arg("failure_callback_name")
            .arg("")
            .arg("stopped_callback_name")
            .arg("")
            .arg("started_at")
            .arg("")
            .arg("ended_at")
            .arg("")
            .arg("last_heartbeat")
            .arg("")
            .arg("worker_name")
            .arg("")
            .arg("group_id")
            .arg("")
            .arg("origin")
            .arg(&self.queue)
            .arg("description")
            .arg(&self.description)
            .arg("enqueued_at")
            .arg(&ts)
            .arg("timeout")
            .arg(self.timeout)
            .arg("status")
            .arg(status::QUEUED)
            .ignore();
        p.cmd("SADD")
            .arg(keys.queues())
            .arg(keys.queue(&self.queue))
            .ignore();
        p.cmd("RPUSH")
            .arg(keys.queue(&self.queue))
            .arg(&self.job_id)
            .ignore();
        Ok(p)
    }
}
