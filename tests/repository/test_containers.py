"""What the container files promise (docker/task-worker/Dockerfile, the two
compose files, .env.example, .dockerignore), checked without a Docker engine.

Static checks parse the files; the last two tests run real checkers offline: `docker compose
config` (compose v2.40.3) on both compose files and hadolint 2.15.1 on the Dockerfile, both put
into .venv-deploy by scripts/setup-python (pinned, checksummed). Nothing outside the repository
is needed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".venv-deploy" / "bin"
DOCKERFILE = REPO / "docker" / "task-worker" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
ENV_EXAMPLE = REPO / ".env.example"
COMPOSE_FILES = {
    "dev": REPO / "docker-compose-dev.yaml",
    "prod": REPO / "docker-compose-prod.yaml",
}
WORKERS = {
    "task-worker-high": "high_priority",
    "task-worker-default": "default,low_priority",
}
REPLICA_VARS = {
    "task-worker-high": "${TASK_WORKER_HIGH_REPLICAS:-1}",
    "task-worker-default": "${TASK_WORKER_DEFAULT_REPLICAS:-2}",
}
DEFAULT_SHUTDOWN_TIMEOUT = 25  # seconds, the binary's default
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|REDISCLI_AUTH|PASSWD", re.I)
# A secret must come from the environment: ${VAR}, ${VAR:?msg} or ${VAR?msg}.
# A `:-default` form would commit a literal fallback secret, so it is refused.
SECRET_INTERPOLATION = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*)?\}$")
# Variables compose interpolates: ${NAME...} or $NAME, but not the escaped $$.
INTERPOLATED_VAR = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments and
    parser directives dropped."""
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):
            continue  # comment lines inside a continued instruction
        if line.endswith("\\"):
            buf += line[:-1].rstrip() + " "
            continue
        buf += line
        keyword, _, args = buf.strip().partition(" ")
        out.append((keyword.upper(), args.strip()))
        buf = ""
    assert not buf, "Dockerfile ends inside a continued line"
    return out


def stages(instrs: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Instructions split per stage; each stage starts with its FROM."""
    result: list[list[tuple[str, str]]] = []
    for ins in instrs:
        if ins[0] == "FROM":
            result.append([ins])
        elif result:
            result[-1].append(ins)
    return result


def global_args(instrs: list[tuple[str, str]]) -> dict[str, str]:
    args: dict[str, str] = {}
    for keyword, rest in instrs:
        if keyword == "FROM":
            break
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
    return args


def expand_args(text: str, args: dict[str, str]) -> str:
    """Substitutes ARG values, again and again (an ARG default may use an earlier ARG)."""
    for _ in range(10):
        new = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), text)
        if new == text:
            return new
        text = new
    return text


def stage_name(stage: list[tuple[str, str]]) -> str | None:
    parts = stage[0][1].split()
    return parts[-1] if len(parts) >= 3 and parts[-2].upper() == "AS" else None


def stage_by_name(instrs: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    for stage in stages(instrs):
        if stage_name(stage) == name:
            return stage
    pytest.fail(f"Dockerfile has no stage named {name}")


def stage_chain(instrs: list[tuple[str, str]], stage: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The stage and the earlier stages it is built FROM, root first."""
    named = {stage_name(s): s for s in stages(instrs) if stage_name(s)}
    chain = [stage]
    while (parent := chain[0][0][1].split()[0]) in named:
        chain.insert(0, named[parent])
    return chain


def env_pairs(args: str) -> dict[str, str]:
    """ENV key=value key2=value2 (or the legacy `ENV key value`)."""
    tokens = shlex.split(args)
    if tokens and "=" not in tokens[0]:
        return {tokens[0]: " ".join(tokens[1:])}
    return dict(t.split("=", 1) for t in tokens)


def parse_duration(value) -> float:
    """Compose/Docker durations: 40s, 1m30s, 500ms, 1h; bare numbers are seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"bad duration {value!r}"
    return sum(float(n) * units[u] for n, u in parts)


def load_compose(which: str) -> dict:
    return yaml.safe_load(COMPOSE_FILES[which].read_text())


def environment(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        parsed = {}
        for item in env:
            key, sep, value = item.partition("=")
            parsed[key] = value if sep else None
        return parsed
    return dict(env)


def all_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from all_strings(k)
            yield from all_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from all_strings(v)


def referenced_variables(doc: dict) -> set[str]:
    """Variables a compose file takes from the environment: interpolations and
    environment entries without a value (passed through when set)."""
    names: set[str] = set()
    for s in all_strings(doc):
        for m in INTERPOLATED_VAR.finditer(s):
            names.add(m.group(1) or m.group(2))
    for svc in (doc.get("services") or {}).values():
        for key, value in environment(svc).items():
            if value is None:
                names.add(key)
    return names


def env_example_entries() -> dict[str, tuple[str, bool]]:
    """NAME -> (value, commented_out) for every `NAME=value` or `# NAME=value`."""
    entries: dict[str, tuple[str, bool]] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        m = re.match(r"^\s*(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            entries.setdefault(m.group(2), (m.group(3).strip(), bool(m.group(1))))
    return entries


def run_tool(tool: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    path = TOOLS / tool
    assert path.is_file(), f"{path} is missing: run scripts/setup-python"
    return subprocess.run([str(path), *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=300)


# --------------------------------------------------------------------------
# Dockerfile
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def instrs():
    return dockerfile_instructions()


@pytest.fixture(scope="module")
def runtime(instrs):
    """The final (default) stage's instructions, with those of the stages it is built FROM."""
    return [ins for stage in stage_chain(instrs, stages(instrs)[-1]) for ins in stage]


def test_dockerfile_is_multi_stage_with_pinned_bases(instrs):
    all_stages = stages(instrs)
    assert len(all_stages) >= 2, "expected a build stage and a runtime stage"
    args = global_args(instrs)
    build_from = expand_args(stage_by_name(instrs, "build")[0][1], args).split()
    runtime_root = stage_chain(instrs, all_stages[-1])[0]
    runtime_from = expand_args(runtime_root[0][1], args).split()
    assert re.fullmatch(r"rust:\d+\.\d+-slim-bookworm", build_from[0]), build_from
    assert build_from[1:] and build_from[-2].upper() == "AS", "build stage must be named"
    assert runtime_from[0] == "debian:bookworm-slim", runtime_from


def test_dependencies_are_built_in_their_own_layer(instrs):
    build = stage_by_name(instrs, "build")
    kinds = [(k, a) for k, a in build]

    def index(pred, what):
        for i, (k, a) in enumerate(kinds):
            if pred(k, a):
                return i
        pytest.fail(f"build stage has no {what}")

    manifest = index(lambda k, a: k == "COPY" and "Cargo.toml" in a and "Cargo.lock" in a, "COPY of Cargo.toml/Cargo.lock")
    dep_build = index(lambda k, a: k == "RUN" and "cargo build" in a and "--release" in a, "cargo build --release")
    sources = index(
        lambda k, a: k == "COPY" and (re.search(r"\bsrc\b", a) is not None or a.split()[0] == "."),
        "COPY of src/",
    )
    assert manifest < dep_build < sources, "dependencies must be compiled before the sources are copied"
    dep_run = kinds[dep_build][1]
    assert "src/main.rs" in dep_run and "src/lib.rs" in dep_run, "dummy main.rs/lib.rs expected for the dependency build"
    assert any(
        k == "COPY" and ("migrations" in a or a.split()[0] == ".") for k, a in kinds
    ), "sqlx::migrate! needs migrations/ in the build stage"
    final = [a for k, a in kinds[sources:] if k == "RUN" and "cargo build" in a]
    assert final and "--release" in final[-1], "the real build must follow the source COPY"
    assert "touch" in final[-1], "real sources must be touched so cargo rebuilds the crate"
    assert "--locked" in dep_run and "--locked" in final[-1]


def test_runtime_has_only_runtime_packages(runtime):
    runs = " ".join(a for k, a in runtime if k == "RUN")
    install = re.search(r"apt-get install ([^&;]*)", runs)
    assert install, "runtime stage should apt-get install its packages"
    assert "--no-install-recommends" in install.group(1)
    packages = {t for t in install.group(1).split() if not t.startswith("-")}
    assert packages == {"ca-certificates", "git"}, packages
    assert "rm -rf /var/lib/apt/lists" in runs
    assert "cargo" not in runs and "rustc" not in runs


def test_runtime_runs_as_non_root_taskworker(runtime):
    users = [a for k, a in runtime if k == "USER"]
    assert users, "runtime stage must set USER"
    user = users[-1].split(":")[0]
    assert user == "taskworker", users[-1]
    runs = " ".join(a for k, a in runtime if k == "RUN")
    assert re.search(r"useradd\b[^&;]*\btaskworker\b", runs), "taskworker user must be created"
    uid = re.search(r"useradd\b[^&;]*--uid\s+(\d+)", runs)
    assert uid and int(uid.group(1)) != 0


def test_runtime_work_dir_is_writable_by_taskworker(runtime):
    env = {}
    for k, a in runtime:
        if k == "ENV":
            env.update(env_pairs(a))
    work_dir = env.get("WORK_DIR")
    assert work_dir and work_dir.startswith("/"), "WORK_DIR must be set to an absolute path"
    runs = " ".join(a for k, a in runtime if k == "RUN")
    assert f"mkdir -p {work_dir}" in runs or re.search(rf"mkdir -p [^&;]*{re.escape(work_dir)}", runs)
    chown = re.search(r"chown -R taskworker(?::taskworker)? (\S+)", runs)
    assert chown and work_dir.startswith(chown.group(1).rstrip("/")), "WORK_DIR must be owned by taskworker"


def test_healthcheck_runs_task_worker_health(runtime):
    checks = [a for k, a in runtime if k == "HEALTHCHECK"]
    assert len(checks) == 1, checks
    options, sep, command = checks[0].partition(" CMD ")
    assert sep, f"HEALTHCHECK must use CMD: {checks[0]}"
    opts = dict(o.lstrip("-").split("=", 1) for o in options.split())
    assert parse_duration(opts["interval"]) == 30
    assert parse_duration(opts["timeout"]) == 10
    assert parse_duration(opts["start-period"]) == 5
    assert int(opts["retries"]) == 3
    argv = json.loads(command)  # exec form: no shell needed in the image
    assert Path(argv[0]).name == "task-worker" and argv[1] == "health", argv


def test_stopsignal_env_and_entrypoint(runtime, instrs):
    assert [a for k, a in runtime if k == "STOPSIGNAL"] == ["SIGTERM"]
    env = {}
    for k, a in runtime:
        if k == "ENV":
            env.update(env_pairs(a))
    assert env.get("TASK_QUEUES") == "high_priority,default,low_priority"
    entrypoints = [a for k, a in runtime if k == "ENTRYPOINT"]
    assert entrypoints, "runtime stage must set ENTRYPOINT"
    argv = json.loads(entrypoints[-1])
    assert argv == ["/usr/local/bin/task-worker"], argv
    copies = [a for k, a in runtime if k == "COPY" and "--from=" in a]
    assert any(a.split()[-1] == "/usr/local/bin/task-worker" for a in copies), copies
    assert any("--from=build" in a for a in copies)


def test_local_target_uses_a_prebuilt_binary_and_pulls_nothing(instrs):
    """scripts/docker-images builds `--target local` with the classic builder (no registry): the
    stage must come before `build` (the classic builder runs every stage up to the target), be
    built FROM runtime-base, and copy the binary from docker/task-worker/prebuilt/, a directory
    that always exists so that a classic-builder build of the default target gets through it."""
    names = [stage_name(s) for s in stages(instrs)]
    assert names.index("runtime-base") < names.index("local") < names.index("build"), names
    local = stage_by_name(instrs, "local")
    assert local[0][1].split()[0] == "runtime-base"
    copies = [a for k, a in local if k == "COPY"]
    assert copies == ["docker/task-worker/prebuilt/ /usr/local/bin/"], copies
    assert (REPO / "docker" / "task-worker" / "prebuilt").is_dir()


def test_every_copy_source_exists_in_the_repository(instrs):
    """The classic builder runs every stage before the target: a missing COPY source in any
    of them would break `docker build .` there."""
    for keyword, rest in instrs:
        if keyword != "COPY" or "--from=" in rest:
            continue
        for src in shlex.split(rest)[:-1]:
            if src.startswith("--"):
                continue
            assert (REPO / src).exists(), f"COPY source {src} is not in the repository"
    assert "RUNTIME_BASE" in global_args(instrs)
    assert stage_by_name(instrs, "runtime-base")[0][1].split()[0] == "${RUNTIME_BASE}"
    # A `# syntax=` directive would make BuildKit pull a frontend image.
    assert not DOCKERFILE.read_text().lstrip().startswith("# syntax"), "no syntax directive"


def test_release_binary_is_stripped():
    import tomllib
    profile = tomllib.loads((REPO / "Cargo.toml").read_text())["profile"]["release"]
    assert profile.get("strip") in (True, "symbols", "debuginfo") or profile.get("split-debuginfo"), profile


def test_dockerignore_keeps_context_small_and_secret_free():
    lines = {ln.strip() for ln in DOCKERIGNORE.read_text().splitlines() if ln.strip() and not ln.startswith("#")}
    for needed in ("target/", ".git/", ".venv*", ".tmp/", ".env"):
        assert needed in lines, f".dockerignore should exclude {needed}"
    for kept in ("src", "migrations", "Cargo.toml", "Cargo.lock"):
        assert kept not in lines and f"{kept}/" not in lines, f"{kept} is needed by the build"


# --------------------------------------------------------------------------
# compose files
# --------------------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(COMPOSE_FILES))
def compose(request):
    return request.param, load_compose(request.param)


def test_worker_services_and_queues(compose):
    which, doc = compose
    services = doc["services"]
    for name, queues in WORKERS.items():
        assert name in services, f"{which}: missing service {name}"
        svc = services[name]
        assert environment(svc).get("TASK_QUEUES") == queues, f"{which}: {name} queues"
        assert svc.get("restart") == "unless-stopped", f"{which}: {name} restart policy"
        build = svc.get("build") or {}
        assert Path(build.get("dockerfile", "")) == Path("docker/task-worker/Dockerfile"), f"{which}: {name} build"
        assert build.get("context") in (".", "./"), f"{which}: {name} build context"
        assert "profiles" not in svc, f"{which}: {name} must start without any profile"


SECRET_SETTINGS = ("REDIS_PASSWORD", "POSTGRES_PASSWORD", "EXECUTION_BACKEND_API_PASSWORD")


def secret_source(doc: dict, service: dict, key: str) -> str | None:
    """For `KEY_FILE: /run/secrets/<name>`: the variable the compose secret <name> is made
    from, after checking that the service mounts it; None when KEY is set directly."""
    path = environment(service).get(f"{key}_FILE")
    if path is None:
        return None
    assert path.startswith("/run/secrets/"), f"{key}_FILE={path!r} is not a compose secret"
    name = path.removeprefix("/run/secrets/")
    mounted = [m if isinstance(m, str) else m.get("source") for m in service.get("secrets") or []]
    assert name in mounted, f"{key}_FILE names secret {name!r}, which the service does not mount"
    spec = (doc.get("secrets") or {}).get(name)
    assert spec, f"secret {name!r} is not declared at the top level"
    assert spec.get("environment") or spec.get("file") or spec.get("external"), spec
    return spec.get("environment") or name


def test_worker_environment_matches_the_binary_contract(compose):
    which, doc = compose
    required = {
        "REDIS_URL",
        "REDIS_PASSWORD",
        "EXECUTION_BACKEND_API_URL",
        "EXECUTION_BACKEND_API_USER",
        "EXECUTION_BACKEND_API_PASSWORD",
        "POSTGRES_HOST",
        "POSTGRES_PORT",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_DB",
        "API_LOCAL_STORAGE_DIR",
        "TASK_QUEUES",
    }
    for name in WORKERS:
        env = environment(doc["services"][name])
        # A secret may come as `<NAME>_FILE` (a compose secret) instead.
        given = set(env) | {k.removesuffix("_FILE") for k in env if k.endswith("_FILE")}
        missing = required - given
        assert not missing, f"{which}: {name} lacks {sorted(missing)}"
        for key in SECRET_SETTINGS:
            assert not (key in env and f"{key}_FILE" in env), f"{which}: {name} sets {key} twice"
            secret_source(doc, doc["services"][name], key)
        assert str(env["REDIS_URL"]).startswith("redis://redis:"), env["REDIS_URL"]
        assert "@" not in str(env["REDIS_URL"]), "the password goes in REDIS_PASSWORD, not in the URL"
        # Unset (not empty) when not configured, so the worker skips the API wait.
        assert env["EXECUTION_BACKEND_API_URL"] is None or "${" in str(env["EXECUTION_BACKEND_API_URL"])


def test_dependencies_are_health_gated(compose):
    which, doc = compose
    services = doc["services"]
    for dep in ("redis", "postgres"):
        hc = services[dep].get("healthcheck")
        assert hc and hc.get("test"), f"{which}: {dep} needs a healthcheck"
    for name in WORKERS:
        deps = services[name].get("depends_on")
        assert isinstance(deps, dict), f"{which}: {name} depends_on must use conditions"
        for dep in ("redis", "postgres"):
            assert deps.get(dep, {}).get("condition") == "service_healthy", f"{which}: {name} -> {dep}"
        for dep, spec in deps.items():
            if "profiles" in services.get(dep, {}):
                assert spec.get("required") is False, f"{which}: {name} -> {dep} must be optional"


def test_redis_requires_a_password_from_the_environment(compose):
    which, doc = compose
    cmd = doc["services"]["redis"]["command"]
    argv = cmd if isinstance(cmd, list) else shlex.split(cmd)
    assert "--requirepass" in argv, f"{which}: redis must require a password"
    value = argv[argv.index("--requirepass") + 1]
    assert SECRET_INTERPOLATION.match(value) and "REDIS_PASSWORD" in value, value


def test_api_service_is_optional_and_user_named(compose):
    which, doc = compose
    api = doc["services"].get("uvicorn")
    assert api, f"{which}: the API service (uvicorn) is missing"
    assert "api" in api.get("profiles", []), f"{which}: the API must be in the `api` profile"
    assert "API_IMAGE" in str(api.get("image")), f"{which}: the API image must come from API_IMAGE"
    assert "build" not in api


def test_images_come_from_variables_with_the_old_defaults(compose):
    which, doc = compose
    services = doc["services"]
    assert services["redis"]["image"] == "${REDIS_IMAGE:-redis:7-alpine}"
    assert services["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:16-alpine}"
    default_tag = {"dev": "task-worker:local", "prod": "task-worker:latest"}[which]
    for name in WORKERS:
        assert services[name]["image"] == f"${{TASK_WORKER_IMAGE:-{default_tag}}}"


def test_workers_requeue_on_shutdown_and_probe_early(compose):
    which, doc = compose
    for name in WORKERS:
        svc = doc["services"][name]
        assert environment(svc).get("TASK_REQUEUE_ON_SHUTDOWN") == "${TASK_REQUEUE_ON_SHUTDOWN:-true}"
        hc = svc.get("healthcheck") or {}
        assert "test" not in hc, "the image's `task-worker health` is the test"
        assert parse_duration(hc["interval"]) < parse_duration(hc["start_period"]), (
            f"{which}: {name}: the first probe must fall inside the start period")


def test_stop_grace_period_exceeds_shutdown_timeout(compose):
    which, doc = compose
    for name in WORKERS:
        svc = doc["services"][name]
        grace = parse_duration(svc.get("stop_grace_period", "10s"))
        shutdown = float(environment(svc).get("SHUTDOWN_TIMEOUT") or DEFAULT_SHUTDOWN_TIMEOUT)
        assert grace > max(shutdown, DEFAULT_SHUTDOWN_TIMEOUT), f"{which}: {name} grace {grace}s"
        assert svc.get("stop_signal", "SIGTERM") == "SIGTERM"


def test_no_literal_secrets(compose):
    which, doc = compose
    for name, svc in doc["services"].items():
        for key, value in environment(svc).items():
            if not SECRET_NAME.search(key) or value is None:
                continue
            if key.endswith("_FILE") and str(value).startswith("/run/secrets/"):
                continue  # a path to a compose secret, not a secret
            assert isinstance(value, str) and SECRET_INTERPOLATION.match(value), (
                f"{which}: {name}.{key} must be ${{VAR}} or ${{VAR:?msg}}, got {value!r}"
            )
    for s in all_strings(doc):
        # No credentials embedded in URLs (scheme://user:pass@host).
        for m in re.finditer(r"://([^/\s@]+):([^/\s@]+)@", s):
            assert m.group(2).startswith("${"), f"{which}: literal credential in {s!r}"


def test_env_example_lists_every_variable(compose):
    which, doc = compose
    listed = env_example_entries()
    missing = referenced_variables(doc) - listed.keys()
    assert not missing, f".env.example does not list {sorted(missing)} (used by {which})"


def test_prod_replicas_limits_and_logging():
    doc = load_compose("prod")
    services = doc["services"]
    for name, replicas in REPLICA_VARS.items():
        deploy = services[name].get("deploy") or {}
        assert deploy.get("replicas") == replicas, f"{name}: replicas {deploy.get('replicas')!r}"
        limits = (deploy.get("resources") or {}).get("limits") or {}
        assert limits.get("cpus") and limits.get("memory"), f"{name}: needs cpu and memory limits"
    for name, svc in services.items():
        logging = svc.get("logging") or {}
        assert logging.get("driver") in ("json-file", "local"), f"{name}: logging driver"
        options = logging.get("options") or {}
        assert options.get("max-size") and options.get("max-file"), f"{name}: log rotation"
        if name not in WORKERS:
            limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
            assert limits.get("memory"), f"{name}: needs a memory limit"


def test_prod_requires_its_secrets_and_publishes_no_datastore_ports():
    doc = load_compose("prod")
    services = doc["services"]
    for dep in ("redis", "postgres"):
        assert not services[dep].get("ports"), f"prod must not publish {dep}"
    required_anywhere = " ".join(all_strings(doc))
    for name in WORKERS:
        env = environment(services[name])
        for key in SECRET_SETTINGS:
            source = secret_source(doc, services[name], key)
            if source is None:
                assert ":?" in env[key] or "?" in env[key], f"{name}.{key} must be required"
            else:
                # Secrets come as files, and compose still refuses to start without them.
                assert f"${{{source}:?" in required_anywhere, f"{source} must be required"


def test_prod_gives_the_workers_their_secrets_as_files():
    doc = load_compose("prod")
    for name in WORKERS:
        env = environment(doc["services"][name])
        for key in SECRET_SETTINGS:
            assert key not in env, f"{name}: {key} belongs in a compose secret"
            assert secret_source(doc, doc["services"][name], key) == key
    postgres = doc["services"]["postgres"]
    assert secret_source(doc, postgres, "POSTGRES_PASSWORD") == "POSTGRES_PASSWORD"


def test_env_example_has_only_placeholder_secrets():
    for name, (value, _commented) in env_example_entries().items():
        if SECRET_NAME.search(name):
            assert value.strip("'\"") in {"", "change-me"}, f".env.example {name} must be a placeholder"


# --------------------------------------------------------------------------
# real checkers (compose config, hadolint) from .venv-deploy
# --------------------------------------------------------------------------


def test_docker_compose_config_accepts_both_files():
    # `config` resolves the files as `up` would (interpolation, merge keys, schema, secrets)
    # without a Docker engine; the example env file stands for .env.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))}
    for which, path in COMPOSE_FILES.items():
        proc = run_tool("docker-compose", "--env-file", str(ENV_EXAMPLE), "--profile", "*",
                        "-f", str(path), "config", "-q", env=env)
        assert proc.returncode == 0, f"{which}: docker compose config failed:\n{proc.stderr}"


def test_prod_compose_refuses_to_start_without_its_secrets(tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("".join(line + "\n" for line in ENV_EXAMPLE.read_text().splitlines()
                                if not line.startswith("REDIS_PASSWORD=")))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COMPOSE_", "DOCKER_")) and k != "REDIS_PASSWORD"}
    proc = run_tool("docker-compose", "--env-file", str(env_file), "-f",
                    str(COMPOSE_FILES["prod"]), "config", "-q", env=env)
    assert proc.returncode != 0 and "REDIS_PASSWORD" in proc.stderr, proc.stderr


def test_hadolint_finds_no_error_in_the_dockerfile():
    proc = run_tool("hadolint", "--no-color", "--failure-threshold", "error", str(DOCKERFILE))
    assert proc.returncode == 0, f"hadolint:\n{proc.stdout}{proc.stderr}"
