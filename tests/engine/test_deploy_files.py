"""The deployment files (Dockerfile, deploy/) agree with the code they deploy.

Nothing here builds an image or starts a cluster: the tests read the files and check what
drifts silently, such as a worker command line the CLI refuses, an environment variable
nothing reads, a version other than the pinned one, or a file that is not there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import functools
import io
import re
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from engine.cli import _parser
from engine import Engine, Store
from engine.worker import QueueWorker

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
K8S = DEPLOY / "k8s"
DOCKERFILE = ROOT / "Dockerfile"
APP_PORT = 3000
WORKLOADS = ("Deployment", "StatefulSet")
POSTGRES_IMAGE_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "PGDATA"}
"""What the official postgres image reads (its documentation, "Environment Variables")."""
PROCESS_VARIABLES = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PIP_DISABLE_PIP_VERSION_CHECK",
                     "PIP_NO_CACHE_DIR"}
"""Read by the shell, Python and pip themselves."""
_READ = re.compile(r"""(?:environ\.get|getenv|environ\.setdefault)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
                   r"""|environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]""")


def _documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _k8s_objects() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) if path.name != "kustomization.yaml"
            for doc in _documents(path)]


def _workloads() -> Iterator[dict[str, Any]]:
    return (obj for obj in _k8s_objects() if obj["kind"] in WORKLOADS)


def _containers() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(workload, container) for every container of every Deployment and StatefulSet."""
    for workload in _workloads():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            yield workload, container


def _argv(command: Any) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command or []]


def _worker_options(argv: list[str], where: str) -> Any:
    """The CLI's options for a `python -m engine worker ...` command line, checked as the CLI
    and the worker check them."""
    assert argv[:3] == ["python", "-m", "engine"], f"{where}: not a `python -m engine` command: {argv}"
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            options = _parser().parse_args(argv[3:])
        except SystemExit:
            pytest.fail(f"{where}: the CLI refuses {shlex.join(argv)}:\n{stderr.getvalue()}")
    assert options.command == "worker", where
    tags = [t.strip() for t in options.tags.split(",") if t.strip()] if options.tags else None
    QueueWorker(_engine(), concurrency=options.concurrency, tags=tags, heartbeat=options.heartbeat,
                stale_after=options.stale_after, grace=options.grace)  # raises BadInput as at start
    return options


@functools.cache
def _engine() -> Engine:
    """An engine on a throwaway SQLite file: what QueueWorker checks its options against."""
    return Engine(store=Store.open(f"sqlite:///{tempfile.mkdtemp(prefix='millrace-deploy-')}/store.db"))


def _compose_workers() -> list[tuple[str, dict[str, Any], Any]]:
    return [(name, service, _worker_options(_argv(service["command"]), f"compose service {name}"))
            for name, service in _compose()["services"].items() if "worker" in _argv(service.get("command"))]


def _k8s_workers() -> list[tuple[dict[str, Any], Any]]:
    found = []
    for workload, container in _containers():
        argv = _argv(container.get("command")) + _argv(container.get("args"))
        if "worker" in argv:
            found.append((workload, _worker_options(argv, f"{workload['metadata']['name']}/{container['name']}")))
    return found


def _seconds(duration: str | int) -> float:
    """A compose duration ("45s", "1m30s") in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", str(duration))
    assert parts, f"not a duration: {duration!r}"
    return sum(float(number) * units[unit] for number, unit in parts)


def _code_variables() -> set[str]:
    """Every environment variable the app (rxconfig.py included) and the engine read by name."""
    names: set[str] = set()
    paths = [ROOT / "rxconfig.py"]
    for folder in ("app", "engine", "components"):
        paths += (ROOT / folder).rglob("*.py")
    for path in paths:
        names.update(a or b for a, b in _READ.findall(path.read_text(encoding="utf-8")))
    return names


def _reflex_variables() -> set[str]:
    """Reflex's: `REFLEX_` + a config field, and its own environment switches."""
    from reflex_base.config import Config
    from reflex_base.environment import EnvironmentVariables, environment

    names = {f"REFLEX_{field.name.upper()}" for field in dataclasses.fields(Config)}
    for attribute in vars(EnvironmentVariables):
        variable = getattr(environment, attribute, None) if not attribute.startswith("_") else None
        if hasattr(variable, "default"):
            names.add(variable.name)
    return names


def _compose_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    return dict(item.split("=", 1) for item in env) if isinstance(env, list) else dict(env)


def _k8s_env_names(container: dict[str, Any]) -> set[str]:
    """The names a container gets: its `env` and every key of the objects of its `envFrom`."""
    names = {item["name"] for item in container.get("env", [])}
    data = {(obj["kind"], obj["metadata"]["name"]): _keys(obj) for obj in _k8s_objects()
            if obj["kind"] in ("ConfigMap", "Secret")}
    for source in container.get("envFrom", []):
        assert _env_from(source) in data, f"{container['name']}: envFrom names a missing {_env_from(source)}"
        names |= data[_env_from(source)]
    return names


def _env_from(source: dict[str, Any]) -> tuple[str, str]:
    """(kind, name) of the ConfigMap or Secret an `envFrom` entry gives whole."""
    if "configMapRef" in source:
        return "ConfigMap", source["configMapRef"]["name"]
    return "Secret", source["secretRef"]["name"]


def _keys(obj: dict[str, Any]) -> set[str]:
    return set(obj.get("data") or obj.get("stringData") or {})


def _dockerfile_final_stage() -> str:
    return DOCKERFILE.read_text(encoding="utf-8").split("\nFROM ")[-1]


def _dockerfile_env_names() -> set[str]:
    text = _dockerfile_final_stage().replace("\\\n", " ")
    return {name for line in text.splitlines() if line.startswith("ENV ")
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", line)}


def test_every_deploy_yaml_file_loads_as_mappings():
    files = sorted(DEPLOY.rglob("*.yml")) + sorted(DEPLOY.rglob("*.yaml"))
    assert COMPOSE in files and len(files) >= 9, files
    for path in files:
        documents = _documents(path)
        assert documents and all(isinstance(doc, dict) for doc in documents), path


def test_compose_worker_commands_parse_with_the_cli_and_stop_after_their_grace():
    workers = _compose_workers()
    assert len(workers) >= 2, "compose should show two worker groups"
    for name, service, options in workers:
        assert options.tags, f"{name}: a worker group claims only its tags (--tags)"
        assert _seconds(service.get("stop_grace_period", "10s")) > options.grace, (
            f"{name}: docker kills the worker before its --grace of {options.grace:g} s is over")
    # Every run the app queues today is tagged `flow` (engine/engine.py): someone must claim them.
    assert any("flow" in options.tags.split(",") for _, _, options in workers)


def test_k8s_worker_commands_parse_with_the_cli_and_stop_after_their_grace():
    workers = _k8s_workers()
    assert len(workers) >= 2, "the manifests should show two worker groups"
    for workload, options in workers:
        grace = workload["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
        assert grace > options.grace, (
            f"{workload['metadata']['name']}: Kubernetes kills the pod ({grace} s) before the worker's "
            f"--grace of {options.grace:g} s is over")
    assert any("flow" in options.tags.split(",") for _, options in workers)


def test_compose_sets_only_variables_something_reads():
    known = _code_variables() | _reflex_variables()
    for name, service in _compose()["services"].items():
        env = set(_compose_env(service))
        image = service.get("image", "")
        if "build" in service or image.startswith("millrace"):
            assert env <= known, f"{name} sets variables nothing reads: {sorted(env - known)}"
            assert "MILLRACE_SECRET_KEY" in env, f"{name}: every process needs the shared secret key"
        elif image.startswith("postgres:"):
            assert env <= POSTGRES_IMAGE_VARIABLES, f"{name}: {sorted(env - POSTGRES_IMAGE_VARIABLES)}"
        else:
            assert not env, f"{name} ({image}) reads no variables we set: {sorted(env)}"


def test_k8s_sets_only_variables_something_reads():
    known = _code_variables() | _reflex_variables()
    for workload, container in _containers():
        env, where = _k8s_env_names(container), f"{workload['metadata']['name']}/{container['name']}"
        if container["image"].startswith("millrace"):
            assert env <= known, f"{where} sets variables nothing reads: {sorted(env - known)}"
            assert {"DATABASE_URL", "MILLRACE_SECRET_KEY"} <= env, where
        elif container["image"].startswith("postgres:"):
            assert env <= POSTGRES_IMAGE_VARIABLES, f"{where}: {sorted(env - POSTGRES_IMAGE_VARIABLES)}"
        else:
            assert not env, f"{where} ({container['image']}) reads no variables we set: {sorted(env)}"


def test_dockerfile_sets_only_variables_something_reads():
    known = _code_variables() | _reflex_variables() | PROCESS_VARIABLES
    names = _dockerfile_env_names()
    assert names and names <= known, sorted(names - known)


def test_app_instances_share_state_in_redis_and_leave_runs_to_the_workers():
    app = _compose()["services"]["app"]
    env = _compose_env(app)
    assert app["deploy"]["replicas"] >= 2
    # rxconfig.py hands REDIS_URL to Reflex; without it each replica keeps its own page state.
    assert env["REDIS_URL"].startswith("redis://") and env["MILLRACE_WORKERS"] == "0"
    [deployment] = [w for w in _workloads() if w["metadata"]["name"] == "millrace-app"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert deployment["spec"]["replicas"] >= 2 and "REDIS_URL" in _k8s_env_names(container)
    [configmap] = [obj for obj in _k8s_objects() if obj["kind"] == "ConfigMap"]
    assert configmap["data"]["MILLRACE_WORKERS"] == "0"


def test_k8s_secret_and_config_keys_are_all_used_and_all_exist():
    referenced = set()  # (kind, name, key), key "*" for a whole object given by envFrom
    for _, container in _containers():
        for item in container.get("env", []):
            for kind, ref_type in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                ref = item.get("valueFrom", {}).get(ref_type)
                if ref:
                    referenced.add((kind, ref["name"], ref["key"]))
        referenced |= {(*_env_from(source), "*") for source in container.get("envFrom", [])}
    provided = {(obj["kind"], obj["metadata"]["name"], key) for obj in _k8s_objects()
                if obj["kind"] in ("Secret", "ConfigMap") for key in _keys(obj)}
    missing = {ref for ref in referenced if ref[2] != "*" and ref not in provided}
    unused = {ref for ref in provided if ref not in referenced and (ref[0], ref[1], "*") not in referenced}
    assert not missing, f"referenced but not defined: {sorted(missing)}"
    assert not unused, f"defined but given to no container: {sorted(unused)}"


def test_k8s_services_probes_and_ingress_point_at_what_exists():
    from app.rest.api import routes
    from reflex_base.constants import Endpoint

    objects = _k8s_objects()
    labels = [w["spec"]["template"]["metadata"]["labels"] for w in _workloads()]
    services = {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == "Service"}
    for name, service in services.items():
        selector = service["spec"]["selector"].items()
        assert any(selector <= pod.items() for pod in labels), f"service {name} selects no pod"
    routes_served = {route.path for route in routes} | {str(Endpoint.PING), str(Endpoint.HEALTH)}
    for workload, container in _containers():
        ports = {port.get("name"): port["containerPort"] for port in container.get("ports", [])}
        for probe in ("readinessProbe", "livenessProbe"):
            http = container.get(probe, {}).get("httpGet")
            if http:
                assert http["path"] in routes_served, f"{workload['metadata']['name']}: no route {http['path']}"
                assert http["port"] in ports or http["port"] in ports.values()
        if container["image"].startswith("millrace") and ports:
            assert set(ports.values()) == {APP_PORT}
    [ingress] = [obj for obj in objects if obj["kind"] == "Ingress"]
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] in services
            assert backend["port"]["name"] in {p["name"] for p in services[backend["name"]]["spec"]["ports"]}


def test_kustomization_lists_every_manifest():
    [kustomization] = _documents(K8S / "kustomization.yaml")
    manifests = sorted(path.name for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == manifests
    assert all(obj["metadata"].get("namespace", kustomization["namespace"]) == kustomization["namespace"]
               for obj in _k8s_objects() if obj["kind"] != "Namespace")


def test_compose_files_and_variables_exist():
    compose = _compose()
    examples = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    defined = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", examples, re.MULTILINE))
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text(encoding="utf-8")))
    assert used <= defined, f"compose uses variables deploy/.env.example does not show: {sorted(used - defined)}"
    for name, service in compose["services"].items():
        if "build" in service:
            context = (DEPLOY / service["build"]["context"]).resolve()
            assert (context / service["build"].get("dockerfile", "Dockerfile")).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts {source}, which is not there"
        for dependency in service.get("depends_on", {}):
            assert dependency in compose["services"], f"{name} depends on unknown service {dependency}"


def test_nginx_balances_the_app_replicas_with_websocket_upgrades():
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    compose = _compose()
    assert re.search(rf"server\s+app:{APP_PORT}\b", conf) and "app" in compose["services"]
    assert re.search(rf"listen\s+{APP_PORT};", conf) and f"{APP_PORT}:{APP_PORT}" in compose["services"]["lb"]["ports"]
    assert "proxy_set_header Upgrade $http_upgrade;" in conf and "proxy_http_version 1.1;" in conf


def test_dockerfile_pins_what_the_makefile_and_requirements_pin():
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.findall(r"bun@([\d.]+)", dockerfile) == re.findall(r"bun@([\d.]+)", makefile) != []
    installs = re.findall(r"pip install ([^\n&]*)", dockerfile)
    assert [i.strip() for i in installs] == ["-r requirements.txt"], installs
    python = f"python:{sys.version_info.major}.{sys.version_info.minor}-slim-bookworm"
    assert f"ARG PYTHON_IMAGE={python}\n" in dockerfile, f"the image's Python should be the tested one ({python})"


def test_dockerfile_serves_the_app_module_on_the_port_the_frontend_was_built_for():
    import rxconfig

    final = _dockerfile_final_stage()
    cmd = re.search(r'^CMD (\[.*\])$', final, re.MULTILINE)
    assert cmd, "the image needs a default command (the app)"
    argv = yaml.safe_load(cmd.group(1))
    assert argv[-1] == f"{rxconfig.config.module}:app" and argv[argv.index("--port") + 1] == str(APP_PORT)
    assert f"ARG REFLEX_API_URL=http://localhost:{APP_PORT}\n" in DOCKERFILE.read_text(encoding="utf-8")
    assert f"EXPOSE {APP_PORT}" in final and "USER " in final


def test_dockerignore_keeps_what_the_image_needs_and_drops_local_state():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path.split("/")[0], p) for p in patterns)

    needed = ["requirements.txt", "rxconfig.py", "reflex.lock", "app", "components", "engine", "examples", "assets"]
    assert not [path for path in needed if ignored(path)]
    assert all(ignored(path) for path in (".venv", ".tools", ".web", "data", ".git"))
