"""The one settings rule every entry point reads: which `.env`, what counts as set, the S3 defaults."""

import pytest

from ecommerce_pipeline.settings import (
    ENV_FILE_VARIABLE, MissingSetting, S3Settings, env_file, load_settings, require, s3_endpoint_url,
)


def test_env_file_is_the_named_file_else_dot_env_in_the_given_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_FILE_VARIABLE, raising=False)
    assert env_file(tmp_path) == tmp_path / ".env"
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(tmp_path / "elsewhere.env"))
    assert env_file(tmp_path) == tmp_path / "elsewhere.env"


def test_the_environment_wins_over_the_file(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("S3_BUCKET=from-file\nNIFI_USERNAME=file-user\n")
    monkeypatch.setenv("S3_BUCKET", "from-environment")
    monkeypatch.delenv("NIFI_USERNAME", raising=False)
    settings = load_settings(tmp_path / ".env")
    assert (settings["S3_BUCKET"], settings["NIFI_USERNAME"]) == ("from-environment", "file-user")


@pytest.mark.parametrize("value", ["", "   ", "change-me-to-a-long-random-password", "replace-with-output-of-keygen"])
def test_unset_blank_and_placeholder_values_are_named_in_the_callers_error(value):
    class DeployFailed(RuntimeError):
        pass

    with pytest.raises(MissingSetting, match=r"^FERNET_KEYS is not set: add it to \.env"):
        require({"FERNET_KEYS": value}, "FERNET_KEYS")
    with pytest.raises(DeployFailed, match="FERNET_KEYS is not set"):
        require({"FERNET_KEYS": value}, "FERNET_KEYS", DeployFailed)


def test_a_set_value_is_returned_trimmed():
    assert require({"NIFI_USERNAME": " admin \n"}, "NIFI_USERNAME") == "admin"


def test_the_s3_endpoint_defaults_to_the_stacks_minio_on_the_loopback_address():
    assert s3_endpoint_url({}) == "http://127.0.0.1:9000"
    assert s3_endpoint_url({"MINIO_API_PORT": "29000"}) == "http://127.0.0.1:29000"
    assert s3_endpoint_url({"S3_ENDPOINT_URL": "https://s3.example", "MINIO_API_PORT": "29000"}) == "https://s3.example"
    tools = S3Settings.from_settings({"MINIO_API_PORT": "29000", "S3_ADMIN_ACCESS_KEY": "u", "S3_ADMIN_SECRET_KEY": "p"})
    assert (tools.endpoint_url, tools.bucket) == ("http://127.0.0.1:29000", "ecommerce-lake")


def test_an_older_env_s_minio_names_stand_for_unset_store_neutral_names():
    older = {"MINIO_ROOT_USER": "root", "MINIO_ROOT_PASSWORD": "root-secret", "MINIO_ANALYST_USER": "reader",
             "MINIO_ANALYST_PASSWORD": "reader-secret", "S3_ANALYST_ACCESS_KEY": "newer-reader"}
    assert S3Settings.from_settings(older, "admin").access_key == "root"
    analyst = S3Settings.from_settings(older, "analyst")
    assert (analyst.access_key, analyst.secret_key) == ("newer-reader", "reader-secret")
    with pytest.raises(MissingSetting, match="S3_MAINTAINER_ACCESS_KEY is not set"):
        S3Settings.from_settings(older, "maintainer")


def test_load_settings_fills_store_neutral_names_from_the_minio_names(tmp_path, monkeypatch):
    for name in ("S3_FLOW_ACCESS_KEY", "S3_FLOW_SECRET_KEY", "MINIO_FLOW_USER", "MINIO_FLOW_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("MINIO_FLOW_USER=flow\nMINIO_FLOW_PASSWORD=flow-secret\n")
    settings = load_settings(tmp_path / ".env")
    assert (settings["S3_FLOW_ACCESS_KEY"], settings["S3_FLOW_SECRET_KEY"]) == ("flow", "flow-secret")
