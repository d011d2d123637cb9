"""docker-compose.yml on a real Docker engine: README.md's Docker commands from the images to the sample in MinIO.

Then a messy export and a broken file go through the containerised flow, the lake is read
back independently (boto3, pyarrow, plain Fernet), and Chromium logs in through the
container's HTTPS, trusting the CA the container exported. Marked `docker` and left out of the
default run: `python3 -m pytest -m docker` runs it, after the native suite with the native stack
down (.ci/run does so), since both stacks together do not fit the machine. The README commands run
verbatim, on free ports and under a compose project name of their own; `docker compose down -v`
removes the containers and volumes at the end. Without a Docker engine the fixture installs
docker.io, starts dockerd and stops it afterwards; where no engine can be had, the tests fail.
"""

import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field

import pytest
from cryptography.fernet import Fernet

from browser import group_on_canvas, launch, log_in, new_page, session_token, trusting_home
from conftest import REPO, NiFi, free_port
from ecommerce_pipeline.cleaning import clean_frame, read_raw_csv
from ecommerce_pipeline.sample_data import write_sample_csv
from ecommerce_pipeline.settings import S3Settings, load_settings
from inbox import drop, lake_key, wait_for_quarantined_file, wait_for_rows
from lake import assert_lake_holds_exactly, assert_no_plaintext, keys_of, read_objects, write_bad_export
from lake_tools import assert_erase_finds_the_flow_s_rows, assert_query_reads_the_flow_s_rows, tagged_export
from nifi.provisioning.docker_images import IMAGE_PYTHON
from nifi.provisioning.paths import DOCKER_CA_CERT, DOCKER_METRICS_CLIENT_CERT, DOCKER_METRICS_CLIENT_KEY

pytestmark = [pytest.mark.integration, pytest.mark.docker]

PROJECT = "ecommerce-pipeline-test"
DOCKER_COMMAND = re.compile(r"^<!-- docker-command -->\n\n {4}(\S.*)$", re.MULTILINE)
SAMPLE = REPO / "data" / "sample" / "ecommerce_sample.csv"
COMMAND_TIMEOUT = 1800
ENGINE_TIMEOUT = 120
TOOLS = {"dockerd": "docker.io"}  # tool: the Debian package that brings it (mmdebstrap: `nifi/stack images` does)


def docker_commands() -> list[str]:
    """README.md's Docker commands, each on the indented line after its `<!-- docker-command -->` marker."""
    return DOCKER_COMMAND.findall((REPO / "README.md").read_text())


def engine_answers() -> bool:
    return shutil.which("docker") is not None and subprocess.run(
        ["docker", "info"], capture_output=True, timeout=60).returncode == 0


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory):
    """A running Docker engine: the one there is, else docker.io installed and dockerd started (and stopped after).

    Nothing else: what README's Docker commands need beyond the engine (mmdebstrap, to make the
    base image when no registry serves one), `nifi/stack images` installs itself.
    """
    missing = [package for tool, package in TOOLS.items() if not shutil.which(tool)]
    if missing:
        apt = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for step in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *missing]):
            result = subprocess.run(step, capture_output=True, text=True, env=apt, timeout=900)
            if result.returncode != 0:
                pytest.fail(f"`{' '.join(step)}` failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    if engine_answers():
        yield
        return
    log = tmp_path_factory.mktemp("dockerd") / "dockerd.log"
    with open(log, "wb") as output:
        dockerd = subprocess.Popen(["dockerd"], stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + ENGINE_TIMEOUT
    while not engine_answers():
        if dockerd.poll() is not None or time.monotonic() > deadline:
            dockerd.kill()
            pytest.fail(f"dockerd did not start; its log ends with:\n{log.read_text()[-3000:]}")
        time.sleep(1)
    yield
    dockerd.send_signal(signal.SIGTERM)  # dockerd stops its containerd; compose down has removed the containers
    try:
        dockerd.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(dockerd.pid, signal.SIGKILL)
        dockerd.wait()


@dataclass(frozen=True)
class ComposeStack:
    """The running compose project; its fields hold credentials, so none of them shows in a report."""

    env: dict[str, str] = field(repr=False)
    nifi: NiFi = field(repr=False)
    minio: S3Settings = field(repr=False)

    def compose(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", "compose", *args], cwd=REPO, env=self.env, capture_output=True, text=True,
                              timeout=timeout)


@pytest.fixture(scope="session")
def compose_stack(docker_engine):
    """README's Docker commands run as written; the stack they bring up, taken down with its volumes after."""
    commands = docker_commands()
    assert len(commands) >= 4, f"README.md names {commands} under <!-- docker-command -->"
    ports = {name: str(free_port()) for name in ("NIFI_HTTPS_PORT", "MINIO_API_PORT", "MINIO_CONSOLE_PORT")}
    env = {**os.environ, **ports, "COMPOSE_PROJECT_NAME": PROJECT,
           "S3_ENDPOINT_URL": f"http://localhost:{ports['MINIO_API_PORT']}",
           "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("processors", "."))}
    settings = {**load_settings(REPO / ".env"), **env}
    stack = ComposeStack(env, NiFi(int(ports["NIFI_HTTPS_PORT"]), DOCKER_CA_CERT, settings["NIFI_USERNAME"],
                                   settings["NIFI_PASSWORD"]), S3Settings.from_settings(settings))
    try:
        for command in commands:
            started = time.monotonic()
            result = subprocess.run(["bash", "-c", command], cwd=REPO, env=env, capture_output=True, text=True,
                                    timeout=COMMAND_TIMEOUT)
            print(f"\n+ {command}\n  exit {result.returncode} after {time.monotonic() - started:.0f}s")
            if result.returncode != 0:
                logs = stack.compose("logs", "--tail", "60").stdout
                pytest.fail(f"`{command}` failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}\n{logs[-4000:]}")
        yield stack
    finally:
        down = stack.compose("down", "--volumes", "--timeout", "90", timeout=300)
        left = subprocess.run(["docker", "ps", "--all", "--quiet", "--filter", f"label=com.docker.compose.project={PROJECT}"],
                              capture_output=True, text=True, env=env)
        assert down.returncode == 0 and not left.stdout.strip(), f"{down.stderr}\ncontainers left: {left.stdout}"


def test_the_readme_commands_store_the_sample_in_minio(compose_stack):
    objects = read_objects(compose_stack.minio, keys_of(compose_stack.minio, SAMPLE.stem))
    expected = clean_frame(read_raw_csv(SAMPLE.read_bytes()))

    assert (len(expected.clean), len(expected.quarantine)) == (498, 2)
    assert_lake_holds_exactly(objects, expected, lake_key())
    assert_no_plaintext(objects, read_raw_csv(SAMPLE.read_bytes()))


def test_a_messy_export_and_a_broken_file_are_stored_or_quarantined_once(compose_stack, tmp_path):
    messy = tmp_path / f"orders-{uuid.uuid4().hex[:8]}.csv"
    write_sample_csv(messy, rows=5_000, seed=41, bad_row_fraction=0.02, bom=True, crlf=True)
    broken = tmp_path / f"bad-binary-{uuid.uuid4().hex[:8]}.csv"
    broken_content = write_bad_export(broken, "binary")
    drop(messy)
    drop(broken)

    objects = wait_for_rows(compose_stack.minio, messy.stem, 5_000)
    quarantined = wait_for_quarantined_file(compose_stack.minio, broken.stem)

    expected = clean_frame(read_raw_csv(messy.read_bytes()))
    assert len(expected.quarantine) > 0
    assert_lake_holds_exactly(objects, expected, lake_key())
    assert_no_plaintext(objects, read_raw_csv(messy.read_bytes()))
    assert all(key.startswith("_quarantine/") for key in keys_of(compose_stack.minio, broken.stem))
    stored = compose_stack.minio.client().get_object(Bucket=compose_stack.minio.bucket, Key=quarantined[0])
    assert stored["Metadata"]["reason"]
    assert Fernet(lake_key()).decrypt(stored["Body"].read()) == broken_content


def test_the_lake_tools_work_on_the_compose_stack_s_minio(compose_stack, tmp_path):
    """query (analyst) and erase --dry-run (maintainer) from the host, with the endpoint and credentials alone."""
    export = tmp_path / f"lake-tools-{uuid.uuid4().hex[:8]}.csv"
    tag, expected = tagged_export(export, 2_000, seed=43)
    drop(export)
    wait_for_rows(compose_stack.minio, export.stem, 2_000)

    def run_cli(*args):
        return subprocess.run([sys.executable, "-m", "ecommerce_pipeline.cli", *args], cwd=REPO, env=compose_stack.env,
                              capture_output=True, text=True, timeout=600)

    assert_query_reads_the_flow_s_rows(run_cli, tag, expected)
    assert_erase_finds_the_flow_s_rows(run_cli, expected)


def test_nifi_runs_as_uid_1000_from_the_nar_without_pip_or_virtualenvs(compose_stack):
    listing = compose_stack.compose("exec", "-T", "--user", "1000", "nifi", "python3", "-c", (
        "import json, os, pathlib; print(json.dumps({'processes': [(p.stat().st_uid, (p / 'cmdline').read_bytes()"
        ".decode(errors='replace').replace(chr(0), ' ')) for p in pathlib.Path('/proc').glob('[0-9]*')], "
        "'python_work': os.path.exists('/var/lib/ecommerce-pipeline/nifi/work/python')}))"))
    assert listing.returncode == 0, listing.stderr
    found = json.loads(listing.stdout)
    nifi = [(uid, command) for uid, command in found["processes"] if "org.apache.nifi.NiFi" in command or "Controller.py" in command]

    assert any("org.apache.nifi.NiFi" in command for _, command in nifi)
    assert any("Controller.py" in command for _, command in nifi), "the flow's Python processors run"
    assert {uid for uid, _ in nifi} == {1000}
    assert not any(re.search(r"\bpip\b|-m venv", command) for _, command in found["processes"])
    assert not found["python_work"], "NiFi made a virtualenv instead of using the NAR's bundled dependencies"
    pip = compose_stack.compose("exec", "-T", "--user", "1000", "nifi", "python3", "-m", "pip", "--version")
    assert pip.returncode != 0 and "No module named pip" in pip.stderr, "the image has no pip"


LOADED_FERNET = """
import json, pathlib, sys
loaded = set()
for maps in pathlib.Path('/proc').glob('[0-9]*/maps'):
    try:
        loaded |= {line.split()[-1] for line in maps.read_text().splitlines() if line.endswith('_fernet.abi3.so')}
    except OSError:
        pass
print(json.dumps({'python': '%d.%d' % sys.version_info[:2], 'loaded': sorted(loaded)}))
"""


def test_the_processors_encrypt_with_the_nar_s_compiled_fernet_on_the_image_s_python(compose_stack):
    """The abi3 module built on the host is mapped into the container's Python processors, from the NAR
    (README's commands, run by the fixture, had the sample encrypted in there)."""
    found = compose_stack.compose("exec", "-T", "--user", "1000", "nifi", "python3", "-c", LOADED_FERNET)
    assert found.returncode == 0, found.stderr
    report = json.loads(found.stdout)
    assert report["python"] == IMAGE_PYTHON
    assert report["loaded"], "no process of the container has loaded _fernet.abi3.so"
    assert all(path.startswith("/var/lib/ecommerce-pipeline/nifi/work/") for path in report["loaded"]), report


def test_the_exported_metrics_certificate_scrapes_the_containers_nifi(compose_stack):
    context = ssl.create_default_context(cafile=str(DOCKER_CA_CERT))
    context.load_cert_chain(DOCKER_METRICS_CLIENT_CERT, DOCKER_METRICS_CLIENT_KEY)
    url = f"https://localhost:{compose_stack.nifi.port}/nifi-api/flow/metrics/prometheus"
    with urllib.request.urlopen(url, context=context, timeout=60) as response:
        text = response.read().decode()
    assert 'component_name="Clean rows"' in text and 'destination_name="Upload to lake"' in text


@pytest.fixture
def browser(compose_stack, tmp_path):
    """Chromium trusting the CA the NiFi container exported (an NSS database in a throwaway $HOME)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = launch(driver, trusting_home(tmp_path, compose_stack.nifi.ca_cert))
        yield chromium
        chromium.close()


def test_chromium_logs_in_through_the_containers_https(compose_stack, browser):
    page = new_page(browser)
    try:
        log_in(page, compose_stack.nifi, compose_stack.nifi.password)
        group = group_on_canvas(page, "ecommerce-ingest")
        group.wait_for()

        assert page.get_by_text(compose_stack.nifi.username, exact=True).is_visible()
        assert session_token(page), "logging in set no session token"
        assert page.url.startswith(f"https://localhost:{compose_stack.nifi.port}/nifi")
    finally:
        page.context.close()
