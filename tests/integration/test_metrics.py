"""NiFi's Prometheus endpoint on the running stack: what a scraper gets, with the stack's metrics certificate or a token.

The certificate (nifi/provisioning/metrics_access.py) must read metrics with the flow's
processor and queue names, and nothing that needs more than "view": no data, no parameters,
no controller, no change. The alert rules and the Grafana dashboard in docs/monitoring/ may
name only metrics and components a live scrape has.
"""

import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from conftest import REPO
from nifi.provisioning.paths import METRICS_CLIENT_CERT, METRICS_CLIENT_KEY

pytestmark = pytest.mark.integration

METRICS = "/flow/metrics/prometheus"
FLOW = json.loads((REPO / "flows" / "ecommerce-ingest.json").read_text())["flowContents"]
MONITORING = REPO / "docs" / "monitoring"
NAME_LABELS = ("component_name", "source_name", "destination_name")


def request(nifi, path, method="GET", body=None, token=None, certificate=True):
    """(status, body) of a call as the metrics identity (its client certificate) or with a token, or anonymously."""
    context = ssl.create_default_context(cafile=str(nifi.ca_cert))
    if certificate:
        context.load_cert_chain(METRICS_CLIENT_CERT, METRICS_CLIENT_KEY)
    call = urllib.request.Request(nifi.api + path, method=method,
                                  data=json.dumps(body).encode() if body is not None else None,
                                  headers={"Content-Type": "application/json"} if body is not None else {})
    if token:
        call.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(call, context=context, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def admin_token(nifi) -> str:
    form = urllib.parse.urlencode({"username": nifi.username, "password": nifi.password}).encode()
    context = ssl.create_default_context(cafile=str(nifi.ca_cert))
    with urllib.request.urlopen(urllib.request.Request(nifi.api + "/access/token", data=form), context=context,
                                timeout=30) as response:
        return response.read().decode()


def samples(text):
    """(metric family name -> [(sample name, labels, value)]) of a scrape, parsed by prometheus_client."""
    return {family.name: [(s.name, s.labels, s.value) for s in family.samples]
            for family in text_string_to_metric_families(text)}


def group_id(nifi, token) -> str:
    status, body = request(nifi, "/flow/process-groups/root", token=token, certificate=False)
    assert status == 200, body
    return next(g["id"] for g in json.loads(body)["processGroupFlow"]["flow"]["processGroups"]
                if g["component"]["name"] == FLOW["name"])


@pytest.fixture(scope="module")
def scrape(nifi, deployed_flow):
    status, text = request(nifi, METRICS)
    assert status == 200, text[:500]
    return text


def test_the_metrics_certificate_scrapes_every_processor_and_queue_of_the_flow_by_name(nifi, scrape):
    found = samples(scrape)
    group = group_id(nifi, admin_token(nifi))
    processors = {labels["component_name"] for _, labels, _ in found["nifi_amount_flowfiles_received"]
                  if labels["component_type"] == "Processor" and labels["parent_id"] == group}
    queues = sorted((labels["source_name"], labels["destination_name"], labels["component_name"])
                    for _, labels, _ in found["nifi_amount_items_queued"]
                    if labels["component_type"] == "Connection" and labels["parent_id"] == group)
    by_id = {p["identifier"]: p["name"] for p in FLOW["processors"]}
    in_flow = sorted((by_id[c["source"]["id"]], by_id[c["destination"]["id"]],
                      c["name"] or ", ".join(sorted(c["selectedRelationships"]))) for c in FLOW["connections"])

    assert processors == set(by_id.values())
    assert queues == in_flow
    assert {"nifi_percent_used_bytes", "nifi_size_content_queued_total", "nifi_bulletin", "nifi_jvm_heap_usage"} <= set(found)
    print(f"\n{len(scrape.splitlines())} lines: {len(processors)} processors, {len(queues)} queues of the flow")


def test_a_login_token_scrapes_the_same_endpoint(nifi, scrape):
    status, text = request(nifi, METRICS, token=admin_token(nifi), certificate=False)
    assert status == 200
    assert set(samples(text)) == set(samples(scrape))
    assert request(nifi, METRICS, certificate=False)[0] == 401, "no certificate, no token: no metrics"


def test_the_metrics_identity_may_view_and_nothing_more(nifi, scrape):
    token = admin_token(nifi)
    group = group_id(nifi, token)
    connection = json.loads(request(nifi, f"/process-groups/{group}/connections", token=token,
                                    certificate=False)[1])["connections"][0]["id"]
    processor = json.loads(request(nifi, f"/process-groups/{group}/processors", token=token,
                                   certificate=False)[1])["processors"][0]
    context = json.loads(request(nifi, "/flow/parameter-contexts", token=token,
                                 certificate=False)[1])["parameterContexts"][0]["id"]
    current = json.loads(request(nifi, "/flow/current-user")[1])
    assert current["identity"] == "CN=metrics"

    assert request(nifi, f"/process-groups/{group}")[0] == 200, "viewing the flow's components is allowed"
    refused = {
        "the controller": request(nifi, "/controller"),
        "users": request(nifi, "/tenants/users"),
        "policies": request(nifi, "/policies/read/flow"),
        "the parameters (keys, credentials)": request(nifi, f"/parameter-contexts/{context}"),
        "queued FlowFiles": request(nifi, f"/flowfile-queues/{connection}/listing-requests", "POST"),
        "provenance": request(nifi, "/provenance", "POST", {"provenance": {"request": {"maxResults": 1}}}),
        "stopping a processor": request(nifi, f"/processors/{processor['id']}/run-status", "PUT",
                                        {"revision": processor["revision"], "state": "STOPPED"}),
    }
    assert {what: status for what, (status, _) in refused.items()} == {what: 403 for what in refused}
    # NiFi answers a group-wide stop with 200 and acts on the components the caller may operate: none here
    request(nifi, "/flow/process-groups/" + group, "PUT", {"id": group, "state": "STOPPED"})
    states = {p["component"]["name"]: p["component"]["state"] for p in json.loads(
        request(nifi, f"/process-groups/{group}/processors", token=token, certificate=False)[1])["processors"]}
    assert set(states.values()) == {"RUNNING"}, states


def referenced(text: str) -> tuple[set[str], set[str]]:
    """The metric names and the literal component names (in name labels) a PromQL text uses."""
    metrics = set(re.findall(r"\b((?:nifi|cluster)_[a-z_]+)\b", text))
    names = set()
    for label, operator, value in re.findall(r'\b(component_name|source_name|destination_name)\s*(=~|!=|=)\s*"([^"]*)"',
                                             text):
        for alternative in value.split("|") if operator == "=~" else [value]:
            if alternative and not re.search(r"[.*+?\[\]()]", alternative):
                names.add(alternative)
    return metrics, names


def test_the_alert_rules_and_the_dashboard_use_only_what_the_scrape_has(scrape):
    rules = yaml.safe_load((MONITORING / "prometheus-alerts.yml").read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    expressions += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    found = samples(scrape)
    scraped_names = {labels[label] for series in found.values() for _, labels, _ in series for label in NAME_LABELS
                     if label in labels}
    metrics, names = set(), set()
    for expression in expressions:
        used_metrics, used_names = referenced(expression)
        metrics |= used_metrics
        names |= used_names

    assert len(expressions) >= 10 and metrics and names
    assert metrics - set(found) == set(), "metrics the scrape does not have"
    assert names - scraped_names - {FLOW["name"]} == set(), "components the flow does not have"
