//! `student_test_execution` (docs/course-tasks.md §3): clone the reference and the student's
//! repository, lay out the job directory, run the course's test runner, grade its
//! `testSummary.json`, and write the result to the backend API.
//!
//! Every problem after validation ends in one of the outcomes of §3.8 (R1–R8, or every test
//! skipped), which is committed like a normal result; the job itself fails only on bad
//! parameters (`TypeError`, `ValidationError`) and when the commit fails (`RuntimeError`).

pub mod commit;
pub mod confined;
pub mod git;
pub mod models;
pub mod repo_url;
pub mod runner;
pub mod runner_log;
pub mod settings;
pub mod student_code;
pub mod summary;
pub mod workspace;

use std::path::Path;

use serde_json::{json, Map, Value as Json};
use tracing::{info, warn};

use rq_worker::tasks::kit::{json_result, task_iso, Params};
use std::borrow::Cow;

use commit::Target;
use models::TestJob;
use rq_protocol::value::Value;
use rq_worker::tasks::{
    Handler, Param, Parameters, TaskCall, TaskContext, TaskError, TaskFuture, TaskSpec,
};
use runner::RunnerEnd;
use workspace::Layout;

pub const STUDENT_TEST_EXECUTION: TaskSpec = TaskSpec {
    name: Cow::Borrowed("student_test_execution"),
    default_timeout: Some(1800),
    default_retries: 2,
    summary: Cow::Borrowed(
        "clones a submission, runs the course's tests, reports the grade to the API",
    ),
    params: Parameters::named(&[
        Param::required(
            "test_job_data",
            "dict",
            "the submission: repository, reference, course ids (docs/course-tasks.md §3.2)",
        ),
        Param::optional(
            "execution_backend_callable",
            "str",
            "None",
            "accepted and ignored",
        ),
        Param::optional(
            "test_system_id",
            "str",
            "None",
            "id used to find the result row (default: the job id)",
        ),
        Param::optional(
            "result_id",
            "str",
            "None",
            "the result row to update, skipping the lookup",
        ),
    ]),
    handler: Handler::Fn(handler),
};

/// `ResultStatus` values (§3.8).
const COMPLETED: i64 = 0;
const FAILED: i64 = 1;

/// How the test run ended (§3.8, "outcomes").
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// OK: the summary was read.
    Graded {
        result: f64,
        summary: Map<String, Json>,
    },
    /// R1.
    NoReference,
    /// R2; `"reference"` or `"student"`.
    CloneFailed(&'static str),
    /// R3: no runner, or the sandbox is unavailable on this host.
    RunnerUnavailable,
    /// R4, with the runner timeout in seconds.
    RunnerTimedOut(u64),
    /// R5, with a reason that may be shown (a limit or a rule the report broke).
    SummaryInvalid(Option<String>),
    /// Every test was skipped (ours): the testing environment failed, not the student.
    AllSkipped,
    /// R6, with a Python exception type name.
    Other(&'static str),
    /// R7 (ours): a sandbox limit was exceeded; the limit's name (`memory`, `disk`, ...).
    LimitExceeded(String),
    /// R8 (ours): the submission (or reference) was refused; why, with no path of the host.
    Refused(String),
}

impl Outcome {
    /// The `ResultUpdate` fields this outcome sets: (`result`, `result_json`, `status`). Error
    /// outcomes set no `result`, so the row keeps 0; their texts never carry exception details.
    fn into_update(self) -> (Option<f64>, Json, i64) {
        let error = |exc: &str, msg: &str| json!({"task_exception": exc, "message": msg});
        match self {
            Outcome::Graded { result, summary } => (Some(result), Json::Object(summary), COMPLETED),
            Outcome::NoReference => {
                let m = "No reference repository found in job payload.";
                (None, error(m, m), FAILED)
            }
            Outcome::CloneFailed(which) => (
                None,
                error(
                    "git clone failed",
                    &format!("Git clone of {which} repository failed."),
                ),
                FAILED,
            ),
            Outcome::RunnerUnavailable => {
                let m = "Testing environment failed";
                (None, error(m, m), FAILED)
            }
            Outcome::RunnerTimedOut(secs) => (
                None,
                error(
                    "Testing environment timed out",
                    &format!("Test execution timed out after {secs} seconds."),
                ),
                FAILED,
            ),
            Outcome::SummaryInvalid(why) => {
                let m = "Reading report file testSummary.json failed";
                match why {
                    None => (None, error(m, m), FAILED),
                    Some(why) => (None, error(m, &format!("{m}: {why}")), FAILED),
                }
            }
            Outcome::AllSkipped => (
                None,
                error(
                    "Testing environment failed",
                    "Testing environment failed: every test was skipped",
                ),
                FAILED,
            ),
            Outcome::LimitExceeded(limit) => (
                None,
                error(
                    "Testing environment limit exceeded",
                    &format!("Test execution exceeded its {limit} limit."),
                ),
                FAILED,
            ),
            Outcome::Refused(why) => (
                None,
                error("Submission refused", &format!("Submission refused: {why}.")),
                FAILED,
            ),
            Outcome::Other(exc_type) => (
                None,
                json!({
                    "task_exception": "Test execution failed",
                    "message": "Test execution failed",
                    "exception_type": exc_type,
                }),
                FAILED,
            ),
        }
    }

    /// The PATCH body: only the fields that are set. Consumes the outcome: a report is never
    /// copied (it may be large).
    fn patch_body(self) -> Json {
        let (result, result_json, status) = self.into_update();
        let mut body = Map::new();
        if let Some(r) = result {
            body.insert("result".into(), json!(r));
        }
        body.insert("result_json".into(), result_json);
        body.insert("status".into(), json!(status));
        Json::Object(body)
    }

    /// `execution_result` in the return value: every `ResultUpdate` field, unset ones null.
    #[cfg(test)]
    fn execution_result(self) -> Json {
        execution_result_of(self.patch_body())
    }
}

/// `execution_result` from the PATCH body it was sent as (moved, not copied).
fn execution_result_of(body: Json) -> Json {
    let mut body = match body {
        Json::Object(m) => m,
        _ => Map::new(),
    };
    json!({
        "submit": null,
        "result": body.remove("result").unwrap_or(Json::Null),
        "result_json": body.remove("result_json").unwrap_or(Json::Null),
        "status": body.remove("status").unwrap_or(Json::Null),
        "test_system_id": null,
        "properties": null,
    })
}

/// Python's name for an I/O error, for `exception_type` (R6).
fn os_error_name(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "FileNotFoundError",
        K::PermissionDenied => "PermissionError",
        K::AlreadyExists => "FileExistsError",
        _ => "OSError",
    }
}

fn handler(call: TaskCall, ctx: TaskContext) -> TaskFuture {
    Box::pin(execute(call, ctx))
}

async fn execute(call: TaskCall, ctx: TaskContext) -> Result<Value, TaskError> {
    let p = Params::bind(&STUDENT_TEST_EXECUTION, &call)?;
    let data = p.value_or("test_job_data", Value::None);
    // `execution_backend_callable` is accepted and ignored (§3.1).
    let test_system_id: Option<String> = p.typed::<Option<String>>("test_system_id")?.flatten();
    let result_id: Option<String> = p.typed::<Option<String>>("result_id")?.flatten();
    let settings = settings_of(&ctx);
    let job = TestJob::from_value(&data, settings.allow_file_git_urls)?;
    let Some(api) = ctx.shared::<crate::api::ApiClient>() else {
        return Err(commit_failed(
            "no backend API URL is configured (EXECUTION_BACKEND_API_URL)",
        ));
    };
    let target = match result_id {
        Some(id) => Target::Row(id),
        None => Target::Lookup {
            course_member_id: job.course_member_id.clone(),
            course_content_id: job.course_content_id.clone(),
            execution_backend_id: job.execution_backend_id.clone(),
            test_system_id: test_system_id.unwrap_or_else(|| ctx.job_id.clone()),
        },
    };

    // The scratch directory goes when this future ends or is dropped; the engine holds a
    // guard too.
    let scratch = ctx.scratch_guard();
    let outcome = run_tests(&ctx, &job).await;
    scratch.remove().await;
    match &outcome {
        Outcome::Graded { result, .. } => info!(result, "submission graded"),
        other => warn!(outcome = ?other, "submission not graded"),
    }

    let body = outcome.patch_body();
    commit::commit(&api, &target, &body)
        .await
        .map_err(|reason| commit_failed(&reason))?;

    let mut result = json_result(json!({
        "test_job_id": null,
        "execution_result": execution_result_of(body),
        "api_commit_success": true,
        "completed_at": task_iso(chrono::Utc::now()),
    }));
    // `test_job_data.get("id")` keeps whatever Python type it has.
    if let (Value::Dict(pairs), Some(id)) = (&mut result, data.get("id")) {
        let key = Value::Str("test_job_id".into());
        if let Some((_, v)) = pairs.iter_mut().find(|(k, _)| *k == key) {
            *v = id.clone();
        }
    }
    Ok(result)
}

fn commit_failed(reason: &str) -> TaskError {
    TaskError::new(
        "RuntimeError",
        format!("Committing results to API failed: {reason}"),
    )
}

/// The settings the worker was given (`ctx.data`), or the defaults.
fn settings_of(ctx: &TaskContext) -> std::sync::Arc<settings::TaskSettings> {
    ctx.shared::<settings::TaskSettings>().unwrap_or_default()
}

/// Steps 2–10 of §3.3.
async fn run_tests(ctx: &TaskContext, job: &TestJob) -> Outcome {
    let Some(reference) = &job.reference else {
        return Outcome::NoReference;
    };
    let settings = settings_of(ctx);
    let settings = settings.as_ref();
    let root = match ctx.scratch_dir().await {
        Ok(r) => r,
        Err(e) => {
            warn!("cannot create the job directory: {e}");
            return Outcome::Other(os_error_name(&e));
        }
    };
    let Some(root) = root.to_str().map(str::to_string) else {
        warn!("the job directory path is not UTF-8; set WORK_DIR to a UTF-8 path");
        return Outcome::Other("UnicodeError");
    };
    let layout = Layout::new(&root, &reference.path, &job.module.path);
    if let Err(e) = layout.make_private_dirs() {
        warn!("cannot create the job directory: {e}");
        return Outcome::Other(os_error_name(&e));
    }
    let (root_path, home) = (std::path::PathBuf::from(&root), layout.home_dir());
    let clone = |repo, dest| git::CloneJob {
        repo,
        dest,
        root: &root_path,
        home: &home,
        timeout: settings.git_timeout,
        allow_file: settings.allow_file_git_urls,
    };
    let source = layout.source_clone();
    let student = layout.student_clone();
    for (repo, dest, which) in [
        (reference, &source, "reference"),
        (&job.module, &student, "student"),
    ] {
        match git::clone(&clone(repo, dest), &settings.sandbox).await {
            Ok(()) => {}
            Err(git::CloneFailed::Git(_)) => return Outcome::CloneFailed(which),
            Err(git::CloneFailed::Limit(limit)) => return Outcome::LimitExceeded(limit),
            Err(git::CloneFailed::Sandbox(_)) => return Outcome::RunnerUnavailable,
        }
    }
    // §3.3 step 4 (ours): the two directories must be real directories inside their clones;
    // a submission that is a symbolic link (into the reference solution, say) is refused.
    for (clone_dir, rel, what) in [
        (&source, reference.path.as_str(), "the reference directory"),
        (
            &student,
            job.module.path.as_str(),
            "the submission directory",
        ),
    ] {
        if let Err(e) = crate::sandbox::beneath::is_plain_dir_beneath(clone_dir, Path::new(rel)) {
            warn!(
                path = rel,
                "{what} is not a plain directory in its repository: {e}"
            );
            let why =
                if e.raw_os_error() == Some(libc::ELOOP) || e.raw_os_error() == Some(libc::EXDEV) {
                    format!("{what} is a symbolic link")
                } else {
                    format!("{what} is missing or not a directory")
                };
            return Outcome::Refused(why);
        }
    }
    // A link out of the submission (into the reference solution, say) would let the grader
    // read something else than what the student wrote.
    let student_dir = std::path::PathBuf::from(&layout.student_dir);
    if let Ok(Some(link)) = blocking(move || workspace::link_out_of(&student_dir)).await {
        warn!(link = %link.display(), "the submission has a symbolic link out of it");
        return Outcome::Refused("the submission contains a symbolic link out of it".into());
    }
    let prepared = {
        let layout = layout.clone();
        blocking(move || {
            layout.prepare()?;
            layout.copy_test_files();
            layout.copy_test_yaml();
            layout.stage_test_dependencies();
            Ok::<_, std::io::Error>(layout.language())
        })
        .await
    };
    let language = match prepared {
        Ok(Ok(language)) => language,
        Ok(Err(e)) => {
            warn!("cannot prepare the job directory: {e}");
            return Outcome::Other(os_error_name(&e));
        }
        Err(e) => {
            warn!("preparing the job directory panicked: {e}");
            return Outcome::Other("RuntimeError");
        }
    };
    // The clones count against the disk cap too.
    if settings.sandbox.enabled {
        let l = &settings.sandbox.limits;
        let path = root_path.clone();
        let (bytes, entries) = (l.disk_bytes, l.disk_entries);
        let used = blocking(move || crate::sandbox::disk::measure(&path, bytes, entries)).await;
        if let Ok(used) = used {
            if used.bytes > bytes || used.entries > entries {
                warn!(
                    bytes = used.bytes,
                    entries = used.entries,
                    "the clones exceed the disk limit"
                );
                return Outcome::LimitExceeded("disk".into());
            }
        }
    }
    let stderr_tail = match runner::run(
        settings.test_runner_command.as_deref(),
        settings.test_runner_timeout,
        &layout,
        &language,
        &settings.sandbox,
    )
    .await
    {
        RunnerEnd::Finished { stderr_tail } => stderr_tail,
        RunnerEnd::Unavailable => return Outcome::RunnerUnavailable,
        RunnerEnd::TimedOut => {
            return Outcome::RunnerTimedOut(settings.test_runner_timeout.as_secs())
        }
        RunnerEnd::LimitExceeded { limit, .. } => return Outcome::LimitExceeded(limit),
    };
    let path = std::path::PathBuf::from(&layout.output_dir);
    let max = settings.report_max_bytes;
    match blocking(move || summary::read(&path, max)).await {
        Ok(Ok(report)) => match report.counts.grade() {
            summary::Grade::Score(result) => Outcome::Graded {
                result,
                summary: report.json,
            },
            summary::Grade::AllSkipped => {
                warn!(
                    total = report.counts.total,
                    skipped = report.counts.skipped,
                    stderr_tail = %stderr_tail,
                    "every test was skipped: the testing environment failed"
                );
                Outcome::AllSkipped
            }
        },
        Ok(Err(why)) => {
            warn!(stderr_tail = %stderr_tail, "testSummary.json: {}", why.log());
            Outcome::SummaryInvalid(why.public())
        }
        Err(e) => {
            warn!("reading testSummary.json panicked: {e}");
            Outcome::Other("RuntimeError")
        }
    }
}

/// `spawn_blocking` inside the caller's span, so that what `f` logs carries the job's id.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_the_spec_table() {
        let mut summary = Map::new();
        summary.insert("summary".into(), json!({"total": 4, "passed": 3}));
        let ok = Outcome::Graded {
            result: 0.75,
            summary,
        };
        assert_eq!(
            ok.patch_body().to_string(),
            r#"{"result":0.75,"result_json":{"summary":{"total":4,"passed":3}},"status":0}"#
        );
        assert_eq!(
            Outcome::CloneFailed("student").patch_body(),
            json!({"result_json": {"task_exception": "git clone failed", "message": "Git clone of student repository failed."}, "status": 1})
        );
        assert_eq!(
            Outcome::RunnerTimedOut(2).patch_body()["result_json"]["message"],
            "Test execution timed out after 2 seconds."
        );
        assert_eq!(
            Outcome::Other("OSError").patch_body()["result_json"]["exception_type"],
            "OSError"
        );
        assert_eq!(
            Outcome::SummaryInvalid(None).patch_body()["result_json"]["message"],
            "Reading report file testSummary.json failed"
        );
        assert_eq!(
            Outcome::SummaryInvalid(Some("the report is larger than the 4 MiB limit".into()))
                .patch_body()["result_json"],
            json!({"task_exception": "Reading report file testSummary.json failed", "message": "Reading report file testSummary.json failed: the report is larger than the 4 MiB limit"})
        );
        assert_eq!(
            Outcome::AllSkipped.patch_body(),
            json!({"result_json": {"task_exception": "Testing environment failed", "message": "Testing environment failed: every test was skipped"}, "status": 1})
        );
        let er = Outcome::NoReference.execution_result();
        assert_eq!(er["result"], Json::Null);
        assert_eq!(er["status"], 1);
        assert_eq!(er.as_object().unwrap().len(), 6);
    }

    #[tokio::test]
    async fn parameter_errors_name_the_parameter() {
        let ctx = TaskContext::new("j", "q", None);
        let e = handler(TaskCall::default(), ctx.clone()).await.unwrap_err();
        assert_eq!(
            e.last_line(),
            "TypeError: StudentTestExecutionTask.execute() missing 1 required positional argument: 'test_job_data'"
        );
        let call = TaskCall {
            args: vec![Value::Dict(vec![])],
            kwargs: vec![("result_id".into(), Value::Int(3))],
        };
        let e = handler(call, ctx.clone()).await.unwrap_err();
        assert!(e.message.contains("parameter 'result_id'"), "{e}");
        let call = TaskCall {
            args: vec![Value::Dict(vec![])],
            kwargs: vec![],
        };
        let e = handler(call, ctx).await.unwrap_err();
        assert_eq!(e.exc_type, "ValidationError");
    }
}
