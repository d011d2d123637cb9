#!/usr/bin/env python3
"""Deploys the e-commerce ingestion flow (flows/ecommerce-ingest.json) into the running NiFi.

    python deploy_flow.py              import or upgrade the process group, fill its parameters, start it
    python deploy_flow.py status       per processor: state, in/out, bytes, threads, queued; bulletins; what is
                                       unhealthy (exit 1): a processor not running, an ERROR bulletin, a queue
                                       at back pressure, FlowFiles penalised in a retry loop; --json for scripts
    python deploy_flow.py stop|start   stop or start the group (queued data stays)
    python deploy_flow.py export       write the running group back to flows/ (no secrets)
    python deploy_flow.py undeploy     remove the group (refuses while data is queued, unless --force)

Credentials, keys and endpoints come from the environment or .env (see .env.example and
ecommerce_pipeline/settings.py for where .env is found).

Exit status (ecommerce_pipeline/exit_codes.py, the same for every command): 0 done, 1 failed or
refused (the flow unhealthy, not deployed, undeploy refused), 2 usage, 69 NiFi unreachable,
78 configuration missing (no credentials, no keys, refused login).
"""

import argparse
import sys
from pathlib import Path

from urllib3.exceptions import HTTPError

from ecommerce_pipeline.exit_codes import CommandFailed, exit_status
from ecommerce_pipeline.settings import env_file, load_settings
from nifi.deployment.connection import DeployError, NiFiUnreachable, connect
from nifi.deployment.flow_group import deploy, export, find_group, flow_definition, group_name, say, start, stop, undeploy
from nifi.deployment.flow_settings import flow_settings
from nifi.deployment.status import group_status, problems, render
from nifi.deployment.store_check import check_store

REPO = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy_flow.py", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="deploy",
                        choices=["deploy", "status", "stop", "start", "export", "undeploy"])
    parser.add_argument("--force", action="store_true", help="undeploy even with data queued (drops it)")
    parser.add_argument("--json", action="store_true", help="status as one JSON document, for scripts")
    args = parser.parse_args(argv)
    settings = load_settings(env_file(REPO))
    try:
        values = flow_settings(settings) if args.command in ("deploy", "export") else None
        if args.command == "deploy":
            say(f"S3 store: {check_store(settings)}: the ingest ledger can rely on it")
        connect(settings)
        name = group_name(flow_definition()[1])
        if args.command == "deploy":
            say(f"flow {name!r}: {deploy(values, concurrency=settings.get('NIFI_CONCURRENT_TASKS'))}")
            return 0
        group = find_group(name)
        if group is None:
            raise DeployError(f"process group {name!r} is not deployed: run `python deploy_flow.py` first")
        if args.command == "status":
            status = group_status(group.id)
            found = problems(status)
            print(render(status, found, args.json))
            return 0 if not found else 1
        if args.command == "stop":
            stop(group.id)
        elif args.command == "start":
            start(group.id)
        elif args.command == "export":
            export(group, values.managed_names)
        elif args.command == "undeploy":
            undeploy(group, args.force)
    except HTTPError as error:  # NiFi stopped answering mid-command
        return _failed(NiFiUnreachable(f"NiFi stopped answering: {' '.join(str(error).split())[:300]}"))
    except CommandFailed as error:
        return _failed(error)
    return 0


def _failed(error: CommandFailed) -> int:
    print(f"[deploy] error: {error}", file=sys.stderr)
    return exit_status(error)


if __name__ == "__main__":
    sys.exit(main())
