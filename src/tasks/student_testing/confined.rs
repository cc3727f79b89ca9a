//! Runs one program of the test task (git, the test runner) confined by the sandbox, or, with
//! `--sandbox off`, as a plain child in its own process group. Either way the program gets
//! exactly the environment given here, never the worker's.

use std::path::PathBuf;
use std::time::Duration;

use tokio::process::Command;

use crate::sandbox::namespaces::{Isolation, Kept};
use crate::sandbox::{self, Limits, Network, Policy, Report};
use rq_worker::process::{self, describe_status, Captured, ProcessLimits, RunError};

/// What to run and what it may touch.
#[derive(Debug, Clone)]
pub struct Spec {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// The job root (its disk use is capped).
    pub root: PathBuf,
    pub env: Vec<(String, String)>,
    pub read: Vec<PathBuf>,
    pub write: Vec<PathBuf>,
    pub network: Network,
    pub limits: Limits,
    pub timeout: Duration,
    pub grace: Duration,
    pub output_cap: usize,
}

/// How it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Exited or was killed by a signal of its own doing; a description for the log.
    Finished {
        success: bool,
        status: String,
    },
    TimedOut,
    LimitExceeded {
        limit: String,
        detail: String,
    },
    /// It could not be started: why.
    Unavailable(String),
    /// The sandbox could not be set up on this host (fail closed): why.
    SandboxUnavailable(String),
}

#[derive(Debug)]
pub struct Ran {
    pub end: End,
    pub stdout: Captured,
    pub stderr: Captured,
}

pub async fn run(spec: Spec, settings: &sandbox::Settings) -> Ran {
    if settings.enabled {
        run_confined(spec, settings.use_namespaces()).await
    } else {
        run_plain(spec).await
    }
}

async fn run_confined(mut spec: Spec, namespaces: bool) -> Ran {
    // SAFETY: getpid/getpgrp have no preconditions.
    let (pid, pgid) = unsafe { (libc::getpid(), libc::getpgrp()) };
    let isolation = if namespaces {
        let mut iso = Isolation::private_dirs_of(&spec.root);
        let kept = |writable: bool| {
            move |p: &PathBuf| Kept {
                path: p.clone(),
                writable,
            }
        };
        iso.keep.extend(spec.read.iter().map(kept(false)));
        iso.keep.extend(spec.write.iter().map(kept(true)));
        iso.keep
            .extend(iso.binds.iter().map(|b| &b.source).map(kept(true)));
        for b in &iso.binds {
            if let Err(e) = std::fs::create_dir_all(&b.source) {
                return Ran {
                    end: End::Unavailable(format!("{}: {e}", b.source.display())),
                    stdout: Captured::default(),
                    stderr: Captured::default(),
                };
            }
            spec.write.push(b.source.clone());
        }
        Some(iso)
    } else {
        None
    };
    let policy = Policy {
        argv: spec.argv,
        cwd: spec.cwd,
        root: spec.root,
        read: spec.read,
        write: spec.write,
        network: spec.network,
        limits: spec.limits,
        timeout_ms: spec.timeout.as_millis().try_into().unwrap_or(u64::MAX),
        grace_ms: spec.grace.as_millis().try_into().unwrap_or(u64::MAX),
        protected_pids: vec![pid, pgid],
        isolation,
    };
    match sandbox::exec::run(&policy, &spec.env, spec.output_cap).await {
        Ok(c) => Ran {
            end: match c.report {
                Report::Exited(code) => End::Finished {
                    success: code == 0,
                    status: format!("exit code {code}"),
                },
                Report::Signaled(sig) => End::Finished {
                    success: false,
                    status: format!("signal {sig}"),
                },
                Report::TimedOut => End::TimedOut,
                Report::LimitExceeded { limit, detail } => End::LimitExceeded { limit, detail },
                Report::Cancelled => End::Unavailable("the run was cancelled".into()),
                Report::SetupFailed(why) => End::SandboxUnavailable(why),
            },
            stdout: c.stdout,
            stderr: c.stderr,
        },
        Err(why) => Ran {
            end: End::SandboxUnavailable(why),
            stdout: Captured::default(),
            stderr: Captured::default(),
        },
    }
}

async fn run_plain(spec: Spec) -> Ran {
    let Some((program, args)) = spec.argv.split_first() else {
        return Ran {
            end: End::Unavailable("empty command".into()),
            stdout: Captured::default(),
            stderr: Captured::default(),
        };
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)));
    let limits = ProcessLimits {
        timeout: spec.timeout,
        grace: spec.grace,
        output_cap: spec.output_cap,
    };
    match process::run(cmd, limits).await {
        Ok(f) => Ran {
            end: End::Finished {
                success: f.status.success(),
                status: describe_status(&f.status),
            },
            stdout: f.stdout,
            stderr: f.stderr,
        },
        Err(RunError::TimedOut { stdout, stderr }) => Ran {
            end: End::TimedOut,
            stdout,
            stderr,
        },
        Err(e) => Ran {
            end: End::Unavailable(e.to_string()),
            stdout: Captured::default(),
            stderr: Captured::default(),
        },
    }
}

/// The environment variables a child keeps from the worker's own: none is secret.
pub fn base_env() -> Vec<(String, String)> {
    let mut env = vec![(
        "PATH".to_string(),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
    )];
    for name in ["LANG", "LC_ALL", "LC_CTYPE", "TZ"] {
        if let Ok(v) = std::env::var(name) {
            env.push((name.to_string(), v));
        }
    }
    env
}
