//! When a job's webhooks are due (see [`crate::webhooks`]): after a job's end is written by
//! its executor ([`job_ended`]), after maintenance failed an abandoned job ([`abandoned`]), and
//! the sender's stop at exit ([`stop`]). Parsing, payload and requests are the protocol
//! layer's (`rq::webhook`); the HTTP is the sender's.

use tracing::{debug, warn};

use super::state::Engine;
use crate::rq::job::{status, JobHash};
use crate::rq::lifecycle::JobEnd;
use crate::rq::time::{parse_datetime, Timestamp};
use crate::rq::webhook::{self, JobFacts, Status};
use crate::rq::{codec, failure};

/// A job's end was written (`applied`: by this call; not when the job had been ended
/// elsewhere). Sends the `finished` webhooks of a success and the `failed` ones of a failure
/// for good, as RQ's worker does after `handle_job_success` / `handle_job_failure`.
pub fn job_ended(
    engine: &Engine,
    hash: &JobHash,
    func_name: Option<&str>,
    end: &JobEnd,
    ended_at: Timestamp,
    applied: bool,
) {
    let (status, exc_string) = match end {
        JobEnd::Success { .. } => (Status::Finished, None),
        JobEnd::Failure {
            status: s,
            exc_string,
            ..
        } if *s == status::FAILED => (Status::Failed, Some(exc_string.as_str())),
        // Stopped, retried, handed back: no webhook (RQ sends none either).
        _ => return,
    };
    if !applied {
        return;
    }
    send(engine, hash, func_name, status, ended_at, exc_string);
}

/// Maintenance failed a job of a dead worker as abandoned at `ended_at`, as RQ 3.0's
/// `StartedJobRegistry.cleanup` does once the failure is written; `exc_info` is the text it
/// wrote (`rq::failure::abandoned_text`).
pub fn abandoned(engine: &Engine, hash: &JobHash, ended_at: Timestamp) {
    if hash.raw("webhooks").is_none_or(|r| r.is_empty()) {
        return;
    }
    let func_name = hash.data().and_then(|d| {
        codec::decode_data(d, engine.cfg.serializer, &engine.limits)
            .ok()
            .map(|p| p.func_name)
            .or_else(|| codec::peek_func_name(d, engine.cfg.serializer, &engine.limits))
    });
    let exc_string = failure::abandoned_text(ended_at);
    send(
        engine,
        hash,
        func_name.as_deref(),
        Status::Failed,
        ended_at,
        Some(&exc_string),
    );
}

fn send(
    engine: &Engine,
    hash: &JobHash,
    func_name: Option<&str>,
    status: Status,
    ended_at: Timestamp,
    exc_string: Option<&str>,
) {
    let Some(raw) = hash.raw("webhooks").filter(|r| !r.is_empty()) else {
        return;
    };
    let hooks = match webhook::parse(raw) {
        Ok(hooks) => hooks,
        Err(e) => {
            warn!(
                "job {}: failed to deserialize webhooks, none sent: {e}",
                hash.id
            );
            return;
        }
    };
    let facts = JobFacts {
        job_id: &hash.id,
        func_name,
        enqueued_at: hash.enqueued_at().as_deref().and_then(parse_datetime),
        ended_at: Some(ended_at),
        exc_string,
    };
    let requests = webhook::requests(&hooks, status, &facts);
    if requests.is_empty() {
        return;
    }
    let Some(sender) = &engine.webhooks else {
        warn!(
            "job {}: {} {} webhook(s) not sent: this worker has no webhook sender",
            hash.id,
            requests.len(),
            status.as_str()
        );
        return;
    };
    for r in requests {
        debug!(job_id = %hash.id, url = %crate::redact::redact_url(&r.url), "sending {} webhook", status.as_str());
        sender.send(r);
    }
}

/// Lets the sender finish what is in flight: [`crate::webhooks::SHUTDOWN_GRACE`] from now,
/// never past `deadline`.
pub async fn stop(engine: &Engine, deadline: tokio::time::Instant) {
    if let Some(sender) = &engine.webhooks {
        let grace = tokio::time::Instant::now() + crate::webhooks::SHUTDOWN_GRACE;
        sender.stop(grace.min(deadline)).await;
    }
}
