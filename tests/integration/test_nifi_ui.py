"""NiFi's web UI in a real browser: Debian's Chromium driven by Playwright (browser.py).

TLS is verified against the stack's CA, not ignored: a browser without the CA refuses the page.
The tests also save docs/nifi-flow.png and docs/nifi-flow-group.png.
"""

import re
import urllib.parse

import pytest

from browser import TIMEOUT_MS, group_on_canvas, launch, log_in, new_page, open_login, rest, session_token, trusting_home, ui
from conftest import REPO
from lake import BAD_EXPORTS

pytestmark = pytest.mark.integration

DOCS = REPO / "docs"
# test_flow_in_nifi.py drops these on purpose; NiFi keeps their bulletins for 5 minutes.
DELIBERATELY_BAD_INPUT = re.compile(r"\bbad-(?:%s)-[0-9a-f]{8}\.csv\b" % "|".join(map(re.escape, BAD_EXPORTS)))


@pytest.fixture(scope="module")
def browser_home(nifi, tmp_path_factory):
    """A $HOME whose NSS database trusts the stack's CA (and nothing else added)."""
    return trusting_home(tmp_path_factory.mktemp("chromium-home"), nifi.ca_cert)


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def shown_as(drawn: str, name: str) -> bool:
    """The canvas draws a name whole, or cut short with an ellipsis when it is wider than the box."""
    return drawn == name or (drawn.endswith("…") and name.startswith(drawn[:-1]))


@pytest.fixture(scope="module")
def browser(playwright, browser_home):
    browser = launch(playwright, browser_home)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    page = new_page(browser)
    yield page
    page.context.close()


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
