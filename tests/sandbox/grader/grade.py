"""A small grader for the sandbox tests that behaves like the course platform's
(computor-test), as far as the sandbox can tell:

* it reads the job as every grader does: `$CTUTOR_TEST_FILE` (the reference's `test.yaml`;
  here JSON, which is YAML too), `$CTUTOR_STUDENT_DIR`, `$CTUTOR_REFERENCE_DIR`,
  `$CTUTOR_OUTPUT_DIR`;
* for every test it writes a wrapper script and a result file with `tempfile.mkstemp` (so in
  its own `TMPDIR`), and runs `[PYTHON_TEST_EXECUTABLE or sys.executable, wrapper]` with an
  environment it builds itself (`HOME=/tmp`, `PATH`, no `TMPDIR`, `PYTHONPATH` = the working
  directory): first in the student's directory, then with the reference directory as
  working directory;
* the wrapper runs the script in a fresh namespace and dumps the requested variables as JSON
  into the result file;
* it compares the two and writes `testSummary.json`; a test whose reference run failed is
  *skipped*, as computor-test does; a failed test reports the student's value (the channel
  through which a real report shows what a submission computed).

test.yaml: {"entry": "solution.py", "tests": [{"name": "...", "variables": ["A", ...]}, ...]}
"""
import json
import os
import subprocess
import sys
import tempfile

WRAPPER = '''\
import json, os, sys, traceback
os.chdir({workdir!r})
sys.path.insert(0, {workdir!r})
result = {{"status": "COMPLETED", "errors": [], "variables": {{}}}}
namespace = {{"__file__": {script!r}, "__name__": "__main__"}}
try:
    with open({script!r}) as f:
        code = f.read()
    exec(compile(code, {script!r}, "exec"), namespace)
except BaseException as e:
    result["status"] = "FAILED"
    result["errors"].append(type(e).__name__ + ": " + str(e))
    result["traceback"] = traceback.format_exc()[-2000:]
for name in {variables!r}:
    if name in namespace:
        value = namespace[name]
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            value = repr(value)
        result["variables"][name] = value
with open({result!r}, "w") as f:
    json.dump(result, f)
'''


def child_env(workdir):
    """What computor-test gives its children: a fixed, minimal environment."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": workdir,
    }
    if "PYTHON_TEST_EXECUTABLE" in os.environ:
        env["PYTHON_TEST_EXECUTABLE"] = os.environ["PYTHON_TEST_EXECUTABLE"]
    return env


def execute(workdir, script, variables):
    """Runs `script` in `workdir` through a wrapper; returns the wrapper's result."""
    fd, result = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    fd, wrapper = tempfile.mkstemp(suffix=".py")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(WRAPPER.format(workdir=workdir, script=os.path.join(workdir, script),
                                   variables=list(variables), result=result))
        python = os.environ.get("PYTHON_TEST_EXECUTABLE") or sys.executable
        try:
            proc = subprocess.run([python, wrapper], cwd=workdir, env=child_env(workdir),
                                  capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return {"status": "TIMEOUT", "errors": ["timed out"], "variables": {}}
        try:
            with open(result) as f:
                data = json.load(f)
        except (OSError, ValueError):
            data = {"status": "FAILED", "errors": ["no result"], "variables": {}}
        data["exit"] = proc.returncode
        data["stderr"] = proc.stderr[-2000:]
        return data
    finally:
        for p in (wrapper, result):
            try:
                os.unlink(p)
            except OSError:
                pass


def main():
    with open(os.environ["CTUTOR_TEST_FILE"]) as f:
        spec = json.load(f)
    student = os.environ["CTUTOR_STUDENT_DIR"]
    reference = os.environ["CTUTOR_REFERENCE_DIR"]
    entry = spec.get("entry", "solution.py")
    report = {"summary": {"total": 0, "passed": 0, "failed": 0, "skipped": 0}, "tests": []}
    for test in spec["tests"]:
        variables = test["variables"]
        got = execute(student, entry, variables)
        want = execute(reference, entry, variables)
        entry_report = {"name": test["name"]}
        if want["status"] != "COMPLETED" or any(v not in want["variables"] for v in variables):
            entry_report["result"] = "skipped"
            entry_report["properties"] = {"reference_error": [want.get("errors"), want.get("stderr", "")[-500:]]}
        elif got["status"] == "COMPLETED" and all(
                got["variables"].get(v, object()) == want["variables"][v] for v in variables):
            entry_report["result"] = "passed"
        else:
            entry_report["result"] = "failed"
            entry_report["properties"] = {
                "student": {v: got["variables"].get(v) for v in variables},
                "student_error": [got.get("errors"), got.get("stderr", "")[-500:]],
            }
        report["summary"]["total"] += 1
        report["summary"][entry_report["result"]] += 1
        report["tests"].append(entry_report)
    with open(os.path.join(os.environ["CTUTOR_OUTPUT_DIR"], "testSummary.json"), "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
