"""Sandbox suite: the student-test sandbox attacked. Run once (`scripts/test sandbox`, with
.venv-rq3): what is tested is the sandbox, not RQ's wire format. Its own fixtures (a
password-protected Redis, the worker as an unprivileged uid) live in test_sandbox.py and use
the shared harness (tests/harness)."""
