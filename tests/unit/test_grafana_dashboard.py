"""The dashboard, the alerting rules and docs/metrics.md against the metrics the code registers.

The metric set is read from a fresh registry on which the real `AcdMetrics`,
`BridgeMetrics`, `IvrMetrics` and `TicketMetrics` are built, so renaming a metric in the
code without following it here, in the dashboard, in the alerts and in the docs fails a
unit test (promtool itself runs in tests/integration/test_prometheus_rules.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from callcenter.acd.acd import Acd
from callcenter.acd.model import QueueSettings
from callcenter.clock import ManualClock
from callcenter.ivr.hours import BusinessHours
from callcenter.metrics.acd_metrics import AcdMetrics
from callcenter.metrics.bridge_metrics import BridgeMetrics
from callcenter.metrics.ivr_metrics import IvrMetrics
from callcenter.metrics.ticket_metrics import TicketMetrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "config" / "grafana" / "dashboards" / "callcenter.json"
ALERTS = ROOT / "config" / "prometheus" / "alerts.yml"
ALERT_TESTS = ROOT / "config" / "prometheus" / "tests"
METRICS_DOC = ROOT / "docs" / "metrics.md"

#: Names PromQL may use that our code does not register, and why. Remove an entry when the
#: code starts producing the metric (a test checks it does not yet).
NOT_PRODUCED_BY_US = {
    "up": "Prometheus' own scrape health series",
}

ALERT_NAMES = {
    "ServiceLevelBelowTarget",
    "LongestWaitOver60s",
    "CallsWaitingNoAgentAvailable",
    "AbandonRateOver10Percent",
    "SipBridgeDown",
    "SipBridgeRefusingCalls",
    "TicketSlaAtRisk",
    "TicketSlaBreached",
}

_SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gauge": ("",),
}


@pytest.fixture(scope="module")
def registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    clock = ManualClock()
    acd = Acd([QueueSettings("helpdesk"), QueueSettings("vip")], clock, lambda event: None)
    AcdMetrics(registry, acd, clock)
    BridgeMetrics(registry)
    IvrMetrics(registry, {"main": BusinessHours(always=True)}, ManualClock(0.0))
    TicketMetrics(registry)
    return registry


@pytest.fixture(scope="module")
def exposed(registry: CollectorRegistry) -> set[str]:
    """Metric names as exposed: counters with `_total`, histograms by their base name."""
    return {f.name + "_total" if f.type == "counter" else f.name for f in registry.collect()}


@pytest.fixture(scope="module")
def queryable(registry: CollectorRegistry) -> set[str]:
    """Every series name PromQL can select from our exposition."""
    names: set[str] = set()
    for family in registry.collect():
        names.update(family.name + suffix for suffix in _SAMPLE_SUFFIXES[family.type])
        names.update(sample.name for sample in family.samples)
    return names


# ----- reading PromQL ----------------------------------------------------------------------

_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "group_left", "group_right"}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GRAFANA_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_TOKEN = re.compile(r"\d[\w.]*|[A-Za-z_:][\w:]*(?:\s*\()?")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, labels, keywords left out)."""
    text = _STRING.sub('""', expr)
    text = _GRAFANA_VARIABLE.sub("", text)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    names = set()
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token[0].isdigit() or token.endswith("(") or token in _KEYWORDS:
            continue
        names.add(token)
    return names


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('max by (queue) (a_b{queue=~"$queue", window="1h"}) < on (queue) c', {"a_b", "c"}),
        ("sum(rate(x_total[$__rate_interval])) by (le) * 60", {"x_total"}),
        ("histogram_quantile(0.9, sum by (queue, le) (rate(h_bucket[5m])))", {"h_bucket"}),
        ('label_replace(a > 0, "cause", "capacity", "", "") or b offset 5m', {"a", "b"}),
        ("x and on () max(y) == 1 unless z bool", {"x", "y", "z"}),
        ("a / ignoring (state) group_left b", {"a", "b"}),
    ],
)
def test_metric_names_of_an_expression(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


# ----- the dashboard -----------------------------------------------------------------------


def _dashboard() -> dict[str, Any]:
    loaded = json.loads(DASHBOARD.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # the children of a collapsed row


def _dashboard_expressions() -> list[str]:
    dashboard = _dashboard()
    exprs = [t["expr"] for p in _panels(dashboard["panels"]) for t in p.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        found = re.fullmatch(r"label_values\((.+),\s*\w+\)", variable["definition"])
        assert found, f"variable {variable['name']}: {variable['definition']}"
        exprs.append(found.group(1))
    return exprs


def test_dashboard_is_a_provisionable_dashboard() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] == "callcenter"
    assert 36 <= dashboard["schemaVersion"] <= 41
    panels = list(_panels(dashboard["panels"]))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert ref_ids and len(ref_ids) == len(set(ref_ids)), panel["title"]


def test_queue_variable_lists_the_queues() -> None:
    (variable,) = _dashboard()["templating"]["list"]
    assert variable["name"] == "queue"
    assert variable["definition"] == "label_values(callcenter_queue_waiting_calls, queue)"
    assert variable["query"]["query"] == variable["definition"]
    assert variable["datasource"]["uid"] == "prometheus"


def test_dashboard_uses_only_metrics_that_exist(queryable: set[str]) -> None:
    unknown = {
        name: expr
        for expr in _dashboard_expressions()
        for name in metric_names(expr)
        if name not in queryable and name not in NOT_PRODUCED_BY_US
    }
    assert not unknown


def test_dashboard_shows_every_metric_we_register(exposed: set[str]) -> None:
    used = {name for expr in _dashboard_expressions() for name in metric_names(expr)}
    used |= {re.sub(r"_(bucket|count|sum)$", "", name) for name in used}
    assert exposed - used == set()


def test_allow_list_names_only_metrics_we_do_not_produce(queryable: set[str]) -> None:
    assert set(NOT_PRODUCED_BY_US) & queryable == set()


# ----- the alerting rules ------------------------------------------------------------------


def _alert_rules() -> list[dict[str, Any]]:
    (group,) = yaml.safe_load(ALERTS.read_text())["groups"]
    assert group["name"] == "callcenter"
    rules: list[dict[str, Any]] = group["rules"]
    return rules


def test_alerts_are_the_documented_set_with_severity_and_text() -> None:
    rules = _alert_rules()
    assert {r["alert"] for r in rules} == ALERT_NAMES
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]


def test_alerts_use_only_metrics_that_exist(queryable: set[str]) -> None:
    unknown = {
        name: rule["alert"]
        for rule in _alert_rules()
        for name in metric_names(rule["expr"])
        if name not in queryable and name not in NOT_PRODUCED_BY_US
    }
    assert not unknown


def test_every_alert_has_a_firing_and_a_quiet_promtool_case() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in sorted(ALERT_TESTS.glob("*.yml")):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert firing == ALERT_NAMES
    assert quiet == ALERT_NAMES


# ----- the documentation -------------------------------------------------------------------


def test_every_metric_and_alert_is_documented(exposed: set[str]) -> None:
    doc = METRICS_DOC.read_text()
    missing = {name for name in exposed | ALERT_NAMES if f"`{name}`" not in doc}
    assert not missing
