//! The command-line contract: bad values exit 2 with one line; `tasks` lists the registry.
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
        (vec!["--log-format", "xml"], "xml"),
        (vec!["--bogus-flag"], "bogus"),
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
}

#[test]
fn help_and_version_exit_0() {
    assert_eq!(run(&["--help"]).0, 0);
    assert_eq!(run(&["--version"]).0, 0);
}
