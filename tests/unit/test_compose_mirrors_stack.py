"""docker-compose.yml and nifi/stack describe the same services: versions, ports, variables."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
STACK = (REPO / "nifi" / "stack").read_text()
ENV_EXAMPLE = dict(
    line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines() if line and not line.startswith("#")
)


def stack_constant(name: str) -> str:
    return re.search(rf'^{name} = "([^"]+)"', STACK, flags=re.MULTILINE).group(1)


def test_same_nifi_version():
    assert COMPOSE["services"]["nifi"]["image"] == f"apache/nifi:{stack_constant('NIFI_VERSION')}"
    pom = (REPO / "nifi" / "assembly" / "pom.xml").read_text()
    assert f"<nifi.version>{stack_constant('NIFI_VERSION')}</nifi.version>" in pom


def test_same_minio_version():
    args = COMPOSE["services"]["minio"]["build"]["args"]
    assert args["MINIO_VERSION"] == stack_constant("MINIO_VERSION")


def test_ports_come_from_the_same_variables_with_the_same_defaults():
    published = [p for s in COMPOSE["services"].values() for p in s.get("ports", [])]
    for variable, container_port in [("NIFI_HTTPS_PORT", 8443), ("MINIO_API_PORT", 9000), ("MINIO_CONSOLE_PORT", 9001)]:
        assert f"127.0.0.1:${{{variable}:-{ENV_EXAMPLE[variable]}}}:{container_port}" in published


def test_every_variable_compose_reads_is_documented_in_env_example():
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (REPO / "docker-compose.yml").read_text()))
    assert used <= set(ENV_EXAMPLE), used - set(ENV_EXAMPLE)


def test_processors_and_inbox_are_mounted_as_in_the_native_stack():
    volumes = COMPOSE["services"]["nifi"]["volumes"]
    assert "./processors:/opt/nifi/nifi-current/python_extensions:ro" in volumes
    assert any(v.startswith("./data/inbox:") for v in volumes)


def test_nifi_heap_is_at_most_two_gigabytes():
    assert COMPOSE["services"]["nifi"]["environment"]["NIFI_JVM_HEAP_MAX"] in {"1g", "2g"}
