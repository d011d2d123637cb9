"""The .env nifi/stack writes, and what it adds to an older one without changing a value."""

import pytest
from dotenv import dotenv_values

from ecommerce_pipeline.settings import LEGACY_NAMES, S3_ACCOUNTS
from nifi.provisioning.paths import REPO
from nifi.provisioning import env_file

IDENTITY_VARIABLES = tuple(name for account in S3_ACCOUNTS.values() for name in account) + tuple(LEGACY_NAMES.values())
SECRETS = tuple(secret for _, secret in S3_ACCOUNTS.values())


@pytest.fixture
def env_path(tmp_path, monkeypatch):
    for name in IDENTITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(env_file, "ENV_FILE", tmp_path / ".env")
    return tmp_path / ".env"


def test_a_new_env_has_random_secrets_for_every_identity(env_path):
    env_file.ensure_env_file()
    values = dotenv_values(env_path)
    assert (values["S3_FLOW_ACCESS_KEY"], values["S3_ANALYST_ACCESS_KEY"], values["S3_MAINTAINER_ACCESS_KEY"]) == (
        "ecommerce-flow", "ecommerce-analyst", "ecommerce-maintainer")
    secrets = [values[name] for name in SECRETS]
    assert len(set(secrets)) == 4 and all(len(s) >= 24 and "change-me" not in s for s in secrets)
    assert not set(LEGACY_NAMES.values()) & set(values)
    assert oct(env_path.stat().st_mode & 0o777) == "0o600"


def test_an_older_env_gets_the_new_identities_and_keeps_every_value(env_path):
    newer = ("S3_FLOW_", "S3_ANALYST_", "S3_MAINTAINER_")
    older = [line for line in (REPO / ".env.example").read_text().replace("change-me", "kept").splitlines()
             if not line.startswith(newer)]
    env_path.write_text("\n".join(older))
    env_file.ensure_env_file()
    text = env_path.read_text()
    assert text.startswith("\n".join(older) + "\n")
    added = dotenv_values(env_path)
    assert added["S3_FLOW_ACCESS_KEY"] == "ecommerce-flow" and len(added["S3_FLOW_SECRET_KEY"]) >= 24
    assert len({added["S3_ANALYST_SECRET_KEY"], added["S3_FLOW_SECRET_KEY"], added["S3_MAINTAINER_SECRET_KEY"]}) == 3
    env_file.ensure_env_file()
    assert env_path.read_text() == text


def test_an_env_with_the_minio_names_gets_the_store_neutral_names_with_the_same_values(env_path):
    env_path.write_text("MINIO_ROOT_USER=admin\nMINIO_ROOT_PASSWORD=root-secret\n"
                        "MINIO_FLOW_USER=my-flow\nMINIO_FLOW_PASSWORD=mine\n")
    env_file.ensure_env_file()
    values = dotenv_values(env_path)
    assert (values["S3_ADMIN_ACCESS_KEY"], values["S3_ADMIN_SECRET_KEY"]) == ("admin", "root-secret")
    assert (values["S3_FLOW_ACCESS_KEY"], values["S3_FLOW_SECRET_KEY"]) == ("my-flow", "mine")
    assert values["MINIO_FLOW_PASSWORD"] == "mine"
    assert values["S3_ANALYST_ACCESS_KEY"] == "ecommerce-analyst" and len(values["S3_ANALYST_SECRET_KEY"]) >= 24


def test_a_set_identity_is_never_replaced(env_path, monkeypatch):
    monkeypatch.setenv("S3_ANALYST_SECRET_KEY", "from-the-environment")
    env_path.write_text("S3_ADMIN_ACCESS_KEY=admin\nS3_FLOW_ACCESS_KEY=my-flow\nS3_FLOW_SECRET_KEY=mine\n"
                        "MINIO_MAINTAINER_IS_NOT_A_NAME=1\nS3_MAINTAINER_SECRET_KEY=kept\n")
    env_file.ensure_env_file()
    values = dotenv_values(env_path)
    assert values["S3_FLOW_ACCESS_KEY"] == "my-flow" and values["S3_FLOW_SECRET_KEY"] == "mine"
    assert values["S3_MAINTAINER_SECRET_KEY"] == "kept"
    assert "S3_ANALYST_SECRET_KEY" not in values and "S3_ADMIN_SECRET_KEY" not in values
