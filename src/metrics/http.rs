//! A minimal HTTP/1.1 responder for `/metrics` and `/healthz`: one request per connection
//! (`Connection: close`), request head at most 8 KiB read within 5 s, at most 16 connections
//! served at once (more are closed at once), any other path 404, methods other than GET/HEAD
//! 405. Enough for Prometheus and probes, with nothing a slow or hostile client can hold open.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::Metrics;

const MAX_HEAD: usize = 8 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: usize = 16;

const OPENMETRICS_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROMETHEUS_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Binds `addr` (an error when it cannot) and serves until the task is aborted.
/// Returns the bound address (useful with port 0) and the server task.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on --metrics-addr {addr}"))?;
    let bound = listener.local_addr().context("metrics listener address")?;
    info!(addr = %bound, "serving metrics at http://{bound}/metrics");
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let task = tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    warn!("metrics listener: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = limit.clone().try_acquire_owned() else {
                debug!(%peer, "too many metrics connections; closing");
                continue;
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                if let Err(e) = handle(stream, &metrics).await {
                    debug!(%peer, "metrics request: {e}");
                }
                drop(permit);
            });
        }
    });
    Ok((bound, task))
}

/// A parsed request head: what routing needs.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub wants_openmetrics: bool,
}

/// Parses the request line and the `Accept` header of a complete head.
pub fn parse_head(head: &str) -> Option<Request> {
    let mut lines = head.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !version.starts_with("HTTP/1.") {
        return None;
    }
    let path = target.split('?').next().unwrap_or(target).to_string();
    let wants_openmetrics = lines.any(|l| {
        l.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("accept")
                && value.contains("application/openmetrics-text")
        })
    });
    Some(Request {
        method: method.to_string(),
        path,
        wants_openmetrics,
    })
}

/// Status line, content type and body for a request.
pub fn route(req: &Request, metrics: &Metrics) -> (&'static str, &'static str, String) {
    if req.method != "GET" && req.method != "HEAD" {
        return (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "method not allowed\n".into(),
        );
    }
    match req.path.as_str() {
        "/metrics" => {
            let ct = if req.wants_openmetrics {
                OPENMETRICS_TYPE
            } else {
                PROMETHEUS_TYPE
            };
            ("200 OK", ct, metrics.encode(req.wants_openmetrics))
        }
        "/healthz" => match metrics.problem() {
            None => ("200 OK", "text/plain; charset=utf-8", "ok\n".into()),
            Some(p) => (
                "503 Service Unavailable",
                "text/plain; charset=utf-8",
                format!("{p}\n"),
            ),
        },
        _ => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found\n".into(),
        ),
    }
}

async fn handle(mut stream: TcpStream, metrics: &Metrics) -> anyhow::Result<()> {
    let head = tokio::time::timeout(IO_TIMEOUT, read_head(&mut stream))
        .await
        .context("request head timed out")??;
    let (status, ctype, body, head_only) = match head.as_deref().and_then(parse_head) {
        Some(req) => {
            let (s, c, b) = route(&req, metrics);
            (s, c, b, req.method == "HEAD")
        }
        None => (
            "400 Bad Request",
            "text/plain; charset=utf-8",
            "bad request\n".to_string(),
            false,
        ),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if status.starts_with("405") {
        response.push_str("Allow: GET, HEAD\r\n");
    }
    response.push_str("\r\n");
    if !head_only {
        response.push_str(&body);
    }
    tokio::time::timeout(IO_TIMEOUT, async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    })
    .await
    .context("response timed out")??;
    Ok(())
}

/// Reads up to the blank line that ends the head; `None` when it is too large or not text.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = find_blank_line(&buf) {
            return Ok(String::from_utf8(buf[..end].to_vec()).ok());
        }
        if buf.len() >= MAX_HEAD {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find_blank_line(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_routes() {
        let req = parse_head("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: application/openmetrics-text;version=1.0.0").unwrap();
        assert_eq!(req.path, "/metrics");
        assert!(req.wants_openmetrics);
        assert!(parse_head("GARBAGE").is_none());
        assert!(parse_head("GET / SPDY/3").is_none());
        let m = Metrics::new();
        let get = |path: &str| Request {
            method: "GET".into(),
            path: path.into(),
            wants_openmetrics: false,
        };
        assert_eq!(route(&get("/nope"), &m).0, "404 Not Found");
        assert_eq!(route(&get("/healthz"), &m).0, "503 Service Unavailable");
        m.set_problem(None);
        assert_eq!(route(&get("/healthz"), &m).0, "200 OK");
        let (status, ctype, body) = route(&get("/metrics"), &m);
        assert_eq!((status, ctype), ("200 OK", PROMETHEUS_TYPE));
        assert!(body.contains("task_worker_build_info"), "{body}");
        let post = Request {
            method: "POST".into(),
            ..get("/metrics")
        };
        assert_eq!(route(&post, &m).0, "405 Method Not Allowed");
    }
}
