"""docker-compose.yml describes the same services as nifi/stack (its schema check is tests/build/test_compose_schema.py)."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
PROVISIONING = REPO / "nifi" / "provisioning"
ENV_EXAMPLE = dict(
    line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines() if line and not line.startswith("#")
)


def stack_constant(name: str) -> str:
    """A version constant of the native stack, read from the provisioning module that defines it."""
    found = [re.search(rf'^{name} = "([^"]+)"', module.read_text(), flags=re.MULTILINE)
             for module in PROVISIONING.glob("*.py")]
    return next(match.group(1) for match in found if match)


def test_same_nifi_version():
    assert COMPOSE["services"]["nifi"]["image"] == f"ecommerce-pipeline/nifi:{stack_constant('NIFI_VERSION')}"
    pom = (REPO / "nifi" / "assembly" / "pom.xml").read_text()
    assert f"<nifi.version>{stack_constant('NIFI_VERSION')}</nifi.version>" in pom


def test_same_minio_version():
    assert COMPOSE["services"]["minio"]["image"] == f"ecommerce-pipeline/minio:{stack_constant('MINIO_VERSION')}"


def test_both_images_build_from_the_base_image_the_stack_makes_when_none_can_be_pulled():
    for service in ("nifi", "minio"):
        dockerfile = (REPO / COMPOSE["services"][service]["build"]["dockerfile"]).read_text()
        assert re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE) == [stack_constant("BASE_IMAGE")], service


def test_ports_come_from_the_same_variables_with_the_same_defaults():
    published = [p for s in COMPOSE["services"].values() for p in s.get("ports", [])]
    for variable, container_port in [("NIFI_HTTPS_PORT", 8443), ("MINIO_API_PORT", 9000), ("MINIO_CONSOLE_PORT", 9001)]:
        assert f"127.0.0.1:${{{variable}:-{ENV_EXAMPLE[variable]}}}:{container_port}" in published


def test_every_variable_compose_reads_is_documented_in_env_example():
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (REPO / "docker-compose.yml").read_text()))
    assert used <= set(ENV_EXAMPLE), used - set(ENV_EXAMPLE)


def test_inbox_and_ca_are_mounted_where_the_container_and_the_host_tools_expect_them():
    from nifi.provisioning.container import CA_EXPORT, INBOX
    from nifi.provisioning.paths import DOCKER_CA_CERT

    volumes = COMPOSE["services"]["nifi"]["volumes"]
    assert f"./data/inbox:{INBOX}" in volumes
    assert f"./{DOCKER_CA_CERT.parent.relative_to(REPO)}:{CA_EXPORT}" in volumes
    assert not any("processors" in volume for volume in volumes), "the processors come from the NAR in the image"


def test_nifi_starts_and_reports_health_through_the_stacks_own_code():
    nifi = COMPOSE["services"]["nifi"]
    dockerfile = (REPO / nifi["build"]["dockerfile"]).read_text()
    assert 'ENTRYPOINT ["python3", "-m", "provisioning.container"]' in dockerfile
    assert nifi["healthcheck"]["test"] == ["CMD", "python3", "-m", "provisioning.container", "health"]
    assert COMPOSE["services"]["minio-init"]["image"] == nifi["image"]
    assert COMPOSE["services"]["minio-init"]["command"] == ["bucket"]
