"""Debian's Chromium driven by Playwright (sync API), trusting the stack's CA, for the tests of NiFi's web UI.

Chromium comes from `tests/install_chromium` (never `playwright install`). The browser trusts the
stack's CA through an NSS database in a throwaway $HOME (Chromium on Linux reads user trust
anchors from $HOME/.pki/nssdb), so TLS is verified, not ignored.
"""

import json
import os
import shutil
import ssl
import subprocess
import urllib.request

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1920, "height": 1200}


def trusting_home(home, ca_cert):
    """Makes `home` a $HOME whose NSS database trusts `ca_cert` (and nothing else added)."""
    missing = [tool for tool in (CHROMIUM, "certutil") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run tests/install_chromium (as root)")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    for certutil in (["-N", "--empty-password"], ["-A", "-n", "ecommerce-pipeline local CA", "-t", "C,,", "-i", str(ca_cert)]):
        subprocess.run(["certutil", "-d", f"sql:{nssdb}", *certutil], check=True, capture_output=True, timeout=60)
    return home


def launch(playwright, home):
    """Headless Chromium with $HOME at `home`; Playwright gives it a fresh temporary profile."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS,
                                      env={**os.environ, "HOME": str(home)})


def new_page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


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
