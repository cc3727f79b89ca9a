//! Queue depths as RQ's readers (`rq info`) count them: the queue's length and the sizes of
//! its started (`rq:wip:<q>`) and failed registries.

use super::keys::Keys;

/// One queue's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Jobs waiting on the queue (`LLEN`).
    pub queued: i64,
    /// Jobs running (the started registry, `rq:wip:<q>`).
    pub started: i64,
    /// Jobs in the failed registry.
    pub failed: i64,
}

/// `LLEN` queue, `ZCARD` started and failed registry, per queue; read with [`parse_counts`].
pub fn counts(keys: &Keys, queues: &[String]) -> redis::Pipeline {
    let mut p = redis::pipe();
    for q in queues {
        p.llen(keys.queue(q))
            .zcard(keys.wip(q))
            .zcard(keys.failed(q));
    }
    p
}

/// The replies of [`counts`], one entry per queue (missing replies count 0).
pub fn parse_counts(replies: &[i64], queues: usize) -> Vec<QueueCounts> {
    let at = |i: usize| replies.get(i).copied().unwrap_or(0);
    (0..queues)
        .map(|q| QueueCounts {
            queued: at(3 * q),
            started: at(3 * q + 1),
            failed: at(3 * q + 2),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_counts_per_queue() {
        let c = parse_counts(&[4, 1, 2, 0, 0, 7], 2);
        assert_eq!(
            c,
            vec![
                QueueCounts {
                    queued: 4,
                    started: 1,
                    failed: 2
                },
                QueueCounts {
                    queued: 0,
                    started: 0,
                    failed: 7
                },
            ]
        );
        assert_eq!(parse_counts(&[], 1), vec![QueueCounts::default()]);
    }
}
