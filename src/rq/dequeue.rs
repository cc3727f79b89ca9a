//! Reliable, priority-ordered dequeue (rq-protocol.md §6.3, §7.2).
//!
//! RQ's single-queue worker moves a job id atomically from `rq:queue:<q>` into
//! `rq:queue:<q>:intermediate` (`BLMOVE`), so a crash between pop and start leaves the id where
//! maintenance (Python's or ours) recovers it. Its multi-queue `BLPOP` has no such safety. This
//! script gives every configuration the single-queue guarantee: it walks the queues in priority
//! order and `LMOVE`s up to `n` ids into their queue's intermediate list, atomically. Python peers
//! read the same lists the same way, so nothing changes for them.
//!
//! The script also checks `rq:suspended` first (§6.3 step 1) and returns each taken job's hash
//! (`HGETALL`), saving a round trip per batch: the start transaction follows at once.

use std::collections::HashMap;

use redis::Value;

/// KEYS: `[suspended, queue_1..queue_k, intermediate_1..intermediate_k]`; ARGV: `[n, prefix]`.
/// Returns `["S"]` when suspended, else a flat list `[queue_index, job_id, hash, …]` (at most `n`
/// triples), `hash` being the `HGETALL` reply of `<prefix>:job:<id>` (empty when it is gone).
pub const TAKE_SCRIPT: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return {'S'} end
local n = tonumber(ARGV[1])
local job = ARGV[2] .. ':job:'
local k = (#KEYS - 1) / 2
local out = {}
local got = 0
for i = 1, k do
  while got < n do
    local id = redis.call('LMOVE', KEYS[1 + i], KEYS[1 + k + i], 'LEFT', 'RIGHT')
    if not id then break end
    out[#out + 1] = tostring(i - 1)
    out[#out + 1] = id
    out[#out + 1] = redis.call('HGETALL', job .. id)
    got = got + 1
  end
  if got >= n then break end
end
return out
"#;

/// One taken job: its queue's index, its id and its hash fields (empty when the hash is gone).
pub type TakenJob = (usize, String, HashMap<String, Vec<u8>>);

/// What one call of the take script found.
#[derive(Debug, Clone, PartialEq)]
pub enum Taken {
    /// `rq:suspended` is set: take nothing.
    Suspended,
    /// Taken jobs in priority order; empty when all queues are empty.
    Jobs(Vec<TakenJob>),
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
        let key = String::from_utf8(bytes(k)?).ok()?;
        map.insert(key, bytes(v)?);
    }
    Some(map)
}

/// Parses the script's reply; malformed entries are skipped rather than trusted.
pub fn parse_taken(reply: Value, queue_count: usize) -> Taken {
    let Value::Array(items) = reply else {
        return Taken::Jobs(Vec::new());
    };
    if items.len() == 1 && matches!(&items[0], Value::BulkString(b) if b == b"S") {
        return Taken::Suspended;
    }
    let mut jobs = Vec::with_capacity(items.len() / 3);
    let mut it = items.into_iter();
    while let (Some(idx), Some(id), Some(hash)) = (it.next(), it.next(), it.next()) {
        let parsed = (|| {
            let idx: usize = String::from_utf8(bytes(idx)?).ok()?.parse().ok()?;
            let id = String::from_utf8(bytes(id)?).ok()?;
            (idx < queue_count).then_some(())?;
            Some((idx, id, fields(hash)?))
        })();
        jobs.extend(parsed);
    }
    Taken::Jobs(jobs)
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
            Taken::Jobs(vec![
                (0, "a".into(), want_a),
                (1, "b".into(), HashMap::new())
            ])
        );
        assert_eq!(
            parse_taken(Value::Array(vec![b("7"), b("a"), Value::Array(vec![])]), 2),
            Taken::Jobs(vec![])
        );
        assert_eq!(parse_taken(Value::Array(vec![]), 2), Taken::Jobs(vec![]));
    }
}
