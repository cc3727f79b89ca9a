//! The options of the built-in tasks ([`TaskArgs`]: test runner, git, backend API commit,
//! scratch directories) and of the sandbox around them ([`SandboxArgs`]). Read as text, checked
//! in `validate`.
use clap::Args;

/// Settings of the built-in tasks (docs/course-tasks.md §3.3, §3.6, §3.9, §4). Numbers and
/// the flag are read as text so that an empty variable (`VAR=` in a compose file) means "unset".
#[derive(Debug, Clone, Args)]
pub struct TaskArgs {
    /// Test runner of `student_test_execution`, run as `/bin/sh -c <cmd>` in the job's directory.
    #[arg(long, env = "TEST_RUNNER_COMMAND")]
    pub test_runner_command: Option<String>,
    /// Seconds the test runner may run (SIGTERM, 5 s grace, then SIGKILL).
    #[arg(
        long,
        env = "TEST_RUNNER_TIMEOUT",
        default_value = "600",
        allow_negative_numbers = true
    )]
    pub test_runner_timeout: String,
    /// Seconds each `git clone` / `git checkout` may run.
    #[arg(
        long,
        env = "GIT_TIMEOUT",
        default_value = "300",
        allow_negative_numbers = true
    )]
    pub git_timeout: String,
    /// Tries of the lookup + update that commits a test result to the backend API.
    #[arg(
        long,
        env = "COMMIT_MAX_ATTEMPTS",
        default_value = "5",
        allow_negative_numbers = true
    )]
    pub commit_max_attempts: String,
    /// First wait between API tries in milliseconds; it doubles per try, capped at 30 s.
    #[arg(
        long,
        env = "COMMIT_BACKOFF_MS",
        default_value = "1000",
        allow_negative_numbers = true
    )]
    pub commit_backoff_ms: String,
    /// Accept `file://` repository URLs (tests and local setups only): true/false.
    #[arg(long, env = "ALLOW_FILE_GIT_URLS", num_args = 0..=1, default_missing_value = "true")]
    pub allow_file_git_urls: Option<String>,
    /// Where jobs get their scratch directories (default: the system temp directory).
    #[arg(long, env = "WORK_DIR")]
    pub work_dir: Option<String>,
    /// Largest `testSummary.json` read, in MiB (a larger report ends the job R5), 1 to 64.
    #[arg(
        long,
        env = "TEST_REPORT_MAX_MB",
        default_value = "4",
        allow_negative_numbers = true
    )]
    pub test_report_max_mb: String,
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// The sandbox around the student test runner and git (docs/security.md). On unless
/// `--sandbox off`; sizes in MiB, times in seconds; an empty variable means the default.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// `on` (default) or `off`: confine everything the test task starts.
    #[arg(long = "sandbox", env = "TEST_SANDBOX", default_value = "on")]
    pub mode: String,
    /// Processes and threads alive at once in one job.
    #[arg(
        long,
        env = "TEST_SANDBOX_MAX_PROCESSES",
        default_value = "256",
        allow_negative_numbers = true
    )]
    pub sandbox_max_processes: String,
    /// Memory of one job's processes in MiB (held by all together, a page shared after fork
    /// counted once; and address space of each).
    #[arg(
        long,
        env = "TEST_SANDBOX_MEMORY_MB",
        default_value = "1024",
        allow_negative_numbers = true
    )]
    pub sandbox_memory_mb: String,
    /// CPU seconds of one job's processes together.
    #[arg(
        long,
        env = "TEST_SANDBOX_CPU_SECONDS",
        default_value = "600",
        allow_negative_numbers = true
    )]
    pub sandbox_cpu_seconds: String,
    /// Largest file one process may write, in MiB.
    #[arg(
        long,
        env = "TEST_SANDBOX_FILE_SIZE_MB",
        default_value = "256",
        allow_negative_numbers = true
    )]
    pub sandbox_file_size_mb: String,
    /// Open files per process.
    #[arg(
        long,
        env = "TEST_SANDBOX_OPEN_FILES",
        default_value = "1024",
        allow_negative_numbers = true
    )]
    pub sandbox_open_files: String,
    /// Disk use of one job directory in MiB, clones included.
    #[arg(
        long,
        env = "TEST_SANDBOX_DISK_MB",
        default_value = "1024",
        allow_negative_numbers = true
    )]
    pub sandbox_disk_mb: String,
    /// Files and directories in one job directory.
    #[arg(
        long,
        env = "TEST_SANDBOX_DISK_FILES",
        default_value = "200000",
        allow_negative_numbers = true
    )]
    pub sandbox_disk_files: String,
    /// Extra paths the runner may read and execute, `:`-separated (e.g. a toolchain).
    #[arg(long, env = "TEST_SANDBOX_READ")]
    pub sandbox_read: Option<String>,
    /// Extra paths the runner may write, `:`-separated; shared by all jobs (trusted caches).
    #[arg(long, env = "TEST_SANDBOX_WRITE")]
    pub sandbox_write: Option<String>,
    /// TCP ports the runner may connect to, `,`-separated; none by default (no network).
    #[arg(long, env = "TEST_SANDBOX_ALLOW_TCP")]
    pub sandbox_allow_tcp: Option<String>,
    /// Per-job user, mount, PID and IPC namespaces (a private /tmp, limits per job): `auto`
    /// (default: used where the host allows them, a warning where not), `on` (refuse to start
    /// without them) or `off`.
    #[arg(long, env = "TEST_SANDBOX_NAMESPACES", default_value = "auto")]
    pub sandbox_namespaces: String,
}
