//! Per-job Linux namespaces: user, mount, PID and IPC, set up by the supervisor's child before
//! the confined program starts (docs/security.md, "Namespaces").
//!
//! Why namespaces on top of Landlock and seccomp:
//! * **A private `/tmp`, `/var/tmp` and `/dev/shm`.** Graders reset their children's
//!   environment (`HOME=/tmp`, no `TMPDIR`), so `tempfile`, matplotlib, R and
//!   `multiprocessing` need the real paths writable. Each is a directory of the job root
//!   bound over the shared one in the job's own mount namespace: private to the job, counted
//!   by the disk limit, and removed with the root.
//! * **Limits per job.** `RLIMIT_NPROC` counts the processes of a uid *in a user namespace*:
//!   in its own namespace a job's fork bomb cannot use up the processes of another job run by
//!   the same uid.
//! * **A PID namespace** hides every other process (a fresh `/proc` where the kernel lets us
//!   mount one) and ends every process of the job when its init ends.
//! * **An IPC namespace**: no System V or POSIX IPC object is shared with another job.
//!
//! No privilege is needed on the host: an unprivileged process may create a user namespace
//! (unless the host forbids it, see [`probe`]) and is then root *inside* it for the mounts;
//! the uid and gid inside are mapped to the worker's own, and the program itself runs with
//! them, so it has no capability left after `execve`.
//!
//! The processes of a run, from the supervisor down:
//! 1. the *creator* (the supervisor's child): `unshare`s the namespaces, writes the id maps,
//!    binds the private directories, forks the init, and relays its end to the supervisor;
//! 2. the *init* (PID 1 of the new PID namespace): mounts `/proc`, forks the program, reaps
//!    orphans, and exits when the program does (the kernel then kills what is left);
//! 3. the program, which confines itself ([`super::confine`]) and `execve`s.
//!
//! Everything here runs between `fork` and `execve` in processes forked from the
//! single-threaded supervisor, so allocating is safe; every failure is written to the error
//! pipe and the process exits 127.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::confine::{self, Prepared};

/// A directory of the job root bound over a shared path inside the job's mount namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bind {
    pub source: PathBuf,
    pub target: PathBuf,
}

/// The namespaces of one run and what is bound inside them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Isolation {
    /// Bound in this order; a target that does not exist on the host is skipped.
    pub binds: Vec<Bind>,
    /// Paths the run needs (the job root, the operator's extra paths): each one that a bind
    /// hides (a `WORK_DIR` below `/tmp`, say) is bound again at its own path.
    #[serde(default)]
    pub keep: Vec<Kept>,
}

/// A path bound again where a private directory hid it. Landlock judges a path by the rules
/// of every directory it passes on the way up, across mount points: a path bound below the
/// private `/tmp` passes `/tmp`, which the job may write, so every write rule of the job would
/// reach it. So only the paths the job may write are bound writable; all others are bound
/// read-only, and the kernel refuses their writes whatever Landlock allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub path: PathBuf,
    pub writable: bool,
}

/// What breaks without namespaces: said at start-up.
pub const WITHOUT: &str = "Test runs are confined by Landlock and seccomp only: /tmp, /var/tmp and /dev/shm are not writable, so graders that reset their children's environment (computor-test: HOME=/tmp) fail where they import matplotlib, use tempfile, multiprocessing or R (correct solutions may be graded 0), and one job's processes count against the process limit of every other job of this worker";

/// Processes of a run that are not the program's: the creator and the init. Both count
/// against the job's `RLIMIT_NPROC` (they live in its user namespace).
pub const OVERHEAD_TASKS: u64 = 2;

/// The shared temporary directories a job gets its own copy of: `(name in the job root,
/// target)`. `/tmp` is the job root's `tmp/`, which is also the runner's `TMPDIR`.
pub const PRIVATE_DIRS: &[(&str, &str)] = &[
    ("tmp", "/tmp"),
    ("var-tmp", "/var/tmp"),
    ("shm", "/dev/shm"),
];

impl Isolation {
    /// The private directories of [`PRIVATE_DIRS`], below `root` (they must exist).
    pub fn private_dirs_of(root: &Path) -> Isolation {
        Isolation {
            binds: PRIVATE_DIRS
                .iter()
                .map(|(name, target)| Bind {
                    source: root.join(name),
                    target: PathBuf::from(target),
                })
                .collect(),
            keep: vec![Kept {
                path: root.to_path_buf(),
                writable: false,
            }],
        }
    }
}

fn os_err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

fn c_path(p: &Path) -> Result<CString, String> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| format!("{} contains a NUL byte", p.display()))
}

fn write_file(path: &str, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {path}: {e}"))
}

/// Creates the namespaces for the calling process (and, for PID, its next child), maps its
/// uid and gid to themselves, and binds the private directories. The caller must be
/// single-threaded (`unshare(CLONE_NEWUSER)` refuses otherwise).
pub fn create(iso: &Isolation) -> Result<(), String> {
    // SAFETY (block): plain system calls on values we own.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let flags = libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWIPC;
    // SAFETY: unshare with flags only.
    if unsafe { libc::unshare(flags) } != 0 {
        return Err(os_err("unshare (user, mount, PID, IPC namespaces)"));
    }
    // The supervisor is non-dumpable, and a non-dumpable process's /proc/self files belong to
    // root: it could not write its own id maps.
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) };
    write_file("/proc/self/setgroups", "deny")?;
    write_file("/proc/self/uid_map", &format!("{uid} {uid} 1"))?;
    write_file("/proc/self/gid_map", &format!("{gid} {gid} 1"))?;
    // SAFETY: as above.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    // Nothing mounted here may reach the host's mount namespace, and the reverse.
    // SAFETY: mount with static strings.
    if unsafe {
        libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    } != 0
    {
        return Err(os_err("making / private in the job's mount namespace"));
    }
    // Every source is opened before the first bind: a job root below /tmp would be hidden
    // by the bind over /tmp itself. The mounts then name the sources by descriptor.
    let mut sources = Vec::new();
    for b in &iso.binds {
        if !b.target.is_dir() {
            continue;
        }
        sources.push((open_path(&b.source)?, b));
    }
    // Each kept path that a bind will hide, opened while it can still be reached: read-only
    // ones first, then writable ones from the outermost in, so that a writable directory
    // inside a read-only one is bound over it.
    let mut kept: Vec<&Kept> = iso.keep.iter().collect();
    kept.sort_by_key(|k| (k.writable, k.path.components().count()));
    let mut hidden = Vec::new();
    for k in kept {
        let covered = sources
            .iter()
            .any(|(_, b)| k.path != b.target && k.path.starts_with(&b.target));
        if covered && k.path.exists() {
            hidden.push((open_any(&k.path)?, k, k.path.is_dir()));
        }
    }
    for (fd, b) in &sources {
        bind_fd(*fd, &b.target)?;
    }
    // Bound again at their own paths, below the private directories (the empty directories
    // and files made for that are the job's own).
    for (fd, k, dir) in hidden {
        let p = &k.path;
        let made = if dir {
            std::fs::create_dir_all(p)
        } else {
            p.parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| {
                    std::fs::OpenOptions::new()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(p)
                        .map(drop)
                })
        };
        made.map_err(|e| format!("making {} reachable again: {e}", p.display()))?;
        bind_fd(fd, p)?;
        if !k.writable {
            remount_read_only(p)?;
        }
        // SAFETY: closing our descriptor.
        unsafe { libc::close(fd) };
    }
    for (fd, _) in sources {
        // SAFETY: closing our descriptor.
        unsafe { libc::close(fd) };
    }
    Ok(())
}

/// An `O_PATH` descriptor of a directory (never through a final link).
fn open_path(dir: &Path) -> Result<RawFd, String> {
    open_o_path(dir, libc::O_DIRECTORY | libc::O_NOFOLLOW)
}

/// Makes the bind mount at `target` read-only, keeping the flags the kernel locked on it
/// (a remount in a user namespace may not drop `nosuid`, `nodev`, `noexec` or the atime
/// flags of the mount it came from).
fn remount_read_only(target: &Path) -> Result<(), String> {
    let dst = c_path(target)?;
    // SAFETY: statvfs into a zeroed struct; mount with a NUL-terminated path we own.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(dst.as_ptr(), &mut st) != 0 {
            return Err(os_err(&format!("statvfs {}", target.display())));
        }
        let mut flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
        for (st_flag, ms_flag) in [
            (libc::ST_NOSUID, libc::MS_NOSUID),
            (libc::ST_NODEV, libc::MS_NODEV),
            (libc::ST_NOEXEC, libc::MS_NOEXEC),
            (libc::ST_NOATIME, libc::MS_NOATIME),
            (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
            (libc::ST_RELATIME, libc::MS_RELATIME),
        ] {
            if st.f_flag & st_flag != 0 {
                flags |= ms_flag;
            }
        }
        if libc::mount(
            std::ptr::null(),
            dst.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        ) != 0
        {
            return Err(os_err(&format!("read-only bind of {}", target.display())));
        }
    }
    Ok(())
}

/// An `O_PATH` descriptor of a file or directory.
fn open_any(path: &Path) -> Result<RawFd, String> {
    open_o_path(path, 0)
}

/// `open(path, O_PATH | O_CLOEXEC | extra)`.
fn open_o_path(path: &Path, extra: i32) -> Result<RawFd, String> {
    let c = c_path(path)?;
    // SAFETY: open with O_PATH of a NUL-terminated path we own.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC | extra) };
    if fd < 0 {
        return Err(os_err(&format!("opening {}", path.display())));
    }
    Ok(fd)
}

/// Binds the file or directory open as `fd` over `target`.
fn bind_fd(fd: RawFd, target: &Path) -> Result<(), String> {
    let via = CString::new(format!("/proc/self/fd/{fd}")).map_err(|_| "descriptor path")?;
    let dst = c_path(target)?;
    // SAFETY: mount with NUL-terminated paths we own.
    let r = unsafe {
        libc::mount(
            via.as_ptr(),
            dst.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND,
            std::ptr::null(),
        )
    };
    if r != 0 {
        return Err(os_err(&format!("binding over {}", target.display())));
    }
    Ok(())
}

/// Mounts a `/proc` of the job's own PID namespace; called by its init. Returns false where
/// the kernel refuses (a container whose `/proc` has masked paths): the host's `/proc` then
/// stays, still guarded by Landlock's ptrace rules.
fn mount_own_proc() -> bool {
    // SAFETY: mount with static strings.
    unsafe {
        libc::mount(
            c"proc".as_ptr(),
            c"/proc".as_ptr(),
            c"proc".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            std::ptr::null(),
        ) == 0
    }
}

fn fail(err_fd: RawFd, why: &str) -> ! {
    // SAFETY: writing our buffer to our pipe, then exiting without running destructors.
    unsafe {
        libc::write(err_fd, why.as_ptr().cast(), why.len());
        libc::_exit(127);
    }
}

fn pipe() -> Result<[RawFd; 2], String> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 with a valid array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(os_err("pipe"));
    }
    Ok(fds)
}

/// The creator: runs in the supervisor's child; never returns. Its exit mirrors the
/// program's (same code, or death by the same signal), so the supervisor's view of "the
/// child" is unchanged.
pub fn enter(iso: &Isolation, prepared: Prepared, err_fd: RawFd) -> ! {
    if let Err(why) = create(iso) {
        fail(err_fd, &why);
    }
    let status_pipe = match pipe() {
        Ok(p) => p,
        Err(why) => fail(err_fd, &why),
    };
    // SAFETY: fork in a single-threaded process.
    let init = unsafe { libc::fork() };
    if init < 0 {
        fail(err_fd, &os_err("fork of the job's init"));
    }
    if init == 0 {
        // SAFETY: closing our copy of the read end.
        unsafe { libc::close(status_pipe[0]) };
        run_init(prepared, err_fd, status_pipe[1]);
    }
    drop(prepared);
    // SAFETY (block): closing descriptors we own; waiting for our own child.
    let status = unsafe {
        libc::close(err_fd);
        libc::close(status_pipe[1]);
        let mut status = 0;
        while libc::waitpid(init, &mut status, 0) < 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
        {}
        let mut relayed = [0u8; 4];
        let n = libc::read(status_pipe[0], relayed.as_mut_ptr().cast(), 4);
        if n == 4 {
            i32::from_ne_bytes(relayed)
        } else {
            status
        }
    };
    mirror(status)
}

/// Ends this process the way `status` says: the same exit code, or the same signal.
pub fn mirror(status: i32) -> ! {
    // SAFETY (block): resetting and unblocking one signal, then raising it; _exit.
    unsafe {
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            libc::signal(sig, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(sig);
            libc::_exit(128 + sig);
        }
        libc::_exit(if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            127
        })
    }
}

/// PID 1 of the job: mounts `/proc`, starts the program, reaps every orphan, and exits with
/// the program. PID 1 ignores signals it has no handler for (from inside the namespace, and
/// all but SIGKILL and SIGSTOP from outside), so the job's processes cannot kill it, and
/// when it exits the kernel kills whatever is left in the namespace.
fn run_init(mut prepared: Prepared, err_fd: RawFd, status_fd: RawFd) -> ! {
    if mount_own_proc() {
        // Landlock rules follow inodes: the new `/proc` needs a rule of its own.
        prepared = match confine::allow_read(prepared, Path::new("/proc")) {
            Ok(p) => p,
            Err(why) => fail(err_fd, &why),
        };
    }
    // SAFETY: fork in a single-threaded process.
    let program = unsafe { libc::fork() };
    if program < 0 {
        fail(err_fd, &os_err("fork of the confined program"));
    }
    if program == 0 {
        // SAFETY: the status pipe is the init's.
        unsafe { libc::close(status_fd) };
        confine::enter(prepared, err_fd);
    }
    drop(prepared);
    // SAFETY (block): closing our copy of the error pipe; reaping our children.
    unsafe {
        libc::close(err_fd);
        loop {
            let mut status = 0;
            let pid = libc::waitpid(-1, &mut status, 0);
            if pid == program {
                let bytes = status.to_ne_bytes();
                libc::write(status_fd, bytes.as_ptr().cast(), 4);
                libc::_exit(0);
            }
            if pid < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                libc::_exit(127);
            }
        }
    }
}

/// [`probe`], once per process: whether runs can get their own namespaces here.
pub fn available() -> Result<(), &'static str> {
    static RESULT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    RESULT
        .get_or_init(probe)
        .as_ref()
        .map(|_| ())
        .map_err(String::as_str)
}

/// The hidden first argument that makes the binary run [`probe_here`] and exit.
pub const PROBE_ARG: &str = "__sandbox-probe-namespaces";

/// Whether this host lets an unprivileged process create the namespaces and bind a
/// directory, tried for real in a fresh process (this binary with [`PROBE_ARG`]): the worker
/// has threads, and a namespace can only be made by a single-threaded process. `Err` says
/// what failed, and what to change where the reason is known.
pub fn probe() -> Result<(), String> {
    let out = std::process::Command::new("/proc/self/exe")
        .arg(PROBE_ARG)
        .env_clear()
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot start the namespace probe: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let msg = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Err(explain(if msg.is_empty() {
        format!("the namespace probe ended with {}", out.status)
    } else {
        msg
    }))
}

/// Entry point of [`PROBE_ARG`]: in a single-threaded process, a child makes the namespaces
/// and binds a fresh directory over itself; prints why it failed, if it did.
pub fn probe_here() -> std::process::ExitCode {
    match probe_in_child() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(why) => {
            println!("{why}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn probe_in_child() -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("tw-ns-probe-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir(&dir).map_err(|e| format!("probe directory {}: {e}", dir.display()))?;
    let iso = Isolation {
        binds: vec![Bind {
            source: dir.clone(),
            target: dir.clone(),
        }],
        keep: Vec::new(),
    };
    let result = (|| {
        let fds = pipe()?;
        // SAFETY: fork in this single-threaded process; the child makes system calls only and
        // exits.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(os_err("fork"));
        }
        if pid == 0 {
            // SAFETY: closing our copy of the read end.
            unsafe { libc::close(fds[0]) };
            match create(&iso) {
                // SAFETY: exiting the child without running destructors.
                Ok(()) => unsafe { libc::_exit(0) },
                Err(why) => fail(fds[1], &why),
            }
        }
        // SAFETY (block): closing the write end, reading the child's message, reaping it.
        let (msg, status) = unsafe {
            libc::close(fds[1]);
            let mut buf = vec![0u8; 1024];
            let n = libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len());
            libc::close(fds[0]);
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            (
                String::from_utf8_lossy(&buf[..n.max(0) as usize]).into_owned(),
                status,
            )
        };
        if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
            Ok(())
        } else if msg.is_empty() {
            Err(format!(
                "the namespace probe's child ended with status {status}"
            ))
        } else {
            Err(msg)
        }
    })();
    let _ = std::fs::remove_dir(&dir);
    result
}

/// Adds what an operator can change to a failure of [`create`].
fn explain(why: String) -> String {
    let mut hints = Vec::new();
    if let Ok(v) = std::fs::read_to_string("/proc/sys/kernel/unprivileged_userns_clone") {
        if v.trim() == "0" {
            hints.push("sysctl kernel.unprivileged_userns_clone=1");
        }
    }
    if let Ok(v) = std::fs::read_to_string("/proc/sys/user/max_user_namespaces") {
        if v.trim() == "0" {
            hints.push("sysctl user.max_user_namespaces=15000");
        }
    }
    if let Ok(v) = std::fs::read_to_string("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
    {
        if v.trim() == "1" {
            hints.push("sysctl kernel.apparmor_restrict_unprivileged_userns=0 (or an AppArmor profile allowing userns for task-worker)");
        }
    }
    if why.starts_with("unshare") {
        hints.push("in a container: the seccomp profile docker/seccomp/task-worker.json (Docker's default refuses unshare without CAP_SYS_ADMIN)");
    }
    if why.contains("binding") || why.contains("private") {
        hints.push("in a container: an AppArmor profile that allows mount (Docker's default, docker-default, denies it: security_opt apparmor=unconfined or a custom profile)");
    }
    if hints.is_empty() {
        why
    } else {
        format!("{why}; to allow it: {}", hints.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_dirs_are_below_the_root() {
        let iso = Isolation::private_dirs_of(Path::new("/jobs/j1"));
        assert_eq!(iso.binds.len(), 3);
        assert_eq!(iso.binds[0].source, PathBuf::from("/jobs/j1/tmp"));
        assert_eq!(iso.binds[0].target, PathBuf::from("/tmp"));
        assert_eq!(iso.binds[2].target, PathBuf::from("/dev/shm"));
    }

    #[test]
    fn explain_names_the_container_profile_for_unshare() {
        let e =
            explain("unshare (user, mount, PID, IPC namespaces): Operation not permitted".into());
        assert!(e.contains("seccomp/task-worker.json"), "{e}");
    }
}
