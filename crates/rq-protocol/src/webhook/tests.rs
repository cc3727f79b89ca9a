use chrono::TimeZone;

use super::*;

fn at(s: u32, micros: i64) -> Timestamp {
    chrono::Utc
        .with_ymd_and_hms(2026, 12, 7, 19, 27, s)
        .unwrap()
        + chrono::Duration::microseconds(micros)
}

#[test]
fn parses_what_rq_stores() {
    // `json.dumps([w.to_dict() for w in webhooks])` of RQ 2.12 / 3.0.
    let raw = br#"[{"url": "http://127.0.0.1:8080/done", "job_status": "finished", "method": "POST", "headers": {"X-Token": "abc", "X-N": 5}, "timeout": 3}, {"url": "https://example.org/f?x=1", "job_status": "failed", "method": "GET", "headers": null, "timeout": 10}]"#;
    let hooks = parse(raw).unwrap();
    assert_eq!(
        hooks,
        vec![
            Webhook {
                url: "http://127.0.0.1:8080/done".into(),
                job_status: Status::Finished,
                method: Method::Post,
                headers: vec![("X-Token".into(), "abc".into()), ("X-N".into(), "5".into())],
                timeout: 3,
            },
            Webhook {
                url: "https://example.org/f?x=1".into(),
                job_status: Status::Failed,
                method: Method::Get,
                headers: vec![],
                timeout: 10,
            },
        ]
    );
    // `from_dict` defaults.
    let h = parse(br#"[{"url": "HTTP://h", "job_status": "failed"}]"#).unwrap();
    assert_eq!((h[0].method, h[0].timeout), (Method::Get, DEFAULT_TIMEOUT));
    assert_eq!(parse(b"").unwrap(), vec![]);
    assert_eq!(parse(b"[]").unwrap(), vec![]);
    assert_eq!(parse(b"{}").unwrap(), vec![]);
}

#[test]
fn refuses_what_rq_refuses() {
    for bad in [
        &b"not json"[..],
        b"[1]",
        b"{\"url\": \"http://h\"}",
        b"[{\"job_status\": \"finished\"}]",
        b"[{\"url\": \"ftp://h/x\", \"job_status\": \"finished\"}]",
        b"[{\"url\": \"http:///path\", \"job_status\": \"finished\"}]",
        b"[{\"url\": \"http://h\", \"job_status\": \"stopped\"}]",
        b"[{\"url\": \"http://h\", \"job_status\": \"failed\", \"method\": \"post\"}]",
        b"[{\"url\": \"http://h\", \"job_status\": \"failed\", \"method\": null}]",
        b"[{\"url\": \"http://h\", \"job_status\": \"failed\", \"timeout\": 0}]",
        b"[{\"url\": \"http://h\", \"job_status\": \"failed\", \"timeout\": 1.5}]",
        b"[{\"url\": \"http://h\", \"job_status\": \"failed\", \"timeout\": null}]",
        b"[{\"url\": \"http://h\", \"job_status\": \"failed\", \"headers\": [1]}]",
        // One bad entry spoils the list, as in RQ.
        b"[{\"url\": \"http://h\", \"job_status\": \"failed\"}, {\"url\": 5, \"job_status\": \"failed\"}]",
    ] {
        assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
    let e = parse(b"[{\"url\": \"http://h\", \"job_status\": \"done\"}]").unwrap_err();
    assert_eq!(
        e.to_string(),
        "webhook 0 is invalid: job_status must be 'finished' or 'failed', got 'done'"
    );
}

#[test]
fn isoformat_like_python() {
    assert_eq!(
        isoformat(at(45, 123_456)),
        "2026-12-07T19:27:45.123456+00:00"
    );
    assert_eq!(isoformat(at(45, 30)), "2026-12-07T19:27:45.000030+00:00");
    // datetime.isoformat() drops a zero fraction.
    assert_eq!(isoformat(at(46, 0)), "2026-12-07T19:27:46+00:00");
}

#[test]
fn payload_is_json_dumps_of_rqs_get_payload() {
    // python3 -c 'import json, datetime; ...; print(json.dumps(p))' with RQ's keys.
    let job = JobFacts {
        job_id: "j1",
        func_name: Some("pyjobs.jobs.add"),
        enqueued_at: Some(at(45, 123_456)),
        ended_at: Some(at(46, 0)),
        exc_string: Some("Traceback \"x\"\n\tValueError: h\u{e9}\u{7f} \u{1F600}"),
    };
    assert_eq!(
        String::from_utf8(payload(Status::Failed, &job)).unwrap(),
        r#"{"job_id": "j1", "func_name": "pyjobs.jobs.add", "status": "failed", "enqueued_at": "2026-12-07T19:27:45.123456+00:00", "ended_at": "2026-12-07T19:27:46+00:00", "exc_info": "Traceback \"x\"\n\tValueError: h\u00e9\u007f \ud83d\ude00"}"#
    );
    let unknown = JobFacts {
        func_name: None,
        enqueued_at: None,
        ..job
    };
    assert_eq!(
        String::from_utf8(payload(Status::Finished, &unknown)).unwrap(),
        r#"{"job_id": "j1", "func_name": null, "status": "finished", "enqueued_at": null, "ended_at": "2026-12-07T19:27:46+00:00"}"#
    );
}

#[test]
fn requests_per_status_with_rqs_headers() {
    let hooks = parse(br#"[{"url": "http://h/a", "job_status": "finished", "method": "POST", "headers": {"content-type": "text/plain", "X-A": "1"}, "timeout": 2}, {"url": "http://h/b", "job_status": "finished"}, {"url": "http://h/c", "job_status": "failed", "method": "POST"}]"#).unwrap();
    let job = JobFacts {
        job_id: "j",
        func_name: Some("f"),
        enqueued_at: None,
        ended_at: None,
        exc_string: Some("boom"),
    };
    let done = requests(&hooks, Status::Finished, &job);
    assert_eq!(done.len(), 2);
    assert_eq!(done[0].method, Method::Post);
    // The webhook's own Content-Type replaces RQ's, in its place.
    assert_eq!(
        done[0].headers,
        vec![
            ("Content-Type".to_string(), "text/plain".to_string()),
            ("X-A".to_string(), "1".to_string())
        ]
    );
    assert_eq!(done[0].timeout, 2);
    assert!(done[0]
        .body
        .as_deref()
        .is_some_and(|b| b.starts_with(b"{\"job_id\": \"j\"")));
    assert_eq!((done[1].method, done[1].body.as_ref()), (Method::Get, None));
    assert!(done[1].headers.is_empty());
    let failed = requests(&hooks, Status::Failed, &job);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].url, "http://h/c");
    assert_eq!(
        failed[0].headers,
        vec![("Content-Type".to_string(), "application/json".to_string())]
    );
}
