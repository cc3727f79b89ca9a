//! What one confined child may do, and how it ended: the two messages between the worker and
//! its supervisor. Both are JSON; neither carries a secret (the child's environment travels as
//! the supervisor's own environment, never in its argument vector).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::namespaces::Isolation;

/// Resource limits of one confined run. Every process of the tree counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Processes (and threads) alive in the tree at once.
    pub processes: u64,
    /// Resident memory of the whole tree, and address space of each process, in bytes.
    pub memory_bytes: u64,
    /// CPU time of the whole tree in seconds.
    pub cpu_seconds: u64,
    /// Largest file a process may write, in bytes (`RLIMIT_FSIZE`).
    pub file_size_bytes: u64,
    /// Open files per process (`RLIMIT_NOFILE`).
    pub open_files: u64,
    /// Bytes on disk under the job root, clones included.
    pub disk_bytes: u64,
    /// Files and directories under the job root.
    pub disk_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        const MIB: u64 = 1024 * 1024;
        Limits {
            processes: 256,
            memory_bytes: 1024 * MIB,
            cpu_seconds: 600,
            file_size_bytes: 256 * MIB,
            open_files: 1024,
            disk_bytes: 1024 * MIB,
            disk_entries: 200_000,
        }
    }
}

/// Network access of the child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Network {
    /// No socket of any family (`socketpair` still works).
    None,
    /// TCP connections to these ports only (Landlock); no UDP, no raw or Unix sockets.
    TcpPorts(Vec<u16>),
    /// Unrestricted (git, which must reach the repository host).
    Any,
}

/// The operator's sandbox settings (flags `--sandbox*`, variables `TEST_SANDBOX*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `false` only with an explicit `--sandbox off`.
    pub enabled: bool,
    pub limits: Limits,
    /// Extra paths the runner may read (and execute), e.g. a toolchain outside `/usr`.
    pub extra_read: Vec<PathBuf>,
    /// Extra paths the runner may write; shared by every job, so for trusted caches only.
    pub extra_write: Vec<PathBuf>,
    /// TCP ports the runner may connect to; empty = no network at all.
    pub allow_tcp_ports: Vec<u16>,
    /// Whether runs get their own namespaces ([`super::namespaces`]).
    pub namespaces: NamespaceMode,
}

/// `--sandbox-namespaces`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NamespaceMode {
    /// Where the host allows them ([`super::namespaces::available`]).
    #[default]
    Auto,
    /// Required: the worker does not start without them.
    On,
    Off,
}

impl Settings {
    /// Whether a run started now gets its own namespaces.
    pub fn use_namespaces(&self) -> bool {
        self.namespaces != NamespaceMode::Off && super::namespaces::available().is_ok()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: true,
            limits: Limits::default(),
            extra_read: Vec::new(),
            extra_write: Vec::new(),
            allow_tcp_ports: Vec::new(),
            namespaces: NamespaceMode::Auto,
        }
    }
}

/// Read-only (and executable) system paths every confined child gets; missing ones are
/// skipped. `/etc` is readable: keep secrets out of it (Docker secrets live in `/run/secrets`).
pub const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/opt",
    "/proc",
    "/sys/devices/system/cpu",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// Device files every confined child may write.
pub const SYSTEM_WRITE: &[&str] = &["/dev/null"];

/// One confined run, as the worker asks it of a supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Program and arguments (`argv[0]` is the program path).
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// The job root: its disk use is capped, and its processes' writes go only to
    /// [`Self::write`] paths.
    pub root: PathBuf,
    /// Readable and executable paths besides [`SYSTEM_READ`].
    pub read: Vec<PathBuf>,
    /// Writable paths (read, write, create, remove) besides [`SYSTEM_WRITE`].
    pub write: Vec<PathBuf>,
    pub network: Network,
    pub limits: Limits,
    /// Wall-clock limit in milliseconds; then SIGTERM to the tree, `grace_ms`, SIGKILL.
    pub timeout_ms: u64,
    pub grace_ms: u64,
    /// Pids the child may never signal (the worker, its process group), for kernels without
    /// Landlock signal scoping and runs without a PID namespace.
    pub protected_pids: Vec<i32>,
    /// The run's own user, mount, PID and IPC namespaces ([`super::namespaces`]); `None` on
    /// hosts that refuse them (the worker says so at start-up).
    #[serde(default)]
    pub isolation: Option<Isolation>,
}

/// How a confined run ended, as the supervisor reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Report {
    /// The child exited with this code.
    Exited(i32),
    /// The child was killed by this signal (not by the supervisor).
    Signaled(i32),
    /// The wall-clock limit ran out.
    TimedOut,
    /// A limit of the tree was exceeded; the name of the limit and what was measured.
    LimitExceeded { limit: String, detail: String },
    /// The lifeline closed (job cancelled, or the worker died).
    Cancelled,
    /// The confinement could not be set up; nothing ran.
    SetupFailed(String),
}
