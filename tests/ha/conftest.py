"""tests/ha: Sentinel failovers across containers (issue 29). Run with `scripts/ha-docker`
(= `scripts/test ha`), which builds the images and prints the per-scenario table; the cluster
helpers are in ha_cluster.py, the accounting in ha_account.py."""
from __future__ import annotations

from harness.docker import docker_ok, skip_all


DOCKER_OK = docker_ok()
SKIP_REASON = "`docker info` failed: no usable Docker Engine, the HA tests did not run"


def pytest_collection_modifyitems(config, items):
    if not DOCKER_OK:
        skip_all(items, SKIP_REASON)
