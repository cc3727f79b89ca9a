//! The worker's `/metrics` endpoint and its JSON logs, against a private Redis (part of the
//! tests/ops.rs test binary).

use super::common::metrics::{http_get, parse_prometheus, sample};
use super::common::{free_port, wait_until, RedisServer};
use super::{job_status, run, submit, worker_field, Worker};

// ---------------------------------------------------------------------------------- metrics --

#[test]
fn metrics_after_a_known_workload() {
    let redis = RedisServer::start();
    let url = redis.url();
    let mut con = redis.con();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _w = Worker::start_registered(
        &url,
        &mut con,
        "metered",
        &["-q", "default,low_priority", "--metrics-addr", &addr],
    );

    let mut ids: Vec<String> = (0..3)
        .map(|i| submit(&url, &["echo", &format!("value={i}")]))
        .collect();
    ids.push(submit(&url, &["fail", "message=x"]));
    // One job that fails once and is retried (retries_left as `Retry(max=1)` writes it).
    let sub = task_worker::cli::submit::backend_job(
        task_worker::tasks::registry().lookup("fail").unwrap(),
        vec![],
        "default",
    );
    let job_key = format!("rq:job:{}", sub.job_id);
    let mut p = sub
        .pipeline(
            &rq_protocol::keys::Keys::new("rq"),
            rq_protocol::codec::Serializer::Pickle,
        )
        .unwrap();
    // Same MULTI as the push, so no worker sees the job without these fields.
    p.hset(&job_key, "retries_left", 1)
        .ignore()
        .hset(&job_key, "retry_intervals", "[0]")
        .ignore();
    let _: () = p.query(&mut con).unwrap();
    ids.push(sub.job_id.clone());
    for id in &ids {
        wait_until("jobs to end", 30, || {
            matches!(
                job_status(&mut con, id).as_deref(),
                Some("finished" | "failed")
            )
            .then_some(())
        });
    }
    let (code, ctype, body) = wait_until("a queue sample after the workload", 30, || {
        let r = http_get(port, "/metrics", None);
        let m = parse_prometheus(&r.2);
        (sample(&m, "task_worker_queue_samples_total", &[]).unwrap_or(0.0) >= 2.0
            && sample(&m, "task_worker_queue_failed_jobs", &[("queue", "default")]) == Some(2.0))
        .then_some(r)
    });
    assert_eq!(code, 200);
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let m = parse_prometheus(&body);
    let dq = ("queue", "default");
    assert_eq!(
        sample(
            &m,
            "task_worker_jobs_started_total",
            &[dq, ("task", "echo")]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &m,
            "task_worker_jobs_finished_total",
            &[dq, ("task", "echo")]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &m,
            "task_worker_jobs_started_total",
            &[dq, ("task", "fail")]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(&m, "task_worker_jobs_failed_total", &[dq, ("task", "fail")]),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &m,
            "task_worker_jobs_retried_total",
            &[dq, ("task", "fail")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            "task_worker_job_duration_seconds_count",
            &[dq, ("task", "echo")]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &m,
            "task_worker_job_duration_seconds_bucket",
            &[dq, ("task", "echo"), ("le", "+Inf")]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(&m, "task_worker_job_wait_seconds_count", &[dq]),
        Some(6.0)
    );
    assert_eq!(sample(&m, "task_worker_jobs_in_flight", &[dq]), Some(0.0));
    assert_eq!(sample(&m, "task_worker_queue_depth", &[dq]), Some(0.0));
    assert_eq!(
        sample(&m, "task_worker_queue_depth", &[("queue", "low_priority")]),
        Some(0.0)
    );
    assert_eq!(
        sample(&m, "task_worker_redis_errors_total", &[("op", "dequeue")]),
        Some(0.0)
    );
    assert_eq!(
        sample(&m, "task_worker_postgres_errors_total", &[]),
        Some(0.0)
    );
    assert_eq!(
        sample(&m, "task_worker_history_buffer_jobs", &[]),
        Some(0.0)
    );
    assert!(sample(
        &m,
        "task_worker_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))]
    )
    .is_some());

    // Depth is sampled: jobs waiting while the worker is suspended show up.
    assert_eq!(run(&["suspend", "--redis-url", &url]).code(), 0);
    wait_until("state suspended", 30, || {
        (worker_field(&mut con, "metered", "state").as_deref() == Some("suspended")).then_some(())
    });
    submit(&url, &["noop", "--priority", "-1"]);
    submit(&url, &["noop", "--priority", "-1"]);
    wait_until("sampled depth 2", 30, || {
        let m = parse_prometheus(&http_get(port, "/metrics", None).2);
        (sample(&m, "task_worker_queue_depth", &[("queue", "low_priority")]) == Some(2.0))
            .then_some(())
    });

    let (code, ctype, body) = http_get(
        port,
        "/metrics",
        Some("application/openmetrics-text; version=1.0.0"),
    );
    assert_eq!(code, 200);
    assert!(ctype.starts_with("application/openmetrics-text"), "{ctype}");
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert_eq!(http_get(port, "/healthz", None).0, 200);
    assert_eq!(http_get(port, "/nope", None).0, 404);
}

#[test]
fn metrics_report_history_outages() {
    // PostgreSQL unreachable: the history sink buffers rows and counts its errors.
    let redis = RedisServer::start();
    let url = redis.url();
    let mut con = redis.con();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let db = format!("postgres://postgres@127.0.0.1:{}/postgres", free_port());
    let _w = Worker::start_registered(
        &url,
        &mut con,
        "pg-down",
        &[
            "-q",
            "default",
            "--metrics-addr",
            &addr,
            "--database-url",
            &db,
        ],
    );
    let id = submit(&url, &["noop"]);
    wait_until("the job to finish", 30, || {
        (job_status(&mut con, &id).as_deref() == Some("finished")).then_some(())
    });
    wait_until("postgres errors and buffered rows in /metrics", 30, || {
        let m = parse_prometheus(&http_get(port, "/metrics", None).2);
        let errors = sample(&m, "task_worker_postgres_errors_total", &[])?;
        let buffered = sample(&m, "task_worker_history_buffer_jobs", &[])?;
        (errors >= 1.0 && buffered >= 1.0).then_some(())
    });
}

// --------------------------------------------------------------------------------- logs ------

#[test]
fn json_logs_carry_job_fields() {
    let redis = RedisServer::start();
    let url = redis.url();
    let ok = submit(&url, &["echo", "value=7"]);
    let bad = submit(&url, &["fail", "message=nope"]);
    let out = run(&[
        "--redis-url",
        &url,
        "--burst",
        "-q",
        "default",
        "--log-format",
        "json",
    ]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let lines: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let end_of = |id: &str| {
        lines
            .iter()
            .find(|l| {
                l["span"]["job_id"] == id
                    && matches!(l["message"].as_str(), Some("job finished" | "job failed"))
            })
            .unwrap_or_else(|| panic!("no end line for {id}: {}", out.stderr))
            .clone()
    };
    let e = end_of(&ok);
    assert_eq!(e["span"]["task"], "echo");
    assert_eq!(e["span"]["queue"], "default");
    assert_eq!(e["outcome"], "finished");
    assert!(e["duration_ms"].as_f64().is_some());
    let e = end_of(&bad);
    assert_eq!(e["span"]["task"], "fail");
    assert_eq!(e["outcome"], "failed");
    assert_eq!(e["level"], "WARN");
    assert!(e["error"].as_str().unwrap().contains("nope"));
    let start = lines
        .iter()
        .find(|l| l["span"]["job_id"] == ok.as_str() && l["message"] == "job started")
        .unwrap();
    assert_eq!(start["task"], "echo");
}
