"""compose/prometheus/alerts.yml: valid for Prometheus, firing as its unit tests say, on
series the code exports, and loaded by the Prometheus service."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import yaml

from tests.compose.test_compose import COMPOSE, metric_labels
from tests.tools import need

RULES = COMPOSE / "prometheus"


def test_promtool_checks_the_rules_and_their_unit_tests_pass() -> None:
    promtool = need("promtool")
    for command in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]):
        done = subprocess.run(
            [promtool, *command], cwd=RULES, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "SUCCESS" in done.stdout


def test_every_alert_reads_series_and_labels_the_code_defines() -> None:
    rules: Any = yaml.safe_load((RULES / "alerts.yml").read_text())
    defined = metric_labels()
    for rule in rules["groups"][0]["rules"]:
        names = set(re.findall(r"\beaflow_\w+", rule["expr"]))
        assert names and names <= set(defined), (rule["alert"], names - set(defined))
        shown = set(re.findall(r"\$labels\.(\w+)", str(rule["annotations"])))
        scraped = {"worker", "topic", "job"}  # the scrape configuration's labels
        assert shown <= scraped.union(*(defined[n] for n in names)), rule["alert"]


def test_the_prometheus_service_loads_the_rules() -> None:
    config: Any = yaml.safe_load((RULES / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    compose: Any = yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts
