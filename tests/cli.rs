//! The command-line contract: bad values exit 2 with one line; `tasks` lists the registry with
//! each task's parameters; variables a subcommand does not use never break it; empty variables
//! mean unset; connection options go before or after the subcommand.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(common::worker_bin())
        .args(args)
        .env_remove("TASK_QUEUES")
        .env_remove("REDIS_URL")
        .output()
        .expect("run task-worker");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_values_exit_2_with_one_line() {
    for (args, needle) in [
        (vec!["-c", "0"], "concurrency"),
        (vec!["--serializer", "yaml"], "serializer"),
        (vec!["--queues", " , "], "queue list is empty"),
        (vec!["--redis-url", "http://localhost"], "scheme"),
        (vec!["--redis-url", "::not a url::"], "redis-url"),
        (vec!["--log-format", "xml"], "[possible values: text, json]"),
        (
            vec!["run", "--log-format", "xml"],
            "[possible values: text, json]",
        ),
        (vec!["--results-ttl", "-5"], "invalid --results-ttl -5"),
        (vec!["-c", "-1"], "invalid value '-1' for '--concurrency"),
        (vec!["--git-timeout", "-5"], "invalid --git-timeout \"-5\""),
        (vec!["--shutdown-timeout=-5"], "invalid value '-5'"),
        (vec!["--redis-url", "http://x"], "unix://"),
        (vec!["--bogus-flag"], "bogus"),
        (
            vec!["--test-report-max-mb", "0"],
            "invalid --test-report-max-mb 0: must be 1 to 64",
        ),
        (vec!["--test-report-max-mb", "x"], "expected a whole number"),
        (
            vec!["--redis-password", "pw"],
            "use REDIS_PASSWORD or REDIS_PASSWORD_FILE",
        ),
        (
            vec!["--dequeue-strategy", "fifo"],
            "invalid --dequeue-strategy",
        ),
        (vec!["--max-jobs", "0"], "invalid --max-jobs 0"),
        // `worker`: rq's command line; what cannot apply is refused in one line.
        (vec!["worker", "-c", "app.settings"], "-c/--config"),
        (
            vec!["worker", "--exception-handler", "app.handler"],
            "--exception-handler",
        ),
        (
            vec!["worker", "-S", "app.serializers.MsgPack"],
            "-S/--serializer",
        ),
        (
            vec!["worker", "--sentry-dsn", "https://k@s/1"],
            "--sentry-*",
        ),
        (vec!["worker", "--logging_level", "LOUD"], "--logging_level"),
        (vec!["worker", "-ds", "fifo"], "invalid --dequeue-strategy"),
        (vec!["worker", "-u", "redis://:pw@h:6379"], "RQ_REDIS_URL"),
        (vec!["worker", "-u", "http://h"], "scheme"),
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn redis_password_never_printed() {
    let (code, _, err) = run(&["--redis-url", "http://user:s3cret@localhost"]);
    assert_eq!(code, 2);
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn tasks_lists_the_registry_with_defaults() {
    let (code, out, _) = run(&["tasks"]);
    assert_eq!(code, 0);
    for name in [
        "echo",
        "noop",
        "sleep",
        "fail",
        "example_long_running",
        "example_data_processing",
        "example_failing",
    ] {
        assert!(out.contains(name), "{name} missing in:\n{out}");
    }
    let line = out
        .lines()
        .find(|l| l.starts_with("example_failing"))
        .expect("line");
    assert!(line.contains("3600s") && line.contains(" 2 "), "{line}");
    // The parameters follow their task, indented, with type and default.
    let after = out
        .split("example_failing")
        .nth(1)
        .expect("rows after the task");
    let param = after
        .lines()
        .find(|l| l.trim_start().starts_with("error_message"))
        .expect("error_message row");
    assert!(
        param.contains("str") && param.contains("'Simulated failure'"),
        "{param}"
    );
    let required = out
        .lines()
        .find(|l| l.trim_start().starts_with("data_source"))
        .expect("data_source row");
    assert!(required.contains("required"), "{required}");
}

#[test]
fn tasks_json_carries_the_parameters() {
    let (code, out, err) = run(&["tasks", "--json"]);
    assert_eq!(code, 0, "{err}");
    let tasks: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let tasks = tasks.as_array().expect("array");
    let find = |name: &str| {
        tasks
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .clone()
    };
    let processing = find("example_data_processing");
    assert_eq!(processing["timeout"], 600);
    let params = processing["parameters"].as_array().expect("parameters");
    let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["data_source", "processing_type"]);
    assert_eq!(params[0]["required"], true);
    assert_eq!(params[1]["default"], "'basic'");
    assert!(params
        .iter()
        .all(|p| p["description"].as_str().is_some_and(|d| !d.is_empty())));
    assert_eq!(find("noop")["any_parameters"], true);
    assert_eq!(find("sleep")["parameters"][0]["type"], "float");
}

#[test]
fn submit_refuses_a_wrong_parameter_before_enqueueing() {
    let redis = common::RedisServer::start();
    let url = redis.url();
    let (code, _, err) = run(&["submit", "echo", "x=1", "--redis-url", &url]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("\"x\"") && err.contains("accepts: value"),
        "{err}"
    );
    let (code, _, err) = run(&["submit", "example_data_processing", "--redis-url", &url]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("data_source"), "{err}");
    let mut con = redis.con();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).expect("KEYS");
    assert!(keys.is_empty(), "something was enqueued: {keys:?}");
    // A right one is enqueued.
    let (code, out, err) = run(&["submit", "sleep", "seconds=0", "--redis-url", &url]);
    assert_eq!(code, 0, "{err}");
    let len: i64 = redis::cmd("LLEN")
        .arg("rq:queue:default")
        .query(&mut con)
        .expect("LLEN");
    assert_eq!(len, 1, "{out}");
}

/// Runs the worker with extra environment variables.
fn run_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(common::worker_bin())
        .args(args)
        .env_remove("TASK_QUEUES")
        .env_remove("REDIS_URL")
        .envs(env.iter().copied())
        .output()
        .expect("run task-worker");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every variable of `run` set to something `run` refuses.
const BAD_RUN_ENV: &[(&str, &str)] = &[
    ("TASK_CONCURRENCY", "abc"),
    ("TASK_RUNTIME_THREADS", "abc"),
    ("RESULTS_TTL", "abc"),
    ("SHUTDOWN_TIMEOUT", "abc"),
    ("LOG_FORMAT", "xml"),
    ("MAINTENANCE_INTERVAL", "abc"),
    ("HISTORY_BUFFER", "abc"),
    ("HISTORY_RETENTION_DAYS", "abc"),
    ("METRICS_ADDR", "abc"),
    ("TEST_SANDBOX", "maybe"),
    ("GIT_TIMEOUT", "abc"),
];

#[test]
fn variables_a_subcommand_does_not_use_never_break_it() {
    // `tasks` uses no connection either.
    let mut bad = BAD_RUN_ENV.to_vec();
    bad.extend([
        ("REDIS_TLS_CERT", "/nonexistent.pem"),
        ("REDIS_URL", "http://x"),
    ]);
    let (code, out, err) = run_env(&["tasks"], &bad);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("echo"), "{out}");
    let (code, _, err) = run_env(&["sandbox-check"], BAD_RUN_ENV);
    assert!(code == 0 || code == 1, "{code}: {err}");
    let redis = common::RedisServer::start();
    let (code, out, err) = run_env(
        &["status", "--json", "--redis-url", &redis.url()],
        BAD_RUN_ENV,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"queues\""), "{out}");
    // And `run` itself does read them.
    let (code, _, err) = run_env(&["--burst"], &[("TASK_CONCURRENCY", "abc")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("concurrency"), "{err}");
}

#[test]
fn empty_variables_mean_unset() {
    let redis = common::RedisServer::start();
    let empty: Vec<(&str, &str)> = [
        "TASK_CONCURRENCY",
        "TASK_RUNTIME_THREADS",
        "RESULTS_TTL",
        "SHUTDOWN_TIMEOUT",
        "LOG_FORMAT",
        "MAINTENANCE_INTERVAL",
        "HISTORY_BUFFER",
        "HISTORY_RETENTION_DAYS",
        "METRICS_ADDR",
        "RQ_SERIALIZER",
        "RQ_KEY_PREFIX",
        "GIT_TIMEOUT",
        "TEST_SANDBOX",
        "REDIS_PASSWORD",
        "REDIS_TLS_CA",
        "POSTGRES_URL",
        "EXECUTION_BACKEND_API_URL",
        "TASK_WITH_SCHEDULER",
    ]
    .iter()
    .map(|n| (*n, ""))
    .collect();
    let (code, _, err) = run_env(
        &["--burst", "-q", "empty-vars", "--redis-url", &redis.url()],
        &empty,
    );
    assert_eq!(code, 0, "{err}");
    // An empty REDIS_URL is the default URL, not a parse error; nothing listens on the
    // default port in a test, so `health` reports the default address as unreachable.
    let mut with_url = empty.clone();
    with_url.push(("REDIS_URL", ""));
    let (code, out, err) = run_env(&["health", "--redis-only", "--timeout", "2"], &with_url);
    let text = format!("{out}{err}");
    assert!(!text.contains("relative URL"), "{text}");
    assert!(text.contains("127.0.0.1:6379"), "{text}");
    assert!(code == 0 || code == 1, "{code}: {text}");
}

#[test]
fn connection_options_before_or_after_the_subcommand() {
    let redis = common::RedisServer::start();
    let url = redis.url();
    for args in [
        vec!["--redis-url", url.as_str(), "status", "--json"],
        vec!["status", "--json", "--redis-url", url.as_str()],
        vec!["--redis-url", url.as_str(), "health", "--redis-only"],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    }
    // The default subcommand takes them too, in any order with its own options.
    let (code, _, err) = run(&["--redis-url", &url, "-q", "x", "--burst"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["run", "--burst", "-q", "x", "--redis-url", &url]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_connection_error_prints_its_cause_once() {
    let port = common::free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let (code, out, err) = run(&["status", "--redis-url", &url]);
    assert_eq!(code, 1, "{out}{err}");
    let text = format!("{out}{err}");
    assert_eq!(text.matches("Connection refused").count(), 1, "{text}");
}

#[test]
fn submit_help_points_to_the_parameters() {
    let (code, out, _) = run(&["submit", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("task-worker tasks"), "{out}");
}

#[test]
fn help_and_version_exit_0() {
    assert_eq!(run(&["--help"]).0, 0);
    assert_eq!(run(&["--version"]).0, 0);
    // `worker` takes rq worker's options; ours by their long names.
    let (code, out, _) = run(&["worker", "--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--url",
        "--worker-class",
        "--max-jobs",
        "--max-idle-time",
        "--dequeue-strategy",
        "--logging_level",
        "--concurrency",
        "--python-mode",
    ] {
        assert!(out.contains(flag), "{flag} missing from: {out}");
    }
}
