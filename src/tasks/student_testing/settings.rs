//! Settings of the student test task (and its git and sandbox), from the command line or the
//! environment (`cli::args::TaskArgs`). The binary hands them to the worker as shared data;
//! the task reads them with `ctx.data::<TaskSettings>()`.

use std::path::PathBuf;
use std::time::Duration;

/// Settings of the student test task.
/// Tasks see only this, never clap or Redis.
#[derive(Debug, Clone)]
pub struct TaskSettings {
    /// `TEST_RUNNER_COMMAND`; `None` when unset or empty.
    pub test_runner_command: Option<String>,
    pub test_runner_timeout: Duration,
    pub git_timeout: Duration,
    pub commit_max_attempts: u32,
    /// First backoff between API tries (doubles per try, capped at 30 s).
    pub commit_backoff: Duration,
    pub allow_file_git_urls: bool,
    /// Parent of the per-job scratch directories; `None` = the system temp directory.
    pub work_dir: Option<PathBuf>,
    /// `TEST_REPORT_MAX_MB` in bytes: the largest `testSummary.json` read (R5 beyond).
    pub report_max_bytes: u64,
    /// Confinement of the test runner and git (on by default).
    pub sandbox: crate::sandbox::Settings,
}

impl Default for TaskSettings {
    fn default() -> Self {
        TaskSettings {
            test_runner_command: None,
            test_runner_timeout: Duration::from_secs(600),
            git_timeout: Duration::from_secs(300),
            commit_max_attempts: 5,
            commit_backoff: Duration::from_secs(1),
            allow_file_git_urls: false,
            work_dir: None,
            report_max_bytes: super::summary::DEFAULT_MAX_REPORT_MB * 1024 * 1024,
            sandbox: crate::sandbox::Settings::default(),
        }
    }
}
