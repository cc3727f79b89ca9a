//! The command line: the clap definition of `task-worker` ([`Cli`], its [`Command`]s) and the
//! two steps before parsing ([`with_default_subcommand`], [`unset_empty_env_vars`]).
//!
//! The flags themselves live by subject: the global Redis/PostgreSQL options in `connection`,
//! the worker's in `run`, the built-in tasks' and the sandbox's in `tasks`, the other
//! subcommands' in `commands`. `validate` turns them into the validated configuration
//! ([`RunConfig`](crate::config::RunConfig), [`TaskSettings`](crate::tasks::TaskSettings),
//! [`sandbox::Settings`](crate::sandbox::Settings), the Redis target).
//!
//! The flag and variable names are a contract: compose files and ops scripts use them.
//! Validation errors become one line on stderr and exit code 2 (see `main.rs`).
use clap::{Parser, Subcommand};

mod commands;
mod connection;
mod run;
mod tasks;
mod validate;
mod worker;

pub use commands::{
    HealthArgs, HistoryArgs, RequeueArgs, ResumeArgs, StatusArgs, SubmitArgs, SuspendArgs,
    TasksArgs,
};
pub use connection::{DatabaseArgs, RedisArgs, DEFAULT_REDIS_URL};
pub use run::{CommonArgs, RunArgs};
pub use tasks::{SandboxArgs, TaskArgs};
pub use worker::WorkerArgs;

/// The command line. `run` is the default subcommand: [`with_default_subcommand`] inserts it
/// before parsing when no subcommand is named, so `run`'s options and environment variables
/// are read only when the worker runs. The connection options are global: accepted before or
/// after the subcommand.
#[derive(Debug, Parser)]
#[command(
    name = "task-worker",
    version,
    about = "A Rust worker for Python RQ (Redis Queue) jobs, wire-compatible with RQ 2.x and 3.0"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub redis: RedisArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

impl Cli {
    /// The subcommand, with the global connection options handed to the ones that use them.
    pub fn into_command(self) -> Command {
        let mut command = self.command;
        match &mut command {
            Command::Run(a) => {
                a.redis = self.redis;
                a.database = self.database;
            }
            Command::Worker(a) => {
                a.redis = self.redis;
                a.database = self.database;
            }
            Command::History(a) => a.database = self.database,
            Command::Health(a) => a.redis = self.redis,
            Command::Status(a) => a.redis = self.redis,
            Command::Submit(a) => a.redis = self.redis,
            Command::Suspend(a) => a.redis = self.redis,
            Command::Resume(a) => a.redis = self.redis,
            Command::Requeue(a) => a.redis = self.redis,
            Command::Tasks(_) | Command::SandboxCheck => {}
        }
        command
    }
}

/// `argv` with `run` inserted after the program name when it names no subcommand (`task-worker
/// -q default -c 8` is `task-worker run -q default -c 8`). The first word that is neither an
/// option nor an option's value decides; `--help`/`--version` before it keep the top-level help.
pub fn with_default_subcommand(argv: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory as _;
    let root = Cli::command();
    let subcommands: Vec<String> = root
        .get_subcommands()
        .flat_map(|c| {
            std::iter::once(c.get_name().to_string()).chain(c.get_all_aliases().map(str::to_string))
        })
        .chain(std::iter::once("help".to_string()))
        .collect();
    // Options that take a value, of the top level and of `run` (the words they may precede).
    let mut long_with_value = Vec::new();
    let mut short_with_value = Vec::new();
    let run = root.get_subcommands().find(|c| c.get_name() == "run");
    for arg in root
        .get_arguments()
        .chain(run.into_iter().flat_map(|r| r.get_arguments()))
    {
        if arg.get_action().takes_values() {
            long_with_value.extend(arg.get_long().map(str::to_string));
            short_with_value.extend(arg.get_short());
        }
    }
    let mut words = argv.iter().skip(1);
    let mut names_subcommand = false;
    while let Some(word) = words.next() {
        let Some(w) = word.to_str() else { break };
        if w == "--" {
            break;
        }
        if matches!(w, "-h" | "--help" | "-V" | "--version") {
            return argv;
        }
        if let Some(long) = w.strip_prefix("--") {
            if !long.contains('=') && long_with_value.iter().any(|l| l == long) {
                words.next();
            }
        } else if let Some(shorts) = w.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-bc 4`: the option that takes a value ends the cluster; its value is the rest or
            // the next word.
            for (i, c) in shorts.char_indices() {
                if short_with_value.contains(&c) {
                    if i + c.len_utf8() == shorts.len() {
                        words.next();
                    }
                    break;
                }
            }
        } else {
            names_subcommand = subcommands.iter().any(|s| s == w);
            break;
        }
    }
    if names_subcommand {
        let mut argv = argv;
        if let Some(at) = argv.iter().position(|w| w == "worker") {
            worker::long_dequeue_strategy(&mut argv[at + 1..]);
        }
        return argv;
    }
    let mut out = argv;
    let at = out.len().min(1);
    out.insert(at, "run".into());
    out
}

/// An empty environment variable means unset, for every variable the command line reads:
/// removes each of them that is set to nothing (or blanks). Call before any thread starts.
pub fn unset_empty_env_vars() {
    use clap::CommandFactory as _;
    fn walk(cmd: &clap::Command, names: &mut Vec<std::ffi::OsString>) {
        names.extend(
            cmd.get_arguments()
                .filter_map(|a| a.get_env())
                .map(|e| e.to_os_string()),
        );
        for sub in cmd.get_subcommands() {
            walk(sub, names);
        }
    }
    let mut names = Vec::new();
    walk(&Cli::command(), &mut names);
    for name in names {
        let blank = std::env::var_os(&name)
            .is_some_and(|v| v.to_str().is_some_and(|t| t.trim().is_empty()));
        if blank {
            // Single-threaded here (see the caller), so changing the environment is sound.
            std::env::remove_var(&name);
        }
    }
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at start; boxing buys nothing
pub enum Command {
    /// Run the worker (the default).
    Run(RunArgs),
    /// Run the worker with `rq worker`'s command line: `task-worker worker [OPTIONS] [QUEUES]...`
    /// takes what `rq worker` takes (README: "Replacing `rq worker`").
    Worker(WorkerArgs),
    /// List the registered tasks with their parameters and defaults.
    Tasks(TasksArgs),
    /// Container health probe: exit 0 when Redis answers and this host's worker is alive.
    Health(HealthArgs),
    /// Queues, workers and the suspension flag (read-only).
    Status(StatusArgs),
    /// Enqueue a task the way the backend does; print the job id.
    #[command(
        after_help = "Each task's parameters (names, types, defaults): `task-worker tasks`. A parameter the task does not take is refused before anything is enqueued."
    )]
    Submit(SubmitArgs),
    /// Stop all workers on this Redis from starting new jobs (`rq suspend`).
    Suspend(SuspendArgs),
    /// Let suspended workers take jobs again (`rq resume`).
    Resume(ResumeArgs),
    /// Put failed jobs back on their queue (`rq requeue`).
    Requeue(RequeueArgs),
    /// Show recent task executions from the PostgreSQL history.
    History(HistoryArgs),
    /// Check which sandbox layers this host gives (exit 1 when one is missing).
    SandboxCheck,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_is_the_default_subcommand() {
        let words = |argv: &[&str]| -> Vec<String> {
            with_default_subcommand(argv.iter().map(std::ffi::OsString::from).collect())
                .iter()
                .map(|w| w.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(words(&["tw"]), ["tw", "run"]);
        assert_eq!(words(&["tw", "-q", "status", "-c", "2"])[1], "run");
        assert_eq!(words(&["tw", "-bq", "health"])[1], "run");
        assert_eq!(words(&["tw", "--name", "tasks"])[1], "run");
        assert_eq!(
            words(&["tw", "--name=x", "tasks"]),
            ["tw", "--name=x", "tasks"]
        );
        assert_eq!(
            words(&["tw", "--redis-url", "u", "health"])[1],
            "--redis-url"
        );
        assert_eq!(words(&["tw", "--help"]), ["tw", "--help"]);
        assert_eq!(words(&["tw", "help", "run"])[1], "help");
        assert_eq!(
            words(&["tw", "worker", "-ds", "random", "-b", "-ds=round_robin"]),
            [
                "tw",
                "worker",
                "--dequeue-strategy",
                "random",
                "-b",
                "--dequeue-strategy=round_robin"
            ]
        );
    }
}
