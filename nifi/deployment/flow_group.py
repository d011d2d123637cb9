"""The flow's process group: deployed from flows/, upgraded in place, started, stopped, exported, removed.

Deploying is idempotent: the process group is found by name, its parameters carry digests of
the flow file and of the settings last deployed, and only what changed is touched. An upgrade
replaces the group's contents in place (NiFi's replace request), so components keep their
identifiers and queued FlowFiles stay where they are; a group holding processors of a type NiFi no
longer has (a processor renamed since) is removed and imported afresh, since NiFi cannot change a
processor's type in place. Against a cluster it first waits for every
node and sizes concurrent tasks to the nodes' cores (cluster.py).
"""

import json
from pathlib import Path

import nipyapi
from nipyapi.nifi import ProcessGroupsApi

from ecommerce_pipeline.waiting import wait_until

from .cluster import (
    concurrent_tasks, group_processors, node_cores, say, size_concurrency, wait_for_every_node,
)
from .connection import DeployError
from .flow_settings import (
    FLOW_DIGEST_PARAMETER, FLOW_FILE, PARAMETER_CONTEXT, SETTINGS_DIGEST_PARAMETER, FlowSettings, flow_digest,
)
from .processor_versions import require_processor_versions

VALIDATION_TIMEOUT_SECONDS = 900


def flow_definition(path: Path = FLOW_FILE) -> tuple[str, dict]:
    text = path.read_text()
    return text, json.loads(text)


def group_name(definition: dict) -> str:
    return definition["flowContents"]["name"]


def find_group(name: str):
    """The process group of that name directly under the root group, or None."""
    groups = ProcessGroupsApi().get_process_groups(nipyapi.canvas.get_root_pg_id()).process_groups
    matches = [group for group in groups if group.component.name == name]
    if len(matches) > 1:
        raise DeployError(f"{len(matches)} process groups are named {name!r} in the root group: remove all but one")
    return matches[0] if matches else None


def deploy(settings: FlowSettings, path: Path = FLOW_FILE, concurrency: str | None = None) -> str:
    """Imports or upgrades the group, fills its parameters, sizes its concurrent tasks (`concurrency`:
    NIFI_CONCURRENT_TASKS, default from the nodes' cores), starts it; returns what was done."""
    nodes = wait_for_every_node()
    if nodes > 1:
        say(f"cluster of {nodes} nodes, all connected")
    text, definition = flow_definition(path)
    require_processor_versions(definition, say)
    name = group_name(definition)
    group = find_group(name)
    ghosts = _processors_of_missing_types(group) if group is not None else []
    if ghosts:
        say(f"{name!r} holds processors of types NiFi no longer has ({', '.join(ghosts)}): "
            "NiFi cannot change a processor's type in place, so the group is removed (only with nothing queued) "
            "and imported afresh")
        undeploy(group, force=False)
        group = None
    if group is None:
        say(f"importing {path.name} as process group {name!r}")
        group = nipyapi.versioning.import_process_group_definition(
            nipyapi.canvas.get_root_pg_id(), flow_definition=text, position=(0, 0))
        action = "imported"
    elif _parameter_value(FLOW_DIGEST_PARAMETER) != flow_digest(text):
        say(f"{path.name} changed: upgrading {name!r} in place (queued data is kept)")
        _replace_contents(group, definition)
        action = "upgraded"
    else:
        action = "unchanged"
    _wait_for(group.id, _still_initializing, "Python processors to load")
    size_concurrency(group.id, concurrent_tasks(node_cores(), concurrency))
    settings_changed = _fill_parameters(settings, flow_digest(text))
    if action == "unchanged" and settings_changed:
        action = "settings updated"
    start(group.id)
    return action


def _replace_contents(group, definition: dict) -> None:
    api = ProcessGroupsApi()
    current = api.get_process_group(group.id)
    body = {
        "processGroupRevision": {"version": current.revision.version, "clientId": current.revision.client_id},
        "versionedFlowSnapshot": {
            "flowContents": definition["flowContents"],
            "parameterContexts": definition.get("parameterContexts", {}),
            "externalControllerServices": definition.get("externalControllerServices", {}),
            "parameterProviders": definition.get("parameterProviders", {}),
            "flowEncodingVersion": definition.get("flowEncodingVersion", "1.0"),
        },
    }
    request = api.initiate_replace_process_group(body, group.id).request
    nipyapi.utils.wait_for_request(
        lambda: api.get_replace_process_group_request(request.request_id),
        lambda: api.delete_replace_process_group_request(request.request_id),
        nipyapi_max_wait=300,
    )


def _processors_of_missing_types(group) -> list[str]:
    """Processors NiFi runs as ghosts: their type is in no installed NAR, e.g. one renamed since the last deploy."""
    return [f"{p.component.name}: {p.component.type.rsplit('.', 1)[-1]}"
            for p in group_processors(group.id) if p.component.extension_missing]


def _parameter_value(name: str) -> str | None:
    context = nipyapi.parameters.get_parameter_context(PARAMETER_CONTEXT, identifier_type="name", greedy=False)
    if context is None:
        return None
    for entity in context.component.parameters:
        if entity.parameter.name == name:
            return entity.parameter.value
    return None


def _fill_parameters(settings: FlowSettings, digest_of_flow: str) -> bool:
    """Writes the settings when they (or the flow) changed since the last deploy; True if it wrote."""
    if _parameter_value(SETTINGS_DIGEST_PARAMETER) == settings.digest() and \
            _parameter_value(FLOW_DIGEST_PARAMETER) == digest_of_flow:
        return False
    context = nipyapi.parameters.get_parameter_context(PARAMETER_CONTEXT, identifier_type="name", greedy=False)
    if context is None:
        raise DeployError(f"parameter context {PARAMETER_CONTEXT!r} is missing after the import")
    prepared = [
        nipyapi.parameters.prepare_parameter(name, value, sensitive=name in settings.sensitive)
        for name, value in settings.values.items()
    ] + [
        nipyapi.parameters.prepare_parameter(SETTINGS_DIGEST_PARAMETER, settings.digest(),
                                             "Digest of the settings deploy_flow.py last filled in."),
        nipyapi.parameters.prepare_parameter(FLOW_DIGEST_PARAMETER, digest_of_flow,
                                             "Digest of the flow definition deploy_flow.py last deployed."),
    ]
    by_name = {entity.parameter.name: entity for entity in context.component.parameters}
    for entity in prepared:
        existing = by_name.get(entity.parameter.name)
        if existing is not None:
            entity.parameter.description = entity.parameter.description or existing.parameter.description
        by_name[entity.parameter.name] = entity
    context.component.parameters = list(by_name.values())
    say(f"filling {len(settings.values)} parameters of {PARAMETER_CONTEXT!r} from .env and processors/ecommerce_pipeline/segment_sql")
    nipyapi.parameters.update_parameter_context(context)
    return True


def start(group_id: str) -> None:
    """Enables the controller services, waits until every processor is valid, then starts them."""
    nipyapi.canvas.schedule_all_controllers(group_id, True)
    _wait_for(group_id, _not_valid, "processors to become valid")
    nipyapi.canvas.schedule_process_group(group_id, True)
    say("running")


def stop(group_id: str) -> None:
    nipyapi.canvas.schedule_process_group(group_id, False)
    say("stopped (queued data stays queued)")


def _still_initializing(processor) -> bool:
    """A Python processor is invalid as a whole ('Processor') until NiFi has made its environment and loaded it;
    its properties, and which of them are sensitive, are unknown till then. A cluster prefixes the error
    with the node that still loads it, so every node must have loaded it."""
    return any("'Processor' is invalid" in error for error in processor.component.validation_errors or [])


def _not_valid(processor) -> bool:
    return processor.component.validation_status != "VALID"


def _wait_for(group_id: str, pending_if, what: str) -> None:
    """Polls the group's processors until none is pending, reporting progress every 15 s."""
    pending: list = []

    def none_pending() -> bool:
        pending[:] = [p for p in group_processors(group_id) if pending_if(p)]
        return not pending

    def why() -> str:
        return "; ".join(f"{p.component.name}: {' '.join(p.component.validation_errors or ['validating'])}"
                         for p in pending)

    wait_until(none_pending, what, VALIDATION_TIMEOUT_SECONDS, every=2, report=say,
               pending=lambda: ", ".join(sorted(p.component.name for p in pending)),
               error=lambda message: DeployError(f"{message} ({why()})"))


def export(group, settings_names: frozenset[str], path: Path = FLOW_FILE) -> None:
    """Writes the running group back to flows/, with every value deploy fills in left empty."""
    text = nipyapi.versioning.export_process_group_definition(group, mode="json")
    definition = json.loads(text)
    for context in definition.get("parameterContexts", {}).values():
        context["parameters"].sort(key=lambda parameter: parameter["name"])
        for parameter in context.get("parameters", []):
            if parameter["name"] in settings_names:
                parameter["value"] = None
    path.write_text(json.dumps(definition, indent=2, sort_keys=True) + "\n")
    say(f"wrote {path}")


def undeploy(group, force: bool) -> None:
    """Stops and removes the group; refuses while data is queued unless forced (that drops it)."""
    status = nipyapi.canvas.get_process_group_status(group.id, detail="all")
    queued = status.status.aggregate_snapshot.flow_files_queued
    if queued and not force:
        raise DeployError(f"{queued} FlowFiles are still queued in {group.component.name!r}: let them drain, "
                          "or pass --force to drop them")
    stop(group.id)
    nipyapi.canvas.schedule_all_controllers(group.id, False)
    nipyapi.canvas.delete_process_group(group, force=True)
    say(f"removed {group.component.name!r}")
