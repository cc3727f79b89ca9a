//! The worker binary as a child process of a test: its command, a long-running process with a
//! log file (killed on drop), and its output as text.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use super::{temp_dir, wait_until, worker_bin};

/// The worker binary with the variables `unset` removed from its environment.
pub fn worker_command(unset: &[&str]) -> Command {
    let mut cmd = Command::new(worker_bin());
    for v in unset {
        cmd.env_remove(v);
    }
    cmd
}

/// A finished command's stdout followed by its stderr, as text.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A command's exit status and its output as text.
pub struct Out {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// The exit code; -1 for a process ended by a signal.
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }
}

/// Runs `cmd` to its end, stdout and stderr through files; killed and failed (the panic names
/// `what`) if it has not ended after `secs` seconds.
pub fn run_to_end(cmd: &mut Command, what: &str, secs: u64) -> Out {
    let dir = temp_dir("cmd");
    let (out_path, err_path) = (dir.join("out"), dir.join("err"));
    let mut child = cmd
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = Out {
        status,
        stdout: std::fs::read_to_string(&out_path).unwrap(),
        stderr: std::fs::read_to_string(&err_path).unwrap(),
    };
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// A running worker process whose stderr goes to a log file in a temp dir of its own; killed
/// (and waited for) on drop.
pub struct Worker {
    child: Child,
    log: PathBuf,
    remove_dir: bool,
}

impl Worker {
    /// Spawns `cmd` with stdout discarded and stderr to `log` in a new temp dir named after
    /// `tag`; with `remove_dir` that dir is removed on drop, otherwise it is left behind.
    pub fn spawn(cmd: &mut Command, tag: &str, remove_dir: bool) -> Worker {
        let log = temp_dir(tag).join("log");
        let child = cmd
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Worker {
            child,
            log,
            remove_dir,
        }
    }

    /// The log so far (empty when it cannot be read).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Where the log is written.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends signal `sig` to the process.
    pub fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// Waits up to `secs` seconds for the process to exit; its exit status.
    pub fn wait(&mut self, secs: u64) -> ExitStatus {
        wait_until("the worker to exit", secs, || {
            self.child.try_wait().unwrap()
        })
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Kills the process and waits for its end.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
        if self.remove_dir {
            if let Some(dir) = self.log.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}
