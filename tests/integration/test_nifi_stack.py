"""The stack's NiFi 2.3.0: HTTPS with password login, the processors the flow needs, nipyapi as a client."""

import http.client
import json
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import REPO, STACK

pytestmark = pytest.mark.integration


def call(nifi, path, token=None, data=None):
    request = urllib.request.Request(nifi.api + path, data=data)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    context = ssl.create_default_context(cafile=str(nifi.ca_cert))
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return response.status, response.read().decode()


def token(nifi, password=None):
    form = urllib.parse.urlencode({"username": nifi.username, "password": password or nifi.password}).encode()
    return call(nifi, "/access/token", data=form)[1]


def test_login_with_the_env_credentials_reads_version_2_3_0(nifi):
    status, body = call(nifi, "/flow/about", token(nifi))
    assert status == 200 and json.loads(body)["about"]["version"] == "2.3.0"


def test_anonymous_calls_are_refused(nifi):
    with pytest.raises(urllib.error.HTTPError) as refused:
        call(nifi, "/flow/about")
    assert refused.value.code == 401


def test_a_wrong_password_gets_no_token(nifi):
    with pytest.raises(urllib.error.HTTPError) as refused:
        token(nifi, password=nifi.password + "-wrong")
    assert refused.value.code in (400, 401, 403)


def test_the_certificate_verifies_against_the_exported_ca_only(nifi):
    with pytest.raises(urllib.error.URLError) as unverified:
        urllib.request.urlopen(nifi.api + "/flow/about", context=ssl.create_default_context(), timeout=10)
    assert "CERTIFICATE_VERIFY_FAILED" in str(unverified.value)


def test_there_is_no_plain_http_listener(nifi):
    """The HTTPS port answers plain HTTP with no HTTP response, and no HTTP port is configured."""
    connection = http.client.HTTPConnection("127.0.0.1", nifi.port, timeout=10)
    with pytest.raises((http.client.HTTPException, OSError)):
        connection.request("GET", "/nifi-api/flow/about")
        connection.getresponse()
    properties = (REPO / ".stack" / "nifi" / "conf" / "nifi.properties").read_text().splitlines()
    assert "nifi.web.http.port=" in properties and f"nifi.web.https.port={nifi.port}" in properties


def test_the_flow_s_processors_and_services_are_installed(nifi):
    bearer = token(nifi)
    processors = {t["type"].rsplit(".", 1)[-1] for t in json.loads(call(nifi, "/flow/processor-types", bearer)[1])["processorTypes"]}
    assert {"GetFile", "SplitRecord", "QueryRecord", "ConvertRecord", "UpdateAttribute", "PutFile", "RouteOnAttribute",
            "CleanEcommerceCsv", "EncryptColumns", "EncryptWholeContent", "SignS3Upload"} <= processors
    services = {t["type"].rsplit(".", 1)[-1] for t in json.loads(call(nifi, "/flow/controller-service-types", bearer)[1])["controllerServiceTypes"]}
    assert {"CSVReader", "CSVRecordSetWriter"} <= services


def test_nipyapi_logs_in_with_the_exported_ca(nifi):
    import nipyapi

    nipyapi.config.nifi_config.host = nifi.api
    nipyapi.security.set_service_ssl_context(service="nifi", ca_file=str(nifi.ca_cert))
    assert nipyapi.security.service_login(service="nifi", username=nifi.username, password=nifi.password)
    assert nipyapi.system.get_nifi_version_info().ni_fi_version == "2.3.0"


def test_status_reports_nifi_healthy_and_a_second_up_reuses_it(nifi):
    again = subprocess.run([sys.executable, str(STACK), "up", "nifi"], capture_output=True, text=True, cwd=REPO)
    assert again.returncode == 0 and "nifi: already running" in again.stdout
    status = subprocess.run([sys.executable, str(STACK), "status"], capture_output=True, text=True, cwd=REPO)
    assert "nifi: running, healthy" in status.stdout


def test_conf_and_state_keep_secrets_to_the_owner(nifi):
    conf = REPO / ".stack" / "nifi" / "conf"
    assert oct((REPO / ".stack" / "nifi").stat().st_mode & 0o777) == "0o700"
    assert oct((REPO / ".stack" / "minio-data").stat().st_mode & 0o777) == "0o700"
    for name in ("nifi.properties", "login-identity-providers.xml"):
        assert oct((conf / name).stat().st_mode & 0o777) == "0o600"
    assert nifi.password not in (conf / "login-identity-providers.xml").read_text()
    assert "nifi.content.repository.archive.enabled=false" in (conf / "nifi.properties").read_text()
