"""The policies nifi/stack gives the flow's, the analyst's and the maintainer's identities in every store (least privilege)."""

import json

from nifi.provisioning.paths import REPO
from nifi.provisioning.access_policies import (
    LANDING_PREFIX, LEDGER_PREFIX, MAINTENANCE_PREFIX, analyst_policy, flow_policy, lake_prefixes, maintainer_policy,
)

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


def test_the_maintainer_rewrites_segments_and_quarantine_with_their_versions_and_nothing_else():
    granted = grants(maintainer_policy(BUCKET))
    rewritable = set(lake_prefixes()) | {MAINTENANCE_PREFIX}
    object_actions = {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"}
    assert {(a, r) for a, r, _ in granted if r.endswith("*")} == {
        (action, f"arn:aws:s3:::lake/{prefix}*") for action in object_actions for prefix in rewritable}
    listing = {(a, prefixes) for a, r, prefixes in granted if r == "arn:aws:s3:::lake" and prefixes}
    assert listing == {(a, tuple(f"{p}*" for p in lake_prefixes() + [MAINTENANCE_PREFIX]))
                       for a in ("s3:ListBucket", "s3:ListBucketVersions")}
    assert ("s3:GetBucketVersioning", "arn:aws:s3:::lake", ()) in granted
    assert not any(LANDING_PREFIX in resource or LEDGER_PREFIX in resource for _, resource, _ in granted)


def test_the_landing_prefix_is_the_flow_s():
    definition = json.loads((REPO / "flows" / "ecommerce-ingest.json").read_text())
    parameters = {p["name"]: p["value"] for c in definition["parameterContexts"].values() for p in c["parameters"]}
    assert parameters["Landing Prefix"] == LANDING_PREFIX
