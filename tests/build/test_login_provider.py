"""The login provider's own Java tests (JUnit), run by Maven on every test run: a build, not a unit test.

The NiFi assembly runs them too, but only when it builds a new NiFi home; this keeps them
running while the cached home is reused.
"""

import os
import re
import shutil
import subprocess

from nifi.provisioning.java import find_java
from nifi.provisioning.paths import REPO


def test_the_bcrypt_login_provider_passes_its_junit_tests():
    assert shutil.which("mvn"), "Maven is needed for the login provider's tests"
    result = subprocess.run(
        ["mvn", "-B", "-ntp", "-f", str(REPO / "nifi" / "login-provider" / "pom.xml"), "test"],
        capture_output=True, text=True, env={**os.environ, "JAVA_HOME": str(find_java())}, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-5000:]
    totals = re.findall(r"Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)\s*$", result.stdout, re.M)
    run, failures, errors, skipped = map(int, totals[-1])
    assert run > 0 and failures == errors == skipped == 0
