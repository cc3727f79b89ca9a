//! RQ's webhooks over HTTP: the worker library's [`WebhookSender`], with reqwest.
//!
//! The engine decides when a job's webhooks are due (`rq_worker::webhooks`) and hands each
//! request to [`HttpSender::send`], which only queues it (at most [`QUEUE`] waiting; beyond,
//! the request is dropped with a warning): neither the job's end nor the next job waits for
//! HTTP. A dispatcher task sends them, at most [`CONCURRENCY`] at a time. As RQ's
//! `Webhook.send` (`urllib.request.urlopen`):
//! * `GET` without a body; `POST` with RQ's JSON payload and `Content-Type: application/json`;
//!   the webhook's own headers are added (and replace ours of the same name);
//! * the webhook's `timeout` bounds the request (the whole of it here, where urllib bounds
//!   each socket operation; at most [`MAX_TIMEOUT`]);
//! * any answer but 2xx, and any transport error, is a failure: logged as a warning
//!   ("failed to send webhook to URL for job ID: why"), counted, never raised; the job is not
//!   touched;
//! * redirects are followed as urllib follows them: up to 10; a 301/302/303 turns a `POST`
//!   into a `GET` without body; a 307/308 answer to a `POST` is a failure (urllib refuses to
//!   resend a body). Other hosts are followed too (the enqueuer chose the URL, as with RQ), but
//!   unlike urllib an `Authorization`, `Cookie` or `Proxy-Authorization` header is not sent on
//!   to another host or port.
//!
//! At shutdown (`WebhookSender::stop`), requests still queued or in flight get the engine's
//! short grace (`rq_worker::webhooks::SHUTDOWN_GRACE`, 5 s from the last job's end); what is
//! left then is abandoned with a warning naming how many.

use std::sync::Arc;
use std::time::Duration;

use reqwest::redirect::Policy;
use tokio::sync::{mpsc, watch, Semaphore};
use tracing::{debug, warn};

use rq_worker::events::StopFuture;
use rq_worker::redact::redact_url;
use rq_worker::rq::webhook::Method;
use rq_worker::webhooks::{WebhookRequest, WebhookSender};

/// Requests sent at the same time.
pub const CONCURRENCY: usize = 16;
/// Requests waiting to be sent; more are dropped (with a warning and the `dropped` count).
pub const QUEUE: usize = 10_000;
/// The longest timeout a webhook gets (its own `timeout` is capped to it).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// Redirects followed, as `urllib.request.HTTPRedirectHandler.max_redirections`.
const MAX_REDIRECTS: usize = 10;

/// What happened to one webhook request (the `outcome` label of the `webhooks` metric,
/// `metrics::WEBHOOK_OUTCOMES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered with a 2xx status.
    Sent,
    /// Transport error, timeout, or another status.
    Failed,
    /// Not sent: the queue was full, or the worker stopped before its turn.
    Dropped,
}

impl Outcome {
    /// `sent`, `failed` or `dropped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Failed => "failed",
            Outcome::Dropped => "dropped",
        }
    }
}

/// The HTTP webhook sender of `task-worker run`.
pub struct HttpSender {
    tx: mpsc::Sender<WebhookRequest>,
    /// Requests queued or in flight.
    pending: Arc<watch::Sender<usize>>,
}

/// The two clients: a `POST` must not follow a 307/308 (urllib does not), a `GET` may.
struct Clients {
    get: reqwest::Client,
    post: reqwest::Client,
}

impl HttpSender {
    /// Builds the clients and starts the dispatcher (needs a tokio runtime).
    pub fn start() -> anyhow::Result<Arc<HttpSender>> {
        let clients = Arc::new(Clients::new()?);
        let (tx, rx) = mpsc::channel(QUEUE);
        let pending = Arc::new(watch::Sender::new(0usize));
        tokio::spawn(dispatch(clients, rx, pending.clone()));
        Ok(Arc::new(HttpSender { tx, pending }))
    }
}

impl Clients {
    fn new() -> anyhow::Result<Clients> {
        let build = |policy: Policy| {
            reqwest::Client::builder()
                .redirect(policy)
                .user_agent(concat!("task-worker/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| anyhow::anyhow!("cannot build the webhook HTTP client: {e}"))
        };
        Ok(Clients {
            get: build(Policy::limited(MAX_REDIRECTS))?,
            post: build(Policy::custom(|attempt| {
                if attempt.previous().len() > MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else if matches!(attempt.status().as_u16(), 307 | 308) {
                    let status = attempt.status();
                    attempt.error(format!(
                        "the POST was redirected with {status} (not followed, as urllib does not)"
                    ))
                } else {
                    attempt.follow()
                }
            }))?,
        })
    }
}

impl WebhookSender for HttpSender {
    fn send(&self, request: WebhookRequest) {
        self.pending.send_modify(|n| *n += 1);
        if let Err(e) = self.tx.try_send(request) {
            self.pending.send_modify(|n| *n = n.saturating_sub(1));
            let (r, why) = match e {
                mpsc::error::TrySendError::Full(r) => {
                    (r, format!("{QUEUE} webhooks are waiting already"))
                }
                mpsc::error::TrySendError::Closed(r) => (r, "the sender has stopped".to_string()),
            };
            warn!(
                "webhook to {} for job {} dropped: {why}",
                redact_url(&r.url),
                r.job_id
            );
            crate::metrics::webhook(Outcome::Dropped.as_str());
        }
    }

    fn stop(&self, deadline: tokio::time::Instant) -> StopFuture<'_> {
        Box::pin(async move {
            let mut rx = self.pending.subscribe();
            let drained = tokio::time::timeout_at(deadline, rx.wait_for(|n| *n == 0))
                .await
                .map(|r| r.is_ok());
            if drained.is_err() {
                let left = *self.pending.borrow();
                warn!(
                    left,
                    "stopping with {left} webhook(s) unsent or unanswered (grace period over)"
                );
            }
        })
    }
}

/// Takes the queued requests in order and sends each once a permit is free.
async fn dispatch(
    clients: Arc<Clients>,
    mut rx: mpsc::Receiver<WebhookRequest>,
    pending: Arc<watch::Sender<usize>>,
) {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    while let Some(request) = rx.recv().await {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let clients = clients.clone();
        let pending = pending.clone();
        tokio::spawn(async move {
            let outcome = deliver(&clients, &request).await;
            crate::metrics::webhook(outcome.as_str());
            drop(permit);
            pending.send_modify(|n| *n = n.saturating_sub(1));
        });
    }
}

/// Sends one request; logs its failure.
async fn deliver(clients: &Clients, r: &WebhookRequest) -> Outcome {
    let url = redact_url(&r.url);
    match request(clients, r).await {
        Ok(()) => {
            debug!(job_id = %r.job_id, url = %url, "webhook sent");
            Outcome::Sent
        }
        Err(why) => {
            warn!(
                "failed to send webhook to {url} for job {}: {why}",
                r.job_id
            );
            Outcome::Failed
        }
    }
}

async fn request(clients: &Clients, r: &WebhookRequest) -> Result<(), String> {
    let (client, method) = match r.method {
        Method::Get => (&clients.get, reqwest::Method::GET),
        Method::Post => (&clients.post, reqwest::Method::POST),
    };
    let timeout = Duration::from_secs(r.timeout).min(MAX_TIMEOUT);
    let mut req = client.request(method, &r.url).timeout(timeout);
    for (name, value) in &r.headers {
        req = req.header(name, value);
    }
    if let Some(body) = &r.body {
        req = req.body(body.clone());
    }
    let response = req.send().await.map_err(|e| transport_detail(e, timeout))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}

/// A transport error without its URL (which may carry credentials), with its innermost cause.
fn transport_detail(e: reqwest::Error, timeout: Duration) -> String {
    let mut detail = if e.is_timeout() {
        format!("timed out after {} s", timeout.as_secs())
    } else if e.is_connect() {
        "connection failed".to_string()
    } else if e.is_redirect() {
        "redirect refused".to_string()
    } else if e.is_builder() {
        "invalid request".to_string()
    } else {
        "request failed".to_string()
    };
    if let Some(cause) = crate::api::innermost_cause(&e) {
        detail.push_str(&format!(" ({cause})"));
    }
    detail
}

#[cfg(test)]
mod tests;
