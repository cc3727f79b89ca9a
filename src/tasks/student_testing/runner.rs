//! The test runner (docs/course-tasks.md §3.6, ours): `TEST_RUNNER_COMMAND` run as
//! `/bin/sh -c <cmd>` in the job directory, confined by the sandbox (src/sandbox), with the
//! `CTUTOR_*` variables, a per-job `HOME` and `TMPDIR`, and nothing of the worker's own
//! environment but `PATH` and the locale, under `TEST_RUNNER_TIMEOUT`.
//!
//! Inside the sandbox the runner reads the job directory and the system, writes only the
//! student's directory, `output/`, `artifacts/` and its `HOME`/`TMPDIR`, and has no network.

use std::path::PathBuf;
use std::time::Duration;

use tracing::{info, warn};

use super::confined::{self, End, Spec};
use super::runner_log;
use super::student_code;
use super::workspace::Layout;
use crate::sandbox::{self, Network};

/// Bytes of stdout and of stderr kept for the log (§3.6).
const OUTPUT_CAP: usize = 64 * 1024;
/// Time between SIGTERM and SIGKILL at the runner's timeout (§3.6).
const GRACE: Duration = Duration::from_secs(5);

/// How the runner ended.
#[derive(Debug, PartialEq, Eq)]
pub enum RunnerEnd {
    /// It ran to its end; the exit code does not matter (§3.6). The end of its stderr,
    /// escaped for the log (runner_log::tail), for warnings about the report.
    Finished { stderr_tail: String },
    /// R3: no command configured, it could not be started, or the sandbox is unavailable.
    Unavailable,
    /// R4: killed at the time limit.
    TimedOut,
    /// R7: killed for exceeding a sandbox limit.
    LimitExceeded { limit: String, detail: String },
}

/// The runner's environment: `PATH` and locale, a private `HOME` and `TMPDIR`, `CTUTOR_*`
/// (`CTUTOR_LANGUAGE` is the assignment's language, empty when its `meta.yaml` names none).
pub fn runner_env(layout: &Layout, language: &str) -> Vec<(String, String)> {
    let mut env = confined::base_env();
    let home = layout.home_dir().to_string_lossy().into_owned();
    let tmp = layout.tmp_dir().to_string_lossy().into_owned();
    for (k, v) in [
        ("HOME", home.as_str()),
        ("TMPDIR", tmp.as_str()),
        ("CTUTOR_ROOT", layout.root.as_str()),
        ("CTUTOR_SPEC_FILE", layout.spec_file.as_str()),
        ("CTUTOR_STUDENT_DIR", layout.student_dir.as_str()),
        ("CTUTOR_REFERENCE_DIR", layout.reference_dir.as_str()),
        ("CTUTOR_TEST_DIR", layout.test_dir.as_str()),
        ("CTUTOR_OUTPUT_DIR", layout.output_dir.as_str()),
        ("CTUTOR_ARTIFACT_DIR", layout.artifact_dir.as_str()),
    ] {
        env.push((k.to_string(), v.to_string()));
    }
    env.push(("CTUTOR_TEST_FILE".to_string(), layout.test_file()));
    env.push(("CTUTOR_LANGUAGE".to_string(), language.to_string()));
    env
}

pub async fn run(
    command: Option<&str>,
    timeout: Duration,
    layout: &Layout,
    language: &str,
    settings: &sandbox::Settings,
) -> RunnerEnd {
    let Some(command) = command else {
        warn!("TEST_RUNNER_COMMAND is not set; cannot run tests");
        return RunnerEnd::Unavailable;
    };
    let root = PathBuf::from(&layout.root);
    let mut read = vec![root.clone()];
    read.extend(settings.extra_read.iter().cloned());
    let mut write = vec![
        layout.student_clone(),
        PathBuf::from(&layout.output_dir),
        PathBuf::from(&layout.artifact_dir),
        layout.home_dir(),
        layout.tmp_dir(),
    ];
    write.extend(settings.extra_write.iter().cloned());
    let mut env = runner_env(layout, language);
    if settings.enabled {
        // Student code started through PYTHON_TEST_EXECUTABLE or `task-worker
        // confine-student` is confined further than the grader (src/sandbox/student.rs).
        let prepared = std::env::current_exe()
            .and_then(|exe| student_code::prepare(layout, &exe, &settings.extra_read, None));
        match prepared {
            Ok(sc) => {
                for (k, v) in sc.env {
                    env.retain(|(name, _)| *name != k);
                    env.push((k, v));
                }
                read.extend(sc.read);
                write.extend(sc.write);
            }
            Err(e) => {
                warn!(
                    "test runner not started: cannot prepare the confinement of student code: {e}"
                );
                return RunnerEnd::Unavailable;
            }
        }
    }
    let network = if settings.allow_tcp_ports.is_empty() {
        Network::None
    } else {
        Network::TcpPorts(settings.allow_tcp_ports.clone())
    };
    let spec = Spec {
        argv: vec!["/bin/sh".into(), "-c".into(), command.into()],
        cwd: root.clone(),
        root,
        env,
        read,
        write,
        network,
        limits: settings.limits,
        timeout,
        grace: GRACE,
        output_cap: OUTPUT_CAP,
    };
    info!(
        timeout_s = timeout.as_secs(),
        sandbox = settings.enabled,
        language,
        "test runner starting"
    );
    let ran = confined::run(spec, settings).await;
    // The runner's output is the student's text: one escaped DEBUG line each (runner_log).
    let (stdout, stderr) = (ran.stdout.text(), ran.stderr.text());
    runner_log::lines("stdout", &stdout);
    runner_log::lines("stderr", &stderr);
    match ran.end {
        End::Finished { status, .. } => {
            info!(%status, "test runner finished");
            RunnerEnd::Finished {
                stderr_tail: runner_log::tail(&stderr),
            }
        }
        End::TimedOut => {
            warn!(timeout_s = timeout.as_secs(), stderr_tail = %runner_log::tail(&stderr), "test runner timed out and was killed");
            RunnerEnd::TimedOut
        }
        End::LimitExceeded { limit, detail } => {
            warn!(%limit, %detail, stderr_tail = %runner_log::tail(&stderr), "test runner exceeded a sandbox limit and was killed");
            RunnerEnd::LimitExceeded { limit, detail }
        }
        End::Unavailable(why) => {
            warn!("test runner could not run: {why}");
            RunnerEnd::Unavailable
        }
        End::SandboxUnavailable(why) => {
            warn!("test runner not started: the sandbox is unavailable on this host: {why} (task-worker sandbox-check; --sandbox off opts out)");
            RunnerEnd::Unavailable
        }
    }
}
