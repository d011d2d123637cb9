"""The policies nifi/stack gives the flow's and the analyst's MinIO users (least privilege)."""

import json

from nifi.provisioning.paths import REPO
from nifi.provisioning.minio_access import LANDING_PREFIX, LEDGER_PREFIX, analyst_policy, flow_policy, lake_prefixes

BUCKET = "lake"


def grants(policy):
    """(action, resource, allowed listing prefixes) for every allowed action."""
    return {(action, resource, tuple(statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix", [])))
            for statement in policy["Statement"] if statement["Effect"] == "Allow"
            for action in statement["Action"] for resource in statement["Resource"]}


def test_the_flow_puts_rows_and_ledger_entries_takes_exports_and_nothing_else():
    segments = {"customer_info/", "order_info/", "payment_and_delivery_info/", "_quarantine/"}
    assert set(lake_prefixes()) == segments
    assert grants(flow_policy(BUCKET)) == (
        {("s3:PutObject", f"arn:aws:s3:::lake/{prefix}*", ()) for prefix in segments | {LEDGER_PREFIX}}
        | {("s3:GetObject", "arn:aws:s3:::lake/_ingested/*", ()),
           ("s3:GetObject", "arn:aws:s3:::lake/landing/*", ()), ("s3:DeleteObject", "arn:aws:s3:::lake/landing/*", ()),
           ("s3:ListBucket", "arn:aws:s3:::lake", ("landing/*",))})


def test_the_analyst_reads_and_lists_the_lake_but_not_the_plaintext_exports():
    granted = grants(analyst_policy(BUCKET))
    assert {action for action, _, _ in granted} == {"s3:GetObject", "s3:ListBucket"}
    assert not any(LANDING_PREFIX in resource or LANDING_PREFIX in str(prefixes) for _, resource, prefixes in granted)
    assert ("s3:GetObject", "arn:aws:s3:::lake/order_info/*", ()) in granted


def test_the_landing_prefix_is_the_flow_s():
    definition = json.loads((REPO / "flows" / "ecommerce-ingest.json").read_text())
    parameters = {p["name"]: p["value"] for c in definition["parameterContexts"].values() for p in c["parameters"]}
    assert parameters["Landing Prefix"] == LANDING_PREFIX
