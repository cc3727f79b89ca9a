"""deploy/monitoring: the Grafana dashboard and the Prometheus alert rules name only series
that a worker really exposes.

A real worker (this repository's binary, ``TASK_WORKER_BIN`` or target/debug/task-worker) runs
against a private redis-server on a free port with ``--metrics-addr``; ``task-worker submit
--wait`` runs a few jobs through it (finished and failed ones, so the per-task series exist);
then every PromQL expression of the dashboard and of the rules is parsed with promql-parser
0.11.0 (pinned in .venv-deploy) and each metric name it selects must be in the scrape. The
rules file is also checked for the shape Prometheus loads (groups, rules, alert/expr/for/labels/
annotations, durations, unique names).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import promql_parser
import pytest
import yaml

from harness import ROOT, WORKER, free_port, wait_until

MONITORING = ROOT / "deploy" / "monitoring"
DASHBOARD = MONITORING / "grafana-dashboard.json"
RULES = MONITORING / "alerts.yaml"
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.read().decode()
    except OSError:
        return None


@pytest.fixture(scope="module")
def scraped_names() -> set[str]:
    """Sample names of a live worker's /metrics after finished and failed jobs."""
    if not WORKER.is_file():
        pytest.fail(f"no worker binary at {WORKER} (cargo build, or set TASK_WORKER_BIN)")
    redis_server = shutil.which("redis-server")
    assert redis_server, "redis-server is needed (scripts/install-deps)"
    tmp = Path(tempfile.mkdtemp(prefix="tw-monitoring-"))
    redis_port, metrics_port = free_port(), free_port()
    url = f"redis://127.0.0.1:{redis_port}"
    redis = subprocess.Popen([redis_server, "--port", str(redis_port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = open(tmp / "worker.log", "w")
    worker = None
    try:
        wait_until(lambda: subprocess.run(["redis-cli", "-p", str(redis_port), "ping"],
                                          capture_output=True, text=True).stdout.strip() == "PONG",
                   timeout=30, what="redis-server")
        worker = subprocess.Popen([str(WORKER), "--redis-url", url, "-q", "default", "-c", "2",
                                   "--metrics-addr", f"127.0.0.1:{metrics_port}"],
                                  stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{metrics_port}"
        wait_until(lambda: fetch(base + "/healthz") is not None, timeout=30, what="the metrics endpoint")
        for args, code in ((["echo", "value=1"], 0), (["sleep", "seconds=0.01"], 0),
                           (["fail", "message=on purpose"], 1)):
            done = subprocess.run([str(WORKER), "submit", *args, "--queue", "default", "--wait",
                                   "--timeout", "30", "--redis-url", url],
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == code, done.stderr
        text = wait_until(lambda: (t := fetch(base + "/metrics")) and "jobs_failed_total" in t and t,
                          timeout=30, what="a scrape with the jobs")
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        redis.terminate()
        redis.wait(10)
        log.close()
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    assert "task_worker_jobs_finished_total" in names, text
    return names


# The child expressions of each promql_parser node type (NumberLiteral, StringLiteral: none).
CHILDREN = {
    "AggregateExpr": ("expr", "param"),
    "BinaryExpr": ("lhs", "rhs"),
    "ParenExpr": ("expr",),
    "SubqueryExpr": ("expr",),
    "UnaryExpr": ("expr",),
    "MatrixSelector": ("vector_selector",),
    "Call": ("args",),
}


def selected_metrics(node, out: set[str]) -> set[str]:
    """Metric names of every vector selector in a promql_parser AST."""
    kind = type(node).__name__
    if kind == "VectorSelector":
        if node.name:
            out.add(node.name)
        else:  # {__name__="x"}
            out.update(re.findall(r'__name__\s*=\s*"([^"]+)"', str(node.matchers)))
        return out
    for attr in CHILDREN.get(kind, ()):
        value = getattr(node, attr, None)
        for child in value if isinstance(value, list) else [value]:
            if child is not None:
                selected_metrics(child, out)
    return out


def names_in(expr: str) -> set[str]:
    return selected_metrics(promql_parser.parse(expr), set())


def dashboard_expressions() -> list[tuple[str, str]]:
    doc = json.loads(DASHBOARD.read_text())
    exprs = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                exprs.append((p["title"], t["expr"].replace("$queue", ".*")))
            walk(p.get("panels", []))

    walk(doc["panels"])
    return exprs


def rule_expressions() -> list[tuple[str, str]]:
    doc = yaml.safe_load(RULES.read_text())
    return [(r.get("alert") or r.get("record"), r["expr"]) for g in doc["groups"] for r in g["rules"]]


def test_the_selector_walk_finds_every_name():
    expr = ('sum by (q) (rate(a_total{x="1"}[5m])) / on (q) (b + histogram_quantile(0.9, '
            'sum by (le) (rate(c_bucket[5m])))) unless absent(d{q="x"}) or max_over_time(e[1h] offset 5m)'
            ' or {__name__="f"}')
    assert names_in(expr) == {"a_total", "b", "c_bucket", "d", "e", "f"}


def test_dashboard_shows_what_the_issue_asks():
    titles = " ".join(t.lower() for t, _ in dashboard_expressions())
    for topic in ("queue depth", "running", "throughput", "failure rate", "duration", "workers",
                  "redis", "postgresql", "history buffer"):
        assert topic in titles, f"no dashboard panel about {topic}"
    assert any("histogram_quantile" in e and "by (task, le)" in e for _, e in dashboard_expressions())


def test_dashboard_names_only_exposed_series(scraped_names):
    exprs = dashboard_expressions()
    assert len(exprs) >= 10
    for title, expr in exprs:
        names = names_in(expr)
        assert names, f"{title}: no metric in {expr!r}"
        missing = names - scraped_names
        assert not missing, f"{title}: {sorted(missing)} not exposed by /metrics"


def test_rules_name_only_exposed_series(scraped_names):
    exprs = rule_expressions()
    for name, expr in exprs:
        names = names_in(expr)
        assert names, f"{name}: no metric in {expr!r}"
        missing = names - scraped_names
        assert not missing, f"{name}: {sorted(missing)} not exposed by /metrics"


def test_rules_file_has_the_prometheus_shape():
    doc = yaml.safe_load(RULES.read_text())
    assert set(doc) == {"groups"}, set(doc)
    group_names = [g["name"] for g in doc["groups"]]
    assert len(group_names) == len(set(group_names)), "group names must be unique"
    alerts = []
    for group in doc["groups"]:
        assert set(group) <= {"name", "interval", "limit", "rules", "labels"}, set(group)
        assert group["rules"], f"group {group['name']} has no rules"
        for rule in group["rules"]:
            assert ("alert" in rule) != ("record" in rule), rule
            allowed = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"} \
                if "alert" in rule else {"record", "expr", "labels"}
            assert set(rule) <= allowed, f"{rule}: unknown keys {set(rule) - allowed}"
            assert isinstance(rule["expr"], str) and rule["expr"].strip()
            promql_parser.parse(rule["expr"])  # raises on a syntax error
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    assert DURATION.match(str(rule[key])), f"{rule.get('alert')}: bad {key}"
            for key in ("labels", "annotations"):
                for k, v in (rule.get(key) or {}).items():
                    assert re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", k) and isinstance(v, str), (k, v)
            if "alert" in rule:
                alerts.append(rule["alert"])
                assert rule.get("labels", {}).get("severity") in ("warning", "critical")
                assert rule.get("annotations", {}).get("summary")
    assert len(alerts) == len(set(alerts)), "alert names must be unique"
    text = " ".join(alerts).lower()
    for topic in ("worker", "backlog", "failure", "abandoned", "history"):
        assert topic in text, f"no alert about {topic}"
