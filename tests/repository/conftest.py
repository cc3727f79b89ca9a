"""Repository suite: checks that do not involve RQ, run once (`scripts/test repository`, with
.venv-rq3's Python for pytest, pyyaml and the Redis client): the documents' links and tables,
the crates' structure (test_repository.py), scripts/run-local, and the container files checked
offline with hadolint and `docker compose config` from .venv-deploy (test_containers.py)."""
from harness.fixtures import redis_server  # noqa: F401
