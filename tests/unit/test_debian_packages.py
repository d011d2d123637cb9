"""The stack installs missing tools from Debian's packages as root; elsewhere it names what to install."""

import pytest

from nifi.provisioning import debian_packages
from nifi.provisioning.processes import StackError


def test_present_commands_need_nothing(monkeypatch):
    monkeypatch.setattr(debian_packages, "run_step", lambda *args, **kwargs: pytest.fail("nothing to install"))
    debian_packages.ensure_commands({"sh": "dash"}, "a step")


def test_without_root_it_names_the_packages_to_install(monkeypatch):
    monkeypatch.setattr(debian_packages.os, "geteuid", lambda: 1000)
    with pytest.raises(StackError, match=r"making the base image needs no-such-tool-x: install the Debian "
                                         r"package\(s\) \(sudo apt-get install no-such-package\)"):
        debian_packages.ensure_commands({"no-such-tool-x": "no-such-package"}, "making the base image")
