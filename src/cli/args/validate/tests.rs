//! The validation's unit tests: every error text, defaults, and what each flag turns into.
use super::*;
use crate::cli::args::{with_default_subcommand, Cli, Command};
use crate::python::PythonMode;
use clap::Parser;

fn parse(args: &[&str]) -> Result<RunConfig, String> {
    let argv = std::iter::once("task-worker")
        .chain(args.iter().copied())
        .map(std::ffi::OsString::from)
        .collect();
    let cli = Cli::try_parse_from(with_default_subcommand(argv)).map_err(|e| e.to_string())?;
    match cli.into_command() {
        Command::Run(r) => r.validate(),
        Command::Worker(w) => w.validate(),
        other => Err(format!("not run: {other:?}")),
    }
}

#[test]
fn defaults_and_overrides() {
    let c = parse(&[
        "--queues",
        "a, b",
        "-c",
        "4",
        "-S",
        "json",
        "--redis-url",
        "redis://h:1/0",
    ])
    .unwrap();
    assert_eq!(c.worker.queues, vec!["a", "b"]);
    assert_eq!(c.worker.concurrency, 4);
    assert_eq!(c.worker.serializer, Serializer::Json);
    assert_eq!(c.worker.name.len(), 32);
    let c = parse(&["run", "-q", "x", "--burst"]).unwrap();
    assert!(c.worker.burst);
}

#[test]
fn python_settings() {
    assert_eq!(parse(&["-q", "x"]).unwrap().python, None);
    let c = parse(&["--python", "/venv/bin/python", "-P", "/a:/b", "-P", "/c"]).unwrap();
    let p = c.python.unwrap();
    assert_eq!(p.interpreter, std::path::PathBuf::from("/venv/bin/python"));
    assert_eq!(p.path, vec!["/a", "/b", "/c"]);
    assert_eq!(p.mode, PythonMode::Fork);
    let p = parse(&[
        "--python",
        "python3",
        "--python-preload",
        "app.tasks,app.models",
    ])
    .unwrap()
    .python
    .unwrap();
    assert_eq!(p.path, vec!["."]);
    assert_eq!(p.preload, vec!["app.tasks", "app.models"]);
    let reuse = parse(&["--python", "python3", "--python-mode", "reuse"]).unwrap();
    assert_eq!(reuse.python.unwrap().mode, PythonMode::Reuse);
    // The runners get the prefix, Sentinel and TLS (docs/python-jobs.md §5); the runner checks
    // that the installed RQ uses the prefix.
    let p = parse(&["--python", "python3", "--key-prefix", "other"]).unwrap();
    assert_eq!(p.worker.key_prefix, "other");
    let p = parse(&[
        "--python",
        "python3",
        "--redis-sentinels",
        "127.0.0.1:26379",
        "--redis-sentinel-master",
        "m",
    ])
    .unwrap();
    assert!(p.worker.sentinel.is_some() && p.python.is_some());
}

#[test]
fn bad_values_are_refused() {
    assert!(parse(&["-q", " , "]).unwrap_err().contains("empty"));
    assert!(parse(&["-c", "0"]).unwrap_err().contains("concurrency"));
    assert!(parse(&["-S", "yaml"]).unwrap_err().contains("serializer"));
    assert!(parse(&["--redis-url", "http://x"])
        .unwrap_err()
        .contains("scheme"));
    assert!(parse(&["--redis-url", "not a url"])
        .unwrap_err()
        .contains("redis-url"));
}

#[test]
fn task_settings() {
    let c = parse(&[]).unwrap();
    assert_eq!(c.tasks.test_runner_timeout, Duration::from_secs(600));
    let c = parse(&[
        "--test-runner-timeout",
        "",
        "--commit-max-attempts",
        "2",
        "--allow-file-git-urls",
        "--test-runner-command",
        " ",
        "--work-dir",
        "rel",
    ])
    .unwrap();
    assert_eq!(c.tasks.test_runner_timeout, Duration::from_secs(600));
    assert_eq!(c.tasks.commit_max_attempts, 2);
    assert!(c.tasks.allow_file_git_urls);
    assert_eq!(c.tasks.test_runner_command, None);
    assert!(c.tasks.work_dir.unwrap().is_absolute());
    let c = parse(&["--allow-file-git-urls=false"]).unwrap();
    assert!(!c.tasks.allow_file_git_urls);
    assert!(parse(&["--allow-file-git-urls=maybe"])
        .unwrap_err()
        .contains("allow-file-git-urls"));
    assert!(parse(&["--git-timeout", "x"])
        .unwrap_err()
        .contains("git-timeout"));
    assert!(parse(&["--commit-max-attempts", "0"])
        .unwrap_err()
        .contains("commit-max-attempts"));
}

#[test]
fn sandbox_settings() {
    let s = parse(&[]).unwrap().tasks.sandbox;
    assert_eq!(s, crate::sandbox::Settings::default());
    assert!(s.enabled);
    let s = parse(&[
        "--sandbox",
        "off",
        "--sandbox-memory-mb",
        "64",
        "--sandbox-disk-mb",
        "",
        "--sandbox-read",
        "/opt/a::/opt/b",
        "--sandbox-allow-tcp",
        "443, 8080",
    ])
    .unwrap()
    .tasks
    .sandbox;
    assert!(!s.enabled);
    assert_eq!(s.limits.memory_bytes, 64 << 20);
    assert_eq!(
        s.limits.disk_bytes,
        crate::sandbox::Limits::default().disk_bytes
    );
    assert_eq!(
        s.extra_read,
        vec![std::path::PathBuf::from("/opt/a"), "/opt/b".into()]
    );
    assert_eq!(s.allow_tcp_ports, vec![443, 8080]);
    for (args, needle) in [
        (
            &["--sandbox", "maybe"][..],
            "--sandbox \"maybe\": use on or off",
        ),
        (
            &["--sandbox-max-processes", "0"][..],
            "sandbox-max-processes 0",
        ),
        (&["--sandbox-write", "rel/dir"][..], "must be absolute"),
        (&["--sandbox-allow-tcp", "0"][..], "expected 1-65535"),
        (&["--sandbox-allow-tcp", "http"][..], "expected 1-65535"),
        (&["--sandbox-cpu-seconds=-1"][..], "sandbox-cpu-seconds"),
    ] {
        let e = parse(args).unwrap_err();
        assert!(e.contains(needle), "{args:?}: {e}");
    }
}

#[test]
fn sentinel_addresses_and_settings() {
    assert_eq!(
        parse_sentinel_addr("10.0.0.1:26379"),
        Ok(("10.0.0.1".to_string(), 26379))
    );
    assert_eq!(
        parse_sentinel_addr("[::1]:26379"),
        Ok(("::1".to_string(), 26379))
    );
    for bad in ["", "host", ":1", "h:0", "h:x", "h:70000", "::1:5"] {
        assert!(parse_sentinel_addr(bad).is_err(), "{bad:?}");
    }
    let args = RedisArgs {
        redis_sentinels: Some(" a:1 , b:2 ".into()),
        redis_sentinel_master: Some("m".into()),
        redis_sentinel_password: Some("pw".into()),
        ..RedisArgs::default()
    };
    let cfg = args.sentinel().unwrap().unwrap();
    assert_eq!(cfg.sentinels, [("a".to_string(), 1), ("b".to_string(), 2)]);
    assert_eq!(cfg.master_name, "m");
    assert!(!format!("{cfg:?}").contains("pw"));
    assert!(RedisArgs::default().sentinel().unwrap().is_none());
}

#[test]
fn password_goes_into_url_and_is_redacted() {
    let args = RedisArgs {
        redis_url: "redis://127.0.0.1:6379/0".into(),
        redis_password: Some("s3cret".into()),
        key_prefix: "rq".into(),
        redis_tls_ca: None,
        redis_tls_cert: None,
        redis_tls_key: None,
        ..RedisArgs::default()
    };
    let url = args.effective_url().unwrap();
    assert!(url.contains(":s3cret@"));
    assert!(!redact_url(&url).contains("s3cret"));
}

#[test]
fn database_url_from_flag_or_postgres_variables() {
    let none = DatabaseArgs::default();
    assert_eq!(none.effective_url().unwrap(), None);
    let parts = DatabaseArgs {
        postgres_host: Some("postgres".into()),
        postgres_port: Some("5433".into()),
        postgres_user: Some("app".into()),
        postgres_password: Some("p@ss/word".into()),
        postgres_db: Some("codeability".into()),
        ..Default::default()
    };
    let url = parts.effective_url().unwrap().unwrap();
    assert_eq!(
        url,
        "postgres://app:p%40ss%2Fword@postgres:5433/codeability"
    );
    let flag = DatabaseArgs {
        database_url: Some("postgresql://u@h/db".into()),
        ..parts.clone()
    };
    assert_eq!(
        flag.effective_url().unwrap().unwrap(),
        "postgresql://u@h/db"
    );
    let bad = DatabaseArgs {
        database_url: Some("mysql://h/db".into()),
        ..Default::default()
    };
    assert!(bad.effective_url().unwrap_err().contains("scheme"));
    let c = parse(&[
        "--history-retention-days",
        "0",
        "--database-url",
        "postgres://h/d",
    ])
    .unwrap();
    assert_eq!(c.history_retention_days, None);
    assert_eq!(c.history_buffer, 100_000);
    assert!(parse(&["--history-buffer", "0"])
        .unwrap_err()
        .contains("history-buffer"));
}

#[test]
fn run_takes_the_dequeue_strategy_max_jobs_and_max_idle_time() {
    let c = parse(&[]).unwrap();
    assert_eq!(
        c.worker.dequeue_strategy,
        rq_worker::DequeueStrategy::Default
    );
    assert_eq!(c.worker.max_jobs, None);
    assert_eq!(c.worker.max_idle_time, None);
    let c = parse(&[
        "--dequeue-strategy",
        "round_robin",
        "--max-jobs",
        "7",
        "--max-idle-time",
        "30",
    ])
    .unwrap();
    assert_eq!(
        c.worker.dequeue_strategy,
        rq_worker::DequeueStrategy::RoundRobin
    );
    assert_eq!(c.worker.max_jobs, Some(7));
    assert_eq!(c.worker.max_idle_time, Some(Duration::from_secs(30)));
    for (args, needle) in [
        (
            &["--dequeue-strategy", "fifo"][..],
            "use default, round_robin or random",
        ),
        (&["--max-jobs", "0"][..], "invalid --max-jobs 0"),
        (&["--max-idle-time", "0"][..], "invalid --max-idle-time 0"),
    ] {
        let e = parse(args).unwrap_err();
        assert!(e.contains(needle), "{args:?}: {e}");
    }
}

#[test]
fn worker_maps_rqs_command_line() {
    let c = parse(&[
        "worker",
        "-u",
        "redis://h:1/0",
        "q1",
        "q2",
        "-b",
        "-n",
        "w1",
        "--max-jobs",
        "3",
        "--max-idle-time",
        "5",
        "-ds",
        "round_robin",
        "-S",
        "rq.serializers.JSONSerializer",
        "-w",
        "rq.SimpleWorker",
        "--results-ttl",
        "60",
        "--job-monitoring-interval",
        "45",
        "--maintenance-interval",
        "120",
        "-s",
        "-P",
        "/x",
        "--path",
        "/y",
        "--concurrency",
        "2",
        "--python",
        "/usr/bin/python3",
        "-v",
        "--pid",
        "/tmp/w.pid",
    ])
    .unwrap();
    assert_eq!(c.worker.queues, vec!["q1", "q2"]);
    assert!(c.worker.redis_url.starts_with("redis://h:1/0"));
    assert!(c.worker.burst);
    assert_eq!(c.worker.name, "w1");
    assert_eq!(c.worker.max_jobs, Some(3));
    assert_eq!(c.worker.max_idle_time, Some(Duration::from_secs(5)));
    assert_eq!(
        c.worker.dequeue_strategy,
        rq_worker::DequeueStrategy::RoundRobin
    );
    assert_eq!(c.worker.serializer, Serializer::Json);
    assert_eq!(c.worker.results_ttl, 60);
    assert_eq!(c.worker.heartbeat_interval, Duration::from_secs(45));
    assert_eq!(c.worker.maintenance_interval, Duration::from_secs(120));
    assert!(c.worker.with_scheduler);
    assert_eq!(c.worker.concurrency, 2);
    let py = c.python.unwrap();
    assert_eq!(py.mode, PythonMode::Reuse);
    assert_eq!(py.path, vec!["/x", "/y"]);
    assert_eq!(c.log_level.as_deref(), Some("debug"));
    assert_eq!(c.pid_file, Some(std::path::PathBuf::from("/tmp/w.pid")));
    assert!(c.notes.is_empty(), "{:?}", c.notes);

    // RQ's defaults: the `default` queue, pickle, fork, one job at a time, strict priority.
    let c = parse(&["worker", "--python", "/usr/bin/python3"]).unwrap();
    assert_eq!(c.worker.queues, vec!["default"]);
    assert_eq!(c.worker.serializer, Serializer::Pickle);
    assert_eq!(c.worker.concurrency, 1);
    assert_eq!(c.worker.results_ttl, 500);
    assert_eq!(
        c.worker.dequeue_strategy,
        rq_worker::DequeueStrategy::Default
    );
    assert_eq!(c.python.unwrap().mode, PythonMode::Fork);
    assert_eq!(c.log_level, None);

    // -q is quiet (not --queues); the class's strategy; notes for what does not apply.
    let c = parse(&[
        "worker",
        "-q",
        "--python",
        "/usr/bin/python3",
        "-w",
        "rq.worker.RandomWorker",
        "-j",
        "app.MyJob",
        "--worker-ttl",
        "100",
        "--log-format",
        "%(message)s",
        "-d",
    ])
    .unwrap();
    assert_eq!(c.log_level.as_deref(), Some("warn"));
    assert_eq!(
        c.worker.dequeue_strategy,
        rq_worker::DequeueStrategy::Random
    );
    assert_eq!(c.worker.worker_ttl, Duration::from_secs(100));
    assert_eq!(c.notes.len(), 3, "{:?}", c.notes);
    assert!(c.notes.iter().all(|n| !n.contains('\n')));
}

#[test]
fn worker_refuses_what_cannot_apply() {
    for (args, needle) in [
        (&["worker", "-c", "settings"][..], "-c/--config"),
        (
            &["worker", "--exception-handler", "app.h"][..],
            "--exception-handler",
        ),
        (&["worker", "-S", "app.MsgPack"][..], "-S/--serializer"),
        (&["worker", "--sentry-dsn", "https://x"][..], "--sentry-*"),
        (
            &["worker", "--logging_level", "LOUD"][..],
            "--logging_level",
        ),
        (&["worker", "q1,q2"][..], "without commas"),
        (&["worker", "--max-jobs", "0"][..], "invalid --max-jobs 0"),
        (
            &["worker", "--dequeue-strategy", "fifo"][..],
            "--dequeue-strategy",
        ),
        (
            &["worker", "--job-monitoring-interval", "0"][..],
            "--job-monitoring-interval",
        ),
        (
            &[
                "worker",
                "--worker-ttl",
                "10",
                "--job-monitoring-interval",
                "70",
            ][..],
            "must be 1 to 69 seconds",
        ),
        (
            &["worker", "--worker-ttl", "0"][..],
            "invalid --worker-ttl 0",
        ),
    ] {
        let e = parse(args).unwrap_err();
        assert!(e.contains(needle), "{args:?}: {e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}
