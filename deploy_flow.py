#!/usr/bin/env python3
"""Deploys the e-commerce ingestion flow (flows/ecommerce-ingest.json) into the running NiFi.

    python deploy_flow.py              import or upgrade the process group, fill its parameters, start it
    python deploy_flow.py status       per processor: state, in/out, bytes, threads, queued; bulletins
    python deploy_flow.py stop|start   stop or start the group (queued data stays)
    python deploy_flow.py export       write the running group back to flows/ (no secrets)
    python deploy_flow.py undeploy     remove the group (refuses while data is queued, unless --force)

Credentials, keys and endpoints come from the environment or .env (see .env.example and
ecommerce_pipeline/settings.py for where .env is found).
"""

import argparse
import sys
from pathlib import Path

from ecommerce_pipeline.settings import env_file, load_settings
from nifi.deployment.connection import DeployError, connect
from nifi.deployment.flow_group import deploy, export, find_group, flow_definition, group_name, say, start, stop, undeploy
from nifi.deployment.flow_settings import flow_settings
from nifi.deployment.status import group_report
from nifi.deployment.store_check import check_store

REPO = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy_flow.py", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="deploy",
                        choices=["deploy", "status", "stop", "start", "export", "undeploy"])
    parser.add_argument("--force", action="store_true", help="undeploy even with data queued (drops it)")
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
            report, healthy = group_report(group.id)
            print(report)
            return 0 if healthy else 1
        if args.command == "stop":
            stop(group.id)
        elif args.command == "start":
            start(group.id)
        elif args.command == "export":
            export(group, values.managed_names)
        elif args.command == "undeploy":
            undeploy(group, args.force)
    except DeployError as error:
        print(f"[deploy] error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
