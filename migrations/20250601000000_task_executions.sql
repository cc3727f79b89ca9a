-- Durable task history: one row per execution of a job by task-worker (docs/history.md).
-- Applied by task-worker at start through sqlx's migrator, which holds a PostgreSQL advisory
-- lock while it runs, so many replicas starting at once apply it exactly once. The statements
-- are idempotent as well (IF NOT EXISTS) so that a hand-made table does not stop a worker.
CREATE TABLE IF NOT EXISTS task_executions (
    job_id       text        NOT NULL,
    execution_id text        NOT NULL,
    queue        text,
    func_name    text,
    task_name    text,
    args         jsonb,
    kwargs       jsonb,
    status       text        NOT NULL,
    retried      boolean     NOT NULL DEFAULT false,
    result       jsonb,
    error        text,
    worker_name  text,
    enqueued_at  timestamptz,
    started_at   timestamptz,
    ended_at     timestamptz,
    attempt      integer,
    PRIMARY KEY (job_id, execution_id),
    CONSTRAINT task_executions_status_check
        CHECK (status IN ('started', 'finished', 'failed', 'stopped'))
);

COMMENT ON TABLE task_executions IS
    'One row per task-worker execution of an RQ job. args/kwargs/result are the decoded Python '
    'values in the JSON view of task_worker::value::Value::to_json (bytes -> {"$bytes": base64}, '
    'tuples and sets -> arrays, ints beyond 64 bits -> decimal strings, non-string dict keys -> '
    'their Python repr, NaN/Infinity -> strings). Values of dict keys matching token, password or '
    'secret (any case) in args/kwargs are replaced by "[redacted]". attempt is 1 for the first '
    'execution of a job and +1 for each retry, numbered by started_at. A retried attempt has '
    'status failed and retried = true.';

-- Look-ups: one job (the primary key covers job_id), a task over time, a status over time,
-- and retention (oldest first).
CREATE INDEX IF NOT EXISTS task_executions_task_started_idx
    ON task_executions (task_name, started_at DESC);
CREATE INDEX IF NOT EXISTS task_executions_status_started_idx
    ON task_executions (status, started_at DESC);
CREATE INDEX IF NOT EXISTS task_executions_started_idx
    ON task_executions (started_at);
