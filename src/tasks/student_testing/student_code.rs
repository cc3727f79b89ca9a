//! What the runner gets so that the grader can confine student code further than itself
//! (`task-worker confine-student`, src/sandbox/student.rs): a config and a
//! `PYTHON_TEST_EXECUTABLE` in the job root, the student's own `HOME`/`TMPDIR`, and a
//! `TMPDIR` for the grader apart from `/tmp`.
//!
//! Layout, below the job root:
//! * `student-run/config.json`, `student-run/python`: read-only for the runner;
//! * `student-scratch/home`, `student-scratch/tmp`: the student code's `HOME` and `TMPDIR`;
//! * `grader-tmp/`: the runner's `TMPDIR`, where a grader writes the script it runs and the
//!   file that script writes its results to: student code may rewrite those files, but not
//!   create any (so it cannot plant a module next to the grader's next script). `/tmp`, the
//!   `HOME` the grader gives its children, stays out of the student's reach.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::sandbox::student::{StudentConfig, CONFIG_ENV};

use super::workspace::Layout;

/// What the runner's environment and sandbox gain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentCode {
    pub env: Vec<(String, String)>,
    pub read: Vec<PathBuf>,
    pub write: Vec<PathBuf>,
}

pub fn grader_tmp(layout: &Layout) -> PathBuf {
    Path::new(&layout.root).join("grader-tmp")
}

/// Single-quoted for `/bin/sh`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Writes the config and the interpreter script; `exe` is this binary (it must be readable
/// inside the sandbox: it is added to the runner's read list).
pub fn prepare(
    layout: &Layout,
    exe: &Path,
    extra_read: &[PathBuf],
    python: Option<&Path>,
) -> std::io::Result<StudentCode> {
    let root = Path::new(&layout.root);
    let run_dir = root.join("student-run");
    let scratch = root.join("student-scratch");
    let grader_tmp = grader_tmp(layout);
    for d in [
        &run_dir,
        &scratch.join("home"),
        &scratch.join("tmp"),
        &grader_tmp,
    ] {
        std::fs::create_dir_all(d)?;
    }
    let config = StudentConfig {
        reference_dir: PathBuf::from(&layout.reference_dir),
        // The job's private /dev/shm (with namespaces; the runner's own rules keep the host's
        // out otherwise): multiprocessing makes its semaphores there.
        student_dirs: vec![layout.student_clone(), PathBuf::from("/dev/shm")],
        read: extra_read.to_vec(),
        exchange: vec![grader_tmp.clone()],
        home: scratch.join("home"),
        tmp: scratch.join("tmp"),
        python: python.map(Path::to_path_buf),
    };
    let config_path = run_dir.join("config.json");
    let json = serde_json::to_vec_pretty(&config).map_err(std::io::Error::other)?;
    std::fs::write(&config_path, json)?;
    let script = run_dir.join("python");
    let text = format!(
        "#!/bin/sh\n# Written by task-worker: student code runs confined (docs/security.md).\nexec {} confine-student --config {} --python -- \"$@\"\n",
        sh_quote(&exe.to_string_lossy()),
        sh_quote(&config_path.to_string_lossy()),
    );
    std::fs::write(&script, text)?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    let s = |p: &Path| p.to_string_lossy().into_owned();
    Ok(StudentCode {
        env: vec![
            ("PYTHON_TEST_EXECUTABLE".into(), s(&script)),
            (CONFIG_ENV.into(), s(&config_path)),
            ("TMPDIR".into(), s(&grader_tmp)),
        ],
        read: vec![exe.to_path_buf()],
        write: vec![scratch, grader_tmp, layout.source_clone()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(sh_quote("/a b/c"), "'/a b/c'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn prepare_writes_config_and_script() {
        let root = std::env::temp_dir().join(format!("tw-sc-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&root).unwrap();
        let layout = Layout::new(root.to_str().unwrap(), "ex", "ex");
        let sc = prepare(&layout, Path::new("/usr/bin/task-worker"), &[], None).unwrap();
        let script = std::fs::read_to_string(root.join("student-run/python")).unwrap();
        assert!(script.contains("confine-student --config"), "{script}");
        let cfg: StudentConfig =
            serde_json::from_slice(&std::fs::read(root.join("student-run/config.json")).unwrap())
                .unwrap();
        assert_eq!(cfg.reference_dir, PathBuf::from(&layout.reference_dir));
        assert!(sc.env.iter().any(|(k, _)| k == "PYTHON_TEST_EXECUTABLE"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
