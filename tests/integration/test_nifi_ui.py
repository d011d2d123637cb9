"""NiFi's web UI in a real browser: Debian's Chromium driven by Playwright (sync API).

Chromium comes from `tests/install_chromium` (never `playwright install`). The browser trusts the
stack's CA through an NSS database in a throwaway $HOME (Chromium on Linux reads user trust
anchors from $HOME/.pki/nssdb), so TLS is verified, not ignored: a browser without that
database refuses the page. The tests also save docs/nifi-flow.png and docs/nifi-flow-group.png.
"""

import json
import os
import re
import shutil
import ssl
import subprocess
import urllib.parse
import urllib.request

import pytest

from conftest import REPO
from lake import BAD_EXPORTS

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1920, "height": 1200}
DOCS = REPO / "docs"
# test_flow_in_nifi.py drops these on purpose; NiFi keeps their bulletins for 5 minutes.
DELIBERATELY_BAD_INPUT = re.compile(r"\bbad-(?:%s)-[0-9a-f]{8}\.csv\b" % "|".join(map(re.escape, BAD_EXPORTS)))


@pytest.fixture(scope="module")
def browser_home(nifi, tmp_path_factory):
    """A $HOME whose NSS database trusts the stack's CA (and nothing else added)."""
    missing = [tool for tool in (CHROMIUM, "certutil") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run tests/install_chromium (as root)")
    home = tmp_path_factory.mktemp("chromium-home")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    for certutil in (["-N", "--empty-password"], ["-A", "-n", "ecommerce-pipeline local CA", "-t", "C,,", "-i", str(nifi.ca_cert)]):
        subprocess.run(["certutil", "-d", f"sql:{nssdb}", *certutil], check=True, capture_output=True, timeout=60)
    return home


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def shown_as(drawn: str, name: str) -> bool:
    """The canvas draws a name whole, or cut short with an ellipsis when it is wider than the box."""
    return drawn == name or (drawn.endswith("…") and name.startswith(drawn[:-1]))


def launch(playwright, home):
    """Headless Chromium with $HOME at `home`; Playwright gives it a fresh temporary profile."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS,
                                      env={**os.environ, "HOME": str(home)})


@pytest.fixture(scope="module")
def browser(playwright, browser_home):
    browser = launch(playwright, browser_home)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def ui(nifi):
    return f"https://localhost:{nifi.port}/nifi"


def open_login(page, nifi):
    response = page.goto(ui(nifi), timeout=TIMEOUT_MS)
    page.get_by_label("Username").wait_for()
    return response


def log_in(page, nifi, password):
    open_login(page, nifi)
    page.get_by_label("Username").fill(nifi.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def session_token(page):
    """The bearer token NiFi set for this browser session."""
    tokens = [c["value"] for c in page.context.cookies() if c["name"] == "__Secure-Authorization-Bearer"]
    return tokens[0] if tokens else None


def rest(nifi, token, path):
    """GET from the REST API with the browser session's token, verifying TLS against the CA."""
    request = urllib.request.Request(nifi.api + path, headers={"Authorization": f"Bearer {token}"})
    context = ssl.create_default_context(cafile=str(nifi.ca_cert))
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return json.load(response)


def group_on_canvas(page, name):
    return page.locator("g.process-group").filter(has=page.locator("text.process-group-name", has_text=name))


def drawn_text(locator):
    """The text an SVG <text> draws, without its <title> tooltip."""
    return locator.evaluate("e => [...e.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.data).join('')")


def shown(locator):
    """Whether a canvas indicator is drawn (NiFi hides them with visibility: hidden)."""
    return locator.evaluate("e => getComputedStyle(e).visibility === 'visible'")


def unexpected(bulletins):
    return [b["bulletin"] for b in bulletins if not DELIBERATELY_BAD_INPUT.search(b.get("bulletin", {}).get("message", ""))]


def test_the_login_page_renders_over_tls_verified_with_the_stack_ca(nifi, page):
    response = open_login(page, nifi)

    assert response.ok
    assert response.security_details()["issuer"] == "ecommerce-pipeline local CA"
    assert page.url.endswith("#/login")
    assert page.get_by_role("heading", name="Log In").is_visible()
    assert page.get_by_label("Username").is_visible()
    assert page.get_by_label("Password").is_visible()
    assert page.get_by_label("Password").get_attribute("type") == "password"
    assert page.get_by_role("button", name="Log in").is_visible()


def test_without_the_stack_ca_the_browser_refuses_nifi(nifi, playwright, tmp_path):
    from playwright.sync_api import Error

    untrusting = launch(playwright, tmp_path)
    try:
        with pytest.raises(Error, match="ERR_CERT_AUTHORITY_INVALID"):
            untrusting.new_page().goto(ui(nifi), timeout=TIMEOUT_MS)
    finally:
        untrusting.close()


def test_a_wrong_password_shows_an_error_and_never_the_canvas(nifi, page):
    log_in(page, nifi, nifi.password + "-wrong")

    error = page.get_by_role("dialog").filter(has_text="The supplied username and password are not valid.")
    error.wait_for()
    assert page.url.endswith("#/login")
    assert page.locator("#canvas-container").count() == 0
    assert page.locator("flow-designer").count() == 0
    assert session_token(page) is None


def test_logging_in_shows_the_group_running_without_bulletins(nifi, deployed_flow, page):
    flows = []  # the process-group flows the UI fetched (at login and on its periodic refresh)
    page.on("response", lambda r: flows.append(r) if re.search(r"/nifi-api/flow/process-groups/[^/]+$", urllib.parse.urlparse(r.url).path) else None)
    log_in(page, nifi, nifi.password)
    group = group_on_canvas(page, deployed_flow)
    group.wait_for()
    page.wait_for_timeout(1000)  # the canvas's zoom transition
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "nifi-flow.png"))

    assert page.get_by_text(nifi.username, exact=True).is_visible()
    assert drawn_text(group.locator("text.process-group-name")) == deployed_flow
    token = session_token(page)
    assert token, "logging in set no session token"
    group_id = group.get_attribute("id").removeprefix("id-")
    processors = rest(nifi, token, f"/flow/process-groups/{group_id}")["processGroupFlow"]["flow"]["processors"]
    assert processors and {p["status"]["runStatus"] for p in processors} == {"Running"}
    counts = {kind: drawn_text(group.locator(f"text.process-group-{kind}-count")).strip()
              for kind in ("running", "stopped", "invalid", "disabled")}
    assert counts == {"running": str(len(processors)), "stopped": "0", "invalid": "0", "disabled": "0"}

    # The bulletin indicator shows what the UI last fetched; it may only ever report the
    # bulletins of deliberately bad input, and right now (REST) there must be no others either.
    drawn = [f for f in flows if f.ok][-1].json()["processGroupFlow"]["flow"]["processGroups"]
    fetched = next(g for g in drawn if g["id"] == group_id).get("bulletins", [])
    assert shown(group.locator("rect.bulletin-background")) == bool(fetched)
    assert unexpected(fetched) == []
    now = rest(nifi, token, f"/flow/bulletin-board?groupId={group_id}")["bulletinBoard"]["bulletins"]
    assert unexpected(now) == []


def test_inside_the_group_every_processor_is_shown_running(nifi, deployed_flow, page):
    log_in(page, nifi, nifi.password)
    group = group_on_canvas(page, deployed_flow)
    group.wait_for()
    group_id = group.get_attribute("id").removeprefix("id-")
    banner = group.locator("text.process-group-name")
    banner.click()  # select first: a double-click on an unselected group only selects it
    page.wait_for_url(re.compile(f"/ProcessGroup/{group_id}$"))
    banner.dblclick()
    page.wait_for_url(re.compile(f"#/process-groups/{group_id}$"))
    processors = rest(nifi, session_token(page), f"/flow/process-groups/{group_id}")["processGroupFlow"]["flow"]["processors"]
    on_canvas = page.locator("g.processor")
    on_canvas.nth(len(processors) - 1).wait_for()
    page.wait_for_timeout(1000)  # the canvas's zoom transition
    page.screenshot(path=str(DOCS / "nifi-flow-group.png"))

    assert page.locator("breadcrumbs").get_by_text(deployed_flow).is_visible()
    assert on_canvas.count() == len(processors)
    names = sorted(drawn_text(name) for name in on_canvas.locator("text.processor-name").all())
    expected = sorted(p["component"]["name"] for p in processors)
    assert len(names) == len(expected) and all(shown_as(drawn, name) for drawn, name in zip(names, expected)), names
    assert on_canvas.locator("text.run-status-icon.running").count() == len(processors)
