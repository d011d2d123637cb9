"""docker-compose.yml is a valid Compose file: checked against the schema Docker Compose itself loads.

A build test, not a unit test: the schema comes from the pinned compose-go module, fetched once
through the Go module proxy into Go's module cache.
"""

import json
import subprocess
from pathlib import Path

import jsonschema
import yaml

from nifi.provisioning.paths import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
# The Compose Specification's JSON schema, as Docker Compose itself loads it (compose-go).
COMPOSE_SPEC_MODULE = "github.com/compose-spec/compose-go/v2@v2.16.2"


def compose_spec_schema() -> dict:
    """The schema file of the pinned compose-go module, fetched once into Go's module cache."""
    download = subprocess.run(["go", "mod", "download", "-json", COMPOSE_SPEC_MODULE], capture_output=True, text=True)
    assert download.returncode == 0, download.stdout + download.stderr
    return json.loads((Path(json.loads(download.stdout)["Dir"]) / "schema" / "compose-spec.json").read_text())


def test_compose_file_is_valid_against_the_compose_specification():
    schema = compose_spec_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [error.message for error in validator.iter_errors(COMPOSE)] == []
    assert list(validator.iter_errors({**COMPOSE, "services": {"nifi": {"image": "x", "bogus": 1}}}))
