"""Whether a usable Docker Engine is here, for the suites that need one (tests/e2e, tests/ha):
without it their tests are skipped with one reason, said again in the summary."""
from __future__ import annotations

import subprocess

import pytest


def docker_ok() -> bool:
    """`docker info` answers within 30 s."""
    try:
        return subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def skip_all(items, reason: str) -> None:
    """Marks every collected test skipped (a conftest's `pytest_collection_modifyitems`)."""
    for item in items:
        item.add_marker(pytest.mark.skip(reason=reason))
