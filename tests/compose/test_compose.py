"""compose/ checked statically (no Docker engine here): structure, wiring, real commands."""

from __future__ import annotations

import ast
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.core import TyperGroup

from eaflow.acl import Role, username
from eaflow.cli.main import app
from eaflow.install.workers import installers
from eaflow.passwords import env_name

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose"
PACKAGES = ("eaflow", "streams", "model", "processors", "sinks", "brokers")
WORKER_TOPICS = {"rtss": "router", "orders": "executor", "ticks": "ticks", "rtrs": "sinks"}
ROLES = {"gateway": Role.GATEWAY, "chart": Role.VIEWER, "router": Role.ROUTER,
         "executor": Role.EXECUTOR, "ticks": Role.TICKS, "sinks": Role.SINKS,
         "admin": Role.ADMIN}  # fmt: skip
ONE_SHOT = {"acl", "admin"}
VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")
SENTINELS = ("sentinel-1", "sentinel-2", "sentinel-3")
SENTINEL_URL_END = "@sentinel-1:26379,sentinel-2:26379,sentinel-3:26379/mymaster/0"


def env_example() -> dict[str, str]:
    values = {}
    for line in (COMPOSE / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str) -> str:
    """Compose's `${VAR:-default}` / `${VAR:?error}` with .env.example filled in."""
    example = env_example()

    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2) or ""
        return example.get(name) or default or f"{name.lower()}-0123456789abcdef"

    return VARIABLE.sub(value, text)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def eaflow_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in services.items() if str(s.get("image", "")).startswith("eaflow:")}


def command_of(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    words = shlex.split(command) if isinstance(command, str) else [str(w) for w in command]
    return [interpolate(w) for w in words]


def option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def test_the_stack_has_every_service(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"acl", "redis", "redis-replica", "clickhouse", "prometheus",
                             "grafana", "gateway", "chart", "router", "executor", "ticks",
                             "sinks", "admin", *SENTINELS}  # fmt: skip
    assert services["redis"]["image"].startswith("redis:7")
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    for service in services.values():
        assert not str(service.get("image", "")).endswith(":latest"), service["image"]


def test_every_long_running_service_has_a_healthcheck_and_restarts(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name


def test_dependencies_point_at_services_and_wait_for_health(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for needed, how in service.get("depends_on", {}).items():
            assert needed in services, (name, needed)
            wanted = "service_completed_successfully" if needed == "acl" else "service_healthy"
            assert how["condition"] == wanted, (name, needed)
            assert needed == "acl" or "healthcheck" in services[needed], needed
    for name in eaflow_services(services):
        if name != "acl":
            assert {"redis", *SENTINELS} <= set(services[name]["depends_on"]), name


def test_named_volumes_are_declared_and_hold_the_data(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose["volumes"])
    used = set()
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE / source).exists(), (name, source)
            else:
                used.add(source)
                assert source in declared, (name, source)
    assert used == declared
    data = {name: {m.split(":")[1] for m in s.get("volumes", [])} for name, s in services.items()}
    assert all("/data" in data[name] for name in ("redis", "redis-replica", *SENTINELS))
    assert "/var/lib/clickhouse" in data["clickhouse"]
    assert "/prometheus" in data["prometheus"] and "/var/lib/grafana" in data["grafana"]
    assert "/var/lib/eaflow" in data["sinks"]


def test_redis_keeps_an_append_only_file_and_loads_the_generated_acl_file(
    services: dict[str, dict[str, Any]],
) -> None:
    acl = command_of(services["acl"])
    aclfile = option(acl, "--output")
    for name in ("redis", "redis-replica"):
        words = command_of(services[name])
        assert words[0] == "redis-server"
        assert option(words, "--appendonly") == "yes", name
        assert option(words, "--aclfile") == aclfile, name
        assert f"acl:{Path(aclfile).parent}:ro" in services[name]["volumes"], name
    assert f"acl:{Path(aclfile).parent}" in services["acl"]["volumes"]
    assert set(services["acl"]["environment"]) >= {env_name(role) for role in Role}
    assert "ports" not in services["redis"] and "ports" not in services["redis-replica"]


def test_the_replica_follows_the_primary_as_the_replica_user(
    services: dict[str, dict[str, Any]],
) -> None:
    words = command_of(services["redis-replica"])
    host, port = words[words.index("--replicaof") + 1 : words.index("--replicaof") + 3]
    assert host == "redis" and port == "6379"
    assert option(words, "--masteruser") == username(Role.REPLICA)
    raw = [str(w) for w in services["redis-replica"]["command"]]
    assert env_name(Role.REPLICA) in raw[raw.index("--masterauth") + 1]
    for name in ("redis", "redis-replica"):
        check = " ".join(services[name]["healthcheck"]["test"])
        assert f"--user {username(Role.REPLICA)}" in check
        assert env_name(Role.REPLICA) in services[name]["environment"]["REDISCLI_AUTH"]


def test_three_sentinels_watch_the_primary_as_the_sentinel_user(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in SENTINELS:
        sentinel = services[name]
        assert sentinel["image"] == services["redis"]["image"], name
        script = command_of(sentinel)[-1]
        assert "sentinel monitor mymaster redis 6379 2" in script, name  # a quorum of 2
        assert f"sentinel auth-user mymaster {username(Role.SENTINEL)}" in script, name
        assert f"sentinel auth-pass mymaster $${env_name(Role.SENTINEL)}" in script, name
        assert script.endswith("exec redis-server /data/sentinel.conf --sentinel"), name
        assert env_name(Role.SENTINEL) in sentinel["environment"], name
        assert "ports" not in sentinel, name
    words = command_of(services["redis"])  # a demoted primary follows the promoted replica
    assert option(words, "--masteruser") == username(Role.REPLICA)
    raw = [str(w) for w in services["redis"]["command"]]
    assert env_name(Role.REPLICA) in raw[raw.index("--masterauth") + 1]


def test_each_eaflow_service_logs_in_as_its_own_role_only(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, role in ROLES.items():
        environment = services[name]["environment"]
        url = environment["EAFLOW_REDIS_URL"]
        assert url.startswith(f"redis+sentinel://{username(role)}:${{{env_name(role)}:?"), name
        assert url.endswith(SENTINEL_URL_END), name
        passwords = {p for p in VARIABLE.findall(str(environment)) if "PASSWORD" in p[0]}
        assert {p[0] for p in passwords if p[0].startswith("EAFLOW_")} == {env_name(role)}, name


def test_one_service_runs_each_worker_topic(services: dict[str, dict[str, Any]]) -> None:
    running = {}
    for name, service in eaflow_services(services).items():
        words = command_of(service)
        if words[1] == "worker":
            topics = [w for w in words[2:] if not w.startswith("-")][:1]
            running[topics[0]] = name
    assert running == WORKER_TOPICS
    assert set(running) <= set(installers()), "a topic no installer knows"


def test_prometheus_scrapes_every_worker_on_its_metrics_port(
    services: dict[str, dict[str, Any]],
) -> None:
    config = yaml.safe_load((COMPOSE / "prometheus" / "prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for c in job["static_configs"]
               for t in c["targets"]}  # fmt: skip
    wanted = set()
    for name, service in eaflow_services(services).items():
        words = command_of(service)
        if words[1] != "worker":
            continue
        port = option(words, "--metrics-port")
        wanted.add(f"{name}:{port}")
        assert f":{port}/metrics" in " ".join(service["healthcheck"]["test"]), name
    assert {w.split(":")[0] for w in wanted} == set(WORKER_TOPICS.values())
    assert wanted <= targets
    assert targets - wanted == {"127.0.0.1:9090"}


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard(
    services: dict[str, dict[str, Any]],
) -> None:
    mounts = dict(m.split(":")[:2] for m in services["grafana"]["volumes"])
    provisioning = COMPOSE / mounts["./grafana/provisioning"].replace(
        "/etc/grafana/provisioning", "grafana/provisioning"
    )
    source = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    (datasource,) = source["datasources"]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((provisioning / "dashboards" / "eaflow.yml").read_text())
    (provider,) = providers["providers"]
    assert provider["options"]["path"] == mounts["./grafana/dashboards"]
    home = services["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(provider["options"]["path"] + "/")
    dashboard = json.loads((COMPOSE / "grafana" / "dashboards" / Path(home).name).read_text())
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for topic in ("signals", "retcode", "latency", "lag", "equity per instance"):
        assert topic in titles
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"]
        assert all(t["expr"] for t in panel["targets"]), panel["title"]


def metric_labels() -> dict[str, set[str]]:
    """Every series name the code exports, with its labels, read from the prometheus_client
    definitions (`Counter("name", "doc", ["label", ...])`) in the packages' sources."""
    kinds = {"Counter": ("_total",), "Gauge": ("",), "Histogram": ("_bucket", "_sum", "_count"),
             "Summary": ("_sum", "_count")}  # fmt: skip
    series: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text()
            if "prometheus_client" not in source:
                continue
            for node in ast.walk(ast.parse(source)):
                if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                    continue
                if node.func.id not in kinds or not node.args:
                    continue
                name = ast.literal_eval(node.args[0])
                named = [k.value for k in node.keywords if k.arg == "labelnames"]
                given = [*node.args[2:3], *named]
                labels = ast.literal_eval(given[0]) if given else ()
                base = name.removesuffix("_total") if node.func.id == "Counter" else name
                extra = {"le"} if node.func.id == "Histogram" else set()
                for suffix in kinds[node.func.id]:
                    series[base + suffix] = set(labels) | extra
    return series


def test_the_dashboard_uses_only_metrics_and_labels_the_code_defines() -> None:
    dashboard = json.loads((COMPOSE / "grafana" / "dashboards" / "eaflow.json").read_text())
    config = yaml.safe_load((COMPOSE / "prometheus" / "prometheus.yml").read_text())
    # Prometheus's own `instance` (the scraped address) is left out: per-instance series
    # of eaflow are labelled `instance_id`, and grouping by the address would hide that.
    scraped = {"job"} | {label for job in config["scrape_configs"]
                                     for c in job["static_configs"]
                                     for label in c.get("labels", {})}  # fmt: skip
    defined = metric_labels()
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            names = set(re.findall(r"\beaflow_\w+", target["expr"]))
            assert names <= set(defined), (panel["title"], names - set(defined))
            labels = scraped.union(*(defined[n] for n in names))
            grouped = {g.strip() for by in re.findall(r"by \(([^)]*)\)", target["expr"])
                       for g in by.split(",")}  # fmt: skip
            shown = set(re.findall(r"\{\{(\w+)\}\}", target["legendFormat"]))
            assert grouped | shown <= labels, (panel["title"], (grouped | shown) - labels)
            used |= names
    assert len(used) >= 8


def options_of(words: list[str]) -> set[str]:
    """Walk `eaflow a b ...` down the CLI's groups, parse the rest as that command would
    (unknown options, bad values and missing arguments raise), and return its options."""
    command = typer.main.get_command(app)
    path = ["eaflow"]
    rest = words[1:]
    while isinstance(command, TyperGroup) and rest and rest[0] in command.commands:
        path.append(rest[0])
        command = command.commands[rest[0]]
        rest = rest[1:]
    assert not isinstance(command, TyperGroup), f"{' '.join(path)} needs a subcommand"
    command.make_context(" ".join(path), list(rest))
    return {o for p in command.params for o in (*p.opts, *p.secondary_opts)}


def test_every_service_command_is_a_real_eaflow_command_with_valid_options(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in eaflow_services(services).items():
        words = command_of(service)
        assert words[0] == "eaflow", name
        assert {w for w in words if w.startswith("-")} <= options_of(words), name


def test_the_env_file_is_the_one_place_every_setting_comes_from() -> None:
    text = (COMPOSE / "docker-compose.yml").read_text()
    referenced = {m.group(1) for m in VARIABLE.finditer(text)}
    assert referenced == set(env_example())
    required = {m.group(1) for m in VARIABLE.finditer(text) if "?" in m.group(0)}
    assert {env_name(role) for role in Role} <= required
    assert ".env" in (COMPOSE / ".gitignore").read_text().split()


def test_the_image_holds_every_package_of_the_distribution() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    included = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert sorted(p.rstrip("*") for p in included) == sorted(PACKAGES)
    dockerfile = (COMPOSE / "Dockerfile").read_text()
    ignore = (COMPOSE / "Dockerfile.dockerignore").read_text().split()
    for package in PACKAGES:
        assert f"COPY {package} ./{package}" in dockerfile
        assert f"!{package}" in ignore
    assert "USER eaflow" in dockerfile
