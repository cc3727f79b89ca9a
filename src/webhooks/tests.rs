//! The sender against a scripted HTTP server on 127.0.0.1: redirects as urllib follows them,
//! failures as failures.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::*;
use rq_worker::rq::webhook::{parse, requests, JobFacts, Status};

/// (method, path, body) of each request the server got.
type Seen = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

/// Answers `/r302` and `/r307` with a redirect to `/dest`, `/error` with 500, anything else
/// with 200; one request per connection.
async fn server() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                let mut line = String::new();
                stream.read_line(&mut line).await.unwrap();
                let mut parts = line.split_whitespace();
                let (method, path) = (
                    parts.next().unwrap().to_string(),
                    parts.next().unwrap().to_string(),
                );
                let mut length = 0;
                loop {
                    let mut h = String::new();
                    stream.read_line(&mut h).await.unwrap();
                    if h.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                stream.read_exact(&mut body).await.unwrap();
                log.lock().unwrap().push((method, path.clone(), body));
                let answer = match path.as_str() {
                    "/r302" => "302 Found\r\nLocation: /dest",
                    "/r307" => "307 Temporary Redirect\r\nLocation: /dest",
                    "/error" => "500 Internal Server Error",
                    _ => "200 OK",
                };
                let reply =
                    format!("HTTP/1.1 {answer}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = stream.get_mut().write_all(reply.as_bytes()).await;
            });
        }
    });
    (base, seen)
}

fn request(url: &str, method: &str) -> WebhookRequest {
    let field = format!(r#"[{{"url": "{url}", "job_status": "finished", "method": "{method}"}}]"#);
    let hooks = parse(field.as_bytes()).unwrap();
    let job = JobFacts {
        job_id: "j1",
        func_name: Some("f"),
        enqueued_at: None,
        ended_at: None,
        exc_string: None,
    };
    requests(&hooks, Status::Finished, &job).remove(0)
}

#[tokio::test]
async fn redirects_as_urllib_follows_them() {
    let clients = Clients::new().unwrap();
    let (base, seen) = server().await;
    let take = || std::mem::take(&mut *seen.lock().unwrap());

    // 302 turns the POST into a GET without body.
    let r = request(&format!("{base}/r302"), "POST");
    assert_eq!(deliver(&clients, &r).await, Outcome::Sent);
    let got = take();
    assert_eq!((got[0].0.as_str(), got[0].1.as_str()), ("POST", "/r302"));
    assert!(got[0].2.starts_with(br#"{"job_id": "j1""#));
    assert_eq!(
        (got[1].0.as_str(), got[1].1.as_str(), got[1].2.len()),
        ("GET", "/dest", 0)
    );

    // A 307 to a POST is not followed: a failure, as urllib's HTTPError.
    let r = request(&format!("{base}/r307"), "POST");
    assert_eq!(deliver(&clients, &r).await, Outcome::Failed);
    assert_eq!(take().len(), 1);

    // A GET follows a 307.
    let r = request(&format!("{base}/r307"), "GET");
    assert_eq!(deliver(&clients, &r).await, Outcome::Sent);
    let paths: Vec<String> = take()
        .into_iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert_eq!(paths, ["GET /r307", "GET /dest"]);

    // Another status than 2xx is a failure.
    let r = request(&format!("{base}/error"), "GET");
    assert_eq!(deliver(&clients, &r).await, Outcome::Failed);
}
