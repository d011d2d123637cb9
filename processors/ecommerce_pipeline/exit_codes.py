"""What an exit status means: one table for every command (`ecommerce-pipeline`, `nifi/stack`, `deploy_flow.py`).

A script or a cron job tells "bad option" from "the store is down" from "the export was
quarantined" by the code alone. 2 stays argparse's usage error; the two service and
configuration codes are the BSD sysexits values (EX_UNAVAILABLE, EX_CONFIG), which
systemd and many tools already know.
"""

OK = 0
FAILED = 1  # the work failed or was refused: an export quarantined, a row rejected, the flow unhealthy
USAGE = 2  # the command line itself is wrong; nothing was attempted
UNREACHABLE = 69  # a service (the S3 store, NiFi) did not answer
CONFIGURATION = 78  # configuration missing or unusable: no .env, no keys, a placeholder value


class CommandFailed(Exception):
    """The work failed or was refused; the message is the one line the command prints."""

    exit_code = FAILED


class ServiceUnreachable(CommandFailed):
    """A service the command needs (the S3 store, NiFi) did not answer."""

    exit_code = UNREACHABLE


class ConfigurationMissing(CommandFailed):
    """A setting the command needs is missing or unusable (no .env, no keys, a placeholder)."""

    exit_code = CONFIGURATION
