//! `task-worker history [--job ID] [--task NAME] [--status S] [--limit N] [--json]`: recent
//! executions from the PostgreSQL history, newest first, as a table or a JSON array.

use std::process::ExitCode;

use serde_json::Value as Json;

use super::args::HistoryArgs;
use crate::history::query::{fetch, table, ExecutionRecord, Filter};
use crate::history::row::Status;

/// The CLI entry point: exit 2 for bad arguments, 1 when the database cannot be read.
pub fn command(args: HistoryArgs) -> ExitCode {
    let url = match args.database.effective_url() {
        Ok(Some(u)) => u,
        Ok(None) => {
            eprintln!("error: no database configured (set --database-url / POSTGRES_URL or the POSTGRES_* variables)");
            return ExitCode::from(2);
        }
        Err(msg) => {
            eprintln!("error: {msg}");
            return ExitCode::from(2);
        }
    };
    let status = match args.status.as_deref().map(|s| (s, Status::parse(s))) {
        None => None,
        Some((_, Some(s))) => Some(s),
        Some((s, None)) => {
            eprintln!("error: invalid --status {s:?}: use started, finished, failed or stopped");
            return ExitCode::from(2);
        }
    };
    if !(1..=100_000).contains(&args.limit) {
        eprintln!("error: invalid --limit {}: use 1..=100000", args.limit);
        return ExitCode::from(2);
    }
    let filter = Filter {
        job: args.job,
        task: args.task,
        status,
        limit: args.limit,
    };
    super::execute(async move {
        let rows = fetch(&url, &filter).await?;
        if args.json {
            let all: Vec<Json> = rows.iter().map(ExecutionRecord::to_json).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".into())
            );
        } else {
            print!("{}", table(&rows));
        }
        Ok(ExitCode::SUCCESS)
    })
}
