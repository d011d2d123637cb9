"""The cluster's layout (ports, names, directories), its conf values and the concurrency rule: pure functions."""

import pytest

from nifi.deployment.cluster import concurrent_tasks
from nifi.deployment.connection import DeployError
from nifi.provisioning.layout import minio_servers, nifi_nodes, zookeeper_connect_string, zookeeper_servers
from nifi.provisioning.nifi_conf import cluster_values

ENV = {
    "NIFI_HTTPS_PORT": "51443", "NIFI_CLUSTER_PROTOCOL_PORT": "51100", "NIFI_LOAD_BALANCE_PORT": "51200",
    "ZOOKEEPER_CLIENT_PORT": "51300", "ZOOKEEPER_PEER_PORT": "51310", "ZOOKEEPER_ELECTION_PORT": "51320",
    "MINIO_API_PORT": "59000", "MINIO_CONSOLE_PORT": "59001",
}


def test_a_single_node_keeps_the_single_node_layout():
    [node] = nifi_nodes(ENV, 1)
    assert (node.name, node.service, node.state.name, node.https_port) == ("localhost", "nifi", "nifi", 51443)
    assert node.ports() == {"NIFI_HTTPS_PORT": 51443}
    values = cluster_values(ENV, node, [node])
    assert values["cluster_is_node"] == "false" and values["zookeeper_connect"] == ""
    assert values["node_identities"] == values["node_user_identities"] == ""


def test_cluster_nodes_have_their_own_ports_directories_and_names():
    nodes = nifi_nodes(ENV, 3)
    assert [n.service for n in nodes] == ["nifi-node-1", "nifi-node-2", "nifi-node-3"]
    assert len({n.state for n in nodes}) == 3
    ports = [p for n in nodes for p in n.ports().values()]
    assert len(ports) == len(set(ports)) == 9
    assert nodes[2].ports() == {"NIFI_HTTPS_PORT + 2": 51445, "NIFI_CLUSTER_PROTOCOL_PORT + 2": 51102,
                                "NIFI_LOAD_BALANCE_PORT + 2": 51202}


def test_a_cluster_node_names_every_node_and_the_quorum():
    nodes = nifi_nodes(ENV, 2)
    values = cluster_values(ENV, nodes[1], nodes)
    assert values["cluster_is_node"] == "true"
    assert (values["cluster_protocol_port"], values["load_balance_port"], values["node_count"]) == ("51101", "51201", "2")
    assert values["zookeeper_connect"] == "localhost:51300,localhost:51301,localhost:51302"
    assert '"Node Identity 1">CN=node-1<' in values["node_identities"]
    assert '"Node Identity 2">CN=node-2<' in values["node_identities"]
    assert '"Initial User Identity 3">CN=node-2<' in values["node_user_identities"]


def test_the_quorum_has_three_servers_whatever_the_node_count():
    servers = zookeeper_servers(ENV)
    assert [s.index for s in servers] == [1, 2, 3]
    assert zookeeper_connect_string(ENV).count(",") == 2
    assert len({p for s in servers for p in s.ports().values()}) == 9


def test_distributed_minio_servers_do_not_share_ports_or_drives():
    servers = minio_servers(ENV, 4)
    assert [s.api_port for s in servers] == [59000, 59010, 59020, 59030]
    assert len({s.drive for s in servers}) == 4
    [single] = minio_servers(ENV, 1)
    assert (single.service, single.drive.name) == ("minio", "minio-data")


@pytest.mark.parametrize("cores, setting, expected", [
    (1, None, (1, 1)), (2, None, (2, 1)), (8, None, (8, 4)), (16, "6", (6, 3)), (2, "1", (1, 1)),
])
def test_concurrent_tasks_follow_the_cores_and_python_gets_half(cores, setting, expected):
    assert concurrent_tasks(cores, setting) == expected


@pytest.mark.parametrize("setting", ["0", "two", "-3"])
def test_a_bad_concurrency_setting_is_refused(setting):
    with pytest.raises(DeployError, match="NIFI_CONCURRENT_TASKS"):
        concurrent_tasks(4, setting)
