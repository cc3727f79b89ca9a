//! Subcommands other than `run`: `tasks`, and the operator commands `health`, `status`,
//! `submit`, `suspend`, `resume` and `requeue`. The operator commands speak RQ's data model
//! (rq-protocol.md), so they work the same against Python RQ workers sharing the Redis.
//!
//! Exit codes: 0 ok, 1 failure (or unhealthy), 2 usage error (one line on stderr).

pub mod args;
pub mod argv_secrets;
pub mod control;
pub mod health;
pub mod history;
pub mod run;
pub mod status;
pub mod submit;

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;

use crate::cli::args::{RedisArgs, TasksArgs};
use rq_protocol::keys::Keys;
use rq_worker::redact::redact_url;
use rq_worker::RedisTls;

/// A [`RunConfig`](crate::config::RunConfig) from a command line with the options of
/// `task-worker run` (and their environment variables, `*_FILE` secrets included), so that a
/// program built on this crate is configured like the `task-worker` binary
/// ([`rq_worker::Worker`] shows it in use). `args[0]` is the program name.
pub fn run_config<I, T>(args: I) -> Result<crate::config::RunConfig, String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use args::{with_default_subcommand, Cli, Command};
    use clap::Parser;
    crate::secret_files::load_into_env()?;
    args::unset_empty_env_vars();
    let argv: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let argv = with_default_subcommand(argv);
    argv_secrets::check(&argv)?;
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    match cli.into_command() {
        Command::Run(args) => args.validate(),
        Command::Worker(args) => args.validate(),
        _ => Err("only the options of `run` or `worker` are accepted here".into()),
    }
}

/// `task-worker tasks`: the registered tasks, their defaults and their parameters.
pub fn print_tasks(args: &TasksArgs) -> ExitCode {
    let timeout_of = |t: &rq_worker::tasks::TaskSpec| {
        t.default_timeout
            .unwrap_or(rq_protocol::job::DEFAULT_JOB_TIMEOUT)
    };
    let registry = crate::tasks::registry();
    if args.json {
        let tasks: Vec<serde_json::Value> = registry
            .iter()
            .map(|t| {
                let params: Vec<serde_json::Value> = t
                    .named_params()
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "name": p.name,
                            "type": p.kind,
                            "required": p.default.is_none(),
                            "default": p.default,
                            "description": p.about,
                        })
                    })
                    .collect();
                serde_json::json!({
                    "name": t.name,
                    "summary": t.summary,
                    "timeout": timeout_of(t),
                    "retries": t.default_retries,
                    "any_parameters": matches!(t.params, rq_worker::tasks::Parameters::Any),
                    "parameters": params,
                })
            })
            .collect();
        print_out(&format!("{}\n", serde_json::Value::Array(tasks)));
        return ExitCode::SUCCESS;
    }
    let mut out = format!(
        "{:<26} {:>9} {:>8}  SUMMARY\n",
        "TASK", "TIMEOUT", "RETRIES"
    );
    for t in registry.iter() {
        out.push_str(&format!(
            "{:<26} {:>9} {:>8}  {}\n",
            t.name,
            format!("{}s", timeout_of(t)),
            t.default_retries,
            t.summary
        ));
        if let rq_worker::tasks::Parameters::Any = t.params {
            out.push_str("    (any arguments, ignored)\n");
        }
        for p in t.named_params() {
            let default = match p.default {
                None => "required".to_string(),
                Some(d) => format!("= {d}"),
            };
            out.push_str(&format!(
                "    {:<26} {:<6} {:<20} {}\n",
                p.name, p.kind, default, p.about
            ));
        }
    }
    print_out(&out);
    ExitCode::SUCCESS
}

/// How a subcommand ended; `main` turns it into the process exit code.
#[derive(Debug)]
pub enum CliError {
    /// Bad arguments: exit 2.
    Usage(String),
    /// The operation failed: exit 1.
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::Failed(e)
    }
}

pub type CliResult = Result<ExitCode, CliError>;

/// Runs one subcommand on a small current-thread runtime and maps its result to an exit code.
pub fn execute<F>(fut: F) -> ExitCode
where
    F: Future<Output = CliResult>,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(fut) {
        Ok(code) => code,
        Err(CliError::Usage(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(CliError::Failed(e)) => {
            eprintln!("error: {}", rq_worker::error_text(&e));
            ExitCode::FAILURE
        }
    }
}

/// A validated Redis target of an operator command.
pub struct Target {
    pub url: String,
    pub tls: RedisTls,
    pub keys: Keys,
    /// Find the master through these sentinels (the URL then gives its credentials only).
    pub sentinel: Option<rq_worker::SentinelConfig>,
}

impl Target {
    pub fn from_args(args: &RedisArgs) -> Result<Target, CliError> {
        let url = args.effective_url().map_err(CliError::Usage)?;
        let prefix = args.validated_prefix().map_err(CliError::Usage)?;
        let tls = args.tls().map_err(CliError::Usage)?;
        let sentinel = args.sentinel().map_err(CliError::Usage)?;
        Ok(Target {
            url,
            tls,
            keys: Keys::new(&prefix),
            sentinel,
        })
    }

    /// The URL with its password hidden, for messages (with Sentinel: the master's name and
    /// the sentinels).
    pub fn shown_url(&self) -> String {
        match &self.sentinel {
            None => redact_url(&self.url),
            Some(s) => format!(
                "master {:?} via sentinels {}",
                s.master_name,
                s.sentinels
                    .iter()
                    .map(|(h, p)| format!("{h}:{p}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }

    /// One multiplexed connection. `response_timeout` bounds every reply (`None` for blocking
    /// commands such as `XREAD BLOCK`); connecting is bounded by `connect_timeout`.
    pub async fn connect(
        &self,
        connect_timeout: Duration,
        response_timeout: Option<Duration>,
    ) -> anyhow::Result<MultiplexedConnection> {
        let client = match &self.sentinel {
            None => self.tls.client(&self.url)?,
            Some(s) => tokio::time::timeout(
                connect_timeout.max(Duration::from_secs(5)),
                rq_worker::sentinel::master_client(s, &self.url, &self.tls),
            )
            .await
            .map_err(|_| {
                anyhow::anyhow!("no answer from the sentinels within {connect_timeout:?}")
            })?
            .with_context(|| format!("cannot find the Redis master ({})", self.shown_url()))?,
        };
        let cfg = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(response_timeout);
        client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await
            .with_context(|| format!("cannot connect to Redis at {}", self.shown_url()))
    }
}

/// Writes to stdout, ignoring a closed pipe (`task-worker status | head`).
pub fn print_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Default bounds of ordinary operator commands.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(15);

/// Queue names from `rq:queues` (members are full keys, rq-protocol.md §2).
pub fn queue_names(keys: &Keys, members: Vec<String>) -> Vec<String> {
    let prefix = keys.queue_key_prefix();
    let mut names: Vec<String> = members
        .into_iter()
        .filter_map(|m| m.strip_prefix(&prefix).map(str::to_string))
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}
