//! `task-worker`: command-line parsing and dispatch only.

use std::process::ExitCode;

use clap::Parser;
use task_worker::cli::args::{Cli, Command};
use task_worker::{cli, logging};

/// mimalloc instead of glibc's malloc: a job's path makes many small, short-lived allocations
/// (reply values, keys, arguments), and glibc's malloc and free were about a third of the
/// worker's instructions per job (callgrind, issue 17).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A sandbox supervisor (src/sandbox/supervisor.rs) is this binary started by the worker:
    // no argument parsing, no logging, no async runtime.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args
        .get(1)
        .is_some_and(|a| a == task_worker::sandbox::SUPERVISE_ARG)
    {
        return task_worker::sandbox::supervisor::main(&args);
    }
    // Student code started by a grader (`confine-student`): hand-parsed, nothing else runs.
    if args.get(1).is_some_and(|a| a == "confine-student") {
        return task_worker::sandbox::student::main(&args[2..]);
    }
    if args
        .get(1)
        .is_some_and(|a| a == task_worker::sandbox::namespaces::PROBE_ARG)
    {
        return task_worker::sandbox::namespaces::probe_here();
    }
    // Secrets given as files (`REDIS_PASSWORD_FILE`, ...), before clap reads the environment;
    // then every empty variable the command line reads counts as unset.
    let secrets = task_worker::secret_files::load_into_env();
    task_worker::cli::args::unset_empty_env_vars();
    let argv = task_worker::cli::args::with_default_subcommand(args);
    // A password on the command line is readable by every process of the machine.
    if let Err(e) = task_worker::cli::argv_secrets::check(&argv) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let cli = match Cli::try_parse_from(argv) {
        Ok(c) => c.into_command(),
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            eprintln!("{}", one_line_usage_error(&e));
            return ExitCode::from(2);
        }
    };
    let uses_secrets = !matches!(cli, Command::Tasks(_) | Command::SandboxCheck);
    if let (Err(e), true) = (secrets, uses_secrets) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    match cli {
        Command::Tasks(args) => cli::print_tasks(&args),
        Command::SandboxCheck => task_worker::sandbox::check::command(),
        Command::History(args) => cli::history::command(args),
        Command::Run(args) => run(args.validate()),
        Command::Worker(args) => run(args.validate()),
        Command::Health(args) => cli::execute(cli::health::run(args)),
        Command::Status(args) => cli::execute(cli::status::run(args)),
        Command::Submit(args) => cli::execute(cli::submit::run(args)),
        Command::Suspend(args) => cli::execute(cli::control::suspend(args)),
        Command::Resume(args) => cli::execute(cli::control::resume(args)),
        Command::Requeue(args) => cli::execute(cli::control::requeue(args)),
    }
}

/// Says at start-up whether test runs get their own namespaces, and what breaks where they
/// do not; `--sandbox-namespaces on` makes their absence fatal.
fn check_namespaces(settings: &task_worker::sandbox::Settings) -> Result<(), ExitCode> {
    use task_worker::sandbox::{namespaces, NamespaceMode};
    if settings.namespaces == NamespaceMode::Off {
        tracing::warn!(
            "per-job namespaces are off (--sandbox-namespaces off): {}",
            namespaces::WITHOUT
        );
        return Ok(());
    }
    match namespaces::available() {
        Ok(()) => {
            tracing::info!("sandbox: every test run gets its own user, mount, PID and IPC namespaces (private /tmp, /var/tmp, /dev/shm; limits per job)");
            Ok(())
        }
        Err(why) if settings.namespaces == NamespaceMode::On => {
            eprintln!("error: --sandbox-namespaces on, but this host refuses them: {why}");
            Err(ExitCode::from(2))
        }
        Err(why) => {
            tracing::warn!(
                "SANDBOX DEGRADED: this host refuses per-job namespaces ({why}). {}",
                namespaces::WITHOUT
            );
            Ok(())
        }
    }
}

/// A clap error as one line: its first line, plus the allowed values where clap lists them
/// on a later line (`[possible values: text, json]`).
fn one_line_usage_error(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut lines = text.lines();
    let mut line = lines.next().unwrap_or("invalid arguments").to_string();
    if let Some(values) = lines
        .map(str::trim)
        .find(|l| l.starts_with("[possible values:"))
    {
        line.push(' ');
        line.push_str(values);
    }
    line
}

fn run(cfg: Result<task_worker::config::RunConfig, String>) -> ExitCode {
    let cfg = match cfg {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("error: {msg}");
            return ExitCode::from(2);
        }
    };
    logging::init_with(cfg.log_format, cfg.log_level.as_deref());
    for note in &cfg.notes {
        tracing::warn!("{note}");
    }
    if let Some(path) = &cfg.pid_file {
        if let Err(e) = std::fs::write(path, std::process::id().to_string()) {
            eprintln!("error: cannot write the --pid file {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    // Same-uid processes (a test runner with the sandbox off, say) must not read our
    // environment or memory through /proc.
    if let Err(e) = task_worker::sandbox::make_undumpable() {
        tracing::warn!("cannot make the worker non-dumpable: {e}");
    }
    if !cfg.tasks.sandbox.enabled {
        tracing::warn!("the student test sandbox is OFF (--sandbox off): test runners run unconfined, with the worker's rights");
    } else if let Err(code) = check_namespaces(&cfg.tasks.sandbox) {
        return code;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.runtime_threads)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(cli::run::run(cfg));
    // Every job has ended; a handler that blocks its thread must not hold up the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{}", rq_worker::error_text(&e));
            ExitCode::FAILURE
        }
    }
}
