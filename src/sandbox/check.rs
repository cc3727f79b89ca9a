//! `task-worker sandbox-check`: which confinement layers this host gives, tried for real.

use std::path::PathBuf;
use std::process::ExitCode;

use super::exec;
use super::landlock_rules::kernel_abi;
use super::policy::{Limits, Network, Policy, Report};

/// One layer and whether it is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub name: &'static str,
    pub active: bool,
    pub detail: String,
}

fn seccomp_available() -> bool {
    // SAFETY: prctl query only.
    unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 }
}

fn openat2_available() -> bool {
    let r = super::beneath::open_dir(std::path::Path::new("/")).and_then(|fd| {
        use std::os::fd::AsRawFd;
        super::beneath::open_beneath(
            fd.as_raw_fd(),
            std::path::Path::new("."),
            libc::O_RDONLY | libc::O_DIRECTORY,
            super::beneath::Links::Never,
        )
    });
    r.is_ok()
}

/// Kernel features, then a real confined run that must exit 0.
pub async fn layers() -> Vec<Layer> {
    let abi = kernel_abi();
    let mut out = vec![
        Layer {
            name: "landlock filesystem",
            active: abi >= 1,
            detail: format!("Landlock ABI {abi} (needs 1, Linux 5.13)"),
        },
        Layer {
            name: "landlock tcp",
            active: abi >= 4,
            detail: "needs ABI 4, Linux 6.7 (only to allow listed TCP ports; seccomp closes sockets without it)".into(),
        },
        Layer {
            name: "landlock signal and abstract-socket scoping",
            active: abi >= 6,
            detail: "needs ABI 6, Linux 6.12 (without it, seccomp guards the worker's pids only)".into(),
        },
        Layer {
            name: "seccomp filter",
            active: seccomp_available(),
            detail: "needs CONFIG_SECCOMP_FILTER".into(),
        },
        Layer {
            name: "openat2 RESOLVE_BENEATH",
            active: openat2_available(),
            detail: "needs Linux 5.6 (without it, no symbolic link is followed at all)".into(),
        },
    ];
    let namespaces = super::namespaces::available();
    out.push(Layer {
        name: "per-job namespaces (user, mount, PID, IPC)",
        active: namespaces.is_ok(),
        detail: match namespaces {
            Ok(()) => "a private /tmp, /var/tmp and /dev/shm per job, limits per job".into(),
            Err(why) => format!("{why}. {}", super::namespaces::WITHOUT),
        },
    });
    // A fresh private directory, never `$TMPDIR` itself: whatever else lies there (a large
    // file, another program's files) must not count against the confined run's limits.
    let test_root = match TestRoot::create(&std::env::temp_dir()) {
        Ok(r) => r,
        Err(e) => {
            out.push(Layer {
                name: "confined run (subreaper, rlimits, all layers)",
                active: false,
                detail: format!("cannot create a private test directory in $TMPDIR: {e}"),
            });
            return out;
        }
    };
    let root = test_root.0.clone();
    let policy = Policy {
        argv: vec!["/bin/sh".into(), "-c".into(), "exit 0".into()],
        cwd: PathBuf::from("/"),
        root: root.clone(),
        read: vec![],
        write: vec![],
        network: Network::None,
        limits: Limits {
            disk_bytes: u64::MAX,
            disk_entries: u64::MAX,
            ..Limits::default()
        },
        timeout_ms: 10_000,
        grace_ms: 1_000,
        protected_pids: vec![std::process::id() as i32],
        isolation: namespaces.is_ok().then(|| super::namespaces::Isolation {
            binds: vec![super::namespaces::Bind {
                source: root.clone(),
                target: root.clone(),
            }],
            keep: Vec::new(),
        }),
    };
    let env = vec![("PATH".to_string(), "/usr/bin:/bin".to_string())];
    let (active, detail) = match exec::run(&policy, &env, 4096).await {
        Ok(c) if c.report == Report::Exited(0) => {
            (true, "a confined /bin/sh ran and exited 0".into())
        }
        Ok(c) => (
            false,
            format!("{:?}; stderr: {}", c.report, c.stderr.text().trim()),
        ),
        Err(e) => (false, e),
    };
    drop(test_root);
    out.push(Layer {
        name: "confined run (subreaper, rlimits, all layers)",
        active,
        detail,
    });
    out
}

/// The confined run's root: a new directory with a random name (mode 0700, made with
/// `mkdir`, so never one that already existed), removed with what is in it when dropped.
struct TestRoot(PathBuf);

impl TestRoot {
    fn create(base: &std::path::Path) -> std::io::Result<TestRoot> {
        use std::os::unix::fs::DirBuilderExt;
        let path = base.join(format!(
            "task-worker-sandbox-check-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(TestRoot(path))
    }
}

impl Drop for TestRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn command() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let layers = rt.block_on(layers());
    let mut missing = 0;
    for l in &layers {
        let mark = if l.active { "active " } else { "MISSING" };
        if !l.active {
            missing += 1;
        }
        println!("{mark}  {:<46} {}", l.name, l.detail);
    }
    if missing > 0 {
        println!("{missing} layer(s) missing: see docs/security.md");
        ExitCode::FAILURE
    } else {
        println!("every sandbox layer is active");
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_test_root_is_fresh_private_and_removed() {
        let base = std::env::temp_dir().join(format!("tw-check-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&base).unwrap();
        std::fs::write(base.join("big"), b"whatever else lies in $TMPDIR").unwrap();
        let (a, b) = (
            TestRoot::create(&base).unwrap(),
            TestRoot::create(&base).unwrap(),
        );
        assert_ne!(a.0, b.0);
        assert_eq!(a.0.parent(), Some(base.as_path()));
        assert_eq!(std::fs::read_dir(&a.0).unwrap().count(), 0);
        let mode = std::fs::metadata(&a.0).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::write(a.0.join("left"), b"x").unwrap();
        let (pa, pb) = (a.0.clone(), b.0.clone());
        drop((a, b));
        assert!(!pa.exists() && !pb.exists());
        assert!(base.join("big").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
