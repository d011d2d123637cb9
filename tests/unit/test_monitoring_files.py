"""docs/monitoring/: the Prometheus rule file and the Grafana dashboard are well-formed (their names are checked
against a live scrape in tests/integration/test_metrics.py)."""

import json
import re
from pathlib import Path

import yaml

MONITORING = Path(__file__).resolve().parents[2] / "docs" / "monitoring"


def test_every_rule_has_a_name_an_expression_a_severity_and_a_summary():
    rules = [rule for group in yaml.safe_load((MONITORING / "prometheus-alerts.yml").read_text())["groups"]
             for rule in group["rules"]]
    assert len(rules) >= 8
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert rule["expr"].strip() and rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["expr"].count("(") == rule["expr"].count(")") and rule["expr"].count("{") == rule["expr"].count("}")
        assert not re.search(r"rate\((nifi_amount|nifi_size)", rule["expr"]), "NiFi's 5-minute figures are not counters"


def test_every_dashboard_panel_queries_the_chosen_prometheus():
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["datasource"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) >= 8
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"], panel["title"]
        assert all(target["expr"].strip() for target in panel["targets"]), panel["title"]
