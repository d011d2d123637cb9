"""The .env nifi/stack writes, and the accounts it adds to an older one without changing a value."""

import pytest
from dotenv import dotenv_values

from nifi.provisioning.paths import REPO
from nifi.provisioning import env_file

ACCOUNT_VARIABLES = ("MINIO_FLOW_USER", "MINIO_FLOW_PASSWORD", "MINIO_ANALYST_USER", "MINIO_ANALYST_PASSWORD")


@pytest.fixture
def env_path(tmp_path, monkeypatch):
    for name in ACCOUNT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(env_file, "ENV_FILE", tmp_path / ".env")
    return tmp_path / ".env"


def test_a_new_env_has_random_passwords_for_the_flow_and_the_analyst(env_path):
    env_file.ensure_env_file()
    values = dotenv_values(env_path)
    assert values["MINIO_FLOW_USER"] == "ecommerce-flow" and values["MINIO_ANALYST_USER"] == "ecommerce-analyst"
    passwords = [values[name] for name in ("MINIO_ROOT_PASSWORD", "MINIO_FLOW_PASSWORD", "MINIO_ANALYST_PASSWORD")]
    assert len(set(passwords)) == 3 and all(len(p) >= 24 and "change-me" not in p for p in passwords)
    assert oct(env_path.stat().st_mode & 0o777) == "0o600"


def test_an_older_env_gets_the_accounts_and_keeps_every_value(env_path):
    older = [line for line in (REPO / ".env.example").read_text().replace("change-me", "kept").splitlines()
             if not line.startswith(ACCOUNT_VARIABLES)]
    env_path.write_text("\n".join(older))
    env_file.ensure_env_file()
    text = env_path.read_text()
    assert text.startswith("\n".join(older) + "\n")
    added = dotenv_values(env_path)
    assert added["MINIO_FLOW_USER"] == "ecommerce-flow" and len(added["MINIO_FLOW_PASSWORD"]) >= 24
    assert added["MINIO_ANALYST_PASSWORD"] != added["MINIO_FLOW_PASSWORD"]
    env_file.ensure_env_file()
    assert env_path.read_text() == text


def test_a_set_account_is_never_replaced(env_path, monkeypatch):
    monkeypatch.setenv("MINIO_ANALYST_PASSWORD", "from-the-environment")
    env_path.write_text("MINIO_ROOT_USER=admin\nMINIO_FLOW_USER=my-flow\nMINIO_FLOW_PASSWORD=mine\n")
    env_file.ensure_env_file()
    values = dotenv_values(env_path)
    assert values["MINIO_FLOW_USER"] == "my-flow" and values["MINIO_FLOW_PASSWORD"] == "mine"
    assert "MINIO_ANALYST_PASSWORD" not in values and "MINIO_ROOT_PASSWORD" not in values
