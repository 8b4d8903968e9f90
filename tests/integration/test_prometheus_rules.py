"""The Prometheus configuration and alerting rules, checked and unit-tested by promtool.

promtool comes with the Debian package prometheus; without it these tests skip locally and
fail under CI=true.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.services import unavailable

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "config" / "prometheus"
DASHBOARD = ROOT / "config" / "grafana" / "dashboards" / "callcenter.json"

#: What Grafana puts in place of its variables, for promtool to parse the expressions.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__range": "1h", "$queue": ".+"}


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        unavailable("promtool (Debian package prometheus)")
    assert path is not None
    return path


def run(promtool: str, *args: str | Path) -> None:
    result = subprocess.run(
        [promtool, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (
        f"promtool {' '.join(map(str, args))}:\n{result.stdout}{result.stderr}"
    )


def test_alerting_rules_are_valid(promtool: str) -> None:
    run(promtool, "check", "rules", PROMETHEUS / "alerts.yml")


def test_prometheus_config_is_valid(promtool: str) -> None:
    # Also loads the rule files the configuration names.
    run(promtool, "check", "config", PROMETHEUS / "prometheus.yml")


def test_alerting_rules_pass_their_unit_tests(promtool: str) -> None:
    test_files = sorted((PROMETHEUS / "tests").glob("*.yml"))
    assert test_files, "no promtool rule tests in config/prometheus/tests"
    run(promtool, "test", "rules", *test_files)


def _targets(panels: list[dict[str, Any]]) -> Iterator[str]:
    for panel in panels:
        yield from (target["expr"] for target in panel.get("targets", []))
        yield from _targets(panel.get("panels", []))


def test_dashboard_queries_parse(promtool: str, tmp_path: Path) -> None:
    """Every PromQL query of the dashboard, as a recording rule promtool must accept."""
    rules = []
    for number, expr in enumerate(_targets(json.loads(DASHBOARD.read_text())["panels"])):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, f"unknown Grafana variable in {expr}"
        rules.append({"record": f"dashboard:query_{number}", "expr": expr})
    assert rules
    rule_file = tmp_path / "dashboard_rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    run(promtool, "check", "rules", rule_file)
