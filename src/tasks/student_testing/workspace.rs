//! The job directory (docs/course-tasks.md §3.4): its layout, `specification.yaml`, and the test
//! files named in the reference's `meta.yaml` (§3.5).

use std::io;
use std::path::{Component, Path, PathBuf};

use tracing::{info, warn};
use yaml_rust2::{Yaml, YamlLoader};

use crate::sandbox::beneath;

/// `meta.yaml` larger than this is not read.
const META_MAX_BYTES: u64 = 1024 * 1024;
/// `test.yaml` larger than this is not copied to the job root.
const TEST_YAML_MAX_BYTES: u64 = 4 * 1024 * 1024;

/// Every path of one job. The two repository directories are built by string concatenation, as
/// the backend does, so an empty `path` leaves a trailing `/` (§3.3 step 4).
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: String,
    pub spec_file: String,
    pub reference_dir: String,
    pub student_dir: String,
    pub test_dir: String,
    pub output_dir: String,
    pub artifact_dir: String,
}

impl Layout {
    pub fn new(root: &str, reference_path: &str, module_path: &str) -> Layout {
        Layout {
            root: root.to_string(),
            spec_file: format!("{root}/specification.yaml"),
            reference_dir: format!("{root}/source/{reference_path}"),
            student_dir: format!("{root}/student/{module_path}"),
            test_dir: format!("{root}/test_files"),
            output_dir: format!("{root}/output"),
            artifact_dir: format!("{root}/artifacts"),
        }
    }

    pub fn source_clone(&self) -> PathBuf {
        Path::new(&self.root).join("source")
    }

    pub fn student_clone(&self) -> PathBuf {
        Path::new(&self.root).join("student")
    }

    /// The runner's `HOME` and `TMPDIR`: inside the root, so they go with it.
    pub fn home_dir(&self) -> PathBuf {
        Path::new(&self.root).join("home")
    }

    pub fn tmp_dir(&self) -> PathBuf {
        Path::new(&self.root).join("tmp")
    }

    /// Creates `home/` and `tmp/` (git needs its `HOME` before the first clone).
    pub fn make_private_dirs(&self) -> io::Result<()> {
        std::fs::create_dir_all(self.home_dir())?;
        std::fs::create_dir_all(self.tmp_dir())
    }

    /// `CTUTOR_TEST_FILE`: a copy of the reference's `test.yaml` at the job root
    /// ([`Layout::copy_test_yaml`]). Graders take the directory holding `test.yaml` as their
    /// root, and computor-test's Octave tester requires every directory of
    /// `specification.yaml` to lie below it: only the job root holds them all.
    pub fn test_file(&self) -> String {
        format!("{}/test.yaml", self.root)
    }

    /// Copies `<referenceDirectory>/test.yaml` (read beneath the reference directory, at most
    /// 4 MiB) to [`Layout::test_file`]. A problem is logged and the copy left out: the runner
    /// then finds no test file and writes no summary.
    pub fn copy_test_yaml(&self) -> bool {
        let copied = beneath::read_file_beneath(
            Path::new(&self.reference_dir),
            Path::new("test.yaml"),
            TEST_YAML_MAX_BYTES,
        )
        .and_then(|bytes| std::fs::write(self.test_file(), bytes));
        match copied {
            Ok(()) => true,
            Err(e) => {
                warn!(test_yaml = %format!("{}/test.yaml", self.reference_dir), "test.yaml not copied to the job root: {e}");
                false
            }
        }
    }

    /// Stages `meta.yaml`'s `testDependencies` as computor-test would if `test.yaml` were in the
    /// reference directory (it looks for them next to the directory of `test.yaml`, which is
    /// now the job root): each named directory beside the reference directory in the reference
    /// clone is copied (beneath the clone, links inside skipped) beside the submission
    /// directory, unless something of that name is there already. The grader then finds them
    /// in place on both sides. Problems are logged and skipped; returns how many were copied.
    pub fn stage_test_dependencies(&self) -> usize {
        let source = self.source_clone();
        let reference = Path::new(&self.reference_dir);
        // The directory holding the reference directory, relative to the clone; none when
        // the reference directory is the clone itself (`path` ""): nothing lies beside it.
        let Some(beside) = reference
            .strip_prefix(&source)
            .ok()
            .and_then(|rel| safe_relative(&rel.to_string_lossy()))
            .and_then(|rel| rel.parent().map(Path::to_path_buf))
        else {
            return 0;
        };
        let deps = match load_meta(reference) {
            Ok(Some(doc)) => test_dependencies(&doc),
            _ => return 0,
        };
        // As the grader does: the parent of the normalised submission directory.
        let student = Path::new(self.student_dir.trim_end_matches('/'));
        let Some(student_parent) = student.parent() else {
            return 0;
        };
        let mut copied = 0;
        for name in deps {
            let dst = student_parent.join(&name);
            if dst.symlink_metadata().is_ok() {
                continue;
            }
            match beneath::copy_beneath(&source, &beside.join(&name), &dst) {
                Ok(_) => copied += 1,
                Err(e) => warn!(dependency = %name, "testDependencies entry not staged: {e}"),
            }
        }
        if copied > 0 {
            info!(copied, "test dependencies staged beside the submission");
        }
        copied
    }

    /// `CTUTOR_LANGUAGE`: the assignment's language from the reference's `meta.yaml`
    /// ([`execution_backend_slug`], [`language_of_slug`]); empty, and logged, when it names none.
    pub fn language(&self) -> String {
        let meta_path = format!("{}/meta.yaml", self.reference_dir);
        let found = load_meta(Path::new(&self.reference_dir)).map(|doc| {
            doc.as_ref()
                .and_then(execution_backend_slug)
                .map(|slug| (language_of_slug(&slug), slug))
        });
        match found {
            Ok(Some((Some(language), slug))) => {
                info!(%language, %slug, "assignment language");
                language
            }
            Ok(Some((None, slug))) => {
                warn!(%slug, "the execution backend slug names no language; CTUTOR_LANGUAGE is empty");
                String::new()
            }
            Ok(None) => {
                warn!(meta = %meta_path, "meta.yaml names no execution backend; CTUTOR_LANGUAGE is empty");
                String::new()
            }
            Err(why) => {
                warn!(meta = %meta_path, "meta.yaml unreadable ({why}); CTUTOR_LANGUAGE is empty");
                String::new()
            }
        }
    }

    /// `specification.yaml` as PyYAML's `yaml.dump` writes it: a block mapping, keys sorted.
    pub fn specification_yaml(&self) -> String {
        let entries = [
            ("artifactDirectory", yaml_str(&self.artifact_dir)),
            ("executionDirectory", yaml_str(&self.student_dir)),
            ("outputDirectory", yaml_str(&self.output_dir)),
            ("referenceDirectory", yaml_str(&self.reference_dir)),
            ("studentDirectory", yaml_str(&self.student_dir)),
            ("studentTestCounter", "2".to_string()),
            ("testDirectory", yaml_str(&self.test_dir)),
        ];
        entries.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
    }

    /// Steps 5 and 7: writes `specification.yaml` and creates `output/`, `artifacts/` and
    /// `test_files/`.
    pub fn prepare(&self) -> io::Result<()> {
        std::fs::write(&self.spec_file, self.specification_yaml())?;
        for d in [&self.output_dir, &self.artifact_dir, &self.test_dir] {
            std::fs::create_dir_all(d)?;
        }
        Ok(())
    }

    /// §3.5: copies each `properties.testFiles` entry of `<referenceDirectory>/meta.yaml` from the
    /// reference directory into `test_files/`. Every problem is logged and skipped; returns how
    /// many entries were copied.
    pub fn copy_test_files(&self) -> usize {
        let meta_path = format!("{}/meta.yaml", self.reference_dir);
        let files = match read_test_files(Path::new(&self.reference_dir)) {
            Ok(f) => f,
            Err(why) => {
                warn!(meta = %meta_path, "meta.yaml skipped: {why}");
                return 0;
            }
        };
        let mut copied = 0;
        for f in files {
            let Some(rel) = f.as_deref().and_then(safe_relative) else {
                warn!(entry = ?f, "testFiles entry skipped: not a relative path inside the reference");
                continue;
            };
            let dst = Path::new(&self.test_dir).join(&rel);
            // Beneath the reference directory: no link in the entry's path may lead out of it.
            match beneath::copy_beneath(Path::new(&self.reference_dir), &rel, &dst) {
                Ok(skipped) => {
                    if skipped > 0 {
                        warn!(entry = %rel.display(), skipped, "links and special files inside were not copied");
                    }
                    copied += 1
                }
                Err(e) => warn!(entry = %rel.display(), "testFiles entry not copied: {e}"),
            }
        }
        info!(copied, "test files copied");
        copied
    }
}

/// The first symbolic link under `dir` whose target leads out of `dir` (absolute, or with
/// more `..` than it has depth), as a path relative to `dir`. Links are never followed while
/// looking; a link to a link is judged by each link's own text, so a chain that leaves is
/// caught at the link that leaves.
pub fn link_out_of(dir: &Path) -> Option<PathBuf> {
    let mut stack: Vec<PathBuf> = vec![PathBuf::new()];
    let mut seen = 0u32;
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > 1_000_000 {
                return Some(rel);
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let child = rel.join(entry.file_name());
            if kind.is_dir() {
                stack.push(child);
            } else if kind.is_symlink() {
                let Ok(target) = std::fs::read_link(entry.path()) else {
                    return Some(child);
                };
                let mut depth = rel.components().count() as i64;
                for c in target.components() {
                    match c {
                        Component::Normal(_) => depth += 1,
                        Component::CurDir => {}
                        Component::ParentDir => depth -= 1,
                        Component::RootDir | Component::Prefix(_) => depth = -1,
                    }
                    if depth < 0 {
                        return Some(child);
                    }
                }
            }
        }
    }
    None
}

/// `<reference>/meta.yaml`, read beneath the reference directory (at most 1 MiB); `None` when
/// it holds no document.
fn load_meta(reference: &Path) -> Result<Option<Yaml>, String> {
    let bytes = beneath::read_file_beneath(reference, Path::new("meta.yaml"), META_MAX_BYTES)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
    let docs = YamlLoader::load_from_str(&text).map_err(|e| format!("invalid YAML: {e}"))?;
    Ok(docs.into_iter().next())
}

/// The execution backend's slug in a `meta.yaml`: `properties.executionBackend.slug` (where
/// the platform reads it), else `properties.executionBackendSlug` (as computor-testing's
/// Octave examples write it), else the same two keys at the top level.
pub fn execution_backend_slug(doc: &Yaml) -> Option<String> {
    [
        &doc["properties"]["executionBackend"]["slug"],
        &doc["properties"]["executionBackendSlug"],
        &doc["executionBackend"]["slug"],
        &doc["executionBackendSlug"],
    ]
    .into_iter()
    .find_map(|v| v.as_str().map(str::trim).filter(|s| !s.is_empty()))
    .map(str::to_string)
}

/// The grader's language (`computor-test <language>`) for an execution backend slug, as the
/// platform maps its slugs (`itpcp.exec.py` -> `python`, `itpcp.exec.oct` -> `octave`,
/// `itpcp.exec.doc` -> `document`, `itpcp.exec.c`/`r`/`julia`/`fortran` unchanged): the last
/// `.`-separated part, lower-cased, with `py`, `oct`, `doc` and `jl` spelled out. When that part
/// is not a language but its head before a `-` is (`octave-itp`), the head counts. Any other
/// part that is a plain word (`[a-z0-9][a-z0-9_+-]*`, at most 32 characters, so safe unquoted
/// in a shell command) is passed on unchanged, for other graders; anything else is `None`.
pub fn language_of_slug(slug: &str) -> Option<String> {
    fn known(word: &str) -> Option<&'static str> {
        Some(match word {
            "py" | "python" => "python",
            "oct" | "octave" => "octave",
            "doc" | "document" => "document",
            "jl" | "julia" => "julia",
            "c" => "c",
            "r" => "r",
            "fortran" => "fortran",
            _ => return None,
        })
    }
    let last = slug.trim().rsplit('.').next()?.to_ascii_lowercase();
    if let Some(language) = known(&last) {
        return Some(language.to_string());
    }
    if let Some(language) = last.split_once('-').and_then(|(head, _)| known(head)) {
        return Some(language.to_string());
    }
    let plain = last.len() <= 32
        && last.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && last
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_+-".contains(c));
    plain.then_some(last)
}

/// The directory names in `properties.testDependencies` (else top-level `testDependencies`),
/// as computor-test reads them: strings only, each reduced to its last component
/// (`../helpers/` -> `helpers`); `.`, `..` and empty names are left out.
fn test_dependencies(doc: &Yaml) -> Vec<String> {
    let list = match &doc["properties"]["testDependencies"] {
        Yaml::Array(items) if !items.is_empty() => items,
        _ => match &doc["testDependencies"] {
            Yaml::Array(items) => items,
            _ => return Vec::new(),
        },
    };
    list.iter()
        .filter_map(Yaml::as_str)
        .filter_map(|dep| {
            let name = dep.trim_end_matches('/').rsplit('/').next()?;
            (!name.is_empty() && name != "." && name != "..").then(|| name.to_string())
        })
        .collect()
}

/// The `properties.testFiles` list of `<reference>/meta.yaml`; `None` items are entries that
/// are not strings.
fn read_test_files(reference: &Path) -> Result<Vec<Option<String>>, String> {
    let Some(doc) = load_meta(reference)? else {
        return Ok(Vec::new());
    };
    match &doc["properties"]["testFiles"] {
        Yaml::Array(items) => Ok(items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect()),
        Yaml::BadValue | Yaml::Null => Ok(Vec::new()),
        _ => Err("properties.testFiles is not a list".into()),
    }
}

/// A relative path without `..`, root or prefix components (`./x` is fine).
fn safe_relative(entry: &str) -> Option<PathBuf> {
    let p = Path::new(entry);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// A string scalar as PyYAML's emitter writes it with default settings: plain when it can be,
/// else single-quoted, else double-quoted with escapes (`allow_unicode=False`, so non-ASCII is
/// escaped). Long lines are not folded: PyYAML would fold at width 80 on spaces, which loads
/// back to the same string.
pub fn yaml_str(s: &str) -> String {
    let a = analyze(s);
    if a.plain {
        s.to_string()
    } else if a.single_quoted {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        double_quoted(s)
    }
}

struct Analysis {
    plain: bool,
    single_quoted: bool,
}

/// PyYAML's `Emitter.analyze_scalar`, for a block-context value.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            plain: false,
            single_quoted: true,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = false;
    let mut line_breaks = false;
    let mut special = false;
    if s.starts_with("---") || s.starts_with("...") {
        block_indicators = true;
    }
    let n = chars.len();
    for (i, &ch) in chars.iter().enumerate() {
        let followed_by_space = i + 1 == n || matches!(chars[i + 1], ' ' | '\t' | '\n');
        let preceded_by_space = i > 0 && matches!(chars[i - 1], ' ' | '\t' | '\n');
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                block_indicators = true;
            }
            if "?:-".contains(ch) && followed_by_space {
                block_indicators = true;
            }
        } else {
            if ch == ':' && followed_by_space {
                block_indicators = true;
            }
            if ch == '#' && preceded_by_space {
                block_indicators = true;
            }
        }
        if ch == '\n' {
            line_breaks = true;
        }
        if !(ch == '\n' || (' '..='~').contains(&ch)) {
            special = true;
        }
    }
    let leading_space = chars[0] == ' ';
    let trailing_space = chars[n - 1] == ' ';
    let plain = !(block_indicators
        || line_breaks
        || special
        || leading_space
        || trailing_space
        || resolves_to_non_string(s));
    Analysis {
        plain,
        // PyYAML single-quotes multi-line text too; double quotes load back the same.
        single_quoted: !special && !line_breaks,
    }
}

/// Whether a plain scalar would load as something other than a string (null, bool, number,
/// timestamp, merge key…): those need quotes. Paths (leading `/`) never do.
fn resolves_to_non_string(s: &str) -> bool {
    if s.starts_with('/') {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let words = [
        "", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", "<<", "=", ".inf",
        "-.inf", "+.inf", ".nan",
    ];
    words.contains(&lower.as_str())
        || s.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-' || c == '.')
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '\0' => out.push_str("\\0"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\x1b' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (' '..='~').contains(&c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_leaving_the_tree_are_found() {
        let t = std::env::temp_dir().join(format!("tw-links-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(t.join("sub/deep")).unwrap();
        std::os::unix::fs::symlink("../x", t.join("sub/ok")).unwrap();
        std::os::unix::fs::symlink("sibling", t.join("sub/deep/ok2")).unwrap();
        assert_eq!(link_out_of(&t), None);
        std::os::unix::fs::symlink("../../../source/a1/solution.py", t.join("sub/deep/bad"))
            .unwrap();
        assert_eq!(link_out_of(&t), Some(PathBuf::from("sub/deep/bad")));
        std::fs::remove_file(t.join("sub/deep/bad")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", t.join("abs")).unwrap();
        assert_eq!(link_out_of(&t), Some(PathBuf::from("abs")));
        std::fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn layout_by_concatenation() {
        let l = Layout::new("/w/r", "a1", "");
        assert_eq!(l.reference_dir, "/w/r/source/a1");
        assert_eq!(l.student_dir, "/w/r/student/");
        assert_eq!(l.test_file(), "/w/r/test.yaml");
        assert_eq!(
            l.specification_yaml(),
            "artifactDirectory: /w/r/artifacts\n\
             executionDirectory: /w/r/student/\n\
             outputDirectory: /w/r/output\n\
             referenceDirectory: /w/r/source/a1\n\
             studentDirectory: /w/r/student/\n\
             studentTestCounter: 2\n\
             testDirectory: /w/r/test_files\n"
        );
    }

    #[test]
    fn languages_mapped_like_the_platform() {
        for (slug, language) in [
            ("itpcp.exec.py", Some("python")),
            ("itpcp.exec.oct", Some("octave")),
            ("itpcp.exec.doc", Some("document")),
            ("itpcp.exec.c", Some("c")),
            ("itpcp.exec.r", Some("r")),
            ("itpcp.exec.julia", Some("julia")),
            ("itpcp.exec.jl", Some("julia")),
            ("itpcp.exec.fortran", Some("fortran")),
            ("ITPCP.EXEC.PY", Some("python")),
            (" itpcp.exec.py ", Some("python")),
            ("octave-itp", Some("octave")),
            ("python", Some("python")),
            ("itpcp.exec.java", Some("java")),
            ("itpcp.exec.c++", Some("c++")),
            ("itpcp.exec.", None),
            ("itpcp.exec.py;rm -rf", None),
            ("itpcp.exec.$(id)", None),
            ("itpcp.exec.*", None),
            ("-x", None),
            ("", None),
        ] {
            assert_eq!(language_of_slug(slug).as_deref(), language, "{slug:?}");
        }
        assert_eq!(language_of_slug(&"a".repeat(33)), None);
    }

    #[test]
    fn slug_found_where_the_examples_put_it() {
        let slug = |text: &str| {
            let docs = YamlLoader::load_from_str(text).unwrap();
            execution_backend_slug(&docs[0])
        };
        let py = "kind: assignment\nproperties:\n  testFiles: []\n  executionBackend:\n    slug: itpcp.exec.py\n    settings: {}\n";
        assert_eq!(slug(py).as_deref(), Some("itpcp.exec.py"));
        let oct =
            "properties:\n  studentSubmissionFiles: [a.m]\n  executionBackendSlug: octave-itp\n";
        assert_eq!(slug(oct).as_deref(), Some("octave-itp"));
        assert_eq!(
            slug("executionBackendSlug: itpcp.exec.r\n").as_deref(),
            Some("itpcp.exec.r")
        );
        assert_eq!(
            slug("executionBackend:\n  slug: itpcp.exec.c\n").as_deref(),
            Some("itpcp.exec.c")
        );
        // The platform's key wins.
        let both = "properties:\n  executionBackendSlug: octave-itp\n  executionBackend: {slug: itpcp.exec.py}\n";
        assert_eq!(slug(both).as_deref(), Some("itpcp.exec.py"));
        for none in [
            "properties:\n  executionBackend: {slug: 7}\n",
            "properties:\n  executionBackend: itpcp.exec.py\n",
            "properties:\n  executionBackendSlug: ''\n",
            "properties: [a]\n",
            "kind: assignment\n",
        ] {
            assert_eq!(slug(none), None, "{none:?}");
        }
    }

    #[test]
    fn test_yaml_and_language_come_from_the_reference() {
        let root = std::env::temp_dir().join(format!("tw-lang-{}", uuid::Uuid::new_v4()));
        let root_s = root.to_str().unwrap().to_string();
        let l = Layout::new(&root_s, "ex/oct", "ex/oct");
        let refdir = Path::new(&l.reference_dir);
        std::fs::create_dir_all(refdir).unwrap();
        std::fs::create_dir_all(&l.student_dir).unwrap();
        l.prepare().unwrap();
        // No meta.yaml, no test.yaml: empty language, no copy.
        assert_eq!(l.language(), "");
        assert!(!l.copy_test_yaml());
        assert!(!Path::new(&l.test_file()).exists());
        std::fs::write(
            refdir.join("meta.yaml"),
            "properties:\n  executionBackendSlug: octave-itp\n",
        )
        .unwrap();
        std::fs::write(refdir.join("test.yaml"), "type: octave\n").unwrap();
        assert_eq!(l.language(), "octave");
        assert!(l.copy_test_yaml());
        assert_eq!(
            std::fs::read_to_string(l.test_file()).unwrap(),
            "type: octave\n"
        );
        // Every directory of specification.yaml lies below the test file's directory.
        let test_root = Path::new(&l.test_file()).parent().unwrap().to_path_buf();
        for d in [
            &l.student_dir,
            &l.reference_dir,
            &l.output_dir,
            &l.artifact_dir,
            &l.test_dir,
        ] {
            assert!(Path::new(d).starts_with(&test_root), "{d}");
        }
        // A test.yaml that is a link out of the reference is not copied; an old copy is
        // not left behind by a later job (each job has its own root).
        std::fs::remove_file(refdir.join("test.yaml")).unwrap();
        std::fs::remove_file(l.test_file()).unwrap();
        std::fs::write(root.join("secret.yaml"), "secret").unwrap();
        std::os::unix::fs::symlink(root.join("secret.yaml"), refdir.join("test.yaml")).unwrap();
        assert!(!l.copy_test_yaml());
        assert!(!Path::new(&l.test_file()).exists());
        // A slug that names no language, and a broken meta.yaml.
        std::fs::write(
            refdir.join("meta.yaml"),
            "properties:\n  executionBackend:\n    slug: \"x.$(id)\"\n",
        )
        .unwrap();
        assert_eq!(l.language(), "");
        std::fs::write(refdir.join("meta.yaml"), "properties: [unclosed\n").unwrap();
        assert_eq!(l.language(), "");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn test_dependencies_are_staged_beside_the_submission() {
        let root = std::env::temp_dir().join(format!("tw-deps-{}", uuid::Uuid::new_v4()));
        let root_s = root.to_str().unwrap().to_string();
        let l = Layout::new(&root_s, "course/a1", "sub/a1");
        let refdir = Path::new(&l.reference_dir);
        let source = l.source_clone();
        std::fs::create_dir_all(refdir).unwrap();
        std::fs::create_dir_all(source.join("course/helpers/deep")).unwrap();
        std::fs::write(source.join("course/helpers/deep/h.py"), "H = 1\n").unwrap();
        std::fs::create_dir_all(source.join("course/other")).unwrap();
        std::fs::write(source.join("course/other/o.py"), "O = 1\n").unwrap();
        std::fs::create_dir_all(source.join("course/taken")).unwrap();
        std::fs::create_dir_all(Path::new(&l.student_dir)).unwrap();
        std::fs::create_dir_all(root.join("student/sub/taken")).unwrap();
        std::fs::write(root.join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(root.join("secret"), source.join("course/out")).unwrap();
        std::fs::write(
            refdir.join("meta.yaml"),
            "properties:\n  testDependencies: [../helpers/, other, taken, missing, out, '..', {slug: x}]\n",
        )
        .unwrap();
        assert_eq!(l.stage_test_dependencies(), 2);
        let sub = root.join("student/sub");
        assert_eq!(
            std::fs::read_to_string(sub.join("helpers/deep/h.py")).unwrap(),
            "H = 1\n"
        );
        assert!(sub.join("other/o.py").is_file());
        assert!(!sub.join("out").exists() && !sub.join("missing").exists());
        // Top-level key; none for an empty or a broken meta.yaml.
        std::fs::remove_dir_all(sub.join("other")).unwrap();
        std::fs::write(refdir.join("meta.yaml"), "testDependencies: [other]\n").unwrap();
        assert_eq!(l.stage_test_dependencies(), 1);
        std::fs::write(refdir.join("meta.yaml"), "properties: [x\n").unwrap();
        assert_eq!(l.stage_test_dependencies(), 0);
        // A reference at the clone root has nothing beside it.
        let top = Layout::new(&root_s, "", "sub/a1");
        assert_eq!(top.stage_test_dependencies(), 0);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn scalars_quoted_like_pyyaml() {
        assert_eq!(yaml_str("/tmp/a b/c"), "/tmp/a b/c");
        assert_eq!(yaml_str("/tmp/x: y"), "'/tmp/x: y'");
        assert_eq!(yaml_str("/tmp/x #y"), "'/tmp/x #y'");
        assert_eq!(yaml_str("/tmp/x#y"), "/tmp/x#y");
        assert_eq!(yaml_str("/tmp/it's"), "/tmp/it's");
        assert_eq!(yaml_str("/tmp/x "), "'/tmp/x '");
        assert_eq!(yaml_str("/tmp/ü"), "\"/tmp/\\xFC\"");
        assert_eq!(yaml_str("/tmp/a\tb"), "\"/tmp/a\\tb\"");
        assert_eq!(yaml_str("yes"), "'yes'");
        assert_eq!(yaml_str(""), "''");
    }

    #[test]
    fn test_files_are_copied_safely() {
        let root = std::env::temp_dir().join(format!("tw-ws-{}", uuid::Uuid::new_v4()));
        let root_s = root.to_str().unwrap().to_string();
        let l = Layout::new(&root_s, "a1", "a1");
        let refdir = Path::new(&l.reference_dir);
        std::fs::create_dir_all(refdir.join("data/sub")).unwrap();
        std::fs::write(refdir.join("data/input.txt"), "42\n").unwrap();
        std::fs::write(refdir.join("data/sub/x.txt"), "x").unwrap();
        std::fs::write(root.join("outside.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(root.join("outside.txt"), refdir.join("link.txt")).unwrap();
        std::fs::write(
            refdir.join("meta.yaml"),
            "kind: assignment\nproperties:\n  testFiles:\n    - data/input.txt\n    - ./data/sub\n    - ../outside.txt\n    - /etc/passwd\n    - missing.txt\n    - link.txt\n    - 7\n",
        )
        .unwrap();
        l.prepare().unwrap();
        assert_eq!(l.copy_test_files(), 2);
        let td = Path::new(&l.test_dir);
        assert_eq!(
            std::fs::read_to_string(td.join("data/input.txt")).unwrap(),
            "42\n"
        );
        assert_eq!(
            std::fs::read_to_string(td.join("data/sub/x.txt")).unwrap(),
            "x"
        );
        assert!(!td.join("link.txt").exists());
        assert!(Path::new(&l.output_dir).is_dir() && Path::new(&l.artifact_dir).is_dir());
        // Flow-style list and a broken meta.yaml.
        std::fs::write(
            refdir.join("meta.yaml"),
            "properties:\n  testFiles: [data/input.txt]\n",
        )
        .unwrap();
        assert_eq!(l.copy_test_files(), 1);
        std::fs::write(refdir.join("meta.yaml"), "properties: [unclosed\n").unwrap();
        assert_eq!(l.copy_test_files(), 0);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
