"""Nothing a job hands back can hurt the worker (issue 26), and sane scores (issue 25, point 4).

`student_test_execution` with hostile runners: reports far over the size limit or full of tiny
values (the worker's peak memory stays bounded, four at once), reports carrying control and
bidi characters and a forged `task_exception`, insane counts, every test skipped, and runner
output posing as the worker's own log lines. After each, an honest job gets the right grade.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from rq.job import Job

from harness import WORKER, wait_until
from harness.api_double import ApiDouble
from test_hostile import peak_rss_kib
from test_student_testing import (API_PASSWORD, API_USER, R5, SUMMARY_3_OF_4, Fixture,
                                  assert_committed, enqueue, run_job, worker_env)

# The worker's own feature through RQ's ordinary enqueue and read-back, the same with every RQ
# version: run once, with RQ 3.0 (tests/interop/conftest.py deselects it under RQ 2.x).
pytestmark = pytest.mark.rq_version_independent

MIB = 1024 * 1024
ALL_SKIPPED = {"task_exception": "Testing environment failed",
               "message": "Testing environment failed: every test was skipped"}


def r5(why):
    return {"task_exception": R5["task_exception"], "message": f"{R5['message']}: {why}"}


@pytest.fixture
def fx(tmp_path):
    return Fixture(tmp_path)


@pytest.fixture
def api():
    double = ApiDouble(user=API_USER, password=API_PASSWORD)
    double.add_row()
    yield double
    double.close()


def report_runner(fx, report, name="report.json") -> str:
    """A runner that copies a prepared report (written here, readable in the sandbox)."""
    path = fx.bin / name
    if isinstance(report, (bytes, str)):
        path.write_bytes(report if isinstance(report, bytes) else report.encode())
    else:
        path.write_text(json.dumps(report))
    return fx.runner(f'cp {path} "$CTUTOR_OUTPUT_DIR/testSummary.json"\n', name=f"{name}.sh")


def honest_job_is_right(r, redis_server, fx, job_id="job-honest"):
    """The honest §6 job right after a hostile one: graded 0.75, exactly as the spec says."""
    api = ApiDouble(user=API_USER, password=API_PASSWORD)
    try:
        api.add_row()
        run = run_job(r, redis_server, fx, api, job_id=job_id,
                      parameters={"test_job_data": fx.test_job(), "result_id": "r-1"})
        assert_committed(run, api, SUMMARY_3_OF_4, 0, result=0.75)
    finally:
        api.close()


# ---- size and memory -----------------------------------------------------------------------


def zeros_report(path: Path, n=16_000_000):
    """A JSON array of n zeros (16 million: 31 MiB)."""
    with open(path, "wb") as f:
        f.write(b"[")
        chunk = b"0," * 1_000_000
        for _ in range(n // 1_000_000):
            f.write(chunk)
        f.write(b"0]")


def empty_objects_report(path: Path, size=40 * MIB):
    """`{"tests": [{}, {}, ...]}`, 40 MiB."""
    with open(path, "wb") as f:
        f.write(b'{"tests":[')
        chunk = b"{}," * 1_000_000
        for _ in range(size // len(chunk)):
            f.write(chunk)
        f.write(b"{}]}")


def largest_accepted_report(n=4_900):
    """Just under 4 MiB and 20,000 values: what the worker reads, keeps and sends on."""
    tests = [{"name": f"test-{i:06d}", "result": "FAILED",
              "resultMessage": "expected 42 but the submission returned something else " * 14}
             for i in range(n)]
    return {"type": "python", "summary": {"total": n, "passed": n // 2, "failed": n - n // 2,
                                          "skipped": 0}, "tests": tests}


@pytest.mark.parametrize("max_mb,refused", [
    (None, "the report is larger than the 4 MiB limit"),
    ("64", "the report has more than 20000 JSON values"),
], ids=["default-limit", "largest-limit"])
def test_huge_reports_are_r5_and_memory_stays_bounded(r, redis_server, fx, api, max_mb, refused):
    """Four jobs at once (-c 4): a 31 MiB array of 16 million zeros, a 40 MiB report of `{}`
    objects, and two of the largest reports the worker accepts. The huge ones end R5 naming
    the limit (the size, or with the largest size limit, the value budget: the parse stops
    early); the worker's peak memory stays within the documented bound."""
    zeros_report(fx.bin / "zeros.json")
    empty_objects_report(fx.bin / "objects.json")
    big = largest_accepted_report()
    text = json.dumps(big)
    assert 3.5 * MIB < len(text) < 4 * MIB
    (fx.bin / "big.json").write_text(text)
    # Each job takes the next slot (mkdir is atomic) and copies that slot's report.
    cmd = fx.runner(
        f"for i in 1 2 3 4; do mkdir {fx.rec}/slot$i 2>/dev/null && break; done\n"
        f"case $i in 1) f=zeros.json;; 2) f=objects.json;; *) f=big.json;; esac\n"
        f'cp {fx.bin}/$f "$CTUTOR_OUTPUT_DIR/testSummary.json"\n'
        f"echo $f > {fx.rec}/slot$i/report\n", name="big.sh")
    env = worker_env(fx, api, {"TEST_RUNNER_COMMAND": cmd, "TEST_REPORT_MAX_MB": max_mb})
    ids = [f"job-big-{i}" for i in range(4)]
    for job_id in ids:
        enqueue(r, {"test_job_data": fx.test_job(), "result_id": "r-1"}, job_id)
    log = fx.T / "worker.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(WORKER), "--redis-url", redis_server.url, "-c", "4",
                                 "-q", "high_priority"], stdout=out, stderr=subprocess.STDOUT,
                                env=env)
    try:
        jobs = [Job(job_id, connection=r) for job_id in ids]
        wait_until(lambda: all(j.get_status(refresh=True) in ("finished", "failed")
                               for j in jobs) or proc.poll() is not None,
                   timeout=150, what="the four jobs ended")
        assert proc.poll() is None, log.read_text()[-3000:]
        peak = peak_rss_kib(proc.pid)
        print(f"MEMORY worker VmHWM with four big reports at once ({max_mb or 4} MiB limit):"
              f" {peak} KiB")
        results = [j.return_value()["execution_result"] for j in jobs]
        assert sum(er["result_json"] == r5(refused) for er in results) == 2, results
        graded = [er for er in results if er["status"] == 0]
        assert len(graded) == 2
        for er in graded:
            assert er["result"] == 0.5
            tests = er["result_json"]["tests"]
            assert len(tests) == 4_900
            # 256 Ki characters of text in all are kept; later strings are cut.
            assert tests[0] == big["tests"][0] and tests[-1]["resultMessage"] == "…"
        # The bound documented in docs/security.md ("What a job hands back").
        assert peak < 128 * 1024, f"worker peak RSS {peak} KiB"
    finally:
        proc.terminate()
        proc.wait(30)
    assert list(fx.work.iterdir()) == []
    honest_job_is_right(r, redis_server, fx)


def test_report_just_over_a_smaller_limit_is_r5(r, redis_server, fx, api):
    report = {"summary": {"total": 1, "passed": 1}, "details": "x" * (2 * MIB)}
    cmd = report_runner(fx, report)
    run = run_job(r, redis_server, fx, api,
                  env={"TEST_RUNNER_COMMAND": cmd, "TEST_REPORT_MAX_MB": "1"})
    assert_committed(run, api, r5("the report is larger than the 1 MiB limit"), 1)
    honest_job_is_right(r, redis_server, fx)


def test_a_report_of_too_many_values_is_r5(r, redis_server, fx, api):
    cmd = report_runner(fx, "[" + "0," * 1_000_000 + "0]")
    run = run_job(r, redis_server, fx, api, env={"TEST_RUNNER_COMMAND": cmd})
    assert_committed(run, api, r5("the report has more than 20000 JSON values"), 1)
    honest_job_is_right(r, redis_server, fx)


# ---- what reaches the API, Redis and the history -----------------------------------------


def test_report_strings_are_clean_and_reserved_keys_do_not_pass(r, redis_server, fx, api):
    report = {
        "task_exception": "forged", "message": "forged", "exception_type": "forged",
        "summary": {"total": 4, "passed": 4, "failed": 0, "skipped": 0, "bonus": 100},
        "name": "ok\x1b[2J\x1b]0;pwned\x07\u202eexe.txt\u2066\r\nnext\tline\x00\x7f\x85",
        "resultMessage": "y" * 20_000,
        "environment": {"k\x1b": "v\u202d"},
        "tests": [{"name": "t1", "result": "PASSED", "task_exception": "forged",
                   "statusMessage": "\x1b[31mred\x1b[0m"}],
        "unknownKey": {"a": 1},
    }
    run = run_job(r, redis_server, fx, api, env={"TEST_RUNNER_COMMAND": report_runner(fx, report)})
    expected = {
        "summary": {"total": 4, "passed": 4, "failed": 0, "skipped": 0},
        "name": "ok[2J]0;pwnedexe.txt\nnext\tline",
        "resultMessage": "y" * 16384 + "…",
        "environment": {"k": "v"},
        "tests": [{"name": "t1", "result": "PASSED", "statusMessage": "[31mred[0m"}],
    }
    assert_committed(run, api, expected, 0, result=1.0)
    # The same clean value reached Redis (the job's result).
    assert "task_exception" not in json.dumps(run.value)
    honest_job_is_right(r, redis_server, fx)


@pytest.mark.parametrize("summary,why", [
    ({"total": 1, "passed": 1000}, "summary: passed + failed + skipped is more than total"),
    ({"total": 4, "passed": -7}, "summary.passed is not a non-negative integer"),
    ({"total": 1e300, "passed": 1e300}, "summary.total is not a non-negative integer"),
    ({"total": 4, "passed": 2, "failed": 2, "skipped": 1},
     "summary: passed + failed + skipped is more than total"),
], ids=["1000", "negative", "1e300", "sum-over-total"])
def test_insane_scores_are_r5(r, redis_server, fx, api, summary, why):
    cmd = report_runner(fx, {"summary": summary})
    run = run_job(r, redis_server, fx, api, env={"TEST_RUNNER_COMMAND": cmd})
    assert_committed(run, api, r5(why), 1)
    honest_job_is_right(r, redis_server, fx)


@pytest.mark.parametrize("summary", [
    {"total": 7, "passed": 0, "failed": 0, "skipped": 7},
    {"total": 7, "passed": 0, "failed": 0},
], ids=["skipped-equals-total", "none-ran"])
def test_every_test_skipped_is_no_grade(r, redis_server, fx, api, summary):
    cmd = fx.runner(
        "echo 'ModuleNotFoundError: matplotlib needs a writable temporary directory' >&2\n"
        "printf '\\033[31mcolour\\033[0m\\n' >&2\n"
        f"printf '%s' '{json.dumps({'summary': summary})}' > \"$CTUTOR_OUTPUT_DIR/testSummary.json\"\n")
    run = run_job(r, redis_server, fx, api, env={"TEST_RUNNER_COMMAND": cmd})
    assert_committed(run, api, ALL_SKIPPED, 1)
    warn = [line for line in run.output.splitlines() if "every test was skipped" in line]
    assert len(warn) == 1, run.output[-3000:]
    assert "WARN" in warn[0] and "job-1" in warn[0]
    assert "ModuleNotFoundError: matplotlib" in warn[0]
    assert "\x1b" not in run.output and "\\u{1b}[31mcolour" in warn[0]
    honest_job_is_right(r, redis_server, fx)


# ---- the log -------------------------------------------------------------------------------

FORGED = "2026-12-07T10:00:00.000000Z  INFO job{job_id=job-VICTIM queue=high_priority}: submission graded result=1.0"


def test_runner_output_cannot_forge_log_lines(r, redis_server, fx, api):
    body = (f"printf '\\n{FORGED}\\n'\n"
            f"printf '\\033[2J\\033[31mred\\033[0m\\r{FORGED}\\n' >&2\n"
            f"printf '%s' '{json.dumps(SUMMARY_3_OF_4)}' > \"$CTUTOR_OUTPUT_DIR/testSummary.json\"\n")
    cmd = fx.runner(body)
    # At INFO (the default) the runner's output is not logged at all.
    run = run_job(r, redis_server, fx, api, env={"TEST_RUNNER_COMMAND": cmd})
    assert_committed(run, api, SUMMARY_3_OF_4, 0, result=0.75)
    assert "VICTIM" not in run.output and "\x1b" not in run.output, run.output[-3000:]
    # At DEBUG each line of it is one escaped field of a line of this job.
    api2 = ApiDouble(user=API_USER, password=API_PASSWORD)
    try:
        api2.add_row()
        run = run_job(r, redis_server, fx, api2, job_id="job-2",
                      env={"TEST_RUNNER_COMMAND": cmd, "RUST_LOG": "debug"})
    finally:
        api2.close()
    lines = run.output.splitlines()
    assert "\x1b" not in run.output and "\r" not in run.output
    for line in lines:
        assert not re.match(r"^\S+\s+INFO job\{job_id=job-VICTIM", line), line
    mentions = [line for line in lines if "VICTIM" in line]
    assert len(mentions) == 2, mentions
    for line in mentions:
        assert " DEBUG " in line and "job_id=job-2" in line and "runner output" in line, line
    assert any("line=\\u{1b}[2J\\u{1b}[31mred\\u{1b}[0m\\r2026" in m for m in mentions), mentions
    # Every line about the job carries its id.
    for needle in ("test files copied", "scratch directory removed", "test runner finished"):
        found = [line for line in lines if needle in line]
        assert found and all("job-2" in line for line in found), (needle, found)
    honest_job_is_right(r, redis_server, fx)
