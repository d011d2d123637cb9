"""What deploy_flow.py puts into the flow's parameters: the flow's own MinIO user, never root."""

import pytest

from nifi.deployment.connection import DeployError
from nifi.deployment.flow_settings import flow_settings
from ecommerce_pipeline.fernet_tokens import generate_key

SETTINGS = {
    "FERNET_KEYS": generate_key(),
    "MINIO_ROOT_USER": "root-user", "MINIO_ROOT_PASSWORD": "root-secret-value",
    "MINIO_FLOW_USER": "flow-user", "MINIO_FLOW_PASSWORD": "flow-secret-value",
}


def test_the_flow_gets_the_flow_user_and_no_root_credential():
    settings = flow_settings(SETTINGS)
    assert settings.values["S3 Access Key ID"] == "flow-user"
    assert settings.values["S3 Secret Access Key"] == "flow-secret-value"
    assert not {"root-user", "root-secret-value"} & set(settings.values.values())
    assert {"S3 Access Key ID", "S3 Secret Access Key"} <= settings.sensitive


@pytest.mark.parametrize("missing", ["MINIO_FLOW_USER", "MINIO_FLOW_PASSWORD"])
def test_a_missing_flow_credential_is_named(missing):
    with pytest.raises(DeployError, match=missing):
        flow_settings({k: v for k, v in SETTINGS.items() if k != missing})
