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
    /// The second list holds taken ids that are not UTF-8: they are in the intermediate list
    /// and must be failed, not run (RQ job ids are text; see `lifecycle::reject_unreadable`).
    Jobs(Vec<(usize, String)>, Vec<(usize, Vec<u8>)>),
}

/// Parses the script's reply; malformed entries are skipped rather than trusted.
pub fn parse_taken(reply: Vec<Vec<u8>>, queue_count: usize) -> Taken {
    if reply.len() == 1 && reply[0] == b"S" {
        return Taken::Suspended;
    }
    let mut jobs = Vec::with_capacity(reply.len() / 2);
    let mut unreadable = Vec::new();
    for pair in reply.chunks_exact(2) {
        let Some(idx) = std::str::from_utf8(&pair[0])
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&i| i < queue_count)
        else {
            continue;
        };
        match String::from_utf8(pair[1].clone()) {
            Ok(id) => jobs.push((idx, id)),
            Err(e) => unreadable.push((idx, e.into_bytes())),
        }
    }
    Taken::Jobs(jobs, unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(items: &[&[u8]]) -> Vec<Vec<u8>> {
        items.iter().map(|i| i.to_vec()).collect()
    }

    #[test]
    fn parses_replies() {
        assert_eq!(parse_taken(reply(&[b"S"]), 2), Taken::Suspended);
        assert_eq!(
            parse_taken(reply(&[b"0", b"a", b"1", b"b"]), 2),
            Taken::Jobs(vec![(0, "a".into()), (1, "b".into())], vec![])
        );
        assert_eq!(
            parse_taken(reply(&[b"7", b"a", b"x", b"b"]), 2),
            Taken::Jobs(vec![], vec![])
        );
        assert_eq!(parse_taken(vec![], 2), Taken::Jobs(vec![], vec![]));
        assert_eq!(
            parse_taken(reply(&[b"1", b"\xff\xfe", b"0", b"ok"]), 2),
            Taken::Jobs(vec![(0, "ok".into())], vec![(1, b"\xff\xfe".to_vec())])
        );
    }
}
