//! PostgreSQL access for the task history: connection options, the embedded schema
//! migrations, the batch upsert, attempt numbering and retention deletes. Runtime queries only
//! (`sqlx::query`), so building needs no database.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::ConnectOptions;

use super::row::Row;

/// The schema (`migrations/`), embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Key of the transaction-level advisory lock that serialises batch writes across replicas, so
/// that attempt numbering sees every committed row (see [`RENUMBER`]).
const WRITE_LOCK: i64 = 0x7461_736b_6869_7374; // "taskhist"

/// Every statement must end well before the writer gives up on it.
const STATEMENT_TIMEOUT: &str = "30s";

/// Connection options for `url`; statement logging is off (a slow or down database must not
/// produce a log line per row).
pub fn connect_options(url: &str) -> anyhow::Result<PgConnectOptions> {
    let opts = PgConnectOptions::from_str(url).with_context(|| {
        format!(
            "invalid database URL {}",
            rq_worker::redact::redact_url(url)
        )
    })?;
    Ok(opts
        .application_name("task-worker")
        .options([("statement_timeout", STATEMENT_TIMEOUT)])
        .disable_statement_logging())
}

/// A small pool that connects on first use, so a database that is down at start does not stop
/// the worker.
pub fn lazy_pool(opts: PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        // sqlx warns about every slow acquire; the writer logs outages itself, once.
        .acquire_slow_threshold(Duration::from_secs(3600))
        .idle_timeout(Duration::from_secs(300))
        .connect_lazy_with(opts)
}

/// Applies the migrations through a private one-connection pool. sqlx takes a session
/// advisory lock for the run; closing that pool afterwards releases it even if a migration
/// failed half-way (a connection of the shared pool could keep it and block other replicas).
pub async fn migrate(opts: &PgConnectOptions) -> anyhow::Result<()> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts.clone())
        .await
        .context("connecting to PostgreSQL")?;
    let result = MIGRATOR
        .run(&pool)
        .await
        .context("applying the task history schema");
    pool.close().await;
    result
}

/// One statement for the whole batch: `UNNEST` turns 15 array parameters into rows (no
/// per-row statement, no bind-parameter limit). On conflict, known values replace unknown
/// ones and `started` never overwrites a terminal status, so a start written after its end,
/// or any row written twice, leaves the same final row.
///
/// A new row gets its `attempt` numbered within the batch, which is already the final number
/// for a job with no rows outside the batch (nearly every job): [`RENUMBER`] then finds nothing
/// to change, so each row is written once instead of inserted and updated (issue 8: this
/// halved PostgreSQL's CPU per row).
pub const UPSERT: &str = "\
INSERT INTO task_executions AS t
    (job_id, execution_id, queue, func_name, task_name, args, kwargs, status, retried,
     result, error, worker_name, enqueued_at, started_at, ended_at, attempt)
SELECT u.*, row_number() OVER (PARTITION BY u.job_id
                               ORDER BY u.started_at NULLS LAST, u.execution_id)::int
FROM UNNEST(
    $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[],
    $8::text[], $9::boolean[], $10::jsonb[], $11::text[], $12::text[],
    $13::timestamptz[], $14::timestamptz[], $15::timestamptz[])
    AS u(job_id, execution_id, queue, func_name, task_name, args, kwargs, status, retried,
         result, error, worker_name, enqueued_at, started_at, ended_at)
ON CONFLICT (job_id, execution_id) DO UPDATE SET
    queue = COALESCE(EXCLUDED.queue, t.queue),
    func_name = COALESCE(EXCLUDED.func_name, t.func_name),
    task_name = COALESCE(EXCLUDED.task_name, t.task_name),
    args = COALESCE(EXCLUDED.args, t.args),
    kwargs = COALESCE(EXCLUDED.kwargs, t.kwargs),
    status = CASE WHEN EXCLUDED.status = 'started' THEN t.status ELSE EXCLUDED.status END,
    retried = CASE WHEN EXCLUDED.status = 'started' THEN t.retried ELSE EXCLUDED.retried END,
    result = COALESCE(EXCLUDED.result, t.result),
    error = COALESCE(EXCLUDED.error, t.error),
    worker_name = COALESCE(EXCLUDED.worker_name, t.worker_name),
    enqueued_at = COALESCE(EXCLUDED.enqueued_at, t.enqueued_at),
    started_at = COALESCE(EXCLUDED.started_at, t.started_at),
    ended_at = COALESCE(EXCLUDED.ended_at, t.ended_at)";

/// `attempt` = the row's position among the job's executions by `started_at`. The batch's job
/// ids are joined as a set (`unnest`) and looked up through the primary key (sequential scans
/// are off for this statement): a plan that scans the table costs the whole table per batch,
/// which made PostgreSQL's CPU grow with the table (issue 8). Recomputed for
/// the batch's jobs after every upsert, under `WRITE_LOCK`, so it is exact even when an
/// earlier attempt's row arrives late (e.g. from another replica that was buffering).
pub const RENUMBER: &str = "\
UPDATE task_executions t SET attempt = r.n
FROM (SELECT e.job_id, e.execution_id,
             row_number() OVER (PARTITION BY e.job_id
                                ORDER BY e.started_at NULLS LAST, e.execution_id)::int AS n
      FROM unnest($1::text[]) AS ids(job_id)
      JOIN task_executions e ON e.job_id = ids.job_id) r
WHERE t.job_id = r.job_id AND t.execution_id = r.execution_id
  AND t.attempt IS DISTINCT FROM r.n";

/// Writes a batch in one transaction: the write lock, one upsert, one renumber.
pub async fn write_batch(pool: &PgPool, rows: &[Row]) -> Result<(), sqlx::Error> {
    let mut job_ids: Vec<&str> = rows.iter().map(|r| r.job_id.as_str()).collect();
    job_ids.sort_unstable();
    job_ids.dedup();
    let col = |f: fn(&Row) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(WRITE_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query(UPSERT)
        .bind(rows.iter().map(|r| r.job_id.clone()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.execution_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(col(|r| r.queue.clone()))
        .bind(col(|r| r.func_name.clone()))
        .bind(col(|r| r.task_name.clone()))
        .bind(rows.iter().map(|r| r.args.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.kwargs.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.retried).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.result.clone()).collect::<Vec<_>>())
        .bind(col(|r| r.error.clone()))
        .bind(col(|r| r.worker_name.clone()))
        .bind(rows.iter().map(|r| r.enqueued_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.started_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.ended_at).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    // Index probes for the batch's jobs, whatever the table's statistics say: a sequential
    // scan here costs the whole table per batch (issue 8).
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await?;
    sqlx::query(RENUMBER)
        .bind(job_ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// True when retrying the same write later may succeed (connection lost, database restarting,
/// lock or resource trouble). False when PostgreSQL refuses the data itself (SQLSTATE classes
/// 21 cardinality violation, 22 data exception, 23 integrity violation, 54 program limit, or an
/// encoding error): the writer splits such a batch to isolate and drop the refused rows
/// instead of blocking every later row.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code();
            let class = code.as_deref().map(|c| c.get(..2).unwrap_or(c));
            !matches!(class, Some("21" | "22" | "23" | "54"))
        }
        sqlx::Error::Encode(_) => false,
        _ => true,
    }
}

/// Deletes at most `limit` rows older than `days` days; returns how many it deleted.
pub async fn delete_older_than(pool: &PgPool, days: u32, limit: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM task_executions WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM task_executions
             WHERE started_at < now() - make_interval(days => $1)
             LIMIT $2))",
    )
    .bind(i32::try_from(days).unwrap_or(i32::MAX))
    .bind(limit)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}
