//! `task-worker confine-student`: student code run by a grader, confined further than the
//! grader itself (docs/security.md, "Student code under the grader").
//!
//! The test runner (the teacher's grader) runs in the job's sandbox. A grader that runs
//! student code in a child process starts that child through this command, which gives it a
//! nested Landlock domain: it reads the system and the submission, writes the submission and
//! its own `HOME`/`TMPDIR`, may rewrite (never create or delete) the files the grader hands it
//! in its exchange directory, and nothing else. So it cannot read the reference solution or
//! `test_files/`, cannot write `output/` or `artifacts/` (no forged `testSummary.json`), and,
//! being in a nested domain, cannot `ptrace` the grader (`/proc/<ppid>/mem`) or signal it.
//!
//! Nothing it starts outlives its run: the process the grader waits for (*P*) forks a
//! *watcher* (*W*, a child subreaper that dies with *P*), which forks the confined program
//! (*S*). When *S* ends, or the grader kills *P* (its timeout), *W* kills every process below
//! it and exits; *P* ends as *S* did.
//!
//! With `--python` the program is the Python interpreter (for graders that honour
//! `PYTHON_TEST_EXECUTABLE`, as computor-test does): the one in the config, or the one the
//! grader itself runs on; and a run whose working directory is the reference directory is
//! the grader's own run of the reference solution, started plainly.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use landlock::{
    Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr, RulesetCreated, RulesetStatus,
    Scope, ABI,
};
use serde::{Deserialize, Serialize};

use super::landlock_rules::{abi_of, add_path, kernel_abi};
use super::policy::SYSTEM_READ;
use super::tree;

/// The environment variable naming the config file for graders that call the command
/// without `--config`.
pub const CONFIG_ENV: &str = "TASK_WORKER_STUDENT_CONFIG";

/// What student code of one job may touch; written by the worker into the job root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentConfig {
    /// The reference solution: never readable by student code. With `--python`, a run whose
    /// working directory is in it is the grader's own and runs without this layer.
    pub reference_dir: PathBuf,
    /// The submission: read and written.
    pub student_dirs: Vec<PathBuf>,
    /// Read-only besides the system paths (the operator's `--sandbox-read`).
    pub read: Vec<PathBuf>,
    /// Files below these may be read and rewritten, but none created, renamed or removed:
    /// the grader's `TMPDIR`, where it writes the script it runs and the file that script
    /// writes its results to.
    pub exchange: Vec<PathBuf>,
    /// The student's own `HOME` and `TMPDIR`.
    pub home: PathBuf,
    pub tmp: PathBuf,
    /// The interpreter of `--python`; else the grader's own (its `argv[0]`), else `python3`.
    pub python: Option<PathBuf>,
}

/// Parsed command line of `confine-student`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub config: Option<PathBuf>,
    pub python: bool,
    pub command: Vec<OsString>,
}

const USAGE: &str =
    "usage: task-worker confine-student [--config FILE] [--python] -- PROGRAM [ARGS...]";

/// Parses the arguments after `confine-student`. Hand-parsed: this runs for every student
/// program a grader starts, before anything else of the binary.
pub fn parse(args: &[OsString]) -> Result<Invocation, String> {
    let mut inv = Invocation {
        config: None,
        python: false,
        command: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_bytes() {
            b"--" => {
                inv.command = it.cloned().collect();
                break;
            }
            b"--python" => inv.python = true,
            b"--config" => {
                let v = it.next().ok_or("--config needs a file")?;
                inv.config = Some(PathBuf::from(v));
            }
            _ if inv.command.is_empty() && !a.as_bytes().starts_with(b"-") => {
                inv.command = std::iter::once(a).chain(it).cloned().collect();
                break;
            }
            _ => return Err(format!("unknown option {:?}; {USAGE}", a)),
        }
    }
    if inv.command.is_empty() && !inv.python {
        return Err(format!("no program given; {USAGE}"));
    }
    Ok(inv)
}

/// Entry point; `args` are the arguments after `confine-student`.
pub fn main(args: &[OsString]) -> ExitCode {
    match run(args) {
        Ok(never) => match never {},
        Err(why) => {
            eprintln!("task-worker confine-student: {why}");
            ExitCode::from(126)
        }
    }
}

enum Never {}

fn run(args: &[OsString]) -> Result<Never, String> {
    let inv = parse(args)?;
    let path = inv
        .config
        .clone()
        .or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from))
        .ok_or_else(|| format!("no config: give --config FILE or set {CONFIG_ENV}"))?;
    let text = std::fs::read(&path).map_err(|e| format!("config {}: {e}", path.display()))?;
    let cfg: StudentConfig =
        serde_json::from_slice(&text).map_err(|e| format!("config {}: {e}", path.display()))?;
    let mut command = inv.command.clone();
    if inv.python {
        command.insert(0, python_of(&cfg).into_os_string());
        if runs_in(&cfg.reference_dir) {
            // The grader's own run of the reference solution.
            return exec(&command);
        }
    }
    let ruleset = ruleset(&cfg)?;
    supervise(&cfg, ruleset, &command)
}

/// The interpreter: the config's, else the grader's own if it is a Python (its `argv[0]`,
/// which keeps a virtual environment's path), else `python3`.
fn python_of(cfg: &StudentConfig) -> PathBuf {
    if let Some(p) = &cfg.python {
        return p.clone();
    }
    let parent = std::fs::read(format!("/proc/{}/cmdline", parent_pid())).unwrap_or_default();
    let argv0 = parent.split(|b| *b == 0).next().unwrap_or_default();
    let name = Path::new(OsStr::from_bytes(argv0))
        .file_name()
        .map(|n| n.as_bytes().to_vec())
        .unwrap_or_default();
    if argv0.starts_with(b"/") && name.starts_with(b"python") {
        return PathBuf::from(OsString::from_vec(argv0.to_vec()));
    }
    PathBuf::from("python3")
}

use std::ffi::OsStr;

/// The parent's pid as the mounted `/proc` numbers it. `getppid()` gives it in the caller's
/// own PID namespace, which is not the `/proc`'s where a job sees an outer one (a container
/// that refuses a new `/proc`): `/proc/self/stat` is read through the mount, so its parent
/// field is in the mount's numbering.
fn parent_pid() -> i32 {
    std::fs::read("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let after = stat.rsplit(|b| *b == b')').next()?;
            let text = std::str::from_utf8(after).ok()?;
            text.split_whitespace().nth(1)?.parse().ok()
        })
        // SAFETY: getppid has no preconditions.
        .unwrap_or_else(|| unsafe { libc::getppid() })
}

/// Whether the working directory is `dir` or below it.
fn runs_in(dir: &Path) -> bool {
    let (Ok(cwd), Ok(dir)) = (std::env::current_dir(), dir.canonicalize()) else {
        return false;
    };
    cwd.starts_with(dir)
}

/// The nested domain of student code.
fn ruleset(cfg: &StudentConfig) -> Result<RulesetCreated, String> {
    let version = kernel_abi();
    if version < 1 {
        return Err("Landlock is not available: student code cannot be confined".into());
    }
    let abi = abi_of(version);
    let err = |what: &str, e: landlock::RulesetError| format!("landlock {what}: {e}");
    let mut rs = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(|e| err("filesystem rights", e))?;
    if version >= 6 {
        rs = rs
            .scope(Scope::Signal | Scope::AbstractUnixSocket)
            .map_err(|e| err("scopes", e))?;
    }
    let mut created = rs.create().map_err(|e| err("ruleset", e))?;
    let read = AccessFs::from_read(abi);
    let all = AccessFs::from_all(abi);
    let exchange = AccessFs::ReadFile | AccessFs::ReadDir | AccessFs::WriteFile | truncate(abi);
    let system = SYSTEM_READ.iter().map(PathBuf::from);
    for p in system.chain(cfg.read.iter().cloned()) {
        created = add_path(created, &p, read, abi)?;
    }
    let own = [
        cfg.home.clone(),
        cfg.tmp.clone(),
        PathBuf::from("/dev/null"),
    ];
    for p in cfg.student_dirs.iter().cloned().chain(own) {
        created = add_path(created, &p, all, abi)?;
    }
    for p in &cfg.exchange {
        created = add_path(created, p, exchange, abi)?;
    }
    Ok(created)
}

fn truncate(abi: ABI) -> landlock::BitFlags<AccessFs> {
    if abi >= ABI::V3 {
        AccessFs::Truncate.into()
    } else {
        landlock::BitFlags::empty()
    }
}

fn cstrings(command: &[OsString]) -> Result<Vec<CString>, String> {
    command
        .iter()
        .map(|a| CString::new(a.as_bytes()).map_err(|_| "an argument contains a NUL byte".into()))
        .collect()
}

/// `execvp`; returns only on failure.
fn exec(command: &[OsString]) -> Result<Never, String> {
    let argv = cstrings(command)?;
    let first = argv.first().ok_or("no program")?;
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: NUL-terminated array of pointers into CStrings that outlive the call.
    unsafe { libc::execvp(first.as_ptr(), ptrs.as_ptr()) };
    Err(format!(
        "cannot run {:?}: {}",
        command[0],
        std::io::Error::last_os_error()
    ))
}

/// P: forks the watcher and ends as it does.
fn supervise(
    cfg: &StudentConfig,
    ruleset: RulesetCreated,
    command: &[OsString],
) -> Result<Never, String> {
    for d in [&cfg.home, &cfg.tmp] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    // SAFETY: getpid has no preconditions.
    let p = unsafe { libc::getpid() };
    // SAFETY: fork in this single-threaded process.
    let w = unsafe { libc::fork() };
    if w < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if w == 0 {
        watcher(p, cfg, ruleset, command);
    }
    drop(ruleset);
    // SAFETY: waiting for our own child.
    let status = unsafe {
        let mut status = 0;
        while libc::waitpid(w, &mut status, 0) < 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
        {}
        status
    };
    super::namespaces::mirror(status)
}

/// W: a subreaper that dies with P; starts S, and when S ends or P dies, kills everything
/// below it.
fn watcher(p: i32, cfg: &StudentConfig, ruleset: RulesetCreated, command: &[OsString]) -> ! {
    // SAFETY (block): process settings of this single-threaded child.
    let sigs = unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [
            libc::SIGCHLD,
            libc::SIGUSR1,
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGHUP,
        ] {
            libc::sigaddset(&mut set, s);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGUSR1, 0, 0, 0);
        if libc::getppid() != p {
            libc::_exit(137);
        }
        set
    };
    // SAFETY: fork in this single-threaded process.
    let s = unsafe { libc::fork() };
    if s < 0 {
        // SAFETY: exiting without destructors.
        unsafe { libc::_exit(126) };
    }
    if s == 0 {
        student(cfg, ruleset, command);
    }
    drop(ruleset);
    loop {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waiting for one of the blocked signals.
        let sig = unsafe { libc::sigwaitinfo(&sigs, &mut info) };
        if sig == libc::SIGCHLD {
            for (pid, status) in tree::reap() {
                if pid == s {
                    tree::kill_all_below_self();
                    super::namespaces::mirror(status);
                }
            }
        } else if sig > 0 {
            // P died (the grader's timeout), or someone asked us to stop.
            tree::kill_all_below_self();
            // SAFETY: exiting without destructors.
            unsafe { libc::_exit(128 + libc::SIGKILL) };
        }
    }
}

/// S: enters the nested domain, takes its own `HOME` and `TMPDIR`, and runs the program.
fn student(cfg: &StudentConfig, ruleset: RulesetCreated, command: &[OsString]) -> ! {
    let why = (|| -> Result<Never, String> {
        // SAFETY: an empty signal mask for the program.
        unsafe {
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        }
        let status = ruleset
            .restrict_self()
            .map_err(|e| format!("landlock: {e}"))?;
        if status.ruleset == RulesetStatus::NotEnforced {
            return Err("landlock: the ruleset is not enforced by this kernel".into());
        }
        std::env::set_var("HOME", &cfg.home);
        std::env::set_var("TMPDIR", &cfg.tmp);
        std::env::remove_var(CONFIG_ENV);
        exec(command)
    })();
    let msg = match why {
        Ok(never) => match never {},
        Err(why) => format!("task-worker confine-student: {why}\n"),
    };
    // SAFETY: writing our message to stderr and exiting without destructors.
    unsafe {
        libc::write(2, msg.as_ptr().cast(), msg.len());
        libc::_exit(126);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn parent_pid_reads_the_mounted_proc() {
        // Natively the mounted /proc is our PID namespace's: both numberings agree.
        assert_eq!(parent_pid(), unsafe { libc::getppid() });
    }

    #[test]
    fn command_lines_parse() {
        let inv = parse(&os(&[
            "--config",
            "/j/c.json",
            "--python",
            "--",
            "w.py",
            "-x",
        ]))
        .unwrap();
        assert_eq!(inv.config, Some(PathBuf::from("/j/c.json")));
        assert!(inv.python);
        assert_eq!(inv.command, os(&["w.py", "-x"]));
        let inv = parse(&os(&["python3", "solution.py"])).unwrap();
        assert_eq!(inv.command, os(&["python3", "solution.py"]));
        assert!(parse(&os(&[])).is_err());
        assert!(parse(&os(&["--bogus"])).is_err());
    }
}
