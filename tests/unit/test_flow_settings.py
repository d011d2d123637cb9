"""What deploy_flow.py puts into the flow's parameters: the flow's own S3 identity, never the admin."""

import pytest

from nifi.deployment.flow_settings import flow_settings
from ecommerce_pipeline.fernet_tokens import generate_key
from ecommerce_pipeline.settings import MissingSetting, with_legacy_names

SETTINGS = {
    "FERNET_KEYS": generate_key(),
    "S3_ADMIN_ACCESS_KEY": "root-user", "S3_ADMIN_SECRET_KEY": "root-secret-value",
    "S3_FLOW_ACCESS_KEY": "flow-user", "S3_FLOW_SECRET_KEY": "flow-secret-value",
}


def test_the_flow_gets_the_flow_user_and_no_root_credential():
    settings = flow_settings(SETTINGS)
    assert settings.values["S3 Access Key ID"] == "flow-user"
    assert settings.values["S3 Secret Access Key"] == "flow-secret-value"
    assert not {"root-user", "root-secret-value"} & set(settings.values.values())
    assert {"S3 Access Key ID", "S3 Secret Access Key"} <= settings.sensitive


def test_an_env_with_the_older_minio_names_still_gives_the_flow_its_user():
    older = {"FERNET_KEYS": SETTINGS["FERNET_KEYS"], "MINIO_ROOT_USER": "root-user", "MINIO_ROOT_PASSWORD": "root-secret-value",
             "MINIO_FLOW_USER": "flow-user", "MINIO_FLOW_PASSWORD": "flow-secret-value"}
    settings = flow_settings(with_legacy_names(older))
    assert (settings.values["S3 Access Key ID"], settings.values["S3 Secret Access Key"]) == ("flow-user", "flow-secret-value")


@pytest.mark.parametrize("missing", ["S3_FLOW_ACCESS_KEY", "S3_FLOW_SECRET_KEY"])
def test_a_missing_flow_credential_is_named_as_missing_configuration(missing):
    with pytest.raises(MissingSetting, match=missing) as raised:
        flow_settings({k: v for k, v in SETTINGS.items() if k != missing})
    assert raised.value.exit_code == 78
