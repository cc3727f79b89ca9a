//! The test runner (ctutor-tasks.md §3.6 [ours]): `TEST_RUNNER_COMMAND` run as
//! `/bin/sh -c <cmd>` in the job directory, with the `CTUTOR_*` variables set and the worker's
//! secrets removed (student code runs under it), under `TEST_RUNNER_TIMEOUT`.

use std::time::Duration;

use tokio::process::Command;
use tracing::{info, warn};

use super::workspace::Layout;
use crate::tasks::process::{self, describe_status, ProcessLimits, RunError};

/// Bytes of stdout and of stderr kept for the log (§3.6).
const OUTPUT_CAP: usize = 64 * 1024;
/// Time between SIGTERM and SIGKILL at the runner's timeout (§3.6).
const GRACE: Duration = Duration::from_secs(5);

/// Environment variables the runner must not see: prefixes and exact names (§3.6).
const SECRET_PREFIXES: [&str; 3] = ["EXECUTION_BACKEND_API_", "REDIS_", "POSTGRES_"];
const SECRET_NAMES: [&str; 1] = ["TOKEN_SECRET"];

/// Removes the worker's secrets from a child's environment.
pub fn scrub_secret_env(cmd: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let Some(n) = name.to_str() else { continue };
        if SECRET_PREFIXES.iter().any(|p| n.starts_with(p)) || SECRET_NAMES.contains(&n) {
            cmd.env_remove(&name);
        }
    }
}

/// How the runner ended.
#[derive(Debug, PartialEq, Eq)]
pub enum RunnerEnd {
    /// It ran to its end; the exit code does not matter (§3.6).
    Finished,
    /// R3: no command configured, or it could not be started.
    Unavailable,
    /// R4: killed at the time limit.
    TimedOut,
}

pub async fn run(command: Option<&str>, timeout: Duration, layout: &Layout) -> RunnerEnd {
    let Some(command) = command else {
        warn!("TEST_RUNNER_COMMAND is not set; cannot run tests");
        return RunnerEnd::Unavailable;
    };
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(command).current_dir(&layout.root);
    scrub_secret_env(&mut cmd);
    cmd.env("CTUTOR_ROOT", &layout.root)
        .env("CTUTOR_SPEC_FILE", &layout.spec_file)
        .env("CTUTOR_TEST_FILE", layout.test_file())
        .env("CTUTOR_STUDENT_DIR", &layout.student_dir)
        .env("CTUTOR_REFERENCE_DIR", &layout.reference_dir)
        .env("CTUTOR_TEST_DIR", &layout.test_dir)
        .env("CTUTOR_OUTPUT_DIR", &layout.output_dir)
        .env("CTUTOR_ARTIFACT_DIR", &layout.artifact_dir);
    let limits = ProcessLimits {
        timeout,
        grace: GRACE,
        output_cap: OUTPUT_CAP,
    };
    info!(timeout_s = timeout.as_secs(), "test runner starting");
    match process::run(cmd, limits).await {
        Ok(f) => {
            info!(
                status = %describe_status(&f.status),
                stdout = %f.stdout.text(),
                stderr = %f.stderr.text(),
                "test runner finished"
            );
            RunnerEnd::Finished
        }
        Err(RunError::TimedOut { stdout, stderr }) => {
            warn!(
                timeout_s = timeout.as_secs(),
                stdout = %stdout.text(),
                stderr = %stderr.text(),
                "test runner timed out and was killed"
            );
            RunnerEnd::TimedOut
        }
        Err(e) => {
            warn!("test runner {e}");
            RunnerEnd::Unavailable
        }
    }
}
