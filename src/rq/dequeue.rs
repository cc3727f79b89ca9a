//! Reliable, priority-ordered dequeue (rq-protocol.md §6.3, §7.2).
//!
//! RQ's single-queue worker moves a job id atomically from `rq:queue:<q>` into
//! `rq:queue:<q>:intermediate` (`BLMOVE`), so a crash between pop and start leaves the id where
//! maintenance (Python's or ours) recovers it. Its multi-queue `BLPOP` has no such safety. This
//! script gives every configuration the single-queue guarantee: it walks the queues in priority
//! order and `LMOVE`s up to `n` ids into their queue's intermediate list, atomically. Python peers
//! read the same lists the same way, so nothing changes for them.
//!
//! The script also checks `rq:suspended` first (§6.3 step 1), saving a round trip per batch.

/// KEYS: `[suspended, queue_1..queue_k, intermediate_1..intermediate_k]`; ARGV: `[n]`.
/// Returns `["S"]` when suspended, else a flat list `[queue_index, job_id, …]` (at most `n` pairs).
pub const TAKE_SCRIPT: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return {'S'} end
local n = tonumber(ARGV[1])
local k = (#KEYS - 1) / 2
local out = {}
local got = 0
for i = 1, k do
  while got < n do
    local id = redis.call('LMOVE', KEYS[1 + i], KEYS[1 + k + i], 'LEFT', 'RIGHT')
    if not id then break end
    out[#out + 1] = tostring(i - 1)
    out[#out + 1] = id
    got = got + 1
  end
  if got >= n then break end
end
return out
"#;

/// What one call of the take script found.
#[derive(Debug, Clone, PartialEq)]
pub enum Taken {
    /// `rq:suspended` is set: take nothing.
    Suspended,
    /// `(queue index, job id)` pairs in priority order; empty when all queues are empty.
    Jobs(Vec<(usize, String)>),
}

/// Parses the script's reply; malformed entries are skipped rather than trusted.
pub fn parse_taken(reply: Vec<String>, queue_count: usize) -> Taken {
    if reply.first().map(String::as_str) == Some("S") && reply.len() == 1 {
        return Taken::Suspended;
    }
    let jobs = reply
        .chunks_exact(2)
        .filter_map(|pair| {
            let idx: usize = pair[0].parse().ok()?;
            (idx < queue_count).then(|| (idx, pair[1].clone()))
        })
        .collect();
    Taken::Jobs(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_replies() {
        assert_eq!(parse_taken(vec!["S".into()], 2), Taken::Suspended);
        assert_eq!(
            parse_taken(vec!["0".into(), "a".into(), "1".into(), "b".into()], 2),
            Taken::Jobs(vec![(0, "a".into()), (1, "b".into())])
        );
        assert_eq!(
            parse_taken(vec!["7".into(), "a".into()], 2),
            Taken::Jobs(vec![])
        );
        assert_eq!(parse_taken(vec![], 2), Taken::Jobs(vec![]));
    }
}
