"""student_test_execution end to end (docs/course-tasks.md §3, §6).

Python RQ enqueues the job the way the backend does (its wrapper function name, `retry_limit`
and `delay` kwargs, job_timeout 1800, queue high_priority); a burst task-worker clones local
`file://` fixture repositories made with git, runs a small shell test runner, grades its
testSummary.json and writes the result to the API double (api_double.py). Every row of its
"Expected outcomes" table (§6.4) has a test here.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import yaml
from rq import Queue
from rq.job import Job

from harness import WORKER, wait_until
from harness.api_double import ApiDouble

# The worker's own feature through RQ's ordinary enqueue and read-back, the same with every RQ
# version: run once, with RQ 3.0 (tests/interop/conftest.py deselects it under RQ 2.x).
pytestmark = pytest.mark.rq_version_independent

WRAPPER = "ctutor_backend.tasks.executor.TaskExecutor._execute_task_wrapper"
API_USER, API_PASSWORD = "admin", "api-pw-8d2f"
TOKEN = "glpat-tok-5e1c"  # never to appear in the worker's output
SUMMARY_3_OF_4 = {"summary": {"total": 4, "passed": 3, "failed": 1, "skipped": 0}}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")

R1 = {"task_exception": "No reference repository found in job payload.",
      "message": "No reference repository found in job payload."}
R3 = {"task_exception": "Testing environment failed", "message": "Testing environment failed"}
R5 = {"task_exception": "Reading report file testSummary.json failed",
      "message": "Reading report file testSummary.json failed"}


def r2(which):
    return {"task_exception": "git clone failed", "message": f"Git clone of {which} repository failed."}


def git(*args, cwd=None):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def commit_all(repo, msg):
    git("-C", str(repo), "add", "-A")
    git("-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", msg)


class Fixture:
    """The §6 fixture repositories and runner scripts in one temp dir."""

    def __init__(self, root: Path):
        self.T = root
        ref = root / "reference.git"
        git("init", "-q", "-b", "main", str(ref))
        (ref / "a1" / "data").mkdir(parents=True)
        (ref / "a1" / "meta.yaml").write_text("properties:\n  testFiles: [data/input.txt]\n")
        (ref / "a1" / "test.yaml").write_text("type: python\nproperties:\n  tests: []\n")
        (ref / "a1" / "data" / "input.txt").write_text("42\n")
        commit_all(ref, "ref")
        stu = root / "student.git"
        git("init", "-q", "-b", "main", str(stu))
        (stu / "a1").mkdir()
        (stu / "a1" / "solution.py").write_text("x = 42\n")
        commit_all(stu, "sub")
        self.sha = subprocess.run(["git", "-C", str(stu), "rev-parse", "HEAD"], check=True,
                                  capture_output=True, text=True).stdout.strip()
        # A second commit: the job must check out the first one.
        (stu / "a1" / "solution.py").write_text("x = 'later'\n")
        commit_all(stu, "later")
        self.work = root / "work"
        self.work.mkdir()
        # Runner scripts (readable in the sandbox: TEST_SANDBOX_READ) and the records they
        # leave for the assertions (writable: TEST_SANDBOX_WRITE).
        self.bin = root / "bin"
        self.bin.mkdir()
        self.rec = root / "rec"
        self.rec.mkdir()

    def runner(self, body: str, name="runner.sh") -> str:
        """Writes a runner script; returns the TEST_RUNNER_COMMAND that runs it."""
        path = self.bin / name
        path.write_text(body)
        return f"sh {path}"

    def spec_runner(self, summary=SUMMARY_3_OF_4) -> str:
        """The §6 fake runner, plus a record of what it saw for the assertions."""
        return self.runner(name="spec-runner.sh", body=
            'test -f "$CTUTOR_SPEC_FILE" && test -f "$CTUTOR_TEST_DIR/data/input.txt" '
            '&& test -f "$CTUTOR_STUDENT_DIR/solution.py" || exit 3\n'
            f'cp "$CTUTOR_SPEC_FILE" {self.rec}/spec-copy.yaml\n'
            f'cp "$CTUTOR_STUDENT_DIR/solution.py" {self.rec}/solution-copy.py\n'
            f'env > {self.rec}/runner-env.txt\n'
            f'pwd > {self.rec}/runner-cwd.txt\n'
            f"printf '%s' '{json.dumps(summary)}' > \"$CTUTOR_OUTPUT_DIR/testSummary.json\"\n"
            "exit 1\n",  # runners exit non-zero when tests fail; the summary still counts
        )

    def test_job(self, reference="default", **module_overrides):
        module = {"url": f"file://{self.T}/student.git", "user": "", "token": TOKEN,
                  "branch": "main", "path": "a1", "commit": self.sha}
        module.update(module_overrides)
        if reference == "default":
            reference = {"url": f"file://{self.T}/reference.git", "user": "", "token": "",
                         "branch": "main", "path": "a1", "commit": ""}
        return {"user_id": "u-1", "course_member_id": "cm-1", "course_content_id": "cc-1",
                "execution_backend_id": "eb-1", "module": module, "reference": reference,
                "test_number": -1, "submission_number": -1}


@pytest.fixture
def fx(tmp_path):
    return Fixture(tmp_path)


@pytest.fixture
def api():
    double = ApiDouble(user=API_USER, password=API_PASSWORD)
    double.add_row()
    yield double
    double.close()


class Run:
    def __init__(self, job: Job, output: str):
        self.job, self.output = job, output
        self.status = job.get_status()

    @property
    def value(self):
        return self.job.return_value()

    @property
    def error(self):
        return self.job.latest_result().exc_string

    @property
    def error_line(self):
        return self.error.strip().splitlines()[-1]


def enqueue(r, parameters, job_id="job-1", job_timeout=1800):
    """Exactly what the backend's POST /tasks/submit does for priority 7 (§1)."""
    q = Queue("high_priority", connection=r)
    return q.enqueue(WRAPPER, "student_test_execution", parameters, job_timeout=job_timeout,
                     job_id=job_id, retry_limit=2, delay=None)


def worker_env(fx, api, env=None):
    """The worker's environment: the API double, the fixture runner, short backoff; `env`
    entries override (None removes a variable)."""
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("EXECUTION_BACKEND_API_", "TEST_RUNNER_", "COMMIT_"))}
    full_env.update({
        "RUST_LOG": "info",
        "EXECUTION_BACKEND_API_URL": api.url,
        "EXECUTION_BACKEND_API_USER": API_USER,
        "EXECUTION_BACKEND_API_PASSWORD": API_PASSWORD,
        "ALLOW_FILE_GIT_URLS": "true",
        "TEST_RUNNER_TIMEOUT": "60",
        "COMMIT_BACKOFF_MS": "20",
        "WORK_DIR": str(fx.work),
        "TEST_SANDBOX_READ": str(fx.bin),
        "TEST_SANDBOX_WRITE": str(fx.rec),
        # Secrets the runner must not see (§3.6).
        "POSTGRES_PASSWORD": "pg-secret-77",
        "TOKEN_SECRET": "token-secret-99",
    })
    env = dict(env or {})
    if "TEST_RUNNER_COMMAND" not in env:
        env["TEST_RUNNER_COMMAND"] = fx.spec_runner()
    for k, v in env.items():
        if v is None:
            full_env.pop(k, None)
        else:
            full_env[k] = v
    return full_env


def run_job(r, redis_server, fx, api, parameters=None, env=None, job_id="job-1", job_timeout=1800,
            test_job=None):
    """Enqueues like the backend (§1) and runs one burst worker; returns a Run."""
    if parameters is None:
        parameters = {"test_job_data": test_job if test_job is not None else fx.test_job()}
    enqueue(r, parameters, job_id, job_timeout)
    full_env = worker_env(fx, api, env)
    proc = subprocess.run([str(WORKER), "--redis-url", redis_server.url, "--burst", "-q", "high_priority"],
                          capture_output=True, text=True, timeout=180, env=full_env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert TOKEN not in output and API_PASSWORD not in output, "a secret reached the log"
    # The job directory is always removed.
    assert list(fx.work.iterdir()) == [], list(fx.work.iterdir())
    return Run(Job.fetch(job_id, connection=r), output)


def assert_committed(run, api, result_json, status, result=None):
    """The job finished, returned §3.10's value, and PATCHed exactly this body (§3.8)."""
    assert run.status == "finished", run.output[-3000:]
    v = run.value
    expected_er = {"submit": None, "result": result, "result_json": result_json, "status": status,
                   "test_system_id": None, "properties": None}
    assert v["execution_result"] == expected_er
    assert type(v["execution_result"]["result"]) is (float if result is not None else type(None))
    assert v["api_commit_success"] is True and v["test_job_id"] is None
    assert ISO.match(v["completed_at"]), v["completed_at"]
    patches = [e for e in api.requests("PATCH") if e["status"] == 200]
    assert len(patches) == 1, api.requests()
    body = {"result_json": result_json, "status": status}
    if result is not None:
        body = {"result": result, **body}
    assert patches[0]["path"] == "/results/r-1"
    assert patches[0]["body"] == body
    assert list(patches[0]["body"]) == list(body)  # only the fields that are set
    row = api.row("r-1")
    assert row["status"] == status and row["result_json"] == result_json
    assert row["result"] == (result if result is not None else 0.0)


# ---- the happy path ---------------------------------------------------------------------


def test_partly_failing_submission_is_graded_and_reported(r, redis_server, fx, api):
    run = run_job(r, redis_server, fx, api)
    assert_committed(run, api, SUMMARY_3_OF_4, 0, result=0.75)
    # The exact PATCH text of the spec's happy path.
    patch = api.requests("PATCH")[0]
    assert json.loads(patch["raw_body"]) == {"result": 0.75, "result_json": SUMMARY_3_OF_4, "status": 0}
    # The lookup: one GET with the four keys; test_system_id is the RQ job id.
    gets = api.requests("GET")
    assert len(gets) == 1
    assert gets[0]["path"] == "/results"
    assert gets[0]["query"] == {"course_member_id": "cm-1", "course_content_id": "cc-1",
                                "execution_backend_id": "eb-1", "test_system_id": "job-1"}
    assert gets[0]["accept"] == "application/json" and gets[0]["content_type"] == "application/json"

    # What the runner saw: cwd = root, the CTUTOR_* variables, no secrets.
    env = dict(line.split("=", 1) for line in (fx.rec / "runner-env.txt").read_text().splitlines()
               if "=" in line)
    root = (fx.rec / "runner-cwd.txt").read_text().strip()
    assert Path(root).parent == fx.work
    assert env["CTUTOR_ROOT"] == root
    assert env["CTUTOR_SPEC_FILE"] == f"{root}/specification.yaml"
    assert env["CTUTOR_TEST_FILE"] == f"{root}/test.yaml"
    assert env["CTUTOR_LANGUAGE"] == ""  # the fixture's meta.yaml names no execution backend
    assert env["CTUTOR_STUDENT_DIR"] == f"{root}/student/a1"
    assert env["CTUTOR_REFERENCE_DIR"] == f"{root}/source/a1"
    assert env["CTUTOR_TEST_DIR"] == f"{root}/test_files"
    assert env["CTUTOR_OUTPUT_DIR"] == f"{root}/output"
    assert env["CTUTOR_ARTIFACT_DIR"] == f"{root}/artifacts"
    for secret in ("EXECUTION_BACKEND_API_PASSWORD", "EXECUTION_BACKEND_API_USER",
                   "EXECUTION_BACKEND_API_URL", "POSTGRES_PASSWORD", "TOKEN_SECRET"):
        assert secret not in env, secret

    # specification.yaml is exactly what PyYAML's yaml.dump writes.
    expected = {
        "artifactDirectory": f"{root}/artifacts",
        "executionDirectory": f"{root}/student/a1",
        "outputDirectory": f"{root}/output",
        "referenceDirectory": f"{root}/source/a1",
        "studentDirectory": f"{root}/student/a1",
        "studentTestCounter": 2,
        "testDirectory": f"{root}/test_files",
    }
    assert (fx.rec / "spec-copy.yaml").read_text() == yaml.dump(expected)
    # The student's commit was checked out, not the branch head.
    assert (fx.rec / "solution-copy.py").read_text() == "x = 42\n"


def test_passing_submission_scores_one(r, redis_server, fx, api):
    summary = {"type": "python", "status": "COMPLETED", "result": "PASSED",
               "summary": {"total": 4, "passed": 4, "failed": 0, "skipped": 0},
               "tests": [{"name": "ex1", "result": "PASSED", "duration": 0.5}]}
    run = run_job(r, redis_server, fx, api, env={"TEST_RUNNER_COMMAND": fx.spec_runner(summary)})
    assert_committed(run, api, summary, 0, result=1.0)


def test_zero_total_scores_zero_and_empty_path_works(r, redis_server, fx, api):
    summary = {"summary": {"total": 0, "passed": 0}}
    cmd = fx.runner("test -f \"$CTUTOR_STUDENT_DIR/a1/solution.py\" || exit 3\n"
                    f"printf '%s' '{json.dumps(summary)}' > \"$CTUTOR_OUTPUT_DIR/testSummary.json\"\n")
    # module.path "" leaves the student directory at the clone root (with a trailing /).
    run = run_job(r, redis_server, fx, api, env={"TEST_RUNNER_COMMAND": cmd},
                  test_job=fx.test_job(path=""))
    assert_committed(run, api, summary, 0, result=0.0)


@pytest.mark.parametrize("backend, language", [
    ("  executionBackend:\n    slug: itpcp.exec.py\n    settings: {}\n", "python"),
    ("  executionBackendSlug: octave-itp\n", "octave"),
    ("  executionBackend:\n    slug: itpcp.exec.doc\n", "document"),
])
def test_runner_gets_the_language_and_a_test_file_above_every_directory(r, redis_server, fx, api,
                                                                       backend, language):
    """One worker for every language: `computor-test $CTUTOR_LANGUAGE run -T "$CTUTOR_TEST_FILE"
    -s "$CTUTOR_SPEC_FILE"` needs the language from the reference's meta.yaml, and its Octave
    tester needs every directory of specification.yaml below the directory of test.yaml."""
    ref = fx.T / "reference.git"
    (ref / "a1" / "meta.yaml").write_text("properties:\n  testFiles: [data/input.txt]\n" + backend)
    (ref / "a1" / "test.yaml").write_text(f"type: {language}\nproperties:\n  tests: []\n")
    commit_all(ref, "backend")
    cmd = fx.runner(
        f'printf "%s" "${{CTUTOR_LANGUAGE-unset}}" > {fx.rec}/language.txt\n'
        f'printf "%s" "$CTUTOR_TEST_FILE" > {fx.rec}/test-file.txt\n'
        f'cp "$CTUTOR_TEST_FILE" {fx.rec}/test-copy.yaml || exit 3\n'
        f'cp "$CTUTOR_SPEC_FILE" {fx.rec}/spec-copy.yaml\n'
        f"printf '%s' '{json.dumps(SUMMARY_3_OF_4)}' > \"$CTUTOR_OUTPUT_DIR/testSummary.json\"\n")
    run = run_job(r, redis_server, fx, api, env={"TEST_RUNNER_COMMAND": cmd})
    assert_committed(run, api, SUMMARY_3_OF_4, 0, result=0.75)
    assert (fx.rec / "language.txt").read_text() == language
    assert (fx.rec / "test-copy.yaml").read_text() == f"type: {language}\nproperties:\n  tests: []\n"
    test_root = Path((fx.rec / "test-file.txt").read_text()).parent
    spec = yaml.safe_load((fx.rec / "spec-copy.yaml").read_text())
    dirs = [v for k, v in spec.items() if k.endswith("Directory")]
    assert len(dirs) == 6
    for d in dirs:
        assert Path(d).is_relative_to(test_root) and Path(d) != test_root, (d, test_root)
    assert f"language=\"{language}\"" in run.output or f"language={language}" in run.output


def test_test_dependencies_are_staged_beside_the_submission(r, redis_server, fx, api):
    """computor-test looks for testDependencies beside the directory of test.yaml (now the job
    root): the worker stages them beside the submission, as the grader would have."""
    ref = fx.T / "reference.git"
    (ref / "helpers").mkdir()
    (ref / "helpers" / "helper.py").write_text("HELP = 1\n")
    (ref / "a1" / "meta.yaml").write_text(
        "properties:\n  testFiles: [data/input.txt]\n  testDependencies: [../helpers/]\n")
    commit_all(ref, "deps")
    cmd = fx.runner(
        f'cp "$CTUTOR_STUDENT_DIR/../helpers/helper.py" {fx.rec}/helper-copy.py || exit 3\n'
        f"printf '%s' '{json.dumps(SUMMARY_3_OF_4)}' > \"$CTUTOR_OUTPUT_DIR/testSummary.json\"\n")
    run = run_job(r, redis_server, fx, api, env={"TEST_RUNNER_COMMAND": cmd})
    assert_committed(run, api, SUMMARY_3_OF_4, 0, result=0.75)
    assert (fx.rec / "helper-copy.py").read_text() == "HELP = 1\n"


def test_unknown_execution_backend_leaves_the_language_empty(r, redis_server, fx, api):
    ref = fx.T / "reference.git"
    (ref / "a1" / "meta.yaml").write_text(
        "properties:\n  testFiles: [data/input.txt]\n  executionBackend:\n    slug: 'x.$(touch pwned)'\n")
    commit_all(ref, "backend")
    cmd = fx.runner(
        f'printf "%s" "${{CTUTOR_LANGUAGE-unset}}" > {fx.rec}/language.txt\n'
        f"printf '%s' '{json.dumps(SUMMARY_3_OF_4)}' > \"$CTUTOR_OUTPUT_DIR/testSummary.json\"\n")
    run = run_job(r, redis_server, fx, api, env={"TEST_RUNNER_COMMAND": cmd})
    assert_committed(run, api, SUMMARY_3_OF_4, 0, result=0.75)
    assert (fx.rec / "language.txt").read_text() == ""
    assert "names no language; CTUTOR_LANGUAGE is empty" in run.output


# ---- outcomes R1-R5 -----------------------------------------------------------------------


def test_missing_reference_repository_dir_is_r2(r, redis_server, fx, api):
    tj = fx.test_job()
    tj["reference"]["url"] = f"file://{fx.T}/nowhere.git"
    run = run_job(r, redis_server, fx, api, test_job=tj)
    assert_committed(run, api, r2("reference"), 1)
    assert not (fx.rec / "runner-env.txt").exists()


def test_unknown_student_commit_is_r2(r, redis_server, fx, api):
    run = run_job(r, redis_server, fx, api, test_job=fx.test_job(commit="0" * 40))
    assert_committed(run, api, r2("student"), 1)


def test_null_reference_is_r1(r, redis_server, fx, api):
    run = run_job(r, redis_server, fx, api, test_job=fx.test_job(reference=None))
    assert_committed(run, api, R1, 1)


@pytest.mark.parametrize("body", [
    "exit 0\n",
    "printf '[1, 2]' > \"$CTUTOR_OUTPUT_DIR/testSummary.json\"\n",
    "printf '{\"summary\": NaN}' > \"$CTUTOR_OUTPUT_DIR/testSummary.json\"\n",
    "printf '{\"summary\":' > \"$CTUTOR_OUTPUT_DIR/testSummary.json\"\n",
], ids=["no-summary", "array", "nan", "truncated"])
def test_missing_or_invalid_summary_is_r5(r, redis_server, fx, api, body):
    run = run_job(r, redis_server, fx, api, env={"TEST_RUNNER_COMMAND": fx.runner(body)})
    assert_committed(run, api, R5, 1)


def test_runner_timeout_is_r4(r, redis_server, fx, api):
    cmd = fx.runner("sleep 30\n")
    run = run_job(r, redis_server, fx, api,
                  env={"TEST_RUNNER_COMMAND": cmd, "TEST_RUNNER_TIMEOUT": "2"})
    assert_committed(run, api, {"task_exception": "Testing environment timed out",
                                "message": "Test execution timed out after 2 seconds."}, 1)


def pid_gone(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def live_procs_with(token: str) -> list[int]:
    """Processes whose command line holds `token`. The runner lives in its own PID namespace
    (docs/security.md), so the pids it could record are not the host's: the tests find its
    processes by a token in their command line instead."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{d}/cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmd and not pid_gone(int(d)):
            found.append(int(d))
    return found


def runner_and_child(fx, body_before="", body_after="wait\n"):
    """A runner that starts a long child; returns (command, tokens of both processes)."""
    child = f"300.{uuid.uuid4().int % 10**9:09d}"
    cmd = fx.runner(body_before + f"echo started > {fx.rec}/runner.pid\n"
                    f"sleep {child} & echo started > {fx.rec}/child.pid\n" + body_after)
    return cmd, [cmd.split(" ", 1)[1], f"sleep {child}"]


def test_runner_ignoring_sigterm_is_killed_with_its_children(r, redis_server, fx, api):
    # TERM is ignored by the runner and inherited as ignored by its children: only the SIGKILL
    # after the grace period ends them. A partial summary is ignored.
    cmd, tokens = runner_and_child(
        fx, "trap '' TERM\n",
        "echo '{}' > \"$CTUTOR_OUTPUT_DIR/testSummary.json\"\n"
        "while :; do sleep 1; done\n")
    run = run_job(r, redis_server, fx, api,
                  env={"TEST_RUNNER_COMMAND": cmd, "TEST_RUNNER_TIMEOUT": "2"})
    assert_committed(run, api, {"task_exception": "Testing environment timed out",
                                "message": "Test execution timed out after 2 seconds."}, 1)
    assert (fx.rec / "child.pid").exists()
    for token in tokens:
        assert live_procs_with(token) == [], f"{token} still running"


@pytest.mark.parametrize("value", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_runner_not_configured_is_r3(r, redis_server, fx, api, value):
    run = run_job(r, redis_server, fx, api, env={"TEST_RUNNER_COMMAND": value})
    assert_committed(run, api, R3, 1)


# ---- the API: retries and failures -------------------------------------------------------


def test_first_two_requests_503_then_success_on_try_3(r, redis_server, fx, api):
    api.fail_next(2, status=503)
    run = run_job(r, redis_server, fx, api)
    assert_committed(run, api, SUMMARY_3_OF_4, 0, result=0.75)
    seen = [(e["method"], e["status"]) for e in api.requests()]
    assert seen == [("GET", 503), ("GET", 503), ("GET", 200), ("PATCH", 200)]


def test_api_500_on_patch_then_success(r, redis_server, fx, api):
    # The lookup succeeds, the update answers 500: the next try repeats lookup + update.
    real = api._answer
    calls = {"patch": 0}

    def answer(h, method, path, entry):
        if method == "PATCH" and calls["patch"] == 0:
            calls["patch"] += 1
            return 500, {"detail": "Internal Server Error"}, None
        return real(h, method, path, entry)

    api._answer = answer
    run = run_job(r, redis_server, fx, api)
    assert_committed(run, api, SUMMARY_3_OF_4, 0, result=0.75)
    seen = [(e["method"], e["status"]) for e in api.requests()]
    assert seen == [("GET", 200), ("PATCH", 500), ("GET", 200), ("PATCH", 200)]


def test_row_inserted_after_enqueue_is_found_by_a_later_try(r, redis_server, fx, api):
    # The row appears 0.2 s after the first lookup found nothing (the API may create it late).
    api.rows.clear()
    real = api._answer

    def answer(h, method, path, entry):
        result = real(h, method, path, entry)
        if method == "GET" and not api.requests("GET"):
            api.insert_row_after(0.2, id="r-1")
        return result

    api._answer = answer
    run = run_job(r, redis_server, fx, api, env={"COMMIT_BACKOFF_MS": "400"})
    assert_committed(run, api, SUMMARY_3_OF_4, 0, result=0.75)
    gets = [e["status"] for e in api.requests("GET")]
    assert len(gets) >= 2 and gets[-1] == 200
    assert api.requests("PATCH")[0]["path"] == "/results/r-1"


def test_no_matching_row_fails_after_five_tries(r, redis_server, fx, api):
    # COMMIT_MAX_ATTEMPTS keeps its default of 5.
    run = run_job(r, redis_server, fx, api, job_id="job-without-row")
    assert run.status == "failed"
    assert run.error_line == ("RuntimeError: Committing results to API failed: "
                              "No result found, something went wrong")
    gets = api.requests("GET")
    assert len(gets) == 5 and api.requests("PATCH") == []
    assert all(g["query"]["test_system_id"] == "job-without-row" for g in gets)


def test_wrong_password_fails_after_one_try(r, redis_server, fx, api):
    api.password = "another-password"
    run = run_job(r, redis_server, fx, api)
    assert run.status == "failed"
    assert run.error_line.startswith(
        "RuntimeError: Committing results to API failed: GET /results answered 401 Unauthorized")
    assert len(api.requests()) == 1


def test_api_404_on_update_fails_after_the_configured_tries(r, redis_server, fx, api):
    # result_id names a row the API does not have: PATCH answers 404, which is retried (§3.9).
    params = {"test_job_data": fx.test_job(), "result_id": "r-missing"}
    run = run_job(r, redis_server, fx, api, parameters=params, env={"COMMIT_MAX_ATTEMPTS": "2"})
    assert run.status == "failed"
    assert run.error_line == ("RuntimeError: Committing results to API failed: "
                              "PATCH /results/r-missing answered 404 Not Found: {\"detail\": \"Not found\"}")
    seen = [(e["method"], e["path"], e["status"]) for e in api.requests()]
    assert seen == [("PATCH", "/results/r-missing", 404)] * 2


def test_multiple_rows_fail_at_once(r, redis_server, fx, api):
    api.add_row(id="r-2")
    run = run_job(r, redis_server, fx, api)
    assert run.status == "failed"
    assert run.error_line == ("RuntimeError: Committing results to API failed: "
                              "Found multiple results, database is probably broken.")
    assert len(api.requests()) == 1


def test_test_system_id_and_result_id_parameters(r, redis_server, fx, api):
    api.add_row(id="r-7", test_system_id="flow-7")
    params = {"test_job_data": fx.test_job(), "test_system_id": "flow-7",
              "execution_backend_callable": "ignored.callable"}
    run = run_job(r, redis_server, fx, api, parameters=params)
    assert run.status == "finished", run.output[-3000:]
    assert [e["path"] for e in api.requests()] == ["/results", "/results/r-7"]
    assert api.requests("GET")[0]["query"]["test_system_id"] == "flow-7"
    assert api.row("r-7")["result"] == 0.75 and api.row("r-1")["status"] == 3


# ---- validation and parameters -------------------------------------------------------------


def test_file_url_without_the_flag_is_a_validation_error_and_calls_nothing(r, redis_server, fx, api):
    run = run_job(r, redis_server, fx, api, env={"ALLOW_FILE_GIT_URLS": None})
    assert run.status == "failed"
    assert run.error_line.startswith("ValidationError: 2 validation errors for TestJob: ")
    assert "module.url: Value error, URL must be a valid Git repository URL" in run.error_line
    assert "reference.url: Value error, URL must be a valid Git repository URL" in run.error_line
    assert api.requests() == []
    assert not (fx.rec / "runner-env.txt").exists()


def test_parameter_errors_use_python_texts(r, redis_server, fx, api):
    run = run_job(r, redis_server, fx, api, parameters={"test_jobdata": {}})
    assert run.status == "failed"
    assert run.error_line == ("TypeError: StudentTestExecutionTask.execute() got an unexpected "
                              "keyword argument 'test_jobdata'")
    r.flushall()
    run = run_job(r, redis_server, fx, api, parameters={})
    assert run.error_line == ("TypeError: StudentTestExecutionTask.execute() missing 1 required "
                              "positional argument: 'test_job_data'")
    r.flushall()
    run = run_job(r, redis_server, fx, api,
                  parameters={"test_job_data": fx.test_job(), "result_id": 5})
    assert run.error_line.startswith("TypeError: StudentTestExecutionTask.execute() parameter "
                                     "'result_id' has the wrong type")
    assert api.requests() == []


# ---- cancellation --------------------------------------------------------------------------


def test_job_timeout_kills_the_runner_and_removes_the_job_directory(r, redis_server, fx, api):
    cmd, tokens = runner_and_child(fx)
    run = run_job(r, redis_server, fx, api, job_timeout=6, env={"TEST_RUNNER_COMMAND": cmd})
    assert run.status == "failed"
    assert run.error_line == ("rq.timeouts.JobTimeoutException: Task exceeded maximum timeout "
                              "value (6 seconds)")
    assert (fx.rec / "child.pid").exists()
    for token in tokens:
        wait_until(lambda: live_procs_with(token) == [], timeout=30,
                   what=f"{token} to end after the job timeout")
    # Nothing was committed: the job failed before the commit step.
    assert api.requests() == []


def test_stop_command_kills_the_runner_and_removes_the_job_directory(r, redis_server, fx, api,
                                                                     start_worker):
    from rq.command import send_stop_job_command

    cmd, tokens = runner_and_child(fx)
    enqueue(r, {"test_job_data": fx.test_job()})
    env = worker_env(fx, api, {"TEST_RUNNER_COMMAND": cmd})
    env.pop("RUST_LOG")  # the fixture sets it itself
    start_worker("-q", "high_priority", env=env)
    wait_until(lambda: (fx.rec / "child.pid").exists() and (fx.rec / "child.pid").read_text().strip(),
               timeout=60, what="the runner to start")
    send_stop_job_command(r, "job-1")
    job = Job.fetch("job-1", connection=r)
    wait_until(lambda: job.get_status(refresh=True) == "stopped", timeout=30, what="stopped")
    for token in tokens:
        wait_until(lambda: live_procs_with(token) == [], timeout=30, what=f"{token} to end")
    wait_until(lambda: list(fx.work.iterdir()) == [], timeout=30, what="the job directory removal")
    assert api.requests() == []


def test_job_directory_failure_is_r6(r, redis_server, fx, api):
    # WORK_DIR is a regular file: the job directory cannot be made (Python: FileExistsError).
    blocker = fx.T / "not-a-dir"
    blocker.write_text("")
    run = run_job(r, redis_server, fx, api, env={"WORK_DIR": str(blocker)})
    assert_committed(run, api, {"task_exception": "Test execution failed",
                                "message": "Test execution failed",
                                "exception_type": "FileExistsError"}, 1)
