//! `task-worker suspend`, `resume` and `requeue`: the same Redis effects as `rq suspend`,
//! `rq resume` and `rq requeue` (rq-protocol.md §2 `rq:suspended`, §6.9), so Python workers on
//! the same Redis obey them too.

use std::process::ExitCode;

use anyhow::Context;
use redis::aio::MultiplexedConnection;

use super::{queue_names, CliError, CliResult, Target, CONNECT_TIMEOUT, RESPONSE_TIMEOUT};
use crate::cli::args::{RequeueArgs, ResumeArgs, SuspendArgs};
use rq_protocol::codec::zlib_compress;
use rq_protocol::job::DEFAULT_JOB_TIMEOUT;
use rq_protocol::keys::Keys;
use rq_protocol::requeue::REQUEUE_FAILED_SCRIPT;
use rq_protocol::time::{format_datetime, now};

async fn connect(target: &Target) -> anyhow::Result<MultiplexedConnection> {
    target
        .connect(CONNECT_TIMEOUT, Some(RESPONSE_TIMEOUT))
        .await
}

/// `rq suspend [--duration N]`: `SET rq:suspended 1` (+ `EXPIRE N`) in one transaction.
pub async fn suspend(args: SuspendArgs) -> CliResult {
    if args.duration.is_some_and(|d| d < 1) {
        return Err(CliError::Usage(
            "invalid --duration: must be at least 1 second".into(),
        ));
    }
    let target = Target::from_args(&args.redis)?;
    let mut con = connect(&target).await?;
    let mut p = redis::pipe();
    p.atomic();
    p.cmd("SET").arg(target.keys.suspended()).arg(1).ignore();
    if let Some(d) = args.duration {
        p.cmd("EXPIRE").arg(target.keys.suspended()).arg(d).ignore();
    }
    p.query_async::<()>(&mut con)
        .await
        .context("setting the suspension flag")?;
    match args.duration {
        Some(d) => println!(
            "Suspended workers for {d} seconds: no new jobs start until then; running jobs finish."
        ),
        None => println!(
            "Suspended workers: no new jobs start until `task-worker resume`; running jobs finish."
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `rq resume`: `DEL rq:suspended`.
pub async fn resume(args: ResumeArgs) -> CliResult {
    let target = Target::from_args(&args.redis)?;
    let mut con = connect(&target).await?;
    redis::cmd("DEL")
        .arg(target.keys.suspended())
        .query_async::<()>(&mut con)
        .await
        .context("clearing the suspension flag")?;
    println!("Resumed workers.");
    Ok(ExitCode::SUCCESS)
}

/// Why a job was not requeued.
fn refusal(code: i64, registry_queue: &str) -> String {
    match code {
        0 => format!("not in the failed registry of queue {registry_queue:?}"),
        -1 => "no such job".into(),
        -2 => "the job has no origin queue".into(),
        other => format!("unexpected script reply {other}"),
    }
}

pub async fn requeue(args: RequeueArgs) -> CliResult {
    let target = Target::from_args(&args.redis)?;
    if args.all && !args.job_ids.is_empty() {
        return Err(CliError::Usage(
            "give either --all or job ids, not both".into(),
        ));
    }
    let keys = &target.keys;
    let mut con = connect(&target).await?;
    // (registry queue, job id) pairs.
    let mut work: Vec<(String, String)> = Vec::new();
    if args.all {
        let queues = match &args.queue {
            Some(q) => vec![q.clone()],
            None => {
                let members: Vec<String> = redis::cmd("SMEMBERS")
                    .arg(keys.queues())
                    .query_async(&mut con)
                    .await
                    .context("listing queues")?;
                queue_names(keys, members)
            }
        };
        for q in queues {
            let ids: Vec<String> = redis::cmd("ZRANGE")
                .arg(keys.failed(&q))
                .arg(0)
                .arg(-1)
                .query_async(&mut con)
                .await
                .with_context(|| format!("listing failed jobs of {q}"))?;
            work.extend(ids.into_iter().map(|id| (q.clone(), id)));
        }
    } else {
        for id in &args.job_ids {
            let q = match &args.queue {
                Some(q) => q.clone(),
                None => {
                    let origin: Option<String> = redis::cmd("HGET")
                        .arg(keys.job(id))
                        .arg("origin")
                        .query_async(&mut con)
                        .await
                        .context("reading the job's origin")?;
                    origin.unwrap_or_default()
                }
            };
            work.push((q, id.clone()));
        }
    }
    if work.is_empty() {
        println!("Nothing to do: no failed jobs.");
        return Ok(ExitCode::SUCCESS);
    }
    let script = redis::Script::new(REQUEUE_FAILED_SCRIPT);
    let empty_exc = zlib_compress(b"");
    let mut requeued = 0usize;
    let mut refused = Vec::new();
    for (q, id) in &work {
        let code: i64 = requeue_one(&mut con, &script, keys, q, id, &empty_exc)
            .await
            .with_context(|| format!("requeueing {id}"))?;
        if code == 1 {
            requeued += 1;
        } else {
            refused.push(format!("{id}: {}", refusal(code, q)));
        }
    }
    println!("Requeued {requeued} job(s).");
    if refused.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("Could not requeue {} job(s):", refused.len());
    for r in &refused {
        eprintln!("  {r}");
    }
    Ok(ExitCode::FAILURE)
}

async fn requeue_one(
    con: &mut MultiplexedConnection,
    script: &redis::Script,
    keys: &Keys,
    queue: &str,
    id: &str,
    empty_exc: &[u8],
) -> redis::RedisResult<i64> {
    let at = now();
    script
        .key(keys.failed(queue))
        .key(keys.job(id))
        .arg(id)
        .arg(keys.prefix())
        .arg(format_datetime(at))
        .arg(empty_exc)
        .arg(DEFAULT_JOB_TIMEOUT)
        .arg(rq_protocol::time::unix_seconds(at))
        .invoke_async(con)
        .await
}
