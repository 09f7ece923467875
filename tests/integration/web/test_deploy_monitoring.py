"""deploy/grafana and deploy/prometheus parse, and name only metrics a running origin exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from rcmedia.web.app import RunningServer
from tests.integration.web.metrics_text import Scrape
from tests.integration.web.test_metrics import PLAYLIST, origin

__all__ = ["origin"]  # the fixture, shared with test_metrics

DEPLOY = Path(__file__).parents[3] / "deploy"
METRIC = re.compile(r"\brcmedia_[a-z0-9_]+\b")


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "rcmedia.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert exprs
    return exprs


def _alert_exprs() -> list[str]:
    rules: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus" / "rcmedia-alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert alerts
    for alert in alerts:
        assert {"alert", "expr", "for", "labels", "annotations"} <= alert.keys(), alert
    return [str(alert["expr"]) for alert in alerts]


def test_the_scrape_example_loads_the_alert_rules() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())

    assert config["rule_files"] == ["rcmedia-alerts.yml"]
    assert config["scrape_configs"][0]["metrics_path"] == "/metrics"


async def test_every_metric_the_dashboard_and_alerts_name_is_exported(origin: RunningServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(origin.url + PLAYLIST) as response:  # loads a channel output: slate share
            assert response.status == 200
        async with session.get(f"{origin.url}/metrics") as response:
            exported = Scrape(await response.text()).names()

    named = {name for expr in _dashboard_exprs() + _alert_exprs() for name in METRIC.findall(expr)}

    assert len(named) >= 15
    assert named <= exported, f"not exported: {sorted(named - exported)}"
