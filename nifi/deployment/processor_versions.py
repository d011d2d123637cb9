"""Which builds of the Python processors the flow names, and whether NiFi has them.

NiFi gives every Python processor the bundle `org.apache.nifi:python-extensions:<ProcessorDetails.version>`,
wherever it was loaded from; a flow naming a version NiFi lacks would import as "missing
processors", so the deploy refuses it first, with what to do.
"""

from nipyapi.nifi import FlowApi

from ecommerce_pipeline.waiting import wait_until

from .connection import DeployError

PYTHON_BUNDLE = ("org.apache.nifi", "python-extensions")
DISCOVERY_TIMEOUT_SECONDS = 120


def python_processors(definition: dict) -> set[tuple[str, str]]:
    """(type, version) of every Python processor in the flow definition, nested groups included."""
    found = set()
    groups = [definition["flowContents"]]
    while groups:
        group = groups.pop()
        groups.extend(group.get("processGroups", []))
        for processor in group.get("processors", []):
            bundle = processor["bundle"]
            if (bundle["group"], bundle["artifact"]) == PYTHON_BUNDLE:
                found.add((processor["type"], bundle["version"]))
    return found


def missing_versions(wanted: set[tuple[str, str]], available: set[tuple[str, str]]) -> list[str]:
    """One line per processor the flow names at a version NiFi does not have, saying which it has."""
    problems = []
    for processor_type, version in sorted(wanted - available):
        others = sorted(v for t, v in available if t == processor_type)
        has = f"NiFi has {', '.join(others)}" if others else "NiFi has no version of it"
        problems.append(f"{processor_type} {version} ({has})")
    return problems


def installed_python_processors() -> set[tuple[str, str]]:
    types = FlowApi().get_processor_types().processor_types
    return {(t.type, t.bundle.version) for t in types if (t.bundle.group, t.bundle.artifact) == PYTHON_BUNDLE}


def require_processor_versions(definition: dict, say) -> None:
    """Waits until NiFi has discovered its Python processors, then refuses a flow naming builds it lacks."""
    wanted = python_processors(definition)
    available = wait_until(installed_python_processors, "NiFi to discover its Python processors",
                           DISCOVERY_TIMEOUT_SECONDS, every=5, progress_every=5, report=say,
                           error=lambda message: DeployError(f"{message}; NiFi lists none: is the processors NAR "
                                                             "installed? `nifi/stack up` builds and installs it"))
    problems = missing_versions(wanted, available)
    if problems:
        raise DeployError("the flow names Python processors NiFi does not have: " + "; ".join(problems) +
                          ". Install the processors NAR of this checkout and restart NiFi (`nifi/stack restart nifi`)")
