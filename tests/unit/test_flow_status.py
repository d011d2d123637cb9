"""What makes `deploy_flow.py status` call the flow unhealthy, from the figures NiFi reports (no server)."""

import json

from nifi.deployment.status import Bulletin, GroupStatus, ProcessorStatus, QueueStatus, problems, render


def processor(name, state="Running"):
    return ProcessorStatus(name, state, 1, 1, 10, 10, 0, 0)


def queue(name, flow_files=0, percent=0, threshold=10_000, penalized=0, percent_bytes=0):
    return QueueStatus(name, flow_files, 100 * flow_files, percent, percent_bytes, threshold, penalized)


def healthy_group(**changes) -> GroupStatus:
    values = {"processors": [processor("Clean rows"), processor("Upload to lake")],
              "queues": [queue("Clean rows -> Route to segments [success]", 3, 0)],
              "bulletins": [Bulletin("12:00:00 UTC", "WARNING", "Clean rows", "rejected orders.csv: wrong header")],
              "nodes": []}
    return GroupStatus(**{**values, **changes})


def test_a_running_flow_with_warnings_only_is_healthy():
    status = healthy_group()
    assert problems(status) == []
    assert "healthy: every processor running" in render(status, [], as_json=False)


def test_each_kind_of_trouble_is_named_once():
    status = healthy_group(
        processors=[processor("Clean rows"), processor("Upload to lake", "Stopped")],
        queues=[queue("Encrypt order_info -> Upload to lake [success]", 10_000, 100),
                queue("Route to segments -> Encrypt customer_info [customer_info]", 5, 1, percent_bytes=100),
                queue("Upload to lake -> Upload to lake [failure]", 4, 0, penalized=4),
                queue("List inbox -> Fetch listed file [success]", 3, 300, threshold=1)],
        bulletins=[Bulletin("12:00:01 UTC", "ERROR", "Split into chunks", "Failed to split\n orders.csv"),
                   Bulletin("12:00:02 UTC", "ERROR", "Split into chunks", "Failed to split other.csv"),
                   Bulletin("12:00:03 UTC", "WARNING", "Upload to lake", "cannot reach S3")],
        nodes=["node localhost:8443 connected    primary node  queued 0",
               "node localhost:8444 disconnected -             no status"])
    found = problems(status)
    assert found == [
        "processor 'Upload to lake' is stopped, not running",
        "processor 'Split into chunks' raised 2 ERROR bulletin(s) in the last 5 minutes, the latest: "
        "Failed to split other.csv",
        "queue Encrypt order_info -> Upload to lake [success] is at back pressure (10000 FlowFiles, 977 KB; "
        "100 % of its threshold)",
        "queue Route to segments -> Encrypt customer_info [customer_info] is at back pressure (5 FlowFiles, 500 B; "
        "100 % of its threshold)",
        "queue Upload to lake -> Upload to lake [failure] holds 4 penalised FlowFile(s): failed and looping back "
        "to be retried",
        "not connected: node localhost:8444 disconnected -             no status",
    ]


def test_a_one_flowfile_gate_is_full_by_design_not_back_pressure():
    gate = queue("List inbox -> Fetch listed file [success]", 1, 100, threshold=1)
    assert not gate.at_back_pressure
    assert problems(healthy_group(queues=[gate])) == []


def test_json_says_healthy_or_not_with_the_problems():
    status = healthy_group(queues=[queue("Upload to lake -> Upload to lake [failure]", 2, 0, penalized=2)])
    document = json.loads(render(status, problems(status), as_json=True))
    assert document["healthy"] is False and len(document["problems"]) == 1
    assert document["queues"][0]["penalized"] == 2 and document["queues"][0]["at_back_pressure"] is False
    assert [p["name"] for p in document["processors"]] == ["Clean rows", "Upload to lake"]
