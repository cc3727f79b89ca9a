//! Every Redis key RQ uses, built from one configurable prefix (rq-protocol.md §2).
//!
//! RQ 2.x hard-codes `rq`; RQ 3.0 reads the prefix from `RQ_KEY_PREFIX` (§11). Keeping all key
//! construction here means no other module ever formats a key by hand.

/// Builds RQ key names for one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Keys under `prefix` (`rq` for RQ 2.x).
    pub fn new(prefix: &str) -> Self {
        Keys {
            prefix: prefix.to_string(),
        }
    }

    /// The prefix, which scripts get as an argument to build keys themselves.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `rq:queues`: set of full queue keys.
    pub fn queues(&self) -> String {
        format!("{}:queues", self.prefix)
    }

    /// The prefix of every queue key; `rq:queues` holds full keys like `rq:queue:default`.
    pub fn queue_key_prefix(&self) -> String {
        format!("{}:queue:", self.prefix)
    }

    /// `rq:queue:<q>`: the list of job ids waiting on queue `q`.
    pub fn queue(&self, q: &str) -> String {
        format!("{}:queue:{q}", self.prefix)
    }

    /// Destination of the reliable `LMOVE` dequeue (§6.3, §7.2).
    pub fn intermediate(&self, q: &str) -> String {
        format!("{}:queue:{q}:intermediate", self.prefix)
    }

    /// When maintenance first saw an id in the intermediate list without an execution (RQ's
    /// mark, to requeue it once it has been stuck long enough, §7.2).
    pub fn intermediate_first_seen(&self, q: &str, job_id: &str) -> String {
        format!("{}:queue:{q}:intermediate:first_seen:{job_id}", self.prefix)
    }

    /// `rq:job:<id>`: the job hash.
    pub fn job(&self, id: &str) -> String {
        format!("{}:job:{id}", self.prefix)
    }

    /// `job`, `results` and `intermediate` keys of an id that is not valid UTF-8: Redis keys are
    /// bytes, and such an id must still be addressed exactly to be failed (issue 9).
    pub fn raw_key(&self, kind: &str, id: &[u8]) -> Vec<u8> {
        let mut k = format!("{}:{kind}:", self.prefix).into_bytes();
        k.extend_from_slice(id);
        k
    }

    /// `rq:job:<id>:dependents`: the set of jobs waiting for this one.
    pub fn dependents(&self, id: &str) -> String {
        format!("{}:job:{id}:dependents", self.prefix)
    }

    /// Note the double colon: RQ builds it as `'rq:job:' + ':' + id + ':dependencies'` (§2, §12.3).
    pub fn dependencies(&self, id: &str) -> String {
        format!("{}:job::{id}:dependencies", self.prefix)
    }

    /// `rq:results:<id>`: the stream of the job's results (§6.7).
    pub fn results(&self, id: &str) -> String {
        format!("{}:results:{id}", self.prefix)
    }

    /// StartedJobRegistry; members are `<job_id>:<execution_id>` (§2).
    pub fn wip(&self, q: &str) -> String {
        format!("{}:wip:{q}", self.prefix)
    }

    /// FinishedJobRegistry of queue `q`, scored by expiry.
    pub fn finished(&self, q: &str) -> String {
        format!("{}:finished:{q}", self.prefix)
    }

    /// FailedJobRegistry of queue `q`, scored by expiry.
    pub fn failed(&self, q: &str) -> String {
        format!("{}:failed:{q}", self.prefix)
    }

    /// DeferredJobRegistry of queue `q`: jobs waiting for their dependencies.
    pub fn deferred(&self, q: &str) -> String {
        format!("{}:deferred:{q}", self.prefix)
    }

    /// ScheduledJobRegistry of queue `q`, scored by the time a job is due.
    pub fn scheduled(&self, q: &str) -> String {
        format!("{}:scheduled:{q}", self.prefix)
    }

    /// CanceledJobRegistry of queue `q`.
    pub fn canceled(&self, q: &str) -> String {
        format!("{}:canceled:{q}", self.prefix)
    }

    /// The hash of one execution of a job (RQ 2.x+, §6.4).
    pub fn execution(&self, job_id: &str, execution_id: &str) -> String {
        format!("{}:execution:{job_id}:{execution_id}", self.prefix)
    }

    /// The job's executions, scored by when each stops being alive.
    pub fn executions(&self, job_id: &str) -> String {
        format!("{}:executions:{job_id}", self.prefix)
    }

    /// `rq:workers`: the set of every registered worker key.
    pub fn workers(&self) -> String {
        format!("{}:workers", self.prefix)
    }

    /// The workers listening on queue `q`.
    pub fn workers_of(&self, q: &str) -> String {
        format!("{}:workers:{q}", self.prefix)
    }

    /// `rq:worker:<name>`: the worker's hash.
    pub fn worker(&self, name: &str) -> String {
        format!("{}:worker:{name}", self.prefix)
    }

    /// RQ 3.0's per-worker execution index, read by `Worker.get_current_job()` (§11).
    pub fn worker_executions(&self, name: &str) -> String {
        format!("{}:worker:{name}:executions", self.prefix)
    }

    /// A scratch hash for `rq::incrbyfloat`'s probe (ours, not RQ's; deleted at once).
    pub fn incrbyfloat_probe(&self, tag: &str) -> String {
        format!("{}:task-worker:incrbyfloat-probe:{tag}", self.prefix)
    }

    /// The pub/sub channel of a worker's commands (see [`crate::commands`]).
    pub fn pubsub(&self, worker_name: &str) -> String {
        format!("{}:pubsub:{worker_name}", self.prefix)
    }

    /// `rq:suspended`: while it exists, workers take no job (`rq suspend`).
    pub fn suspended(&self) -> String {
        format!("{}:suspended", self.prefix)
    }

    /// The lock of queue `q`'s registry maintenance (see [`crate::maintenance`]).
    pub fn clean_registries_lock(&self, q: &str) -> String {
        format!("{}:clean_registries:{q}", self.prefix)
    }

    /// The lock of the scheduler that moves queue `q`'s due jobs (see [`crate::scheduler`]).
    pub fn scheduler_lock(&self, q: &str) -> String {
        format!("{}:scheduler-lock:{q}", self.prefix)
    }

    /// `rq:scheduler:<name>`: a scheduler's own hash (RQ 2.10+).
    pub fn scheduler(&self, name: &str) -> String {
        format!("{}:scheduler:{name}", self.prefix)
    }

    /// RQ 3.0's concurrency limits (`rq/rate_limit.py`): the set of every limit key.
    pub fn rl_keys(&self) -> String {
        format!("{}:rl-keys", self.prefix)
    }

    /// `rq:rl:<key>`: hash with the limit's `concurrency`.
    pub fn rl_config(&self, key: &str) -> String {
        format!("{}:rl:{key}", self.prefix)
    }

    /// `rq:rl:<key>:allowed`: ids the limiter let through (queued or running), scored by time.
    pub fn rl_allowed(&self, key: &str) -> String {
        format!("{}:rl:{key}:allowed", self.prefix)
    }

    /// `rq:rl:<key>:rate_limited`: ids waiting for a slot, oldest first.
    pub fn rl_rate_limited(&self, key: &str) -> String {
        format!("{}:rl:{key}:rate_limited", self.prefix)
    }

    /// The job id part of a `rq:wip` member `<job_id>:<execution_id>`.
    pub fn parse_composite(member: &str) -> (&str, &str) {
        match member.split_once(':') {
            Some((job, exec)) => (job, exec),
            None => (member, ""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_rq_layout() {
        let k = Keys::new("rq");
        assert_eq!(k.queue("default"), "rq:queue:default");
        assert_eq!(k.intermediate("default"), "rq:queue:default:intermediate");
        assert_eq!(k.job("a"), "rq:job:a");
        assert_eq!(k.dependents("a"), "rq:job:a:dependents");
        assert_eq!(k.dependencies("a"), "rq:job::a:dependencies");
        assert_eq!(k.results("a"), "rq:results:a");
        assert_eq!(k.wip("q"), "rq:wip:q");
        assert_eq!(k.execution("j", "e"), "rq:execution:j:e");
        assert_eq!(k.executions("j"), "rq:executions:j");
        assert_eq!(k.worker("w"), "rq:worker:w");
        assert_eq!(k.worker_executions("w"), "rq:worker:w:executions");
        assert_eq!(k.workers_of("q"), "rq:workers:q");
        assert_eq!(k.pubsub("w"), "rq:pubsub:w");
        assert_eq!(k.suspended(), "rq:suspended");
        assert_eq!(k.clean_registries_lock("q"), "rq:clean_registries:q");
        assert_eq!(k.scheduler_lock("q"), "rq:scheduler-lock:q");
        assert_eq!(k.rl_keys(), "rq:rl-keys");
        assert_eq!(k.rl_config("k"), "rq:rl:k");
        assert_eq!(k.rl_allowed("k"), "rq:rl:k:allowed");
        assert_eq!(k.rl_rate_limited("k"), "rq:rl:k:rate_limited");
    }

    #[test]
    fn prefix_is_configurable() {
        let k = Keys::new("myapp");
        assert_eq!(k.queue("x"), "myapp:queue:x");
        assert_eq!(k.queues(), "myapp:queues");
    }

    #[test]
    fn composite_member_split() {
        assert_eq!(Keys::parse_composite("j:e"), ("j", "e"));
        assert_eq!(Keys::parse_composite("j"), ("j", ""));
    }
}
