//! `/metrics` and `/healthz` on hyper's HTTP/1.1 server: one request per connection
//! (no keep-alive), the request head read within 5 s and at most 8 KiB, a whole exchange
//! bounded to 10 s, at most 16 connections served at once (more are closed at once), any
//! other path 404, methods other than GET/HEAD 405. Enough for Prometheus and probes, with
//! nothing a slow or hostile client can hold open.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ACCEPT, ALLOW, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::Metrics;

/// hyper's smallest read buffer; a head that does not fit is refused (431).
const MAX_HEAD: usize = 8 * 1024;
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_CONNECTIONS: usize = 16;

const OPENMETRICS_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROMETHEUS_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
const TEXT_TYPE: &str = "text/plain; charset=utf-8";

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
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let metrics = metrics.clone();
                    async move { Ok::<_, Infallible>(respond(&req, &metrics)) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEAD_TIMEOUT)
                    .max_buf_size(MAX_HEAD)
                    .keep_alive(false)
                    // Plain `Content-Type:` for simple scrapers that match header names as written.
                    .title_case_headers(true)
                    .serve_connection(TokioIo::new(stream), service);
                match tokio::time::timeout(EXCHANGE_TIMEOUT, conn).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => debug!(%peer, "metrics request: {e}"),
                    Err(_) => debug!(%peer, "metrics request timed out"),
                }
                drop(permit);
            });
        }
    });
    Ok((bound, task))
}

/// What routing needs of a request.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub wants_openmetrics: bool,
}

impl Request {
    fn of<B>(req: &hyper::Request<B>) -> Request {
        let wants_openmetrics = req.headers().get_all(ACCEPT).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.contains("application/openmetrics-text"))
        });
        Request {
            method: req.method().clone(),
            path: req.uri().path().to_string(),
            wants_openmetrics,
        }
    }
}

/// Status, content type and body for a request.
pub fn route(req: &Request, metrics: &Metrics) -> (StatusCode, &'static str, String) {
    if req.method != Method::GET && req.method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            TEXT_TYPE,
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
            (StatusCode::OK, ct, metrics.encode(req.wants_openmetrics))
        }
        "/healthz" => match metrics.problem() {
            None => (StatusCode::OK, TEXT_TYPE, "ok\n".into()),
            Some(p) => (StatusCode::SERVICE_UNAVAILABLE, TEXT_TYPE, format!("{p}\n")),
        },
        _ => (StatusCode::NOT_FOUND, TEXT_TYPE, "not found\n".into()),
    }
}

/// The response; hyper leaves the body out for HEAD and sets `Content-Length`.
fn respond<B>(req: &hyper::Request<B>, metrics: &Metrics) -> hyper::Response<Full<Bytes>> {
    let (status, ctype, body) = route(&Request::of(req), metrics);
    let mut resp = hyper::Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        resp.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let m = Metrics::new();
        let get = |path: &str| Request {
            method: Method::GET,
            path: path.into(),
            wants_openmetrics: false,
        };
        assert_eq!(route(&get("/nope"), &m).0, StatusCode::NOT_FOUND);
        assert_eq!(
            route(&get("/healthz"), &m).0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        m.set_problem(None);
        assert_eq!(route(&get("/healthz"), &m).0, StatusCode::OK);
        let (status, ctype, body) = route(&get("/metrics"), &m);
        assert_eq!((status, ctype), (StatusCode::OK, PROMETHEUS_TYPE));
        assert!(body.contains("task_worker_build_info"), "{body}");
        let post = Request {
            method: Method::POST,
            ..get("/metrics")
        };
        assert_eq!(route(&post, &m).0, StatusCode::METHOD_NOT_ALLOWED);
    }

    #[test]
    fn accept_header_picks_openmetrics() {
        let req = hyper::Request::builder()
            .uri("/metrics?x=1")
            .header(ACCEPT, "application/openmetrics-text;version=1.0.0")
            .body(())
            .unwrap();
        let r = Request::of(&req);
        assert_eq!(r.path, "/metrics");
        assert!(r.wants_openmetrics);
        let resp = respond(&req, &Metrics::new());
        assert_eq!(resp.headers()[CONTENT_TYPE], OPENMETRICS_TYPE);
    }

    async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut out = Vec::new();
        // The server closes every connection after one exchange (or a refused head).
        tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out))
            .await
            .expect("server closed the connection")
            .ok();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn serves_probes_and_refuses_what_it_should() {
        let m = Arc::new(Metrics::new());
        let (addr, task) = serve("127.0.0.1:0".parse().unwrap(), m).await.unwrap();

        let get = exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(get.starts_with("HTTP/1.1 200 OK\r\n"), "{get}");
        assert!(
            get.contains("Content-Type: text/plain; version=0.0.4"),
            "{get}"
        );
        assert!(get.contains("task_worker_build_info"), "{get}");

        let head = exchange(addr, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let (h, body) = head.split_once("\r\n\r\n").unwrap();
        assert!(h.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert_eq!(body, "", "HEAD has no body");

        let post = exchange(
            addr,
            b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        )
        .await;
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
        assert!(post.contains("Allow: GET, HEAD"), "{post}");

        let garbage = exchange(addr, b"NOT HTTP AT ALL\r\n\r\n").await;
        assert!(
            garbage.is_empty() || garbage.starts_with("HTTP/1.1 400"),
            "{garbage}"
        );

        let mut big = b"GET /metrics HTTP/1.1\r\nX-Pad: ".to_vec();
        big.extend(std::iter::repeat_n(b'a', 64 * 1024));
        big.extend(b"\r\n\r\n");
        let refused = exchange(addr, &big).await;
        assert!(
            !refused.contains("task_worker_build_info"),
            "an oversized head is not served"
        );

        // A client that never finishes its head is cut off (header read timeout), and the
        // server still answers others.
        let slow = exchange(addr, b"GET /metrics HTTP/1.1\r\nHost:").await;
        assert!(!slow.contains("200 OK"), "{slow}");
        let again = exchange(addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(
            again.starts_with("HTTP/1.1 503"),
            "no problem cleared yet: {again}"
        );
        task.abort();
    }
}
