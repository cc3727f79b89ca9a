//! RQ's webhooks (`Queue.enqueue(f, webhooks=[Webhook(url, 'finished')])`, RQ 2.12+): the
//! engine decides when a job's webhooks are due, a [`WebhookSender`] sends them.
//!
//! The library has no HTTP client. The engine reads a job's `webhooks` field when the job
//! reaches a terminal state and hands each due request ([`WebhookRequest`], built by
//! [`rq::webhook`](crate::rq::webhook): URL, method, headers, timeout and, for `POST`, RQ's JSON
//! payload byte for byte) to the sender set with
//! [`WorkerBuilder::webhook_sender`](crate::WorkerBuilder::webhook_sender). When, as RQ's
//! worker (2.12 and 3.0) sends them:
//! * `finished`: after the job's success is written (a repeating job's too);
//! * `failed`: after its failure for good is written: an exception with no retry left (so only
//!   the last attempt of a retried job), a timeout, `kill-horse`, a failure at shutdown, and a
//!   job of a dead worker failed as abandoned by maintenance (RQ 3.0's `StartedJobRegistry.cleanup`
//!   sends that one; RQ 2.12's does not);
//! * never for a retried, stopped (`stop-job`) or handed-back job, nor for an end that was not
//!   applied (the job had been ended elsewhere already).
//!
//! A job whose `webhooks` field RQ could not read either (not JSON, an invalid webhook) has no
//! webhooks: a warning says so, as RQ's "failed to deserialize webhooks". Without a sender, a
//! job that has webhooks gets a warning that they were not sent.
//!
//! [`WebhookSender::send`] is called on the job's own task right after its end is written and
//! must not block: queue the request and return. Its errors are the sender's to log; they never
//! change the job. [`WebhookSender::stop`] is called once when the worker stops, after the last
//! job ended, with a short deadline ([`SHUTDOWN_GRACE`]) for requests still in flight.
//!
//! ```
//! use std::sync::Mutex;
//!
//! use rq_worker::webhooks::{WebhookRequest, WebhookSender};
//!
//! /// Collects the requests (a real sender queues them for an HTTP client).
//! #[derive(Default)]
//! struct Collect(Mutex<Vec<WebhookRequest>>);
//!
//! impl WebhookSender for Collect {
//!     fn send(&self, request: WebhookRequest) {
//!         if let Ok(mut all) = self.0.lock() {
//!             all.push(request);
//!         }
//!     }
//! }
//!
//! // What the engine hands over for a job whose hash has
//! // `webhooks = [{"url": "http://hooks.local/done", "job_status": "finished", "method": "POST"}]`:
//! use rq_worker::rq::webhook::{parse, requests, JobFacts, Method, Status};
//! let hooks = parse(br#"[{"url": "http://hooks.local/done", "job_status": "finished", "method": "POST"}]"#).unwrap();
//! let job = JobFacts { job_id: "j1", func_name: Some("app.add"), enqueued_at: None, ended_at: None, exc_string: None };
//! let sender = Collect::default();
//! for r in requests(&hooks, Status::Finished, &job) {
//!     sender.send(r);
//! }
//! let sent = sender.0.lock().unwrap();
//! assert_eq!(sent[0].method, Method::Post);
//! assert!(sent[0].body.as_deref().unwrap().starts_with(br#"{"job_id": "j1", "func_name": "app.add""#));
//! ```

use std::time::Duration;

use crate::events::StopFuture;

/// One HTTP request of a job's webhook (see [`crate::rq::webhook::Request`]).
pub use crate::rq::webhook::Request as WebhookRequest;

/// How long requests still in flight when the worker stops may take to finish, counted from
/// the end of the last job (never past the shutdown deadline plus 2 s).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Sends webhook requests; set with
/// [`WorkerBuilder::webhook_sender`](crate::WorkerBuilder::webhook_sender).
pub trait WebhookSender: Send + Sync {
    /// Queues one request and returns at once (it runs on the job's task, between the job's
    /// end and the release of its slot). Failures are the sender's to log and count.
    fn send(&self, request: WebhookRequest);

    /// Called once when the worker stops, after the last job ended: let the requests in
    /// flight finish, giving up at `deadline`. The default returns at once.
    fn stop(&self, _deadline: tokio::time::Instant) -> StopFuture<'_> {
        Box::pin(std::future::ready(()))
    }
}
