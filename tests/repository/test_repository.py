"""The repository stands on its own: every relative link in README.md and docs/*.md resolves
to a file (and heading) inside it, and scripts/run-local stops the redis-server it started."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
WORKER = Path(os.environ.get("TASK_WORKER_BIN", REPO / "target" / "debug" / "task-worker"))
# [text](target) and [text]: target, outside code spans and fenced blocks.
INLINE_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
REF_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(md: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    out = set()
    for line in prose(md.read_text()).splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(slug)
    # Headings with inline code lose the code in prose(); take them from the raw text too.
    for line in md.read_text().splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*$", line)
        if m:
            out.add(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
    return out


def links(md: Path) -> list[str]:
    text = prose(md.read_text())
    return INLINE_LINK.findall(text) + REF_LINK.findall(text)


@pytest.mark.parametrize("md", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves_inside_the_repository(md):
    checked = 0
    for target in links(md):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        dest = (md.parent / path).resolve() if path else md
        assert dest.is_relative_to(REPO), f"{md.name}: {target} points outside the repository"
        assert dest.exists(), f"{md.name}: {target} does not exist"
        if fragment and dest.suffix == ".md":
            assert fragment in anchors(dest), f"{md.name}: no heading #{fragment} in {dest.name}"
        checked += 1
    if md.name == "README.md":
        assert checked >= 5, "README.md should link to its docs"


def test_no_document_needs_files_outside_the_repository():
    for md in DOCS:
        assert "../shared" not in md.read_text(), f"{md.name} refers to ../shared"


def split_tables(text: str) -> list[str]:
    """Table rows that follow a blank line without being a table's header (a table that a
    blank line cut in two: Markdown renders the second part as plain text)."""
    lines = prose(text).splitlines()
    bad = []
    for i, line in enumerate(lines):
        starts_block = line.startswith("|") and i > 0 and not lines[i - 1].strip()
        header = i + 1 < len(lines) and re.match(r"^\|[\s:|-]+\|\s*$", lines[i + 1])
        if starts_block and not header:
            bad.append(line)
    return bad


@pytest.mark.parametrize("md", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_table_is_split_by_a_blank_line(md):
    assert not split_tables(md.read_text()), f"{md.name}: rows cut off their table"


def test_the_table_check_sees_a_split_table():
    text = "| a | b |\n|---|---|\n| 1 | 2 |\n\n| 3 | 4 |\n"
    assert split_tables(text) == ["| 3 | 4 |"]


def test_the_link_check_sees_a_broken_link(tmp_path):
    (tmp_path / "a.md").write_text("see [b](b.md), [c](docs/c.md#x) and `[d](d.md)`\n")
    assert links(tmp_path / "a.md") == ["b.md", "docs/c.md#x"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_run_local_stops_the_redis_it_started(tmp_path):
    port = free_port()
    env = dict(os.environ, REDIS_PORT=str(port), TASK_WORKER_BIN=str(WORKER))
    proc = subprocess.run([str(REPO / "scripts" / "run-local"), "--burst", "-q", "run-local-test"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("starting redis-server") == 1, proc.stdout
    assert proc.stdout.count("stopped the redis-server") == 1, proc.stdout
    assert not listening(port), "the redis-server started by run-local is still running"


def test_run_local_leaves_a_running_redis_alone(redis_server):
    port = int(redis_server.url.rsplit(":", 1)[1].split("/")[0])
    env = dict(os.environ, REDIS_PORT=str(port), TASK_WORKER_BIN=str(WORKER))
    proc = subprocess.run([str(REPO / "scripts" / "run-local"), "--burst", "-q", "run-local-test"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "redis-server" not in proc.stdout, proc.stdout
    assert listening(port)


# ---- The module import graph of src/ has no cycle (the structure reads top-down).

def module_graph(src: Path, depth: int) -> dict[str, set[str]]:
    """Edges between modules cut at `depth` path segments (1: `engine`, 2: `engine::dispatch`),
    from every `crate::a::b` path outside comments and tests (`#[cfg(test)] mod tests`, inline
    or as `tests.rs`). A module's own submodules do not count as its dependencies."""
    files = {}
    for path in src.rglob("*.rs"):
        parts = list(path.relative_to(src).with_suffix("").parts)
        # Test-only files (`#[cfg(test)] mod tests;` and its helpers) are not the structure.
        if parts[-1] in ("tests", "test_support") or "tests" in parts[:-1]:
            continue
        if parts[-1] == "mod":
            parts = parts[:-1]
        if parts in (["lib"], ["main"]):
            continue
        files["::".join(parts)] = path
    names = set(files)
    # `pub use a::b::Name;` in lib.rs: `crate::Name` is a path into `a::b`.
    reexports = {}
    lib = src / "lib.rs"
    if lib.exists():
        for path in expand_use_groups(lib.read_text(), prefix="pub use "):
            reexports[path.split("::")[-1]] = path
    edges: dict[str, set[str]] = {}
    for name, path in files.items():
        text = path.read_text()
        text = text.split("#[cfg(test)]\nmod tests")[0]
        text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("//"))
        here = "::".join(name.split("::")[:depth])
        refs = re.findall(r"\bcrate((?:::[A-Za-z_][A-Za-z0-9_]*)+)", text)
        refs += ["::" + p for p in expand_use_groups(text, prefix="crate::")]
        for ref in refs:
            segs = ref.strip(":").split("::")
            if segs[0] in reexports:
                segs = reexports[segs[0]].split("::") + segs[1:]
            target = next(("::".join(segs[:k]) for k in range(len(segs), 0, -1)
                           if "::".join(segs[:k]) in names), None)
            if target is None:
                continue
            target = "::".join(target.split("::")[:depth])
            if target != here and not here.startswith(target + "::") \
                    and not target.startswith(here + "::"):
                edges.setdefault(here, set()).add(target)
    return edges


def expand_use_groups(text: str, prefix: str) -> list[str]:
    """The paths of every `<prefix>a::{b, c::{d, E}}` group in `text`, without the prefix:
    `a::b`, `a::c::d`, `a::c::E` (a path without a group, `<prefix>a::b`, is returned too)."""
    out = []
    for m in re.finditer(re.escape(prefix) + r"([A-Za-z0-9_:]*)(\{)?", text):
        if not m.group(2):
            out.append(m.group(1))
            continue
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        out += expand_tree(text[m.start(1):i])
    return [p.strip(":") for p in out if p.strip(":")]


def expand_tree(tree: str) -> list[str]:
    """`a::{b, c::{d, E as F}, self}` -> `a::b`, `a::c::d`, `a::c::E`, `a`."""
    tree = tree.strip()
    if "{" not in tree:
        path = tree.split(" as ")[0].strip()
        return [path[:-len("::self")] if path.endswith("::self") else path]
    base, inner = tree.split("{", 1)
    inner = inner.rsplit("}", 1)[0]
    parts, level, cur = [], 0, ""
    for ch in inner:
        if ch == "," and level == 0:
            parts.append(cur)
            cur = ""
            continue
        level += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    parts.append(cur)
    out = []
    for part in (p.strip() for p in parts):
        if part == "self":
            out.append(base)
        elif part:
            out += expand_tree(base + part)
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


# The crates of the workspace, top-down: each one's sources, and the crates it may use.
CRATES = {
    "task-worker": REPO / "src",
    "rq-worker": REPO / "crates" / "rq-worker" / "src",
    "rq-protocol": REPO / "crates" / "rq-protocol" / "src",
}


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("crate", sorted(CRATES))
def test_no_crate_has_an_import_cycle(crate, depth):
    edges = module_graph(CRATES[crate], depth)
    assert len(edges) > 3, "the graph was read"
    assert cycles(edges) == []


def test_the_cycle_check_sees_a_cycle(tmp_path):
    (tmp_path / "a.rs").write_text("use crate::b::X;\n")
    (tmp_path / "b.rs").write_text("fn f() { crate::a::g() }\n")
    (tmp_path / "c.rs").write_text("use crate::a::Y; // crate::b in a comment\n")
    edges = module_graph(tmp_path, 1)
    assert cycles(edges) == [["a", "b"]]
    # Through a use group and a re-export at the crate root.
    (tmp_path / "lib.rs").write_text("pub use d::Thing;\n")
    (tmp_path / "c.rs").write_text("use crate::{a, Thing};\n")
    (tmp_path / "d.rs").write_text("use crate::{e::{self, F}};\n")
    (tmp_path / "e.rs").write_text("fn f() -> crate::c::G { todo!() }\n")
    assert expand_use_groups("use crate::{a::{b, c::{d, E}}, f as g};", "crate::") == ["a::b", "a::c::d", "a::c::E", "f"]
    assert sorted(map(sorted, cycles(module_graph(tmp_path, 1)))) == [["a", "b"], ["c", "d", "e"]]


# A job's path through the worker, as the engine runs it: take and start (dispatch), run
# (executor), end (writer). Issue 15: it touches at most five modules.
JOB_PATH = ["engine::dispatch", "engine::executor", "engine::writer"]


def job_path_modules(src: Path) -> tuple[set[str], set[str]]:
    """Top-level modules the job path's files use: (layers, leaves). A leaf imports nothing of
    the crate (a value type or a helper such as `backoff`), so following the job never leads
    through it to anything else."""
    by_file = module_graph(src, 2)
    top = module_graph(src, 1)
    used = {t.split("::")[0] for f in JOB_PATH for t in by_file.get(f, ())} | {"engine"}
    leaves = {m for m in used if not top.get(m)}
    return used - leaves, leaves


def test_a_jobs_path_touches_at_most_five_modules():
    layers, leaves = job_path_modules(CRATES["rq-worker"])
    # The engine runs it over its Redis connection (which follows a Sentinel failover), the task
    # layer runs the handler in its layers, and observers hear of it; every Redis write is built
    # by the rq-protocol crate. No sink (metrics, history), no CLI: those are the application's.
    assert layers == {"engine", "connection", "tasks", "events"}, (layers, leaves)
    assert not (layers | leaves) & {"metrics", "history", "telemetry", "cli"}
    assert len(layers) <= 5
    # The task layer knows nothing of the engine or of the observers.
    top = module_graph(CRATES["rq-worker"], 1)
    assert not top["tasks"] & {"engine", "events"}, top["tasks"]


def test_the_job_path_check_sees_a_sink(tmp_path):
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "dispatch.rs").write_text("use crate::rq::take;\n")
    (tmp_path / "engine" / "executor.rs").write_text("fn f() { crate::metrics::count() }\n")
    (tmp_path / "engine" / "writer.rs").write_text("use crate::backoff::Backoff;\n")
    (tmp_path / "rq.rs").write_text("use crate::value::Value;\n")
    (tmp_path / "metrics.rs").write_text("use crate::value::Value;\n")
    (tmp_path / "value.rs").write_text("\n")
    (tmp_path / "backoff.rs").write_text("\n")
    assert job_path_modules(tmp_path) == ({"engine", "rq", "metrics"}, {"backoff"})


# ---- The layers are crates; cargo enforces that the arrows point down. What each crate may
# depend on is checked here, so that the library does not grow the application's dependencies.

def dependencies(crate: str) -> set[str]:
    """The normal (not dev-) dependencies in a crate's Cargo.toml."""
    toml = (CRATES[crate].parent / "Cargo.toml").read_text()
    section = re.search(r"^\[dependencies\]\n(.*?)(?=^\[|\Z)", toml, re.S | re.M).group(1)
    return set(re.findall(r"^([A-Za-z0-9_-]+)\s*=", section, re.M))


# What only the course application (the binary) may use: the database, the sandbox, HTTP
# client and servers, the command line, metrics and traces.
APPLICATION_ONLY = {"sqlx", "landlock", "seccompiler", "reqwest", "clap", "hyper", "hyper-util",
                    "prometheus-client", "opentelemetry", "opentelemetry_sdk",
                    "opentelemetry-otlp", "tracing-subscriber", "yaml-rust2", "mimalloc"}


def test_the_crates_depend_only_downwards():
    assert "rq-protocol" in dependencies("rq-worker")
    assert {"rq-worker", "rq-protocol"} <= dependencies("task-worker")
    assert not dependencies("rq-protocol") & {"rq-worker", "task-worker", "tokio"}
    assert not dependencies("rq-worker") & {"task-worker"}
    assert not dependencies("rq-worker") & APPLICATION_ONLY, dependencies("rq-worker")
    assert not dependencies("rq-protocol") & APPLICATION_ONLY


def code_only(text: str) -> str:
    """Rust source without comments, string-free enough for a word search, and without its
    `#[cfg(test)] mod tests` (test fixtures may carry real payloads of an application)."""
    text = text.split("#[cfg(test)]\nmod tests")[0]
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(l.split("//")[0] for l in text.splitlines())


COURSE_WORDS = re.compile(r"ctutor|student|_execute_task_wrapper|computor|sandbox", re.I)


def test_the_libraries_know_nothing_of_the_course():
    for crate in ("rq-worker", "rq-protocol"):
        for path in CRATES[crate].rglob("*.rs"):
            if path.name == "tests.rs" or "tests" in path.relative_to(CRATES[crate]).parts:
                continue
            for n, line in enumerate(code_only(path.read_text()).splitlines(), 1):
                assert not COURSE_WORDS.search(line), f"{path.relative_to(REPO)}:{n}: {line.strip()}"


def test_the_course_check_sees_a_course_word(tmp_path):
    assert COURSE_WORDS.search(code_only('const W: &str = "ctutor_backend.x";'))
    assert not COURSE_WORDS.search(code_only("// a student in a comment\nfn f() {}"))
    assert not COURSE_WORDS.search(code_only('fn f() {}\n#[cfg(test)]\nmod tests {\n "student"\n}'))


# ---- Small modules: no source file of the workspace grows past 800 lines (issue 27).

def test_no_source_file_is_longer_than_800_lines():
    long = []
    for src in CRATES.values():
        for path in src.rglob("*.rs"):
            n = len(path.read_text().splitlines())
            if n > 800:
                long.append(f"{path.relative_to(REPO)}: {n} lines")
    assert long == [], "split these along their seams: " + ", ".join(long)
