//! `task-worker status`: queues, workers and the suspension flag, as a table or `--json`.
//!
//! Strictly read-only. `rq info` cleans registries and `Worker.all()` `SREM`s vanished workers
//! (rq-protocol.md §8); this command only reads: `LLEN`/`ZCARD` per queue, `SMEMBERS` +
//! `HGETALL` per worker (a missing hash is skipped, not removed), `EXISTS`/`TTL` of
//! `rq:suspended`. Counts are therefore raw: `started` may include an abandoned job until some
//! maintenance run fails it. Python workers write the same worker fields and show up alike.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::Context;
use redis::aio::MultiplexedConnection;
use serde::Serialize;

use super::{print_out, queue_names, CliResult, Target, CONNECT_TIMEOUT, RESPONSE_TIMEOUT};
use crate::cli::args::StatusArgs;
use rq_protocol::keys::Keys;
use rq_protocol::time::{now, parse_datetime};

/// The backend's queues (docs/course-tasks.md §1.2), always listed first, as its `worker status`
/// does.
pub const BACKEND_QUEUES: [&str; 3] = ["high_priority", "default", "low_priority"];

#[derive(Debug, Serialize)]
pub struct Status {
    pub redis: RedisInfo,
    pub suspended: bool,
    /// Seconds until `rq:suspended` expires; `None` without expiry or when not suspended.
    pub suspended_ttl: Option<i64>,
    pub queues: Vec<QueueCounts>,
    pub workers: Vec<WorkerInfo>,
}

#[derive(Debug, Serialize)]
pub struct RedisInfo {
    pub ok: bool,
    pub url: String,
    pub version: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct QueueCounts {
    pub name: String,
    pub queued: u64,
    pub started: u64,
    pub deferred: u64,
    pub scheduled: u64,
    pub finished: u64,
    pub failed: u64,
    pub canceled: u64,
}

#[derive(Debug, Serialize)]
pub struct WorkerInfo {
    pub name: String,
    pub hostname: Option<String>,
    pub pid: Option<i64>,
    pub ip_address: Option<String>,
    pub state: String,
    pub queues: Vec<String>,
    pub current_job: Option<String>,
    pub successful_job_count: u64,
    pub failed_job_count: u64,
    pub total_working_time: f64,
    pub birth: Option<String>,
    pub last_heartbeat: Option<String>,
    /// Seconds since `last_heartbeat`, `None` when it is missing or unparsable.
    pub last_heartbeat_age: Option<f64>,
    pub version: Option<String>,
    pub python_version: Option<String>,
}

pub async fn run(args: StatusArgs) -> CliResult {
    let target = Target::from_args(&args.redis)?;
    let status = match collect(&target, &args.queues).await {
        Ok(s) => s,
        Err(e) => {
            let error = rq_worker::error_text(&e);
            if args.json {
                let doc = serde_json::json!({
                    "redis": {"ok": false, "url": target.shown_url(), "version": null, "error": error},
                });
                print_out(&format!("{doc}\n"));
            } else {
                print_out(&format!("Redis connection: FAILED ({error})\n"));
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    if args.json {
        let text = serde_json::to_string_pretty(&status).context("encoding the status")?;
        print_out(&format!("{text}\n"));
    } else {
        print_out(&render_table(&status));
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads everything in three pipelined round trips.
pub async fn collect(target: &Target, only: &[String]) -> anyhow::Result<Status> {
    let mut con = target
        .connect(CONNECT_TIMEOUT, Some(RESPONSE_TIMEOUT))
        .await?;
    let keys = &target.keys;
    let (info, queue_members, worker_keys, suspended, ttl): (
        String,
        Vec<String>,
        Vec<String>,
        bool,
        i64,
    ) = redis::pipe()
        .cmd("INFO")
        .arg("server")
        .smembers(keys.queues())
        .smembers(keys.workers())
        .exists(keys.suspended())
        .ttl(keys.suspended())
        .query_async(&mut con)
        .await
        .with_context(|| format!("reading from Redis at {}", target.shown_url()))?;
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .map(|v| v.trim().to_string());
    let names = if only.is_empty() {
        let mut names: Vec<String> = BACKEND_QUEUES.iter().map(|q| q.to_string()).collect();
        for q in queue_names(keys, queue_members) {
            if !names.contains(&q) {
                names.push(q);
            }
        }
        names
    } else {
        only.to_vec()
    };
    let queues = queue_counts(&mut con, keys, &names).await?;
    let workers = workers(&mut con, keys, worker_keys).await?;
    Ok(Status {
        redis: RedisInfo {
            ok: true,
            url: target.shown_url(),
            version,
            error: None,
        },
        suspended,
        suspended_ttl: (suspended && ttl >= 0).then_some(ttl),
        queues,
        workers,
    })
}

async fn queue_counts(
    con: &mut MultiplexedConnection,
    keys: &Keys,
    names: &[String],
) -> anyhow::Result<Vec<QueueCounts>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = redis::pipe();
    for q in names {
        p.llen(keys.queue(q))
            .zcard(keys.wip(q))
            .zcard(keys.deferred(q))
            .zcard(keys.scheduled(q))
            .zcard(keys.finished(q))
            .zcard(keys.failed(q))
            .zcard(keys.canceled(q));
    }
    let counts: Vec<u64> = p.query_async(con).await.context("counting queue entries")?;
    Ok(names
        .iter()
        .zip(counts.chunks(7))
        .map(|(name, c)| QueueCounts {
            name: name.clone(),
            queued: c.first().copied().unwrap_or(0),
            started: c.get(1).copied().unwrap_or(0),
            deferred: c.get(2).copied().unwrap_or(0),
            scheduled: c.get(3).copied().unwrap_or(0),
            finished: c.get(4).copied().unwrap_or(0),
            failed: c.get(5).copied().unwrap_or(0),
            canceled: c.get(6).copied().unwrap_or(0),
        })
        .collect())
}

async fn workers(
    con: &mut MultiplexedConnection,
    keys: &Keys,
    mut worker_keys: Vec<String>,
) -> anyhow::Result<Vec<WorkerInfo>> {
    worker_keys.sort();
    if worker_keys.is_empty() {
        return Ok(Vec::new());
    }
    let prefix = keys.worker("");
    let names: Vec<String> = worker_keys
        .iter()
        .map(|k| k.strip_prefix(&prefix).unwrap_or(k).to_string())
        .collect();
    let mut p = redis::pipe();
    for (key, name) in worker_keys.iter().zip(&names) {
        p.hgetall(key).smembers(keys.worker_executions(name));
    }
    let replies: Vec<(HashMap<String, String>, Vec<String>)> = {
        let flat: Vec<redis::Value> = p.query_async(con).await.context("reading worker hashes")?;
        flat.chunks(2)
            .map(|pair| {
                let hash = pair
                    .first()
                    .and_then(|v| redis::from_redis_value_ref(v).ok())
                    .unwrap_or_default();
                let execs = pair
                    .get(1)
                    .and_then(|v| redis::from_redis_value_ref(v).ok())
                    .unwrap_or_default();
                (hash, execs)
            })
            .collect()
    };
    let at = now();
    Ok(names
        .into_iter()
        .zip(replies)
        // A worker whose hash expired is gone; `Worker.all()` would SREM it, we only skip it.
        .filter(|(_, (hash, _))| !hash.is_empty())
        .map(|(name, (h, execs))| worker_info(name, &h, &execs, at))
        .collect())
}

/// One worker from its hash (rq-protocol.md §6.1). RQ 3.0 workers name their current job only
/// in `rq:worker:<name>:executions` (§11), so that set is the fallback for `current_job`.
fn worker_info(
    name: String,
    h: &HashMap<String, String>,
    executions: &[String],
    at: rq_protocol::time::Timestamp,
) -> WorkerInfo {
    let text = |f: &str| h.get(f).filter(|v| !v.is_empty()).cloned();
    let count = |f: &str| {
        h.get(f)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let current_job = text("current_job").or_else(|| {
        let mut ids: Vec<&str> = executions
            .iter()
            .map(|m| Keys::parse_composite(m).0)
            .collect();
        ids.sort_unstable();
        ids.first().map(|s| s.to_string())
    });
    let last_heartbeat = text("last_heartbeat");
    let age = last_heartbeat
        .as_deref()
        .and_then(parse_datetime)
        .map(|t| (at - t).num_milliseconds() as f64 / 1e3);
    WorkerInfo {
        name,
        hostname: text("hostname"),
        pid: text("pid").and_then(|p| p.trim().parse().ok()),
        ip_address: text("ip_address"),
        state: text("state").unwrap_or_else(|| "?".into()),
        queues: text("queues")
            .map(|q| q.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        current_job,
        successful_job_count: count("successful_job_count"),
        failed_job_count: count("failed_job_count"),
        total_working_time: h
            .get("total_working_time")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0),
        birth: text("birth"),
        last_heartbeat,
        last_heartbeat_age: age,
        version: text("version"),
        python_version: text("python_version"),
    }
}

/// The readable form: Redis first, then the queues, then the workers.
pub fn render_table(s: &Status) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let version = s.redis.version.as_deref().unwrap_or("?");
    let _ = writeln!(
        out,
        "Redis connection: OK ({}, Redis {version})",
        s.redis.url
    );
    let suspended = match (s.suspended, s.suspended_ttl) {
        (false, _) => "no".to_string(),
        (true, None) => "YES (until `task-worker resume`)".to_string(),
        (true, Some(t)) => format!("YES (for {t} more seconds)"),
    };
    let _ = writeln!(out, "Suspended: {suspended}");
    let _ = writeln!(out);
    let width = s
        .queues
        .iter()
        .map(|q| q.name.len())
        .max()
        .unwrap_or(0)
        .max(5);
    let _ = writeln!(
        out,
        "{:<width$}  {:>7} {:>7} {:>8} {:>9} {:>8} {:>7} {:>8}",
        "QUEUE", "QUEUED", "STARTED", "DEFERRED", "SCHEDULED", "FINISHED", "FAILED", "CANCELED"
    );
    for q in &s.queues {
        let _ = writeln!(
            out,
            "{:<width$}  {:>7} {:>7} {:>8} {:>9} {:>8} {:>7} {:>8}",
            q.name, q.queued, q.started, q.deferred, q.scheduled, q.finished, q.failed, q.canceled
        );
    }
    let _ = writeln!(out);
    if s.workers.is_empty() {
        let _ = writeln!(out, "No workers registered.");
        return out;
    }
    let rows: Vec<[String; 9]> = s
        .workers
        .iter()
        .map(|w| {
            [
                w.name.clone(),
                w.hostname.clone().unwrap_or_else(|| "?".into()),
                w.pid.map_or("?".into(), |p| p.to_string()),
                w.state.clone(),
                w.queues.join(","),
                w.current_job.clone().unwrap_or_else(|| "-".into()),
                w.successful_job_count.to_string(),
                w.failed_job_count.to_string(),
                w.last_heartbeat_age
                    .map_or("?".into(), |a| format!("{:.0}s ago", a.max(0.0))),
            ]
        })
        .collect();
    let header = [
        "WORKER",
        "HOST",
        "PID",
        "STATE",
        "QUEUES",
        "CURRENT JOB",
        "OK",
        "FAILED",
        "HEARTBEAT",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            let numeric = matches!(i, 2 | 6 | 7);
            if numeric {
                let _ = write!(l, "{cell:>w$}");
            } else {
                let _ = write!(l, "{cell:<w$}");
            }
        }
        l.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(&header));
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        let _ = writeln!(out, "{}", line(&cells));
    }
    let _ = writeln!(out, "{} worker(s)", rows.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_fields_and_3_0_current_job() {
        let h: HashMap<String, String> = [
            ("hostname", "box"),
            ("pid", "42"),
            ("state", "busy"),
            ("queues", "high_priority,default"),
            ("successful_job_count", "3"),
            ("failed_job_count", "1"),
            ("last_heartbeat", "2026-01-01T00:00:00.000000Z"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let at = parse_datetime("2026-01-01T00:00:05Z").unwrap();
        let w = worker_info("w".into(), &h, &["job-1:abc".to_string()], at);
        assert_eq!(w.pid, Some(42));
        assert_eq!(w.current_job.as_deref(), Some("job-1"));
        assert_eq!(w.queues, vec!["high_priority", "default"]);
        assert_eq!(w.successful_job_count, 3);
        assert_eq!(w.last_heartbeat_age, Some(5.0));
        let table = render_table(&Status {
            redis: RedisInfo {
                ok: true,
                url: "redis://x/".into(),
                version: Some("7.0".into()),
                error: None,
            },
            suspended: false,
            suspended_ttl: None,
            queues: vec![],
            workers: vec![w],
        });
        assert!(table.starts_with("Redis connection: OK"), "{table}");
        assert!(table.contains("job-1"), "{table}");
        assert!(table.contains("5s ago"), "{table}");
    }
}
