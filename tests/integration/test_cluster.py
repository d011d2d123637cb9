"""A 3-node NiFi cluster (3 ZooKeeper servers) over 4-server distributed MinIO, on this machine.

Run apart from the single-node suite (`-m cluster`, with that stack stopped: memory). The
cluster is started once for the module and stopped at its end. What is checked: a file's
chunks are processed on every node; every row lands exactly once; no file is ingested twice
(the bucket keeps versions: with no fault every key has one; and one FETCH provenance event
per file), also for a file moved in with a day-old mtime; the primary node killed mid-file
(JVM and Python processes, as a power cut would) and one MinIO server killed mid-file lose and
duplicate nothing, and `nifi/stack status` fails naming the dead node; every node serves its metrics to
the stack's metrics certificate; Chromium logs in on a node that is not the coordinator (each node signs
its own login tokens).
"""

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

from browser import group_on_canvas, launch, log_in, new_page, rest, session_token, trusting_home
from conftest import REPO, STACK, NiFi, ledger_as_found
from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.settings import S3Settings
from inbox import drop, lake_key, move_in_aged, wait_for_rows, wait_until_taken
from lake import assert_lake_holds_exactly
from lake_tools import assert_erase_finds_the_flow_s_rows, assert_query_reads_the_flow_s_rows, tagged_export
from nifi.provisioning.env_file import read_env as settings
from nifi.provisioning.layout import minio_servers, nifi_nodes
from nifi.provisioning.nifi_api import NiFiApi, NiFiApiError
from nifi.provisioning.paths import METRICS_CLIENT_CERT, METRICS_CLIENT_KEY, NIFI_CA_CERT

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

NODES, MINIO_SERVERS = 3, 4
GROUP = "ecommerce-ingest"
WAIT_SECONDS = 300
ROWS = 120_000  # three chunks of at most 50,000 rows (#{Chunk Rows})


def stack(*args, timeout=1500):
    result = subprocess.run([sys.executable, str(STACK), *args], capture_output=True, text=True, cwd=REPO,
                            timeout=timeout)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return result


def login(node) -> NiFiApi:
    values = settings()
    return NiFiApi(node.https_port, NIFI_CA_CERT).login(values["NIFI_USERNAME"], values["NIFI_PASSWORD"])


@pytest.fixture(scope="module")
def cluster():
    """The cluster up with the flow deployed, the bucket versioned; everything stopped after."""
    stack("down")  # the single-node stack: three nodes and four MinIO servers need its memory
    try:
        started = time.monotonic()
        stack("up", "--nodes", str(NODES), "--minio-servers", str(MINIO_SERVERS))
        print(f"\ncluster of {NODES} nodes + 3 ZooKeeper + {MINIO_SERVERS} MinIO up in {time.monotonic() - started:.0f}s")
        s3 = S3Settings.from_settings(
            {**settings(), "S3_ENDPOINT_URL": f"http://127.0.0.1:{settings()['MINIO_API_PORT']}"})
        s3.client().put_bucket_versioning(Bucket=s3.bucket, VersioningConfiguration={"Status": "Enabled"})
        deployed = subprocess.run([sys.executable, str(REPO / "deploy_flow.py")], capture_output=True, text=True,
                                  cwd=REPO, timeout=1500)
        assert deployed.returncode == 0, deployed.stdout[-5000:] + deployed.stderr[-5000:]
        print(f"flow deployed on the cluster {time.monotonic() - started:.0f}s after the start")
        yield s3
    finally:
        subprocess.run([sys.executable, str(STACK), "down"], capture_output=True, text=True, cwd=REPO, timeout=600)


@pytest.fixture
def export(tmp_path, cluster):
    """A messy export of `rows` rows written outside the inbox, and its expected cleaning; lake cleaned after."""
    stems = []

    def make(rows, seed):
        path = tmp_path / f"cluster-{uuid.uuid4().hex[:8]}.csv"
        write_sample_csv(path, rows=rows, seed=seed, bad_row_fraction=0.01)
        stems.append(path.stem)
        return path, clean_frame(read_raw_csv(path.read_bytes()))

    with ledger_as_found(cluster):  # seeded exports: a later run's identical content must count as new
        yield make
    client = cluster.client()
    for stem in stems:
        versions = [v for page in client.get_paginator("list_object_versions").paginate(Bucket=cluster.bucket)
                    for kind in ("Versions", "DeleteMarkers") for v in page.get(kind, []) if f"/{stem}-" in v["Key"]]
        for start in range(0, len(versions), 1000):
            client.delete_objects(Bucket=cluster.bucket, Delete={"Objects": [
                {"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions[start:start + 1000]]})


def rows_in(expected) -> int:
    return len(expected.clean) + len(expected.quarantine)


def versions_per_key(s3: S3Settings, stem: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for page in s3.client().get_paginator("list_object_versions").paginate(Bucket=s3.bucket):
        for version in page.get("Versions", []):
            if f"/{stem}-" in version["Key"]:
                counts[version["Key"]] = counts.get(version["Key"], 0) + 1
    return counts


def members(api: NiFiApi) -> list[dict]:
    return api.get("/controller/cluster")["cluster"]["nodes"]


def processor_ids(api: NiFiApi) -> dict[str, str]:
    groups = api.get("/flow/process-groups/root")["processGroupFlow"]["flow"]["processGroups"]
    group = next(g["id"] for g in groups if g["component"]["name"] == GROUP)
    return {p["component"]["name"]: p["id"] for p in api.get(f"/process-groups/{group}/processors")["processors"]}


def provenance(api: NiFiApi, processor: str, filename: str, timeout=120) -> list[dict]:
    """Provenance events of one processor for FlowFiles named `filename` (chunks keep their file's name)."""
    query = api.post("/provenance", {"provenance": {"request": {
        "maxResults": 10000, "summarize": False, "incrementalResults": False,  # not summarized: with attributes
        "searchTerms": {"ProcessorID": {"value": processor, "inverse": False}}}}})
    query_id, deadline = query["provenance"]["id"], time.monotonic() + timeout
    try:
        while not query["provenance"]["finished"]:
            assert time.monotonic() < deadline, f"provenance query unfinished after {timeout}s"
            time.sleep(1)
            query = api.get(f"/provenance/{query_id}")
    finally:
        api.delete(f"/provenance/{query_id}")
    return [event for event in query["provenance"]["results"]["provenanceEvents"]
            if any(a["name"] == "filename" and a.get("value") == filename for a in event.get("attributes", []))]


def fetches(api: NiFiApi, filename: str) -> int:
    """How often the cluster took the file from the inbox: FETCH events of the fetcher."""
    events = provenance(api, processor_ids(api)["Fetch listed file"], filename)
    return sum(event["eventType"] == "FETCH" for event in events)


def test_a_files_chunks_are_cleaned_on_every_node_and_every_row_lands_once(cluster, export):
    path, expected = export(ROWS, seed=51)
    dropped = time.monotonic()
    drop(path)
    objects = wait_for_rows(cluster, path.stem, rows_in(expected), timeout=WAIT_SECONDS)
    print(f"\n{rows_in(expected)} rows on {NODES} nodes: in the lake {time.monotonic() - dropped:.1f}s after the drop")
    assert_lake_holds_exactly(objects, expected, lake_key())
    versions = versions_per_key(cluster, path.stem)
    assert versions and set(versions.values()) == {1}, f"keys written more than once: {versions}"
    api = login(nifi_nodes(settings(), NODES)[0])
    cleaned_on = {e["clusterNodeAddress"] for e in provenance(api, processor_ids(api)["Clean rows"], path.name)}
    assert len(cleaned_on) == NODES, f"chunks cleaned only on {cleaned_on}"
    assert fetches(api, path.name) == 1


def test_a_file_moved_in_with_a_day_old_mtime_after_a_fresh_one_is_taken_once(cluster, export):
    fresh, fresh_expected = export(5_000, seed=55)
    drop(fresh)
    wait_for_rows(cluster, fresh.stem, rows_in(fresh_expected), timeout=WAIT_SECONDS)
    old, old_expected = export(5_000, seed=56)
    move_in_aged(old, age_seconds=24 * 3600)
    objects = wait_for_rows(cluster, old.stem, rows_in(old_expected), timeout=WAIT_SECONDS)
    assert_lake_holds_exactly(objects, old_expected, lake_key())
    assert set(versions_per_key(cluster, old.stem).values()) == {1}
    assert fetches(login(nifi_nodes(settings(), NODES)[0]), old.name) == 1

def test_the_primary_node_killed_mid_file_loses_and_duplicates_nothing(cluster, export):
    nodes = nifi_nodes(settings(), NODES)
    roles = {m["apiPort"]: m["roles"] for m in members(login(nodes[0]))}
    victim = next(node for node in nodes if "Primary Node" in roles[node.https_port])
    survivors = [node for node in nodes if node is not victim]
    first, first_expected = export(ROWS, seed=52)
    wait_until_taken(drop(first))
    time.sleep(2)  # chunks spread to the nodes and into the Python processors
    os.killpg(int((REPO / ".stack" / f"{victim.service}.pid").read_text()), signal.SIGKILL)
    killed = time.monotonic()
    print(f"\nkilled {victim.service} (roles: {', '.join(roles[victim.https_port])})")
    status = subprocess.run([sys.executable, str(STACK), "status", "--json"], capture_output=True, text=True, cwd=REPO,
                            timeout=300)
    unhealthy = [service["service"] for service in json.loads(status.stdout)["services"] if not service["healthy"]]
    # the survivors may also count as unhealthy for a while, until they elect a new coordinator
    assert status.returncode == 69 and victim.service in unhealthy, status.stdout + status.stderr

    second, second_expected = export(30_000, seed=53)
    drop(second)
    second_objects = wait_for_rows(cluster, second.stem, rows_in(second_expected), timeout=WAIT_SECONDS)
    print(f"the other nodes stored a new file {time.monotonic() - killed:.0f}s after the kill")
    after = {m["apiPort"]: m["roles"] for m in members(login(survivors[0]))}
    assert any("Primary Node" in after[node.https_port] for node in survivors), after

    restarted = time.monotonic()
    stack("up", "nifi", "--nodes", str(NODES))
    print(f"{victim.service} back in the cluster {time.monotonic() - restarted:.0f}s after `nifi/stack up`")
    first_objects = wait_for_rows(cluster, first.stem, rows_in(first_expected), timeout=WAIT_SECONDS)
    print(f"the killed node's chunks stored {time.monotonic() - restarted:.0f}s after the restart")
    assert_lake_holds_exactly(first_objects, first_expected, lake_key())
    assert_lake_holds_exactly(second_objects, second_expected, lake_key())
    api = login(survivors[0])
    assert fetches(api, first.name) == 1 and fetches(api, second.name) == 1


def test_a_minio_server_killed_mid_file_loses_nothing(cluster, export):
    path, expected = export(ROWS, seed=54)
    victim = minio_servers(settings(), MINIO_SERVERS)[2]  # not the one S3_ENDPOINT_URL names
    wait_until_taken(drop(path))
    os.killpg(int((REPO / ".stack" / f"{victim.service}.pid").read_text()), signal.SIGKILL)
    try:
        objects = wait_for_rows(cluster, path.stem, rows_in(expected), timeout=WAIT_SECONDS)
    finally:
        stack("up", "minio", "--minio-servers", str(MINIO_SERVERS))
    assert_lake_holds_exactly(objects, expected, lake_key())
    api = login(nifi_nodes(settings(), NODES)[0])
    assert fetches(api, path.name) == 1


def test_the_lake_tools_work_on_distributed_minio(cluster, export):
    """query (analyst) and erase --dry-run (maintainer, every version) against one of the MinIO servers."""
    path, _ = export(3_000, seed=58)  # a name whose objects the fixture removes afterwards
    tag, expected = tagged_export(path, 3_000, seed=58)
    drop(path)
    wait_for_rows(cluster, path.stem, rows_in(expected), timeout=WAIT_SECONDS)
    env = {**os.environ, "S3_ENDPOINT_URL": cluster.endpoint_url}

    def run_cli(*args):
        return subprocess.run([sys.executable, "-m", "ecommerce_pipeline.cli", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)

    assert_query_reads_the_flow_s_rows(run_cli, tag, expected)
    assert_erase_finds_the_flow_s_rows(run_cli, expected)


def test_status_names_every_node_primary_and_coordinator(cluster):
    status = stack("status").stdout  # exit 0: every MinIO server, ZooKeeper server and node answers
    lines = [line for line in status.splitlines() if line.startswith("nifi-node-")]
    assert len(lines) == NODES and all(", connected" in line for line in lines), status
    assert status.count("primary node") == 1 and status.count("cluster coordinator") == 1, status
    assert sum(line.startswith("zookeeper-") and ("leader" in line or "follower" in line)
               for line in status.splitlines()) == 3, status
    try:
        login(nifi_nodes(settings(), NODES)[1]).get("/controller/cluster")
    except NiFiApiError as error:
        pytest.fail(f"the second node refused its own login: {error}")


def test_every_node_serves_metrics_to_the_stacks_metrics_certificate(cluster):
    context = ssl.create_default_context(cafile=str(NIFI_CA_CERT))
    context.load_cert_chain(METRICS_CLIENT_CERT, METRICS_CLIENT_KEY)
    for node in nifi_nodes(settings(), NODES):
        url = f"https://localhost:{node.https_port}/nifi-api/flow/metrics/prometheus"
        with urllib.request.urlopen(url, context=context, timeout=60) as response:
            text = response.read().decode()
        assert 'component_name="Clean rows"' in text and "cluster_connected_node_count" in text, node.service
        connected = next(line for line in text.splitlines() if line.startswith("cluster_connected_node_count"))
        assert connected.endswith(f" {float(NODES)}"), connected


def test_the_ui_logs_in_on_a_node_that_is_not_the_coordinator(cluster, tmp_path):
    from playwright.sync_api import sync_playwright

    nodes = nifi_nodes(settings(), NODES)
    roles = {m["apiPort"]: m["roles"] for m in members(login(nodes[0]))}
    coordinator = next(n for n in nodes if "Cluster Coordinator" in roles[n.https_port])
    other = next(n for n in nodes if n is not coordinator)
    values = settings()
    node, at_coordinator = (NiFi(n.https_port, NIFI_CA_CERT, values["NIFI_USERNAME"], values["NIFI_PASSWORD"])
                            for n in (other, coordinator))
    with sync_playwright() as driver:
        browser = launch(driver, trusting_home(tmp_path / "chromium-home", NIFI_CA_CERT))
        try:
            page = new_page(browser)
            log_in(page, node, node.password)
            group_on_canvas(page, GROUP).wait_for()
            token = session_token(page)
        finally:
            browser.close()
    assert token, f"logging in on {other.service} set no session token"
    assert rest(node, token, "/flow/current-user")["identity"] == node.username
    with pytest.raises(urllib.error.HTTPError) as refused:  # the node signed the token with its own key
        rest(at_coordinator, token, "/flow/current-user")
    assert refused.value.code == 401
