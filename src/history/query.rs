//! Reading the history back: recent executions, newest first ([`fetch`]), as a table for
//! people ([`table`]) or as JSON ([`ExecutionRecord::to_json`]). The `task-worker history`
//! command (`cli::history`) prints them.

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use serde_json::{json, Value as Json};
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, QueryBuilder, Row as _};

use super::db;
use super::row::Status;

/// One execution as read back.
#[derive(Debug, Clone)]
pub struct ExecutionRecord {
    pub job_id: String,
    pub execution_id: String,
    pub queue: Option<String>,
    pub func_name: Option<String>,
    pub task_name: Option<String>,
    pub args: Option<Json>,
    pub kwargs: Option<Json>,
    pub status: String,
    pub retried: bool,
    pub result: Option<Json>,
    pub error: Option<String>,
    pub worker_name: Option<String>,
    pub enqueued_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub attempt: Option<i32>,
}

/// Filters of the command.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub job: Option<String>,
    pub task: Option<String>,
    pub status: Option<Status>,
    pub limit: i64,
}

/// Reads the newest executions matching `filter`.
pub async fn fetch(url: &str, filter: &Filter) -> anyhow::Result<Vec<ExecutionRecord>> {
    let opts = db::connect_options(url)?;
    let mut conn = PgConnection::connect_with(&opts).await.with_context(|| {
        format!(
            "connecting to PostgreSQL at {}",
            rq_worker::redact::redact_url(url)
        )
    })?;
    let mut q = QueryBuilder::new(
        "SELECT job_id, execution_id, queue, func_name, task_name, args, kwargs, status, \
         retried, result, error, worker_name, enqueued_at, started_at, ended_at, attempt \
         FROM task_executions WHERE true",
    );
    if let Some(job) = &filter.job {
        q.push(" AND job_id = ").push_bind(job.clone());
    }
    if let Some(task) = &filter.task {
        q.push(" AND task_name = ").push_bind(task.clone());
    }
    if let Some(status) = filter.status {
        q.push(" AND status = ").push_bind(status.as_str());
    }
    q.push(" ORDER BY started_at DESC NULLS LAST, job_id, execution_id LIMIT ")
        .push_bind(filter.limit);
    let rows = match q.build().fetch_all(&mut conn).await {
        Ok(r) => r,
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => {
            bail!("no task history in this database yet (table task_executions does not exist; a worker creates it)")
        }
        Err(e) => return Err(e).context("reading task_executions"),
    };
    let _ = conn.close().await;
    rows.iter()
        .map(ExecutionRecord::from_row)
        .collect::<Result<_, _>>()
        .context("decoding task_executions rows")
}

impl ExecutionRecord {
    fn from_row(r: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(ExecutionRecord {
            job_id: r.try_get("job_id")?,
            execution_id: r.try_get("execution_id")?,
            queue: r.try_get("queue")?,
            func_name: r.try_get("func_name")?,
            task_name: r.try_get("task_name")?,
            args: r.try_get("args")?,
            kwargs: r.try_get("kwargs")?,
            status: r.try_get("status")?,
            retried: r.try_get("retried")?,
            result: r.try_get("result")?,
            error: r.try_get("error")?,
            worker_name: r.try_get("worker_name")?,
            enqueued_at: r.try_get("enqueued_at")?,
            started_at: r.try_get("started_at")?,
            ended_at: r.try_get("ended_at")?,
            attempt: r.try_get("attempt")?,
        })
    }

    /// Seconds from start to end, when ended.
    pub fn duration(&self) -> Option<f64> {
        let (s, e) = (self.started_at?, self.ended_at?);
        Some((e - s).num_microseconds()? as f64 / 1e6)
    }

    pub fn to_json(&self) -> Json {
        let ts = |t: &Option<DateTime<Utc>>| {
            t.map(|t| json!(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)))
                .unwrap_or(Json::Null)
        };
        json!({
            "job_id": self.job_id,
            "execution_id": self.execution_id,
            "queue": self.queue,
            "func_name": self.func_name,
            "task_name": self.task_name,
            "args": self.args,
            "kwargs": self.kwargs,
            "status": self.status,
            "retried": self.retried,
            "result": self.result,
            "error": self.error,
            "worker_name": self.worker_name,
            "enqueued_at": ts(&self.enqueued_at),
            "started_at": ts(&self.started_at),
            "ended_at": ts(&self.ended_at),
            "duration_s": self.duration(),
            "attempt": self.attempt,
        })
    }
}

/// The readable table: one line per execution; the error column is the traceback's last line.
pub fn table(rows: &[ExecutionRecord]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<19}  {:<36}  {:>3}  {:<24}  {:<8}  {:>9}  {:<20}  ERROR",
        "STARTED (UTC)", "JOB", "TRY", "TASK", "STATUS", "DURATION", "WORKER"
    );
    for r in rows {
        let started = r
            .started_at
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into());
        let status = if r.retried {
            format!("{}*", r.status)
        } else {
            r.status.clone()
        };
        let duration = r
            .duration()
            .map(|d| format!("{d:.3}s"))
            .unwrap_or_else(|| "-".into());
        let error = r
            .error
            .as_deref()
            .and_then(|e| e.trim_end().lines().last())
            .unwrap_or("");
        let _ = writeln!(
            out,
            "{:<19}  {:<36}  {:>3}  {:<24}  {:<8}  {:>9}  {:<20}  {}",
            started,
            cut(&r.job_id, 36),
            r.attempt
                .map(|a| a.to_string())
                .unwrap_or_else(|| "-".into()),
            cut(
                r.task_name
                    .as_deref()
                    .or(r.func_name.as_deref())
                    .unwrap_or("?"),
                24
            ),
            status,
            duration,
            cut(r.worker_name.as_deref().unwrap_or("-"), 20),
            cut(error, 80),
        );
    }
    if rows.iter().any(|r| r.retried) {
        let _ = writeln!(out, "(*: another attempt of the job was scheduled)");
    }
    out
}

/// At most `n` characters, with `…` when cut.
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shows_one_line_per_execution() {
        let t0 = Utc::now();
        let e = ExecutionRecord {
            job_id: "job-1".into(),
            execution_id: "e1".into(),
            queue: Some("default".into()),
            func_name: Some("fail".into()),
            task_name: Some("fail".into()),
            args: None,
            kwargs: None,
            status: "failed".into(),
            retried: true,
            result: None,
            error: Some("Traceback...\nException: boom\n".into()),
            worker_name: Some("w".into()),
            enqueued_at: None,
            started_at: Some(t0),
            ended_at: Some(t0 + chrono::Duration::milliseconds(1500)),
            attempt: Some(1),
        };
        let text = table(std::slice::from_ref(&e));
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains("Exception: boom"));
        assert!(text.contains("failed*"));
        assert!(text.contains("1.500s"));
        assert_eq!(e.to_json()["duration_s"], json!(1.5));
        assert_eq!(cut("abcdef", 4), "abc…");
    }
}
