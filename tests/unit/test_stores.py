"""The store interface's pure parts: which store `up` picks, SeaweedFS's ports and its identities file."""

import json
import stat

import pytest

from ecommerce_pipeline.settings import MissingSetting
from nifi.provisioning.access_policies import account_policies
from nifi.provisioning.layout import seaweedfs_server
from nifi.provisioning.processes import StackError
from nifi.provisioning.seaweedfs import grpc_sockets, server_arguments
from nifi.provisioning.seaweedfs_access import identities_config, write_identities
from nifi.provisioning.stores import STORES, choose_store

ENV = {"MINIO_API_PORT": "59000", "SEAWEEDFS_PORT": "59333", "S3_BUCKET": "lake",
       **{f"S3_{account}_{kind}_KEY": f"{account.lower()}-{kind.lower()}-value"
          for account in ("ADMIN", "FLOW", "ANALYST", "MAINTAINER") for kind in ("ACCESS", "SECRET")}}


def test_up_takes_the_named_store_then_s3_store_then_the_last_one_then_minio():
    assert choose_store("seaweedfs", {"S3_STORE": "minio"}, "minio").name == "seaweedfs"
    assert choose_store(None, {"S3_STORE": "SeaweedFS"}, "minio").name == "seaweedfs"
    assert choose_store(None, {"S3_STORE": ""}, "seaweedfs").name == "seaweedfs"
    assert choose_store(None, {}, None).name == "minio"
    with pytest.raises(StackError, match="S3_STORE='garage' is not a store the stack runs"):
        choose_store(None, {"S3_STORE": "garage"}, None)


def test_only_minio_runs_more_than_one_server():
    assert STORES["minio"].max_servers is None and STORES["seaweedfs"].max_servers == 1


def test_seaweedfs_serves_s3_on_the_stacks_s3_port_and_every_other_port_is_its_own():
    server = seaweedfs_server(ENV)
    ports = server.ports()
    assert ports["MINIO_API_PORT"] == 59000 and server.endpoint_url == "http://127.0.0.1:59000"
    assert sorted(ports.values()) == [59000, 59333, 59334, 59335, 69333, 69334, 69335, 69336]
    arguments = server_arguments(server)
    for flag in ("-s3.port=59000", "-master.port=59333", "-volume.port=59334", "-filer.port=59335",
                 "-master.port.grpc=69333", "-volume.port.grpc=69334", "-filer.port.grpc=69335", "-s3.port.grpc=69336",
                 "-master.telemetry=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.iam=false",
                 "-ip.bind=127.0.0.1"):
        assert flag in arguments
    assert [path.name for path in grpc_sockets(server)] == [
        "seaweedfs-master-grpc-69333.sock", "seaweedfs-volume-grpc-69334.sock", "seaweedfs-filer-grpc-69335.sock",
        "seaweedfs-s3-grpc-69336.sock"]


def test_the_identities_attach_the_same_policies_as_minio_and_only_the_admin_has_actions():
    config = identities_config(ENV)
    by_key = {identity["credentials"][0]["accessKey"]: identity for identity in config["identities"]}
    assert by_key["admin-access-value"]["actions"] == ["Admin", "Read", "List", "Tagging", "Write"]
    policies = {policy["name"]: json.loads(policy["content"]) for policy in config["policies"]}
    for account, (name, document) in account_policies("lake").items():
        identity = by_key[f"{account}-access-value"]
        assert identity["credentials"][0]["secretKey"] == f"{account}-secret-value"
        assert "actions" not in identity, "a legacy Write action would include deletes"
        assert identity["policyNames"] == [name] and policies[name] == document


def test_the_identities_file_is_owner_only_and_rewritten_only_when_it_changes(tmp_path):
    path = tmp_path / "s3-identities.json"
    assert write_identities(ENV, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not write_identities(ENV, path)
    assert write_identities({**ENV, "S3_FLOW_SECRET_KEY": "rotated"}, path)
    assert "rotated" in path.read_text()


def test_a_missing_identity_is_named():
    with pytest.raises(MissingSetting, match="S3_ANALYST_SECRET_KEY is not set"):
        identities_config({k: v for k, v in ENV.items() if k != "S3_ANALYST_SECRET_KEY"})
