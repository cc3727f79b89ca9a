//! Reliable, priority-ordered dequeue (rq-protocol.md §6.3, §7.2).
//!
//! RQ's single-queue worker moves a job id atomically from `rq:queue:<q>` into
//! `rq:queue:<q>:intermediate` (`BLMOVE`), so a crash between pop and start leaves the id where
//! maintenance (Python's or ours) recovers it. Its multi-queue `BLPOP` has no such safety. This
//! script gives every configuration the single-queue guarantee: it walks the queues in priority
//! order and moves up to `n` ids into their queue's intermediate list, atomically. Python peers
//! read the same lists the same way, so nothing changes for them.
//!
//! The script also checks `rq:suspended` first (§6.3 step 1). When it takes one job it returns
//! the job's hash too (`HGETALL` in the script), saving a round trip (jobs arriving one by one);
//! when it takes several it returns the ids only and the hashes are read by a plain pipeline ([`TakeReply::NeedHashes`]): a hash
//! passed through Lua is converted to a Lua table and back, which cost Redis about three times
//! the `HGETALL` itself (issue 17: 12 against 2.3 µs per job in the script, measured).

use std::collections::HashMap;

use redis::Value;

/// KEYS: `[suspended, queue_1..queue_k, intermediate_1..intermediate_k]`; ARGV: `[n, prefix]`.
/// Returns `["S"]` when suspended; `[]` when nothing was taken; for one job taken
/// `[queue_index, job_id, hash]`, `hash` being the `HGETALL` reply of `<prefix>:job:<id>` (empty
/// when it is gone) or the error text (a string, not an array) when that key cannot be read as a
/// hash (WRONGTYPE); for several, pairs `[queue_index, job_id, …]` (at most `n`), an even length.
pub const TAKE_SCRIPT: &str = include_str!("scripts/take.lua");

/// [`TAKE_SCRIPT`] for one set of queues, its keys built once.
pub struct Take {
    script: redis::Script,
    keys: Vec<String>,
    prefix: String,
}

impl Take {
    /// The take for `queues`, highest priority first.
    pub fn new(keys: &super::Keys, queues: &[String]) -> Self {
        let mut k = vec![keys.suspended()];
        k.extend(queues.iter().map(|q| keys.queue(q)));
        k.extend(queues.iter().map(|q| keys.intermediate(q)));
        Take {
            script: redis::Script::new(TAKE_SCRIPT),
            keys: k,
            prefix: keys.prefix().to_string(),
        }
    }

    /// The call that takes up to `n` ids, in priority order; its reply goes to
    /// [`Take::after_script`].
    pub fn invocation(&self, n: usize) -> redis::ScriptInvocation<'_> {
        self.invocation_in(n, &ScanOrder::Priority)
    }

    /// The call that takes up to `n` ids scanning the queues in `order` (RQ's dequeue
    /// strategies); its reply goes to [`Take::after_script`]. The queue indices in the reply are
    /// those of the queues given to [`Take::new`], whatever the order.
    pub fn invocation_in(&self, n: usize, order: &ScanOrder) -> redis::ScriptInvocation<'_> {
        let mut inv = self.script.prepare_invoke();
        for k in &self.keys {
            inv.key(k);
        }
        inv.arg(n).arg(&self.prefix);
        match order {
            ScanOrder::Priority => {}
            ScanOrder::RoundRobin { start } => {
                inv.arg("r").arg(*start);
            }
            ScanOrder::Lists(lists) => {
                inv.arg("s");
                let k = (self.keys.len() - 1) / 2;
                // One list per id to take; a short or wrong list falls back to priority order.
                for t in 0..n {
                    let list = lists.get(t).filter(|l| is_permutation(l, k));
                    match list {
                        Some(l) => l.iter().for_each(|i| {
                            inv.arg(*i);
                        }),
                        None => (0..k).for_each(|i| {
                            inv.arg(i);
                        }),
                    }
                }
            }
        }
        inv
    }

    /// The script's reply: complete (suspended, nothing taken, or one job with its hash: an odd
    /// length), or the ids of a batch with the pipeline that reads their hashes (much cheaper for
    /// Redis than reading them in the script).
    pub fn after_script(&self, reply: Value) -> TakeReply {
        let Value::Array(items) = reply else {
            return TakeReply::Complete(reply);
        };
        if items.len() % 2 == 1 || items.is_empty() {
            return TakeReply::Complete(Value::Array(items));
        }
        let mut reads = redis::pipe();
        // A key of the wrong type fails that id alone (its error comes back in its place).
        reads.ignore_errors();
        for id in items.iter().skip(1).step_by(2) {
            let mut key = format!("{}:job:", self.prefix).into_bytes();
            if let Value::BulkString(b) = id {
                key.extend_from_slice(b);
            }
            reads.cmd("HGETALL").arg(key);
        }
        TakeReply::NeedHashes { ids: items, reads }
    }
}

/// The order a worker looks at its queues in, for each job it takes (RQ's `DequeueStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DequeueStrategy {
    /// Strict priority: a queue is looked at only when every queue before it is empty.
    #[default]
    Default,
    /// After a job is taken from a queue, that queue moves to the end of the order (RQ's
    /// `round_robin`, `RoundRobinWorker`).
    RoundRobin,
    /// After each job the order is shuffled (RQ's `random`, `RandomWorker`).
    Random,
}

impl DequeueStrategy {
    /// RQ's name for it: `default`, `round_robin` or `random`.
    pub fn name(self) -> &'static str {
        match self {
            DequeueStrategy::Default => "default",
            DequeueStrategy::RoundRobin => "round_robin",
            DequeueStrategy::Random => "random",
        }
    }

    /// The strategy RQ calls `name`; `None` for any other name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "default" => Some(DequeueStrategy::Default),
            "round_robin" => Some(DequeueStrategy::RoundRobin),
            "random" => Some(DequeueStrategy::Random),
            _ => None,
        }
    }
}

/// The order in which one take scans the queues (RQ's `Worker._ordered_queues` and its dequeue
/// strategies, `Worker.reorder_queues`). Queue indices are 0-based positions in the queues given
/// to [`Take::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanOrder {
    /// Strict priority: the first queue until it is empty, then the next (RQ's `default`). A
    /// batch takes as many ids from a queue as it has.
    Priority,
    /// RQ's `round_robin`: each id is taken from the first non-empty queue scanning cyclically
    /// from `start`; the next scan begins after the queue it came from (one id per scan).
    RoundRobin {
        /// The queue the first scan begins with.
        start: usize,
    },
    /// One scan order per id to take (RQ's `random`: a shuffle after every job): the i-th id
    /// comes from the first non-empty queue of the i-th list. Each list names every queue once.
    Lists(Vec<Vec<usize>>),
}

fn is_permutation(list: &[usize], k: usize) -> bool {
    let mut seen = vec![false; k];
    list.len() == k
        && list
            .iter()
            .all(|&i| i < k && !std::mem::replace(&mut seen[i], true))
}

/// The queue index of the last id in a take script's reply (after [`join_hashes`]): where a
/// round-robin scan continues from. `None` when nothing was taken.
pub fn last_queue_index(reply: &Value) -> Option<usize> {
    let Value::Array(items) = reply else {
        return None;
    };
    if items.len() < 3 {
        return None;
    }
    let idx = items.get(items.len() / 3 * 3 - 3)?;
    bytes(idx.clone())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
}

/// See [`Take::after_script`].
pub enum TakeReply {
    /// Goes to [`parse_taken`] as it is.
    Complete(Value),
    /// Send `reads`, then give its replies to [`join_hashes`].
    NeedHashes {
        /// The script's `[queue_index, job_id, …]` pairs.
        ids: Vec<Value>,
        /// One `HGETALL` per id, in order.
        reads: redis::Pipeline,
    },
}

/// The take script's reply with the hashes inline, as [`parse_taken`] reads it: `ids` are the
/// script's `[queue_index, job_id, …]` pairs, `hashes` the replies of their `HGETALL`s (an error
/// in place of a hash becomes its text, as the script sends it).
pub fn join_hashes(ids: Vec<Value>, hashes: Vec<Value>) -> Value {
    let mut out = Vec::with_capacity(ids.len() / 2 * 3);
    let mut hashes = hashes.into_iter();
    let mut it = ids.into_iter();
    while let (Some(idx), Some(id)) = (it.next(), it.next()) {
        let hash = match hashes.next() {
            Some(Value::ServerError(e)) => Value::BulkString(e.to_string().into_bytes()),
            Some(h) => h,
            None => Value::BulkString(b"no reply to HGETALL".to_vec()),
        };
        out.extend([idx, id, hash]);
    }
    Value::Array(out)
}

/// Removes a taken id from its intermediate list without starting it (RQ skips an id whose
/// hash is gone, or a canceled job).
pub fn drop_taken(p: &mut redis::Pipeline, keys: &super::Keys, queue: &str, id: &str) {
    p.cmd("LREM")
        .arg(keys.intermediate(queue))
        .arg(1)
        .arg(id)
        .ignore();
}

/// Puts a taken id back at the front of its queue (after [`drop_taken`]).
pub fn return_taken(p: &mut redis::Pipeline, keys: &super::Keys, queue: &str, id: &str) {
    p.cmd("LPUSH").arg(keys.queue(queue)).arg(id).ignore();
}

/// A blocking peek at a queue: `BLMOVE q q LEFT LEFT <secs>` returns as soon as the queue has
/// an item and leaves the list as it was (pop and push back to the same end). Reply: the id or
/// nil after `secs`.
pub fn peek_blocking(keys: &super::Keys, queue: &str, secs: f64) -> redis::Cmd {
    let key = keys.queue(queue);
    let mut c = redis::cmd("BLMOVE");
    c.arg(&key).arg(&key).arg("LEFT").arg("LEFT").arg(secs);
    c
}

/// One taken job: its queue's index, its id and its hash fields (empty when the hash is gone).
pub type TakenJob = (usize, String, HashMap<String, Vec<u8>>);

/// What one call of the take script found.
#[derive(Debug, Clone, PartialEq)]
pub enum Taken {
    /// `rq:suspended` is set: take nothing.
    Suspended,
    /// Taken jobs in priority order; empty when all queues are empty. The second list holds
    /// taken ids that cannot be run at all: they are in the intermediate list and must be
    /// failed, not run nor dropped (see `lifecycle::reject_unreadable`).
    Jobs(Vec<TakenJob>, Vec<Unreadable>),
}

/// A taken id that cannot be run as a job.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    /// The index of the id's queue in the take's queues.
    pub queue: usize,
    /// The id as Redis holds it.
    pub id: Vec<u8>,
    /// Why it cannot be run.
    pub why: Unrunnable,
}

/// Why a taken id cannot be run as a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Unrunnable {
    /// RQ job ids are text; Python itself could not load this one.
    IdNotUtf8,
    /// `<prefix>:job:<id>` is not a hash; Redis's error text.
    NotAHash(String),
}

impl Unrunnable {
    /// The failure text recorded for the id (`job_key` is its `<prefix>:job:<id>`, shown lossily).
    pub fn message(&self, job_key: &str) -> String {
        match self {
            Unrunnable::IdNotUtf8 => format!(
                "InvalidJobId: job id in {job_key:?} is not valid UTF-8; RQ job ids are text, \
                 so it cannot be run"
            ),
            Unrunnable::NotAHash(err) => {
                format!("InvalidJobHash: cannot read {job_key} as a job hash: {err}")
            }
        }
    }
}

fn bytes(v: Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.into_bytes()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        _ => None,
    }
}

fn fields(v: Value) -> Option<HashMap<String, Vec<u8>>> {
    let items = match v {
        Value::Array(items) => items,
        // RESP3 connections get a map.
        Value::Map(pairs) => pairs.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        _ => return None,
    };
    let mut map = HashMap::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        // A field name that is not UTF-8 is none of RQ's fields: ignore it, keep the job.
        if let (Some(key), Some(value)) =
            (bytes(k).and_then(|k| String::from_utf8(k).ok()), bytes(v))
        {
            map.insert(key, value);
        }
    }
    Some(map)
}

/// Parses the script's reply; malformed entries are skipped rather than trusted.
pub fn parse_taken(reply: Value, queue_count: usize) -> Taken {
    let Value::Array(items) = reply else {
        return Taken::Jobs(Vec::new(), Vec::new());
    };
    if items.len() == 1 && matches!(&items[0], Value::BulkString(b) if b == b"S") {
        return Taken::Suspended;
    }
    let mut jobs = Vec::with_capacity(items.len() / 3);
    let mut unreadable = Vec::new();
    let mut it = items.into_iter();
    while let (Some(idx), Some(id), Some(hash)) = (it.next(), it.next(), it.next()) {
        // The script wrote the index and the id: anything else is not ours to interpret.
        let Some(queue) = bytes(idx)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&i| i < queue_count)
        else {
            continue;
        };
        let Some(raw_id) = bytes(id) else { continue };
        let id = match String::from_utf8(raw_id) {
            Ok(id) => id,
            Err(e) => {
                unreadable.push(Unreadable {
                    queue,
                    id: e.into_bytes(),
                    why: Unrunnable::IdNotUtf8,
                });
                continue;
            }
        };
        match fields(hash.clone()) {
            Some(map) => jobs.push((queue, id, map)),
            None => {
                let err = match hash {
                    Value::ServerError(e) => e.to_string(),
                    other => bytes(other)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_else(|| "unexpected reply".into()),
                };
                unreadable.push(Unreadable {
                    queue,
                    id: id.into_bytes(),
                    why: Unrunnable::NotAHash(err),
                });
            }
        }
    }
    Taken::Jobs(jobs, unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn parses_replies() {
        assert_eq!(parse_taken(Value::Array(vec![b("S")]), 2), Taken::Suspended);
        let hash = Value::Array(vec![b("status"), b("queued")]);
        let reply = Value::Array(vec![
            b("0"),
            b("a"),
            hash,
            b("1"),
            b("b"),
            Value::Array(vec![]),
        ]);
        let want_a: HashMap<String, Vec<u8>> = [("status".to_string(), b"queued".to_vec())].into();
        assert_eq!(
            parse_taken(reply, 2),
            Taken::Jobs(
                vec![(0, "a".into(), want_a), (1, "b".into(), HashMap::new())],
                vec![]
            )
        );
        assert_eq!(
            parse_taken(Value::Array(vec![b("7"), b("a"), Value::Array(vec![])]), 2),
            Taken::Jobs(vec![], vec![])
        );
        assert_eq!(
            parse_taken(Value::Array(vec![]), 2),
            Taken::Jobs(vec![], vec![])
        );
    }

    #[test]
    fn last_queue_index_reads_the_last_triple() {
        let reply = Value::Array(vec![
            b("0"),
            b("a"),
            Value::Array(vec![]),
            b("1"),
            b("b"),
            Value::Array(vec![]),
        ]);
        assert_eq!(last_queue_index(&reply), Some(1));
        assert_eq!(last_queue_index(&Value::Array(vec![])), None);
        assert_eq!(last_queue_index(&Value::Array(vec![b("S")])), None);
        assert!(is_permutation(&[2, 0, 1], 3));
        assert!(!is_permutation(&[0, 0, 1], 3));
        assert!(!is_permutation(&[0, 1], 3));
    }

    #[test]
    fn unreadable_ids_are_kept_apart() {
        let reply = Value::Array(vec![
            b("0"),
            Value::BulkString(b"\xff\xfe".to_vec()),
            Value::Array(vec![]),
            b("1"),
            b("str"),
            b("WRONGTYPE Operation against a key holding the wrong kind of value"),
            b("1"),
            b("ok"),
            Value::Array(vec![
                Value::BulkString(b"\xff".to_vec()),
                b("x"),
                b("status"),
                b("queued"),
            ]),
        ]);
        let Taken::Jobs(jobs, bad) = parse_taken(reply, 2) else {
            panic!("not jobs")
        };
        let want: HashMap<String, Vec<u8>> = [("status".to_string(), b"queued".to_vec())].into();
        assert_eq!(jobs, vec![(1, "ok".to_string(), want)]);
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].why, Unrunnable::IdNotUtf8);
        assert_eq!(bad[0].id, b"\xff\xfe".to_vec());
        assert!(matches!(&bad[1].why, Unrunnable::NotAHash(e) if e.starts_with("WRONGTYPE")));
        assert!(bad[1].why.message("rq:job:str").contains("InvalidJobHash"));
    }
}
