"""What an exit status means: one table for every command (`ecommerce-pipeline`, `nifi/stack`, `deploy_flow.py`).

A script or a cron job tells "bad option" from "the store is down" from "the export was
quarantined" by the code alone. 2 stays argparse's usage error; the two service and
configuration codes are the BSD sysexits values (EX_UNAVAILABLE, EX_CONFIG), which
systemd and many tools already know.

Errors carry their status: the project's own error types derive from the classes below
(a missing setting is a ConfigurationMissing, an S3 store that does not answer a
ServiceUnreachable), so each command's `main` prints the one-line message and returns
`exit_status(error)`; nothing maps messages to codes.
"""

OK = 0
FAILED = 1  # the work failed or was refused: an export quarantined, a row rejected, the flow unhealthy
USAGE = 2  # the command line itself is wrong; nothing was attempted
UNREACHABLE = 69  # a service (the S3 store, NiFi) did not answer
CONFIGURATION = 78  # configuration missing or unusable: no .env, no keys, a placeholder value

MEANINGS = {
    OK: "done",
    FAILED: "the work failed or was refused (an export quarantined, a row rejected, the flow unhealthy)",
    USAGE: "usage error: the command line is wrong, nothing was attempted",
    UNREACHABLE: "a service (the S3 store, NiFi, MinIO) did not answer",
    CONFIGURATION: "configuration missing or unusable (no .env, no keys, a placeholder value, rejected credentials)",
}


class CommandFailed(Exception):
    """The work failed or was refused; the message is the one line the command prints."""

    exit_code = FAILED


class ServiceUnreachable(CommandFailed):
    """A service the command needs (the S3 store, NiFi) did not answer."""

    exit_code = UNREACHABLE


class ConfigurationMissing(CommandFailed):
    """A setting the command needs is missing or unusable (no .env, no keys, a placeholder)."""

    exit_code = CONFIGURATION


class UsageError(CommandFailed):
    """The command line asks for something the command will not do (checked before anything is attempted)."""

    exit_code = USAGE


def exit_status(error: BaseException) -> int:
    """The status a command exits with after `error`: its own, else 69 for a refused or lost connection, else 1."""
    if isinstance(error, CommandFailed):
        return error.exit_code
    if isinstance(error, ConnectionError):
        return UNREACHABLE
    return FAILED
