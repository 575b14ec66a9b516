"""Deployment descriptions, checked offline: no container engine or cluster runs here.

The Kubernetes manifests pass `kubernetes-validate --strict` and compose.yaml the Compose
specification's schema (`check-jsonschema`). What schemas cannot see is checked here: the
Dockerfile's shape, compose's dependencies and instance count, that every TASKWELL_* variable
names a real setting, that secrets come from secret references, and that the probes ask for
routes the app serves. The validators are Python packages (the dev extra): without them these
tests skip locally and fail in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import SecretStr

from taskwell.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
KUBERNETES = DEPLOY / "kubernetes"
SH = shutil.which("sh") or "/bin/sh"
PLACEHOLDER = re.compile(r"\$\{(TASKWELL_NGINX_[A-Z_]+)\}")


def _args(annotation: Any) -> tuple[Any, ...]:
    return (annotation, *getattr(annotation, "__args__", ()))


def _secret_settings() -> set[str]:
    """Settings whose values are secret: SecretStr fields, and URLs that carry passwords."""
    secret = {n for n, f in Settings.model_fields.items() if SecretStr in _args(f.annotation)}
    return secret | {"database_url", "database_replica_urls", "redis_url"}


def _required(what: str, found: object, install: str) -> None:
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is required in CI ({install})")
        pytest.skip(f"{what} is not installed ({install})")


def _console_script(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    _required(name, found, f"pip install {name}")
    assert found is not None
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _kustomization() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    return loaded


def _manifest_paths() -> list[Path]:
    listed = [KUBERNETES / name for name in _kustomization()["resources"]]
    return [*listed, *sorted((KUBERNETES / "examples").glob("*.yaml"))]


def _manifests() -> Iterator[dict[str, Any]]:
    for path in _manifest_paths():
        yield from (doc for doc in yaml.safe_load_all(path.read_text()) if doc)


def _pod_specs() -> Iterator[dict[str, Any]]:
    for doc in _manifests():
        if doc["kind"] in {"Deployment", "Job"}:
            yield doc["spec"]["template"]["spec"]


def _manifest(kind: str) -> dict[str, Any]:
    (found,) = [doc for doc in _manifests() if doc["kind"] == kind]
    return found


# --- Schemas --------------------------------------------------------------------------------


def test_kubernetes_manifests_pass_strict_validation() -> None:
    result = _run(_console_script("kubernetes-validate"), "--strict", *map(str, _manifest_paths()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout + result.stderr


def test_kustomization_lists_every_manifest_and_no_example() -> None:
    listed = set(_kustomization()["resources"])
    on_disk = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    assert not any("example" in name for name in listed)


def test_compose_file_passes_the_compose_specification() -> None:
    result = _run(
        _console_script("check-jsonschema"),
        "--builtin-schema",
        "vendor.compose-spec",
        str(COMPOSE),
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- Compose: what its schema misses --------------------------------------------------------


def _dependencies(service: dict[str, Any]) -> dict[str, Any]:
    depends = service.get("depends_on", {})
    return {name: {} for name in depends} if isinstance(depends, list) else dict(depends)


def undefined_dependencies(compose: dict[str, Any]) -> set[tuple[str, str]]:
    services = compose["services"]
    return {
        (name, target)
        for name, service in services.items()
        for target in _dependencies(service)
        if target not in services
    }


def bad_replica_counts(compose: dict[str, Any]) -> set[str]:
    return {
        name
        for name, service in compose["services"].items()
        if "replicas" in service.get("deploy", {})
        and not (
            isinstance(service["deploy"]["replicas"], int) and service["deploy"]["replicas"] >= 0
        )
    }


def _app_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("command", [])[:2] == ["taskwell", "serve"]
    }


def test_the_checks_catch_what_the_schema_misses() -> None:
    broken = {
        "services": {
            "app": {"depends_on": {"migrat": {"condition": "service_started"}}},
            "web": {"depends_on": ["app", "cache"], "deploy": {"replicas": "three"}},
        }
    }
    assert undefined_dependencies(broken) == {("app", "migrat"), ("web", "cache")}
    assert bad_replica_counts(broken) == {"web"}


def test_compose_depends_only_on_services_it_defines() -> None:
    compose = _compose()
    assert not undefined_dependencies(compose)
    assert not bad_replica_counts(compose)


def test_compose_runs_three_app_instances_after_a_one_shot_migration() -> None:
    compose = _compose()
    apps = _app_services(compose)
    instances = sum(s.get("deploy", {}).get("replicas", 1) for s in apps.values())
    assert instances == 3
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["taskwell", "db", "upgrade"]
    assert migrate["restart"] == "no"
    for service in apps.values():
        wait = _dependencies(service)["migrate"]
        assert wait["condition"] == "service_completed_successfully"
        assert "pgbouncer" in _dependencies(service)


def test_compose_apps_reach_postgres_through_pgbouncer_in_transaction_mode() -> None:
    compose = _compose()
    ini = (DEPLOY / "compose" / "pgbouncer" / "pgbouncer.ini").read_text()
    assert re.search(r"^pool_mode = transaction$", ini, re.M)
    for service in _app_services(compose).values():
        assert service["environment"]["TASKWELL_DB_STATEMENT_CACHE_SIZE"] == "0"
    script = (DEPLOY / "compose" / "make-secrets.sh").read_text()
    assert '@pgbouncer:6432/taskwell"' in script
    assert "@pgbouncer:6432/taskwell_replica" in script


def test_compose_edge_and_prometheus_know_the_app_services() -> None:
    apps = set(_app_services(_compose()))
    instances = (DEPLOY / "compose" / "nginx" / "taskwell-instances.conf").read_text()
    assert set(re.findall(r"^server (\w+):8000 ", instances, re.M)) == apps
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {
        t.split(":")[0]
        for s in prometheus["scrape_configs"]
        for c in s["static_configs"]
        for t in c["targets"]
    }
    assert targets == apps


def test_compose_replica_streams_from_the_primary() -> None:
    compose = _compose()
    replica = compose["services"]["replica"]
    assert _dependencies(replica)["primary"]["condition"] == "service_healthy"
    script = (DEPLOY / "compose" / "postgres" / "replica-entrypoint.sh").read_text()
    for flag in ("--host=primary", "--wal-method=stream", "--write-recovery-conf", "--slot="):
        assert flag in script
    init = (DEPLOY / "compose" / "postgres" / "primary-init.sh").read_text()
    assert "REPLICATION LOGIN" in init
    assert "host replication replicator" in init


# --- Settings and secrets -------------------------------------------------------------------


def _compose_variables() -> set[str]:
    compose = _compose()
    names = {n for s in compose["services"].values() for n in s.get("environment", {})}
    # compose/taskwell/secret-env.sh turns /run/secrets/taskwell_<name> into TASKWELL_<NAME>.
    for service in [*_app_services(compose).values(), compose["services"]["migrate"]]:
        for secret in service.get("secrets", []):
            target = secret if isinstance(secret, str) else secret.get("target", secret["source"])
            names.add(target.upper())
    return names


def _kubernetes_variables() -> set[str]:
    names = set(_manifest("ConfigMap")["data"])
    for spec in _pod_specs():
        names |= {e["name"] for c in spec["containers"] for e in c.get("env", [])}
    return names


def _unknown_settings(names: set[str]) -> set[str]:
    return {
        name
        for name in names
        if name.startswith("TASKWELL_")
        and not name.startswith("TASKWELL_NGINX_")
        and name.removeprefix("TASKWELL_").lower() not in Settings.model_fields
    }


def test_every_taskwell_variable_set_is_a_real_setting() -> None:
    assert _unknown_settings({"TASKWELL_SECRET_KEY", "TASKWELL_SECRETKEY"}) == {
        "TASKWELL_SECRETKEY"
    }
    compose, kubernetes = _compose_variables(), _kubernetes_variables()
    assert "TASKWELL_DATABASE_URL" in compose & kubernetes
    assert not _unknown_settings(compose)
    assert not _unknown_settings(kubernetes)


def test_compose_passes_secrets_only_as_secret_files() -> None:
    secret_names = {f"TASKWELL_{n.upper()}" for n in _secret_settings()}
    compose = _compose()
    for name, service in compose["services"].items():
        inline = secret_names & set(service.get("environment", {}))
        assert not inline, f"{name} sets {inline} inline"
    for name, service in compose["services"].items():
        for key, value in service.get("environment", {}).items():
            if "PASSWORD" in key:
                assert key.endswith("_FILE"), f"{name}: {key}"
                assert str(value).startswith("/run/secrets/")
    assert all(set(s) == {"file"} for s in compose["secrets"].values())
    assert "*" in (DEPLOY / "compose" / "secrets" / ".gitignore").read_text().split()


def test_kubernetes_takes_secrets_from_secret_references() -> None:
    secret_names = {f"TASKWELL_{n.upper()}" for n in _secret_settings()}
    assert not secret_names & set(_manifest("ConfigMap")["data"])
    for spec in _pod_specs():
        for container in spec["containers"]:
            for env in container.get("env", []):
                if env["name"] in secret_names:
                    assert "secretKeyRef" in env.get("valueFrom", {}), env["name"]
                    assert "value" not in env
    listed = {p.name for p in _manifest_paths()[: len(_kustomization()["resources"])]}
    assert not any(
        doc["kind"] == "Secret"
        for p in listed
        for doc in yaml.safe_load_all((KUBERNETES / p).read_text())
        if doc
    )


def test_the_edge_sets_every_nginx_placeholder_and_no_other() -> None:
    used = {
        m
        for path in (DEPLOY / "nginx").rglob("*.conf")
        for m in PLACEHOLDER.findall(path.read_text())
    }
    edge_env = set(_compose()["services"]["edge"]["environment"])
    image_env = set(re.findall(r"(TASKWELL_NGINX_[A-Z_]+)=", _stage("edge")))
    assert edge_env | image_env == used


# --- Dockerfile -----------------------------------------------------------------------------


def _stages() -> dict[str, list[tuple[str, tuple[str, ...], tuple[str, ...]]]]:
    try:
        import dockerfile  # the BuildKit parser itself, so the stages are read as Docker reads them
    except ImportError:
        _required("the dockerfile package", None, "pip install dockerfile")
        raise
    stages: dict[str, list[tuple[str, tuple[str, ...], tuple[str, ...]]]] = {}
    current: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    for command in dockerfile.parse_file(str(DEPLOY / "Dockerfile")):
        if command.cmd == "FROM":
            image, _, name = command.value
            current = stages[name] = [("FROM", (), (image,))]
        elif stages:
            current.append((command.cmd, command.flags, command.value))
    return stages


def _stage(name: str) -> str:
    text = (DEPLOY / "Dockerfile").read_text()
    start = text.index(f" AS {name}\n")
    end = text.find("\nFROM ", start)
    return text[start : end if end > 0 else None]


def test_dockerfile_builds_the_frontend_in_node_and_the_wheel_carries_it() -> None:
    stages = _stages()
    assert len(stages) >= 3
    names = list(stages)
    node = next(n for n in names if any("npm run build" in " ".join(v) for _, _, v in stages[n]))
    assert any("npm ci" in " ".join(v) for _, _, v in stages[node])
    # The build lands where vite and pyproject's package-data put and ship the browser app.
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "webapp/dist/**/*" in package_data["package-data"]["taskwell"]
    vite = (ROOT / "frontend" / "vite.config.ts").read_text()
    assert "outDir: '../src/taskwell/webapp/dist'" in vite
    wheel_stage = next(n for n in names if any("pip wheel" in " ".join(v) for _, _, v in stages[n]))
    copies = [v for c, f, v in stages[wheel_stage] if c == "COPY" and f"--from={node}" in f]
    assert [v[-1] for v in copies] == ["src/taskwell/webapp/dist/"]
    # The runtime installs that wheel and nothing else: it is the last (default) stage.
    runtime = stages[names[-1]]
    mounts = [f for c, f, _ in runtime if c == "RUN" and any(f"from={wheel_stage}" in x for x in f)]
    assert mounts
    assert not any("npm" in " ".join(v) for _, _, v in runtime)
    assert not [c for c, _, _ in runtime if c == "COPY"]


def test_dockerfile_runtime_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    runtime = list(_stages().values())[-1]
    users = [v[0] for c, _, v in runtime if c == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert users[-1].split(":")[0].isdigit()  # numeric, so runAsNonRoot can verify it
    kubernetes_uid = _manifest("Deployment")["spec"]["template"]["spec"]["securityContext"]
    assert int(users[-1].split(":")[0]) == kubernetes_uid["runAsUser"]
    (check,) = [v for c, _, v in runtime if c == "HEALTHCHECK"]
    assert check[0] == "CMD"
    assert "/healthz" in " ".join(check)


def test_dockerignore_lets_every_copied_path_in_and_local_state_out() -> None:
    rules = (ROOT / ".dockerignore").read_text().split()
    allowed = [r[1:].rstrip("/") for r in rules if r.startswith("!")]
    for _, stage in _stages().items():
        for command, flags, value in stage:
            if command == "COPY" and not any(f.startswith("--from=") for f in flags):
                for source in value[:-1]:
                    source = source.rstrip("/")
                    assert any(source == a or source.startswith(a + "/") for a in allowed)
    for local in ("**/node_modules", "src/taskwell/webapp/dist", "**/__pycache__"):
        assert local in rules


# --- Kubernetes: what its schema misses ------------------------------------------------------


def test_deployment_probes_resources_and_draining() -> None:
    deployment = _manifest("Deployment")
    assert deployment["spec"]["replicas"] == 3
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    (sleep,) = container["lifecycle"]["preStop"]["exec"]["command"][1:]
    assert pod["terminationGracePeriodSeconds"] > int(sleep)


def test_autoscaler_and_disruption_budget_keep_instances_up() -> None:
    hpa, pdb = _manifest("HorizontalPodAutoscaler"), _manifest("PodDisruptionBudget")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert pdb["apiVersion"] == "policy/v1"
    assert hpa["spec"]["scaleTargetRef"]["name"] == _manifest("Deployment")["metadata"]["name"]
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    labels = _manifest("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert _manifest("Service")["spec"]["selector"].items() <= labels.items()


def test_ingress_terminates_tls_for_its_hosts() -> None:
    ingress = _manifest("Ingress")["spec"]
    hosts = {rule["host"] for rule in ingress["rules"]}
    assert hosts <= {h for tls in ingress["tls"] for h in tls["hosts"]}


def test_migration_job_upgrades_the_schema() -> None:
    (container,) = _manifest("Job")["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["taskwell", "db", "upgrade"]


def _probe_paths() -> set[str]:
    paths = {
        probe["httpGet"]["path"]
        for spec in _pod_specs()
        for container in spec["containers"]
        for key in ("livenessProbe", "readinessProbe", "startupProbe")
        if (probe := container.get(key))
    }
    paths |= set(re.findall(r"127\.0\.0\.1:8000(/\w+)", (DEPLOY / "Dockerfile").read_text()))
    return paths


async def test_probe_paths_are_routes_the_app_serves(client: httpx.AsyncClient) -> None:
    paths = _probe_paths()
    assert paths == {"/healthz", "/readyz"}
    for path in sorted(paths):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text)


# --- Helper scripts -------------------------------------------------------------------------


def test_helper_scripts_parse_and_are_executable() -> None:
    scripts = sorted((DEPLOY / "compose").rglob("*.sh"))
    assert scripts
    for script in scripts:
        assert os.access(script, os.X_OK), script
        result = _run(SH, "-n", str(script))
        assert result.returncode == 0, result.stderr


def test_make_secrets_derives_consistent_files_and_keeps_existing_ones(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    script = tmp_path / "make-secrets.sh"
    shutil.copy(DEPLOY / "compose" / "make-secrets.sh", script)
    assert _run(SH, str(script)).returncode == 0
    secrets = tmp_path / "secrets"
    declared = {Path(s["file"]).name for s in _compose()["secrets"].values()}
    assert declared <= {p.name for p in secrets.iterdir()}
    app_password = (secrets / "postgres_app_password").read_text().strip()
    assert f'"taskwell_app" "{app_password}"' in (secrets / "pgbouncer_userlist").read_text()
    assert f":{app_password}@" in (secrets / "taskwell_database_url").read_text()
    key = (secrets / "taskwell_secret_key").read_text()
    assert len(key.strip()) >= 32
    assert _run(SH, str(script)).returncode == 0
    assert (secrets / "taskwell_secret_key").read_text() == key
    assert (secrets.stat().st_mode & 0o777) == 0o700
    # Production settings accept what it made (the encryption key's format included).
    values = {p.name.upper(): p.read_text().strip() for p in secrets.glob("taskwell_*")}
    settings = Settings(
        _env_file=None,
        env="production",
        **{  # type: ignore[call-arg]
            k.removeprefix("TASKWELL_").lower(): v for k, v in values.items()
        },
    )
    from taskwell.crypto import Encryptor

    Encryptor.from_settings(settings)


def test_secret_env_turns_secret_files_into_settings(tmp_path: Path) -> None:
    (tmp_path / "taskwell_secret_key").write_text("s3cret value\n")
    (tmp_path / "other").write_text("ignored")
    script = DEPLOY / "compose" / "taskwell" / "secret-env.sh"
    text = script.read_text().replace("/run/secrets", str(tmp_path))
    result = subprocess.run(
        [SH, "-c", text, "secret-env", "env"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env={"PATH": os.environ["PATH"]},
    )
    assert "TASKWELL_SECRET_KEY=s3cret value\n" in result.stdout
    assert "OTHER" not in result.stdout
