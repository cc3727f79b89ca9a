"""Container e2e suite (issue 14): real Docker Engine, the repository's compose files, the images
of scripts/docker-images, real Python RQ 3.0 enqueuing from the host.

Run it with `scripts/e2e-docker` (= `scripts/test e2e`: builds the images, finds a Compose v2
CLI). Each stack is its own compose project with a generated test .env (values like
.env.example, random secrets, free ports); Redis is published on 127.0.0.1 only (the dev file
does it; for prod an override file does). Every stack is torn down with
`down -v --remove-orphans` however the test ends. The helpers are in stacks.py.
"""
from __future__ import annotations

import pytest

from harness.docker import docker_ok, skip_all

from stacks import Stack


DOCKER_OK = docker_ok()
SKIP_REASON = "`docker info` failed: no usable Docker Engine, the container e2e tests did not run"


def pytest_collection_modifyitems(config, items):
    if not DOCKER_OK:
        skip_all(items, SKIP_REASON)


def pytest_terminal_summary(terminalreporter):
    if not DOCKER_OK:
        terminalreporter.write_line(f"E2E SKIPPED: {SKIP_REASON}")


@pytest.fixture(scope="module")
def make_stack():
    """make_stack(which, **env overrides) -> Stack (not started); torn down at module end."""
    stacks: list[Stack] = []

    def make(which: str, **overrides) -> Stack:
        s = Stack(which, {k: str(v) for k, v in overrides.items()})
        stacks.append(s)
        return s

    yield make
    for s in stacks:
        s.down()
