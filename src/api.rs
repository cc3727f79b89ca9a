//! The backend API client (docs/course-tasks.md §3.9): one base URL whose path prefix is kept,
//! HTTP Basic credentials, a 10 s timeout per request, and retries with exponential backoff on
//! connection errors, timeouts and 5xx answers (never on other 4xx answers).
//!
//! Credentials never reach logs or error texts: `Debug` is written by hand, errors name the
//! method and path only (never the full URL), and transport errors are stripped of their URL.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use tracing::{info, warn};

use rq_worker::backoff::Backoff;
use rq_worker::Shutdown;
use url::Url;

use rq_worker::redact::redact_url;

/// Per-request timeout (§3.9).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait between two tries (§3.9).
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How much of an error answer's body goes into the error text.
const BODY_EXCERPT: usize = 200;

/// How often and how patiently to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, at least 1.
    pub max_attempts: u32,
    /// Wait after the first failed try; doubles per try up to [`MAX_BACKOFF`].
    pub first_backoff: Duration,
}

impl RetryPolicy {
    /// The wait after failed try number `attempt` (1-based): first, 2×first, 4×first, … ≤ 30 s.
    pub fn backoff(&self, attempt: u32) -> Duration {
        rq_worker::backoff::Backoff::nth(self.first_backoff, MAX_BACKOFF, attempt)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            first_backoff: Duration::from_secs(1),
        }
    }
}

/// A failed request. The texts carry no credentials and no URL.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No answer: the connection failed or the request timed out.
    Transport { what: String, detail: String },
    /// An answer with a non-2xx status.
    Status {
        what: String,
        status: u16,
        detail: String,
    },
    /// A 2xx answer whose body is not what was expected.
    Body { what: String, detail: String },
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The general rule: connection errors, timeouts and 5xx are worth another try.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport { .. } => true,
            ApiError::Status { status, .. } => *status >= 500,
            ApiError::Body { .. } => false,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Transport { what, detail } => write!(f, "{what}: {detail}"),
            ApiError::Status {
                what,
                status,
                detail,
            } => {
                let reason = StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                write!(f, "{what} answered {status} {reason}")?;
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                Ok(())
            }
            ApiError::Body { what, detail } => write!(f, "{what}: unexpected answer: {detail}"),
        }
    }
}

impl std::error::Error for ApiError {}

/// The backend API client; cheap to share behind an `Arc`.
pub struct ApiClient {
    base: Url,
    http: reqwest::Client,
    user: Option<String>,
    password: Option<String>,
    policy: RetryPolicy,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &redact_url(self.base.as_str()))
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("policy", &self.policy)
            .finish()
    }
}

impl ApiClient {
    /// `base` is the API root, e.g. `http://uvicorn:8000` or `https://host/api` (the prefix is
    /// kept). `user`/`password` are sent as HTTP Basic credentials when a user is given.
    pub fn new(
        base: &str,
        user: Option<String>,
        password: Option<String>,
        policy: RetryPolicy,
    ) -> anyhow::Result<Self> {
        let base = Url::parse(base.trim_end_matches('/'))
            .map_err(|e| anyhow::anyhow!("invalid API URL {}: {e}", redact_url(base)))?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            anyhow::bail!(
                "invalid API URL {}: use http:// or https://",
                redact_url(base.as_str())
            );
        }
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("task-worker/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the API HTTP client: {e}"))?;
        Ok(ApiClient {
            base,
            http,
            user: user.filter(|u| !u.is_empty()),
            password: password.filter(|p| !p.is_empty()),
            policy: RetryPolicy {
                max_attempts: policy.max_attempts.max(1),
                ..policy
            },
        })
    }

    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// `base` + path segments (each percent-encoded) + query.
    fn url(&self, path: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segs) = url.path_segments_mut() {
            segs.pop_if_empty().extend(path);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// One request, no retry. Returns the parsed JSON body of a 2xx answer.
    pub async fn request_once(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, ApiError> {
        let what = format!("{method} /{}", path.join("/"));
        let mut req = self
            .http
            .request(method, self.url(path, query))
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(user) = &self.user {
            req = req.basic_auth(user, self.password.as_ref());
        }
        if let Some(body) = body {
            req = req.body(body.to_string());
        }
        let resp = req.send().await.map_err(|e| ApiError::Transport {
            what: what.clone(),
            detail: transport_detail(e),
        })?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| ApiError::Transport {
            what: what.clone(),
            detail: transport_detail(e),
        })?;
        if !status.is_success() {
            return Err(ApiError::Status {
                what,
                status: status.as_u16(),
                detail: excerpt(&text),
            });
        }
        serde_json::from_str(&text).map_err(|e| ApiError::Body {
            what,
            detail: format!("not JSON ({e})"),
        })
    }

    /// `GET`, retried under the client's policy when [`ApiError::is_transient`].
    pub async fn get_json(
        &self,
        path: &[&str],
        query: &[(&str, &str)],
    ) -> Result<serde_json::Value, ApiError> {
        self.retry(ApiError::is_transient, || {
            self.request_once(Method::GET, path, query, None)
        })
        .await
    }

    /// `PATCH` with a JSON body, retried like [`Self::get_json`] (PATCH merges, so repeating it
    /// is harmless).
    pub async fn patch_json(
        &self,
        path: &[&str],
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ApiError> {
        self.retry(ApiError::is_transient, || {
            self.request_once(Method::PATCH, path, &[], Some(body))
        })
        .await
    }

    /// Runs `op` up to `max_attempts` times while `retryable` says its error is worth another
    /// try, sleeping the policy's backoff in between; returns the last error otherwise.
    pub async fn retry<T, E, F, Fut>(
        &self,
        retryable: impl Fn(&E) -> bool,
        mut op: F,
    ) -> Result<T, E>
    where
        E: fmt::Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut attempt = 1;
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if attempt < self.policy.max_attempts && retryable(&e) => {
                    let wait = self.policy.backoff(attempt);
                    warn!(
                        attempt,
                        max_attempts = self.policy.max_attempts,
                        retry_in_ms = wait.as_millis() as u64,
                        "backend API: {e}; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// A transport error without its URL (which may carry credentials).
fn transport_detail(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut detail = kind.to_string();
    if let Some(cause) = innermost_cause(&e) {
        detail.push_str(&format!(" ({cause})"));
    }
    detail
}

/// The innermost cause of an error (e.g. "Connection refused"): it says most, and unlike
/// reqwest's own text it has no URL, which may carry credentials.
pub(crate) fn innermost_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = e.source();
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    last
}

fn excerpt(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(BODY_EXCERPT)
        .collect();
    one_line.trim().to_string()
}

/// Waits until `GET <api>/info` answers 200 (no auth, 5 s timeout, every 5 s). A 404 is accepted
/// with a warning: the API answers it when its optional VSC_* settings are missing
/// (docs/course-tasks.md §4). Returns false when shutdown was requested while waiting.
pub async fn wait_for_api(api_url: String, shutdown: Shutdown) -> bool {
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            warn!("cannot build HTTP client for the API wait ({e}); skipping it");
            return true;
        }
    };
    let url = format!("{api_url}/info");
    // The README's promise: retried every 5 s until it answers.
    let mut backoff = Backoff::constant(Duration::from_secs(5));
    loop {
        let attempt = backoff.attempts() + 1;
        match http.get(&url).send().await {
            Ok(r) if r.status().is_success() => {
                info!(api = %api_url, attempt, "backend API is up");
                return true;
            }
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => {
                warn!(api = %api_url, "GET /info answered 404; treating the API as up");
                return true;
            }
            Ok(r) => {
                warn!(api = %api_url, attempt, status = r.status().as_u16(), "backend API not ready")
            }
            Err(e) => {
                warn!(api = %api_url, attempt, "backend API not reachable: {}", e.without_url())
            }
        }
        if shutdown.wait_timeout(backoff.next_delay()).await {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-connection-per-request HTTP server on 127.0.0.1 that answers with the scripted
    /// (status, body) pairs in order and records each request's head.
    async fn scripted(answers: Vec<(u16, &'static str)>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            for (status, body) in answers {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                loop {
                    let n = sock.read(&mut buf).await.unwrap();
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if got.len() >= end + 4 + len || n == 0 {
                            break;
                        }
                    }
                    if n == 0 {
                        break;
                    }
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&got).to_string());
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                sock.write_all(resp.as_bytes()).await.unwrap();
                let _ = sock.shutdown().await;
            }
        });
        (format!("http://{addr}/api/"), seen)
    }

    fn client(base: &str, attempts: u32) -> ApiClient {
        ApiClient::new(
            base,
            Some("admin".into()),
            Some("s3cret".into()),
            RetryPolicy {
                max_attempts: attempts,
                first_backoff: Duration::from_millis(5),
            },
        )
        .unwrap()
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        let waits: Vec<u64> = (1..=7).map(|a| p.backoff(a).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 30, 30]);
    }

    #[test]
    fn debug_hides_the_password() {
        let c = client("http://u:pw@h:1/api", 1);
        let text = format!("{c:?}");
        assert!(!text.contains("s3cret") && !text.contains(":pw@"), "{text}");
        assert_eq!(
            c.url(&["results", "a b"], &[("x", "1&2")]).as_str(),
            "http://u:pw@h:1/api/results/a%20b?x=1%262"
        );
    }

    #[tokio::test]
    async fn retries_5xx_then_succeeds_with_prefix_and_auth() {
        let (base, seen) = scripted(vec![(503, "{}"), (500, "oops"), (200, "[1]")]).await;
        let c = client(&base, 5);
        let v = c.get_json(&["results"], &[("a", "b")]).await.unwrap();
        assert_eq!(v, serde_json::json!([1]));
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        assert!(
            seen[2].starts_with("GET /api/results?a=b HTTP/1.1"),
            "{}",
            seen[2]
        );
        // admin:s3cret
        assert!(seen[2]
            .to_ascii_lowercase()
            .contains("authorization: basic ywrtaw46cznjcmv0"));
    }

    #[tokio::test]
    async fn no_retry_on_4xx_and_errors_have_no_secrets() {
        let (base, seen) = scripted(vec![(401, "{\"detail\":\"Unauthorized\"}")]).await;
        let c = client(&base, 5);
        let e = c
            .patch_json(&["results", "r-1"], &serde_json::json!({"status": 0}))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(401));
        assert_eq!(
            e.to_string(),
            "PATCH /results/r-1 answered 401 Unauthorized: {\"detail\":\"Unauthorized\"}"
        );
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert!(seen.lock().unwrap()[0].contains("{\"status\":0}"));
    }

    #[tokio::test]
    async fn connection_errors_are_retried_then_reported() {
        // A port nobody listens on: bind, note the port, close.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let c = client(&format!("http://admin:pw@127.0.0.1:{port}"), 2);
        let e = c.get_json(&["info"], &[]).await.unwrap_err();
        assert!(matches!(e, ApiError::Transport { .. }), "{e}");
        assert!(e.is_transient());
        let text = e.to_string();
        assert!(text.starts_with("GET /info: connection failed"), "{text}");
        assert!(
            !text.contains("pw") && !text.contains("127.0.0.1"),
            "{text}"
        );
    }
}
