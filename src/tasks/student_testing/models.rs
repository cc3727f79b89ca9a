//! `TestJob` and `Repository` (docs/course-tasks.md §3.2), validated the way the backend's
//! pydantic models do, plus our stricter rules. Errors become one `ValidationError` whose text
//! names every failing field; input values are never echoed (the payload holds git tokens).

use rq_protocol::value::Value;
use rq_worker::tasks::TaskError;

/// A git repository to clone. `None` user/token/path/commit are normalised to `""` (§3.2, ours).
#[derive(Clone, PartialEq, Eq)]
pub struct Repository {
    pub url: String,
    pub user: String,
    pub token: String,
    /// Validated but unused: the clone gets the remote HEAD (§3.2).
    pub branch: String,
    pub path: String,
    pub commit: String,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("url", &rq_worker::redact::redact_url(&self.url))
            .field("user", &self.user)
            .field("token", &if self.token.is_empty() { "" } else { "***" })
            .field("path", &self.path)
            .field("commit", &self.commit)
            .finish()
    }
}

/// The job payload (`test_job_data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestJob {
    pub user_id: String,
    pub course_member_id: String,
    pub course_content_id: String,
    pub execution_backend_id: String,
    pub module: Repository,
    pub reference: Option<Repository>,
    pub test_number: i64,
    pub submission_number: i64,
}

/// Collects field errors with their pydantic-style locations (`module.url`).
#[derive(Default)]
struct Errors(Vec<(String, String)>);

impl Errors {
    fn add(&mut self, loc: &str, msg: impl Into<String>) {
        self.0.push((loc.to_string(), msg.into()));
    }

    fn into_error(self, model: &str) -> TaskError {
        let n = self.0.len();
        let details: Vec<String> = self
            .0
            .into_iter()
            .map(|(loc, msg)| {
                if loc.is_empty() {
                    msg
                } else {
                    format!("{loc}: {msg}")
                }
            })
            .collect();
        TaskError::new(
            "ValidationError",
            format!(
                "{n} validation error{} for {model}: {}",
                if n == 1 { "" } else { "s" },
                details.join("; ")
            ),
        )
    }
}

const URL_ERROR: &str = "Value error, URL must be a valid Git repository URL";
const REQUIRED: &str = "Field required";
const NOT_STR: &str = "Input should be a valid string";

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// A required `str` field; JSON numbers are refused (pydantic's strict str).
fn required_str(d: &Value, field: &str, loc: &str, errs: &mut Errors) -> String {
    match d.get(field) {
        Some(Value::Str(s)) => s.clone(),
        None => {
            errs.add(&join(loc, field), REQUIRED);
            String::new()
        }
        Some(_) => {
            errs.add(&join(loc, field), NOT_STR);
            String::new()
        }
    }
}

/// A `str | None` field; `None` and absence both give `default`.
fn optional_str(d: &Value, field: &str, default: &str, loc: &str, errs: &mut Errors) -> String {
    match d.get(field) {
        None | Some(Value::None) => default.to_string(),
        Some(Value::Str(s)) => s.clone(),
        Some(_) => {
            errs.add(&join(loc, field), NOT_STR);
            default.to_string()
        }
    }
}

/// An `int` field with pydantic's lax conversions (bool, integral float, numeric str).
fn lax_int(d: &Value, field: &str, default: i64, errs: &mut Errors) -> i64 {
    let v = match d.get(field) {
        None => return default,
        Some(v) => v,
    };
    let parsed = match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        Value::Str(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    parsed.unwrap_or_else(|| {
        errs.add(field, "Input should be a valid integer");
        default
    })
}

/// True when the text has no whitespace at all (`^\S+$`, and no trailing newline either).
fn no_whitespace(s: &str) -> bool {
    !s.chars().any(char::is_whitespace)
}

/// `""`, `"/"`, or `^(/)?([^/\0]+(/)?)+$`: optional leading and trailing `/`, no empty segment.
fn path_is_valid(p: &str) -> bool {
    if p.is_empty() || p == "/" {
        return true;
    }
    let inner = p.strip_prefix('/').unwrap_or(p);
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    !inner.is_empty()
        && inner
            .split('/')
            .all(|seg| !seg.is_empty() && !seg.contains('\0'))
}

fn repository(v: &Value, loc: &str, allow_file_urls: bool, errs: &mut Errors) -> Repository {
    if !matches!(v, Value::Dict(_)) {
        errs.add(
            loc,
            "Input should be a valid dictionary or instance of Repository",
        );
        return Repository {
            url: String::new(),
            user: String::new(),
            token: String::new(),
            branch: String::new(),
            path: String::new(),
            commit: String::new(),
        };
    }
    let url = required_str(v, "url", loc, errs);
    if v.get("url").is_some_and(|u| matches!(u, Value::Str(_)))
        && !super::repo_url::url_is_valid(&url, allow_file_urls)
    {
        errs.add(&join(loc, "url"), URL_ERROR);
    }
    let user = optional_str(v, "user", "", loc, errs);
    let token = optional_str(v, "token", "", loc, errs);
    for (field, value) in [("user", &user), ("token", &token)] {
        if !value.is_empty() && !no_whitespace(value) {
            errs.add(&join(loc, field), "String should match pattern '^\\S+$'");
        }
    }
    let branch = optional_str(v, "branch", "main", loc, errs);
    let path = optional_str(v, "path", "", loc, errs);
    if !path_is_valid(&path) {
        errs.add(&join(loc, "path"), "Value error, Invalid path");
    } else if path.split('/').any(|seg| seg == "..") {
        errs.add(
            &join(loc, "path"),
            "Value error, '..' path segments are not allowed",
        );
    }
    let commit = optional_str(v, "commit", "", loc, errs);
    if commit.starts_with('-') {
        errs.add(
            &join(loc, "commit"),
            "Value error, commit must not start with '-'",
        );
    } else if !no_whitespace(&commit) {
        errs.add(
            &join(loc, "commit"),
            "Value error, commit must not contain whitespace",
        );
    }
    Repository {
        url,
        user,
        token,
        branch,
        path,
        commit,
    }
}

impl TestJob {
    /// Validates `test_job_data`. Unknown keys are ignored.
    pub fn from_value(v: &Value, allow_file_urls: bool) -> Result<TestJob, TaskError> {
        let mut errs = Errors::default();
        if !matches!(v, Value::Dict(_)) {
            errs.add(
                "",
                "Input should be a valid dictionary or instance of TestJob",
            );
            return Err(errs.into_error("TestJob"));
        }
        let user_id = required_str(v, "user_id", "", &mut errs);
        let course_member_id = required_str(v, "course_member_id", "", &mut errs);
        let course_content_id = required_str(v, "course_content_id", "", &mut errs);
        let execution_backend_id = required_str(v, "execution_backend_id", "", &mut errs);
        let module = match v.get("module") {
            Some(m) => repository(m, "module", allow_file_urls, &mut errs),
            None => {
                errs.add("module", REQUIRED);
                repository(
                    &Value::Dict(vec![]),
                    "module",
                    allow_file_urls,
                    &mut Errors::default(),
                )
            }
        };
        let reference = match v.get("reference") {
            None | Some(Value::None) => None,
            Some(r) => Some(repository(r, "reference", allow_file_urls, &mut errs)),
        };
        let test_number = lax_int(v, "test_number", -1, &mut errs);
        let submission_number = lax_int(v, "submission_number", -1, &mut errs);
        if !errs.0.is_empty() {
            return Err(errs.into_error("TestJob"));
        }
        Ok(TestJob {
            user_id,
            course_member_id,
            course_content_id,
            execution_backend_id,
            module,
            reference,
            test_number,
            submission_number,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    fn dict(pairs: &[(&str, Value)]) -> Value {
        Value::Dict(pairs.iter().map(|(k, v)| (s(k), v.clone())).collect())
    }

    fn repo(url: &str) -> Value {
        dict(&[
            ("url", s(url)),
            ("user", s("")),
            ("token", s("")),
            ("branch", s("main")),
            ("path", s("a1")),
            ("commit", s("")),
        ])
    }

    fn job(module: Value, reference: Value) -> Value {
        dict(&[
            ("user_id", s("u-1")),
            ("course_member_id", s("cm-1")),
            ("course_content_id", s("cc-1")),
            ("execution_backend_id", s("eb-1")),
            ("module", module),
            ("reference", reference),
            ("test_number", Value::Int(-1)),
            ("submission_number", Value::Int(-1)),
            ("extra", s("ignored")),
        ])
    }

    #[test]
    fn accepts_the_documented_payload() {
        let j = TestJob::from_value(
            &job(
                repo("https://gitlab.example/g/p.git"),
                repo("git@h:g/r.git"),
            ),
            false,
        )
        .unwrap();
        assert_eq!(j.course_member_id, "cm-1");
        assert_eq!(j.module.path, "a1");
        assert_eq!(j.reference.unwrap().url, "git@h:g/r.git");
        let j = TestJob::from_value(&job(repo("https://h/p.git"), Value::None), false).unwrap();
        assert!(j.reference.is_none());
    }

    #[test]
    fn nulls_become_empty_and_defaults_apply() {
        let m = dict(&[
            ("url", s("https://h/p.git")),
            ("user", Value::None),
            ("token", Value::None),
            ("path", Value::None),
            ("commit", Value::None),
        ]);
        let mut d = job(m, Value::None);
        if let Value::Dict(pairs) = &mut d {
            pairs.retain(|(k, _)| k != &s("test_number"));
        }
        let j = TestJob::from_value(&d, false).unwrap();
        assert_eq!(j.module.branch, "main");
        assert_eq!((j.module.user.as_str(), j.module.commit.as_str()), ("", ""));
        assert_eq!(j.test_number, -1);
    }

    #[test]
    fn refuses_bad_fields_without_echoing_them() {
        let bad_repo = dict(&[
            ("url", s("file:///secret-token-xyz/r.git")),
            ("token", s("has space")),
            ("path", s("a//b")),
            ("commit", s("--upload-pack=x")),
        ]);
        let mut d = job(bad_repo, repo("https://h/x"));
        if let Value::Dict(pairs) = &mut d {
            pairs[0].1 = Value::Int(5);
        }
        let e = TestJob::from_value(&d, false).unwrap_err();
        assert_eq!(e.exc_type, "ValidationError");
        let m = &e.message;
        assert!(m.starts_with("6 validation errors for TestJob: "), "{m}");
        for part in [
            "user_id: Input should be a valid string",
            "module.url: Value error, URL must be a valid Git repository URL",
            "module.token: String should match pattern",
            "module.path: Value error, Invalid path",
            "module.commit: Value error, commit must not start with '-'",
            "reference.url: Value error, URL must be a valid Git repository URL",
        ] {
            assert!(m.contains(part), "{part} missing in {m}");
        }
        assert!(
            !m.contains("secret-token-xyz") && !m.contains("has space"),
            "{m}"
        );
    }

    #[test]
    fn file_urls_only_with_the_flag_and_no_dotdot() {
        let d = job(repo("file:///tmp/s.git"), repo("file:///tmp/r.git"));
        assert!(TestJob::from_value(&d, false).is_err());
        assert!(TestJob::from_value(&d, true).is_ok());
        let mut m = repo("https://h/p.git");
        if let Value::Dict(pairs) = &mut m {
            pairs[4].1 = s("a/../../etc");
        }
        let e = TestJob::from_value(&job(m, Value::None), false).unwrap_err();
        assert!(e.message.contains("module.path: Value error, '..'"), "{e}");
        let e = TestJob::from_value(&Value::List(vec![]), false).unwrap_err();
        assert_eq!(
            e.last_line(),
            "ValidationError: 1 validation error for TestJob: Input should be a valid dictionary or instance of TestJob"
        );
        let e = TestJob::from_value(&dict(&[]), false).unwrap_err();
        assert!(e.message.starts_with("5 validation errors"), "{e}");
        assert!(e.message.contains("module: Field required"), "{e}");
    }

    #[test]
    fn paths() {
        for ok in ["", "/", "a1", "/a1", "a1/", "a/b/c", "/a/b/"] {
            assert!(path_is_valid(ok), "{ok}");
        }
        for bad in ["//", "a//b", "//a"] {
            assert!(!path_is_valid(bad), "{bad}");
        }
    }
}
