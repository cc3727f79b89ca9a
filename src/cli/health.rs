//! `task-worker health`: the container health probe.
//!
//! Healthy = Redis answers `PING` (with AUTH when configured) **and** a worker of this host is
//! alive: a hash in `rq:workers` whose `hostname` is this machine's, not dead, whose
//! `last_heartbeat` is at most `--max-heartbeat-age` old (default 60 s: workers heartbeat every
//! 10 s, so that is several missed beats, yet far below the 480 s idle TTL after which the hash
//! would vanish anyway, rq-protocol.md §6.1), and whose `pid` is a live process here. Python RQ
//! workers on the same host qualify too: they write the same fields.
//!
//! The whole check is bounded by `--timeout`, even when Redis accepts the connection and then
//! never answers. It costs one connection and three round trips, so it can run every 10 s.

use std::process::ExitCode;
use std::time::Duration;

use super::{CliError, CliResult, Target};
use crate::cli::args::HealthArgs;
use rq_protocol::keys::Keys;
use rq_protocol::time::{now, parse_datetime};

/// The verdict: one line either way.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Healthy(String),
    Unhealthy(String),
}

pub async fn run(args: HealthArgs) -> CliResult {
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0) {
        return Err(CliError::Usage(format!(
            "invalid --timeout {}: must be more than 0 and at most 3600 seconds",
            args.timeout
        )));
    }
    let target = Target::from_args(&args.redis)?;
    let verdict = check(&target, &args).await;
    Ok(match verdict {
        Verdict::Healthy(line) => {
            println!("healthy: {line}");
            ExitCode::SUCCESS
        }
        Verdict::Unhealthy(line) => {
            println!("unhealthy: {line}");
            ExitCode::FAILURE
        }
    })
}

/// Runs the check under the overall timeout.
pub async fn check(target: &Target, args: &HealthArgs) -> Verdict {
    let limit = Duration::from_secs_f64(args.timeout);
    match tokio::time::timeout(limit, probe(target, args, limit)).await {
        Ok(v) => v,
        Err(_) => Verdict::Unhealthy(format!(
            "no answer from Redis at {} within {}s",
            target.shown_url(),
            args.timeout
        )),
    }
}

async fn probe(target: &Target, args: &HealthArgs, limit: Duration) -> Verdict {
    // The outer timeout in `check` fires first and says what happened; these are a backstop.
    let backstop = limit + Duration::from_secs(1);
    let mut con = match target.connect(backstop, Some(backstop)).await {
        Ok(c) => c,
        Err(e) => return Verdict::Unhealthy(rq_worker::error_text(&e)),
    };
    match redis::cmd("PING").query_async::<String>(&mut con).await {
        Ok(pong) if pong == "PONG" => {}
        Ok(other) => {
            return Verdict::Unhealthy(format!(
                "Redis at {} answered PING with {other:?}",
                target.shown_url()
            ))
        }
        Err(e) => {
            return Verdict::Unhealthy(format!(
                "Redis at {} does not answer PING: {e}",
                target.shown_url()
            ))
        }
    }
    if args.redis_only {
        return Verdict::Healthy(format!("Redis at {} answers PING", target.shown_url()));
    }
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    match local_workers(&mut con, &target.keys, &host).await {
        Ok(workers) => judge(
            &host,
            workers,
            args.name.as_deref(),
            args.max_heartbeat_age,
            pid_alive,
        ),
        Err(e) => Verdict::Unhealthy(format!("cannot read the worker registry: {e}")),
    }
}

/// What the probe needs from one worker hash.
#[derive(Debug, Clone, Default)]
pub struct WorkerSeen {
    pub name: String,
    pub hostname: Option<String>,
    pub pid: Option<String>,
    pub last_heartbeat: Option<String>,
    pub death: Option<String>,
}

/// The workers in `rq:workers` whose hash says they run on `host` (missing hashes skipped).
async fn local_workers(
    con: &mut redis::aio::MultiplexedConnection,
    keys: &Keys,
    host: &str,
) -> redis::RedisResult<Vec<WorkerSeen>> {
    let members: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.workers())
        .query_async(con)
        .await?;
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = redis::pipe();
    for key in &members {
        p.cmd("HMGET")
            .arg(key)
            .arg("hostname")
            .arg("pid")
            .arg("last_heartbeat")
            .arg("death");
    }
    type Row = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = p.query_async(con).await?;
    let worker_prefix = keys.worker("");
    Ok(members
        .iter()
        .zip(rows)
        .map(|(key, (hostname, pid, last_heartbeat, death))| WorkerSeen {
            name: key.strip_prefix(&worker_prefix).unwrap_or(key).to_string(),
            hostname,
            pid,
            last_heartbeat,
            death,
        })
        .filter(|w| w.hostname.as_deref() == Some(host))
        .collect())
}

/// `kill(pid, 0)`: the process exists (EPERM means it exists but belongs to someone else).
pub fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 performs only the existence and permission checks.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Decides from the local workers: healthy when at least one is alive. Otherwise the line says
/// why the most promising one is not.
pub fn judge(
    host: &str,
    workers: Vec<WorkerSeen>,
    name: Option<&str>,
    max_age_s: u64,
    alive: impl Fn(i32) -> bool,
) -> Verdict {
    let workers: Vec<WorkerSeen> = workers
        .into_iter()
        .filter(|w| match name {
            None => true,
            Some(n) => {
                w.name == n
                    || w.name
                        .strip_prefix(n)
                        .and_then(|rest| rest.strip_prefix('-'))
                        .is_some_and(|i| !i.is_empty() && i.chars().all(|c| c.is_ascii_digit()))
            }
        })
        .collect();
    let whose = match name {
        Some(n) => format!("named {n:?} "),
        None => String::new(),
    };
    if workers.is_empty() {
        return Verdict::Unhealthy(format!("no worker {whose}is registered from host {host}"));
    }
    let at = now();
    let mut reasons = Vec::new();
    for w in &workers {
        if w.death.as_deref().is_some_and(|d| !d.is_empty()) {
            reasons.push(format!("worker {} has died", w.name));
            continue;
        }
        let age = w
            .last_heartbeat
            .as_deref()
            .and_then(parse_datetime)
            .map(|t| (at - t).num_milliseconds().max(0) as f64 / 1e3);
        let Some(age) = age else {
            reasons.push(format!("worker {} has no valid last_heartbeat", w.name));
            continue;
        };
        if age > max_age_s as f64 {
            reasons.push(format!(
                "worker {} last heartbeat {age:.0}s ago (limit {max_age_s}s)",
                w.name
            ));
            continue;
        }
        let pid = w.pid.as_deref().and_then(|p| p.trim().parse::<i32>().ok());
        match pid {
            Some(pid) if alive(pid) => {
                return Verdict::Healthy(format!(
                    "worker {} (pid {pid}) heartbeat {age:.0}s ago",
                    w.name
                ))
            }
            Some(pid) => reasons.push(format!("worker {} pid {pid} is not running", w.name)),
            None => reasons.push(format!("worker {} has no valid pid", w.name)),
        }
    }
    Verdict::Unhealthy(format!(
        "no live worker {whose}on host {host}: {}",
        reasons.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rq_protocol::time::format_datetime;

    fn seen(name: &str, age_s: i64, pid: &str) -> WorkerSeen {
        WorkerSeen {
            name: name.into(),
            hostname: Some("h".into()),
            pid: Some(pid.into()),
            last_heartbeat: Some(format_datetime(now() - chrono::Duration::seconds(age_s))),
            death: None,
        }
    }

    #[test]
    fn judges_heartbeat_pid_and_death() {
        let live = |pid: i32| pid == 7;
        assert!(matches!(
            judge("h", vec![seen("w", 3, "7")], None, 60, live),
            Verdict::Healthy(_)
        ));
        let Verdict::Unhealthy(why) = judge("h", vec![seen("w", 90, "7")], None, 60, live) else {
            panic!("stale heartbeat must be unhealthy")
        };
        assert!(why.contains("limit 60s"), "{why}");
        let Verdict::Unhealthy(why) = judge("h", vec![seen("w", 1, "8")], None, 60, live) else {
            panic!("dead pid must be unhealthy")
        };
        assert!(why.contains("pid 8 is not running"), "{why}");
        let mut dead = seen("w", 1, "7");
        dead.death = Some(format_datetime(now()));
        assert!(matches!(
            judge("h", vec![dead], None, 60, live),
            Verdict::Unhealthy(_)
        ));
        assert!(matches!(
            judge("h", vec![], None, 60, live),
            Verdict::Unhealthy(_)
        ));
        // One live worker among stale ones is enough.
        assert!(matches!(
            judge(
                "h",
                vec![seen("a", 999, "7"), seen("b", 1, "7")],
                None,
                60,
                live
            ),
            Verdict::Healthy(_)
        ));
    }

    #[test]
    fn name_filter_matches_slots() {
        let live = |_| true;
        let ws = || vec![seen("w-2", 1, "1"), seen("other", 1, "1")];
        assert!(matches!(
            judge("h", ws(), Some("w"), 60, live),
            Verdict::Healthy(_)
        ));
        assert!(matches!(
            judge("h", ws(), Some("x"), 60, live),
            Verdict::Unhealthy(_)
        ));
        assert!(matches!(
            judge("h", vec![seen("w-x", 1, "1")], Some("w"), 60, live),
            Verdict::Unhealthy(_)
        ));
    }

    #[test]
    fn own_pid_is_alive() {
        assert!(pid_alive(std::process::id() as i32));
        assert!(!pid_alive(0));
        assert!(!pid_alive(-5));
    }
}
